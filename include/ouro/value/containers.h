// The value layer's containers: tuple, list, dict, set and frozenset. Each owns the Values
// it holds (one reference each), is tracked by the collector, and has an exact traverse()
// and clear().
//
// Invariants kept here (DESIGN.md):
//   I3  traverse() visits each held object exactly once; clear() drops them all.
//   I7  item arrays and hash tables are heap blocks (never std::vector), reported by
//       owned_bytes(); growth allocates the new block before touching the object, so a
//       MemoryError (or a collection run by the allocation) sees a consistent object and
//       the operation has no effect (strong guarantee).
//
// Dict, Set and FrozenSet share one table block layout, CPython's compact dict's (a set reads
// it as CPython's set table: one entry per slot, the indices as slot states; table.h):
//
//     +-------------+---------------------------+-----------------------------------+
//     | TableHeader | indices: 2^log2 slots of  | entries: `capacity` of them, in   |
//     | nentries,   | int8/int16/int32 (by size)| insertion order; deleted ones     |
//     | capacity    | -1 empty, -2 deleted      | hold the empty marker as key      |
//     +-------------+---------------------------+-----------------------------------+
//
// Entries do not store hashes (CPython's do): str keys cache their hash, ints and floats
// hash in a few instructions, so 8 bytes per entry are saved for a rare recomputation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <utility>

#include "ouro/value/core.h"

namespace ouro {

namespace detail {

/// The first bytes of a Dict/Set table block (see the layout above).
struct TableHeader {
  std::uint32_t nentries;  // entries used, deleted ones included
  std::uint32_t capacity;  // entries allocated
};

/// Bytes of the index part of a table with 2^log2 slots.
constexpr std::size_t table_index_bytes(unsigned log2) noexcept {
  const std::size_t slots = std::size_t{1} << log2;
  return slots * (log2 <= 7 ? 1 : log2 <= 15 ? 2 : 4);
}

/// Iterates the live entries of a table (skipping deleted ones) in insertion order.
template <class Entry>
class EntryIterator {
 public:
  EntryIterator(const Entry* at, const Entry* end) noexcept : at_(at), end_(end) { skip(); }
  const Entry& operator*() const noexcept { return *at_; }
  const Entry* operator->() const noexcept { return at_; }
  EntryIterator& operator++() noexcept {
    ++at_;
    skip();
    return *this;
  }
  bool operator==(const EntryIterator& other) const noexcept { return at_ == other.at_; }

 private:
  void skip() noexcept {
    while (at_ != end_ && ValueAccess::is_empty(at_->key)) ++at_;
  }
  const Entry* at_;
  const Entry* end_;
};

/// The storage shared by Dict and Set: a table block (or none while empty) and counts.
template <class Entry>
class TableStorage {
 public:
  using iterator = EntryIterator<Entry>;
  std::size_t size() const noexcept { return used_; }
  bool empty() const noexcept { return used_ == 0; }
  iterator begin() const noexcept { return {entries(), entries() + nentries()}; }
  iterator end() const noexcept { return {entries() + nentries(), entries() + nentries()}; }

 protected:
  template <class>
  friend struct TableOps;  // src/value/table.h: the algorithms on this storage
  TableHeader* header() const noexcept { return static_cast<TableHeader*>(table_); }
  std::uint32_t nentries() const noexcept { return table_ ? header()->nentries : 0; }
  Entry* entries() const noexcept {
    if (table_ == nullptr) return nullptr;
    // Header and index sizes are multiples of 8 (table.h checks), so entries stay aligned.
    return static_cast<Entry*>(static_cast<void*>(static_cast<char*>(table_) + sizeof(TableHeader) +
                                                  table_index_bytes(log2_)));
  }

  void* table_ = nullptr;   // heap block: header, indices, entries; null while never filled
  std::uint32_t used_ = 0;  // live entries (len())
  std::uint8_t log2_ = 0;   // log2 of the index slots (>= 3 once a table exists)
  // Dict only: every key inserted since the dict was made or cleared is a str (CPython's
  // "unicode keys" kind). traverse() then skips the keys, as CPython's dict_traverse does:
  // a str owns no reference, so the collector and gc.get_referents never need to see it.
  // (Bare metal neither reads nor keeps it: false there costs no store.)
  bool str_keys_only_ = !OURO_BARE_METAL;
};

}  // namespace detail

/// A Python tuple: a fixed number of Values stored inline. Immutable once made.
///
///     auto t = ouro::Tuple::make({1, "a"});      // in the current heap (HeapScope)
///     t->size() == 2;  (*t)[1].as<std::string_view>() == "a";
///
/// Every container's make() has an overload without `Heap&` that uses the current heap
/// and throws std::logic_error naming the call when there is none.
class Tuple final : public Object {
 public:
  static constexpr std::string_view kTypeName = "tuple";
  [[nodiscard]] static Ref<Tuple> make(Heap& heap, std::span<const Value> items);
  [[nodiscard]] static Ref<Tuple> make(Heap& heap, std::initializer_list<Value> items) {
    return make(heap, std::span<const Value>(items.begin(), items.size()));
  }
  [[nodiscard]] static Ref<Tuple> make(std::span<const Value> items) {
    return make(detail::current_heap_for("ouro::Tuple::make"), items);
  }
  [[nodiscard]] static Ref<Tuple> make(std::initializer_list<Value> items) {
    return make(std::span<const Value>(items.begin(), items.size()));
  }

