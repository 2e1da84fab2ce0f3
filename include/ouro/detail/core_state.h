// The object core's private, typed state for one heap (CPython's PyInterpreterState, Lua's
// global_State): the collector's generations and counters, the trashcan, the weak-reference
// table, gc.garbage and gc.callbacks. Its peers — dealloc and the trashcan
// (src/core/lifetime.cpp), the collector (src/core/collector.cpp) and weak references
// (src/core/weakref.cpp, weak_table.cpp) — share it; ouro::Heap owns it next to its
// allocator. Plain data, so that make<T>'s inline fast path tracks a new container without
// a call. Every container here takes its memory from the heap's allocator (I7).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "ouro/alloc/std_allocator.h"
#include "ouro/core/gc_info.h"
#include "ouro/detail/gc_list.h"

namespace ouro {
class Heap;
class Object;
}  // namespace ouro

namespace ouro::detail {

struct WeakState;  // src/core/weak_table.h

inline constexpr int kGenerations = 3;

/// One generation: its list, its threshold and its count (CPython's gc_generation).
/// For generation 0 `count` is allocations minus deallocations of containers since the last
/// collection; for older ones, collections of the next younger generation.
struct Generation {
  GcList list;
  int threshold = 0;
  int count = 0;
};

/// Live objects are counted per C++ type id in this many slots; ids past the last slot
/// share it (the leak report then says "other types").
inline constexpr std::size_t kTypeCountSlots = 256;

/// One registered gc callback and the handle that removes it.
struct GcCallbackEntry {
  std::size_t id;
  gc::Callback callback;
};

/// The state of one heap's object world.
struct CoreState {
  explicit CoreState(Allocator& allocator) noexcept
      : garbage(StdAllocator<Object*>(allocator)),
        callbacks(StdAllocator<GcCallbackEntry>(allocator)) {
    generations[0].threshold = 700;  // CPython 3.11 defaults: (700, 10, 10)
    generations[1].threshold = 10;
    generations[2].threshold = 10;
  }
  CoreState(const CoreState&) = delete;
  CoreState& operator=(const CoreState&) = delete;

  // --- lifetime (src/core/lifetime.cpp) ------------------------------------------------
  std::size_t live_objects = 0;  // objects created and not yet freed
  unsigned dealloc_depth = 0;    // nesting of destroy() calls (the trashcan's depth)
  GcLinks* deferred = nullptr;   // trashcan: containers whose destruction was deferred
  bool shutting_down = false;    // the heap's destructor is running
  std::uint32_t live_by_type[kTypeCountSlots] = {};            // live objects per type id
  std::function<void(const UnraisableInfo&)> unraisable_hook;  // empty: print to stderr

  // --- collector (src/core/collector.cpp) ----------------------------------------------
  Generation generations[kGenerations];
  GcList permanent;  // gc.freeze(): ignored by every collection
  gc::GenerationStats stats[kGenerations];
  bool enabled = true;                    // automatic collection (gc.enable/disable)
  bool collecting = false;                // a collection is running: nested triggers are skipped
  bool stress = false;                    // collect at every container allocation (testing)
  int debug_flags = 0;                    // gc.DEBUG_* bits
  std::size_t long_lived_total = 0;       // objects in the oldest generation after the last full
  std::size_t long_lived_pending = 0;     // objects promoted to it since then (the 25% rule)
  HeapVector<Object*> garbage;            // gc.garbage (strong references, decref'd at shutdown)
  HeapVector<GcCallbackEntry> callbacks;  // gc.callbacks, in call order
  std::size_t next_callback_id = 1;       // handles are never reused

  // --- weak references (src/core/weak_table.cpp) --------------------------------------
  WeakState* weak = nullptr;  // created with the heap's first weak reference
};

}  // namespace ouro::detail
