// Which dicts and tuples the collector tracks (src/value/dict.cpp, list.cpp, the collector's
// UntrackCheck): CPython untracks containers that hold only atoms, and ouro follows it step
// for step, checked against python3's gc.is_tracked; and the collector still finds every
// cycle through a dict that was untracked once.
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "ouro/core/gc.h"
#include "ouro/value/value.h"
#include "support/heap_fixture.h"
#include "value/value_oracle.h"

namespace ouro {
namespace {

class TrackingTest : public testing::HeapTest {};

// One line per step: "name tracked" (1 or 0), as both sides print it.
std::string step(const char* name, bool tracked) {
  return std::string(name) + " " + (tracked ? "1" : "0");
}

bool listed_in_get_objects(const Ref<Object>& object) {
  for (const Ref<Object>& o : gc::get_objects()) {
    if (o.get() == object.get()) return true;
  }
  return false;
}

TEST_F(TrackingTest, DictsAndTuplesOfAtomsAreUntrackedAsInCPython) {
  gc::collect();
  std::vector<std::string> mine;
  auto record = [&](const char* name, const Ref<Object>& o) {
    mine.push_back(step(name, gc::is_tracked(o)));
  };

  Ref<Dict> d = Dict::make(heap());
  record("new_dict", d);
  d->set("a", 1);
  d->set("f", 2.5);
  d->set("s", "text");
  record("dict_of_atoms", d);
  mine.push_back(step("dict_of_atoms_listed", listed_in_get_objects(d)));
  d->set("l", List::make(heap()));
  record("dict_with_list", d);
  mine.push_back(step("dict_with_list_listed", listed_in_get_objects(d)));
  d->erase("l");
  record("list_removed", d);
  gc::collect(0);
  record("after_young_collection", d);  // dicts are untracked by full collections only
  gc::collect(2);
  record("after_full_collection", d);

  Ref<Dict> holds_dict = Dict::make(heap());
  holds_dict->set("inner", Dict::make(heap()));  // an untracked dict may become tracked
  record("dict_holding_empty_dict", holds_dict);

  Ref<Tuple> t = Tuple::make(heap(), {1, "x", 2.5});
  record("new_tuple", t);
  Ref<Tuple> outer = Tuple::make(heap(), {Value(t), 3});
  Ref<Tuple> holds_list = Tuple::make(heap(), {Value(List::make(heap()))});
  Ref<Tuple> holds_new_dict = Tuple::make(heap(), {Value(Dict::make(heap()))});
  gc::collect(0);
  record("tuple_after_young_collection", t);
  record("tuple_of_untracked_tuple", outer);  // the same pass: t was examined first
  record("tuple_holding_list", holds_list);
  record("tuple_holding_dict", holds_new_dict);
  mine.push_back(step("tuple_listed", listed_in_get_objects(t)));

  Ref<Dict> holds_tuple = Dict::make(heap());
  holds_tuple->set("t", t);  // an untracked tuple stays untracked: still only atoms
  record("dict_holding_untracked_tuple", holds_tuple);
  Ref<Dict> mixed_keys = Dict::make(heap());
  mixed_keys->set(t, 1);  // a key counts as a value does
  record("dict_with_tuple_key", mixed_keys);
  Ref<Tuple> fresh = Tuple::make(heap(), {1});
  Ref<Dict> fresh_key = Dict::make(heap());
  fresh_key->set(fresh, 1);  // a tuple not yet examined is tracked: it may hold anything
  record("dict_with_tracked_tuple_key", fresh_key);
  Ref<Dict> before_its_tuple = Dict::make(heap());
  before_its_tuple->set("x", List::make(heap()));  // tracked: ahead of the tuple below
  before_its_tuple->set("x", Tuple::make(heap(), {1}));
  gc::collect();  // tuples are untracked over the whole list before dicts are examined
  record("dict_before_its_tuple", before_its_tuple);

  const auto expected = value::testing::python_lines(R"(import gc
def step(name, x): print(name, int(x))
def listed(x): return any(o is x for o in gc.get_objects())
gc.collect()
d = {}
step('new_dict', gc.is_tracked(d))
d['a'] = 1
d['f'] = 2.5
d['s'] = 'text'
step('dict_of_atoms', gc.is_tracked(d))
step('dict_of_atoms_listed', listed(d))
d['l'] = []
step('dict_with_list', gc.is_tracked(d))
step('dict_with_list_listed', listed(d))
del d['l']
step('list_removed', gc.is_tracked(d))
gc.collect(0)
step('after_young_collection', gc.is_tracked(d))
gc.collect(2)
step('after_full_collection', gc.is_tracked(d))
holds_dict = {}
holds_dict['inner'] = {}
step('dict_holding_empty_dict', gc.is_tracked(holds_dict))
t = tuple([1, 'x', 2.5])
step('new_tuple', gc.is_tracked(t))
outer = tuple([t, 3])
holds_list = tuple([[]])
holds_new_dict = tuple([{}])
gc.collect(0)
step('tuple_after_young_collection', gc.is_tracked(t))
step('tuple_of_untracked_tuple', gc.is_tracked(outer))
step('tuple_holding_list', gc.is_tracked(holds_list))
step('tuple_holding_dict', gc.is_tracked(holds_new_dict))
step('tuple_listed', listed(t))
holds_tuple = {}
holds_tuple['t'] = t
step('dict_holding_untracked_tuple', gc.is_tracked(holds_tuple))
mixed_keys = {}
mixed_keys[t] = 1
step('dict_with_tuple_key', gc.is_tracked(mixed_keys))
fresh = tuple([1])
fresh_key = {}
fresh_key[fresh] = 1
step('dict_with_tracked_tuple_key', gc.is_tracked(fresh_key))
before_its_tuple = {}
before_its_tuple['x'] = []
before_its_tuple['x'] = tuple([1])
gc.collect()
step('dict_before_its_tuple', gc.is_tracked(before_its_tuple))
)",
                                                     "");
  EXPECT_EQ(mine, expected);
}

TEST_F(TrackingTest, ADictOfAtomsThatGetsAContainerIsTrackedAndItsCycleCollected) {
  gc::collect();
  const std::size_t baseline = live_objects();
  {
    Ref<Dict> d = Dict::make(heap(), 2);
    d->set("id", 7);
    ASSERT_FALSE(d->is_tracked());
    Ref<List> l = List::make(heap());
    l->append(d);
    d->set("back", l);  // d <-> l: a cycle only the collector can free
    EXPECT_TRUE(d->is_tracked());
    // A full collection keeps it tracked: it holds a container.
    gc::collect();
    EXPECT_TRUE(d->is_tracked());
  }
  EXPECT_GT(live_objects(), baseline);
  EXPECT_EQ(gc::collect(), 2u);  // d and l
  EXPECT_EQ(live_objects(), baseline);
}

TEST_F(TrackingTest, ACycleThroughADictUntrackedOnceIsCollected) {
  gc::collect();
  const std::size_t baseline = live_objects();
  {
    Ref<Dict> d = Dict::make(heap());
    d->set("n", 1);
    Ref<List> keep = List::make(heap());
    d->set("keep", keep);
    d->erase("keep");
    gc::collect();  // untracked again: atoms only
    ASSERT_FALSE(d->is_tracked());
    // A tuple made since the last collection is tracked, so holding one tracks the dict.
    Ref<List> l = List::make(heap());
    l->append(d);
    d->set("back", Tuple::make(heap(), {Value(l)}));  // d -> tuple -> l -> d
    EXPECT_TRUE(d->is_tracked());
    gc::collect(0);
    EXPECT_TRUE(d->at("back").object()->is_tracked());  // the tuple holds a list
  }
  EXPECT_EQ(gc::collect(), 3u);  // d, the tuple and l
  EXPECT_EQ(live_objects(), baseline);
}

TEST_F(TrackingTest, ACollectionUntracksEveryTupleOfAtoms) {
  // A collection takes 100 tuples of atoms off the collector's lists (gc.get_objects).
  gc::collect();
  std::vector<Ref<Tuple>> tuples;
  for (int i = 0; i < 100; ++i) tuples.push_back(Tuple::make(heap(), {i, "x"}));
  const std::size_t before = gc::get_objects().size();
  gc::collect();
  EXPECT_EQ(gc::get_objects().size(), before - 100);
  for (const Ref<Tuple>& t : tuples) EXPECT_FALSE(t->is_tracked());
  EXPECT_TRUE(heap().verify());
}

TEST_F(TrackingTest, DictsAndTuplesSurviveACollectionAtEveryAllocation) {
  // Thresholds of 1: every container allocation collects, and full collections (which
  // untrack dicts) run inside Dict::make and Tuple::make themselves.
  gc::set_threshold(1, 1, 1);
  Ref<List> records = List::make(heap());
  for (int i = 0; i < 2000; ++i) {
    Ref<Dict> d = Dict::make(heap(), 2);
    d->set("id", i);
    d->set("pair", Tuple::make(heap(), {i, "x"}));
    if (i % 3 == 0) d->set("tags", List::make(heap()));
    records->append(std::move(d));
  }
  gc::set_threshold(700, 10, 10);
  gc::collect();
  std::size_t tracked = 0;
  for (const Value& v : *records) {
    const Dict& d = v.as<Dict>();
    EXPECT_EQ(d.is_tracked(), d.contains("tags"));
    EXPECT_FALSE(d.at("pair").object()->is_tracked());
    tracked += d.is_tracked() ? 1 : 0;
  }
  EXPECT_EQ(tracked, 667u);
  EXPECT_TRUE(heap().verify());
}

// A new dict is never on the collector's lists (CPython's dicts start untracked), but it is
// counted as generation 0's allocation as every container is, so a program that makes only
// dicts still gets its automatic collections. A collection that its own allocation starts
// does not see it: it is not among that collection's survivors.
TEST_F(TrackingTest, ANewDictIsCountedButNeverListed) {
  gc::collect();
  gc::set_threshold(1000, 10, 10);
  const int before = std::get<0>(gc::get_count());
  std::vector<Ref<Dict>> dicts;
  for (int i = 0; i < 5; ++i) dicts.push_back(Dict::make(heap()));
  EXPECT_EQ(std::get<0>(gc::get_count()), before + 5);
  gc::set_threshold(1, 1, 1);  // the next allocation collects every generation
  const std::size_t listed_before = gc::get_objects().size();
  Ref<Dict> made_during_a_collection = Dict::make(heap());
  EXPECT_FALSE(made_during_a_collection->is_tracked());
  EXPECT_FALSE(listed_in_get_objects(made_during_a_collection));
  EXPECT_LE(gc::get_objects().size(), listed_before);
  gc::set_threshold(700, 10, 10);
  EXPECT_TRUE(heap().verify());
}

// Untracking examines only survivors that hold no tracked list or user container; those
// that do are skipped before the walk. In one full collection, atom-only dicts and tuples
// next to many dicts pinned by a list are still untracked, and the pinned ones stay.
TEST_F(TrackingTest, UntrackingFindsTheAtomHoldersAmongPinnedDicts) {
  gc::collect();
  std::vector<Ref<Dict>> pinned, atoms;
  for (int i = 0; i < 300; ++i) {
    Ref<Dict> d = Dict::make(heap());
    d->set("tags", List::make(heap()));
    pinned.push_back(std::move(d));
    Ref<Dict> a = Dict::make(heap());
    a->set("t", Tuple::make(heap(), {i, "x"}));  // a tracked tuple of atoms: tracks a
    atoms.push_back(std::move(a));
  }
  for (const Ref<Dict>& a : atoms) ASSERT_TRUE(a->is_tracked());
  gc::collect();
  for (const Ref<Dict>& d : pinned) EXPECT_TRUE(d->is_tracked());
  for (const Ref<Dict>& a : atoms) {
    EXPECT_FALSE(a->is_tracked());
    EXPECT_FALSE(a->at("t").object()->is_tracked());
  }
  EXPECT_TRUE(heap().verify());
}

}  // namespace
}  // namespace ouro
