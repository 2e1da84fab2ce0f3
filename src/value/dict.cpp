// ouro::Dict: Python's dict on the compact table of value/table.h — insertion-ordered
// iteration, 16-byte entries (key, value), 1-byte indices for small dicts, and tables sized
// exactly for a known number of items (Dict::make(heap, n)), so a 4-key record costs one
// 48-byte object and one 80-byte table. While every key is a str the collector visits only
// the values (CPython's unicode-keys dict_traverse). As in CPython, a dict is untracked
// while it holds only atoms: new dicts start untracked, set() tracks one when a value or
// key may be a tracked container, and full collections untrack those holding only atoms
// again (tuples of atoms are untracked by every collection: holds_only_atoms below).
//
// Invariants kept here (DESIGN.md):
//   I3  traverse() visits each key and value once; clear() drops them all.
//   I7  tables are heap blocks (owned_bytes); set() is strongly exception-safe: a hash,
//       comparison or allocation that throws leaves the dict unchanged.
#include "value/internal.h"
#include "value/table.h"

namespace ouro {

using DictOps = detail::TableOps<DictEntry>;

#if !OURO_BARE_METAL
namespace {

// The collector's UntrackCheck (ouro/core/object.h) for tuples, asked in every collection,
// and dicts, asked in full ones only (to avoid re-examining a dict that is being built on
// every young collection: CPython's untrack_tuples / untrack_dicts, issue #14775).
bool holds_only_atoms(const Object& object) noexcept {
  if (object.type_id() == detail::value_type_id<Dict>()) {
    return DictOps::holds_only_atoms(static_cast<const Dict&>(object));
  }
  for (const Value& item : static_cast<const Tuple&>(object)) {
    if (value::detail::may_be_tracked(item)) return false;
  }
  return true;
}

}  // namespace

void value::detail::register_untrack_check() noexcept {
  static const bool registered =
      (ouro::detail::set_untrack_check(&holds_only_atoms, ouro::detail::value_type_id<Tuple>(),
                                       ouro::detail::value_type_id<Dict>()),
       true);
  (void)registered;
}
#endif

Ref<Dict> Dict::make(Heap& heap, std::size_t reserve) {
  // make_in leaves a dict untracked (Dict::kStartsUntracked) until set() stores what may be
  // a container.
  value::detail::register_untrack_check();
  Ref<Dict> d = make_in<Dict>(heap, 0);
  DictOps::presize(*d, heap, reserve);
  return d;
}

void Dict::set(Value key, Value value, ouro::SiteLocation loc) {
  SiteScope site(loc);
  Heap& heap = value::detail::heap_of(*this);
  value::detail::check_same_heap(heap, key);
  value::detail::check_same_heap(heap, value);
  // CPython's MAINTAIN_TRACKING: tracked before it holds what may be a container.
  if (!OURO_BARE_METAL && !is_tracked() &&
      (value::detail::may_be_tracked(key) || value::detail::may_be_tracked(value))) {
    detail::retrack_container(detail::core_state(heap), this);
  }
  DictEntry entry{std::move(key), std::move(value)};
  if (DictEntry* existing = DictOps::insert(*this, heap, std::move(entry))) {
    // The key stays (Python keeps the first key object); the old value dies last.
    Value old = std::exchange(existing->value, std::move(entry.value));
  }
}

const Value* Dict::find(const Value& key) const {
  const DictEntry* e = DictOps::find(*this, key);
  return e != nullptr ? &e->value : nullptr;
}

const Value& Dict::at(const Value& key) const {
  const Value* v = find(key);
  if (v == nullptr) throw KeyError(repr(key));
  return *v;
}

bool Dict::erase(const Value& key) {
  DictEntry removed = DictOps::remove(*this, key);
  return !ValueAccess::is_empty(removed.key);
}

Value Dict::pop(const Value& key) {
  DictEntry removed = DictOps::remove(*this, key);
  if (ValueAccess::is_empty(removed.key)) throw KeyError(repr(key));
  return std::move(removed.value);
}

void Dict::clear() { DictOps::clear(*this, value::detail::heap_of(*this)); }

void Dict::traverse(Visitor& visit) { DictOps::traverse(*this, visit); }

std::size_t Dict::owned_bytes() const noexcept { return DictOps::owned_bytes(*this); }

Dict::~Dict() { clear(); }

}  // namespace ouro
