// ouro::finalize: called once (death by refcount, by collection, direct call), detach and
// peek, handles that are dropped or outlive the heap, exceptions, and the atexit run at
// heap shutdown (newest first, finalizers made during it, the others never called).
#include "ouro/weak/finalize.h"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/heap_fixture.h"

namespace {

using ouro::Ref;

class Node : public ouro::Object {
 public:
  Ref<Node> next;
  void traverse(ouro::Visitor& visit) override { visit(next); }
  void clear() override { next = nullptr; }

 protected:
  ~Node() override = default;
};

class FinalizeTest : public ouro::testing::HeapTest {
 protected:
  void SetUp() override { ouro::gc::disable(); }
};

TEST_F(FinalizeTest, CalledOnceWhenTheObjectDies) {
  Ref<Node> node = ouro::make<Node>();
  int calls = 0;
  ouro::Finalizer f = ouro::finalize(node, [&] { ++calls; });
  EXPECT_TRUE(f.alive());
  EXPECT_TRUE(f.atexit());
  EXPECT_EQ(ouro::getrefcount(node), 1u);  // a finalizer does not keep its object alive
  node.reset();
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(f.alive());
  EXPECT_FALSE(f());  // dead: nothing more
  EXPECT_EQ(calls, 1);
}

TEST_F(FinalizeTest, CalledWhenTheObjectIsCollected) {
  int calls = 0;
  {
    Ref<Node> a = ouro::make<Node>();
    a->next = a;
    (void)ouro::finalize(a, [&] { ++calls; });  // the handle is dropped: still registered
  }
  EXPECT_EQ(calls, 0);
  ouro::gc::collect();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(live_objects(), 0u);
}

TEST_F(FinalizeTest, DirectCallRunsItOnceAndPropagatesExceptions) {
  Ref<Node> node = ouro::make<Node>();
  int calls = 0;
  ouro::Finalizer f = ouro::finalize(node, [&] { ++calls; });
  ouro::Finalizer copy = f;
  EXPECT_TRUE(copy());
  EXPECT_FALSE(f.alive());
  EXPECT_FALSE(f());
  node.reset();
  EXPECT_EQ(calls, 1);

  Ref<Node> other = ouro::make<Node>();
  ouro::Finalizer throwing = ouro::finalize(other, [] { throw std::runtime_error("boom"); });
  EXPECT_THROW(throwing(), std::runtime_error);
  EXPECT_FALSE(throwing.alive());
}

TEST_F(FinalizeTest, ExceptionsAtDeathGoToTheUnraisableHook) {
  std::vector<std::string> where;
  ouro::set_unraisable_hook(
      heap(), [&](const ouro::UnraisableInfo& info) { where.emplace_back(info.where); });
  Ref<Node> node = ouro::make<Node>();
  (void)ouro::finalize(node, [] { throw std::runtime_error("boom"); });
  node.reset();
  EXPECT_EQ(where, std::vector<std::string>{"finalize"});
}

TEST_F(FinalizeTest, DetachAndPeek) {
  Ref<Node> node = ouro::make<Node>();
  int calls = 0;
  ouro::Finalizer f = ouro::finalize(node, [&] { ++calls; });
  auto peeked = f.peek();
  ASSERT_TRUE(peeked);
  EXPECT_EQ(peeked->object, node);
  peeked.reset();
  EXPECT_TRUE(f.alive());
  auto detached = f.detach();
  ASSERT_TRUE(detached);
  EXPECT_EQ(detached->object, node);
  EXPECT_FALSE(f.alive());
  EXPECT_FALSE(f.detach());
  EXPECT_FALSE(f.peek());
  detached->object = nullptr;
  node.reset();
  EXPECT_EQ(calls, 0);  // detached: never called by the heap
  detached->fn();       // the caller may still call it
  EXPECT_EQ(calls, 1);
}

TEST_F(FinalizeTest, AFunctionMayEndOtherFinalizersAndMakeNewOnes) {
  Ref<Node> a = ouro::make<Node>(), b = ouro::make<Node>(), c = ouro::make<Node>();
  std::vector<std::string> calls;
  ouro::Finalizer fb = ouro::finalize(b, [&] { calls.push_back("b"); });
  ouro::Finalizer fc;
  ouro::Finalizer fa = ouro::finalize(a, [&] {
    calls.push_back("a");
    fb.detach();
    fc = ouro::finalize(c, [&] { calls.push_back("c"); });
  });
  a.reset();
  b.reset();
  c.reset();
  EXPECT_EQ(calls, (std::vector<std::string>{"a", "c"}));
}

TEST(FinalizeShutdown, AtexitFinalizersRunNewestFirstAtHeapShutdown) {
  std::vector<std::string> calls;
  auto captured = std::make_shared<int>(0);
  ouro::Finalizer survivor;
  {
    ouro::Heap heap;
    ouro::HeapScope scope(heap);
    ouro::gc::disable();
    // Objects kept alive until the heap goes: a garbage cycle nobody collects.
    Ref<Node> a = ouro::make<Node>(), b = ouro::make<Node>(), c = ouro::make<Node>();
    a->next = b;
    b->next = c;
    c->next = a;
    (void)ouro::finalize(a, [&] { calls.push_back("a"); });
    (void)ouro::finalize(b, [&calls, alive_a = a.get()] {
      calls.push_back("b");
      // Made during the shutdown run: it runs too. (`a` itself is gone by now; its object
      // lives on in the cycle.)
      (void)ouro::finalize(Ref<Node>::borrow(alive_a),
                           [&calls] { calls.push_back("made during shutdown"); });
    });
    ouro::Finalizer not_at_exit = ouro::finalize(c, [&, captured] { calls.push_back("c"); });
    not_at_exit.set_atexit(false);
    EXPECT_FALSE(not_at_exit.atexit());
    survivor = ouro::finalize(c, [&] { calls.push_back("c2"); });
    a.reset();
    b.reset();
    c.reset();
    EXPECT_EQ(captured.use_count(), 2);
    EXPECT_TRUE(calls.empty());
  }
  EXPECT_EQ(calls, (std::vector<std::string>{"c2", "b", "made during shutdown", "a"}));
  EXPECT_EQ(captured.use_count(), 1);  // the non-atexit function was let go, never called
  EXPECT_FALSE(survivor.alive());      // a handle may outlive its heap
  EXPECT_FALSE(survivor());
}

TEST(FinalizeShutdown, NoFinalizerRunsAfterTheShutdownRun) {
  int calls = 0;
  {
    ouro::Heap heap;
    ouro::HeapScope scope(heap);
    ouro::gc::disable();
    Ref<Node> a = ouro::make<Node>();
    a->next = a;
    ouro::Finalizer f = ouro::finalize(a, [&] { ++calls; });
    f.set_atexit(false);
    a.reset();  // collected by the heap's last collection, after the shutdown run
  }
  EXPECT_EQ(calls, 0);
}

}  // namespace