  std::size_t size() const noexcept { return size_; }
  const Value& operator[](std::size_t i) const noexcept { return items()[i]; }
  /// t[i] with Python's negative indices; IndexError "tuple index out of range".
  const Value& at(std::int64_t i) const;
  const Value* begin() const noexcept { return items(); }
  const Value* end() const noexcept { return items() + size_; }
  std::span<const Value> items_span() const noexcept { return {items(), size_}; }

  void traverse(Visitor& visit) override;
  void clear() override;
  std::string py_repr() const override;  ///< Python's repr(), as ouro::repr gives it

  explicit Tuple(std::span<const Value> items) noexcept;

 private:
  Value* items() noexcept { return reinterpret_cast<Value*>(this + 1); }
  const Value* items() const noexcept { return reinterpret_cast<const Value*>(this + 1); }
  ~Tuple() override;
  std::size_t size_;  // Values inline after the object
};

/// A Python list: Values in a separately allocated array that grows as CPython's does
/// (about 1/8 over-allocation). Mutating a list invalidates its iterators.
///
///     auto l = ouro::List::make();          // in the current heap; or List::make(heap)
///     l->append(1);  l->append(l);          // a list that contains itself: [1, [...]]
class List final : public Object {
 public:
  static constexpr std::string_view kTypeName = "list";
  /// An empty list with room for `reserve` items. Throws MemoryError.
  [[nodiscard]] static Ref<List> make(Heap& heap, std::size_t reserve = 0);
  [[nodiscard]] static Ref<List> make(Heap& heap, std::span<const Value> items);
  [[nodiscard]] static Ref<List> make(Heap& heap, std::initializer_list<Value> items) {
    return make(heap, std::span<const Value>(items.begin(), items.size()));
  }
  [[nodiscard]] static Ref<List> make(std::size_t reserve = 0) {
    return make(detail::current_heap_for("ouro::List::make"), reserve);
  }
  [[nodiscard]] static Ref<List> make(std::span<const Value> items) {
    return make(detail::current_heap_for("ouro::List::make"), items);
  }
  [[nodiscard]] static Ref<List> make(std::initializer_list<Value> items) {
    return make(std::span<const Value>(items.begin(), items.size()));
  }

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  const Value& operator[](std::size_t i) const noexcept { return items_[i]; }
  /// l[i] with Python's negative indices; IndexError "list index out of range".
  const Value& at(std::int64_t i) const;
  /// l[i] = v; IndexError "list assignment index out of range".
  void set(std::int64_t i, Value v);
  /// Strong guarantee: on MemoryError the list is unchanged.
  /// The growth is charged to the caller's line when traced (ouro/core/site.h).
  void append(Value v, ouro::SiteLocation loc = ouro::SiteLocation::current());
  void extend(std::span<const Value> more, ouro::SiteLocation loc = ouro::SiteLocation::current());
  void insert(std::int64_t i, Value v, ouro::SiteLocation loc = ouro::SiteLocation::current());
  /// l.pop(i); IndexError "pop from empty list" / "pop index out of range".
  Value pop(std::int64_t i = -1);
  void reserve(std::size_t capacity);
  /// l.clear(), which is also the collector's clear(): drops every item.
  void clear() override;
  const Value* begin() const noexcept { return items_; }
  const Value* end() const noexcept { return items_ + size_; }
  std::span<const Value> items_span() const noexcept { return {items_, size_}; }

  void traverse(Visitor& visit) override;
  std::size_t owned_bytes() const noexcept override;
  std::string py_repr() const override;  ///< Python's repr(), as ouro::repr gives it

  List() noexcept = default;

 private:
  ~List() override;
  void grow_to(std::size_t capacity);
  [[gnu::noinline]] void grow_for_append(const ouro::SiteLocation& loc);
  std::size_t normalize_index(std::int64_t i, const char* message) const;

