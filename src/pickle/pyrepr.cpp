// Python repr() of str, bytes, float and int, matching CPython 3.11 byte for byte.
// See pyrepr.h for why these exist here.
#include "pickle/pyrepr.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace ouro::pickle::detail {
namespace {

struct CodePointRange {
  char32_t first;
  char32_t last;
};

// Ranges of printable code points, generated from the oracle interpreter.
constexpr CodePointRange kPrintable[] = {
#include "pickle/unicode_printable.inc"
};

constexpr char kHexDigits[] = "0123456789abcdef";

void append_hex(std::string& out, std::uint32_t value, int digits) {
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4)
    out += kHexDigits[(value >> shift) & 0xF];
}

// Python picks double quotes only when the text has a single quote and no double quote.
template <typename Text>
char choose_quote(const Text& text) {
  bool has_single = false;
  bool has_double = false;
  for (auto ch : text) {
    has_single = has_single || ch == '\'';
    has_double = has_double || ch == '"';
  }
  return has_single && !has_double ? '"' : '\'';
}

// Escapes shared by str and bytes repr; returns false if `ch` needs no special form.
bool append_common_escape(std::string& out, char32_t ch, char quote) {
  if (ch == static_cast<char32_t>(quote) || ch == '\\') {
    out += '\\';
    out += static_cast<char>(ch);
  } else if (ch == '\t') {
    out += "\\t";
  } else if (ch == '\n') {
    out += "\\n";
  } else if (ch == '\r') {
    out += "\\r";
  } else if (ch < ' ' || ch == 0x7F) {
    out += "\\x";
    append_hex(out, ch, 2);
  } else {
    return false;
  }
  return true;
}

// Splits fmt's shortest round-trip text into significant digits and Python's `decpt`
// (value = 0.DIGITS * 10**decpt). An empty digit string means zero.
void shortest_digits(double magnitude, std::string& digits, long& decpt) {
  const std::string text = fmt::format("{}", magnitude);
  const std::size_t e_pos = text.find('e');
  const std::string mantissa = text.substr(0, e_pos);
  const long exponent = e_pos == std::string::npos ? 0 : std::stol(text.substr(e_pos + 1));
  const std::size_t dot = mantissa.find('.');
  decpt = static_cast<long>(dot == std::string::npos ? mantissa.size() : dot) + exponent;
  for (char c : mantissa) {
    if (c != '.') digits += c;
  }
  const std::size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) {
    digits.clear();
    return;
  }
  digits.erase(0, first);
  decpt -= static_cast<long>(first);
  digits.erase(digits.find_last_not_of('0') + 1);
}

// float_repr_style 'short': exponent form when decpt <= -4 or decpt > 16 (Python/pystrtod.c).
std::string layout_float(const std::string& digits, long decpt) {
  std::string out;
  if (decpt <= -4 || decpt > 16) {
    out += digits[0];
    if (digits.size() > 1) out += "." + digits.substr(1);
    const long exponent = decpt - 1;
    out += fmt::format("e{}{:02d}", exponent < 0 ? '-' : '+', exponent < 0 ? -exponent : exponent);
  } else if (decpt <= 0) {
    out += "0." + std::string(static_cast<std::size_t>(-decpt), '0') + digits;
  } else if (static_cast<std::size_t>(decpt) >= digits.size()) {
    out += digits + std::string(static_cast<std::size_t>(decpt) - digits.size(), '0') + ".0";
  } else {
    out += digits.substr(0, static_cast<std::size_t>(decpt)) + "." +
           digits.substr(static_cast<std::size_t>(decpt));
  }
  return out;
}

// Magnitude of a little-endian two's-complement number as little-endian 32-bit limbs.
std::vector<std::uint32_t> magnitude_limbs(std::string_view le_bytes, bool& negative) {
  negative = !le_bytes.empty() && (static_cast<unsigned char>(le_bytes.back()) & 0x80) != 0;
  std::vector<std::uint32_t> limbs((le_bytes.size() + 3) / 4, 0);
  unsigned carry = 1;  // negation is "invert and add one"
  for (std::size_t i = 0; i < le_bytes.size(); ++i) {
    unsigned byte = static_cast<unsigned char>(le_bytes[i]);
    if (negative) {
      byte = (~byte & 0xFF) + carry;
      carry = byte >> 8;
      byte &= 0xFF;
    }
    limbs[i / 4] |= static_cast<std::uint32_t>(byte) << (8 * (i % 4));
  }
  while (!limbs.empty() && limbs.back() == 0) limbs.pop_back();
  return limbs;
}

