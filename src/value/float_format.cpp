// repr(float) and the FLOAT-opcode parser. The shortest round-trip digits come from {fmt}
// (Dragonbox, the same digits as CPython's _Py_dg_dtoa mode 0: shortest, then closest);
// this file owns only Python's layout of those digits (float_repr_style 'short' in
// Objects/floatobject.c) and Python's grammar for reading them back.
#include "value/float_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <new>

namespace ouro::value::detail {
namespace {

/// Shortest digits of a finite nonzero double: value = 0.d1d2...dn * 10^point.
struct ShortestDigits {
  std::array<char, 24> digits{};  // '0'..'9', no leading or trailing zeros
  int count = 0;
  int point = 0;  // position of the decimal point relative to digits[0]
};

/// Reads the digits and exponent back out of {fmt}'s shortest text for |x|, whatever
/// layout {fmt} chose ("1e+16", "123", "0.001"), so that only Python's layout is ours.
ShortestDigits shortest_digits(double magnitude) noexcept {
  std::array<char, kFloatReprCapacity> text{};
  auto end = fmt::format_to_n(text.data(), text.size(), "{}", magnitude).out;
  ShortestDigits d;
  int before_point = -1;
  const char* p = text.data();
  for (; p != end && *p != 'e'; ++p) {
    if (*p == '.') {
      before_point = d.count;
    } else if (d.count > 0 || *p != '0') {
      d.digits[static_cast<std::size_t>(d.count++)] = *p;
    } else if (before_point >= 0) {
      --d.point;  // a leading zero after the point, as in "0.001"
    }
  }
  int exponent = 0;
  if (p != end) std::from_chars(p + (p[1] == '+' ? 2 : 1), end, exponent);
  d.point += (before_point >= 0 ? before_point : d.count) + exponent;
  if (before_point < 0) {
    // Trailing zeros of an integer-looking "100" are part of the magnitude, not digits.
    for (; d.count > 1 && d.digits[static_cast<std::size_t>(d.count - 1)] == '0'; --d.count) {
    }
  }
  return d;
}

/// Appends `s` at `out` and returns the new end.
char* put(char* out, std::string_view s) noexcept {
  std::memcpy(out, s.data(), s.size());
  return out + s.size();
}

/// Python's exponent layout: "d[.ddd]e+XX" with at least two exponent digits.
char* put_exponent_form(char* out, const ShortestDigits& d) noexcept {
  *out++ = d.digits[0];
  if (d.count > 1) {
    *out++ = '.';
    out = put(out, std::string_view(d.digits.data() + 1, static_cast<std::size_t>(d.count - 1)));
  }
  int exponent = d.point - 1;
  *out++ = 'e';
  *out++ = exponent < 0 ? '-' : '+';
  return fmt::format_to(out, "{:02d}", exponent < 0 ? -exponent : exponent);
}

/// Python's fixed layout: always a '.', and ".0" for integral values.
char* put_fixed_form(char* out, const ShortestDigits& d) noexcept {
  std::string_view digits(d.digits.data(), static_cast<std::size_t>(d.count));
  if (d.point <= 0) {
    out = put(out, "0.");
    out = std::fill_n(out, -d.point, '0');
    return put(out, digits);
  }
  auto whole = static_cast<std::size_t>(d.point);
  if (whole < digits.size()) {
    out = put(out, digits.substr(0, whole));
    *out++ = '.';
    return put(out, digits.substr(whole));
  }
  out = put(out, digits);
  out = std::fill_n(out, whole - digits.size(), '0');
  return put(out, ".0");
}

/// Python's word for a non-finite value or a zero, or "" for other values.
std::string_view special_repr(double x) noexcept {
  if (std::isnan(x)) return "nan";  // repr never shows a NaN's sign
  if (std::isinf(x)) return x < 0 ? "-inf" : "inf";
  if (x == 0.0) return std::signbit(x) ? "-0.0" : "0.0";
  return {};
}

/// Case-insensitive comparison of ASCII text with a lower-case word.
bool equals_ignoring_case(std::string_view text, std::string_view lower_word) noexcept {
  if (text.size() != lower_word.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower_word[i]) return false;
  }
  return true;
}

/// An ASCII decimal digit.
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// Length of the longest prefix of `s` made of ASCII digits.
std::size_t digit_run(std::string_view s, std::size_t from) noexcept {
  std::size_t i = from;
  while (i < s.size() && is_digit(s[i])) ++i;
  return i - from;
}

/// Length of the longest prefix of `s` (sign already removed) of the form
/// "ddd[.ddd][e[+-]ddd]" with a digit in the mantissa, or 0 if there is none: what
/// _Py_dg_strtod consumes once inf and nan are set aside. An "e" without exponent
/// digits is not part of the prefix.
std::size_t decimal_prefix_length(std::string_view s) noexcept {
  std::size_t i = digit_run(s, 0);
  std::size_t mantissa_digits = i;
  if (i < s.size() && s[i] == '.') {
    std::size_t fraction = digit_run(s, i + 1);
    mantissa_digits += fraction;
    i += 1 + fraction;
  }
  if (mantissa_digits == 0) return 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    std::size_t j = i + 1;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
    std::size_t exponent_digits = digit_run(s, j);
    if (exponent_digits > 0) i = j + exponent_digits;
  }
  return i;
}

