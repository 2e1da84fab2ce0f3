// Weak containers: Python's WeakValueDictionary, WeakKeyDictionary and WeakSet.
//
// Each container is a plain C++ object (not managed) whose entries hold one weak reference
// with a callback; when the referent dies, the callback removes the entry. Keeps DESIGN.md
// I5 on their side: a container never keeps its weakly held objects alive.
//
// Safety of the callbacks. A container's state (its table) lives behind a stable pointer,
// so moving the container does not move what the callbacks point to, and the table
// disarms (detail::clear_callback) the weak reference of every entry it lets go of, and all
// of them in its destructor. Hence: an armed callback always belongs to an entry of a live
// table. Callbacks find their entry again by (hash, weak reference identity), never through
// an iterator or pointer kept from the time of the insertion.
//
// Order: entries are iterated in insertion order, as Python's dicts (and so its weak
// dictionaries) are; replacing the value of an existing key keeps its place.
//
// Iteration (CPython's _IterationGuard and pending removals). A live iterator holds an
// iteration guard; while any guard is held, callbacks do not erase but count a pending
// removal, so the table's iterators stay valid; the last guard to end removes every dead
// entry. Iterators skip dead entries and yield strong Refs, which keep the yielded object
// alive while the iterator is on it. Operations that would change the size (inserting a new
// key, erase, pop, clear) throw std::logic_error while an iteration is in progress, as
// Python raises "dictionary changed size during iteration"; replacing the value of an
// existing key is allowed.
//
// Keys. WeakValueDictionary hashes its keys through KeyTraits (std::hash and std::equal_to
// by default). WeakKeyDictionary and WeakSet key their entries by the referent, by identity
// by default (IdentityTraits); a traits class with the referents' own hash and equality
// (Python's __hash__ and __eq__, for the Value layer) plugs in the same way. As in Python,
// an entry's hash is taken once, at insertion, so it survives the referent.
//
// Memory: the table is created with the first entry, in the heap of the first object held
// weakly, and an entry is one hash-set node plus one WeakRef with a callback, all taken from
// that heap (StdAllocator): they count against its limit and come from its static buffer
// when it has one. Warning: a container must not outlive that heap.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ouro/alloc/std_allocator.h"
#include "ouro/core/weakref.h"

namespace ouro {

/// Hash and equality of WeakValueDictionary keys: std::hash<K> and std::equal_to<K>.
/// A traits class has two static functions, `hash(const K&)` and `equal(const K&, const K&)`.
template <class K>
struct KeyTraits {
  static std::size_t hash(const K& key) { return std::hash<K>{}(key); }
  static bool equal(const K& a, const K& b) { return std::equal_to<K>{}(a, b); }
};

/// Hash and equality of weakly held keys by identity (Python's default object hash). The
/// hash is WeakRef::hash()'s, so a weak key hashes like its weak reference.
template <class T>
struct IdentityTraits {
  static std::size_t hash(const T& object) noexcept {
    return std::hash<const void*>{}(static_cast<const Object*>(&object));
  }
  static bool equal(const T& a, const T& b) noexcept { return &a == &b; }
};

namespace detail {

/// Finds the entry of a weak reference whose callback runs: its hash and identity.
struct DeadProbe {
  const WeakRef* ref;
  std::size_t hash;
};

/// Finds an entry by a live key.
template <class K>
struct KeyProbe {
  const K* key;
  std::size_t hash;
};

/// Every entry and probe carries its hash: taken once, at insertion or lookup.
struct EntryHash {
  using is_transparent = void;
  template <class E>
  std::size_t operator()(const E& entry_or_probe) const noexcept {
    return entry_or_probe.hash;
  }
};

template <class Entry>
struct EntryEq {
  using is_transparent = void;
  using Probe = KeyProbe<typename Entry::Key>;
  bool operator()(const Entry& a, const Entry& b) const { return Entry::equal(a, b); }
  bool operator()(const Probe& p, const Entry& e) const { return e.matches(p); }
  bool operator()(const Entry& e, const Probe& p) const { return e.matches(p); }
  bool operator()(const DeadProbe& p, const Entry& e) const noexcept { return e.weak() == p.ref; }
  bool operator()(const Entry& e, const DeadProbe& p) const noexcept { return e.weak() == p.ref; }
};

/// An entry's place in insertion order: a doubly linked list through the entries, which a
/// node-based set never moves. Not part of the entry's key.
struct OrderLinks {
  mutable const void* older = nullptr;
  mutable const void* newer = nullptr;
};

/// A WeakValueDictionary entry: a strong key, a weak value.
template <class K, class V, class Traits>
struct ValueEntry {
  using Key = K;
  using Weakly = V;  // the type held weakly
  K key;
  std::size_t hash;
  mutable Ref<WeakRef> value;  // replaced in place by set(); not part of the set's key
  OrderLinks order{};

