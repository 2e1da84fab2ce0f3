// Python's repr() for the argument types pickletools prints: str, bytes, float and int.
//
// dis must print arguments byte for byte as CPython does. These are the shapes dis needs
// (code-point strings, raw bytes, LONG payloads) over the value layer's exact helpers:
// str.isprintable() from src/value/unicode_tables.inc, float_repr_style 'short', and the
// default int_max_str_digits limit (4300 digits).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ouro::pickle::detail {

/// CPython's default sys.int_info.default_max_str_digits.
inline constexpr std::size_t kIntMaxStrDigits = 4300;

/// Message of the ValueError CPython raises when an int is too long to print.
std::string int_to_str_limit_message();

/// True if Python's str.isprintable() is true for this one code point.
bool is_printable(char32_t cp) noexcept;
/// Unicode version of the printable table (unicodedata.unidata_version of the generator).
std::string_view printable_table_unicode_version() noexcept;

/// Appends `cp` as UTF-8; surrogates are written as their 3-byte form (never by repr).
void append_utf8(std::string& out, char32_t cp);
/// Number of code points in valid UTF-8 text (Python's len() of the decoded str).
std::size_t count_code_points(std::string_view utf8) noexcept;

/// repr(str) as UTF-8, e.g. 'a\n', "it's", '\ud800'.
std::string repr_str(std::u32string_view text);
/// repr(bytes), e.g. b'\x00abc'.
std::string repr_bytes(std::string_view bytes);
/// repr(bytearray), e.g. bytearray(b"\\'"): unlike bytes, CPython's bytearray repr escapes '
/// even when it quotes with ".
std::string repr_bytearray(std::string_view bytes);
/// repr(float), e.g. 1e+16, 1e-05, 123.0, inf, nan, -0.0.
std::string repr_float(double value);
/// repr(int) of a little-endian two's-complement integer (pickle's LONG1/LONG4 payload).
/// Returns false (and leaves `out` alone) if it has more than kIntMaxStrDigits digits.
bool repr_int_le(std::string_view le_bytes, std::string& out);

}  // namespace ouro::pickle::detail
