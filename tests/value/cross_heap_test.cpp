// I1 at the value layer: a container of one heap never stores a reference to an object of
// another heap (it would be freed with the wrong heap, or form a cycle no collector sees).
// Every store names the rule and leaves the container unchanged.
#include <gtest/gtest.h>

#include <functional>
#include <span>
#include <string>

#include "ouro/core/heap.h"
#include "ouro/value/value.h"

namespace {

class CrossHeapTest : public ::testing::Test {
 protected:
  ouro::Heap a_, b_;
  // A scalar Value made under another HeapScope: the example of the mistake.
  ouro::Value foreign_ = [this] {
    ouro::HeapScope scope(b_);
    return ouro::Value("made in heap b");
  }();
  ouro::HeapScope scope_{a_};

  static void expect_refused(const std::function<void()>& store) {
    try {
      store();
      FAIL() << "a reference into another heap was stored";
    } catch (const ouro::TypeError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("cannot store a reference to a 'str' of heap"), std::string::npos)
          << what;
      EXPECT_NE(what.find("same heap (I1)"), std::string::npos) << what;
    }
  }
};

TEST_F(CrossHeapTest, EveryContainerRefusesAnObjectOfAnotherHeap) {
  ouro::Value list = ouro::list({ouro::Value(1)});
  ouro::Value dict = ouro::dict();
  ouro::Value set = ouro::set();
  auto& l = list.as<ouro::List>();
  expect_refused([&] { l.append(foreign_); });
  expect_refused([&] { l.insert(0, foreign_); });
  expect_refused([&] { l.set(0, foreign_); });
  expect_refused([&] { l.extend(std::span<const ouro::Value>(&foreign_, 1)); });
  expect_refused([&] { (void)ouro::tuple({foreign_}); });
  expect_refused([&] { (void)ouro::list({foreign_}); });
  expect_refused([&] { dict.as<ouro::Dict>().set(ouro::Value("k"), foreign_); });
  expect_refused([&] { dict.as<ouro::Dict>().set(foreign_, ouro::Value(1)); });
  expect_refused([&] { set.as<ouro::Set>().add(foreign_); });
  expect_refused([&] { (void)ouro::frozenset({foreign_}); });
  // Unchanged, and still usable.
  EXPECT_EQ(ouro::repr(list), "[1]");
  EXPECT_EQ(ouro::repr(dict), "{}");
  l.append(ouro::Value("same heap"));
  EXPECT_EQ(ouro::repr(list), "[1, 'same heap']");
}

TEST_F(CrossHeapTest, ImmediatesBelongToNoHeap) {
  ouro::Value list = ouro::list();
  ouro::Value small;
  {
    ouro::HeapScope other(b_);
    small = ouro::Value(42);  // an immediate int: no object, no heap
  }
  list.as<ouro::List>().append(small);
  list.as<ouro::List>().append(ouro::Value());  // None
  EXPECT_EQ(ouro::repr(list), "[42, None]");
}

}  // namespace