  WeakRef* weak() const noexcept { return value.get(); }
  // What the dictionary's views yield; `v` is the strong Ref to the (live) value.
  struct GetItem {
    static std::pair<const K&, Ref<V>> get(const ValueEntry& e, const Ref<V>& v) {
      return {e.key, v};
    }
  };
  struct GetKey {
    static const K& get(const ValueEntry& e, const Ref<V>&) noexcept { return e.key; }
  };
  struct GetValue {
    static const Ref<V>& get(const ValueEntry&, const Ref<V>& v) noexcept { return v; }
  };
  static bool equal(const ValueEntry& a, const ValueEntry& b) {
    return Traits::equal(a.key, b.key);
  }
  bool matches(const KeyProbe<K>& p) const { return Traits::equal(key, *p.key); }
};

/// A WeakKeyDictionary or WeakSet entry: a weak key, a strong value. Equality is Python's
/// for weak references: both alive: the referents are equal; otherwise the same reference.
template <class K, class V, class Traits>
struct KeyEntry {
  using Key = K;
  using Weakly = K;
  Ref<WeakRef> key;
  std::size_t hash;
  [[no_unique_address]] mutable V value;
  OrderLinks order{};

  WeakRef* weak() const noexcept { return key.get(); }
  // What the dictionary's views yield; `k` is the strong Ref to the (live) key.
  struct GetItem {
    static std::pair<const Ref<K>&, V&> get(const KeyEntry& e, const Ref<K>& k) noexcept {
      return {k, e.value};
    }
  };
  struct GetKey {
    static const Ref<K>& get(const KeyEntry&, const Ref<K>& k) noexcept { return k; }
  };
  struct GetValue {
    static V& get(const KeyEntry& e, const Ref<K>&) noexcept { return e.value; }
  };
  static const K& as_key(const Object* o) noexcept { return static_cast<const K&>(*o); }
  static bool equal(const KeyEntry& a, const KeyEntry& b) {
    const Object* x = a.key->peek();
    const Object* y = b.key->peek();
    if (x != nullptr && y != nullptr) return x == y || Traits::equal(as_key(x), as_key(y));
    return a.key == b.key;
  }
  bool matches(const KeyProbe<K>& p) const {
    const Object* x = key->peek();
    return x != nullptr && (x == p.key || Traits::equal(as_key(x), *p.key));
  }
};

/// The state shared by a container and its weak references' callbacks: the entries, the
/// iteration guards and the pending removals. Lives behind a stable pointer.
template <class Entry>
class WeakTable {
 public:
  using Set = std::unordered_set<Entry, EntryHash, EntryEq<Entry>, StdAllocator<Entry>>;
  using iterator = typename Set::iterator;
  using W = typename Entry::Weakly;

