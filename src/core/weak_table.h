// The per-heap side table of weak references: referent -> its list of WeakRefs.
//
// Objects that are never weakly referenced pay nothing for weak references but one header
// bit (Object::kWeaklyReferenced); the lists hang off this open-addressing hash table
// (linear probing, tombstones, load <= 1/2), whose slots are allocated from the heap
// itself, so weak references count against the heap's limit like everything else.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ouro/core/weakref.h"

namespace ouro::detail {

/// One slot: a referent and the head of its list (basic ref first, then callbacks newest
/// first). key == nullptr: empty; key == kTombstone: erased.
struct WeakSlot {
  Object* key;
  WeakRef* head;
};

/// What a layer above the core registers to run at heap shutdown, step 1 (weakref.finalize's
/// atexit callbacks). The core knows only this interface, not the registry behind it.
class ShutdownParticipant {
 public:
  virtual void on_heap_shutdown(Heap& heap) noexcept = 0;

 protected:
  ~ShutdownParticipant() = default;
};

/// An erased slot's key (never a real object: objects are 16-byte aligned and not at 16).
inline Object* const kTombstone = reinterpret_cast<Object*>(alignof(Object));
/// True for a slot key that names a referent (not empty, not erased).
inline bool is_live_weak_key(const Object* key) noexcept {
  return key != nullptr && key != kTombstone;
}

/// Everything the weak references keep per heap (CoreState::weak points here).
struct WeakState {
  WeakSlot* slots = nullptr;
  std::size_t capacity = 0;  // a power of two, or 0
  std::size_t used = 0;      // live keys + tombstones
  std::size_t live = 0;      // live keys
  // finalize(): the registry of alive finalizers (src/weak/finalize.cpp), which runs those
  // with atexit set at heap shutdown. Null until the first finalize().
  ShutdownParticipant* finalizers = nullptr;
};

/// The heap's weak state, created on first use (allocates from the heap: may throw).
WeakState& weak_state(Heap& heap);
/// The heap's weak state if it exists.
WeakState* weak_state_if_any(Heap& heap) noexcept;

/// Where `key`'s probe sequence starts in a table of `capacity` (a power of two) slots.
inline std::size_t weak_slot_of(const Object* key, std::size_t capacity) noexcept {
  // Objects are 16-byte aligned: drop the zero bits, then mix (Fibonacci hashing).
  const auto bits = reinterpret_cast<std::uintptr_t>(key) >> 4;
  return static_cast<std::size_t>((bits * 0x9E3779B97F4A7C15ull) >> 20) & (capacity - 1);
}

/// The slot of `key`, or nullptr. Inline: finding the shared weak reference is one probe.
inline WeakSlot* weak_find(const WeakState& state, const Object* key) noexcept {
  if (state.capacity == 0) return nullptr;
  const std::size_t mask = state.capacity - 1;
  for (std::size_t i = weak_slot_of(key, state.capacity);; i = (i + 1) & mask) {
    WeakSlot& slot = state.slots[i];
    if (slot.key == key) return &slot;
    if (slot.key == nullptr) return nullptr;
  }
}

/// Head of `referent`'s list, or nullptr.
inline WeakRef* weak_list_head(const WeakState& state, const Object* referent) noexcept {
  const WeakSlot* slot = weak_find(state, referent);
  return slot != nullptr ? slot->head : nullptr;
}
/// Sets the head of `referent`'s list; head == nullptr erases the entry. Inserting a new
/// key needs room reserved by weak_reserve_one() beforehand (this never allocates).
void weak_set_head(WeakState& state, Object* referent, WeakRef* head) noexcept;
/// Makes sure one more key fits without growing (may allocate: MemoryError).
void weak_reserve_one(Heap& heap, WeakState& state);

}  // namespace ouro::detail
