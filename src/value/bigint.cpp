// Python int helpers over caller-owned limbs (Objects/longobject.c is the behaviour being
// matched): sign handling, comparison, pickle's two's complement, double conversions and the
// decimal conversions' CPython rules (whitespace, underscores, the 4300-digit limit). The
// multi-limb arithmetic underneath (decimal digits, remainder) is bigint_backend.h's, GMP or
// portable as configured; nothing here allocates except to_decimal's returned string.
#include "value/bigint.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "ouro/config.h"
#include "value/bigint_backend.h"

namespace ouro::value::detail {

namespace {

constexpr unsigned kLimbBits = 64;
using bigint_backend::kMaxDecimalLimbs;

/// True when the magnitude is a power of two (a single set bit in the top limb only).
bool is_power_of_two(std::span<const Limb> limbs) noexcept {
  if (limbs.empty() || !std::has_single_bit(limbs.back())) return false;
  return std::all_of(limbs.begin(), limbs.end() - 1, [](Limb l) { return l == 0; });
}

/// Byte `i` (little-endian) of the magnitude, zero past its end.
unsigned magnitude_byte(std::span<const Limb> limbs, std::size_t i) noexcept {
  std::size_t limb = i / 8;
  if (limb >= limbs.size()) return 0;
  return static_cast<unsigned>(limbs[limb] >> (8 * (i % 8))) & 0xFF;
}

/// Py_ISSPACE: the C-level test PyLong_FromString uses on bytes and pickle text.
bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/// An ASCII decimal digit (int() of non-ASCII digits is the caller's business).
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// CPython's ValueError text for a literal with too many digits.
std::string from_str_limit_message(std::size_t digits) {
  return "Exceeds the limit (4300 digits) for integer string conversion: value has " +
         std::to_string(digits) + " digits; use sys.set_int_max_str_digits() to increase the limit";
}

/// Reads "d[_]d..." from text[pos..], advancing pos past it and counting its digits. False
/// on CPython's underscore errors (leading, doubled or trailing) and on a literal without
/// digits.
bool scan_digits(std::string_view text, std::size_t& pos, std::size_t& digit_count) noexcept {
  bool after_underscore = false;
  for (; pos < text.size(); ++pos) {
    char c = text[pos];
    if (c == '_') {
      if (after_underscore || digit_count == 0) return false;
      after_underscore = true;
    } else if (is_digit(c)) {
      ++digit_count;
      after_underscore = false;
    } else {
      break;
    }
  }
  return !after_underscore && digit_count > 0;
}

/// The magnitude of `negative ? -(B^n - x) : x`: two's complement negation in place.
void negate_in_place(std::span<Limb> limbs) noexcept {
  bool borrow = false;  // 0 - x limb by limb; the borrow stays set after the first nonzero
  for (Limb& limb : limbs) {
    Limb negated = 0 - limb - (borrow ? 1 : 0);
    borrow = borrow || limb != 0;
    limb = negated;
  }
}

}  // namespace

bool is_normalized(LimbsView view) noexcept {
  if (view.limbs.empty()) return !view.negative;
  return view.limbs.back() != 0;
}

std::size_t normalized_size(std::span<const Limb> limbs) noexcept {
  std::size_t n = limbs.size();
  while (n > 0 && limbs[n - 1] == 0) --n;
  return n;
}

std::size_t bit_length(LimbsView view) noexcept {
  if (view.limbs.empty()) return 0;
  return (view.limbs.size() - 1) * kLimbBits + std::bit_width(view.limbs.back());
}

int compare(LimbsView a, LimbsView b) noexcept {
  OURO_ASSERT(is_normalized(a) && is_normalized(b));
  if (a.negative != b.negative) return a.negative ? -1 : 1;
  int magnitude_order = 0;
  if (a.limbs.size() != b.limbs.size()) {
    magnitude_order = a.limbs.size() < b.limbs.size() ? -1 : 1;
  } else {
    // The most significant differing limb decides (std::mismatch from the top).
    auto [ia, ib] = std::mismatch(a.limbs.rbegin(), a.limbs.rend(), b.limbs.rbegin());
    if (ia != a.limbs.rend()) magnitude_order = *ia < *ib ? -1 : 1;
  }
  return a.negative ? -magnitude_order : magnitude_order;
}

LimbsResult from_int64(std::int64_t value, std::span<Limb> out) noexcept {
  if (value == 0) return {};
  // Unsigned negation is exact for INT64_MIN too.
  auto magnitude = static_cast<std::uint64_t>(value);
  out[0] = value < 0 ? 0 - magnitude : magnitude;
  return {1, value < 0};
}

std::optional<std::int64_t> to_int64(LimbsView view) noexcept {
  if (view.limbs.empty()) return 0;
  if (view.limbs.size() > 1) return std::nullopt;
  Limb magnitude = view.limbs[0];
  constexpr Limb kInt64Max = static_cast<Limb>(INT64_MAX);
  if (magnitude > kInt64Max + (view.negative ? 1 : 0)) return std::nullopt;
  return static_cast<std::int64_t>(view.negative ? 0 - magnitude : magnitude);
}

std::size_t twos_complement_size(LimbsView view) noexcept {
  if (view.limbs.empty()) return 0;
  // Positive x needs its bits plus a 0 sign bit; negative x fits n bytes when
  // |x| - 1 < 2^(8n-1), and |x| - 1 has one bit fewer than |x| only for powers of two.
  std::size_t bits = bit_length(view);
  if (view.negative && is_power_of_two(view.limbs)) --bits;
  return bits / 8 + 1;
}

void to_twos_complement(LimbsView view, std::span<std::byte> out) noexcept {
  OURO_ASSERT(is_normalized(view) && out.size() == twos_complement_size(view));
  unsigned carry = 1;  // negative values are ~(|x|) + 1, carried byte by byte
  for (std::size_t i = 0; i < out.size(); ++i) {
    unsigned byte = magnitude_byte(view.limbs, i);
    if (view.negative) {
      byte = (~byte & 0xFF) + carry;
      carry = byte >> 8;
    }
    out[i] = static_cast<std::byte>(byte & 0xFF);
  }
}

std::size_t twos_complement_limbs(std::size_t byte_count) noexcept { return (byte_count + 7) / 8; }

LimbsResult from_twos_complement(std::span<const std::byte> bytes, std::span<Limb> out) noexcept {
  std::size_t n = twos_complement_limbs(bytes.size());
  OURO_ASSERT(out.size() >= n);
  if (n == 0) return {};
  bool negative = (static_cast<unsigned>(bytes.back()) & 0x80) != 0;
  std::fill_n(out.begin(), n - 1, Limb{0});
  out[n - 1] = negative ? ~Limb{0} : 0;  // sign-extends a partial top limb
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    unsigned shift = 8 * (i % 8);
    Limb byte = static_cast<Limb>(bytes[i]) << shift;
    out[i / 8] = (out[i / 8] & ~(Limb{0xFF} << shift)) | byte;
  }
  // A negative value is -(B^n - x) in n limbs; negating gives that magnitude.
  if (negative) negate_in_place(out.first(n));
  std::size_t size = normalized_size(out.first(n));
  return {size, negative && size > 0};
}