  explicit WeakTable(Allocator& allocator)
      : set_(0, EntryHash{}, EntryEq<Entry>{}, StdAllocator<Entry>(allocator)) {}
  WeakTable(const WeakTable&) = delete;
  WeakTable& operator=(const WeakTable&) = delete;
  ~WeakTable() {
    OURO_ASSERT(iterating_ == 0);  // an iterator must not outlive its container
    for (const Entry& e : set_) clear_callback(*e.weak());
  }

  Set& set() noexcept { return set_; }
  const Set& set() const noexcept { return set_; }
  /// Live entries (those whose callbacks already ran during an iteration are not counted).
  std::size_t size() const noexcept { return set_.size() - pending_; }
  bool iterating() const noexcept { return iterating_ != 0; }

  /// A callback for a new entry's weak reference: removes the entry, or counts a pending
  /// removal while an iteration is in progress. Captures 16 trivially copyable bytes, which
  /// std::function stores without allocating.
  WeakCallback callback(std::size_t hash) {
    return [this, hash](const Ref<WeakRef>& dead) { on_death(DeadProbe{dead.get(), hash}); };
  }

  /// The strong form of an entry's weak side, or an empty Ref if it died.
  static Ref<W> lock(const Entry& e) noexcept {
    const WeakRef* w = e.weak();
    return Ref<W>::borrow(w != nullptr ? static_cast<W*>(w->peek()) : nullptr);
  }
  static bool alive(const Entry& e) noexcept { return !e.weak()->expired(); }

  template <class K>
  iterator find(const K& key, std::size_t hash) {
    return set_.find(KeyProbe<K>{&key, hash});
  }
  /// Throws std::logic_error if an iteration is in progress (the size is about to change).
  void check_size_change() const {
    if (iterating_ != 0) throw std::logic_error("weak container changed size during iteration");
  }
  /// Adds a new entry last in insertion order (Python's dicts iterate in insertion order).
  void insert(Entry&& entry) {
    auto [it, added] = set_.insert(std::move(entry));
    if (!added) return;
    const Entry& e = *it;
    e.order.older = newest_;
    e.order.newer = nullptr;
    if (newest_ != nullptr)
      newest_->order.newer = &e;
    else
      oldest_ = &e;
    newest_ = &e;
  }
  /// The oldest entry, or nullptr; next() follows insertion order.
  const Entry* oldest() const noexcept { return oldest_; }
  static const Entry* next(const Entry& e) noexcept {
    return static_cast<const Entry*>(e.order.newer);
  }

  /// Puts `fresh` in place of an entry's weak reference (WeakValueDictionary's set).
  void replace_weak(const Entry& e, Ref<WeakRef> fresh) noexcept {
    Ref<WeakRef> old = std::exchange(e.value, std::move(fresh));
    forget(*old);
  }
  /// Removes one entry; its key and value are destroyed after the set is consistent again,
  /// since their destructors may run callbacks that reach this table.
  typename Set::node_type take(iterator it) noexcept {
    forget(*it->weak());
    unlink(*it);
    return set_.extract(it);
  }
  void erase(iterator it) noexcept { auto node = take(it); }
  void clear() {
    check_size_change();
    Set old(0, EntryHash{}, EntryEq<Entry>{}, set_.get_allocator());
    old.swap(set_);
    oldest_ = newest_ = nullptr;
    for (const Entry& e : old) clear_callback(*e.weak());
    pending_ = 0;
  }  // `old` dies here, after the table is empty and consistent

  void enter_iteration() noexcept { ++iterating_; }
  void leave_iteration() noexcept {
    if (--iterating_ == 0 && pending_ != 0) commit_removals();
  }

 private:
  void on_death(DeadProbe probe) noexcept {
    if (iterating_ != 0) {
      ++pending_;  // keeps the iterators valid: removed when the last guard ends
      return;
    }
    try {
      auto it = set_.find(probe);
      if (it != set_.end()) erase(it);
    } catch (...) {
      ++pending_;  // a traits hash or equality threw: leave it to the next sweep
    }
  }

