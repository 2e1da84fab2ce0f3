// Internals shared by the value layer's .cpp files: the recursion guard behind repr,
// equals, hash and JSON (RecursionError instead of a C++ stack overflow), the byte hash
// of str and bytes, and small helpers. Not part of the public API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "ouro/value/value.h"

namespace ouro::value::detail {

/// Counts nesting of the recursive value operations on this thread and throws
/// RecursionError("maximum recursion depth exceeded" + context) past recursion_limit().
/// `context` is CPython's suffix, e.g. " while getting the repr of an object".
class RecursionGuard {
 public:
  explicit RecursionGuard(const char* context);
  ~RecursionGuard() { --depth(); }
  RecursionGuard(const RecursionGuard&) = delete;
  RecursionGuard& operator=(const RecursionGuard&) = delete;
  static std::size_t& depth() noexcept;
};

/// ouro's hash of a byte string (the names of a Global): a 64-bit multiply-mix over 8-byte
/// words (wyhash's idea). str and bytes hash as CPython's instead (value/numeric_hash.h). Never -1
/// (CPython reserves it), so -1 can mean "not cached".
std::int64_t hash_bytes(std::span<const std::byte> data) noexcept;

/// The heap that owns `object` (and so its arrays and tables), found inline.
inline Heap& heap_of(const Object& object) noexcept { return ouro::detail::heap_of(object); }

/// Keeps I1 for values stored into a container of `heap` (immediates belong to no heap).
inline void check_same_heap(const Heap& heap, const Value& item) {
  if (const Object* o = item.object()) ouro::detail::check_same_heap(heap, *o);
}
inline void check_same_heap(const Heap& heap, std::span<const Value> items) {
  for (const Value& item : items) check_same_heap(heap, item);
}
/// The same, for a store into `container` that needs no Heap otherwise (list.append).
inline void check_same_heap(const Object& container, const Value& item) {
  if (const Object* o = item.object()) ouro::detail::check_same_heap(container, *o);
}

/// CPython's _PyObject_GC_MAY_BE_TRACKED: `v` is a container that is tracked or may
/// become so (an untracked tuple never will: its items are fixed). A dict or tuple holding
/// only values for which this is false holds only atoms and may be untracked.
inline bool may_be_tracked(const Value& v) noexcept {
  const Object* o = v.object();
  if (o == nullptr) return false;
  const std::uint32_t flags = ouro::detail::ObjectAccess::flags(*o);
  if (!(flags & Object::kContainer)) return false;
  return (flags & Object::kTracked) || o->type_id() != ouro::detail::value_type_id<Tuple>();
}

/// Gives the collector the value layer's UntrackCheck (once per process; dict.cpp), so
/// that collections untrack tuples and dicts of atoms as CPython's do. Not on bare metal,
/// where every container stays tracked (no flash for it).
#if OURO_BARE_METAL
inline void register_untrack_check() noexcept {}
#else
void register_untrack_check() noexcept;
#endif

/// The heap for builders without an explicit one: Heap::current(), or std::logic_error.
Heap& current_heap();

/// Python's index normalisation: i < 0 counts from the end; false when out of range.
inline bool normalize_index(std::int64_t& i, std::size_t size) noexcept {
  if (i < 0) i += static_cast<std::int64_t>(size);
  return i >= 0 && static_cast<std::uint64_t>(i) < size;
}

/// The Float behind a value known to be a float.
inline double float_of(const Value& v) noexcept {
  return static_cast<const Float*>(v.object())->value();
}

}  // namespace ouro::value::detail
