// ouro::Set and ouro::FrozenSet on CPython 3.11's set table (TableOps<SetEntry> in
// value/table.h). Both iterate in CPython's order wherever the hashes are CPython's, so
// repr and pickle's ADDITEMS/FROZENSET sequences equal CPython's (with PYTHONHASHSEED=0
// for str and bytes).
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
  // frozenset(iterable) adds the items one by one into the 8-slot table (no presizing,
  // unlike a dict literal), growing as it goes.
  Ref<FrozenSet> s = make_in<FrozenSet>(heap, 0);
  for (const Value& item : items) s->add_key(item);
  return s;
}

}  // namespace ouro
