// Python values as managed objects: the umbrella header of the value layer, and the
// operations every value supports — repr, equality, hashing, sizes — plus builders that
// read like Python literals. docs/values.md describes the encoding, layouts and byte counts.
//
// Invariants kept here (DESIGN.md):
//   I2  Values own references; containers free their items when they die (deep nesting
//       goes through the object core's trashcan, so destruction never overflows the stack).
//   I3  every container's traverse() is exact (see ouro/value/containers.h).
// Recursion: repr, equals, hash and the JSON conversions recurse at most
// recursion_limit() levels (default 1000, CPython's) and then throw RecursionError with
// CPython's message; recursive structures print as [...], {...}, (...), set(...).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <ranges>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "ouro/value/codecs.h"
#include "ouro/value/containers.h"
#include "ouro/value/core.h"
#include "ouro/value/instance.h"
#include "ouro/value/scalars.h"
#include "ouro/value/sequence.h"

namespace ouro {

/// Python's repr(v), identical to CPython 3.11's text for None, bool, int, float, str,
/// bytes, bytearray, tuple, list, dict, set and frozenset (sets list their elements in
/// CPython's table order, docs/values.md "Set order"). Throws RecursionError past recursion_limit()
/// levels, and ValueError for an int of more than 4300 digits, as CPython 3.11 does.
///
///     ouro::repr(ouro::list({1, 2.5, "a"})) == "[1, 2.5, 'a']"
std::string repr(const Value& v);

/// CPython's text for values the value layer only knows by name (a Global, a Reduce, an
/// Instance): a layer above (pickle's catalogue of standard types) supplies it.
/// write() is asked first for every such value met while printing; it appends the text
/// and returns true, or returns false for repr's default text. `item` prints a nested
/// value (with the same extension and the same recursion checks).
class ReprExtension {
 public:
  virtual ~ReprExtension() = default;
  virtual bool write(const Value& v, std::string& out,
                     const std::function<void(const Value&)>& item) const = 0;
};
/// repr(v), with `extension` asked for Globals, Reduces and Instances.
std::string repr(const Value& v, const ReprExtension& extension);

/// Thrown when a streamed text (write_repr, pickle's dis) would pass the caller's cap on
/// its size; the first limit() bytes were written.
class OutputLimitError : public std::length_error {
 public:
  explicit OutputLimitError(std::size_t limit)
      : std::length_error("output passed its limit of " + std::to_string(limit) + " bytes"),
        limit_(limit) {}
  std::size_t limit() const noexcept { return limit_; }  ///< the cap, in bytes

