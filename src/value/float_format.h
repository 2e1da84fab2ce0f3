// Python's text forms of a float: repr(float) and the parser behind pickle protocol 0's
// FLOAT opcode. Both must agree with CPython 3.11 byte for byte, because pickles written
// here are compared with CPython's and read back by it. Internal to the value layer.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace ouro::value::detail {

/// Room that write_float_repr() needs: the longest repr is "-2.2250738585072014e-308"
/// (24 chars); the fixed form tops out at 17 digits plus sign, "0.000", and ".0".
inline constexpr std::size_t kFloatReprCapacity = 32;

/// Writes repr(x) into `out` without allocating and returns its length. The digits are the
/// shortest that read back as `x` (the digits {fmt} finds); the layout is Python's: the
/// exponent form when the decimal exponent is < -4 or >= 16, otherwise a fixed form that
/// always has a '.'; "inf", "-inf", "nan" (never "-nan"), "-0.0".
///
///     std::array<char, kFloatReprCapacity> buf;
///     std::string_view s(buf.data(), write_float_repr(1e16, buf));  // "1e+16"
std::size_t write_float_repr(double x, std::span<char, kFloatReprCapacity> out) noexcept;

/// repr(x) as a string, as write_float_repr() lays it out.
///
///     float_repr(0.1) == "0.1";  float_repr(1e-5) == "1e-05";  float_repr(123) == "123.0"
std::string float_repr(double x);

/// Why parse_float_checked() did not give a plain value.
enum class FloatParseStatus {
  kOk,        ///< `value` is the correctly rounded value of the text
  kSyntax,    ///< not a float literal (pickle: ValueError "could not convert string to float")
  kOverflow,  ///< finite text too large for a double; `value` is +-inf (pickle: OverflowError)
};

/// Result of parse_float_checked().
struct FloatParse {
  double value = 0.0;  ///< meaningful unless status is kSyntax
  FloatParseStatus status = FloatParseStatus::kOk;
};

/// Converts a decimal literal already checked to be one (digits, an optional '.', an
/// optional exponent; no sign) to the nearest double, as std::from_chars does: returns
/// errc::result_out_of_range, leaving `value` alone, when the result overflows or
/// underflows to zero. Host builds use from_chars; bare-metal builds use the C library's
/// strtod, correctly rounded too, which spares the firmware 17 KB of from_chars tables.
std::errc decimal_to_double(std::string_view literal, double& value) noexcept;

/// The bare-metal conversion, compiled everywhere so that host tests compare it with
/// from_chars.
std::errc decimal_to_double_strtod(std::string_view literal, double& value) noexcept;

/// Parses the text of a FLOAT opcode as CPython's unpickler does (PyOS_string_to_double):
/// an optional sign, then digits with an optional '.' and an optional exponent, or "inf",
/// "infinity", "nan" in any case. No whitespace and no underscores (unlike float(str)).
/// Results are correctly rounded; underflow gives a (signed) zero or subnormal. As in
/// CPython, the longest literal prefix is converted first, so "1e999x" is kOverflow and
/// "1e99x" kSyntax. (CPython reads the line as a C string, so a NUL byte ends it there:
/// the caller cuts the text at a NUL if it wants that quirk too.)
///
///     parse_float_checked("1e500").status == FloatParseStatus::kOverflow
FloatParse parse_float_checked(std::string_view text) noexcept;

/// The value of parse_float_checked(), with overflow read as +-inf as float() does;
/// nullopt when the text is not a float literal.
///
///     parse_float("-.5e1") == -5.0;  !parse_float("1_0")
std::optional<double> parse_float(std::string_view text) noexcept;

}  // namespace ouro::value::detail
