// Python's sequence operations on values: slicing (s[start:stop:step], negative steps
// included), repetition (s * n) and join, for str, bytes, bytearray, list and tuple.
// Results are new objects in the heap of the operand (a slice of a list in heap A is a list
// in heap A), built at their final size: no staging copy outside the heap (I7).
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>

#include "ouro/value/core.h"

namespace ouro {

/// The three parts of Python's slice; an empty one is Python's omitted part (None).
///
///     ouro::slice(s, {.start = 1, .stop = -1});   // s[1:-1]
///     ouro::slice(s, {.step = -1});               // s[::-1]
struct Slice {
  // The {} initializers let `{.stop = 6}` compile without -Wmissing-field-initializers.
  std::optional<std::int64_t> start{};
  std::optional<std::int64_t> stop{};
  std::optional<std::int64_t> step{};
};

/// seq[start:stop:step] for a str (by code points), bytes, bytearray, list or tuple, with
/// Python's clamping of out-of-range bounds. Throws ValueError "slice step cannot be zero",
/// TypeError "'int' object is not subscriptable".
///
///     ouro::repr(ouro::slice(ouro::list({1, 2, 3, 4}), {.step = -2})) == "[4, 2]"
Value slice(const Value& seq, const Slice& range);

/// seq * n for a str, bytes, bytearray, list or tuple (n <= 0 gives an empty one). Throws
/// TypeError "can't multiply sequence by non-int of type ..." for other types, OverflowError
/// "repeated string is too long" past the size a str can hold, MemoryError.
///
///     ouro::Value chunk = ouro::repeat("sensor_data", 10000);   // 'sensor_data' * 10000
Value repeat(const Value& seq, std::int64_t n);

/// `seq * n` and `n * seq`, as in Python: ouro::Value("ab") * 3 is 'ababab'.
template <std::integral N>
Value operator*(const Value& seq, N n) {
  return repeat(seq, static_cast<std::int64_t>(n));
}
template <std::integral N>
Value operator*(N n, const Value& seq) {
  return repeat(seq, static_cast<std::int64_t>(n));
}

/// sep.join(items): `sep` a str (items must be strs) or a bytes/bytearray (items bytes-like);
/// items a list, tuple, set, frozenset or dict (its keys). Throws TypeError with Python's
/// message ("sequence item 1: expected str instance, int found", "can only join an
/// iterable").
///
///     ouro::join(", ", ouro::list({"a", "b"})).as<std::string_view>() == "a, b"
Value join(const Value& sep, const Value& items);

}  // namespace ouro