  // Stops counting an entry that leaves the table and disarms its weak reference. A dead
  // reference without a callback is one whose callback ran during an iteration: counted.
  void forget(WeakRef& w) noexcept {
    if (w.expired() && !w.has_callback() && pending_ != 0) --pending_;
    clear_callback(w);
  }

  // Removes every dead entry (CPython's _commit_removals), in batches whose keys and values
  // are destroyed between passes, when no iterator of ours is held: their destructors may
  // run arbitrary callbacks, which may change the set. No allocation: it runs in callbacks.
  void commit_removals() noexcept {
    constexpr std::size_t kBatch = 32;
    while (pending_ != 0 && iterating_ == 0) {
      std::array<typename Set::node_type, kBatch> batch;
      std::size_t n = 0;
      for (auto it = set_.begin(); it != set_.end() && n < kBatch;) {
        auto next = std::next(it);
        if (!alive(*it)) {
          forget(*it->weak());
          unlink(*it);
          batch[n++] = set_.extract(it);
        }
        it = next;
      }
      if (n == 0) pending_ = 0;  // nothing dead left: the count cannot be right otherwise
    }
  }

  void unlink(const Entry& e) noexcept {
    auto* older = static_cast<const Entry*>(e.order.older);
    auto* newer = static_cast<const Entry*>(e.order.newer);
    if (older != nullptr)
      older->order.newer = newer;
    else
      oldest_ = newer;
    if (newer != nullptr)
      newer->order.older = older;
    else
      newest_ = older;
    e.order.older = e.order.newer = nullptr;
  }

  Set set_;
  const Entry* oldest_ = nullptr;  // insertion order (OrderLinks), for iteration
  const Entry* newest_ = nullptr;
  unsigned iterating_ = 0;   // live iterators (each holds one guard)
  std::size_t pending_ = 0;  // dead entries whose callbacks ran during an iteration
};

/// An input iterator over a WeakTable that holds an iteration guard until it reaches the
/// end, skips dead entries, and holds a strong Ref to the entry it is on. `Get` turns the
/// entry and that Ref into what the iterator yields.
template <class Entry, class Get>
class WeakIterator {
  using Table = WeakTable<Entry>;
  using Held = Ref<typename Entry::Weakly>;

 public:
  using difference_type = std::ptrdiff_t;
  using reference = decltype(Get::get(std::declval<const Entry&>(), std::declval<const Held&>()));
  using value_type = std::remove_cvref_t<reference>;

  WeakIterator() = default;
  explicit WeakIterator(Table* table) noexcept : table_(table) {
    if (table_ == nullptr) return;
    table_->enter_iteration();
    at_ = table_->oldest();
    settle();
  }
  WeakIterator(const WeakIterator& o) noexcept : table_(o.table_), at_(o.at_), held_(o.held_) {
    if (table_ != nullptr) table_->enter_iteration();
  }
  WeakIterator& operator=(WeakIterator o) noexcept {
    std::swap(table_, o.table_);
    std::swap(at_, o.at_);
    std::swap(held_, o.held_);
    return *this;
  }
  ~WeakIterator() { release(); }

  reference operator*() const { return Get::get(*at_, held_); }
  WeakIterator& operator++() noexcept {
    at_ = Table::next(*at_);
    settle();
    return *this;
  }
  void operator++(int) noexcept { ++*this; }
  friend bool operator==(const WeakIterator& i, std::default_sentinel_t) noexcept {
    return i.table_ == nullptr;
  }

 private:
  void settle() noexcept {
    for (; at_ != nullptr; at_ = Table::next(*at_)) {
      held_ = Table::lock(*at_);
      if (held_) return;
    }
    held_ = nullptr;
    release();  // the guard ends at the end, as Python's generator leaves its `with`
  }
  void release() noexcept {
    if (Table* t = std::exchange(table_, nullptr)) t->leave_iteration();
  }

