// Global, Instance and Reduce (src/value/instance.cpp), and the collector's view of every
// container: cycles through lists, dicts, sets, tuples and instances are found with exact
// counts, and the seed's ComplexDataObject is representable without any C++ class.
#include <gtest/gtest.h>

#include "ouro/core/gc.h"
#include "ouro/value/value.h"
#include "support/heap_fixture.h"

namespace ouro {
namespace {

class InstanceTest : public testing::HeapTest {
 protected:
  InstanceTest() { gc::disable(heap()); }
};

TEST_F(InstanceTest, ComplexDataObjectWithoutACppClass) {
  Value nested_cls = Global::make(heap(), "__main__", "ComplexDataObject.NestedClass");
  Ref<Instance> nested = Instance::make(heap(), nested_cls);
  nested->set_attr("message", "I am nested");
  Ref<Instance> obj = Instance::make(heap(), Global::make(heap(), "__main__", "ComplexDataObject"));
  obj->set_attr("integer", 1024);
  obj->set_attr("string", "Sample Text");
  obj->set_attr("list", list({1, 2, 3, dict({{"nested", "dict"}}), tuple({"tuple", 42})}));
  obj->set_attr("nested", nested);
  EXPECT_EQ(obj->get_attr("integer")->as<int>(), 1024);
  EXPECT_EQ(repr(*obj->get_attr("list")), "[1, 2, 3, {'nested': 'dict'}, ('tuple', 42)]");
  const Instance& n = obj->get_attr("nested")->as<Instance>();
  EXPECT_EQ(n.get_attr("message")->as<std::string_view>(), "I am nested");
  EXPECT_EQ(n.type_name(), "NestedClass");
  EXPECT_EQ(obj->get_attr("missing"), nullptr);
  EXPECT_EQ(obj->dict()->size(), 4u);
}

TEST_F(InstanceTest, SlotStateAndOpaqueState) {
  Value cls = Global::make(heap(), "m", "Slotted");
  Ref<Instance> a = Instance::make(heap(), cls, tuple({Value(), dict({{"x", 1}})}));
  EXPECT_EQ(a->dict(), nullptr);
  EXPECT_EQ(a->get_attr("x")->as<int>(), 1);
  Ref<Instance> b = Instance::make(heap(), cls, list({1, 2}));  // a __setstate__ payload
  EXPECT_THROW(b->set_attr("y", 1), TypeError);
  EXPECT_EQ(repr(b->state()), "[1, 2]");
  Ref<Reduce> r =
      Reduce::make(heap(), Global::make(heap(), "collections", "OrderedDict"), tuple({}));
  r->dictitems = list({tuple({"a", 1})});
  EXPECT_EQ(repr(Value(r)), "<reduce collections.OrderedDict()>");
}

TEST_F(InstanceTest, CyclesThroughEveryContainerAreCollectedExactly) {
  const std::size_t base = live_objects();
  {
    Value l = list({});
    l.as<List>().append(l);  // 1 container
    Value d = dict({});
    Value inst = Instance::make(heap(), Global::make(heap(), "m", "C"), d);
    d.as<Dict>().set("self", inst);  // instance <-> dict: 2 containers (+ Global, str)
    Value inner = list({});
    Value t = tuple({inner});
    inner.as<List>().append(t);  // tuple <-> list: 2
    Value s = set({});
    Value holder = Instance::make(heap(), Global::make(heap(), "m", "H"), s);
    s.as<Set>().add(holder);  // set <-> instance: 2
    Value r = Reduce::make(heap(), Global::make(heap(), "m", "f"), tuple({}));
    r.as<Reduce>().state = r;  // reduce + its args tuple (garbage it alone keeps): 2
  }
  EXPECT_GT(live_objects(), base);
  EXPECT_EQ(gc::collect(2, heap()), 9u);
  EXPECT_EQ(live_objects(), base);
}

TEST_F(InstanceTest, ReachableContainersSurviveCollection) {
  Value l = list({"a"});
  l.as<List>().append(l);
  Value d = dict({{"l", l}});
  EXPECT_EQ(gc::collect(2, heap()), 0u);
  EXPECT_EQ(repr(d), "{'l': ['a', [...]]}");
  l.as<List>().clear();
}

}  // namespace
}  // namespace ouro
