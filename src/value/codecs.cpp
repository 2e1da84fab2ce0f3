// str.encode and bytes.decode for UTF-8, latin-1 and ASCII, following CPython 3.11's
// unicode_encode_utf8, unicode_encode_ucs1 (latin-1, ASCII) and the UTF-8, ASCII and latin-1
// decoders in Objects/unicodeobject.c and Objects/stringlib/codecs.h: the same error ranges,
// the same handler semantics and the same messages.
//
// Each codec runs twice over its input with the same code: once with a Measure sink that
// counts the output, then with a Write sink into the result's own heap block (I7: no staging
// buffer outside the heap). Errors can only happen in the first run.
#include "ouro/value/codecs.h"

#include <fmt/format.h>

#include <cstring>

#include "value/internal.h"
#include "value/unicode.h"

namespace ouro {

namespace vd = value::detail;

namespace {

enum class Codec { kUtf8, kLatin1, kAscii };

struct CodecInfo {
  Codec codec;
  std::string_view name;  // as CPython's messages spell it
};

// encodings.normalize_encoding + the aliases table, for the three codecs.
CodecInfo find_codec(std::string_view encoding) {
  std::string key;
  for (char c : encoding) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    key += (c == '-' || c == ' ') ? '_' : c;
  }
  if (key == "utf_8" || key == "utf8" || key == "u8" || key == "utf" || key == "cp65001") {
    return {Codec::kUtf8, "utf-8"};
  }
  if (key == "latin_1" || key == "latin1" || key == "latin" || key == "l1" || key == "iso_8859_1" ||
      key == "iso8859_1" || key == "8859" || key == "cp819" || key == "iso_ir_100") {
    return {Codec::kLatin1, "latin-1"};
  }
  if (key == "ascii" || key == "us_ascii" || key == "646" || key == "us") {
    return {Codec::kAscii, "ascii"};
  }
  throw LookupError(fmt::format("unknown encoding: {}", encoding));
}

enum class Handler {
  kStrict,
  kIgnore,
  kReplace,
  kBackslashReplace,
  kSurrogateEscape,
  kSurrogatePass,
  kUnknown
};

Handler find_handler(std::string_view errors) noexcept {
  if (errors == "strict") return Handler::kStrict;
  if (errors == "ignore") return Handler::kIgnore;
  if (errors == "replace") return Handler::kReplace;
  if (errors == "backslashreplace") return Handler::kBackslashReplace;
  if (errors == "surrogateescape") return Handler::kSurrogateEscape;
  if (errors == "surrogatepass") return Handler::kSurrogatePass;
  return Handler::kUnknown;
}

// Python's handler lookup happens only when an error needs a handler.
void check_handler_known(Handler handler, std::string_view errors) {
  if (handler == Handler::kUnknown) {
    throw LookupError(fmt::format("unknown error handler name '{}'", errors));
  }
}

bool is_surrogate(char32_t cp) noexcept { return cp >= 0xD800 && cp <= 0xDFFF; }

// How UnicodeEncodeError.__str__ names one character: \xhh, \uhhhh or \Uhhhhhhhh.
std::string escaped_char(char32_t cp) {
  if (cp < 0x100) return fmt::format("\\x{:02x}", static_cast<unsigned>(cp));
  if (cp < 0x10000) return fmt::format("\\u{:04x}", static_cast<unsigned>(cp));
  return fmt::format("\\U{:08x}", static_cast<unsigned>(cp));
}

// Appends the \x, \u or \U escape backslashreplace writes for one character.
template <class Emit>
void emit_backslash_escape(char32_t cp, Emit&& emit) {
  const std::string text = escaped_char(cp);
  for (char c : text) emit(static_cast<unsigned char>(c));
}

// --- encoding ---------------------------------------------------------------------------

/// A str decoded into code points once, so that error runs can be looked ahead.
struct CodePoints {
  std::string_view utf8;
  std::size_t pos = 0;  // byte offset of the next code point
  bool done() const noexcept { return pos >= utf8.size(); }
  char32_t next() noexcept { return vd::decode_code_point(utf8, pos); }
};

[[noreturn]] void throw_encode_error(const CodecInfo& info, std::string_view utf8,
                                     std::size_t start, std::size_t end, std::string_view reason) {
  if (end == start + 1) {
    std::size_t pos = 0;
    char32_t cp = 0;
    for (std::size_t i = 0; i <= start; ++i) cp = vd::decode_code_point(utf8, pos);
    throw UnicodeEncodeError(
        fmt::format("'{}' codec can't encode character '{}' in position {}: {}", info.name,
                    escaped_char(cp), start, reason),
        start, end);
  }
  throw UnicodeEncodeError(fmt::format("'{}' codec can't encode characters in position {}-{}: {}",
                                       info.name, start, end - 1, reason),
                           start, end);
}

// Runs the encoder over `utf8`, calling emit(byte) for each output byte.
template <class Emit>
void run_encoder(const CodecInfo& info, Handler handler, std::string_view errors,
                 std::string_view utf8, Emit&& emit) {
  const char32_t limit = info.codec == Codec::kAscii ? 0x80 : 0x100;
  // Which characters the codec cannot write: surrogates for UTF-8, else those past limit.
  auto unencodable = [&](char32_t cp) {
    return info.codec == Codec::kUtf8 ? is_surrogate(cp) : cp >= limit;
  };
  const std::string_view reason = info.codec == Codec::kUtf8    ? "surrogates not allowed"
                                  : info.codec == Codec::kAscii ? "ordinal not in range(128)"
                                                                : "ordinal not in range(256)";
  CodePoints text{utf8};
  std::size_t index = 0;  // code-point position of the next character
  while (!text.done()) {
    const std::size_t byte_start = text.pos;
    const char32_t cp = text.next();
    if (!unencodable(cp)) {
      if (info.codec == Codec::kUtf8) {
        for (std::size_t b = byte_start; b < text.pos; ++b) {
          emit(static_cast<unsigned char>(utf8[b]));
        }
      } else {
        emit(static_cast<unsigned char>(cp));
      }
      ++index;
      continue;
    }
    // The run of unencodable characters is one error, as in CPython's encoders.
    std::size_t end = index + 1;
    std::size_t run_pos = text.pos;
    while (run_pos < utf8.size()) {
      std::size_t p = run_pos;
      if (!unencodable(vd::decode_code_point(utf8, p))) break;
      run_pos = p;
      ++end;
    }
    check_handler_known(handler, errors);
    // Handlers that write each character: surrogateescape and surrogatepass may meet one they
    // cannot handle; the error then covers the rest of the run, as CPython reports it.
    CodePoints run{utf8, byte_start};
    for (std::size_t at = index; at < end; ++at) {
      const char32_t c = run.next();
      switch (handler) {
        case Handler::kIgnore:
          break;
        case Handler::kReplace:
          emit(static_cast<unsigned char>('?'));
          break;
        case Handler::kBackslashReplace:
          emit_backslash_escape(c, emit);
          break;
        case Handler::kSurrogateEscape:
          if (c < 0xDC80 || c > 0xDCFF) throw_encode_error(info, utf8, at, end, reason);
          emit(static_cast<unsigned char>(c - 0xDC00));
          break;
        case Handler::kSurrogatePass:
          if (info.codec != Codec::kUtf8) throw_encode_error(info, utf8, at, end, reason);
          emit(static_cast<unsigned char>(0xE0 | (c >> 12)));
          emit(static_cast<unsigned char>(0x80 | ((c >> 6) & 0x3F)));
          emit(static_cast<unsigned char>(0x80 | (c & 0x3F)));
          break;
        default:
          throw_encode_error(info, utf8, at, end, reason);
      }
    }
    text.pos = run_pos;
    index = end;
  }
}

// --- decoding ---------------------------------------------------------------------------

struct DecodeError {
  std::size_t start;
  std::size_t end;
  std::string_view reason;
};

[[noreturn]] void throw_decode_error(const CodecInfo& info, std::span<const std::byte> bytes,
                                     const DecodeError& e) {
  if (e.end == e.start + 1) {
    throw UnicodeDecodeError(
        fmt::format("'{}' codec can't decode byte 0x{:02x} in position {}: {}", info.name,
                    static_cast<unsigned>(bytes[e.start]), e.start, e.reason),
        e.start);
  }
  throw UnicodeDecodeError(fmt::format("'{}' codec can't decode bytes in position {}-{}: {}",
                                       info.name, e.start, e.end - 1, e.reason),
                           e.start);
}

// The length of the UTF-8 sequence at `pos`, or the error CPython's decoder reports there:
// an invalid start byte is one byte; a bad continuation ends the range just before it; a
// sequence cut off by the end of the data is "unexpected end of data" up to the end.
std::size_t utf8_sequence_at(std::span<const std::byte> bytes, std::size_t pos,
                             DecodeError& error) {
  const auto lead = static_cast<unsigned>(bytes[pos]);
  std::size_t length = 0;
  unsigned low = 0x80, high = 0xBF;  // the second byte's range rules out overlong forms
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;  // no surrogates (surrogatepass handles them below)
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    error = {pos, pos + 1, "invalid start byte"};
    return 0;
  }
  for (std::size_t k = 1; k < length; ++k) {
    if (pos + k >= bytes.size()) {
      error = {pos, bytes.size(), "unexpected end of data"};
      return 0;
    }
    const auto b = static_cast<unsigned>(bytes[pos + k]);
    const unsigned lo = k == 1 ? low : 0x80, hi = k == 1 ? high : 0xBF;
    if (b < lo || b > hi) {
      error = {pos, pos + k, "invalid continuation byte"};
      return 0;
    }
  }
  return length;
}

