// Weak containers: entries disappear when their referents die (by refcount and by
// collection), iteration while entries die, size changes refused during iteration,
// callbacks that outlive or follow a moved container, and Python's dict/set operations.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "ouro/weak/containers.h"
#include "support/gc_types.h"
#include "support/heap_fixture.h"

namespace {

using ouro::Ref;

class Item : public ouro::Object {
 public:
  explicit Item(std::string item_name = "") : name(std::move(item_name)) {}
  std::string name;
  Ref<ouro::Object> other;
  void traverse(ouro::Visitor& visit) override { visit(other); }
  void clear() override { other = nullptr; }

 protected:
  ~Item() override = default;
};

Ref<Item> item(std::string name = "") { return ouro::make<Item>(std::move(name)); }

// Equality and hash by name: the shape of the Value layer's Python equality.
struct ByName {
  static std::size_t hash(const Item& i) { return std::hash<std::string>{}(i.name); }
  static bool equal(const Item& a, const Item& b) { return a.name == b.name; }
};

class WeakContainersTest : public ouro::testing::HeapTest {
 protected:
  void SetUp() override { ouro::gc::disable(); }
};

using Dict = ouro::WeakValueDictionary<std::string, Item>;

TEST_F(WeakContainersTest, ValueDictionaryEntryGoesWhenItsValueDies) {
  Dict d;
  Ref<Item> a = item("a"), b = item("b");
  d.set("a", a);
  d.set("b", b);
  EXPECT_EQ(d.size(), 2u);
  EXPECT_EQ(d.get("a"), a);
  EXPECT_EQ(ouro::getrefcount(a), 1u);  // the dictionary keeps nothing alive
  EXPECT_TRUE(d.contains("b"));
  a.reset();
  EXPECT_EQ(d.size(), 1u);
  EXPECT_FALSE(d.get("a"));
  EXPECT_FALSE(d.contains("a"));
  EXPECT_THROW((void)d.at("a"), ouro::KeyError);
  EXPECT_EQ(d.at("b"), b);
}

TEST_F(WeakContainersTest, ValueDictionaryEntryGoesWhenItsValueIsCollected) {
  Dict d;
  {
    Ref<Item> a = item("a"), b = item("b");
    a->other = b;
    b->other = a;
    d.set("a", a);
    d.set("b", b);
  }
  EXPECT_EQ(d.size(), 2u);             // cyclic garbage, alive until collected
  EXPECT_EQ(ouro::gc::collect(), 2u);  // the weak references are held: not garbage
  EXPECT_EQ(d.size(), 0u);
  EXPECT_EQ(live_objects(), 0u);
}

TEST_F(WeakContainersTest, ValueDictionaryReplacingAValueDisarmsTheOldReference) {
  Dict d;
  Ref<Item> a = item("a"), b = item("b");
  d.set("k", a);
  d.set("k", b);
  a.reset();  // the old reference's callback must not remove the new entry
  EXPECT_EQ(d.get("k"), b);
  b.reset();
  EXPECT_TRUE(d.empty());
}

TEST_F(WeakContainersTest, ValueDictionarySetdefaultPopErase) {
  Dict d;
  Ref<Item> a = item("a"), b = item("b");
  EXPECT_EQ(d.setdefault("k", a), a);
  EXPECT_EQ(d.setdefault("k", b), a);  // a live value stays
  a.reset();
  EXPECT_EQ(d.setdefault("k", b), b);  // a dead one is replaced
  EXPECT_EQ(d.pop("k"), b);
  EXPECT_TRUE(d.empty());
  EXPECT_THROW((void)d.pop("k"), ouro::KeyError);
  EXPECT_EQ(d.pop("k", b), b);
  d.set("x", b);
  EXPECT_TRUE(d.erase("x"));
  EXPECT_FALSE(d.erase("x"));
  EXPECT_EQ(ouro::getweakrefcount(b), 0u);  // removed entries let go of their references
}

TEST_F(WeakContainersTest, ValueDictionaryValuerefsAndCopy) {
  Dict d;
  Ref<Item> a = item("a"), b = item("b");
  d.set("a", a);
  d.set("b", b);
  std::vector<ouro::Weak<Item>> refs = d.valuerefs();
  ASSERT_EQ(refs.size(), 2u);
  Dict c = d.copy();
  a.reset();
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(d.size(), 1u);
  int expired = 0;
  for (const auto& r : refs) expired += r.expired() ? 1 : 0;
  EXPECT_EQ(expired, 1);
}

TEST_F(WeakContainersTest, ValueDictionaryIterationYieldsStrongRefsWhileEntriesDie) {
  Dict d;
  std::vector<Ref<Item>> items;
  for (int i = 0; i < 20; ++i) {
    items.push_back(item(std::to_string(i)));
    d.set(std::to_string(i), items.back());
  }
  int seen = 0;
  for (auto [key, value] : d.items()) {
    ASSERT_TRUE(value);
    EXPECT_EQ(key, value->name);
    ++seen;
    // Drop every strong reference but the iterator's: the entries die mid-iteration.
    for (auto& held : items) held.reset();
    EXPECT_EQ(d.size(), 1u);  // only the one the iterator holds is alive
  }
  EXPECT_EQ(seen, 1);  // the others died before the iterator reached them
  EXPECT_TRUE(d.empty());
  EXPECT_TRUE(d.valuerefs().empty());  // the pending removals ran when the guard ended
}

TEST_F(WeakContainersTest, SizeChangesAreRefusedDuringIterationButReplacementIsAllowed) {
  Dict d;
  Ref<Item> a = item("a"), b = item("b"), c = item("c");
  d.set("a", a);
  d.set("b", b);
  for (const std::string& key : d) {
    EXPECT_THROW(d.set("new", c), std::logic_error);
    EXPECT_THROW((void)d.erase(key), std::logic_error);
    EXPECT_THROW(d.clear(), std::logic_error);
    EXPECT_NO_THROW(d.set(key, c));  // the same key: no size change
  }
  EXPECT_EQ(d.size(), 2u);
  EXPECT_EQ(d.get("a"), c);
  d.set("new", c);  // allowed again once the iteration is over
  EXPECT_EQ(d.size(), 3u);
}

TEST_F(WeakContainersTest, AnIteratorLeftEarlyEndsItsGuardWhenDestroyed) {
  Dict d;
  Ref<Item> a = item("a"), b = item("b");
  d.set("a", a);
  d.set("b", b);
  {
    auto it = d.values().begin();
    a.reset();
    b.reset();
    EXPECT_EQ(d.size(), 1u);  // one dead entry is pending, one held by the iterator
  }
  EXPECT_TRUE(d.empty());
  EXPECT_TRUE(d.valuerefs().empty());
}

TEST_F(WeakContainersTest, CollectionDuringIterationQueuesRemovals) {
  Dict d;
  Ref<Item> keep = item("keep");
  d.set("keep", keep);
  for (int i = 0; i < 10; ++i) {
    Ref<Item> x = item(), y = item();
    x->other = y;
    y->other = x;
    d.set("cycle" + std::to_string(i), x);
  }
  int seen = 0;
  for ([[maybe_unused]] const Ref<Item>& value : d.values()) {
    ++seen;
    if (seen == 1) ouro::gc::collect();  // frees every cycle but the one held (if any)
  }
  EXPECT_LE(seen, 2);
  ouro::gc::collect();
  EXPECT_EQ(d.size(), 1u);
  EXPECT_EQ(d.get("keep"), keep);
}

TEST_F(WeakContainersTest, CallbacksNeverReachADestroyedContainer) {
  Ref<Item> a = item("a");
  std::vector<ouro::Weak<Item>> refs;
  {
    Dict d;
    d.set("a", a);
    refs = d.valuerefs();  // the entry's weak reference outlives the dictionary
  }
  a.reset();  // its callback was disarmed: nothing runs (ASan would catch a dangling one)
  EXPECT_TRUE(refs[0].expired());
}

TEST_F(WeakContainersTest, CallbacksFollowAMovedContainer) {
  Ref<Item> a = item("a"), b = item("b");
  Dict d;
  d.set("a", a);
  d.set("b", b);
  Dict moved = std::move(d);
  a.reset();
  EXPECT_EQ(moved.size(), 1u);
  EXPECT_EQ(d.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty, usable
  d.set("b", b);
  b.reset();
  EXPECT_TRUE(moved.empty());
  EXPECT_TRUE(d.empty());
}

TEST_F(WeakContainersTest, KeyDictionaryEntryGoesWhenItsKeyDies) {
  ouro::WeakKeyDictionary<Item, Ref<Item>> d;
  Ref<Item> k1 = item("k"), k2 = item("k");
  Ref<Item> v = item("v");
  d.set(k1, v);
  d.set(k2, item("other"));
  EXPECT_EQ(d.size(), 2u);  // identity: equal names are different keys
  EXPECT_EQ(*d.find(k1), v);
  EXPECT_EQ(d.at(k1), v);
  EXPECT_EQ(ouro::getrefcount(k1), 1u);
  k2.reset();
  EXPECT_EQ(d.size(), 1u);
  EXPECT_EQ(live_objects(), 2u + 1u);  // k1, v, and k1's weak reference: "other" went too
  EXPECT_EQ(d.get(k2, nullptr), nullptr);
  d.set(k1, item("v2"));  // replaces the value, keeps the key
  EXPECT_EQ(ouro::getrefcount(v), 1u);
  EXPECT_EQ(d.at(k1)->name, "v2");
  EXPECT_EQ(d.keyrefs().size(), 1u);
  k1.reset();
  EXPECT_TRUE(d.empty());
  EXPECT_THROW((void)d.at(k1), ouro::KeyError);
}

TEST_F(WeakContainersTest, KeyDictionaryWithTraitsMatchesEqualKeys) {
  ouro::WeakKeyDictionary<Item, int, ByName> d;
  Ref<Item> first = item("same"), second = item("same");
  d.set(first, 1);
  d.set(second, 2);  // equal key: the value changes, the first key stays
  EXPECT_EQ(d.size(), 1u);
  EXPECT_EQ(d.at(first), 2);
  EXPECT_EQ(d.keyrefs()[0].lock(), first);
  second.reset();
  EXPECT_EQ(d.size(), 1u);
  first.reset();  // the key that was stored dies: the entry goes
  EXPECT_TRUE(d.empty());
}

TEST_F(WeakContainersTest, KeyDictionarySetdefaultPopErase) {
  ouro::WeakKeyDictionary<Item, std::string> d;
  Ref<Item> k = item("k");
  EXPECT_EQ(d.setdefault(k, "one"), "one");
  d.setdefault(k, "two") += "!";
  EXPECT_EQ(d.at(k), "one!");
  EXPECT_EQ(d.pop(k), "one!");
  EXPECT_THROW((void)d.pop(k), ouro::KeyError);
  EXPECT_EQ(d.pop(k, "none"), "none");
  d.set(k, "x");
  EXPECT_TRUE(d.erase(k));
  EXPECT_FALSE(d.erase(k));
  EXPECT_FALSE(d.contains(nullptr));
  EXPECT_THROW(d.set(nullptr, "x"), ouro::TypeError);
}

TEST_F(WeakContainersTest, KeyDictionaryValuesThatFreeOtherKeysCascadeSafely) {
  // k0 -> k1 -> k2 ...: each value is the next key, held only by the dictionary. The death
  // of k0 frees its value k1, whose entry's callback runs while the first removal is still
  // unwinding, and so on down the chain.
  ouro::WeakKeyDictionary<Item, Ref<Item>> d;
  Ref<Item> head = item("0");
  Ref<Item> key = head;
  for (int i = 1; i < 50; ++i) {
    Ref<Item> next = item(std::to_string(i));
    d.set(key, next);
    key = next;
  }
  key.reset();
  EXPECT_EQ(d.size(), 49u);
  head.reset();
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(live_objects(), 0u);
}

TEST_F(WeakContainersTest, KeyDictionaryIterationWhileKeysDie) {
  ouro::WeakKeyDictionary<Item, int> d;
  std::vector<Ref<Item>> keys;
  for (int i = 0; i < 10; ++i) {
    keys.push_back(item(std::to_string(i)));
    d.set(keys.back(), i);
  }
  int sum = 0;
  for (auto [key, value] : d.items()) {
    sum += value;
    EXPECT_EQ(key->name, std::to_string(value));
    value += 100;  // values are references into the entries
    keys.clear();  // every key but the iterator's dies now
  }
  EXPECT_GE(sum, 0);
  EXPECT_TRUE(d.empty());
}

TEST_F(WeakContainersTest, WeakSetAddDiscardPop) {
  ouro::WeakSet<Item> s;
  Ref<Item> a = item("a"), b = item("b");
  s.add(a);
  s.add(a);
  s.add(b);
  EXPECT_EQ(s.size(), 2u);
  EXPECT_TRUE(s.contains(a));
  EXPECT_TRUE(s.discard(a));
  EXPECT_FALSE(s.discard(a));
  EXPECT_THROW(s.remove(a), ouro::KeyError);
  EXPECT_EQ(s.pop(), b);
  EXPECT_THROW((void)s.pop(), ouro::KeyError);
  s.add(a);
  s.add(b);
  a.reset();
  EXPECT_EQ(s.size(), 1u);
  ouro::WeakSet<Item> c = s.copy();
  b.reset();
  EXPECT_TRUE(s.empty());
  EXPECT_TRUE(c.empty());
}

TEST_F(WeakContainersTest, WeakSetIterationWhileElementsDie) {
  ouro::WeakSet<Item> s;
  std::vector<Ref<Item>> items;
  for (int i = 0; i < 30; ++i) {
    items.push_back(item());
    s.add(items.back());
  }
  std::size_t seen = 0;
  for (const Ref<Item>& element : s) {
    ASSERT_TRUE(element);
    EXPECT_THROW(s.add(item()), std::logic_error);
    EXPECT_THROW((void)s.pop(), std::logic_error);
    // Every other element dies.
    for (std::size_t i = seen % 2; i < items.size(); i += 2) items[i].reset();
    ++seen;
  }
  EXPECT_GE(seen, 1u);
  EXPECT_LE(seen, 30u);
  std::size_t alive = 0;
  for (const auto& i : items) alive += i ? 1 : 0;
  EXPECT_EQ(s.size(), alive);
}

TEST_F(WeakContainersTest, StressManyEntriesDyingDuringNestedIterations) {
  ouro::gc::enable();
  ouro::testing::set_gc_stress(true);  // a collection at every container allocation
  Dict d;
  ouro::WeakSet<Item> s;
  std::vector<Ref<Item>> items;
  for (int i = 0; i < 200; ++i) {
    Ref<Item> x = item(std::to_string(i));
    if (i % 3 == 0) x->other = x;  // a self-cycle: only the collector frees it
    d.set(x->name, x);
    s.add(x);
    if (i % 2 == 0) items.push_back(x);
  }
  ouro::gc::collect();
  EXPECT_EQ(d.size(), items.size());
  EXPECT_EQ(s.size(), items.size());
  std::size_t outer = 0;
  for (auto [name, value] : d.items()) {
    for (const Ref<Item>& element : s) {
      (void)element;
      if (!items.empty()) items.pop_back();
      ouro::gc::collect();
    }
    ++outer;
  }
  EXPECT_GE(outer, 1u);
  for (auto& x : items) x->other = nullptr;
  items.clear();
  ouro::gc::collect();
  EXPECT_TRUE(d.empty());
  EXPECT_TRUE(s.empty());
  EXPECT_TRUE(heap().verify());
}

}  // namespace

namespace {

// Python's WeakValueDictionary, WeakKeyDictionary and WeakSet iterate in insertion order
// (they are dicts underneath); a replaced value keeps its key's place, a re-added key goes
// last.
TEST(WeakContainerOrder, IterationFollowsInsertionOrder) {
  ouro::Heap heap;
  ouro::HeapScope scope(heap);
  std::vector<ouro::Ref<ouro::testing::Leaf>> leaves;
  for (int i = 0; i < 40; ++i) leaves.push_back(ouro::make<ouro::testing::Leaf>(i));
  ouro::WeakValueDictionary<int, ouro::testing::Leaf> values;
  ouro::WeakKeyDictionary<ouro::testing::Leaf, int> keys;
  ouro::WeakSet<ouro::testing::Leaf> set;
  const std::vector<int> order = {17, 3, 39, 0, 25, 8, 31, 12, 5, 21};
  for (int i : order) {
    values.set(i * 100, leaves[i]);
    keys.set(leaves[i], i);
    set.add(leaves[i]);
  }
  values.set(3 * 100, leaves[4]);  // replaced: keeps its place
  leaves[39].reset();              // dies: its entries go
  std::vector<int> seen_values, seen_keys, seen_set;
  for (auto [key, leaf] : values.items()) seen_values.push_back(key / 100);
  for (auto [leaf, value] : keys.items()) seen_keys.push_back(value);
  for (const auto& leaf : set) seen_set.push_back(leaf->value);
  const std::vector<int> expected = {17, 3, 0, 25, 8, 31, 12, 5, 21};
  EXPECT_EQ(seen_values, expected);
  EXPECT_EQ(seen_keys, expected);
  EXPECT_EQ(seen_set, expected);
  values.erase(25 * 100);
  values.set(25 * 100, leaves[25]);  // re-added: last
  seen_values.clear();
  for (auto [key, leaf] : values.items()) seen_values.push_back(key / 100);
  EXPECT_EQ(seen_values, (std::vector<int>{17, 3, 0, 8, 31, 12, 5, 21, 25}));
}

}  // namespace
