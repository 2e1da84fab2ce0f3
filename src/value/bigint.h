// Arbitrary-precision integer helpers for Python ints, on limb arrays the caller owns so
// that every byte of a big int can live in the ouro heap. The multi-limb arithmetic is GMP's
// mpn_* layer or a portable one (CMake option OURO_BIGINT, see bigint_backend.h); neither
// allocates, and nothing in this file keeps state. Internal to the value layer.
//
// Representation (the "normalized" form every function takes and returns):
//   magnitude  uint64_t limbs, least significant first, no high zero limbs (0 has none)
//   sign       a separate flag; zero is never negative
// Python's hash of an int lives in numeric_hash.h (hash_bigint), on top of magnitude_mod().
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "ouro/errors.h"

namespace ouro::value::detail {

/// One limb of a magnitude: 64 bits on every target (GMP's mp_limb_t on 64-bit hosts,
/// checked in bigint_gmp.cpp; the portable backend works in 32-bit halves of it).
using Limb = std::uint64_t;

/// A read-only normalized integer: sign and magnitude. Zero is {{}, false}.
struct LimbsView {
  std::span<const Limb> limbs;  ///< magnitude, least significant first, no high zero limb
  bool negative = false;        ///< never true for zero
};

/// What a function that writes limbs produced: the first `size` limbs of its output span
/// hold the normalized magnitude.
struct LimbsResult {
  std::size_t size = 0;   ///< limbs written (0 for zero)
  bool negative = false;  ///< never true for zero
};

/// Python's ValueError and OverflowError (ouro/errors.h), with CPython's exact messages.
using ValueError = ::ouro::ValueError;
using OverflowError = ::ouro::OverflowError;

/// CPython 3.11's default sys.get_int_max_str_digits(): the most decimal digits int<->str
/// converts. Fixed here; it bounds the stack buffers of the decimal conversions.
inline constexpr std::size_t kIntMaxStrDigits = 4300;

/// CPython's ValueError text when an int has more than kIntMaxStrDigits decimal digits.
inline constexpr std::string_view kToStrLimitMessage =
    "Exceeds the limit (4300 digits) for integer string conversion; "
    "use sys.set_int_max_str_digits() to increase the limit";

/// Longest text write_decimal() produces: a sign and kIntMaxStrDigits digits.
inline constexpr std::size_t kMaxDecimalChars = kIntMaxStrDigits + 1;

/// Limbs that hold the magnitude of any int64_t or any finite double (2^1024 needs 17).
inline constexpr std::size_t kInt64Limbs = 1;
inline constexpr std::size_t kDoubleLimbs = 17;

/// True when `view` is in normalized form (no high zero limb, zero not negative).
bool is_normalized(LimbsView view) noexcept;

/// Number of limbs left once high zero limbs are dropped.
std::size_t normalized_size(std::span<const Limb> limbs) noexcept;

/// Python's int.bit_length() of the magnitude.
std::size_t bit_length(LimbsView view) noexcept;

/// -1, 0 or 1 as a is less than, equal to or greater than b.
int compare(LimbsView a, LimbsView b) noexcept;

/// Writes `value` (out needs kInt64Limbs).
///
///     std::array<Limb, kInt64Limbs> l;  auto r = from_int64(-5, l);  // {1, true}, l[0] == 5
LimbsResult from_int64(std::int64_t value, std::span<Limb> out) noexcept;

/// The value as int64_t, or nullopt when it does not fit.
std::optional<std::int64_t> to_int64(LimbsView view) noexcept;

/// Bytes of the pickle LONG1/LONG4 payload (pickle.encode_long): the shortest
/// little-endian two's complement, and 0 bytes for zero. 255 -> ff 00, -256 -> 00 ff.
std::size_t twos_complement_size(LimbsView view) noexcept;

/// Writes the pickle encoding of `view`. Precondition: out.size() == twos_complement_size(view).
///
///     std::vector<std::byte> b(twos_complement_size(v));  to_twos_complement(v, b);
void to_twos_complement(LimbsView view, std::span<std::byte> out) noexcept;

/// Limbs from_twos_complement() needs for `byte_count` input bytes.
std::size_t twos_complement_limbs(std::size_t byte_count) noexcept;

/// Reads little-endian two's complement bytes of any length (pickle.decode_long:
/// int.from_bytes(b, 'little', signed=True); empty is 0, non-minimal input is fine).
/// Precondition: out.size() >= twos_complement_limbs(bytes.size()).
LimbsResult from_twos_complement(std::span<const std::byte> bytes, std::span<Limb> out) noexcept;

/// Room write_decimal() needs for `view`: an upper bound of its text's length from the bit
/// length, never more than kMaxDecimalChars (so small ints need small buffers).
std::size_t decimal_size_bound(LimbsView view) noexcept;

/// Writes str(int) into `out` (which needs decimal_size_bound(view)) and returns its length.
/// Allocation-free: scratch space is on the stack, bounded by kIntMaxStrDigits.
/// Throws ValueError with CPython's text when the value has more than 4300 digits.
std::size_t write_decimal(LimbsView view, std::span<char> out);

/// str(int) as a string; throws as write_decimal() does.
///
///     to_decimal(v) == "-123"
std::string to_decimal(LimbsView view);

/// Limbs from_decimal() may need for `text` (an upper bound from its length).
std::size_t decimal_limbs(std::string_view text) noexcept;

/// Parses int(text) in base 10 as CPython 3.11 does for ASCII text: surrounding ASCII
/// whitespace, one optional sign, digits with single underscores between them. Returns
/// nullopt when the text is not such a literal ("invalid literal for int() with base 10");
/// throws ValueError with CPython's text ("... value has N digits ...") when it has more
/// than 4300 digits, in CPython's order of checks (digits are counted before trailing junk
/// is noticed). Precondition: out.size() >= decimal_limbs(text).
///
///     std::vector<Limb> l(decimal_limbs(s));  auto r = from_decimal(" -1_000 ", l);
std::optional<LimbsResult> from_decimal(std::string_view text, std::span<Limb> out);

/// int(x) for a finite double: truncates toward zero. Precondition: std::isfinite(x) and
/// out.size() >= kDoubleLimbs. (Python raises OverflowError "cannot convert float infinity
/// to integer" and ValueError "cannot convert float NaN to integer" for the others.)
LimbsResult from_double(double x, std::span<Limb> out) noexcept;

/// float(int), correctly rounded (ties to even) as CPython does. Throws OverflowError
/// "int too large to convert to float" when the rounded value exceeds the double range.
double to_double(LimbsView view);

/// The magnitude modulo `modulus` (> 0): the building block of Python's int hash.
std::uint64_t magnitude_mod(LimbsView view, std::uint64_t modulus) noexcept;

}  // namespace ouro::value::detail
