// Text as the value layer stores it: UTF-8 in which the surrogate code points U+D800..DFFF
// are allowed (encoded as 3-byte sequences, Python's 'surrogatepass'), so that every Python
// str, lone surrogates included, has exactly one byte form here. This file owns validating
// and walking such text, and Python 3.11's repr() of str and bytes. Internal to the value
// layer; every function is allocation-free except the repr functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace ouro::value::detail {

/// One run [first, last] of code points (used by the generated tables).
struct CodePointRange {
  char32_t first;  ///< inclusive
  char32_t last;   ///< inclusive
};

/// Largest code point (Python's sys.maxunicode).
inline constexpr char32_t kMaxCodePoint = 0x10FFFF;

/// Longest UTF-8 encoding of one code point, in bytes.
inline constexpr std::size_t kMaxUtf8Length = 4;

/// The Unicode version the isprintable() table was generated from (unicodedata.unidata_version
/// of the CPython that ran tools/gen/gen_unicode_tables.py), e.g. "14.0.0" for 3.11.
extern const std::string_view kUnicodeVersion;

/// Result of scan_utf8().
struct Utf8Scan {
  bool valid = true;             ///< every byte belongs to a well-formed sequence
  std::size_t error_offset = 0;  ///< if !valid: first byte of the first bad sequence
  std::size_t code_points = 0;   ///< if valid: number of code points (len() of the str)
};

/// Checks that `bytes` is UTF-8 with surrogates allowed: strict UTF-8 (no overlong forms,
/// nothing above U+10FFFF) except that ED A0..BF xx is accepted. On failure the offset is
/// the one CPython reports as UnicodeDecodeError.start for bytes.decode('utf-8',
/// 'surrogatepass'): the lead byte of the first sequence that is bad or cut short.
///
///     scan_utf8("a\xed\xa0\x80").code_points == 2;  scan_utf8("ab\xc0").error_offset == 2
Utf8Scan scan_utf8(std::string_view bytes) noexcept;

/// Number of code points in `text`. Precondition: scan_utf8(text).valid.
std::size_t count_code_points(std::string_view text) noexcept;

/// Decodes the code point starting at `pos` and advances `pos` past it.
/// Precondition: scan_utf8(text).valid and pos < text.size() at a sequence boundary.
///
///     std::size_t pos = 0;
///     while (pos < s.size()) { char32_t cp = decode_code_point(s, pos); ... }
char32_t decode_code_point(std::string_view text, std::size_t& pos) noexcept;

/// Number of bytes encode_code_point() writes for `cp` (1..4). Precondition: cp <= U+10FFFF.
std::size_t encoded_length(char32_t cp) noexcept;

/// Writes the UTF-8 form of `cp` (surrogates as 3 bytes) and returns its length.
/// Precondition: cp <= kMaxCodePoint.
///
///     std::array<char, kMaxUtf8Length> b;  auto n = encode_code_point(U'\u00e9', b);  // 2
std::size_t encode_code_point(char32_t cp, std::span<char, kMaxUtf8Length> out) noexcept;

/// Python's str.isprintable() for one code point (Unicode kUnicodeVersion): false for the
/// categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs other than the space U+0020.
bool is_printable(char32_t cp) noexcept;

/// The quote str and bytes reprs pick for `text`: ' unless it has a ' and no ".
char repr_quote(std::string_view text) noexcept;

/// Appends str_repr(utf8) without its quotes, escaping for `quote`. Escapes depend on one
/// code point at a time, so a long text can be written in pieces cut at code point
/// boundaries (the streaming repr does), with the quote chosen once for the whole text.
/// Precondition: scan_utf8(utf8).valid.
void append_str_repr_body(std::string& out, std::string_view utf8, char quote);

/// Appends bytes_repr(bytes, bytearray) without its prefix, quotes and ')' (any split works).
void append_bytes_repr_body(std::string& out, std::span<const std::byte> bytes, char quote,
                            bool bytearray);

/// repr(s) exactly as CPython 3.11 prints it: single quotes unless the text has a ' and no
/// ", then double quotes; \\, the quote, \t \n \r escaped; other code points below U+0100
/// that are not printable as \xhh, then \uhhhh and \Uhhhhhhhh; printable non-ASCII kept.
/// Precondition: scan_utf8(utf8).valid.
///
///     str_repr("it's\n") == "\"it's\\n\"";  str_repr("\xed\xa0\x80") == "'\\ud800'"
std::string str_repr(std::string_view utf8);

/// repr(bytes) (or repr(bytearray) when `bytearray`) exactly as CPython 3.11 prints it:
/// b'...' with the same quote rule as str, \\ \t \n \r, and \xhh below 0x20 and from 0x7f.
/// One CPython quirk is kept: bytearray's repr escapes ' even when it quotes with ".
///
///     bytes_repr(as_bytes("a'\0")) == "b\"a'\\x00\"";  // bytearray: "bytearray(b'')"
std::string bytes_repr(std::span<const std::byte> bytes, bool bytearray = false);

}  // namespace ouro::value::detail
