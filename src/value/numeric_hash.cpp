// Numeric and tuple hashes. The reduction modulo P = 2^61 - 1 uses 2^61 == 1 (mod P): a
// power of two 2^e is 2^(e mod 61), so multiplying by it is a 61-bit rotation, and a
// double, being m * 2^e with an integer m < 2^53, hashes as rotate(m, e mod 61). That is
// the same value CPython's digit-by-digit loop in _Py_HashDouble arrives at.
#include "value/numeric_hash.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "value/unicode.h"

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
  // Object addresses are 16-byte aligned, so the low 4 bits carry no information.
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

// --- SipHash-1-3 (PYTHONHASHSEED=0 str and bytes hashes) -----------------------------
// One compression round per 8-byte word and three finalization rounds ("1-3"); the result
// is CPython's modified output v0^v1^v2^v3. Written from the SipHash paper's description.

namespace {
constexpr std::uint64_t rotl(std::uint64_t x, unsigned b) noexcept {
  return (x << b) | (x >> (64 - b));
}
void sip_round(std::uint64_t& v0, std::uint64_t& v1, std::uint64_t& v2,
               std::uint64_t& v3) noexcept {
  v0 += v1;
  v2 += v3;
  v1 = rotl(v1, 13) ^ v0;
  v3 = rotl(v3, 16) ^ v2;
  v0 = rotl(v0, 32);
  v2 += v1;
  v0 += v3;
  v1 = rotl(v1, 17) ^ v2;
  v3 = rotl(v3, 21) ^ v0;
  v2 = rotl(v2, 32);
}
}  // namespace

SipHash13::SipHash13(std::uint64_t k0, std::uint64_t k1) noexcept
    : v0_(k0 ^ 0x736f6d6570736575ULL),  // "somepseudorandomlygeneratedbytes"
      v1_(k1 ^ 0x646f72616e646f6dULL),
      v2_(k0 ^ 0x6c7967656e657261ULL),
      v3_(k1 ^ 0x7465646279746573ULL) {}

void SipHash13::compress(std::uint64_t word) noexcept {
  v3_ ^= word;
  sip_round(v0_, v1_, v2_, v3_);
  v0_ ^= word;
}

void SipHash13::update(std::span<const std::byte> data) noexcept {
  length_ += data.size();
  for (std::byte b : data) {
    tail_ |= static_cast<std::uint64_t>(b) << (8 * tail_size_);
    if (++tail_size_ == 8) {
      compress(tail_);
      tail_ = 0;
      tail_size_ = 0;
    }
  }
}

std::uint64_t SipHash13::finish() noexcept {
  compress(tail_ | (length_ << 56));
  v2_ ^= 0xff;
  for (int i = 0; i < 3; ++i) sip_round(v0_, v1_, v2_, v3_);
  return (v0_ ^ v1_) ^ (v2_ ^ v3_);
}

namespace {
HashValue finish_bytes_hash(std::uint64_t length, SipHash13& h) noexcept {
  if (length == 0) return 0;  // _Py_HashBytes: the empty string hashes to 0
  const auto x = static_cast<HashValue>(h.finish());
  return x == -1 ? -2 : x;
}
}  // namespace

HashValue hash_bytes_seed0(std::span<const std::byte> data) noexcept {
  SipHash13 h(0, 0);
  h.update(data);
  return finish_bytes_hash(data.size(), h);
}

HashValue hash_str_seed0(std::string_view utf8, bool ascii) noexcept {
  if (ascii) return hash_bytes_seed0(std::as_bytes(std::span(utf8.data(), utf8.size())));
  char32_t widest = 0;
  std::size_t count = 0;
  for (std::size_t pos = 0; pos < utf8.size(); ++count) {
    widest = std::max(widest, decode_code_point(utf8, pos));
  }
  const unsigned width = widest < 0x100 ? 1 : widest < 0x10000 ? 2 : 4;
  SipHash13 h(0, 0);
  for (std::size_t pos = 0; pos < utf8.size();) {
    const char32_t cp = decode_code_point(utf8, pos);
    std::array<std::byte, 4> unit{};
    for (unsigned i = 0; i < width; ++i) unit[i] = static_cast<std::byte>(cp >> (8 * i));
    h.update(std::span(unit.data(), width));
  }
  return finish_bytes_hash(count * width, h);
}

}  // namespace ouro::value::detail