std::size_t decimal_size_bound(LimbsView view) noexcept {
  // log10(2) < 0.30103: bits * 0.30103 + 1 digits, one more for rounding, one for a sign.
  std::size_t bound = bit_length(view) * 30103 / 100000 + 3;
  return std::min(bound, kMaxDecimalChars);
}

std::size_t write_decimal(LimbsView view, std::span<char> out) {
  OURO_ASSERT(is_normalized(view) && out.size() >= decimal_size_bound(view));
  if (view.limbs.empty()) {
    out[0] = '0';
    return 1;
  }
  if (view.limbs.size() > kMaxDecimalLimbs) throw ValueError(std::string(kToStrLimitMessage));
  std::size_t sign = view.negative ? 1 : 0;
  std::size_t count = bigint_backend::write_digits(view.limbs, out.subspan(sign));
  if (count == bigint_backend::kTooManyDigits) throw ValueError(std::string(kToStrLimitMessage));
  if (view.negative) out[0] = '-';
  return sign + count;
}

std::string to_decimal(LimbsView view) {
  std::string text(decimal_size_bound(view), '\0');
  text.resize(write_decimal(view, text));
  return text;
}

std::size_t decimal_limbs(std::string_view text) noexcept {
  // log2(10) < 3.322 bits a digit, plus one spare limb (mpn_set_str
  // asks for it).
  std::size_t digits = std::min(text.size(), kIntMaxStrDigits);
  return (digits * 3322 / 1000 + 1) / kLimbBits + 2;
}

