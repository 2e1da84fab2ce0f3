// The per-heap side table of weak references: referent -> its list of WeakRefs.
//
// Objects that are never weakly referenced pay nothing for weak references but one header
// bit (Object::kWeaklyReferenced); the lists hang off this open-addressing hash table
// (linear probing, tombstones, load <= 1/2), whose slots are allocated from the heap
// itself, so weak references count against the heap's limit like everything else.
#pragma once

#include <cstddef>

#include "ouro/core/weakref.h"

namespace ouro::detail {

/// One slot: a referent and the head of its list (basic ref first, then callbacks newest
/// first). key == nullptr: empty; key == kTombstone: erased.
struct WeakSlot {
  Object* key;
  WeakRef* head;
};

/// Everything src/weakref keeps per heap (Runtime::weakref_state points here).
struct WeakState {
  WeakSlot* slots = nullptr;
  std::size_t capacity = 0;  // a power of two, or 0
  std::size_t used = 0;      // live keys + tombstones
  std::size_t live = 0;      // live keys
  // finalize(): the registry of alive finalizers (src/weak/finalize.cpp) and what to do
  // at heap shutdown (call those with atexit set). Null until the first finalize().
  void* finalizers = nullptr;
  void (*on_shutdown)(Heap&) noexcept = nullptr;
};

/// The heap's weak state, created on first use (allocates from the heap: may throw).
WeakState& weak_state(Heap& heap);
/// The heap's weak state if it exists.
WeakState* weak_state_if_any(Heap& heap) noexcept;

/// Head of `referent`'s list, or nullptr.
WeakRef* weak_list_head(const WeakState& state, const Object* referent) noexcept;
/// Sets the head of `referent`'s list; head == nullptr erases the entry. Inserting a new
/// key needs room reserved by weak_reserve_one() beforehand (this never allocates).
void weak_set_head(WeakState& state, Object* referent, WeakRef* head) noexcept;
/// Makes sure one more key fits without growing (may allocate: MemoryError).
void weak_reserve_one(Heap& heap, WeakState& state);

}  // namespace ouro::detail
