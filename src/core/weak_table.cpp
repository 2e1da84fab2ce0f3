// The weak-reference side table (see weak_table.h for why a side table).
#include "core/weak_table.h"

#include <cstring>
#include <functional>
#include <new>

#include "core/internal.h"

namespace ouro::detail {

namespace {

std::size_t slot_of(const Object* key, std::size_t capacity) noexcept {
  // Objects are 16-byte aligned: drop the zero bits, then mix (Fibonacci hashing).
  const auto bits = reinterpret_cast<std::uintptr_t>(key) >> 4;
  return static_cast<std::size_t>((bits * 0x9E3779B97F4A7C15ull) >> 20) & (capacity - 1);
}

WeakSlot* find(const WeakState& state, const Object* key) noexcept {
  if (state.capacity == 0) return nullptr;
  for (std::size_t i = slot_of(key, state.capacity);; i = (i + 1) & (state.capacity - 1)) {
    WeakSlot& slot = state.slots[i];
    if (slot.key == key) return &slot;
    if (slot.key == nullptr) return nullptr;
  }
}

void place(WeakSlot* slots, std::size_t capacity, Object* key, WeakRef* head) noexcept {
  std::size_t i = slot_of(key, capacity);
  while (slots[i].key != nullptr && slots[i].key != kTombstone) i = (i + 1) & (capacity - 1);
  slots[i] = {key, head};
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

WeakRef* weak_list_head(const WeakState& state, const Object* referent) noexcept {
  const WeakSlot* slot = find(state, referent);
  return slot != nullptr ? slot->head : nullptr;
}

void weak_set_head(WeakState& state, Object* referent, WeakRef* head) noexcept {
  WeakSlot* slot = find(state, referent);
  if (slot != nullptr) {
    if (head != nullptr) {
      slot->head = head;
    } else {
      slot->key = kTombstone;  // stays counted in `used` until the next rehash
      slot->head = nullptr;
      --state.live;
    }
    return;
  }
  if (head == nullptr) return;
  OURO_ASSERT((state.used + 1) * 2 <= state.capacity);
  place(state.slots, state.capacity, referent, head);
  ++state.used;
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
