// ouro::List and ouro::Tuple: the sequences. A tuple's items are inline in its block and
// fixed at creation; a list's items are in a separately allocated array that grows with
// CPython's over-allocation rule, so appending is amortised O(1).
//
// Invariants kept here (DESIGN.md):
//   I3  traverse() visits every item once; clear() drops them all.
//   I7  the item array is a heap block (owned_bytes); growth allocates the new array before
//       touching the list, so a MemoryError or a collection run inside the allocation sees
//       a consistent list, and the operation has no effect (strong guarantee).
// Items are dropped only after the list is consistent again: an item's death may run code
// (a finalizer) that reads this list.
#include <algorithm>
#include <cstring>
#include <new>

#include "value/internal.h"

namespace ouro {

namespace vd = value::detail;

// --- Tuple ------------------------------------------------------------------------------

// The items are copied here, in the constructor: make_in tracks the tuple right after,
// and that may run a collection that traverses it.
Tuple::Tuple(std::span<const Value> items) noexcept : size_(items.size()) {
  Value* out = this->items();
  for (std::size_t i = 0; i < size_; ++i) ::new (static_cast<void*>(out + i)) Value(items[i]);
}

Ref<Tuple> Tuple::make(Heap& heap, std::span<const Value> items) {
  vd::check_same_heap(heap, items);
  vd::register_untrack_check();  // collections untrack tuples of atoms (dict.cpp)
  return make_in<Tuple>(heap, items.size() * sizeof(Value), items);
}

const Value& Tuple::at(std::int64_t i) const {
  if (!vd::normalize_index(i, size_)) throw IndexError("tuple index out of range");
  return items()[i];
}

void Tuple::traverse(Visitor& visit) {
  for (const Value& item : *this) item.visit(visit);
}

void Tuple::clear() {
  for (std::size_t i = 0; i < size_; ++i) {
    Value dropped = std::move(items()[i]);  // the slot is None before the item dies
  }
}

Tuple::~Tuple() {
  for (std::size_t i = 0; i < size_; ++i) items()[i].~Value();
}

// --- List -------------------------------------------------------------------------------

namespace {
constexpr std::size_t kMaxListSize = 0xFFFFFFFFu;  // size_ and capacity_ are 32 bits

// CPython's list_resize over-allocation: ~1/8 extra plus a little, rounded to 4.
std::size_t grown_capacity(std::size_t needed, std::size_t current) noexcept {
  std::size_t capacity = (needed + (needed >> 3) + 6) & ~std::size_t{3};
  if (needed - current > capacity - needed) capacity = (needed + 3) & ~std::size_t{3};
  return std::min(capacity, kMaxListSize);
}
}  // namespace

Ref<List> List::make(Heap& heap, std::size_t reserve) {
  Ref<List> l = make_in<List>(heap, 0);
  if (reserve != 0) l->grow_to(reserve);
  return l;
}

Ref<List> List::make(Heap& heap, std::span<const Value> items) {
  Ref<List> l = make(heap, items.size());
  l->extend(items);
  return l;
}

void List::grow_to(std::size_t capacity) {
  if (capacity <= capacity_) return;
  if (capacity > kMaxListSize) throw OverflowError("list too long");
  Heap& heap = vd::heap_of(*this);
  auto* fresh = static_cast<Value*>(heap.allocate(capacity * sizeof(Value)));
  // Values are one word with no self-pointers: relocating them is a byte copy.
  if (size_ != 0) std::memcpy(static_cast<void*>(fresh), items_, size_ * sizeof(Value));
  Value* old = std::exchange(items_, fresh);
  const std::size_t old_capacity = std::exchange(capacity_, static_cast<std::uint32_t>(capacity));
  if (old != nullptr) heap.deallocate(old, old_capacity * sizeof(Value));
}

void List::reserve(std::size_t capacity) { grow_to(capacity); }

std::size_t List::normalize_index(std::int64_t i, const char* message) const {
  if (!vd::normalize_index(i, size_)) throw IndexError(message);
  return static_cast<std::size_t>(i);
}

const Value& List::at(std::int64_t i) const {
  return items_[normalize_index(i, "list index out of range")];
}

void List::set(std::int64_t i, Value v) {
  vd::check_same_heap(*this, v);
  Value& slot = items_[normalize_index(i, "list assignment index out of range")];
  Value old = std::exchange(slot, std::move(v));  // dies after the list is consistent
}

void List::grow_for_append(const ouro::SiteLocation& loc) {
  SiteScope site(loc);  // only growing allocates: the growth is the caller's line's
  grow_to(grown_capacity(std::size_t{size_} + 1, capacity_));
}

void List::append(Value v, ouro::SiteLocation loc) {
  vd::check_same_heap(*this, v);
  if (size_ == capacity_) grow_for_append(loc);  // out of line: append itself needs no frame
  ::new (static_cast<void*>(items_ + size_)) Value(std::move(v));
  ++size_;
}

void List::extend(std::span<const Value> more, ouro::SiteLocation loc) {
  vd::check_same_heap(vd::heap_of(*this), more);
  // `more` may be this list's own items (l.extend(l)): read them by index after growth.
  const bool self = !more.empty() && more.data() >= items_ && more.data() < items_ + size_;
  const std::size_t offset = self ? static_cast<std::size_t>(more.data() - items_) : 0;
  const std::size_t needed = std::size_t{size_} + more.size();
  if (needed > capacity_) {
    SiteScope site(loc);
    grow_to(grown_capacity(needed, capacity_));
  }
  for (std::size_t i = 0; i < more.size(); ++i) {
    const Value& item = self ? items_[offset + i] : more[i];
    ::new (static_cast<void*>(items_ + size_)) Value(item);
    ++size_;
  }
}

void List::insert(std::int64_t i, Value v, ouro::SiteLocation loc) {
  vd::check_same_heap(*this, v);
  // Python clamps the position of list.insert instead of raising.
  if (i < 0) i = std::max<std::int64_t>(i + size_, 0);
  const auto at = std::min<std::size_t>(static_cast<std::size_t>(i), size_);
  if (size_ == capacity_) {
    SiteScope site(loc);
    grow_to(grown_capacity(std::size_t{size_} + 1, capacity_));
  }
  std::memmove(static_cast<void*>(items_ + at + 1), items_ + at, (size_ - at) * sizeof(Value));
  ::new (static_cast<void*>(items_ + at)) Value(std::move(v));
  ++size_;
}

Value List::pop(std::int64_t i) {
  if (size_ == 0) throw IndexError("pop from empty list");
  const std::size_t at = normalize_index(i, "pop index out of range");
  Value out = std::move(items_[at]);
  items_[at].~Value();
  std::memmove(static_cast<void*>(items_ + at), items_ + at + 1, (size_ - at - 1) * sizeof(Value));
  --size_;
  return out;
}

void List::clear() {
  Value* items = std::exchange(items_, nullptr);
  const std::size_t size = std::exchange(size_, 0);
  const std::size_t capacity = std::exchange(capacity_, 0);
  // The list is empty and consistent before any item dies.
  for (std::size_t i = 0; i < size; ++i) items[i].~Value();
  if (items != nullptr) vd::heap_of(*this).deallocate(items, capacity * sizeof(Value));
}

void List::traverse(Visitor& visit) {
  for (const Value& item : *this) item.visit(visit);
}

std::size_t List::owned_bytes() const noexcept {
  return items_ != nullptr ? Heap::block_size_for(std::size_t{capacity_} * sizeof(Value)) : 0;
}

List::~List() { clear(); }

}  // namespace ouro