  Table* table_ = nullptr;     // non-null while the guard is held (not at the end)
  const Entry* at_ = nullptr;  // the entry, in insertion order (entries never move)
  Held held_;
};

/// What items()/keys()/values() return: begin() starts a guarded iteration.
template <class Entry, class Get>
class WeakRange {
 public:
  explicit WeakRange(WeakTable<Entry>* table) noexcept : table_(table) {}
  WeakIterator<Entry, Get> begin() const noexcept { return WeakIterator<Entry, Get>(table_); }
  std::default_sentinel_t end() const noexcept { return {}; }

 private:
  WeakTable<Entry>* table_;
};

/// Holds a container's table behind a stable pointer, created on first insertion; a
/// moved-from container is empty and usable.
template <class Entry>
class WeakTableOwner {
 public:
  /// Number of live entries (Python's len).
  std::size_t size() const noexcept { return table_ ? table_->size() : 0; }
  bool empty() const noexcept { return size() == 0; }
  /// Removes every entry. Throws std::logic_error during an iteration.
  void clear() {
    if (table_) table_->clear();
  }

 protected:
  using Table = WeakTable<Entry>;
  /// The table, created in the heap of `referent` (the first object held weakly). Throws
  /// TypeError for a null referent, MemoryError under the heap's limit.
  WeakTable<Entry>& table(const Object* referent) {
    if (referent == nullptr) throw TypeError("cannot create weak reference to 'NoneType' object");
    if (!table_) {
      Allocator& allocator = referent->heap().allocator();
      void* block = allocator.allocate(sizeof(Table));
      try {
        table_ = TablePointer(::new (block) Table(allocator), TableDeleter{&allocator});
      } catch (...) {
        allocator.deallocate(block, sizeof(Table));
        throw;
      }
    }
    return *table_;
  }
  Table* table_if_any() const noexcept { return table_.get(); }
  /// The entry for `key`, or nullptr.
  template <class K>
  const Entry* find_entry(const K& key, std::size_t hash) const {
    if (!table_) return nullptr;
    auto it = table_->find(key, hash);
    return it != table_->set().end() ? &*it : nullptr;
  }
  /// Takes the entry for `key` out of the table (a size change: throws std::logic_error
  /// during an iteration); an empty node if there is none. Its key and value die with the
  /// node, after the table is consistent again.
  template <class K>
  typename Table::Set::node_type take(const K& key, std::size_t hash) {
    if (!table_) return {};
    table_->check_size_change();
    auto it = table_->find(key, hash);
    if (it == table_->set().end()) return {};
    return table_->take(it);
  }

 private:
  struct TableDeleter {
    Allocator* allocator;
    void operator()(Table* table) const noexcept {
      table->~Table();
      allocator->deallocate(table, sizeof(Table));
    }
  };
  using TablePointer = std::unique_ptr<Table, TableDeleter>;
  TablePointer table_{nullptr, TableDeleter{nullptr}};
};

/// The views both dictionaries offer. The Entry says which side is held weakly and how to
/// present it (Entry::GetItem/GetKey/GetValue); the weakly held side always comes out as a
/// strong Ref, so an entry cannot die while the caller looks at it.
template <class Entry>
class WeakDictionaryBase : public WeakTableOwner<Entry> {
 public:
  /// (key, value) pairs of the live entries.
  WeakRange<Entry, typename Entry::GetItem> items() const noexcept {
    return WeakRange<Entry, typename Entry::GetItem>(this->table_if_any());
  }
  /// Keys of the live entries (also what iterating the dictionary gives, as in Python).
  WeakRange<Entry, typename Entry::GetKey> keys() const noexcept {
    return WeakRange<Entry, typename Entry::GetKey>(this->table_if_any());
  }
  /// Values of the live entries.
  WeakRange<Entry, typename Entry::GetValue> values() const noexcept {
    return WeakRange<Entry, typename Entry::GetValue>(this->table_if_any());
  }
  WeakIterator<Entry, typename Entry::GetKey> begin() const noexcept { return keys().begin(); }
  std::default_sentinel_t end() const noexcept { return {}; }
};

}  // namespace detail

/// Python's WeakValueDictionary: a map from strong keys to weakly held values; an entry
/// disappears when its value dies. Not copyable (see copy()); movable.
///
///     ouro::WeakValueDictionary<std::string, Image> cache;
///     cache.set("logo", image);           // does not keep image alive
///     if (auto img = cache.get("logo")) draw(*img);
///     image.reset();                      // the entry is gone
///     assert(cache.size() == 0);
///     for (auto [name, img] : cache.items()) ...  // strong Refs; dead entries skipped
///
/// Warning: iterators (and the ranges of items(), keys(), values()) must not outlive the
/// container; while one is alive, inserting a new key, erase, pop and clear throw
/// std::logic_error.
template <class K, class V, class Traits = KeyTraits<K>>
class WeakValueDictionary : public detail::WeakDictionaryBase<detail::ValueEntry<K, V, Traits>> {
  using Entry = detail::ValueEntry<K, V, Traits>;
  using Table = detail::WeakTable<Entry>;

