// Deterministic freeing: destruction at count zero, the trashcan (a 10,000,000-long chain
// freed without overflowing the stack), finalizers from refcount death (once, resurrection),
// and the heap's shutdown (leak report, no crash with live objects).
#include <gtest/gtest.h>

#include <sstream>
#include <vector>

#include "support/heap_fixture.h"

namespace {

using ouro::Ref;

class Link : public ouro::Object {
 public:
  Ref<Link> next;
  void traverse(ouro::Visitor& visit) override { visit(next); }
  void clear() override { next = nullptr; }

 protected:
  ~Link() override = default;
};

class Tree : public ouro::Object {
 public:
  Ref<Tree> left, right;
  void traverse(ouro::Visitor& visit) override {
    visit(left);
    visit(right);
  }
  void clear() override {
    left = nullptr;
    right = nullptr;
  }

 protected:
  ~Tree() override = default;
};

int g_finalized = 0;
Ref<ouro::Object> g_saved;

class Phoenix : public ouro::Object {
 public:
  bool resurrect = false;
  void finalize() override {
    ++g_finalized;
    if (resurrect) g_saved = Ref<ouro::Object>::borrow(this);
  }

 protected:
  ~Phoenix() override = default;
};

class Grumpy : public ouro::Object {
 public:
  void finalize() override { throw std::runtime_error("grumpy finalizer"); }

 protected:
  ~Grumpy() override = default;
};

class LifetimeTest : public ouro::testing::HeapTest {
 protected:
  void SetUp() override {
    g_finalized = 0;
    g_saved = nullptr;
  }
  void TearDown() override { g_saved = nullptr; }
};

TEST_F(LifetimeTest, TenMillionLongChainIsFreedWithoutStackOverflow) {
  ouro::gc::disable();
  constexpr int kLength = 10'000'000;
  Ref<Link> head = ouro::make<Link>();
  Link* tail = head.get();
  for (int i = 1; i < kLength; ++i) {
    tail->next = ouro::make<Link>();
    tail = tail->next.get();
  }
  EXPECT_EQ(live_objects(), static_cast<std::size_t>(kLength));
  head.reset();
  EXPECT_EQ(live_objects(), 0u);
  EXPECT_EQ(heap().stats().bytes_in_use, 0u);
  EXPECT_TRUE(heap().verify());
}

TEST_F(LifetimeTest, DeepAndWideTreesAreFreedCompletely) {
  // A left-deep spine with a leaf on every right: the trashcan must drain everything.
  ouro::gc::disable();
  Ref<Tree> root = ouro::make<Tree>();
  Tree* at = root.get();
  for (int i = 0; i < 200000; ++i) {
    at->right = ouro::make<Tree>();
    at->left = ouro::make<Tree>();
    at = at->left.get();
  }
  root.reset();
  EXPECT_EQ(live_objects(), 0u);
  EXPECT_TRUE(heap().verify());
}

TEST_F(LifetimeTest, FinalizerRunsOnceOnRefcountDeath) {
  ouro::make<Phoenix>().reset();
  EXPECT_EQ(g_finalized, 1);
  EXPECT_EQ(live_objects(), 0u);
}

TEST_F(LifetimeTest, FinalizerMayResurrectAndIsNotCalledAgain) {
  {
    Ref<Phoenix> p = ouro::make<Phoenix>();
    p->resurrect = true;
  }
  EXPECT_EQ(g_finalized, 1);
  ASSERT_TRUE(g_saved);  // resurrected: still alive, not freed (I6)
  EXPECT_EQ(live_objects(), 1u);
  EXPECT_TRUE(g_saved->is_finalized());
  EXPECT_EQ(ouro::getrefcount(g_saved), 1u);
  g_saved = nullptr;  // second death: no second finalizer call
  EXPECT_EQ(g_finalized, 1);
  EXPECT_EQ(live_objects(), 0u);
}

TEST_F(LifetimeTest, FinalizerExceptionsGoToTheUnraisableHook) {
  std::vector<std::string> reports;
  ouro::set_unraisable_hook(heap(), [&](const ouro::UnraisableInfo& info) {
    try {
      std::rethrow_exception(info.exception);
    } catch (const std::exception& e) {
      reports.push_back(std::string(info.where) + ": " + e.what());
    }
    EXPECT_NE(info.object, nullptr);
  });
  ouro::make<Grumpy>().reset();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0], "finalizer: grumpy finalizer");
  EXPECT_EQ(live_objects(), 0u);  // the object is freed all the same
}

TEST_F(LifetimeTest, DefaultUnraisableHookPrintsToStderr) {
  ::testing::internal::CaptureStderr();
  ouro::make<Grumpy>().reset();
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("Exception ignored in finalizer of <"), std::string::npos) << err;
  EXPECT_NE(err.find("grumpy finalizer"), std::string::npos) << err;
}

TEST(HeapShutdown, LiveObjectsAreReportedByTypeAndNothingCrashes) {
  auto heap = std::make_unique<ouro::Heap>();
  Link* leaked = nullptr;
  {
    ouro::HeapScope scope(*heap);
    Ref<Link> a = ouro::make<Link>();
    Ref<Link> b = ouro::make<Link>();
    a->next = b;
    leaked = a.release();  // a stays alive (never released), and keeps b alive
  }
  std::ostringstream report;
  EXPECT_TRUE(ouro::report_leaks(*heap, report));
  EXPECT_NE(report.str().find("heap destroyed with 2 live objects"), std::string::npos)
      << report.str();
  EXPECT_NE(report.str().find("2  "), std::string::npos);
  const auto by_type = ouro::live_objects_by_type(*heap);
  ASSERT_EQ(by_type.size(), 1u);
  EXPECT_EQ(by_type[0].count, 2u);
  EXPECT_NE(by_type[0].type.find("Link"), std::string::npos);
  ::testing::internal::CaptureStderr();
  heap.reset();  // must not crash; every build reports what outlives the heap
  const std::string err = ::testing::internal::GetCapturedStderr();
  // b was freed when a, referenced from outside, was cleared (shutdown step 4): only a is
  // left, and it is named.
  EXPECT_NE(err.find("destroyed while 1 object is still referenced from outside it"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("Link"), std::string::npos) << err;
  (void)leaked;
}

TEST(HeapShutdown, GarbageCyclesAreCollectedAtShutdown) {
  auto heap = std::make_unique<ouro::Heap>();
  {
    ouro::HeapScope scope(*heap);
    ouro::gc::disable();
    Ref<Link> a = ouro::make<Link>();
    a->next = a;
  }
  std::ostringstream report;
  EXPECT_TRUE(ouro::report_leaks(*heap, report));  // before shutdown the cycle is alive
  ::testing::internal::CaptureStderr();
  heap.reset();
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");  // collected: nothing leaked
}

}  // namespace
