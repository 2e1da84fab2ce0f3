// List and Tuple (src/value/list.cpp): Python's indexing rules and errors, growth, insert
// and pop, self-extension, and a list that contains itself.
#include <gtest/gtest.h>

#include "ouro/value/value.h"
#include "support/heap_fixture.h"

namespace ouro {
namespace {

class ListTest : public testing::HeapTest {};

TEST_F(ListTest, IndexingFollowsPython) {
  Ref<List> l = List::make(heap(), std::vector<Value>{1, 2, 3});
  EXPECT_EQ(l->at(-1).as<int>(), 3);
  EXPECT_EQ(l->at(0).as<int>(), 1);
  try {
    (void)l->at(3);
    FAIL();
  } catch (const IndexError& e) {
    EXPECT_STREQ(e.what(), "list index out of range");
  }
  EXPECT_THROW(l->set(-4, 0), IndexError);
  l->set(-3, "x");
  l->insert(-100, "first");
  l->insert(100, "last");
  EXPECT_EQ(repr(Value(l)), "['first', 'x', 2, 3, 'last']");
  EXPECT_EQ(l->pop().as<std::string_view>(), "last");
  EXPECT_EQ(l->pop(0).as<std::string_view>(), "first");
  EXPECT_EQ(repr(Value(l)), "['x', 2, 3]");
  Ref<List> empty = List::make(heap());
  try {
    (void)empty->pop();
    FAIL();
  } catch (const IndexError& e) {
    EXPECT_STREQ(e.what(), "pop from empty list");
  }
  Ref<Tuple> t = Tuple::make(heap(), {1, 2});
  EXPECT_EQ(t->at(-2).as<int>(), 1);
  EXPECT_THROW((void)t->at(2), IndexError);
}

TEST_F(ListTest, GrowsLikeCPythonAndReportsItsArray) {
  Ref<List> l = List::make(heap());
  EXPECT_EQ(getsizeof(l), 48u);
  for (int i = 0; i < 1000; ++i) l->append(i);
  EXPECT_EQ(l->size(), 1000u);
  EXPECT_GE(getsizeof(l), 48u + 8000u);
  EXPECT_LE(getsizeof(l), 48u + 8000u + 8000u / 8 + 64);
  l->extend(l->items_span());  // l.extend(l)
  EXPECT_EQ(l->size(), 2000u);
  EXPECT_EQ((*l)[1999].as<int>(), 999);
  l->clear();
  EXPECT_EQ(getsizeof(l), 48u);
}

TEST_F(ListTest, AListThatContainsItself) {
  Ref<List> l = List::make(heap());
  l->append(l);
  l->append(l);
  EXPECT_EQ(repr(Value(l)), "[[...], [...]]");
  EXPECT_TRUE(equals(Value(l), Value(l)));
  EXPECT_THROW((void)hash(Value(l)), TypeError);
  EXPECT_EQ(l->refcount(), 3u);
  l->clear();
  EXPECT_EQ(l->refcount(), 1u);
}

}  // namespace
}  // namespace ouro
