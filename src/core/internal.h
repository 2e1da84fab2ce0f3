// What the object core's peers — the heap (heap.cpp), lifetime (lifetime.cpp, object.cpp),
// the collector (collector.cpp) and weak references (weakref.cpp, weak_table.cpp) — call of
// each other. One header, included by each of them: no peer declares another's functions
// by hand, and nothing outside src/core includes it.
#pragma once

#include <cstddef>

#include "ouro/core/heap.h"
#include "ouro/core/object.h"
#include "ouro/core/ref.h"
#include "ouro/detail/core_state.h"

namespace ouro::detail {

// --- lifetime (object.cpp) ---------------------------------------------------------------
/// The heap of a fully constructed object (not inside its make<T>), read from its block's
/// pool or large-block header: Object::heap() without the construction case, inline, for
/// the hot paths (dealloc, the shared weak reference). nullptr once its heap is gone.
inline Heap* heap_of_constructed(const Object& object) noexcept {
  Allocator* allocator = owner_allocator(object);
  return allocator != nullptr ? &Heap::of(*allocator) : nullptr;
}
/// The heap's destructor's steps 1-6 (see ouro/core/heap.h for the order).
void shutdown_object_world(Heap& heap) noexcept;
/// Every check of Heap::verify() above the allocator (object.cpp's checker).
bool verify_object_world(const Heap& heap);

// --- collector (collector.cpp) -----------------------------------------------------------
/// The allocator's pressure hook: one full collection unless one is running (I7).
void collect_on_pressure(Heap& heap) noexcept;
/// Shutdown step 3: a last full collection, DEBUG_SAVEALL ignored.
void collect_at_shutdown(Heap& heap) noexcept;

// --- weak references (weakref.cpp) -------------------------------------------------------
/// I5 on refcount death: clears the weakrefs of `object` (flagged weakly referenced) and
/// runs their callbacks newest first.
void clear_weakrefs_on_dealloc(Heap& heap, Object* object) noexcept;
/// Collector step 5 (I5): clears the weakrefs to `unreachable` objects and runs the
/// callbacks of reachable ones; returns true if any callback ran (it may resurrect).
bool handle_weakrefs(Heap& heap, GcList& unreachable, GcList& old) noexcept;
/// Shutdown step 6: gives the weak-reference table's memory back to the heap.
void release_weak_state(Heap& heap) noexcept;
/// Shutdown step 1: runs what the layers above registered for shutdown (weakref.finalize's
/// atexit callbacks), if anything.
void shutdown_weakrefs(Heap& heap) noexcept;

}  // namespace ouro::detail
