// The newcomer's conveniences of the value layer: containers made in the current heap
// without a Heap&, lists/tuples/dicts/sets from C++ ranges, and Value::as<T>/ref<T> for
// user types that declare no kTypeName.
#include <gtest/gtest.h>

#include <array>
#include <map>
#include <ranges>
#include <string>
#include <vector>

#include "ouro/value/value.h"
#include "support/heap_fixture.h"

namespace ouro {
namespace {

class BuildersTest : public testing::HeapTest {};

// A user type with no kTypeName: its name comes from the C++ type.
class Sensor final : public Object {
 public:
  int reading = 7;

 private:
  ~Sensor() override = default;
};

// A non-final user type and a type derived from it.
class Shape : public Object {
 protected:
  ~Shape() override = default;
};
class Circle : public Shape {
 protected:
  ~Circle() override = default;
};

TEST_F(BuildersTest, AsAndRefWorkForUserTypesWithoutTypeName) {
  const Value v = make<Sensor>();
  EXPECT_TRUE(v.is<Sensor>());
  EXPECT_EQ(v.as<Sensor>().reading, 7);
  Ref<Sensor> r = v.ref<Sensor>();
  EXPECT_EQ(r->refcount(), 2u);
  const Value c = make<Circle>();
  EXPECT_TRUE(c.is<Shape>());
  EXPECT_EQ(&c.as<Shape>(), c.object());
  try {
    (void)c.as<Sensor>();
    FAIL();
  } catch (const TypeError& e) {
    // The demangled C++ name stands in for the missing kTypeName.
    EXPECT_NE(std::string(e.what()).find("expected ouro::(anonymous namespace)::Sensor, got "),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW((void)Value(1).ref<Shape>(), TypeError);
}

TEST_F(BuildersTest, AnEmptyRefIsNone) {
  const Value none = Ref<List>();
  EXPECT_TRUE(none.is_none());
  Ref<Sensor> empty;
  const Value moved = std::move(empty);
  EXPECT_TRUE(moved.is_none());
  EXPECT_EQ(repr(list({Ref<Sensor>(), 1})), "[None, 1]");
}

TEST_F(BuildersTest, MakeWithoutHeapUsesTheCurrentOne) {
  Ref<List> l = List::make({1, "two"});
  Ref<Tuple> t = Tuple::make({1, 2});
  Ref<Dict> d = Dict::make();
  d->set("k", l);
  Ref<Set> s = Set::make();
  s->add(3);
  Ref<FrozenSet> f = FrozenSet::make({4});
  Ref<Str> text = Str::make("x");
  Ref<Float> x = Float::make(0.5);
  Ref<Bytes> b = Bytes::make(as_bytes("b"));
  Ref<ByteArray> a = ByteArray::make();
  Ref<Instance> i = Instance::make(Global::make("__main__", "Point"));
  Ref<Reduce> r = Reduce::make(Global::make("builtins", "complex"), Value(t));
  EXPECT_EQ(repr(dict({{"l", l}, {"t", t}, {"d", d}, {"s", s}, {"f", f}, {"x", x}})),
            "{'l': [1, 'two'], 't': (1, 2), 'd': {'k': [1, 'two']}, 's': {3}, "
            "'f': frozenset({4}), 'x': 0.5}");
  for (const Object* o :
       {static_cast<const Object*>(l.get()), static_cast<const Object*>(i.get()),
        static_cast<const Object*>(r.get()), static_cast<const Object*>(a.get())}) {
    EXPECT_EQ(&o->heap(), &heap());
  }
}

TEST(BuildersNoHeapTest, MakeWithoutAHeapNamesTheCall) {
  try {
    (void)List::make();
    FAIL();
  } catch (const std::logic_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "ouro::List::make: no current heap on this thread; create an ouro::HeapScope (or "
              "pass the Heap& explicitly)");
  }
}

TEST_F(BuildersTest, ContainersFromRanges) {
  EXPECT_EQ(repr(list(std::vector<int>{1, 2, 3})), "[1, 2, 3]");
  EXPECT_EQ(repr(list(std::vector<std::string>{"a", "b"})), "['a', 'b']");
  EXPECT_EQ(repr(tuple(std::array<double, 2>{0.5, 1.5})), "(0.5, 1.5)");
  EXPECT_EQ(repr(tuple(std::vector<Value>{1, "a"})), "(1, 'a')");
  EXPECT_EQ(repr(list(std::views::iota(0, 4) | std::views::transform([](int n) { return n * n; }))),
            "[0, 1, 4, 9]");
  EXPECT_EQ(repr(dict(std::map<std::string, int>{{"b", 2}, {"a", 1}})), "{'a': 1, 'b': 2}");
  EXPECT_EQ(repr(dict(std::vector<std::pair<int, std::string>>{{2, "x"}, {1, "y"}})),
            "{2: 'x', 1: 'y'}");
  EXPECT_EQ(repr(set(std::vector<int>{3, 1, 3})), "{1, 3}");  // CPython's set order
  EXPECT_EQ(repr(frozenset(std::vector<int>{})), "frozenset()");
  // Braced lists keep meaning Python literals.
  EXPECT_EQ(repr(list({1, "a"})), "[1, 'a']");
}

}  // namespace
}  // namespace ouro
