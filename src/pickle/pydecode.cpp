// CPython 3.11's int(), float(), escape_decode and codecs, as pickletools meets them.
// Each function cites the CPython routine whose acceptance rules and messages it follows.
#include "pickle/pydecode.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <span>

#include "pickle/opcodes.h"
#include "pickle/pyrepr.h"
#include "value/float_format.h"
#include "value/unicode.h"

namespace ouro::pickle::detail {
namespace {

[[noreturn]] void throw_value_error(const std::string& message) {
  throw OpcodeError("ValueError", message);
}

// UnicodeDecodeError.__str__: one byte is named by value, a longer range by positions.
[[noreturn]] void throw_decode_error(std::string_view codec, std::string_view bytes,
                                     std::size_t start, std::size_t end, std::string_view reason) {
  std::string message;
  if (end == start + 1) {
    message = fmt::format("'{}' codec can't decode byte 0x{:02x} in position {}: {}", codec,
                          static_cast<unsigned char>(bytes[start]), start, reason);
  } else {
    message = fmt::format("'{}' codec can't decode bytes in position {}-{}: {}", codec, start,
                          end - 1, reason);
  }
  throw OpcodeError("UnicodeDecodeError", message);
}

// Py_ISSPACE: the six ASCII whitespace characters.
bool is_py_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 16;
}

// _PyLong_FromBytes: repr of at most 200 bytes, then %.200R cuts the repr to 200 chars.
[[noreturn]] void throw_invalid_int(std::string_view text) {
  std::string shown = repr_bytes(text.substr(0, 200)).substr(0, 200);
  throw_value_error("invalid literal for int() with base 10: " + shown);
}

// _Py_string_to_number_with_underscores: an underscore must sit between two digits.
// Writes the text without its underscores to `out` (room for text.size()); returns the
// length, or npos for a misplaced underscore.
std::size_t remove_float_underscores(std::string_view text, char* out) noexcept {
  std::size_t size = 0;
  char prev = '\0';
  for (char c : text) {
    if (c == '_') {
      if (!is_digit(prev)) return std::string_view::npos;
    } else {
      if (prev == '_' && !is_digit(c)) return std::string_view::npos;
      out[size++] = c;
    }
    prev = c;
  }
  return prev == '_' ? std::string_view::npos : size;
}

bool match_nocase(std::string_view text, std::size_t pos, std::string_view word) {
  if (text.size() - pos < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    char c = text[pos + i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != word[i]) return false;
  }
  return true;
}

// _Py_parse_inf_or_nan: [sign] inf | infinity | nan, any case. Returns chars consumed (0: none).
std::size_t parse_inf_or_nan(std::string_view text, double& value) {
  std::size_t pos = 0;
  const bool negative = !text.empty() && text[0] == '-';
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) pos = 1;
  if (match_nocase(text, pos, "inf")) {
    pos += match_nocase(text, pos + 3, "inity") ? 8 : 3;
    value = negative ? -std::numeric_limits<double>::infinity()
                     : std::numeric_limits<double>::infinity();
    return pos;
  }
  if (match_nocase(text, pos, "nan")) {
    value = std::copysign(std::numeric_limits<double>::quiet_NaN(), negative ? -1.0 : 1.0);
    return pos + 3;
  }
  return 0;
}

std::size_t skip_digits(std::string_view text, std::size_t pos) {
  while (pos < text.size() && is_digit(text[pos])) ++pos;
  return pos;
}

// Saturating value of a run of decimal digits (an exponent); enough to tell huge from small.
long long saturated_value(std::string_view digits) {
  long long value = 0;
  for (char c : digits) value = std::min(value * 10 + (c - '0'), 1000000000000LL);
  return value;
}

// The syntax _Py_dg_strtod accepts: [sign] digits [. digits] [e [sign] digits], with at
// least one mantissa digit; an exponent without digits is left unconsumed. Returns the
// length of the longest valid prefix (0: none) and whether the magnitude is at least 1,
// which decides overflow against underflow when the value is out of range.
std::size_t scan_decimal_float(std::string_view text, bool& at_least_one) {
  std::size_t pos = (!text.empty() && (text[0] == '-' || text[0] == '+')) ? 1 : 0;
  const std::size_t int_begin = pos;
  pos = skip_digits(text, pos);
  const std::string_view int_part = text.substr(int_begin, pos - int_begin);
  std::string_view frac_part;
  if (pos < text.size() && text[pos] == '.') {
    const std::size_t frac_begin = pos + 1;
    pos = skip_digits(text, frac_begin);
    frac_part = text.substr(frac_begin, pos - frac_begin);
  }
  if (int_part.empty() && frac_part.empty()) return 0;
  // Decimal exponent of the leading significant digit, before the written exponent.
  long long lead = 0;
  const std::size_t int_first = int_part.find_first_not_of('0');
  if (int_first != std::string_view::npos) {
    lead = static_cast<long long>(int_part.size() - int_first) - 1;
  } else {
    lead =
        -static_cast<long long>(std::min(frac_part.find_first_not_of('0'), frac_part.size())) - 1;
  }
  long long exponent = 0;
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    std::size_t exp_pos = pos + 1;
    bool exp_negative = false;
    if (exp_pos < text.size() && (text[exp_pos] == '-' || text[exp_pos] == '+')) {
      exp_negative = text[exp_pos] == '-';
      ++exp_pos;
    }
    const std::size_t exp_end = skip_digits(text, exp_pos);
    if (exp_end > exp_pos) {
      exponent = saturated_value(text.substr(exp_pos, exp_end - exp_pos));
      if (exp_negative) exponent = -exponent;
      pos = exp_end;
    }
  }
  at_least_one = lead + exponent >= 0;
  return pos;
}