std::size_t bit_length(const std::vector<std::uint32_t>& limbs) {
  if (limbs.empty()) return 0;
  std::size_t bits = 32 * (limbs.size() - 1);
  for (std::uint32_t top = limbs.back(); top != 0; top >>= 1) ++bits;
  return bits;
}

// Schoolbook base-1e9 conversion; callers bound the size, so quadratic time is fine.
std::string limbs_to_decimal(std::vector<std::uint32_t> limbs) {
  if (limbs.empty()) return "0";
  std::vector<std::uint32_t> chunks;  // base 1e9, least significant first
  while (!limbs.empty()) {
    std::uint64_t rem = 0;
    for (std::size_t i = limbs.size(); i-- > 0;) {
      const std::uint64_t cur = (rem << 32) | limbs[i];
      limbs[i] = static_cast<std::uint32_t>(cur / 1000000000u);
      rem = cur % 1000000000u;
    }
    chunks.push_back(static_cast<std::uint32_t>(rem));
    while (!limbs.empty() && limbs.back() == 0) limbs.pop_back();
  }
  std::string out = fmt::format("{}", chunks.back());
  for (std::size_t i = chunks.size() - 1; i-- > 0;) out += fmt::format("{:09d}", chunks[i]);
  return out;
}

}  // namespace

std::string int_to_str_limit_message() {
  return fmt::format(
      "Exceeds the limit ({} digits) for integer string conversion; use "
      "sys.set_int_max_str_digits() to increase the limit",
      kIntMaxStrDigits);
}

bool is_printable(char32_t cp) noexcept {
  const auto* it =
      std::upper_bound(std::begin(kPrintable), std::end(kPrintable), cp,
                       [](char32_t c, const CodePointRange& r) { return c < r.first; });
  return it != std::begin(kPrintable) && cp <= (it - 1)->last;
}

std::string_view printable_table_unicode_version() noexcept {
  return OURO_UNICODE_PRINTABLE_VERSION;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::size_t count_code_points(std::string_view utf8) noexcept {
  return static_cast<std::size_t>(std::count_if(utf8.begin(), utf8.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string repr_str(std::u32string_view text) {
  const char quote = choose_quote(text);
  std::string out(1, quote);
  for (char32_t ch : text) {
    if (append_common_escape(out, ch, quote)) continue;
    if (ch < 0x7F || is_printable(ch)) {
      append_utf8(out, ch);
    } else if (ch <= 0xFF) {
      out += "\\x";
      append_hex(out, ch, 2);
    } else if (ch <= 0xFFFF) {
      out += "\\u";
      append_hex(out, ch, 4);
    } else {
      out += "\\U";
      append_hex(out, ch, 8);
    }
  }
  out += quote;
  return out;
}

std::string repr_bytes(std::string_view bytes) {
  const char quote = choose_quote(bytes);
  std::string out = "b";
  out += quote;
  for (char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (append_common_escape(out, byte, quote)) continue;
    if (byte >= 0x80) {
      out += "\\x";
      append_hex(out, byte, 2);
    } else {
      out += c;
    }
  }
  out += quote;
  return out;
}

std::string repr_float(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  const std::string sign = std::signbit(value) ? "-" : "";
  std::string digits;
  long decpt = 0;
  shortest_digits(std::fabs(value), digits, decpt);
  if (digits.empty()) return sign + "0.0";
  return sign + layout_float(digits, decpt);
}

bool repr_int_le(std::string_view le_bytes, std::string& out) {
  // 2**14400 already has 4335 digits, so anything longer is refused without converting it;
  // shorter values are converted and their exact length checked.
  constexpr std::size_t kMaxBitsToConvert = 14400;
  bool negative = false;
  std::vector<std::uint32_t> limbs = magnitude_limbs(le_bytes, negative);
  if (bit_length(limbs) > kMaxBitsToConvert) return false;
  std::string digits = limbs_to_decimal(std::move(limbs));
  if (digits.size() > kIntMaxStrDigits) return false;
  out = (negative ? "-" : "") + digits;
  return true;
}

}  // namespace ouro::pickle::detail
