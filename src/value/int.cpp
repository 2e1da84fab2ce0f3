// ouro::Int: Python ints beyond a Value's immediate range, on GMP's mpn layer through
// value/bigint.h. The limbs live inline in the Int's own heap block (make_in), which is
// why GMP (whose mpn functions work on caller-owned limbs) was chosen over
// Boost.Multiprecision (whose cpp_int allocates through std::allocator, outside the heap).
//
// Invariants kept here (DESIGN.md): I7 — every limb is in the heap block of its Int; the
// scratch space of conversions is on the C++ stack or in a std::vector that dies before
// returning. Canonical form: an Int never holds a value of the immediate range.
#include <array>
#include <cmath>
#include <vector>

#include "value/bigint.h"
#include "value/internal.h"
#include "value/unicode.h"

namespace ouro {

namespace vd = value::detail;

namespace {

// An int (small, bool or Int) as a LimbsView over `storage` when needed.
vd::LimbsView view_of(const Value& v, std::array<vd::Limb, 1>& storage) {
  if (const Int* big = v.get_if<Int>()) return {big->limbs(), big->negative()};
  std::int64_t n = 0;
  if (v.is_small_int()) {
    n = v.small_value();
  } else if (v.is_bool()) {
    n = v.as<bool>() ? 1 : 0;
  } else {
    ouro::detail::throw_wrong_type("int", v);
  }
  const vd::LimbsResult r = vd::from_int64(n, storage);
  return {{storage.data(), r.size}, r.negative};
}

// How Python's int() quotes the text it could not read.
std::string literal_repr(std::string_view text) {
  if (vd::scan_utf8(text).valid) return vd::str_repr(text);
  return vd::bytes_repr(as_bytes(text));
}

}  // namespace

Value Int::from_limbs(Heap& heap, std::span<const Limb> limbs, bool negative) {
  const std::size_t size = vd::normalized_size(limbs);
  const vd::LimbsView view{limbs.first(size), negative && size != 0};
  if (const auto small = vd::to_int64(view);
      small && *small >= kSmallIntMin && *small <= kSmallIntMax) {
    return Value(*small);
  }
  Ref<Int> out = make_in<Int>(heap, size * sizeof(Limb), size, view.negative);
  std::copy(view.limbs.begin(), view.limbs.end(), out->data());
  return out;
}

Value Int::from_bytes(Heap& heap, std::span<const std::byte> bytes) {
  std::vector<Limb> limbs(vd::twos_complement_limbs(bytes.size()));
  const vd::LimbsResult r = vd::from_twos_complement(bytes, limbs);
  return from_limbs(heap, {limbs.data(), r.size}, r.negative);
}

Value Int::from_bytes(std::span<const std::byte> bytes) {
  return from_bytes(vd::current_heap(), bytes);
}

Value Int::from_decimal(Heap& heap, std::string_view text) {
  std::vector<Limb> limbs(vd::decimal_limbs(text));
  const auto r = vd::from_decimal(text, limbs);
  if (!r) throw ValueError("invalid literal for int() with base 10: " + literal_repr(text));
  return from_limbs(heap, {limbs.data(), r->size}, r->negative);
}

Value Int::from_decimal(std::string_view text) { return from_decimal(vd::current_heap(), text); }

Value Int::from_double(Heap& heap, double x) {
  if (std::isinf(x)) throw OverflowError("cannot convert float infinity to integer");
  if (std::isnan(x)) throw ValueError("cannot convert float NaN to integer");
  std::array<Limb, vd::kDoubleLimbs> limbs{};
  const vd::LimbsResult r = vd::from_double(x, limbs);
  return from_limbs(heap, {limbs.data(), r.size}, r.negative);
}

std::size_t Int::bytes_size(const Value& v) {
  std::array<vd::Limb, 1> storage{};
  return vd::twos_complement_size(view_of(v, storage));
}

void Int::write_bytes(const Value& v, std::span<std::byte> out) {
  std::array<vd::Limb, 1> storage{};
  const vd::LimbsView view = view_of(v, storage);
  if (out.size() != vd::twos_complement_size(view)) {
    throw std::invalid_argument("Int::write_bytes: out must have bytes_size(v) bytes");
  }
  vd::to_twos_complement(view, out);
}

std::vector<std::byte> Int::to_bytes(const Value& v) {
  std::vector<std::byte> out(bytes_size(v));
  write_bytes(v, out);
  return out;
}

std::string Int::to_decimal(const Value& v) {
  std::array<vd::Limb, 1> storage{};
  return vd::to_decimal(view_of(v, storage));
}

}  // namespace ouro
