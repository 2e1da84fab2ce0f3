// The hash tables on a TableStorage declared in ouro/value/containers.h:
//  - Dict: CPython's compact dict (an index array of small integers into an
//    insertion-ordered entries array). Probing is CPython's: i = (5*i + perturb + 1) mod
//    slots with perturb >>= 5, so every slot is reached; the load stays at most 2/3.
//  - Set and FrozenSet (TableOps<SetEntry> below): CPython 3.11's set table
//    (Objects/setobject.c), so that a set iterates in CPython's order wherever the hashes
//    are CPython's (numbers, tuples of them, and str/bytes as with PYTHONHASHSEED=0).
//
// Invariants kept here (DESIGN.md):
//   I3  between any two calls the storage is consistent (entries [0, nentries) are live or
//       empty-marked, each live one indexed exactly once), because the collector may run
//       inside any allocation and traverses it.
//   I7  a new table is allocated before the old one is touched; if the allocation (or a key
//       hash during rebuild) throws, the storage is unchanged (strong guarantee).
// References are dropped only after the storage is consistent again: destroying a key or
// value may run arbitrary code (a finalizer) that looks at this very table.
#pragma once

#include <cstring>
#include <new>
#include <utility>

#include "ouro/core/heap.h"
#include "value/internal.h"

namespace ouro::detail {

/// Slot `slot` of the index part of a table block with 2^log2 slots (int8, int16 or int32
/// wide by size).
/// (The header is 8 bytes, so the indices are aligned for their width; the casts go through
/// void* because -Wcast-align cannot see that on strict-alignment targets.)
inline std::int64_t table_get_index(const void* table, unsigned log2, std::size_t slot) noexcept {
  const void* indices = static_cast<const char*>(table) + sizeof(TableHeader);
  if (log2 <= 7) return static_cast<const std::int8_t*>(indices)[slot];
  if (log2 <= 15) return static_cast<const std::int16_t*>(indices)[slot];
  return static_cast<const std::int32_t*>(indices)[slot];
}
inline void table_set_index(void* table, unsigned log2, std::size_t slot,
                            std::int64_t ix) noexcept {
  void* indices = static_cast<char*>(table) + sizeof(TableHeader);
  if (log2 <= 7) {
    static_cast<std::int8_t*>(indices)[slot] = static_cast<std::int8_t>(ix);
  } else if (log2 <= 15) {
    static_cast<std::int16_t*>(indices)[slot] = static_cast<std::int16_t>(ix);
  } else {
    static_cast<std::int32_t*>(indices)[slot] = static_cast<std::int32_t>(ix);
  }
}

template <class Entry>
struct TableOps {
  using Storage = TableStorage<Entry>;
  static constexpr std::int64_t kEmptyIndex = -1;
  static constexpr std::int64_t kDeletedIndex = -2;
  static constexpr unsigned kMinLog2 = 3;  // PyDict_MINSIZE 8: usable 5
  // Entries follow the header and the indices: both must keep them aligned (on 32-bit
  // targets too, where an Entry's int64 hash still wants 8 bytes).
  static_assert(sizeof(TableHeader) % alignof(Entry) == 0 &&
                    table_index_bytes(kMinLog2) % alignof(Entry) == 0,
                "table layout would misalign its entries");
  static constexpr std::size_t kMaxItems = std::size_t{1} << 30;

  /// USABLE_FRACTION: at most 2/3 of the slots hold entries.
  static constexpr std::size_t usable(unsigned log2) noexcept {
    return ((std::size_t{1} << log2) << 1) / 3;
  }
  /// Smallest table (>= 8 slots) whose usable fraction holds n entries.
  static unsigned log2_for(std::size_t n) noexcept {
    unsigned log2 = kMinLog2;
    while (usable(log2) < n) ++log2;
    return log2;
  }
  static std::size_t table_bytes(unsigned log2, std::size_t capacity) noexcept {
    return sizeof(TableHeader) + table_index_bytes(log2) + capacity * sizeof(Entry);
  }

  static std::int64_t get_index(const void* table, unsigned log2, std::size_t slot) noexcept {
    return table_get_index(table, log2, slot);
  }
  static void set_index(void* table, unsigned log2, std::size_t slot, std::int64_t ix) noexcept {
    table_set_index(table, log2, slot, ix);
  }
  static Entry* entries_of(void* table, unsigned log2) noexcept {
    return static_cast<Entry*>(static_cast<void*>(static_cast<char*>(table) + sizeof(TableHeader) +
                                                  table_index_bytes(log2)));
  }