 private:
  std::size_t limit_;
};

/// repr(v) written to `out` as it is produced, never held whole: at most about 64 KiB is
/// pending at a time, so a value whose repr is gigabytes long (one list shared a billion
/// times) costs no memory outside the heap. Same text as repr(). With `max_bytes` != 0 it
/// stops after at most that many bytes (cut at a character boundary) and throws
/// OutputLimitError; a failed write throws std::ios_base::failure. Also throws what repr
/// throws (RecursionError, ValueError). `extension`, when given, is asked as by
/// repr(v, extension).
///
///     ouro::write_repr(std::cout, value, 10 << 20);  // at most 10 MiB of text
#if !OURO_BARE_METAL
void write_repr(std::ostream& out, const Value& v, std::size_t max_bytes = 0,
                const ReprExtension* extension = nullptr);
#endif

/// Python's `a == b`: numbers across int/bool/float exactly, str, bytes == bytearray by
/// content, sequences, dicts and sets by content, identity for instances. Inside
/// containers an item is first compared by identity (so [nan] == [nan] when it is the same
/// float, as in CPython). Throws RecursionError ("maximum recursion depth exceeded in
/// comparison").
///
///     ouro::equals(1, 1.0) && ouro::equals(true, 1)
bool equals(const Value& a, const Value& b);

/// Python's hash(v): CPython's values for numbers and for tuples of numbers; frozenset by
/// CPython's algorithm; str and bytes by ouro's own hash. Throws TypeError
/// "unhashable type: 'list'" for list, dict, set, bytearray (and tuples containing them).
///
///     ouro::hash(1) == ouro::hash(1.0) && ouro::hash(1) == ouro::hash(true)
std::int64_t hash(const Value& v);

/// True if hash(v) would succeed (no unhashable item anywhere inside tuples/frozensets).
bool is_hashable(const Value& v);

/// Python's bool(v) (truth value): None, False, 0, 0.0, empty containers are false.
bool truthy(const Value& v);

/// Bytes the value takes in its heap: 0 for None, bool and small ints (they live in the
/// word), else the object's block plus what it owns (items array, table), like
/// sys.getsizeof without the referenced objects.
///
///     ouro::getsizeof(ouro::Value(7)) == 0
std::size_t getsizeof(const Value& v) noexcept;

/// Bytes of everything reachable from `v` through containers, each object counted once
/// (shared strings and cycles included once). Iterative: any depth is fine.
///
///     ouro::deep_sizeof(ouro::list({"a", "a"}))   // the list, its array and two strs
std::size_t deep_sizeof(const Value& v);

/// The depth at which repr/equals/hash/JSON conversion throw RecursionError (default 1000).
std::size_t recursion_limit() noexcept;
/// Changes that depth (per thread). Deeper limits need more C++ stack (about 200 bytes per
/// level in release builds).
void set_recursion_limit(std::size_t limit) noexcept;

// --- builders in the current heap (HeapScope), reading like Python literals -------------

/// [a, b, ...]
///
///     ouro::Value l = ouro::list({1, "two", 3.0});
Value list(std::initializer_list<Value> items = {},
           ouro::SiteLocation loc = ouro::SiteLocation::current());
/// (a, b, ...)
Value tuple(std::initializer_list<Value> items = {},
            ouro::SiteLocation loc = ouro::SiteLocation::current());
/// {k: v, ...} in the given order.
///
///     ouro::Value d = ouro::dict({{"id", 1}, {"tags", ouro::list({"a"})}});
Value dict(std::initializer_list<std::pair<Value, Value>> items = {},
           ouro::SiteLocation loc = ouro::SiteLocation::current());
/// {a, b, ...}
Value set(std::initializer_list<Value> items = {},
          ouro::SiteLocation loc = ouro::SiteLocation::current());
/// frozenset({a, b, ...})
Value frozenset(std::initializer_list<Value> items = {});
// --- builders from C++ ranges (std::vector, std::map, std::array, views, ...) ---------------

namespace detail {
/// A range whose elements each make a Value (ints, doubles, strings, Refs, Values).
/// Strings are excluded on purpose: list("abc") would be a list of ints here, not of
/// one-character strs as in Python.
template <class R>
concept ValueRange = std::ranges::input_range<R> && !std::convertible_to<R, std::string_view> &&
                     std::constructible_from<Value, std::ranges::range_reference_t<R>>;
/// A range of pairs (std::map, std::vector<std::pair<K, V>>) whose two parts make Values.
template <class R>
concept ValuePairRange = std::ranges::input_range<R> &&
    requires(std::ranges::range_reference_t<R> item) {
  Value(std::get<0>(item));
  Value(std::get<1>(item));
};
}  // namespace detail

/// list(range): `ouro::list(std::vector<int>{1, 2, 3})` == [1, 2, 3].
template <detail::ValueRange R>
Value list(R&& items) {
  Ref<List> l = List::make();
  if constexpr (std::ranges::sized_range<R>) l->reserve(std::ranges::size(items));
  for (auto&& item : items) l->append(Value(item));
  return l;
}
/// tuple(range).
template <detail::ValueRange R>
Value tuple(R&& items) {
  if constexpr (std::ranges::contiguous_range<R> &&
                std::same_as<std::ranges::range_value_t<R>, Value>) {
    return Tuple::make(std::span<const Value>(std::ranges::data(items), std::ranges::size(items)));
  } else {
    const Value staged = list(std::forward<R>(items));
    return Tuple::make(staged.as<List>().items_span());
  }
}
/// dict(range of pairs), in the range's order: `ouro::dict(std::map<std::string, int>{...})`.
template <detail::ValuePairRange R>
Value dict(R&& items) {
  Ref<Dict> d = Dict::make();
  for (auto&& item : items) d->set(Value(std::get<0>(item)), Value(std::get<1>(item)));
  return d;
}
/// set(range).
template <detail::ValueRange R>
Value set(R&& items) {
  Ref<Set> s = Set::make();
  for (auto&& item : items) s->add(Value(item));
  return s;
}
/// frozenset(range).
template <detail::ValueRange R>
Value frozenset(R&& items) {
  const Value staged = list(std::forward<R>(items));
  return FrozenSet::make(staged.as<List>().items_span());
}

/// b'...' from raw bytes in a string.
Value bytes(std::string_view data, ouro::SiteLocation loc = ouro::SiteLocation::current());
/// bytearray(b'...')
Value bytearray(std::string_view data);

}  // namespace ouro
