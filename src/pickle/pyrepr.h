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

#include "ouro/config.h"

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
/// The quote repr(str) and repr(bytes) pick: ' unless the text has a ' and no ".
char repr_quote(std::string_view text) noexcept;
#if !OURO_BARE_METAL  // used by dis, a host tool
/// Most characters write_bytes_repr_body writes per input byte (\xhh).
inline constexpr std::size_t kMaxBytesReprPerByte = 4;
/// Writes repr_bytes (or repr_bytearray) of `bytes` without its prefix, quotes and ')',
/// escaping for `quote`, to `out` (room for kMaxBytesReprPerByte * bytes.size()), and returns
/// the characters written. A long payload can be written in pieces (any split), with the
/// quote chosen once for the whole payload: dis of a 100 MiB array does so at memory speed.
std::size_t write_bytes_repr_body(char* out, std::string_view bytes, char quote, bool bytearray);
#endif
/// repr(float), e.g. 1e+16, 1e-05, 123.0, inf, nan, -0.0.
std::string repr_float(double value);
/// repr(int) of a little-endian two's-complement integer (pickle's LONG1/LONG4 payload).
/// Returns false (and leaves `out` alone) if it has more than kIntMaxStrDigits digits.
bool repr_int_le(std::string_view le_bytes, std::string& out);

}  // namespace ouro::pickle::detail