  /// True if the stored key equals `key` (whose hash is `hash`): identity first, then the
  /// cached hashes of strs, then Python equality for equal hashes.
  static bool key_matches(const Value& stored, const Value& key, std::int64_t hash) {
    if (stored.is_same(key)) return true;
    const Str* a = stored.get_if<Str>();
    const Str* b = a != nullptr ? key.get_if<Str>() : nullptr;
    if (b != nullptr) return a->hash() == b->hash() && a->utf8() == b->utf8();
    return ouro::hash(stored) == hash && ouro::equals(stored, key);
  }

  /// CPython's probe step: perturb shifts first, then i = 5*i + perturb + 1 (mod slots).
  /// Every probe loop must use this one sequence, or keys placed by one are lost to another.
  static std::size_t next_slot(std::size_t slot, std::uint64_t& perturb,
                               std::size_t mask) noexcept {
    perturb >>= 5;
    return (slot * 5 + perturb + 1) & mask;
  }

  struct Probe {
    std::size_t slot;    // where the key is indexed, or the first free slot for it
    std::int64_t entry;  // its entry, or -1 when absent
  };

  /// Finds `key`. Precondition: the table exists.
  static Probe lookup(const Storage& s, const Value& key, std::int64_t hash) {
    const std::size_t mask = (std::size_t{1} << s.log2_) - 1;
    const Entry* entries = s.entries();
    std::size_t slot = static_cast<std::size_t>(hash) & mask;
    std::size_t free_slot = SIZE_MAX;
    for (auto perturb = static_cast<std::uint64_t>(hash);; slot = next_slot(slot, perturb, mask)) {
      const std::int64_t ix = get_index(s.table_, s.log2_, slot);
      if (ix == kEmptyIndex) return {free_slot != SIZE_MAX ? free_slot : slot, -1};
      if (ix == kDeletedIndex) {
        if (free_slot == SIZE_MAX) free_slot = slot;
      } else if (key_matches(entries[ix].key, key, hash)) {
        return {slot, ix};
      }
    }
  }

  /// The live entry for `key`, or nullptr.
  static Entry* find(const Storage& s, const Value& key) {
    if (s.table_ == nullptr) return nullptr;
    const std::int64_t hash = ouro::hash(key);
    const Probe p = lookup(s, key, hash);
    return p.entry < 0 ? nullptr : s.entries() + p.entry;
  }

  /// Allocates an empty table block (indices all empty) in `heap`. Throws MemoryError.
  static void* allocate_table(Heap& heap, unsigned log2, std::size_t capacity) {
    if (capacity > kMaxItems) throw OverflowError("too many items for a dict or set");
    void* table = heap.allocate(table_bytes(log2, capacity));
    auto* header = ::new (table) TableHeader{0, static_cast<std::uint32_t>(capacity)};
    std::memset(header + 1, 0xff, table_index_bytes(log2));  // -1 in every width
    return table;
  }

  /// Moves the live entries into a new table of 2^log2 slots with room for `capacity`
  /// entries. Strong guarantee: on any exception the storage is unchanged.
  static void resize(Storage& s, Heap& heap, unsigned log2, std::size_t capacity) {
    void* fresh = allocate_table(heap, log2, capacity);
    Entry* to = entries_of(fresh, log2);
    const std::size_t mask = (std::size_t{1} << log2) - 1;
    std::uint32_t n = 0;
    try {
      for (const Entry& e : s) {
        const auto hash = static_cast<std::uint64_t>(ouro::hash(e.key));
        std::size_t slot = hash & mask;
        for (std::uint64_t perturb = hash; get_index(fresh, log2, slot) != kEmptyIndex;) {
          slot = next_slot(slot, perturb, mask);
        }
        set_index(fresh, log2, slot, n++);
      }
    } catch (...) {
      heap.deallocate(fresh, table_bytes(log2, capacity));
      throw;
    }
    // Values are one word with no self-pointers: relocating them is a byte copy.
    n = 0;
    for (const Entry& e : s) std::memcpy(static_cast<void*>(to + n++), &e, sizeof(Entry));
    static_cast<TableHeader*>(fresh)->nentries = n;
    void* old = std::exchange(s.table_, fresh);
    const std::size_t old_bytes =
        old ? table_bytes(s.log2_, static_cast<TableHeader*>(old)->capacity) : 0;
    s.log2_ = static_cast<std::uint8_t>(log2);
    if (old != nullptr) heap.deallocate(old, old_bytes);
  }

