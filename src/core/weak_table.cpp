// The weak-reference side table (see weak_table.h for why a side table).
#include "core/weak_table.h"

#include <cstring>
#include <functional>
#include <new>

#include "core/internal.h"

namespace ouro::detail {

namespace {

// Puts a key that is not in the table into the first empty or erased slot of its probe
// sequence. True if it took an empty slot (one more used), false for a tombstone.
bool place(WeakSlot* slots, std::size_t capacity, Object* key, WeakRef* head) noexcept {
  std::size_t i = weak_slot_of(key, capacity);
  while (slots[i].key != nullptr && slots[i].key != kTombstone) i = (i + 1) & (capacity - 1);
  const bool was_empty = slots[i].key == nullptr;
  slots[i] = {key, head};
  return was_empty;
}

}  // namespace

void shutdown_weakrefs(Heap& heap) noexcept {
  if (WeakState* state = weak_state_if_any(heap); state && state->finalizers) {
    state->finalizers->on_heap_shutdown(heap);
  }
}

WeakState* weak_state_if_any(Heap& heap) noexcept { return core_state(heap).weak; }

void release_weak_state(Heap& heap) noexcept {
  CoreState& core = core_state(heap);
  WeakState* state = core.weak;
  if (state == nullptr) return;
  if (state->slots != nullptr) heap.deallocate(state->slots, state->capacity * sizeof(WeakSlot));
  state->~WeakState();
  heap.deallocate(state, sizeof(WeakState));
  core.weak = nullptr;
}

WeakState& weak_state(Heap& heap) {
  CoreState& state = core_state(heap);
  if (state.weak == nullptr) state.weak = ::new (heap.allocate(sizeof(WeakState))) WeakState();
  return *state.weak;
}

void weak_set_head(WeakState& state, Object* referent, WeakRef* head) noexcept {
  WeakSlot* slot = weak_find(state, referent);
  if (slot != nullptr) {
    if (head != nullptr) {
      slot->head = head;
      return;
    }
    // Erased. When the next slot is empty no probe sequence runs through this one, so it
    // can be empty again instead of a tombstone: a program that weakly references one
    // object at a time then never fills the table with tombstones (and never rehashes).
    const std::size_t next =
        (static_cast<std::size_t>(slot - state.slots) + 1) & (state.capacity - 1);
    slot->head = nullptr;
    if (state.slots[next].key == nullptr) {
      slot->key = nullptr;
      --state.used;
    } else {
      slot->key = kTombstone;  // stays counted in `used` until reused or the next rehash
    }
    --state.live;
    return;
  }
  if (head == nullptr) return;
  OURO_ASSERT((state.used + 1) * 2 <= state.capacity);
  if (place(state.slots, state.capacity, referent, head)) ++state.used;
  ++state.live;
}

void weak_reserve_one(Heap& heap, WeakState& state) {
  // A loop, because allocating may collect, and the callbacks and finalizers of that
  // collection may insert keys of their own: the new table is checked once it exists.
  while ((state.used + 1) * 2 > state.capacity) {
    // Rehash into a table sized for the live keys (tombstones go away).
    std::size_t capacity = 16;
    while ((state.live + 1) * 4 > capacity) capacity *= 2;
    auto* slots = static_cast<WeakSlot*>(heap.allocate(capacity * sizeof(WeakSlot)));
    if ((state.live + 1) * 2 > capacity) {  // outgrown while allocating: size it again
      heap.deallocate(slots, capacity * sizeof(WeakSlot));
      continue;
    }
    std::memset(static_cast<void*>(slots), 0, capacity * sizeof(WeakSlot));
    for (std::size_t i = 0; i < state.capacity; ++i) {
      const WeakSlot& slot = state.slots[i];
      if (slot.key != nullptr && slot.key != kTombstone)
        place(slots, capacity, slot.key, slot.head);
    }
    if (state.slots != nullptr) heap.deallocate(state.slots, state.capacity * sizeof(WeakSlot));
    state.slots = slots;
    state.capacity = capacity;
    state.used = state.live;
  }
}

}  // namespace ouro::detail
