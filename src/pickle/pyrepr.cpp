// Python's repr() for the argument types pickletools prints, as thin adapters over the
// value layer's CPython-exact helpers (src/value/unicode.h, float_format.h, bigint.h): one
// printable table, one float layout, one decimal conversion in the whole library.
#include "pickle/pyrepr.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "ouro/errors.h"
#include "value/bigint.h"
#include "value/float_format.h"
#include "value/unicode.h"

namespace ouro::pickle::detail {

namespace vd = ouro::value::detail;

std::string int_to_str_limit_message() { return std::string(vd::kToStrLimitMessage); }

bool is_printable(char32_t cp) noexcept { return vd::is_printable(cp); }

std::string_view printable_table_unicode_version() noexcept { return vd::kUnicodeVersion; }

void append_utf8(std::string& out, char32_t cp) {
  char buffer[vd::kMaxUtf8Length];
  out.append(buffer, vd::encode_code_point(cp, std::span<char, vd::kMaxUtf8Length>(buffer)));
}

std::size_t count_code_points(std::string_view utf8) noexcept {
  return vd::count_code_points(utf8);
}

std::string repr_str(std::u32string_view text) {
  std::string utf8;
  utf8.reserve(text.size());
  for (char32_t cp : text) append_utf8(utf8, cp);
  return vd::str_repr(utf8);
}

std::string repr_bytes(std::string_view bytes) {
  return vd::bytes_repr(std::as_bytes(std::span<const char>(bytes.data(), bytes.size())));
}

std::string repr_bytearray(std::string_view bytes) {
  return vd::bytes_repr(std::as_bytes(std::span<const char>(bytes.data(), bytes.size())),
                        /*bytearray=*/true);
}

char repr_quote(std::string_view text) noexcept { return vd::repr_quote(text); }

#if !OURO_BARE_METAL  // dis only: its tables would take 5 KiB of the firmware's RAM
namespace {

// Each byte's escape in a bytes repr for one quote and type, taken from the value layer's
// own repr of that byte alone (its rules, one table lookup per byte instead of appending
// character by character).
struct BytesEscapes {
  std::array<std::array<char, kMaxBytesReprPerByte>, 256> text{};
  std::array<std::uint8_t, 256> size{};

  BytesEscapes(char quote, bool bytearray) {
    for (unsigned code = 0; code < 256; ++code) {
      const std::byte b{static_cast<unsigned char>(code)};
      std::string escaped;
      vd::append_bytes_repr_body(escaped, std::span<const std::byte>(&b, 1), quote, bytearray);
      std::copy(escaped.begin(), escaped.end(), text[code].begin());
      size[code] = static_cast<std::uint8_t>(escaped.size());
    }
  }
};

}  // namespace

std::size_t write_bytes_repr_body(char* out, std::string_view bytes, char quote, bool bytearray) {
  static const std::array<BytesEscapes, 4> tables{
      BytesEscapes('\'', false), BytesEscapes('"', false), BytesEscapes('\'', true),
      BytesEscapes('"', true)};
  const BytesEscapes& t = tables[(quote == '"' ? 1 : 0) + (bytearray ? 2 : 0)];
  char* p = out;
  for (char c : bytes) {
    const auto code = static_cast<unsigned char>(c);
    std::memcpy(p, t.text[code].data(), kMaxBytesReprPerByte);  // fixed size: one store
    p += t.size[code];
  }
  return static_cast<std::size_t>(p - out);
}
#endif

std::string repr_float(double value) { return vd::float_repr(value); }

bool repr_int_le(std::string_view le_bytes, std::string& out) {
  const auto bytes = std::as_bytes(std::span<const char>(le_bytes.data(), le_bytes.size()));
  std::vector<vd::Limb> limbs(vd::twos_complement_limbs(bytes.size()));
  const vd::LimbsResult value = vd::from_twos_complement(bytes, limbs);
  try {
    out = vd::to_decimal({std::span<const vd::Limb>(limbs.data(), value.size), value.negative});
  } catch (const ValueError&) {
    return false;  // more than 4300 digits
  }
  return true;
}

}  // namespace ouro::pickle::detail
