// bigint_backend.h on GMP's mpn_* layer (OURO_BIGINT=gmp, the host default). mpn functions
// take plain limb pointers and never allocate for what is used here (mod_1, get_str,
// set_str, sizeinbase), which is what lets the value layer keep big ints entirely inside
// its own heap. Scratch space lives on the stack: CPython's 4300-digit limit bounds it.
#include <gmp.h>

#include <algorithm>
#include <array>
#include <type_traits>

#include "value/bigint_backend.h"

namespace ouro::value::detail::bigint_backend {

static_assert(std::is_same_v<mp_limb_t, Limb> && GMP_NAIL_BITS == 0,
              "bigint_gmp.cpp passes Limb arrays straight to mpn_*: needs 64-bit limbs, no "
              "nails (configure with -DOURO_BIGINT=portable on other targets)");

namespace {

/// mpn_get_str's output room for kMaxDecimalLimbs limbs: 64*log10(2) < 19.3 digits a limb,
/// plus the extra character it asks for.
constexpr std::size_t kMaxDecimalBuffer = kMaxDecimalLimbs * 20 + 1;

/// A limb count as GMP's signed size type.
mp_size_t mp_size(std::size_t n) noexcept { return static_cast<mp_size_t>(n); }

}  // namespace

std::uint64_t magnitude_mod(std::span<const Limb> magnitude, std::uint64_t modulus) noexcept {
  return mpn_mod_1(magnitude.data(), mp_size(magnitude.size()), modulus);
}

std::size_t write_digits(std::span<const Limb> magnitude, std::span<char> out) noexcept {
  std::array<Limb, kMaxDecimalLimbs> scratch;  // mpn_get_str destroys its input
  std::copy(magnitude.begin(), magnitude.end(), scratch.begin());
  const mp_size_t n = mp_size(magnitude.size());
  // mpn_sizeinbase is exact or one too large; skip the conversion when surely too long.
  if (mpn_sizeinbase(scratch.data(), n, 10) > kIntMaxStrDigits + 1) return kTooManyDigits;
  std::array<unsigned char, kMaxDecimalBuffer> digits;
  std::size_t count = mpn_get_str(digits.data(), 10, scratch.data(), n);
  std::size_t first = 0;
  while (first + 1 < count && digits[first] == 0) ++first;
  if (count - first > kIntMaxStrDigits) return kTooManyDigits;
  for (std::size_t i = first; i < count; ++i) out[i - first] = static_cast<char>('0' + digits[i]);
  return count - first;
}

std::size_t set_digits(std::string_view literal, std::span<Limb> out) noexcept {
  std::array<unsigned char, kIntMaxStrDigits> values;  // digit values, as mpn_set_str wants
  std::size_t count = 0;
  for (char c : literal) {
    if (c == '_') continue;
    if (count == 0 && c == '0') continue;  // mpn_set_str wants no leading zero
    values[count++] = static_cast<unsigned char>(c - '0');
  }
  if (count == 0) return 0;
  mp_size_t written = mpn_set_str(out.data(), values.data(), count, 10);
  return normalized_size(out.first(static_cast<std::size_t>(written)));
}

}  // namespace ouro::value::detail::bigint_backend
