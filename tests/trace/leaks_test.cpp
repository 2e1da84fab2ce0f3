// Leak finding on a built graph with a cycle and a weak reference: the chain from a root,
// retained sizes, roots by refcount subtraction, and type growth in objgraph's format.
#include "ouro/trace/leaks.h"

#include <gtest/gtest.h>

#include "ouro/core/gc.h"
#include "ouro/core/weakref.h"
#include "support/heap_fixture.h"

namespace ouro::trace {
namespace {

class Node : public Object {
 public:
  static constexpr std::string_view kTypeName = "Node";
  Ref<Object> a, b;
  void traverse(Visitor& visit) override {
    visit(a);
    visit(b);
  }
  void clear() override { a = b = nullptr; }

 protected:
  ~Node() override = default;
};

class Blob : public Object {
 public:
  static constexpr std::string_view kTypeName = "Blob";
  char bytes[48] = {};

 protected:
  ~Blob() override = default;
};

class LeaksTest : public ouro::testing::HeapTest {};

TEST_F(LeaksTest, ChainFromARootThroughACycleIgnoringWeakReferences) {
  auto holder = make<Node>();  // the root: held by this stack frame
  auto a = make<Node>();
  auto b = make<Node>();
  auto c = make<Node>();
  auto leaf = make<Blob>();
  holder->a = a;
  a->a = b;
  b->a = c;
  c->a = b;  // the cycle b <-> c
  c->b = leaf;
  Weak<Node> weak_to_b(b);  // keeps nothing alive: never an edge
  auto other = make<Node>();
  auto weak_holder = make<Node>();
  weak_holder->a = weak_to_b.ref();  // a container holding only a weak reference to b
  const std::uint64_t node = getsizeof(a), blob = getsizeof(leaf);
  a.reset();
  b.reset();
  c.reset();

  auto chain = reference_chain(leaf);
  ASSERT_EQ(chain.size(), 5u);
  EXPECT_EQ(chain.front(), holder);
  EXPECT_EQ(chain.back(), leaf);
  for (std::size_t i = 1; i + 1 < chain.size(); ++i) EXPECT_EQ(chain[i]->type_name(), "Node");

  // Keep handles only where needed: every Ref held here makes its object a root.
  Ref<Object> a_obj = chain[1];
  Object* b_raw = chain[2].get();
  Object* c_raw = chain[3].get();
  chain.clear();

  auto roots = find_roots(heap());
  EXPECT_NE(std::find(roots.begin(), roots.end(), holder), roots.end());
  EXPECT_NE(std::find(roots.begin(), roots.end(), other), roots.end());
  EXPECT_EQ(std::find(roots.begin(), roots.end(), Ref<Object>::borrow(b_raw)), roots.end());
  roots.clear();

  // Retained: a holds the b <-> c cycle and the blob; b alone holds c and the blob too.
  EXPECT_EQ(retained_size(a_obj), 3 * node + blob);
  a_obj.reset();
  EXPECT_EQ(retained_size(Ref<Object>::borrow(b_raw)), 2 * node + blob);
  // A second root reaching c: b now retains only itself.
  other->a = Ref<Object>::borrow(c_raw);
  EXPECT_EQ(retained_size(Ref<Object>::borrow(b_raw)), node);
  EXPECT_EQ(retained_size(leaf), blob);

  LeakRecord record = describe_leak(leaf);
  ASSERT_EQ(record.steps.size(), 3u);  // now the shortest path is other -> c -> blob
  EXPECT_EQ(record.steps[0].type, "Node");
  EXPECT_EQ(record.steps[2].type, "Blob");
  EXPECT_EQ(record.steps[2].bytes, blob);
  EXPECT_EQ(record.retained_bytes, blob);

  // Held directly by this frame beyond the Ref passed in: the chain is the object alone.
  auto second_ref = leaf;
  EXPECT_EQ(reference_chain(leaf).size(), 1u);
  second_ref.reset();

  // Drop the roots: the cycle is trash, nothing keeps the blob alive.
  other->a = nullptr;
  holder.reset();
  EXPECT_TRUE(reference_chain(leaf).empty());
  leaf.reset();
  EXPECT_EQ(gc::collect(), 2u);
  EXPECT_FALSE(weak_to_b.lock());
}

TEST_F(LeaksTest, GrowthBetweenTwoPointsInObjgraphFormat) {
  std::vector<Ref<Object>> keep;
  for (int i = 0; i < 3; ++i) keep.push_back(make<Node>());
  GrowthTracker growth(heap());
  for (int i = 0; i < 5; ++i) keep.push_back(make<Blob>());
  keep.push_back(make<Node>());
  auto rows = growth.growth();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(format_growth(rows), "Blob        5        +5\nNode        4        +1\n");
  EXPECT_TRUE(growth.growth().empty());  // nothing new since the last point
  auto common = most_common_types(heap(), 1);
  ASSERT_EQ(common.size(), 1u);
  EXPECT_EQ(common[0].type, "Blob");
  EXPECT_EQ(common[0].count, 5u);
}

}  // namespace
}  // namespace ouro::trace
