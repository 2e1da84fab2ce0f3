// ouro::Set and ouro::FrozenSet on the compact table of value/table.h with 8-byte entries
// (the key only). Both iterate in insertion order: ouro's documented set order, which
// pickle relies on to write reproducible ADDITEMS/FROZENSET sequences.
//
// Invariants kept here (DESIGN.md):
//   I3  traverse() visits each element once; clear() drops them all.
//   I7  tables are heap blocks (owned_bytes); add() is strongly exception-safe.
#include "value/internal.h"
#include "value/table.h"

namespace ouro {

using SetOps = detail::TableOps<SetEntry>;

bool AnySet::contains(const Value& key) const { return SetOps::find(*this, key) != nullptr; }

bool AnySet::add_key(Value key) {
  return SetOps::insert(*this, value::detail::heap_of(*this), SetEntry{std::move(key)}) == nullptr;
}

void AnySet::clear_all() noexcept { SetOps::clear(*this, value::detail::heap_of(*this)); }

void AnySet::traverse(Visitor& visit) { SetOps::traverse(*this, visit); }

std::size_t AnySet::owned_bytes() const noexcept { return SetOps::owned_bytes(*this); }

AnySet::~AnySet() { clear_all(); }

Ref<Set> Set::make(Heap& heap) { return make_in<Set>(heap, 0); }

bool Set::discard(const Value& key) {
  SetEntry removed = SetOps::remove(*this, key);
  return !ValueAccess::is_empty(removed.key);
}

void Set::remove(const Value& key) {
  if (!discard(key)) throw KeyError(repr(key));
}

Ref<FrozenSet> FrozenSet::make(Heap& heap, std::span<const Value> items) {
  Ref<FrozenSet> s = make_in<FrozenSet>(heap, 0);
  SetOps::presize(*s, heap, items.size());
  for (const Value& item : items) s->add_key(item);
  return s;
}

}  // namespace ouro