// ED A0..BF 80..BF at `pos`: a surrogate in its 3-byte form.
bool is_encoded_surrogate(std::span<const std::byte> bytes, std::size_t pos) noexcept {
  if (bytes.size() - pos < 3) return false;
  const auto b0 = static_cast<unsigned>(bytes[pos]), b1 = static_cast<unsigned>(bytes[pos + 1]),
             b2 = static_cast<unsigned>(bytes[pos + 2]);
  return b0 == 0xED && b1 >= 0xA0 && b1 <= 0xBF && b2 >= 0x80 && b2 <= 0xBF;
}

// Runs the decoder, calling put(code_point) for each character of the result.
template <class Put>
void run_decoder(const CodecInfo& info, Handler handler, std::string_view errors,
                 std::span<const std::byte> bytes, Put&& put) {
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const auto b = static_cast<unsigned>(bytes[pos]);
    DecodeError error{};
    if (b < 0x80 || info.codec == Codec::kLatin1) {
      put(static_cast<char32_t>(b));
      ++pos;
      continue;
    }
    if (info.codec == Codec::kAscii) {
      error = {pos, pos + 1, "ordinal not in range(128)"};
    } else {
      const std::size_t length = utf8_sequence_at(bytes, pos, error);
      if (length != 0) {
        const std::string_view seq(reinterpret_cast<const char*>(bytes.data()) + pos, length);
        std::size_t p = 0;
        put(vd::decode_code_point(seq, p));
        pos += length;
        continue;
      }
    }
    check_handler_known(handler, errors);
    switch (handler) {
      case Handler::kIgnore:
        break;
      case Handler::kReplace:
        put(U'\uFFFD');
        break;
      case Handler::kBackslashReplace:
        for (std::size_t i = error.start; i < error.end; ++i) {
          for (char c : escaped_char(static_cast<unsigned>(bytes[i])))
            put(static_cast<char32_t>(c));
        }
        break;
      case Handler::kSurrogateEscape:
        for (std::size_t i = error.start; i < error.end; ++i) {
          put(static_cast<char32_t>(0xDC00 + static_cast<unsigned>(bytes[i])));
        }
        break;
      case Handler::kSurrogatePass:
        // CPython's handler: three bytes at the error's start that encode a surrogate are
        // taken as one; anything else re-raises the decoder's own error.
        if (info.codec == Codec::kUtf8 && is_encoded_surrogate(bytes, error.start)) {
          const std::string_view seq(reinterpret_cast<const char*>(bytes.data()) + error.start, 3);
          std::size_t p = 0;
          put(vd::decode_code_point(seq, p));
          pos = error.start + 3;
          continue;
        }
        throw_decode_error(info, bytes, error);
      default:
        throw_decode_error(info, bytes, error);
    }
    pos = error.end;
  }
}

