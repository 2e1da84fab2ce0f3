// Python's str.encode and bytes.decode for the three codecs embedded code meets: UTF-8,
// latin-1 and ASCII, with the error handlers strict, ignore, replace, backslashreplace,
// surrogateescape and surrogatepass, and CPython 3.11's exact error messages (the error
// ranges included: UTF-8 reports a run of surrogates, ASCII a run of non-ASCII characters,
// as CPython's encoders do).
//
// Invariants kept here (DESIGN.md): I7 — the result is built in the heap of its input; the
// codec measures its output first, so no byte is allocated outside the heap.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "ouro/value/core.h"

namespace ouro {

/// Python's UnicodeEncodeError: a character the codec cannot represent. `what()` is
/// CPython's text, e.g. "'ascii' codec can't encode character '\xe9' in position 3: ordinal
/// not in range(128)"; start() and end() are code-point positions of the failing run.
class UnicodeEncodeError : public ValueError {
 public:
  UnicodeEncodeError(const std::string& message, std::size_t start, std::size_t end)
      : ValueError(message), start_(start), end_(end) {}
  const char* python_type() const noexcept override { return "UnicodeEncodeError"; }
  std::size_t start() const noexcept { return start_; }  ///< first failing code point
  std::size_t end() const noexcept { return end_; }      ///< one past the last

 private:
  std::size_t start_;
  std::size_t end_;
};

/// s.encode(encoding, errors) for a str: a bytes object in the str's heap. Encodings:
/// "utf-8", "latin-1", "ascii" and Python's aliases ("utf8", "latin1", "iso-8859-1",
/// "us-ascii", any case, '-' or '_'). Throws TypeError (not a str), LookupError ("unknown
/// encoding: x", or "unknown error handler name 'x'" when a handler is needed),
/// UnicodeEncodeError.
///
///     ouro::Value b = ouro::encode("h\u00e9", "latin-1");      // b'h\xe9'
///     ouro::encode("h\u00e9", "ascii", "replace");              // b'h?'
Value encode(const Value& str, std::string_view encoding = "utf-8",
             std::string_view errors = "strict");

/// b.decode(encoding, errors) for a bytes or bytearray: a str in the input's heap. Same
/// encodings and handlers as encode. Throws TypeError, LookupError, UnicodeDecodeError with
/// CPython's message ("'utf-8' codec can't decode byte 0xff in position 0: invalid start
/// byte").
///
///     ouro::decode(ouro::bytes("caf\xc3\xa9")).as<std::string_view>() == "caf\u00e9"
Value decode(const Value& bytes, std::string_view encoding = "utf-8",
             std::string_view errors = "strict");

}  // namespace ouro