  /// Makes room for one more entry (CPython's GROWTH_RATE: used * 3 slots).
  static void ensure_room(Storage& s, Heap& heap) {
    if (s.table_ == nullptr) {
      s.table_ = allocate_table(heap, kMinLog2, usable(kMinLog2));
      s.log2_ = kMinLog2;
      return;
    }
    const TableHeader* h = s.header();
    if (h->nentries < h->capacity) return;
    const unsigned log2 = log2_for_slots(std::max<std::size_t>(s.used_ * 3, 8));
    resize(s, heap, log2, usable(log2));
  }
  static unsigned log2_for_slots(std::size_t slots) noexcept {
    unsigned log2 = kMinLog2;
    while ((std::size_t{1} << log2) < slots) ++log2;
    return log2;
  }

  /// Sizes an empty storage for exactly `n` entries (a literal's size).
  static void presize(Storage& s, Heap& heap, std::size_t n) {
    if (n == 0 || s.table_ != nullptr) return;
    const unsigned log2 = log2_for(n);
    s.table_ = allocate_table(heap, log2, n);
    s.log2_ = static_cast<std::uint8_t>(log2);
  }

  /// Inserts a new entry at `slot` (from a lookup that found nothing, after ensure_room
  /// and a fresh lookup). The entry's Values are moved in.
  static void insert_at(Storage& s, std::size_t slot, Entry&& entry) noexcept {
    TableHeader* h = s.header();
    Entry* e = s.entries() + h->nentries;
    ::new (static_cast<void*>(e)) Entry(std::move(entry));
    if (!OURO_BARE_METAL && !e->key.template is<Str>()) s.str_keys_only_ = false;
    set_index(s.table_, s.log2_, slot, h->nentries);
    ++h->nentries;
    ++s.used_;
  }

  /// Inserts `entry` unless its key is present; returns the existing entry or nullptr.
  /// Strong guarantee.
  static Entry* insert(Storage& s, Heap& heap, Entry&& entry) {
    const std::int64_t hash = ouro::hash(entry.key);
    if (s.table_ != nullptr) {
      const Probe p = lookup(s, entry.key, hash);
      if (p.entry >= 0) return s.entries() + p.entry;
      if (s.header()->nentries < s.header()->capacity) {
        insert_at(s, p.slot, std::move(entry));
        return nullptr;
      }
    }
    ensure_room(s, heap);
    const Probe p = lookup(s, entry.key, hash);
    insert_at(s, p.slot, std::move(entry));
    return nullptr;
  }

  /// Removes `key`; returns the removed entry (its references die with the caller's copy,
  /// after the storage is consistent), or an entry with an empty key when absent.
  static Entry remove(Storage& s, const Value& key) {
    Entry out{};
    out.key = ValueAccess::empty();
    if (s.table_ == nullptr) return out;
    const Probe p = lookup(s, key, ouro::hash(key));
    if (p.entry < 0) return out;
    Entry& e = s.entries()[p.entry];
    out = std::move(e);
    e.key = ValueAccess::empty();
    set_index(s.table_, s.log2_, p.slot, kDeletedIndex);
    --s.used_;
    return out;
  }

  /// Empties the storage; the old entries die after it is consistent (and empty).
  static void clear(Storage& s, Heap& heap) noexcept {
    void* table = std::exchange(s.table_, nullptr);
    if (table == nullptr) return;
    const unsigned log2 = s.log2_;
    s.used_ = 0;
    s.log2_ = 0;
    if (!OURO_BARE_METAL) s.str_keys_only_ = true;
    auto* h = static_cast<TableHeader*>(table);
    Entry* entries = entries_of(table, log2);
    for (std::uint32_t i = 0; i < h->nentries; ++i) entries[i].~Entry();
    heap.deallocate(table, table_bytes(log2, h->capacity));
  }

