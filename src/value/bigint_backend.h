// The three big-int operations that need real multi-limb arithmetic, behind one interface
// with two implementations chosen at configure time (CMake option OURO_BIGINT):
//   bigint_gmp.cpp       GMP's mpn_* layer (host default: fast for huge ints)
//   bigint_portable.cpp  plain C++ on 32-bit half-limbs, no 128-bit type and no library
//                        (targets without GMP, such as the bare-metal Cortex-M build)
// Everything else in bigint.cpp (sign, compare, two's complement, double conversions) is
// simple enough to be written once for both. Neither backend allocates: scratch space is
// on the stack and bounded by CPython's 4300-digit limit. Internal to bigint.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "value/bigint.h"

namespace ouro::value::detail::bigint_backend {

/// Limbs of the largest magnitude that can have at most kIntMaxStrDigits digits:
/// 10^4300 < 2^14285 needs 224 limbs; one more keeps the early rejection conservative
/// (more limbs than this always means more than 4300 digits).
inline constexpr std::size_t kMaxDecimalLimbs = (kIntMaxStrDigits * 3322 / 1000 + 1) / 64 + 2;

/// What write_digits() returns when the magnitude has more than kIntMaxStrDigits digits.
inline constexpr std::size_t kTooManyDigits = static_cast<std::size_t>(-1);

/// The magnitude (normalized, nonempty) modulo `modulus` (> 0).
std::uint64_t magnitude_mod(std::span<const Limb> magnitude, std::uint64_t modulus) noexcept;

/// Writes the decimal digits of a normalized nonzero magnitude of at most kMaxDecimalLimbs
/// limbs to the start of `out`, without sign or leading zeros, and returns their count; or
/// returns kTooManyDigits when there are more than kIntMaxStrDigits of them. Precondition:
/// out.size() >= min(kIntMaxStrDigits, the digit count).
std::size_t write_digits(std::span<const Limb> magnitude, std::span<char> out) noexcept;

/// Sets `out` to the value of `literal`: ASCII digits with single underscores between
/// them, already validated, at most kIntMaxStrDigits digits. Returns the normalized limb
/// count. Precondition: out.size() >= decimal_limbs(literal).
std::size_t set_digits(std::string_view literal, std::span<Limb> out) noexcept;

}  // namespace ouro::value::detail::bigint_backend
