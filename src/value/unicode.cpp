// UTF-8-with-surrogates scanning and Python's repr() of str and bytes. The escaping rules
// follow unicode_repr() in Objects/unicodeobject.c and PyBytes_Repr() in
// Objects/bytesobject.c; printability comes from the generated unicode_tables.inc.
#include "value/unicode.h"

#include <algorithm>
#include <cstring>
#include <iterator>

namespace ouro::value::detail {
namespace generated {
#include "value/unicode_tables.inc"
}  // namespace generated

const std::string_view kUnicodeVersion = generated::kUnicodeVersion;

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

/// Byte `i` of `s` as an unsigned value.
unsigned char byte_at(std::string_view s, std::size_t i) noexcept {
  return static_cast<unsigned char>(s[i]);
}

/// A UTF-8 continuation byte (10xxxxxx).
bool is_continuation(unsigned char b) noexcept { return (b & 0xC0) == 0x80; }

/// Length of the well-formed sequence that starts at `i`, or 0 when the bytes there are
/// not one (stray continuation, bad lead, bad or missing continuation). The bounds of the
/// second byte are what rule out overlong forms and values above U+10FFFF; E0..EF take
/// the full 80..BF so that surrogates (ED A0..BF) pass.
std::size_t sequence_length(std::string_view s, std::size_t i) noexcept {
  unsigned char lead = byte_at(s, i);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (s.size() - i < length) return 0;
  unsigned char second = byte_at(s, i + 1);
  if (second < low || second > high) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (!is_continuation(byte_at(s, i + k))) return 0;
  }
  return length;
}

/// Number of leading bytes of s[i..] that are ASCII, checked eight at a time.
std::size_t ascii_run(std::string_view s, std::size_t i) noexcept {
  std::size_t start = i;
  constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
  for (; s.size() - i >= 8; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, s.data() + i, 8);
    if (word & kHighBits) break;
  }
  while (i < s.size() && byte_at(s, i) < 0x80) ++i;
  return i - start;
}

/// Appends a backslash escape of `value` with `width` hex digits after `prefix`.
void append_hex_escape(std::string& out, char prefix, std::uint32_t value, int width) {
  out += '\\';
  out += prefix;
  for (int shift = 4 * (width - 1); shift >= 0; shift -= 4)
    out += kHexDigits[(value >> shift) & 0xF];
}

/// Appends an ASCII character (code < 0x80) as both reprs write it, or returns false
/// when it needs no escape so that the caller can copy it as is.
bool append_ascii_escape(std::string& out, unsigned char c, char quote) {
  switch (c) {
    case '\\':
      out += "\\\\";
      return true;
    case '\t':
      out += "\\t";
      return true;
    case '\n':
      out += "\\n";
      return true;
    case '\r':
      out += "\\r";
      return true;
    default:
      break;
  }
  if (c == static_cast<unsigned char>(quote)) {
    out += '\\';
    out += quote;
    return true;
  }
  if (c < 0x20 || c == 0x7F) {
    append_hex_escape(out, 'x', c, 2);
    return true;
  }
  return false;
}

/// Appends the escape for a non-ASCII code point that is not printable.
void append_code_point_escape(std::string& out, char32_t cp) {
  if (cp <= 0xFF) {
    append_hex_escape(out, 'x', cp, 2);
  } else if (cp <= 0xFFFF) {
    append_hex_escape(out, 'u', cp, 4);
  } else {
    append_hex_escape(out, 'U', cp, 8);
  }
}

}  // namespace

char repr_quote(std::string_view text) noexcept {
  bool single = text.find('\'') != std::string_view::npos;
  bool dbl = text.find('"') != std::string_view::npos;
  return single && !dbl ? '"' : '\'';
}

