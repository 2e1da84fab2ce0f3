// numpy arrays, dtypes and scalars read from the inert values the unpickler builds for
// numpy's reducers (ouro/pickle/numpy.h), and the element decoding shared with torch
// tensors (ouro/pickle/torch.h): byte order, float16 and bfloat16, strided walks. The
// shapes accepted are exactly those numpy's own __reduce__/__reduce_ex__ produce
// (numpy/core/src/multiarray/methods.c: array_reduce, array_reduce_ex_picklebuffer,
// arraydescr_reduce; scalartypes.c: gentype_reduce).
#include "ouro/pickle/numpy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "pickle/catalogue.h"

namespace ouro::pickle {
namespace {

using Kind = ElementType::Kind;

// The element's bytes in little-endian order (copied, swapped when stored big-endian).
std::array<std::byte, 16> little_endian_bytes(const ElementType& t, const std::byte* p,
                                              std::size_t width) noexcept {
  std::array<std::byte, 16> out{};
  std::memcpy(out.data(), p, width);
  if (t.order == std::endian::big) std::reverse(out.begin(), out.begin() + width);
  return out;
}

std::uint64_t load_unsigned(const ElementType& t, const std::byte* p, std::size_t width) noexcept {
  const auto b = little_endian_bytes(t, p, width);
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < width; ++i) v |= static_cast<std::uint64_t>(b[i]) << (8 * i);
  return v;
}

double half_to_double(std::uint16_t h) noexcept {
  const int exponent = (h >> 10) & 0x1f;
  const double mantissa = h & 0x3ff;
  const double sign = (h & 0x8000) != 0 ? -1.0 : 1.0;
  if (exponent == 0) return sign * std::ldexp(mantissa, -24);  // subnormal
  if (exponent == 31) return mantissa == 0 ? sign * HUGE_VAL : std::nan("");
  return sign * std::ldexp(1024 + mantissa, exponent - 25);
}

// A float part (width 2, 4 or 8) of an element.
double load_float(const ElementType& t, const std::byte* p, std::size_t width) noexcept {
  const std::uint64_t bits = load_unsigned(t, p, width);
  if (width == 2) return half_to_double(static_cast<std::uint16_t>(bits));
  if (width == 4) return std::bit_cast<float>(static_cast<std::uint32_t>(bits));
  return std::bit_cast<double>(bits);
}

}  // namespace

std::int64_t element_count(std::span<const std::int64_t> shape) noexcept {
  constexpr std::int64_t kLimit = std::int64_t{1} << 62;
  std::int64_t nonzero = 1;
  bool empty = false;
  for (std::int64_t n : shape) {
    if (n < 0) return -1;
    if (n == 0) {
      empty = true;
    } else if (nonzero > kLimit / n) {
      return -1;
    } else {
      nonzero *= n;
    }
  }
  return empty ? 0 : nonzero;
}

std::uint64_t element_bits(const ElementType& t, const std::byte* p) noexcept {
  return load_unsigned(t, p, std::min<std::size_t>(t.size, 8));
}

double element_as_double(const ElementType& t, const std::byte* p) noexcept {
  switch (t.kind) {
    case Kind::kBool:
      return p[0] != std::byte{0} ? 1.0 : 0.0;
    case Kind::kUnsigned:
      return static_cast<double>(load_unsigned(t, p, t.size));
    case Kind::kSigned: {
      const std::uint64_t u = load_unsigned(t, p, t.size);
      const unsigned shift = static_cast<unsigned>(64 - 8 * t.size);
      return static_cast<double>(static_cast<std::int64_t>(u << shift) >> shift);
    }
    case Kind::kBFloat16:
      return std::bit_cast<float>(static_cast<std::uint32_t>(load_unsigned(t, p, 2) << 16));
    case Kind::kFloat:
      return load_float(t, p, t.size);
    case Kind::kComplex:
      return load_float(t, p, t.size / 2);
  }
  return 0.0;
}