// _PyOS_ascii_strtod on an already validated prefix: correctly rounded, ±inf on overflow and
// ±0 on underflow, as CPython's dtoa gives.
double convert_decimal_float(std::string_view number, bool at_least_one) {
  const bool negative = number[0] == '-';
  if (number[0] == '-' || number[0] == '+') number.remove_prefix(1);
  double value = 0.0;
  if (value::detail::decimal_to_double(number, value) == std::errc::result_out_of_range) {
    value = at_least_one ? std::numeric_limits<double>::infinity() : 0.0;
  }
  return negative ? -value : value;
}

// float_from_string_inner: strip whitespace, parse, require the whole text to be used.
bool parse_float_inner(std::string_view text, double& value) {
  while (!text.empty() && is_py_space(text.front())) text.remove_prefix(1);
  if (text.empty()) return false;
  while (text.size() > 1 && is_py_space(text.back())) text.remove_suffix(1);
  bool at_least_one = false;
  const std::size_t used = scan_decimal_float(text, at_least_one);
  if (used > 0) {
    value = convert_decimal_float(text.substr(0, used), at_least_one);
    return used == text.size();
  }
  return parse_inf_or_nan(text, value) == text.size();
}

// One step of _PyBytes_DecodeEscape after a backslash; `pos` is just past the backslash.
void decode_one_escape(std::string_view text, std::size_t& pos, std::string& out) {
  const std::size_t backslash = pos - 1;
  const char c = text[pos++];
  switch (c) {
    case '\n':
      return;
    case '\\':
      out += '\\';
      return;
    case '\'':
      out += '\'';
      return;
    case '"':
      out += '"';
      return;
    case 'b':
      out += '\b';
      return;
    case 'f':
      out += '\f';
      return;
    case 't':
      out += '\t';
      return;
    case 'n':
      out += '\n';
      return;
    case 'r':
      out += '\r';
      return;
    case 'v':
      out += '\v';
      return;
    case 'a':
      out += '\a';
      return;
    default:
      break;
  }
  if (c >= '0' && c <= '7') {
    int value = c - '0';
    for (int extra = 0; extra < 2 && pos < text.size() && text[pos] >= '0' && text[pos] <= '7';
         ++extra) {
      value = value * 8 + (text[pos++] - '0');
    }
    out += static_cast<char>(value & 0xFF);  // values above 0o377 wrap, as in CPython 3.11
    return;
  }
  if (c == 'x') {
    if (pos + 1 < text.size() && hex_value(text[pos]) < 16 && hex_value(text[pos + 1]) < 16) {
      out += static_cast<char>(hex_value(text[pos]) * 16 + hex_value(text[pos + 1]));
      pos += 2;
      return;
    }
    throw_value_error(fmt::format("invalid \\x escape at position {}", backslash));
  }
  out += '\\';  // unknown escapes stay as written (CPython only warns)
  --pos;
}

