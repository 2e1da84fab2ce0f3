// Python int helpers over caller-owned limbs, on GMP's mpn_* layer (Objects/longobject.c
// is the behaviour being matched). mpn functions take plain limb pointers and never
// allocate for what is used here (cmp, neg, mod_1, get_str, set_str, sizeinbase), which is
// what lets the value layer keep big ints entirely inside its own heap. Decimal scratch
// space lives on the stack: CPython's 4300-digit limit bounds it.
#include "value/bigint.h"

#include <gmp.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "ouro/config.h"

namespace ouro::value::detail {

static_assert(std::is_same_v<mp_limb_t, Limb> && GMP_NAIL_BITS == 0,
              "bigint.cpp passes Limb arrays straight to mpn_*: needs 64-bit limbs, no nails");

namespace {

constexpr unsigned kLimbBits = 64;

/// Limbs of the largest magnitude that can have at most kIntMaxStrDigits digits:
/// 10^4300 < 2^14285 needs 224 limbs; one more keeps the early rejection conservative
/// (more limbs than this always means more than 4300 digits).
constexpr std::size_t kMaxDecimalLimbs = (kIntMaxStrDigits * 3322 / 1000 + 1) / kLimbBits + 2;

/// mpn_get_str's output room for kMaxDecimalLimbs limbs: 64*log10(2) < 19.3 digits a limb,
/// plus the extra character it asks for.
constexpr std::size_t kMaxDecimalBuffer = kMaxDecimalLimbs * 20 + 1;


/// A limb count as GMP's signed size type.
mp_size_t mp_size(std::size_t n) noexcept { return static_cast<mp_size_t>(n); }

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

/// Decimal digits of a literal, as digit values for mpn_set_str (first kIntMaxStrDigits
/// only) and the full count for the limit check.
struct ScannedDigits {
  std::array<unsigned char, kIntMaxStrDigits> values;
  std::size_t count = 0;
};

/// Reads "d[_]d..." from text[pos..], advancing pos past it. False on CPython's underscore
/// errors (leading, doubled or trailing) and on a literal without digits.
bool scan_digits(std::string_view text, std::size_t& pos, ScannedDigits& digits) noexcept {
  bool after_underscore = false;
  for (; pos < text.size(); ++pos) {
    char c = text[pos];
    if (c == '_') {
      if (after_underscore || digits.count == 0) return false;
      after_underscore = true;
    } else if (is_digit(c)) {
      if (digits.count < kIntMaxStrDigits)
        digits.values[digits.count] = static_cast<unsigned char>(c - '0');
      ++digits.count;
      after_underscore = false;
    } else {
      break;
    }
  }
  return !after_underscore && digits.count > 0;
}

/// Converts validated digit values (at most kIntMaxStrDigits) into `out`.
std::size_t set_decimal_digits(const ScannedDigits& digits, std::span<Limb> out) noexcept {
  std::size_t first = 0;
  while (first < digits.count && digits.values[first] == 0) ++first;  // mpn wants no leading 0
  if (first == digits.count) return 0;
  mp_size_t written =
      mpn_set_str(out.data(), digits.values.data() + first, digits.count - first, 10);
  return normalized_size(out.first(static_cast<std::size_t>(written)));
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
  } else if (!a.limbs.empty()) {
    int c = mpn_cmp(a.limbs.data(), b.limbs.data(), mp_size(a.limbs.size()));
    magnitude_order = (c > 0) - (c < 0);
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
  // A negative value is -(B^n - x) in n limbs; mpn_neg gives that magnitude.
  if (negative) mpn_neg(out.data(), out.data(), mp_size(n));
  std::size_t size = normalized_size(out.first(n));
  return {size, negative && size > 0};
}

std::size_t write_decimal(LimbsView view, std::span<char> out) {
  OURO_ASSERT(is_normalized(view) && out.size() >= kMaxDecimalChars);
  std::size_t n = view.limbs.size();
  if (n == 0) {
    out[0] = '0';
    return 1;
  }
  if (n > kMaxDecimalLimbs) throw ValueError(std::string(kToStrLimitMessage));
  std::array<Limb, kMaxDecimalLimbs> scratch;  // mpn_get_str destroys its input
  std::copy(view.limbs.begin(), view.limbs.end(), scratch.begin());
  // mpn_sizeinbase is exact or one too large; skip the conversion when surely too long.
  if (mpn_sizeinbase(scratch.data(), mp_size(n), 10) > kIntMaxStrDigits + 1) {
    throw ValueError(std::string(kToStrLimitMessage));
  }
  std::array<unsigned char, kMaxDecimalBuffer> digits;
  std::size_t count = mpn_get_str(digits.data(), 10, scratch.data(), mp_size(n));
  std::size_t first = 0;
  while (first + 1 < count && digits[first] == 0) ++first;
  if (count - first > kIntMaxStrDigits) throw ValueError(std::string(kToStrLimitMessage));
  std::size_t length = 0;
  if (view.negative) out[length++] = '-';
  for (std::size_t i = first; i < count; ++i) out[length++] = static_cast<char>('0' + digits[i]);
  return length;
}

std::string to_decimal(LimbsView view) {
  std::array<char, kMaxDecimalChars> buffer;
  return std::string(buffer.data(), write_decimal(view, buffer));
}

std::size_t decimal_limbs(std::string_view text) noexcept {
  // log2(10) < 3.322 bits a digit, plus the extra limb mpn_set_str asks for.
  std::size_t digits = std::min(text.size(), kIntMaxStrDigits);
  return (digits * 3322 / 1000 + 1) / kLimbBits + 2;
}

std::optional<LimbsResult> from_decimal(std::string_view text, std::span<Limb> out) {
  std::size_t pos = 0;
  while (pos < text.size() && is_space(text[pos])) ++pos;
  bool negative = false;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) negative = text[pos++] == '-';
  ScannedDigits digits;
  if (!scan_digits(text, pos, digits)) return std::nullopt;
  // CPython checks the limit right after counting, before it looks at what follows.
  if (digits.count > kIntMaxStrDigits) throw ValueError(from_str_limit_message(digits.count));
  while (pos < text.size() && is_space(text[pos])) ++pos;
  if (pos != text.size()) return std::nullopt;
  OURO_ASSERT(out.size() >= decimal_limbs(text));
  std::size_t size = set_decimal_digits(digits, out);
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
  return mpn_mod_1(view.limbs.data(), mp_size(view.limbs.size()), modulus);
}

}  // namespace ouro::value::detail