 public:
  using key_type = K;
  using mapped_type = V;

  WeakValueDictionary() = default;
  WeakValueDictionary(WeakValueDictionary&&) noexcept = default;
  WeakValueDictionary& operator=(WeakValueDictionary&&) noexcept = default;

  /// The value for `key`, or an empty Ref if there is none or it died (d.get(key)).
  Ref<V> get(const K& key) const {
    const Entry* e = this->find_entry(key, Traits::hash(key));
    return e != nullptr ? Table::lock(*e) : Ref<V>();
  }
  Ref<V> get(const K& key, Ref<V> fallback) const {
    Ref<V> v = get(key);
    return v ? v : fallback;
  }
  /// d[key]: throws KeyError if absent or dead.
  Ref<V> at(const K& key) const {
    Ref<V> v = get(key);
    if (!v) throw KeyError("WeakValueDictionary: no such key");
    return v;
  }
  bool contains(const K& key) const { return static_cast<bool>(get(key)); }

  /// d[key] = value: the entry holds `value` weakly. Throws TypeError for an empty Ref or a
  /// type that opted out of weak references, MemoryError under the heap's limit.
  void set(const K& key, const Ref<V>& value) {
    Table& t = this->table(value.get());
    const std::size_t hash = Traits::hash(key);
    Ref<WeakRef> wr = detail::make_weakref(value.get(), t.callback(hash));  // may collect
    auto it = t.find(key, hash);
    if (it != t.set().end()) {
      t.replace_weak(*it, std::move(wr));
      return;
    }
    t.check_size_change();
    t.insert(Entry{key, hash, std::move(wr)});
  }
  /// The live value for `key`; else stores `fallback` and returns it (d.setdefault).
  Ref<V> setdefault(const K& key, const Ref<V>& fallback) {
    if (Ref<V> v = get(key)) return v;
    set(key, fallback);
    return fallback;
  }
  /// del d[key]: true if a live entry was removed.
  bool erase(const K& key) {
    auto node = this->take(key, Traits::hash(key));
    return !node.empty() && !node.value().value->expired();
  }
  /// d.pop(key, fallback): removes the entry and returns its live value, or `fallback`.
  Ref<V> pop(const K& key, Ref<V> fallback) {
    auto node = this->take(key, Traits::hash(key));
    Ref<V> v = node.empty() ? Ref<V>() : Table::lock(node.value());
    return v ? v : fallback;
  }
  /// d.pop(key): throws KeyError if absent or dead.
  Ref<V> pop(const K& key) {
    Ref<V> v = pop(key, nullptr);
    if (!v) throw KeyError("WeakValueDictionary: no such key");
    return v;
  }
  /// The weak references of the values (they may die at any time; check lock()).
  std::vector<Weak<V>> valuerefs() const {
    std::vector<Weak<V>> refs;
    if (Table* t = this->table_if_any()) {
      for (const Entry& e : t->set()) refs.emplace_back(e.value);
    }
    return refs;
  }
  /// Python's copy(): the live entries, with weak references of its own.
  WeakValueDictionary copy() const {
    WeakValueDictionary out;
    for (auto [key, value] : this->items()) out.set(key, value);
    return out;
  }
};

/// Python's WeakKeyDictionary: a map from weakly held keys to strong values; an entry
/// disappears when its key dies. Keys match by identity by default (Traits: see
/// IdentityTraits). Not copyable (see copy()); movable.
///
///     ouro::WeakKeyDictionary<Widget, std::string> notes;
///     notes.set(widget, "drawn twice");   // does not keep widget alive
///     if (auto* note = notes.find(widget)) std::puts(note->c_str());
///     widget.reset();                     // the entry is gone
///
/// Warning: the value must not hold a strong Ref to its own key, or the key never dies
/// (as in Python). Iterators follow WeakValueDictionary's rules.
template <class K, class V, class Traits = IdentityTraits<K>>
class WeakKeyDictionary : public detail::WeakDictionaryBase<detail::KeyEntry<K, V, Traits>> {
  using Entry = detail::KeyEntry<K, V, Traits>;
  using Table = detail::WeakTable<Entry>;

