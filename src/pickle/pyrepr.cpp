// Python's repr() for the argument types pickletools prints, as thin adapters over the
// value layer's CPython-exact helpers (src/value/unicode.h, float_format.h, bigint.h): one
// printable table, one float layout, one decimal conversion in the whole library.
#include "pickle/pyrepr.h"

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