// utf8_decode's error classification at `pos` (stringlib/codecs.h). Returns the number of
// bytes of a valid sequence and sets `cp`, or 0 with `reason` and `bad_end` filled in.
std::size_t classify_utf8(std::string_view s, std::size_t pos, char32_t& cp,
                          std::string_view& reason, std::size_t& bad_end) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[pos + i]); };
  auto cont = [&](std::size_t i) { return (byte(i) & 0xC0) == 0x80; };
  const std::size_t avail = s.size() - pos;
  const unsigned lead = byte(0);
  auto fail = [&](std::string_view why, std::size_t length) {
    reason = why;
    bad_end = pos + length;
    return std::size_t{0};
  };
  auto truncated = [&]() { return fail("unexpected end of data", avail); };
  if (lead < 0xC2 || lead > 0xF4) return fail("invalid start byte", 1);
  if (lead < 0xE0) {
    if (avail < 2) return truncated();
    if (!cont(1)) return fail("invalid continuation byte", 1);
    cp = ((lead & 0x1Fu) << 6) | (byte(1) & 0x3Fu);
    return 2;
  }
  if (lead < 0xF0) {
    if (avail < 2) return truncated();
    const bool bad2 = !cont(1) || (byte(1) < 0xA0 ? lead == 0xE0 : lead == 0xED);
    if (bad2) return fail("invalid continuation byte", 1);
    if (avail < 3) return truncated();
    if (!cont(2)) return fail("invalid continuation byte", 2);
    cp = ((lead & 0x0Fu) << 12) | ((byte(1) & 0x3Fu) << 6) | (byte(2) & 0x3Fu);
    return 3;
  }
  if (avail < 2) return truncated();
  const bool bad2 = !cont(1) || (byte(1) < 0x90 ? lead == 0xF0 : lead == 0xF4);
  if (bad2) return fail("invalid continuation byte", 1);
  if (avail < 3) return truncated();
  if (!cont(2)) return fail("invalid continuation byte", 2);
  if (avail < 4) return truncated();
  if (!cont(3)) return fail("invalid continuation byte", 3);
  cp = ((lead & 0x07u) << 18) | ((byte(1) & 0x3Fu) << 12) | ((byte(2) & 0x3Fu) << 6) |
       (byte(3) & 0x3Fu);
  return 4;
}

// PyCodec_SurrogatePassErrors for UTF-8: a 3-byte form of U+D800..U+DFFF at `pos`.
bool encoded_surrogate_at(std::string_view s, std::size_t pos, char32_t& cp) {
  if (s.size() - pos < 3) return false;
  const auto b0 = static_cast<unsigned char>(s[pos]);
  const auto b1 = static_cast<unsigned char>(s[pos + 1]);
  const auto b2 = static_cast<unsigned char>(s[pos + 2]);
  if ((b0 & 0xF0) != 0xE0 || (b1 & 0xC0) != 0x80 || (b2 & 0xC0) != 0x80) return false;
  cp = ((b0 & 0x0Fu) << 12) | ((b1 & 0x3Fu) << 6) | (b2 & 0x3Fu);
  return cp >= 0xD800 && cp <= 0xDFFF;
}

// Reads the hex digits of a \u or \U escape; `pos` is past the letter. Throws on error.
char32_t read_unicode_escape(std::string_view bytes, std::size_t start, std::size_t& pos,
                             int count) {
  const char* truncated = count == 4 ? "truncated \\uXXXX escape" : "truncated \\UXXXXXXXX escape";
  std::uint32_t value = 0;
  for (; count > 0; --count, ++pos) {
    if (pos >= bytes.size() || hex_value(bytes[pos]) >= 16) {
      throw_decode_error("rawunicodeescape", bytes, start, pos, truncated);
    }
    value = (value << 4) | static_cast<std::uint32_t>(hex_value(bytes[pos]));
  }
  if (value > 0x10FFFF) {
    throw_decode_error("rawunicodeescape", bytes, start, pos, "\\Uxxxxxxxx out of range");
  }
  return value;
}

// str(bytes, "raw-unicode-escape"), one code point at a time: \\uXXXX and \\UXXXXXXXX
// escapes, other bytes as latin-1 (a decoder for either output form, with no copy).
template <class Emit>
void for_each_raw_unicode_escape(std::string_view bytes, Emit emit) {
  for (std::size_t pos = 0; pos < bytes.size();) {
    const auto c = static_cast<unsigned char>(bytes[pos++]);
    if (c != '\\' || pos == bytes.size()) {
      emit(static_cast<char32_t>(c));
      continue;
    }
    const char kind = bytes[pos++];
    if (kind == 'u' || kind == 'U') {
      emit(read_unicode_escape(bytes, pos - 2, pos, kind == 'u' ? 4 : 8));
    } else {
      emit(U'\\');  // any other escape is kept as written, backslash included
      emit(static_cast<char32_t>(static_cast<unsigned char>(kind)));
    }
  }
}

}  // namespace

