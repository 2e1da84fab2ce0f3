// bigint_backend.h in plain C++ (OURO_BIGINT=portable): for targets without GMP, such as
// the bare-metal Cortex-M build. Every product and quotient fits 64 bits because the
// arithmetic works on 32-bit halves of the 64-bit limbs, so no 128-bit type is needed and a
// 32-bit CPU runs it with its 64-bit helper routines. The algorithms are the schoolbook
// ones (quadratic); CPython's 4300-digit limit keeps the worst case to about 2 * 10^5
// divisions. Scratch space is on the stack (under 2 KiB at the limit).
#include <algorithm>
#include <array>
#include <cstring>

#include "value/bigint_backend.h"

namespace ouro::value::detail::bigint_backend {
namespace {

using Half = std::uint32_t;
constexpr unsigned kHalfBits = 32;
constexpr Limb kHalfMask = 0xFFFFFFFF;

/// Decimal digits are produced and consumed in groups of nine: 10^9 < 2^32, so a group
/// and a remainder shifted by one half-limb fit 64 bits.
constexpr Half kGroupBase = 1000000000;
constexpr unsigned kGroupDigits = 9;

/// halves[0..n) /= divisor in place (most significant half first); returns the remainder.
Half divide_in_place(std::span<Half> halves, Half divisor) noexcept {
  std::uint64_t remainder = 0;
  for (std::size_t i = halves.size(); i-- > 0;) {
    std::uint64_t current = (remainder << kHalfBits) | halves[i];
    halves[i] = static_cast<Half>(current / divisor);
    remainder = current % divisor;
  }
  return static_cast<Half>(remainder);
}

/// limbs[0..size) = limbs * factor + addend (factor, addend < 2^32); returns the new size.
/// The caller guarantees room for one more limb.
std::size_t multiply_add(std::span<Limb> limbs, std::size_t size, Half factor,
                         Half addend) noexcept {
  std::uint64_t carry = addend;
  for (std::size_t i = 0; i < size; ++i) {
    std::uint64_t low = (limbs[i] & kHalfMask) * factor + carry;
    std::uint64_t high = (limbs[i] >> kHalfBits) * factor + (low >> kHalfBits);
    limbs[i] = (low & kHalfMask) | (high << kHalfBits);
    carry = high >> kHalfBits;
  }
  if (carry != 0) limbs[size++] = carry;
  return size;
}

/// (remainder * 2^32 + half) mod modulus, for remainder < modulus, without a 128-bit type.
std::uint64_t shift_in_half(std::uint64_t remainder, Half half, std::uint64_t modulus) noexcept {
  if (modulus <= kHalfMask + 1) return ((remainder << kHalfBits) | half) % modulus;
  // Bit by bit: 2r + b < 2 * modulus, and when 2r overflows 64 bits the wrapped difference
  // is still the right residue.
  for (unsigned bit = kHalfBits; bit-- > 0;) {
    bool overflow = (remainder >> 63) != 0;
    remainder = (remainder << 1) | ((half >> bit) & 1);
    if (overflow || remainder >= modulus) remainder -= modulus;
  }
  return remainder;
}

}  // namespace

std::uint64_t magnitude_mod(std::span<const Limb> magnitude, std::uint64_t modulus) noexcept {
  std::uint64_t remainder = 0;
  for (std::size_t i = magnitude.size(); i-- > 0;) {
    remainder = shift_in_half(remainder, static_cast<Half>(magnitude[i] >> kHalfBits), modulus);
    remainder = shift_in_half(remainder, static_cast<Half>(magnitude[i] & kHalfMask), modulus);
  }
  return remainder;
}

std::size_t write_digits(std::span<const Limb> magnitude, std::span<char> out) noexcept {
  std::array<Half, 2 * kMaxDecimalLimbs> halves;  // a copy: the division destroys it
  std::size_t n = 0;
  for (Limb limb : magnitude) {
    halves[n++] = static_cast<Half>(limb & kHalfMask);
    halves[n++] = static_cast<Half>(limb >> kHalfBits);
  }
  // Groups come out least significant first: fill `out` from the end of a window as wide as
  // the limit allows, then move the text to the front.
  const std::size_t window = std::min(out.size(), kIntMaxStrDigits);
  std::size_t first = window;
  while (n > 0) {
    Half group = divide_in_place(std::span(halves).first(n), kGroupBase);
    while (n > 0 && halves[n - 1] == 0) --n;
    // Inner groups keep their leading zeros; the most significant one has none.
    unsigned width = kGroupDigits;
    if (n == 0) {
      width = 1;
      for (Half rest = group / 10; rest != 0; rest /= 10) ++width;
    }
    if (width > first) return kTooManyDigits;
    for (unsigned i = 0; i < width; ++i, group /= 10)
      out[--first] = static_cast<char>('0' + group % 10);
  }
  std::memmove(out.data(), out.data() + first, window - first);
  return window - first;
}

std::size_t set_digits(std::string_view literal, std::span<Limb> out) noexcept {
  std::size_t size = 0;
  Half group = 0, scale = 1;  // the digits read since the last multiply_add, and 10^count
  for (char c : literal) {
    if (c == '_') continue;
    group = group * 10 + static_cast<Half>(c - '0');
    scale *= 10;
    if (scale == kGroupBase) {
      size = multiply_add(out, size, scale, group);
      group = 0;
      scale = 1;
    }
  }
  if (scale != 1) size = multiply_add(out, size, scale, group);
  return size;
}

}  // namespace ouro::value::detail::bigint_backend
