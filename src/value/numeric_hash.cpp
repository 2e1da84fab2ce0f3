// Numeric and tuple hashes. The reduction modulo P = 2^61 - 1 uses 2^61 == 1 (mod P): a
// power of two 2^e is 2^(e mod 61), so multiplying by it is a 61-bit rotation, and a
// double, being m * 2^e with an integer m < 2^53, hashes as rotate(m, e mod 61). That is
// the same value CPython's digit-by-digit loop in _Py_HashDouble arrives at.
#include "value/numeric_hash.h"

#include <cmath>

namespace ouro::value::detail {
namespace {

constexpr std::uint64_t kPrime1 = 11400714785074694791ULL;
constexpr std::uint64_t kPrime2 = 14029467366897019727ULL;
constexpr unsigned kModulusBits = 61;

/// Applies the sign and CPython's rule that -1 is never a hash.
HashValue signed_hash(std::uint64_t residue, bool negative) noexcept {
  auto hash = static_cast<HashValue>(residue);  // residue < 2^61, so this is exact
  if (negative) hash = -hash;
  return hash == -1 ? -2 : hash;
}

/// x * 2^shift mod P for x < P and shift < 61: a rotation within 61 bits.
std::uint64_t rotate_mod(std::uint64_t x, unsigned shift) noexcept {
  if (shift == 0) return x;
  return ((x << shift) & kHashModulus) | (x >> (kModulusBits - shift));
}

}  // namespace

HashValue hash_int64(std::int64_t value) noexcept {
  auto magnitude = static_cast<std::uint64_t>(value);
  if (value < 0) magnitude = 0 - magnitude;
  return signed_hash(magnitude % kHashModulus, value < 0);
}

HashValue hash_bigint(LimbsView view) noexcept {
  return signed_hash(magnitude_mod(view, kHashModulus), view.negative);
}

HashValue hash_pointer(std::uintptr_t identity) noexcept {
  // CPython's _Py_HashPointer: object addresses are aligned, so the low 4 bits carry
  // little information (8-byte alignment on 32-bit targets leaves one bit).
  std::uintptr_t rotated = (identity >> 4) | (identity << (8 * sizeof(identity) - 4));
  auto hash = static_cast<HashValue>(rotated);
  return hash == -1 ? -2 : hash;
}

HashValue hash_double(double value, std::uintptr_t identity) noexcept {
  if (std::isnan(value)) return hash_pointer(identity);
  if (std::isinf(value)) return value > 0 ? kHashInf : -kHashInf;
  if (value == 0.0) return 0;
  int exponent = 0;
  double fraction = std::frexp(std::fabs(value), &exponent);  // |value| = fraction * 2^exponent
  auto mantissa = static_cast<std::uint64_t>(std::ldexp(fraction, 53));  // exact, < 2^53 < P
  // |value| = mantissa * 2^(exponent - 53); reduce the exponent modulo 61 into [0, 61).
  int shift = (exponent - 53) % static_cast<int>(kModulusBits);
  if (shift < 0) shift += kModulusBits;
  return signed_hash(rotate_mod(mantissa, static_cast<unsigned>(shift)), value < 0);
}

void TupleHasher::add(HashValue item_hash) noexcept {
  accumulator_ += static_cast<std::uint64_t>(item_hash) * kPrime2;
  accumulator_ = (accumulator_ << 31) | (accumulator_ >> 33);
  accumulator_ *= kPrime1;
  ++length_;
}

HashValue TupleHasher::finish() const noexcept {
  // The length is mixed in last, with a constant that keeps () and (x,) apart.
  std::uint64_t result = accumulator_ + (length_ ^ (kPrime5 ^ 3527539ULL));
  if (result == ~std::uint64_t{0}) return 1546275796;  // CPython's stand-in for -1
  return static_cast<HashValue>(result);
}

HashValue hash_tuple(std::span<const HashValue> item_hashes) noexcept {
  TupleHasher hasher;
  for (HashValue h : item_hashes) hasher.add(h);
  return hasher.finish();
}

}  // namespace ouro::value::detail