IntText parse_python_int(std::string_view text, char* out) noexcept {
  IntText result;
  // PyLong_FromString reads a C string: it stops at a NUL, which _PyLong_FromBytes rejects.
  const std::string_view c_text = text.substr(0, text.find('\0'));
  std::size_t pos = 0;
  while (pos < c_text.size() && is_py_space(c_text[pos])) ++pos;
  bool negative = false;
  if (pos < c_text.size() && (c_text[pos] == '+' || c_text[pos] == '-')) {
    negative = c_text[pos++] == '-';
  }
  if (pos < c_text.size() && c_text[pos] == '_') return result;
  // The digits go to out[1..] (out[0] is kept for a sign), leading zeros skipped.
  std::size_t size = 1;
  char prev = '\0';
  for (; pos < c_text.size() && (is_digit(c_text[pos]) || c_text[pos] == '_'); ++pos) {
    if (c_text[pos] == '_' && prev == '_') return result;
    if (c_text[pos] != '_') {
      ++result.digits;
      if (size > 1 || c_text[pos] != '0') out[size++] = c_text[pos];
    }
    prev = c_text[pos];
  }
  if (prev == '_') return result;
  if (result.digits > kIntMaxStrDigits) {
    result.status = IntText::kTooManyDigits;
    return result;
  }
  while (pos < c_text.size() && is_py_space(c_text[pos])) ++pos;
  if (result.digits == 0 || pos != c_text.size() || c_text.size() != text.size()) return result;
  result.status = IntText::kValid;
  if (size == 1) {  // all zeros
    out[0] = '0';
    result.size = 1;
  } else if (negative) {
    out[0] = '-';
    result.size = size;
  } else {
    std::memmove(out, out + 1, size - 1);
    result.size = size - 1;
  }
  return result;
}

std::string parse_python_int(std::string_view text) {
  std::string out(text.size() + 1, '\0');
  const IntText parsed = parse_python_int(text, out.data());
  if (parsed.status == IntText::kTooManyDigits) {
    throw_value_error(
        fmt::format(fmt::runtime(kIntDigitsLimitFormat), kIntMaxStrDigits, parsed.digits));
  }
  if (parsed.status != IntText::kValid) throw_invalid_int(text);
  out.resize(parsed.size);
  return out;
}

bool parse_python_float(std::string_view text, double& value) {
  if (text.find('_') == std::string_view::npos) return parse_float_inner(text, value);
  // Underscores (no pickler writes them): the text without them, on the stack when short.
  std::array<char, 64> small;
  std::string large;
  char* out = small.data();
  if (text.size() > small.size()) {
    large.resize(text.size());
    out = large.data();
  }
  const std::size_t size = remove_float_underscores(text, out);
  return size != std::string_view::npos && parse_float_inner({out, size}, value);
}

double parse_python_float(std::string_view text) {
  double value = 0.0;
  if (!parse_python_float(text, value)) {
    throw_value_error("could not convert string to float: " + repr_bytes(text));
  }
  return value;
}

std::string escape_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    if (text[pos] != '\\') {
      out += text[pos++];
      continue;
    }
    if (++pos == text.size()) throw_value_error("Trailing \\ in string");
    decode_one_escape(text, pos, out);
  }
  return out;
}

std::u32string decode_ascii(std::string_view bytes) {
  std::u32string out;
  out.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto byte = static_cast<unsigned char>(bytes[i]);
    if (byte >= 0x80) throw_decode_error("ascii", bytes, i, i + 1, "ordinal not in range(128)");
    out += static_cast<char32_t>(byte);
  }
  return out;
}

std::u32string decode_latin1(std::string_view bytes) {
  std::u32string out;
  out.reserve(bytes.size());
  for (char c : bytes) out += static_cast<char32_t>(static_cast<unsigned char>(c));
  return out;
}

std::u32string decode_raw_unicode_escape(std::string_view bytes) {
  std::u32string out;
  out.reserve(bytes.size());
  for_each_raw_unicode_escape(bytes, [&out](char32_t cp) { out += cp; });
  return out;
}

std::size_t decode_raw_unicode_escape_utf8(std::string_view bytes, char* out) {
  std::size_t size = 0;
  for_each_raw_unicode_escape(bytes, [&](char32_t cp) {
    size += value::detail::encode_code_point(cp, std::span<char, value::detail::kMaxUtf8Length>(
                                                     out + size, value::detail::kMaxUtf8Length));
  });
  return size;
}

std::u32string decode_utf8_surrogatepass(std::string_view bytes) {
  std::u32string out;
  out.reserve(bytes.size());
  for (std::size_t pos = 0; pos < bytes.size();) {
    const auto lead = static_cast<unsigned char>(bytes[pos]);
    if (lead < 0x80) {
      out += static_cast<char32_t>(lead);
      ++pos;
      continue;
    }
    char32_t cp = 0;
    std::string_view reason;
    std::size_t bad_end = 0;
    if (const std::size_t used = classify_utf8(bytes, pos, cp, reason, bad_end)) {
      out += cp;
      pos += used;
    } else if (encoded_surrogate_at(bytes, pos, cp)) {
      out += cp;
      pos += 3;
    } else {
      throw_decode_error("utf-8", bytes, pos, bad_end, reason);
    }
  }
  return out;
}

}  // namespace ouro::pickle::detail
