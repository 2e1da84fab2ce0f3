// The hash table shared by Dict, Set and FrozenSet: CPython's compact dict (an index array
// of small integers into an insertion-ordered entries array), on a TableStorage declared in
// ouro/value/containers.h. Probing is CPython's: i = (5*i + perturb + 1) mod slots with
// perturb >>= 5, so every slot is reached; the load stays at most 2/3.
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
    const char* base = static_cast<const char*>(table) + sizeof(TableHeader);
    if (log2 <= 7) return static_cast<const std::int8_t*>(static_cast<const void*>(base))[slot];
    if (log2 <= 15) return static_cast<const std::int16_t*>(static_cast<const void*>(base))[slot];
    return static_cast<const std::int32_t*>(static_cast<const void*>(base))[slot];
  }
  static void set_index(void* table, unsigned log2, std::size_t slot, std::int64_t ix) noexcept {
    char* base = static_cast<char*>(table) + sizeof(TableHeader);
    void* indices = base;
    if (log2 <= 7) {
      static_cast<std::int8_t*>(indices)[slot] = static_cast<std::int8_t>(ix);
    } else if (log2 <= 15) {
      static_cast<std::int16_t*>(indices)[slot] = static_cast<std::int16_t>(ix);
    } else {
      static_cast<std::int32_t*>(indices)[slot] = static_cast<std::int32_t>(ix);
    }
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
    auto* h = static_cast<TableHeader*>(table);
    Entry* entries = entries_of(table, log2);
    for (std::uint32_t i = 0; i < h->nentries; ++i) entries[i].~Entry();
    heap.deallocate(table, table_bytes(log2, h->capacity));
  }

  static void traverse(const Storage& s, Visitor& visit) {
    for (const Entry& e : s) {
      e.key.visit(visit);
      if constexpr (requires { e.value; }) e.value.visit(visit);
    }
  }

  static std::size_t owned_bytes(const Storage& s) noexcept {
    return s.table_ ? Heap::block_size_for(table_bytes(s.log2_, s.header()->capacity)) : 0;
  }
};

}  // namespace ouro::detail
