// Per-heap state of the layers above the allocator: the collector's generation lists and
// counters, the trashcan, and the hooks the upper layers install. It is plain data so that
// make<T>'s inline fast path can track a new container without a call. The algorithms that
// own these fields live in src/object (trashcan), src/gc (collector) and src/weakref.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ouro {
class Heap;
class Object;
}  // namespace ouro

namespace ouro::detail {

/// The collector's links, placed immediately *before* every container object (CPython's
/// PyGC_Head). State of the fields (keeps the membership rule of src/core/collector.cpp):
///
///   | when                          | prev                      | next                 |
///   |-------------------------------|---------------------------|----------------------|
///   | untracked                     | nullptr                   | nullptr              |
///   | tracked, between collections  | previous node in its list | next node in list    |
///   | collecting (update_refs ..    | gc_refs, an integer, not  | next node in list    |
///   |   move_unreachable reaches it)| a pointer (flag kCollecting)|                    |
///   | unreachable list              | previous node             | next node            |
///   | in the trashcan's deferred    | unused                    | next deferred object |
///   |   list (refcount already 0)   |                           |                      |
struct GcLinks {
  GcLinks* prev;  // see the table: a link, or gc_refs while collecting
  GcLinks* next;
};

/// Sentinel of a circular doubly linked list of GcLinks.
struct GcList {
  GcLinks head;
  GcList() noexcept { head.prev = head.next = &head; }
  GcList(const GcList&) = delete;
  GcList& operator=(const GcList&) = delete;
  bool empty() const noexcept { return head.next == &head; }
};

// List primitives (circular, doubly linked, with a sentinel), shared by make<T>'s tracking,
// dealloc, the collector and the weak-reference step.
inline void gc_list_append(GcLinks* node, GcList& list) noexcept {
  GcLinks* last = list.head.prev;
  last->next = node;
  node->prev = last;
  node->next = &list.head;
  list.head.prev = node;
}

inline void gc_list_remove(GcLinks* node) noexcept {
  node->prev->next = node->next;
  node->next->prev = node->prev;
}

inline void gc_list_move(GcLinks* node, GcList& to) noexcept {
  gc_list_remove(node);
  gc_list_append(node, to);
}

/// Appends all of `from` to `to`; `from` ends empty.
inline void gc_list_merge(GcList& from, GcList& to) noexcept {
  if (from.empty()) return;
  GcLinks* to_last = to.head.prev;
  GcLinks* first = from.head.next;
  GcLinks* last = from.head.prev;
  to_last->next = first;
  first->prev = to_last;
  last->next = &to.head;
  to.head.prev = last;
  from.head.next = from.head.prev = &from.head;
}

inline std::size_t gc_list_size(const GcList& list) noexcept {
  std::size_t n = 0;
  for (const GcLinks* l = list.head.next; l != &list.head; l = l->next) ++n;
  return n;
}

inline constexpr int kGenerations = 3;

/// One generation: its list, its threshold and its count (CPython's gc_generation).
/// For generation 0 `count` is allocations minus deallocations of containers since the last
/// collection; for older ones, collections of the next younger generation.
struct Generation {
  GcList list;
  int threshold = 0;
  int count = 0;
};

/// Per-generation statistics as gc.get_stats() reports them.
struct GenerationStats {
  std::size_t collections = 0;
  std::size_t collected = 0;
  std::size_t uncollectable = 0;
};

/// Information passed to gc callbacks (gc.callbacks' `info` dict).
struct CollectionInfo {
  int generation = 0;
  std::size_t collected = 0;
  std::size_t uncollectable = 0;
};

/// What the unraisable hook receives (Python's sys.unraisablehook argument): an exception
/// that could not propagate, from a finalizer, a weakref callback, clear() or a gc callback.
struct UnraisableInfo {
  std::string_view where;        // "finalizer", "weakref callback", "clear", "gc callback"
  const Object* object;          // the object concerned, or nullptr
  std::exception_ptr exception;  // what was thrown
};

/// Live objects are counted per C++ type id in this many slots; ids past the last slot
/// share it (the leak report then says "other types").
inline constexpr std::size_t kTypeCountSlots = 256;

/// The state of one heap's object world.
struct Runtime {
  Runtime() noexcept {
    generations[0].threshold = 700;  // CPython 3.11 defaults: (700, 10, 10)
    generations[1].threshold = 10;
    generations[2].threshold = 10;
  }
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // --- object layer: lifetime -----------------------------------------------------------
  std::size_t live_objects = 0;  // objects created and not yet freed
  unsigned dealloc_depth = 0;    // nesting of destroy() calls (the trashcan's depth)
  GcLinks* deferred = nullptr;   // trashcan: containers whose destruction was deferred
  bool shutting_down = false;    // the heap's destructor is running
  std::uint32_t live_by_type[kTypeCountSlots] = {};            // live objects per type id
  std::function<void(const UnraisableInfo&)> unraisable_hook;  // empty: print to stderr

  // --- collector -------------------------------------------------------------------------
  Generation generations[kGenerations];
  GcList permanent;  // gc.freeze(): ignored by every collection
  GenerationStats stats[kGenerations];
  bool enabled = true;                 // automatic collection (gc.enable/disable)
  bool collecting = false;             // a collection is running: nested triggers are skipped
  bool stress = false;                 // collect at every container allocation (OURO_GC_STRESS)
  int debug_flags = 0;                 // gc.DEBUG_* bits
  std::size_t long_lived_total = 0;    // objects in the oldest generation after the last full
  std::size_t long_lived_pending = 0;  // objects promoted to it since then (the 25% rule)
  std::vector<Object*> garbage;        // gc.garbage (strong references, decref'd at shutdown)
  std::vector<std::function<void(const std::string& phase, const CollectionInfo&)>> callbacks;

  // --- hooks installed by upper layers -------------------------------------------------
  // Weak references: clear the weakrefs of an object that is dying by refcount and run
  // their callbacks; called only for objects flagged weakly_referenced.
  void (*clear_weakrefs_on_dealloc)(Heap&, Object*) noexcept = nullptr;
  // Weak references, collector step 5 (I5): clear the weakrefs to `unreachable` objects and
  // run the callbacks of reachable ones before any finalizer or clear() runs. Returns true
  // if it ran any callback (which could have resurrected something).
  bool (*handle_weakrefs)(Heap&, GcList& unreachable, GcList& old) noexcept = nullptr;
  // Weak references: the heap is shutting down (run atexit finalizers).
  void (*weakref_shutdown)(Heap&) noexcept = nullptr;
  void* weakref_state = nullptr;  // owned by src/weakref
};

}  // namespace ouro::detail