Utf8Scan scan_utf8(std::string_view bytes) noexcept {
  Utf8Scan scan;
  std::size_t i = 0;
  while (i < bytes.size()) {
    std::size_t run = ascii_run(bytes, i);
    i += run;
    scan.code_points += run;
    if (i == bytes.size()) break;
    std::size_t length = sequence_length(bytes, i);
    if (length == 0) return Utf8Scan{false, i, 0};
    i += length;
    ++scan.code_points;
  }
  return scan;
}

std::size_t count_code_points(std::string_view text) noexcept {
  // In valid text every byte that is not a continuation byte starts one code point.
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return !is_continuation(static_cast<unsigned char>(c));
  }));
}

char32_t decode_code_point(std::string_view text, std::size_t& pos) noexcept {
  unsigned char lead = byte_at(text, pos++);
  if (lead < 0x80) return lead;
  int extra = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1;
  char32_t cp = lead & (0x3F >> extra);
  for (int k = 0; k < extra; ++k) cp = (cp << 6) | (byte_at(text, pos++) & 0x3F);
  return cp;
}

std::size_t encoded_length(char32_t cp) noexcept {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

std::size_t encode_code_point(char32_t cp, std::span<char, kMaxUtf8Length> out) noexcept {
  std::size_t length = encoded_length(cp);
  if (length == 1) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  static constexpr unsigned char kLeadMarks[] = {0, 0, 0xC0, 0xE0, 0xF0};
  for (std::size_t k = length - 1; k > 0; --k) {
    out[k] = static_cast<char>(0x80 | (cp & 0x3F));
    cp >>= 6;
  }
  out[0] = static_cast<char>(kLeadMarks[length] | cp);
  return length;
}

bool is_printable(char32_t cp) noexcept {
  if (cp < 0x80) return cp >= 0x20 && cp < 0x7F;
  const auto& table = generated::kPrintableRanges;
  // The last range whose first code point is <= cp is the only one that can hold it.
  auto after = std::upper_bound(std::begin(table), std::end(table), cp,
                                [](char32_t c, const CodePointRange& r) { return c < r.first; });
  return after != std::begin(table) && cp <= std::prev(after)->last;
}

void append_str_repr_body(std::string& out, std::string_view utf8, char quote) {
  std::size_t pos = 0;
  while (pos < utf8.size()) {
    unsigned char c = byte_at(utf8, pos);
    if (c < 0x80) {
      if (!append_ascii_escape(out, c, quote)) out += static_cast<char>(c);
      ++pos;
      continue;
    }
    std::size_t start = pos;
    char32_t cp = decode_code_point(utf8, pos);
    if (is_printable(cp)) {
      out.append(utf8.substr(start, pos - start));  // printable text is kept as it is
    } else {
      append_code_point_escape(out, cp);
    }
  }
}

std::string str_repr(std::string_view utf8) {
  char quote = repr_quote(utf8);
  std::string out;
  out.reserve(utf8.size() + 2);
  out += quote;
  append_str_repr_body(out, utf8, quote);
  out += quote;
  return out;
}

void append_bytes_repr_body(std::string& out, std::span<const std::byte> bytes, char quote,
                            bool bytearray) {
  for (std::byte b : bytes) {
    auto c = static_cast<unsigned char>(b);
    if (c >= 0x80) {
      append_hex_escape(out, 'x', c, 2);
    } else if (bytearray && c == '\'') {
      out += "\\'";  // bytearray_repr escapes ' even inside "...": b"it\'s"
    } else if (!append_ascii_escape(out, c, quote)) {
      out += static_cast<char>(c);
    }
  }
}

std::string bytes_repr(std::span<const std::byte> bytes, bool bytearray) {
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  char quote = repr_quote(text);
  std::string out;
  out.reserve(bytes.size() + (bytearray ? 14 : 3));
  out += bytearray ? "bytearray(b" : "b";
  out += quote;
  append_bytes_repr_body(out, bytes, quote, bytearray);
  out += quote;
  if (bytearray) out += ')';
  return out;
}

}  // namespace ouro::value::detail