/// Whether an out-of-range decimal literal overflowed (rather than underflowed): the
/// position of its first significant digit decides, since ranges meet only near 1e308
/// and 1e-324. Precondition: s is a whole decimal literal and the literal is not zero.
bool literal_is_huge(std::string_view s) noexcept {
  auto e_pos = s.find_first_of("eE");
  std::string_view mantissa = s.substr(0, e_pos);
  long long exponent = 0;
  if (e_pos != std::string_view::npos) {
    std::string_view text = s.substr(e_pos + 1);
    bool negative = !text.empty() && text[0] == '-';
    if (!text.empty() && (text[0] == '-' || text[0] == '+')) text.remove_prefix(1);
    for (char c : text) {  // saturate: only the sign of the total matters below
      exponent = std::min(exponent * 10 + (c - '0'), 1'000'000'000'000LL);
    }
    if (negative) exponent = -exponent;
  }
  auto point = mantissa.find('.');
  long long int_digits =
      static_cast<long long>(point == std::string_view::npos ? mantissa.size() : point);
  auto first = mantissa.find_first_of("123456789");
  long long position = static_cast<long long>(first);  // digits before the first significant one
  long long magnitude = (first < static_cast<std::size_t>(int_digits)) ? int_digits - position
                                                                       : int_digits - position + 1;
  return magnitude + exponent > 0;
}

}  // namespace

std::size_t write_float_repr(double x, std::span<char, kFloatReprCapacity> out) noexcept {
  char* begin = out.data();
  std::string_view special = special_repr(x);
  if (!special.empty()) return static_cast<std::size_t>(put(begin, special) - begin);
  char* p = begin;
  if (std::signbit(x)) *p++ = '-';
  ShortestDigits d = shortest_digits(std::fabs(x));
  // Python switches to the exponent form when the exponent of the leading digit is
  // < -4 or >= 16 (repr(1e16) == '1e+16', repr(1e-05) == '1e-05').
  bool exponent_form = d.point - 1 < -4 || d.point - 1 >= 16;
  p = exponent_form ? put_exponent_form(p, d) : put_fixed_form(p, d);
  return static_cast<std::size_t>(p - begin);
}

std::string float_repr(double x) {
  std::array<char, kFloatReprCapacity> buffer{};
  return std::string(buffer.data(), write_float_repr(x, buffer));
}

std::errc decimal_to_double_strtod(std::string_view literal, double& value) noexcept {
  // strtod needs a terminated copy; literals longer than the stack copy are rare (a float
  // written with all 767 significant digits) and take one allocation of the C library.
  char small[128];
  std::unique_ptr<char[]> large;
  char* copy = small;
  if (literal.size() >= sizeof small) {
    large.reset(new (std::nothrow) char[literal.size() + 1]);
    if (!large) return std::errc::not_enough_memory;
    copy = large.get();
  }
  std::memcpy(copy, literal.data(), literal.size());
  copy[literal.size()] = '\0';
  errno = 0;
  char* end = nullptr;
  const double result = std::strtod(copy, &end);
  if (end != copy + literal.size()) return std::errc::invalid_argument;
  // strtod also reports ERANGE for subnormal results, which from_chars accepts.
  if (errno == ERANGE && (result == 0.0 || std::isinf(result))) {
    return std::errc::result_out_of_range;
  }
  value = result;
  return std::errc{};
}

std::errc decimal_to_double(std::string_view literal, double& value) noexcept {
#if OURO_BARE_METAL
  return decimal_to_double_strtod(literal, value);
#else
  const auto [end, error] = std::from_chars(literal.data(), literal.data() + literal.size(), value,
                                            std::chars_format::general);
  if (error == std::errc{} && end != literal.data() + literal.size()) {
    return std::errc::invalid_argument;
  }
  return error;
#endif
}

FloatParse parse_float_checked(std::string_view text) noexcept {
  bool negative = !text.empty() && text[0] == '-';
  std::string_view body = text;
  if (!body.empty() && (body[0] == '-' || body[0] == '+')) body.remove_prefix(1);
  double sign = negative ? -1.0 : 1.0;
  if (equals_ignoring_case(body, "inf") || equals_ignoring_case(body, "infinity")) {
    return {sign * std::numeric_limits<double>::infinity(), FloatParseStatus::kOk};
  }
  if (equals_ignoring_case(body, "nan")) {
    // CPython 3.11 keeps the sign: math.copysign(1, float('-nan')) == -1.0.
    return {std::copysign(std::numeric_limits<double>::quiet_NaN(), sign), FloatParseStatus::kOk};
  }
  std::size_t length = decimal_prefix_length(body);
  if (length == 0) return {0.0, FloatParseStatus::kSyntax};
  std::string_view literal = body.substr(0, length);
  // CPython converts the longest literal prefix first and reports its overflow before it
  // looks at what follows: "1e999x" is an OverflowError, "1e99x" a ValueError.
  double value = 0.0;
  const std::errc error = decimal_to_double(literal, value);
  if (error == std::errc::result_out_of_range) {
    // from_chars leaves `value` alone out of range; Python gives inf or a signed zero.
    if (literal_is_huge(literal)) {
      return {sign * std::numeric_limits<double>::infinity(), FloatParseStatus::kOverflow};
    }
    value = 0.0;
  } else if (error != std::errc{}) {
    return {0.0, FloatParseStatus::kSyntax};
  }
  if (length != body.size()) return {0.0, FloatParseStatus::kSyntax};
  return {sign * value, FloatParseStatus::kOk};
}

std::optional<double> parse_float(std::string_view text) noexcept {
  FloatParse parsed = parse_float_checked(text);
  if (parsed.status == FloatParseStatus::kSyntax) return std::nullopt;
  return parsed.value;
}

}  // namespace ouro::value::detail