 public:
  using key_type = Ref<K>;
  using mapped_type = V;

  WeakKeyDictionary() = default;
  WeakKeyDictionary(WeakKeyDictionary&&) noexcept = default;
  WeakKeyDictionary& operator=(WeakKeyDictionary&&) noexcept = default;

  /// The value for `key`, or nullptr. Valid until the entry is removed.
  V* find(const Ref<K>& key) const {
    if (!key) return nullptr;
    const Entry* e = this->find_entry(*key, Traits::hash(*key));
    return e != nullptr ? &e->value : nullptr;
  }
  /// d.get(key, fallback).
  V get(const Ref<K>& key, V fallback) const {
    V* v = find(key);
    return v != nullptr ? *v : fallback;
  }
  /// d[key]: throws KeyError if absent.
  V& at(const Ref<K>& key) const {
    V* v = find(key);
    if (v == nullptr) throw KeyError("WeakKeyDictionary: no such key");
    return *v;
  }
  bool contains(const Ref<K>& key) const { return find(key) != nullptr; }

  /// d[key] = value. An existing entry keeps its key and weak reference (as a dict keeps
  /// its key object). Throws TypeError for an empty Ref or a type that opted out of weak
  /// references, MemoryError under the heap's limit.
  void set(const Ref<K>& key, V value) {
    Table& t = this->table(key.get());
    const std::size_t hash = Traits::hash(*key);
    Ref<WeakRef> wr;
    for (;;) {
      if (auto it = t.find(*key, hash); it != t.set().end()) {
        [[maybe_unused]] V old = std::move(it->value);  // dies at return, after `it`
        it->value = std::move(value);
        return;
      }
      if (wr) break;
      t.check_size_change();
      // May collect, and a callback of that collection may store this key first: the loop
      // looks again, and this assignment, the later one, wins.
      wr = detail::make_weakref(key.get(), t.callback(hash));
    }
    t.insert(Entry{std::move(wr), hash, std::move(value)});
  }
  /// The value for `key`; else stores `fallback` and returns the stored value.
  V& setdefault(const Ref<K>& key, V fallback) {
    if (V* v = find(key)) return *v;
    set(key, std::move(fallback));
    return *find(key);
  }
  /// del d[key]: true if an entry was removed.
  bool erase(const Ref<K>& key) { return key && !this->take(*key, Traits::hash(*key)).empty(); }
  /// d.pop(key, fallback).
  V pop(const Ref<K>& key, V fallback) {
    auto node = key ? this->take(*key, Traits::hash(*key)) : typename Table::Set::node_type();
    return node.empty() ? std::move(fallback) : std::move(node.value().value);
  }
  /// d.pop(key): throws KeyError if absent.
  V pop(const Ref<K>& key) {
    auto node = key ? this->take(*key, Traits::hash(*key)) : typename Table::Set::node_type();
    if (node.empty()) throw KeyError("WeakKeyDictionary: no such key");
    return std::move(node.value().value);
  }
  /// The weak references of the keys (they may die at any time; check lock()).
  std::vector<Weak<K>> keyrefs() const {
    std::vector<Weak<K>> refs;
    if (Table* t = this->table_if_any()) {
      for (const Entry& e : t->set()) refs.emplace_back(e.key);
    }
    return refs;
  }
  /// Python's copy(): the live entries, with weak references of its own.
  WeakKeyDictionary copy() const {
    WeakKeyDictionary out;
    for (auto [key, value] : this->items()) out.set(key, value);
    return out;
  }
};

namespace detail {
struct NoValue {};
}  // namespace detail

/// Python's WeakSet: a set of weakly held objects; an element disappears when it dies.
/// Elements match by identity by default (Traits: see IdentityTraits).
///
///     ouro::WeakSet<Listener> listeners;
///     listeners.add(listener);
///     for (const auto& l : listeners) l->notify();   // strong Refs, dead ones skipped
///     listener.reset();                              // gone from the set
template <class T, class Traits = IdentityTraits<T>>
class WeakSet : public detail::WeakTableOwner<detail::KeyEntry<T, detail::NoValue, Traits>> {
  using Entry = detail::KeyEntry<T, detail::NoValue, Traits>;
  using Table = detail::WeakTable<Entry>;
  struct GetElement {
    static const Ref<T>& get(const Entry&, const Ref<T>& element) noexcept { return element; }
  };

