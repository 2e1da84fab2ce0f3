// ouro::pickle::numpy: numpy arrays, dtypes and scalars read from loaded pickles, without
// numpy and without running anything. A pickled array is the inert value the unpickler
// builds for numpy's reducers (numpy.core.multiarray._reconstruct + BUILD state
// (version, shape, dtype, is_fortran, rawdata), or protocol 5's numpy.core.numeric._frombuffer
// of an in-band PickleBuffer); as_array() reads it as a typed view of the data bytes held in
// the heap (zero copy), and repr() prints it as numpy does for small arrays. Load with
// safe_globals() allowed (strict) or in inspect mode:
//
//     auto v = ouro::pickle::loads(bytes, {.allow = ouro::pickle::numpy::safe_globals()});
//     ouro::pickle::numpy::Array a = ouro::pickle::numpy::as_array(v).value();
//     a.dtype == "<i4";  a.shape == {3};  ouro::pickle::numpy::repr(a) == "array([1, 2, 3],
//     dtype=int32)"
//
// Structured (record) and object dtypes are recognised and refused with a NumpyError that
// says which; so are datetime, string and void dtypes (no typed view of those yet).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ouro/pickle/pickle.h"
#include "ouro/value/value.h"

namespace ouro::pickle {

/// A numeric element as stored: its kind, width in bytes and byte order. Shared by numpy
/// arrays and torch tensors.
struct ElementType {
  enum class Kind : std::uint8_t { kBool, kSigned, kUnsigned, kFloat, kBFloat16, kComplex };
  Kind kind = Kind::kFloat;
  std::size_t size = 8;  ///< bytes per element (a complex's both parts)
  std::endian order = std::endian::little;
};

/// The number of elements of `shape` (1 for ()), or -1 when a dimension is negative or the
/// product of its nonzero dimensions exceeds 2^62 (a hostile shape; checked so that no
/// later product can overflow).
std::int64_t element_count(std::span<const std::int64_t> shape) noexcept;

/// The element at `p` as a double (a complex's real part; bool as 0/1), byte order handled.
double element_as_double(const ElementType& type, const std::byte* p) noexcept;

/// The element's bytes (up to 8) as an unsigned integer, byte order handled: an integer
/// element's exact value (sign-extend it from 8 * size bits for signed kinds).
std::uint64_t element_bits(const ElementType& type, const std::byte* p) noexcept;

/// The byte offset in `data` of every element of a strided view, in C (row-major) order:
/// `first` is the first element's offset, `byte_strides` are in bytes. Throws
/// std::out_of_range when an element would lie outside `data_size` bytes.
std::vector<std::size_t> strided_offsets(std::size_t element_size, std::size_t data_size,
                                         std::size_t first, std::span<const std::int64_t> shape,
                                         std::span<const std::int64_t> byte_strides);

/// Every element of a strided view, in C (row-major) order, as doubles: `first` is the
/// first element's byte offset in `data`, `byte_strides` are in bytes. Throws
/// std::out_of_range when an element would lie outside `data`.
std::vector<double> strided_values(const ElementType& type, std::span<const std::byte> data,
                                   std::size_t first, std::span<const std::int64_t> shape,
                                   std::span<const std::int64_t> byte_strides);

}  // namespace ouro::pickle

namespace ouro::pickle::numpy {

/// A recognised numpy value that ouro cannot present as a typed view (object or structured
/// dtype, ...), or a numpy reducer with arguments numpy never writes.
class NumpyError : public PickleError {
 public:
  using PickleError::PickleError;
};

/// The numpy globals whose pickled calls are data (for LoadOptions::allow): _reconstruct,
/// ndarray, dtype, scalar, _frombuffer, under numpy.core (numpy < 2) and numpy._core.
const std::vector<std::string>& safe_globals();

/// A numpy.dtype of a simple (numeric or bool) kind.
struct DType {
  std::string str;   ///< numpy's dtype.str: "<i4", ">f8", "|b1", "<c16"
  std::string name;  ///< numpy's dtype.name: "int32", "float64", "bool"
  ElementType element;
};

/// A typed view of a numpy array's data.
struct Array {
  DType dtype;
  std::vector<std::int64_t> shape;    ///< () for a 0-d array
  std::vector<std::int64_t> strides;  ///< in bytes, as numpy's ndarray.strides
  bool fortran = false;               ///< stored in Fortran (column-major) order
  std::span<const std::byte> data;    ///< the bytes, inside `owner` (zero copy)
  Value owner;                        ///< keeps the Bytes/ByteArray holding `data` alive

  std::int64_t size() const noexcept;  ///< number of elements (1 for 0-d)
  /// Every element as a double in C order (a.flat order for C arrays).
  std::vector<double> values() const;
};

/// A numpy scalar (numpy.core.multiarray.scalar(dtype, bytes)).
struct Scalar {
  DType dtype;
  std::span<const std::byte> data;
  Value owner;
  double value() const noexcept { return element_as_double(dtype.element, data.data()); }
};

/// The dtype described by a loaded numpy.dtype(...) value; nullopt when `v` is not one.
/// Throws NumpyError for kinds without a typed view (structured, object, str, datetime).
std::optional<DType> as_dtype(const Value& v);
/// The array described by `v`; nullopt when `v` is not a pickled numpy array. Throws
/// NumpyError for recognised arrays ouro cannot view (object/structured dtypes, data whose
/// size does not match shape and dtype, out-of-band buffers not given).
std::optional<Array> as_array(const Value& v);
/// The scalar described by `v`; nullopt when `v` is not a pickled numpy scalar.
std::optional<Scalar> as_scalar(const Value& v);

/// numpy's repr(): "array([1, 2, 3], dtype=int32)", "array([[0., 1.],\n       [2., 3.]])",
/// "array(42)". Matches numpy for small arrays of plain values (no line wrapping at 75
/// columns, no scientific notation, no summarisation of more than 1000 elements).
std::string repr(const Array& a);
/// numpy's repr() of a scalar (numpy 1.x: "1.5", "-7", "True").
std::string repr(const Scalar& s);

}  // namespace ouro::pickle::numpy