  /// CPython's dict_traverse: each value, then its key unless every key is a str (a str
  /// owns nothing, so skipping the keys halves a record's visits); gc.get_referents sees
  /// the same references in the same order as CPython's.
  /// (Bare metal keeps visiting every key: no flash for the flag's upkeep.)
  static void traverse(const Storage& s, Visitor& visit) {
    const bool keys = OURO_BARE_METAL || !s.str_keys_only_;
    for (const Entry& e : s) {
      e.value.visit(visit);
      if (keys) e.key.visit(visit);
    }
  }

  static std::size_t owned_bytes(const Storage& s) noexcept {
    return s.table_ ? Heap::block_size_for(table_bytes(s.log2_, s.header()->capacity)) : 0;
  }

  /// CPython's _PyDict_MaybeUntrack test: no value, nor (unless every key is a str) key,
  /// is a container that is or may become tracked.
  static bool holds_only_atoms(const Storage& s) noexcept {
    for (const Entry& e : s) {
      if (value::detail::may_be_tracked(e.value)) return false;
      if (!s.str_keys_only_ && value::detail::may_be_tracked(e.key)) return false;
    }
    return true;
  }
};

/// CPython 3.11's set table, on the same block layout as a dict's, read differently:
///
///     +-------------------------+---------------------------+-----------------------------+
///     | TableHeader             | slot states: 2^log2 of    | keys: one per slot, in slot |
///     | nentries = 2^log2 slots | -1 unused, -2 dummy       | order (the empty marker in  |
///     | capacity = fill         | (deleted), 0 active       | unused and dummy slots)     |
///     +-------------------------+---------------------------+-----------------------------+
///
/// so that iterating the entries (TableStorage::begin/end, which skip empty keys) walks the
/// slots in order, as CPython's set_next does. The rules reproduced (setobject.c):
///  - a new set has 8 slots (PySet_MINSIZE);
///  - a key's probe sequence starts at hash & mask and looks at that slot and, when they fit
///    before the end of the table, the next LINEAR_PROBES = 9 slots; then perturb >>= 5 and
///    i = (5*i + 1 + perturb) & mask, again with the linear run;
///  - an add goes to the last dummy slot met on the way (3.11 overwrites its freeslot at
///    each dummy), else to the unused slot that ends the search; taking an unused slot raises
///    `fill` (active + dummy slots), and once fill * 5 >= mask * 3 the table is rebuilt for used *
///    4 keys (used * 2 beyond 50,000): the smallest power of two above that, keys reinserted in old
///    slot order with the same probing, dummies dropped;
///  - a removal turns the slot into a dummy (fill unchanged), so later keys still find theirs.
/// Entries keep no hash (CPython's keep one): a probe compares identity, then recomputes the
/// stored key's hash (cached for str) before an equality test, which decides the same.
template <>
struct TableOps<SetEntry> {
  using Storage = TableStorage<SetEntry>;
  static constexpr std::int64_t kUnused = -1;
  static constexpr std::int64_t kDummy = -2;
  static constexpr std::int64_t kActive = 0;
  static constexpr unsigned kMinLog2 = 3;          // PySet_MINSIZE 8
  static constexpr std::size_t kLinearProbes = 9;  // LINEAR_PROBES
  static constexpr unsigned kPerturbShift = 5;     // PERTURB_SHIFT
  static constexpr std::size_t kMaxItems = std::size_t{1} << 30;

  static std::size_t table_bytes(unsigned log2) noexcept {
    return sizeof(TableHeader) + table_index_bytes(log2) +
           (std::size_t{1} << log2) * sizeof(SetEntry);
  }
  static SetEntry* keys_of(void* table, unsigned log2) noexcept {
    return static_cast<SetEntry*>(static_cast<void*>(
        static_cast<char*>(table) + sizeof(TableHeader) + table_index_bytes(log2)));
  }
  static std::uint32_t& fill(const Storage& s) noexcept { return s.header()->capacity; }

  /// A table of 2^log2 unused slots (keys are the empty marker). Throws MemoryError.
  static void* allocate_table(Heap& heap, unsigned log2) {
    const std::size_t slots = std::size_t{1} << log2;
    void* table = heap.allocate(table_bytes(log2));
    ::new (table) TableHeader{static_cast<std::uint32_t>(slots), 0};
    std::memset(static_cast<TableHeader*>(table) + 1, 0xff, table_index_bytes(log2));  // -1
    SetEntry* keys = keys_of(table, log2);
    for (std::size_t i = 0; i < slots; ++i) ::new (static_cast<void*>(keys + i)) SetEntry{};
    for (std::size_t i = 0; i < slots; ++i) keys[i].key = ValueAccess::empty();
    return table;
  }
  static void deallocate_table(Heap& heap, void* table, unsigned log2) noexcept {
    heap.deallocate(table, table_bytes(log2));
  }

