// CPython's text decoders as pickletools applies them to opcode arguments: int() and float()
// of a bytes line, codecs.escape_decode, and the ascii, latin-1, raw-unicode-escape and
// utf-8 (surrogatepass) codecs.
//
// pickletools reports malformed arguments with whatever exception these raise, so each
// decoder reproduces CPython 3.11's acceptance rules and its exact error message (including
// positions and the 200-character truncation int() applies). Errors are thrown as
// OpcodeError without an offset; OpcodeReader adds the opcode's offset.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ouro::pickle::detail {

/// int(b"...") in base 10: returns canonical decimal text ("-12", "0"). Throws ValueError for
/// an invalid literal or more than 4300 digits, with CPython's message.
std::string parse_python_int(std::string_view text);
/// What parse_python_int(text, out) found.
struct IntText {
  enum Status : unsigned char { kInvalid, kTooManyDigits, kValid };
  Status status = kInvalid;
  std::size_t size = 0;    // kValid: length of the canonical text in out
  std::size_t digits = 0;  // digits counted (for the kTooManyDigits message)
};
/// parse_python_int without exceptions or allocation: the canonical text into `out`, which
/// has room for text.size() + 1 chars (the canonical text is never longer).
IntText parse_python_int(std::string_view text, char* out) noexcept;
/// ValueError's message for an int of more than 4300 digits: {} limit, {} digits.
inline constexpr std::string_view kIntDigitsLimitFormat =
    "Exceeds the limit ({} digits) for integer string conversion: value has {} digits; use "
    "sys.set_int_max_str_digits() to increase the limit";
/// float(b"...") (underscores, whitespace, inf/nan spellings). Throws ValueError.
double parse_python_float(std::string_view text);
/// The same without an exception: false for an invalid literal. Allocates only for a text
/// of more than 64 characters with underscores.
bool parse_python_float(std::string_view text, double& value);
/// codecs.escape_decode(b"...")[0]: undoes a bytes literal's backslash escapes.
std::string escape_decode(std::string_view text);
/// bytes.decode("ascii"); throws UnicodeDecodeError at the first byte >= 0x80.
std::u32string decode_ascii(std::string_view bytes);
/// bytes.decode("latin-1"); never fails.
std::u32string decode_latin1(std::string_view bytes);
/// str(bytes, "raw-unicode-escape"): \uXXXX and \UXXXXXXXX escapes, other bytes as latin-1.
std::u32string decode_raw_unicode_escape(std::string_view bytes);
/// The same as UTF-8 into `out`, which has room for 2 * bytes.size() chars; returns the
/// length. Allocates nothing unless it throws.
std::size_t decode_raw_unicode_escape_utf8(std::string_view bytes, char* out);
/// str(bytes, "utf-8", "surrogatepass"): UTF-8 that may encode lone surrogates.
std::u32string decode_utf8_surrogatepass(std::string_view bytes);

}  // namespace ouro::pickle::detail