std::span<const std::byte> bytes_like_data(const Value& v, const char* what) {
  if (const Bytes* b = v.get_if<Bytes>()) return b->data();
  if (const ByteArray* a = v.get_if<ByteArray>()) return a->data();
  throw TypeError(fmt::format("{}: expected bytes or bytearray, got {}", what, v.type_name()));
}

}  // namespace

Value encode(const Value& str, std::string_view encoding, std::string_view errors) {
  const Str* s = str.get_if<Str>();
  if (s == nullptr) {
    throw TypeError(fmt::format("encode: expected str, got {}", str.type_name()));
  }
  const CodecInfo info = find_codec(encoding);
  const Handler handler = find_handler(errors);
  const std::string_view utf8 = s->utf8();
  Heap& heap = vd::heap_of(*s);
  if (info.codec == Codec::kUtf8 && handler != Handler::kSurrogateEscape) {
    // Fast path: a str's bytes are UTF-8 already unless it holds surrogates.
    bool has_surrogates = false;
    for (std::size_t i = 0; i + 1 < utf8.size(); ++i) {
      if (static_cast<unsigned char>(utf8[i]) == 0xED &&
          static_cast<unsigned char>(utf8[i + 1]) >= 0xA0) {
        has_surrogates = true;
        break;
      }
    }
    if (!has_surrogates) return Bytes::make(heap, as_bytes(utf8));
  }
  std::size_t size = 0;
  run_encoder(info, handler, errors, utf8, [&](unsigned char) { ++size; });
  return Bytes::make_filled(heap, size, [&](std::byte* out) {
    run_encoder(info, handler, errors, utf8,
                [&](unsigned char c) { *out++ = static_cast<std::byte>(c); });
  });
}

Value decode(const Value& bytes, std::string_view encoding, std::string_view errors) {
  const std::span<const std::byte> data = bytes_like_data(bytes, "decode");
  const CodecInfo info = find_codec(encoding);
  const Handler handler = find_handler(errors);
  Heap& heap = vd::heap_of(*bytes.object());
  std::size_t size = 0, code_points = 0;
  run_decoder(info, handler, errors, data, [&](char32_t cp) {
    size += vd::encoded_length(cp);
    ++code_points;
  });
  return Str::make_filled(heap, size, code_points, [&](char* out) {
    run_decoder(info, handler, errors, data, [&](char32_t cp) {
      out +=
          vd::encode_code_point(cp, std::span<char, vd::kMaxUtf8Length>(out, vd::kMaxUtf8Length));
    });
  });
}

}  // namespace ouro