  /// Whether `stored` is `key` (hash `hash`) as setobject.c decides: identity, then equal
  /// hashes and equality.
  static bool key_matches(const Value& stored, const Value& key, std::int64_t hash) {
    return TableOps<DictEntry>::key_matches(stored, key, hash);
  }

  /// The slots a probe looks at from `start`: start, and the linear run after it when the
  /// run fits in the table.
  static std::size_t linear_run(std::size_t start, std::size_t mask) noexcept {
    return start + kLinearProbes <= mask ? kLinearProbes : 0;
  }

  struct Probe {
    std::size_t slot;  // the key's slot, or where an add puts it (last dummy, else unused)
    bool found;        // the key is active at `slot`
    bool unused;       // not found, and `slot` is an unused slot (an add raises fill)
  };

  /// set_add_entry's search (also set_lookkey's: a lookup ignores the free slot).
  /// Precondition: the table exists.
  static Probe probe(const Storage& s, const Value& key, std::int64_t hash) {
    const std::size_t mask = (std::size_t{1} << s.log2_) - 1;
    const SetEntry* keys = s.entries();
    auto perturb = static_cast<std::uint64_t>(hash);
    std::size_t i = static_cast<std::size_t>(hash) & mask;
    std::size_t free_slot = SIZE_MAX;
    for (;;) {
      const std::size_t last = i + linear_run(i, mask);
      for (std::size_t j = i; j <= last; ++j) {
        const std::int64_t state = table_get_index(s.table_, s.log2_, j);
        if (state == kUnused) {
          return free_slot != SIZE_MAX ? Probe{free_slot, false, false} : Probe{j, false, true};
        }
        if (state == kDummy) {
          free_slot = j;  // the last dummy met, as 3.11's set_add_entry keeps it
        } else if (key_matches(keys[j].key, key, hash)) {
          return {j, true, false};
        }
      }
      perturb >>= kPerturbShift;
      i = (i * 5 + 1 + perturb) & mask;
    }
  }

  /// set_insert_clean: the slot a key known to be absent takes in a table without dummies.
  static std::size_t clean_slot(const void* table, unsigned log2, std::uint64_t hash) noexcept {
    const std::size_t mask = (std::size_t{1} << log2) - 1;
    std::uint64_t perturb = hash;
    std::size_t i = hash & mask;
    for (;;) {
      const std::size_t last = i + linear_run(i, mask);
      for (std::size_t j = i; j <= last; ++j) {
        if (table_get_index(table, log2, j) == kUnused) return j;
      }
      perturb >>= kPerturbShift;
      i = (i * 5 + 1 + perturb) & mask;
    }
  }

  static SetEntry* find(const Storage& s, const Value& key) {
    if (s.table_ == nullptr) return nullptr;
    const Probe p = probe(s, key, ouro::hash(key));
    return p.found ? s.entries() + p.slot : nullptr;
  }