std::optional<LimbsResult> from_decimal(std::string_view text, std::span<Limb> out) {
  std::size_t pos = 0;
  while (pos < text.size() && is_space(text[pos])) ++pos;
  bool negative = false;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) negative = text[pos++] == '-';
  std::size_t digits_start = pos, digit_count = 0;
  if (!scan_digits(text, pos, digit_count)) return std::nullopt;
  // CPython checks the limit right after counting, before it looks at what follows.
  if (digit_count > kIntMaxStrDigits) throw ValueError(from_str_limit_message(digit_count));
  std::string_view literal = text.substr(digits_start, pos - digits_start);
  while (pos < text.size() && is_space(text[pos])) ++pos;
  if (pos != text.size()) return std::nullopt;
  OURO_ASSERT(out.size() >= decimal_limbs(text));
  std::size_t size = bigint_backend::set_digits(literal, out);
  return LimbsResult{size, negative && size > 0};
}

LimbsResult from_double(double x, std::span<Limb> out) noexcept {
  OURO_ASSERT(std::isfinite(x) && out.size() >= kDoubleLimbs);
  double magnitude = std::trunc(std::fabs(x));
  if (magnitude == 0) return {};
  constexpr double kTwoTo64 = 18446744073709551616.0;
  if (magnitude < kTwoTo64) {
    out[0] = static_cast<Limb>(magnitude);
    return {1, x < 0};
  }
  // magnitude = mantissa * 2^shift with a 53-bit integer mantissa and shift >= 11.
  int exponent = 0;
  auto mantissa = static_cast<Limb>(std::ldexp(std::frexp(magnitude, &exponent), 53));
  auto shift = static_cast<std::size_t>(exponent - 53);
  std::size_t limb = shift / kLimbBits, bit = shift % kLimbBits;
  std::fill_n(out.begin(), limb, Limb{0});
  out[limb] = mantissa << bit;
  out[limb + 1] = bit == 0 ? 0 : mantissa >> (kLimbBits - bit);
  return {normalized_size(out.first(limb + 2)), x < 0};
}

double to_double(LimbsView view) {
  OURO_ASSERT(is_normalized(view));
  std::size_t bits = bit_length(view);
  if (bits == 0) return 0.0;
  double sign = view.negative ? -1.0 : 1.0;
  if (bits <= kLimbBits) return sign * static_cast<double>(view.limbs[0]);
  if (bits > 1024) throw OverflowError("int too large to convert to float");
  // Keep the top 64 bits and fold every lower bit into bit 0 (a sticky bit): the
  // hardware's uint64 -> double rounding to nearest-even then rounds exactly as CPython.
  std::size_t shift = bits - kLimbBits;
  std::size_t limb = shift / kLimbBits, bit = shift % kLimbBits;
  Limb top = view.limbs[limb] >> bit;
  if (bit != 0) top |= view.limbs[limb + 1] << (kLimbBits - bit);
  bool sticky = bit != 0 && (view.limbs[limb] << (kLimbBits - bit)) != 0;
  sticky = sticky ||
           std::any_of(view.limbs.begin(), view.limbs.begin() + static_cast<std::ptrdiff_t>(limb),
                       [](Limb l) { return l != 0; });
  double result = std::ldexp(static_cast<double>(top | (sticky ? 1 : 0)), static_cast<int>(shift));
  if (std::isinf(result)) throw OverflowError("int too large to convert to float");
  return sign * result;
}

std::uint64_t magnitude_mod(LimbsView view, std::uint64_t modulus) noexcept {
  if (view.limbs.empty()) return 0;
  return bigint_backend::magnitude_mod(view.limbs, modulus);
}

}  // namespace ouro::value::detail