  Value* items_ = nullptr;      // heap block of capacity_ Values, or null when capacity_ is 0
  std::uint32_t size_ = 0;      // items in use
  std::uint32_t capacity_ = 0;  // items allocated
};

/// One key/value pair of a Dict, as its iterator yields it.
struct DictEntry {
  Value key;
  Value value;
};

/// A Python dict: insertion-ordered, compact (see the table layout above). Keys must be
/// hashable (TypeError "unhashable type: 'list'"); 1, 1.0 and True are the same key.
///
///     auto d = ouro::Dict::make();           // in the current heap; or Dict::make(heap)
///     d->set("id", 7);
///     for (const ouro::DictEntry& e : *d) std::cout << ouro::repr(e.key);
///     const ouro::Value* v = d->find("id");   // nullptr when missing
class Dict final : public Object, public detail::TableStorage<DictEntry> {
 public:
  static constexpr std::string_view kTypeName = "dict";
  /// A new dict holds nothing: untracked until set() stores what may be a container, as in
  /// CPython (not on bare metal, where every container stays tracked).
  static constexpr bool kStartsUntracked = !OURO_BARE_METAL;
  /// An empty dict; with `reserve` > 0 the table is sized for exactly that many items
  /// (a dict literal's size), so small records waste no entries.
  [[nodiscard]] static Ref<Dict> make(Heap& heap, std::size_t reserve = 0);
  [[nodiscard]] static Ref<Dict> make(std::size_t reserve = 0) {
    return make(detail::current_heap_for("ouro::Dict::make"), reserve);
  }

  /// d[key] = value. Throws TypeError (unhashable key), MemoryError (dict unchanged).
  void set(Value key, Value value, ouro::SiteLocation loc = ouro::SiteLocation::current());
  /// The value for `key`, or nullptr. Throws TypeError for an unhashable key.
  const Value* find(const Value& key) const;
  /// d[key]; KeyError (what() is repr(key)) when missing.
  const Value& at(const Value& key) const;
  bool contains(const Value& key) const { return find(key) != nullptr; }
  /// del d[key]; false when missing.
  bool erase(const Value& key);
  /// d.pop(key); KeyError when missing.
  Value pop(const Value& key);
  /// d.clear(), which is also the collector's clear().
  void clear() override;

  void traverse(Visitor& visit) override;
  std::size_t owned_bytes() const noexcept override;
  std::string py_repr() const override;  ///< Python's repr(), as ouro::repr gives it

  Dict() noexcept = default;

 private:
  friend struct DictAccess;
  ~Dict() override;
};

/// One element of a Set or FrozenSet.
struct SetEntry {
  Value key;
};

/// What Set and FrozenSet share: CPython 3.11's set table of unique hashable Values, which
/// iterates in CPython's order wherever the hashes are CPython's (numbers, tuples of them,
/// str and bytes as under PYTHONHASHSEED=0). repr and pickle list elements in this order.
class AnySet : public Object, public detail::TableStorage<SetEntry> {
 public:
  bool contains(const Value& key) const;
  void traverse(Visitor& visit) override;
  std::size_t owned_bytes() const noexcept override;
  std::string py_repr() const override;  ///< Python's repr(), as ouro::repr gives it

 protected:
  AnySet() noexcept = default;
  ~AnySet() override;
  /// Adds `key` if absent; true if added. Throws TypeError (unhashable), MemoryError.
  bool add_key(Value key);
  void clear_all() noexcept;
  friend struct SetAccess;
};

/// A Python set (mutable, unhashable).
///
///     auto s = ouro::Set::make();  s->add(1);  s->add(1.0);  s->size() == 1;
class Set final : public AnySet {
 public:
  static constexpr std::string_view kTypeName = "set";
  [[nodiscard]] static Ref<Set> make(Heap& heap);
  [[nodiscard]] static Ref<Set> make() { return make(detail::current_heap_for("ouro::Set::make")); }
  /// s.add(v); strong guarantee.
  void add(Value key, ouro::SiteLocation loc = ouro::SiteLocation::current()) {
    SiteScope site(loc);
    add_key(std::move(key));
  }
  /// s.discard(v); true if it was there.
  bool discard(const Value& key);
  /// s.remove(v); KeyError when missing.
  void remove(const Value& key);
  void clear() override { clear_all(); }

  Set() noexcept = default;

 private:
  ~Set() override = default;
};

/// A Python frozenset (immutable, hashable with CPython's frozenset hash).
///
///     auto f = ouro::FrozenSet::make(heap, {ouro::Value(1), ouro::Value(2)});
class FrozenSet final : public AnySet {
 public:
  static constexpr std::string_view kTypeName = "frozenset";
  [[nodiscard]] static Ref<FrozenSet> make(Heap& heap, std::span<const Value> items);
  [[nodiscard]] static Ref<FrozenSet> make(Heap& heap, std::initializer_list<Value> items) {
    return make(heap, std::span<const Value>(items.begin(), items.size()));
  }
  [[nodiscard]] static Ref<FrozenSet> make(std::span<const Value> items) {
    return make(detail::current_heap_for("ouro::FrozenSet::make"), items);
  }
  [[nodiscard]] static Ref<FrozenSet> make(std::initializer_list<Value> items) {
    return make(std::span<const Value>(items.begin(), items.size()));
  }
  void clear() override { clear_all(); }

  FrozenSet() noexcept = default;

 private:
  ~FrozenSet() override = default;
};

}  // namespace ouro