std::vector<std::size_t> strided_offsets(std::size_t element_size, std::size_t data_size,
                                         std::size_t first, std::span<const std::int64_t> shape,
                                         std::span<const std::int64_t> byte_strides) {
  std::int64_t count = 1;
  for (std::int64_t n : shape) count *= n;
  std::vector<std::size_t> out;
  if (count <= 0) return out;
  out.reserve(static_cast<std::size_t>(count));
  std::vector<std::int64_t> index(shape.size(), 0);
  for (std::int64_t done = 0; done < count; ++done) {
    std::int64_t offset = static_cast<std::int64_t>(first);
    for (std::size_t d = 0; d < shape.size(); ++d) offset += index[d] * byte_strides[d];
    if (offset < 0 || static_cast<std::size_t>(offset) + element_size > data_size) {
      throw std::out_of_range(fmt::format(
          "element at byte offset {} lies outside the data ({} bytes)", offset, data_size));
    }
    out.push_back(static_cast<std::size_t>(offset));
    for (std::size_t d = shape.size(); d-- > 0;) {  // the next index, last axis fastest
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

std::vector<double> strided_values(const ElementType& type, std::span<const std::byte> data,
                                   std::size_t first, std::span<const std::int64_t> shape,
                                   std::span<const std::int64_t> byte_strides) {
  std::vector<double> out;
  for (std::size_t at : strided_offsets(type.size, data.size(), first, shape, byte_strides)) {
    out.push_back(element_as_double(type, data.data() + at));
  }
  return out;
}

}  // namespace ouro::pickle

namespace ouro::pickle::numpy {
namespace {

constexpr std::array<std::string_view, 2> kCoreModules = {"numpy.core", "numpy._core"};

// Whether `v` is the Global numpy.core.<submodule>.<name> (or numpy._core...).
bool is_core_global(const Value& v, std::string_view submodule, std::string_view name) {
  const Global* g = v.get_if<Global>();
  if (g == nullptr || g->qualname() != name) return false;
  for (std::string_view core : kCoreModules) {
    if (g->module() == fmt::format("{}.{}", core, submodule)) return true;
  }
  return false;
}
bool is_global(const Value& v, std::string_view module, std::string_view name) {
  const Global* g = v.get_if<Global>();
  return g != nullptr && g->module() == module && g->qualname() == name;
}

const Reduce* reduce_of(const Value& v, auto&& is_callable) {
  const Reduce* r = v.get_if<Reduce>();
  return r != nullptr && is_callable(r->callable) ? r : nullptr;
}

// The bytes of a Bytes, ByteArray or PickleBuffer (in-band protocol 5), or nullopt.
std::optional<std::span<const std::byte>> bytes_of(const Value& v) {
  if (const Bytes* b = v.get_if<Bytes>()) return b->data();
  if (const ByteArray* b = v.get_if<ByteArray>()) return std::span<const std::byte>(b->data());
  if (const Buffer* b = v.get_if<Buffer>()) return b->data();
  return std::nullopt;
}

std::int64_t to_int(const Value& v, std::string_view what) {
  if (!v.is_int())
    throw NumpyError(fmt::format("numpy {}: expected an int, got {}", what, v.type_name()));
  return v.as<std::int64_t>();
}

std::vector<std::int64_t> shape_of(const Value& v) {
  const Tuple* t = v.get_if<Tuple>();
  if (t == nullptr) throw NumpyError("numpy array: the shape is not a tuple");
  std::vector<std::int64_t> shape;
  for (const Value& n : *t) {
    shape.push_back(to_int(n, "shape"));
    if (shape.back() < 0) throw NumpyError("numpy array: negative dimension in the shape");
  }
  return shape;
}

std::string_view str_of(const Value& v) {
  return v.is<Str>() ? v.as<std::string_view>() : std::string_view();
}

std::string type_name_of(char kind, std::size_t size) {
  switch (kind) {
    case 'b':
      return "bool";
    case 'i':
      return fmt::format("int{}", size * 8);
    case 'u':
      return fmt::format("uint{}", size * 8);
    case 'f':
      return fmt::format("float{}", size * 8);
    case 'c':
      return fmt::format("complex{}", size * 8);
    default:
      return {};
  }
}

Array make_array(DType dtype, std::vector<std::int64_t> shape, bool fortran,
                 std::span<const std::byte> data, Value owner) {
  const std::int64_t count = element_count(shape);
  if (count < 0 ||
      static_cast<std::uint64_t>(count) > (std::uint64_t{1} << 62) / dtype.element.size) {
    throw NumpyError("numpy array: the shape is too large");
  }
  Array a{std::move(dtype), std::move(shape), {}, fortran, data, std::move(owner)};
  a.strides.assign(a.shape.size(), 0);
  std::int64_t stride = static_cast<std::int64_t>(a.dtype.element.size);
  std::uint64_t total = a.dtype.element.size;
  for (std::size_t i = 0; i < a.shape.size(); ++i) {
    const std::size_t d = fortran ? i : a.shape.size() - 1 - i;
    a.strides[d] = stride;
    // numpy's strides skip zero dimensions' products too (the count check bounds these).
    stride *= std::max<std::int64_t>(a.shape[d], 1);
    total *= static_cast<std::uint64_t>(a.shape[d]);
  }
  if (total != data.size()) {
    throw NumpyError(
        fmt::format("numpy array: {} data bytes for shape {} and dtype {} ({} "
                    "expected)",
                    data.size(), fmt::join(a.shape, "x"), a.dtype.str, total));
  }
  return a;
}

// The array of a dtype value, a shape tuple, an order and a bytes-like data value (both
// of numpy's reductions come down to these four).
Array array_of(const Value& dtype_value, const Value& shape, bool fortran,
               const Value& data_value) {
  std::optional<DType> dtype = as_dtype(dtype_value);
  if (!dtype) throw NumpyError("numpy array: its dtype is not a numpy.dtype");
  const std::optional<std::span<const std::byte>> data = bytes_of(data_value);
  if (!data) {
    throw NumpyError(
        fmt::format("numpy array: the data is a {}, not bytes", data_value.type_name()));
  }
  return make_array(std::move(*dtype), shape_of(shape), fortran, *data, data_value);
}

}  // namespace

const std::vector<std::string>& safe_globals() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out = {"numpy.ndarray", "numpy.dtype"};
    for (std::string_view core : kCoreModules) {
      out.push_back(fmt::format("{}.multiarray._reconstruct", core));
      out.push_back(fmt::format("{}.multiarray.scalar", core));
      out.push_back(fmt::format("{}.numeric._frombuffer", core));
    }
    return out;
  }();
  return names;
}

std::int64_t Array::size() const noexcept { return element_count(shape); }

std::vector<double> Array::values() const {
  return strided_values(dtype.element, data, 0, shape, strides);
}

std::optional<DType> as_dtype(const Value& v) {
  const Reduce* r = reduce_of(v, [](const Value& c) { return is_global(c, "numpy", "dtype"); });
  if (r == nullptr) return std::nullopt;
  const Tuple* args = r->args.get_if<Tuple>();
  const std::string_view code = args != nullptr && args->size() >= 1 ? str_of((*args)[0]) : "";
  if (code.empty()) throw NumpyError("numpy.dtype: the type code is not a str");
  const Tuple* state = r->state.get_if<Tuple>();
  // arraydescr_reduce's state: (version, byteorder, subarray, names, fields, elsize,
  // alignment, flags[, metadata]).
  if (state != nullptr && state->size() >= 5 && !(*state)[3].is_none()) {
    throw NumpyError(fmt::format(
        "numpy structured dtype (fields {}) recognised: typed views of record arrays are not "
        "supported",
        catalogue_repr((*state)[3])));
  }
  const char kind = code[0];
  std::size_t size = 0;
  const auto [end, ec] = std::from_chars(code.data() + 1, code.data() + code.size(), size);
  if (kind == 'O') {
    throw NumpyError(
        "numpy object dtype recognised: its elements are Python objects, not "
        "data; load in inspect mode to see them");
  }
  const std::string name = type_name_of(kind, size);
  if (name.empty() || ec != std::errc() || end != code.data() + code.size() ||
      (size != 1 && size != 2 && size != 4 && size != 8 && size != 16)) {
    throw NumpyError(
        fmt::format("numpy dtype '{}' recognised: only bool, int, uint, float and "
                    "complex dtypes have a typed view",
                    code));
  }
  const std::string_view order = state != nullptr && state->size() >= 2 ? str_of((*state)[1]) : "|";
  DType d;
  d.element.size = size;
  d.element.order = order == ">" ? std::endian::big : std::endian::little;
  d.element.kind = kind == 'b'   ? ElementType::Kind::kBool
                   : kind == 'i' ? ElementType::Kind::kSigned
                   : kind == 'u' ? ElementType::Kind::kUnsigned
                   : kind == 'f' ? ElementType::Kind::kFloat
                                 : ElementType::Kind::kComplex;
  if (kind == 'f' && size == 16) throw NumpyError("numpy float128 has no typed view");
  const char order_char = size == 1 ? '|' : d.element.order == std::endian::big ? '>' : '<';
  d.str = fmt::format("{}{}{}", order_char, kind, size);
  d.name = name;
  return d;
}

std::optional<Array> as_array(const Value& v) {
  // Protocols 0-4 (and object arrays): _reconstruct(ndarray, (0,), b'b') + BUILD state
  // (version, shape, dtype, is_fortran, rawdata).
  if (const Reduce* r = reduce_of(
          v, [](const Value& c) { return is_core_global(c, "multiarray", "_reconstruct"); })) {
    const Tuple* state = r->state.get_if<Tuple>();
    if (state == nullptr || state->size() != 5) {
      throw NumpyError("numpy array: _reconstruct without its 5-item BUILD state");
    }
    return array_of((*state)[2], (*state)[1], ouro::truthy((*state)[3]), (*state)[4]);
  }
  // Protocol 5: _frombuffer(PickleBuffer, dtype, shape, order).
  if (const Reduce* r = reduce_of(
          v, [](const Value& c) { return is_core_global(c, "numeric", "_frombuffer"); })) {
    const Tuple* args = r->args.get_if<Tuple>();
    if (args == nullptr || args->size() != 4) {
      throw NumpyError("numpy array: _frombuffer needs (buffer, dtype, shape, order)");
    }
    return array_of((*args)[1], (*args)[2], str_of((*args)[3]) == "F", (*args)[0]);
  }
  return std::nullopt;
}

std::optional<Scalar> as_scalar(const Value& v) {
  const Reduce* r =
      reduce_of(v, [](const Value& c) { return is_core_global(c, "multiarray", "scalar"); });
  if (r == nullptr) return std::nullopt;
  const Tuple* args = r->args.get_if<Tuple>();
  if (args == nullptr || args->size() != 2) {
    throw NumpyError("numpy scalar: expected (dtype, data) arguments");
  }
  std::optional<DType> dtype = as_dtype((*args)[0]);
  if (!dtype) throw NumpyError("numpy scalar: the dtype is not a numpy.dtype");
  const std::optional<std::span<const std::byte>> data = bytes_of((*args)[1]);
  if (!data || data->size() != dtype->element.size) {
    throw NumpyError(
        fmt::format("numpy scalar: {} needs {} data bytes", dtype->str, dtype->element.size));
  }
  return Scalar{std::move(*dtype), *data, (*args)[1]};
}

}  // namespace ouro::pickle::numpy