 public:
  using value_type = Ref<T>;

  WeakSet() = default;
  WeakSet(WeakSet&&) noexcept = default;
  WeakSet& operator=(WeakSet&&) noexcept = default;

  bool contains(const Ref<T>& element) const {
    return element && this->find_entry(*element, Traits::hash(*element)) != nullptr;
  }
  /// s.add(element). Throws TypeError for an empty Ref or a type that opted out of weak
  /// references, MemoryError under the heap's limit.
  void add(const Ref<T>& element) {
    if (contains(element)) return;
    Table& t = this->table(element.get());
    t.check_size_change();
    const std::size_t hash = Traits::hash(*element);
    Ref<WeakRef> wr = detail::make_weakref(element.get(), t.callback(hash));  // may collect
    t.insert(Entry{std::move(wr), hash, {}});
  }
  /// s.discard(element): true if it was there.
  bool discard(const Ref<T>& element) {
    return element && !this->take(*element, Traits::hash(*element)).empty();
  }
  /// s.remove(element): throws KeyError if absent.
  void remove(const Ref<T>& element) {
    if (!discard(element)) throw KeyError("WeakSet: no such element");
  }
  /// s.pop(): removes and returns some live element; KeyError if there is none.
  Ref<T> pop() {
    Table* t = this->table_if_any();
    if (t != nullptr) t->check_size_change();
    while (t != nullptr && !t->set().empty()) {
      auto node = t->take(t->set().find(*t->oldest()));
      if (Ref<T> element = Table::lock(node.value())) return element;
    }
    throw KeyError("pop from empty WeakSet");
  }
  /// Python's copy().
  WeakSet copy() const {
    WeakSet out;
    for (const Ref<T>& element : *this) out.add(element);
    return out;
  }

  /// Iterates strong Refs to the live elements (see the iteration rules above).
  detail::WeakIterator<Entry, GetElement> begin() const noexcept {
    return detail::WeakIterator<Entry, GetElement>(this->table_if_any());
  }
  std::default_sentinel_t end() const noexcept { return {}; }
};

}  // namespace ouro