  /// set_table_resize(minused) with one key more: the key at `pending_slot` of the old
  /// table (not yet stored there) is placed as if it were, so the result is CPython's
  /// table after "insert, then resize". Strong guarantee: on any exception (allocation, a
  /// key's hash) the storage is unchanged and `pending` still owns its reference.
  static void rebuild(Storage& s, Heap& heap, std::size_t minused, SetEntry* pending,
                      std::size_t pending_slot) {
    unsigned log2 = kMinLog2;
    while ((std::size_t{1} << log2) <= minused) ++log2;
    void* fresh = allocate_table(heap, log2);
    SetEntry* to = keys_of(fresh, log2);
    const std::size_t old_slots = s.table_ ? (std::size_t{1} << s.log2_) : 0;
    const SetEntry* from = s.entries();
    std::uint32_t used = 0;
    // First pass: where each key goes (hashes may throw; nothing is moved yet).
    struct Move {
      const SetEntry* source;
      std::size_t slot;
    };
    Move* moves = nullptr;
    std::size_t moves_bytes = (s.used_ + 1) * sizeof(Move);
    try {
      moves = static_cast<Move*>(heap.allocate(moves_bytes));
      for (std::size_t i = 0; i < old_slots; ++i) {
        const SetEntry* e = i == pending_slot && pending != nullptr ? pending : from + i;
        if (e != pending && table_get_index(s.table_, s.log2_, i) != kActive) continue;
        const auto hash = static_cast<std::uint64_t>(ouro::hash(e->key));
        const std::size_t slot = clean_slot(fresh, log2, hash);
        table_set_index(fresh, log2, slot, kActive);
        moves[used++] = {e, slot};
      }
    } catch (...) {
      if (moves != nullptr) heap.deallocate(moves, moves_bytes);
      deallocate_table(heap, fresh, log2);
      throw;
    }
    // Second pass: relocate (Values are one word without self-pointers: a byte copy).
    for (std::uint32_t k = 0; k < used; ++k) {
      std::memcpy(static_cast<void*>(to + moves[k].slot), moves[k].source, sizeof(SetEntry));
    }
    if (pending != nullptr) ValueAccess::release(pending->key);  // its reference moved
    heap.deallocate(moves, moves_bytes);
    void* old = std::exchange(s.table_, fresh);
    const unsigned old_log2 = s.log2_;
    s.log2_ = static_cast<std::uint8_t>(log2);
    s.used_ = used;
    fill(s) = used;
    if (old != nullptr) deallocate_table(heap, old, old_log2);  // keys moved: no decref
  }

  /// set_add_entry: adds `entry.key` unless an equal key is there (returned). Strong
  /// guarantee.
  static SetEntry* insert(Storage& s, Heap& heap, SetEntry&& entry) {
    if (s.used_ >= kMaxItems) throw OverflowError("too many items for a set");
    const std::int64_t hash = ouro::hash(entry.key);
    if (s.table_ == nullptr) {
      s.table_ = allocate_table(heap, kMinLog2);
      s.log2_ = kMinLog2;
    }
    const Probe p = probe(s, entry.key, hash);
    if (p.found) return s.entries() + p.slot;
    const std::size_t mask = (std::size_t{1} << s.log2_) - 1;
    if (p.unused && (std::size_t{fill(s)} + 1) * 5 >= mask * 3) {
      const std::size_t used = s.used_ + 1;
      return rebuild(s, heap, used > 50000 ? used * 2 : used * 4, &entry, p.slot), nullptr;
    }
    s.entries()[p.slot].key = std::move(entry.key);
    table_set_index(s.table_, s.log2_, p.slot, kActive);
    if (p.unused) ++fill(s);
    ++s.used_;
    return nullptr;
  }

  /// set_discard_entry: the slot becomes a dummy; the removed entry is returned (its
  /// reference dies with the caller's copy), or an empty-keyed entry when absent.
  static SetEntry remove(Storage& s, const Value& key) {
    SetEntry out{};
    out.key = ValueAccess::empty();
    if (s.table_ == nullptr) return out;
    const Probe p = probe(s, key, ouro::hash(key));
    if (!p.found) return out;
    SetEntry& e = s.entries()[p.slot];
    out.key = std::exchange(e.key, ValueAccess::empty());
    table_set_index(s.table_, s.log2_, p.slot, kDummy);
    --s.used_;
    return out;
  }

  /// Empties the storage (the next add starts a fresh 8-slot table, as set_clear_internal
  /// leaves one); the old keys die after the storage is consistent.
  static void clear(Storage& s, Heap& heap) noexcept {
    void* table = std::exchange(s.table_, nullptr);
    if (table == nullptr) return;
    const unsigned log2 = s.log2_;
    s.used_ = 0;
    s.log2_ = 0;
    if (!OURO_BARE_METAL) s.str_keys_only_ = true;
    SetEntry* keys = keys_of(table, log2);
    for (std::size_t i = 0; i < (std::size_t{1} << log2); ++i) keys[i].~SetEntry();
    deallocate_table(heap, table, log2);
  }

  static void traverse(const Storage& s, Visitor& visit) {
    for (const SetEntry& e : s) e.key.visit(visit);
  }

  static std::size_t owned_bytes(const Storage& s) noexcept {
    return s.table_ ? Heap::block_size_for(table_bytes(s.log2_)) : 0;
  }
};

}  // namespace ouro::detail
