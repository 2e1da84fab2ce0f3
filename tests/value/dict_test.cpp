// Dict, Set and FrozenSet semantics (src/value/dict.cpp, set.cpp, table.h): insertion
// order through deletions and resizes, 1/1.0/True as one key, NaN keys by identity,
// unhashable keys, a random workload checked against python3's dict and set, and what the
// collector sees of a dict (gc.get_referents as CPython's, cycles through keys and values).
#include <gtest/gtest.h>

#include <cmath>

#include "ouro/core/gc.h"
#include "ouro/value/value.h"
#include "support/heap_fixture.h"
#include "value/value_oracle.h"

namespace ouro {
namespace {

class DictTest : public testing::HeapTest {};

TEST_F(DictTest, InsertionOrderSurvivesDeletionAndResize) {
  Ref<Dict> d = Dict::make(heap());
  for (int i = 0; i < 100; ++i) d->set(i * 7 % 100, i);
  for (int i = 0; i < 100; i += 3) EXPECT_TRUE(d->erase(i * 7 % 100));
  for (int i = 100; i < 1000; ++i) d->set(i, i);  // several resizes
  std::vector<std::int64_t> keys;
  for (const DictEntry& e : *d) keys.push_back(e.key.as<std::int64_t>());
  std::vector<std::int64_t> expected;
  for (int i = 0; i < 100; ++i) {
    if (i % 3 != 0) expected.push_back(i * 7 % 100);
  }
  for (int i = 100; i < 1000; ++i) expected.push_back(i);
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(d->size(), expected.size());
  EXPECT_FALSE(d->erase(0));
  EXPECT_EQ(d->at(7).as<int>(), 1);
}

TEST_F(DictTest, OneOneFloatAndTrueAreTheSameKey) {
  Ref<Dict> d = Dict::make(heap());
  d->set(1, "int");
  d->set(1.0, "float");
  d->set(true, "bool");
  EXPECT_EQ(d->size(), 1u);
  EXPECT_EQ(repr(Value(d)), "{1: 'bool'}");  // the first key object stays, as in Python
  EXPECT_TRUE(d->contains(1.0));
  Ref<Dict> big = Dict::make(heap());
  Value huge = Int::from_decimal("9007199254740992");
  big->set(huge, 1);
  EXPECT_TRUE(big->contains(9007199254740992.0));
}

TEST_F(DictTest, NanKeysMatchOnlyThemselves) {
  Ref<Dict> d = Dict::make(heap());
  Value nan1 = std::nan(""), nan2 = std::nan("");
  d->set(nan1, 1);
  d->set(nan2, 2);
  d->set(nan1, 3);
  EXPECT_EQ(d->size(), 2u);
  EXPECT_EQ(d->at(nan1).as<int>(), 3);
  EXPECT_EQ(d->find(Value(std::nan(""))), nullptr);
}

TEST_F(DictTest, UnhashableKeysAndMissingKeysGiveClearErrors) {
  Ref<Dict> d = Dict::make(heap());
  try {
    d->set(list({1}), 1);
    FAIL();
  } catch (const TypeError& e) {
    EXPECT_STREQ(e.what(), "unhashable type: 'list'");
  }
  EXPECT_EQ(d->size(), 0u);
  try {
    (void)d->at("missing");
    FAIL();
  } catch (const KeyError& e) {
    EXPECT_STREQ(e.what(), "'missing'");
  }
  EXPECT_THROW(d->pop(1), KeyError);
  Ref<Set> s = Set::make(heap());
  EXPECT_THROW(s->add(dict({})), TypeError);
  EXPECT_THROW(s->remove(1), KeyError);
}

TEST_F(DictTest, PresizedRecordsTakeExactTables) {
  Ref<Dict> d = Dict::make(heap(), 4);
  const std::size_t before = heap().stats().allocations;
  for (const char* k : {"id", "name", "score", "tags"}) d->set(k, 1);
  EXPECT_EQ(heap().stats().allocations - before, 4u);  // the 4 key strs, no table growth
  d->set("fifth", 5);
  EXPECT_EQ(d->size(), 5u);
  std::string order;
  for (const DictEntry& e : *d) order += std::string(e.key.as<std::string_view>()) + ",";
  EXPECT_EQ(order, "id,name,score,tags,fifth,");
}

TEST_F(DictTest, SetsKeepOneOfEachAndIterateInCPythonsOrder) {
  Ref<Set> s = Set::make(heap());
  for (int i : {5, 3, 5, 9, 3}) s->add(i);
  s->add(5.0);
  s->add(true);                                  // equals 1: new
  EXPECT_EQ(repr(Value(s)), "{9, 3, 5, True}");  // CPython's table order (slots 1, 3, 5)
  EXPECT_TRUE(s->discard(3));
  EXPECT_FALSE(s->discard(3));
  for (int i = 0; i < 500; ++i) s->add(i);
  EXPECT_EQ(s->size(), 500u);
  Value f1 = frozenset({1, 2, 3}), f2 = frozenset({3, 2, 1});
  EXPECT_EQ(hash(f1), hash(f2));
  Ref<Set> of_sets = Set::make(heap());
  of_sets->add(f1);
  of_sets->add(f2);
  EXPECT_EQ(of_sets->size(), 1u);
}

// A random workload of setitem/delitem on int and str keys, mirrored in Python: the final
// dict and set (orders included) must print identically.
TEST_F(DictTest, RandomWorkloadMatchesCPython) {
  OURO_REQUIRE_PYTHON();
  using value::testing::uniform;
  Ref<Dict> d = Dict::make(heap());
  Ref<Set> s = Set::make(heap());
  std::string ops;
  for (int i = 0; i < 20000; ++i) {
    const auto k = uniform(0, 300);
    const bool str_key = uniform(0, 1) == 1;
    Value key = str_key ? Value("k" + std::to_string(k)) : Value(static_cast<int>(k));
    const std::string py_key = str_key ? "'k" + std::to_string(k) + "'" : std::to_string(k);
    if (uniform(0, 2) == 0) {
      d->erase(key);
      s->discard(key);
      ops += "d.pop(" + py_key + ", None); s.discard(" + py_key + ")\n";
    } else {
      d->set(key, i);
      s->add(key);
      ops += "d[" + py_key + "] = " + std::to_string(i) + "; s.add(" + py_key + ")\n";
    }
  }
  const auto lines = value::testing::python_lines(
      "d = {}\ns = set()\n" + ops +
          "print(repr(d))\nprint(len(s), sorted(s, key=repr))\nprint(repr(s))\n",
      "");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(repr(Value(d)), lines[0]);
  // The set's own order: CPython's table after the same adds and discards (dummies,
  // resizes), with str hashed as under PYTHONHASHSEED=0, which the oracle runs with.
  EXPECT_EQ(repr(Value(s)), lines[2]);
  std::vector<std::string> elems;
  for (const SetEntry& e : *s) elems.push_back(repr(e.key));
  std::sort(elems.begin(), elems.end());
  std::string mine = std::to_string(s->size()) + " [";
  for (std::size_t i = 0; i < elems.size(); ++i) mine += (i ? ", " : "") + elems[i];
  EXPECT_EQ(mine + "]", lines[1]);
}

// The referents of a dict as repr text, in gc.get_referents order.
std::string referents_repr(const Ref<Dict>& d) {
  std::string out;
  const Ref<Object> of[] = {d};
  for (const Ref<Object>& r : gc::get_referents(of)) {
    out += repr(Value(r)) + ",";
  }
  return out;
}

TEST_F(DictTest, ReferentsAreCPythons) {
  // While every key is a str, CPython's dict_traverse visits only the values; once a key
  // of another type is inserted, each value and then its key (until the dict is cleared).
  Ref<Dict> d = Dict::make(heap());
  d->set("a", 1.5);
  d->set("b", "x");
  d->set("c", "z");
  const std::string str_keys = referents_repr(d);
  d->set(2.5, "y");
  const std::string mixed = referents_repr(d);
  d->erase(2.5);
  const std::string after_erase = referents_repr(d);
  d->clear();
  d->set("k", 0.25);
  const std::string after_clear = referents_repr(d);
  const auto lines = value::testing::python_lines(R"(import gc
def show(d): print(''.join(repr(r) + ',' for r in gc.get_referents(d)))
d = {'a': 1.5, 'b': 'x', 'c': 'z'}
show(d)
d[2.5] = 'y'
show(d)
del d[2.5]
show(d)
d.clear()
d['k'] = 0.25
show(d)
)",
                                                  "");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(str_keys, lines[0]);
  EXPECT_EQ(mixed, lines[1]);
  EXPECT_EQ(after_erase, lines[2]);
  EXPECT_EQ(after_clear, lines[3]);
}

// A managed object that holds one Value: a hashable container (object.__hash__) to use as
// a dict key.
struct Holder final : Object {
  Value held;
  void traverse(Visitor& visit) override { held.visit(visit); }
  void clear() override { held = nullptr; }

 private:
  ~Holder() override = default;
};

TEST_F(DictTest, CyclesThroughKeysAndValuesAreCollected) {
  gc::collect();
  const std::size_t baseline = live_objects();
  {
    // Through a value of a str-keyed dict (keys are skipped, values are not).
    Ref<Dict> d = Dict::make(heap());
    Ref<List> l = List::make(heap());
    l->append(d);
    d->set("self", l);
    // Through a key: the dict's keys are visited once one is not a str.
    Ref<Dict> e = Dict::make(heap());
    Ref<Holder> key = make<Holder>();
    key->held = e;
    e->set("first", 1);
    e->set(key, 2);
  }
  EXPECT_GT(live_objects(), baseline);
  EXPECT_EQ(gc::collect(), 4u);  // d, l, e and key (the strs die with them)
  EXPECT_EQ(live_objects(), baseline);
}

}  // namespace
}  // namespace ouro
