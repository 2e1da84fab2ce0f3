// The heap as the object core's owner: scopes, the owner thread (I1, checked in every build),
// shutdown with references that outlive the heap, make<T> during construction, gc callbacks'
// handles, and the object-world checker.
#include "ouro/core/heap.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include "ouro/core/gc.h"
#include "ouro/core/ref.h"
#include "ouro/core/weakref.h"
#include "support/gc_types.h"

namespace {

using ouro::Heap;
using ouro::HeapScope;
using ouro::make;
using ouro::Object;
using ouro::Ref;

TEST(HeapScope, NestsAndRestores) {
  Heap outer, inner;
  EXPECT_EQ(Heap::current(), nullptr);
  {
    HeapScope a(outer);
    EXPECT_EQ(Heap::current(), &outer);
    {
      HeapScope b(inner);
      EXPECT_EQ(Heap::current(), &inner);
    }
    EXPECT_EQ(Heap::current(), &outer);
  }
  EXPECT_EQ(Heap::current(), nullptr);
}

// --- I1: one heap, one thread, in release builds too ---------------------------------------

using HeapDeathTest = ::testing::Test;

TEST(HeapDeathTest, AllocatingFromAnotherThreadAborts) {
  EXPECT_DEATH(
      {
        Heap heap;
        std::thread other([&] { (void)heap.allocate(16); });
        other.join();
      },
      "heap used from a thread that does not own it");
}

TEST(HeapDeathTest, AScopeOnAnotherThreadAborts) {
  EXPECT_DEATH(
      {
        Heap heap;
        std::thread other([&] { HeapScope scope(heap); });
        other.join();
      },
      "heap used from a thread that does not own it");
}

TEST(HeapDeathTest, MakeOnAnotherThreadAborts) {
  EXPECT_DEATH(
      {
        Heap heap;
        std::thread other([&] { (void)heap.make<ouro::testing::Leaf>(1); });
        other.join();
      },
      "heap used from a thread that does not own it");
}

TEST(HeapDeathTest, CollectingOnAnotherThreadAborts) {
  EXPECT_DEATH(
      {
        Heap heap;
        std::thread other([&] { (void)ouro::gc::collect(2, heap); });
        other.join();
      },
      "heap used from a thread that does not own it");
}

TEST(Heap, HandingTheHeapToAnotherThreadIsAllowed) {
  Heap heap;
  void* p = heap.allocate(16);
  std::thread other([&] {
    heap.bind_to_current_thread();
    heap.deallocate(p, 16);
    void* q = heap.allocate(16);
    heap.deallocate(q, 16);
  });
  other.join();
  heap.bind_to_current_thread();
  EXPECT_EQ(heap.stats().bytes_in_use, 0u);
}

// --- Ref: moving onto the same object --------------------------------------------------------

TEST(Ref, MoveAssignFromARefToTheSameObjectKeepsTheCountRight) {
  Heap heap;
  HeapScope scope(heap);
  Ref<ouro::testing::Leaf> a = make<ouro::testing::Leaf>(1);
  Ref<ouro::testing::Leaf> b = a;
  ASSERT_EQ(a->refcount(), 2u);
  a = std::move(b);  // both held it: one reference goes
  EXPECT_EQ(a->refcount(), 1u);
  EXPECT_FALSE(b);
  auto& self = a;
  a = std::move(self);  // self-move: nothing changes
  EXPECT_EQ(a->refcount(), 1u);
  a.reset();
  EXPECT_EQ(heap.live_objects(), 0u);
}

// --- make<T>: the heap is known inside the constructor --------------------------------------

class Pair : public Object {
 public:
  static constexpr std::string_view kTypeName = "Pair";
  explicit Pair(int depth) : home(&heap()) {
    if (depth > 0) child = heap().make<Pair>(depth - 1);  // nested make inside a constructor
    after_child = &heap();
  }
  void traverse(ouro::Visitor& visit) override { visit(child); }
  void clear() override { child = nullptr; }
  Heap* home;
  Heap* after_child;
  Ref<Pair> child;

 protected:
  ~Pair() override = default;
};

TEST(Make, TheHeapIsKnownDuringConstruction) {
  Heap first, second;
  HeapScope scope(first);
  Ref<Pair> p = second.make<Pair>(2);  // explicitly in `second`, not the current heap
  EXPECT_EQ(p->home, &second);
  EXPECT_EQ(p->after_child, &second);
  EXPECT_EQ(p->child->home, &second);
  EXPECT_EQ(&p->heap(), &second);
  EXPECT_EQ(&p->child->child->heap(), &second);
}

// --- a Ref that outlives its heap ----------------------------------------------------------

TEST(Heap, AnOutsideReferenceIsReportedAndDroppingItLaterIsHarmless) {
  // (Types whose members own no system memory: an orphan's destructor never runs.)
  Ref<ouro::testing::Leaf> survivor;
  Ref<Pair> pair;
  ::testing::internal::CaptureStderr();
  {
    Heap heap;
    HeapScope scope(heap);
    survivor = make<ouro::testing::Leaf>(7);
    pair = make<Pair>(1);  // its child is freed at shutdown: the pair is cleared
  }
  const std::string report = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(report.find("destroyed while 2 objects are still referenced from outside it"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("Leaf"), std::string::npos) << report;
  EXPECT_NE(report.find("Pair"), std::string::npos) << report;
  EXPECT_EQ(survivor->value, 7);  // the memory was kept
  EXPECT_FALSE(pair->child);
  survivor.reset();  // no heap to return to: nothing is freed, nothing crashes
  pair.reset();
}

// --- the call that needed a heap is named -------------------------------------------------

TEST(Heap, WithoutACurrentHeapTheErrorNamesTheCall) {
  ASSERT_EQ(Heap::current(), nullptr);
  try {
    (void)ouro::gc::collect();
    FAIL();
  } catch (const std::logic_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("ouro::gc call at"), std::string::npos) << what;
    EXPECT_NE(what.find("heap_test.cpp"), std::string::npos) << what;
    EXPECT_NE(what.find("HeapScope"), std::string::npos) << what;
  }
  try {
    (void)make<ouro::testing::Leaf>(1);
    FAIL();
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("ouro::make<T>()"), std::string::npos) << e.what();
  }
}

// --- gc callbacks: handles remove them -------------------------------------------------------

TEST(GcCallbacks, AHandleRemovesItsCallbackOnly) {
  Heap heap;
  HeapScope scope(heap);
  std::vector<std::string> calls;
  auto first =
      ouro::gc::callbacks().add([&](const std::string& phase, const ouro::gc::CollectionInfo&) {
        calls.push_back("1" + phase);
      });
  auto second = ouro::gc::callbacks().add_front(
      [&](const std::string& phase, const ouro::gc::CollectionInfo&) {
        calls.push_back("2" + phase);
      });
  EXPECT_NE(first, second);
  (void)ouro::gc::collect();
  EXPECT_EQ(calls, (std::vector<std::string>{"2start", "1start", "2stop", "1stop"}));
  EXPECT_TRUE(ouro::gc::callbacks().remove(second));
  EXPECT_FALSE(ouro::gc::callbacks().remove(second));
  calls.clear();
  (void)ouro::gc::collect();
  EXPECT_EQ(calls, (std::vector<std::string>{"1start", "1stop"}));
  EXPECT_EQ(ouro::gc::callbacks().size(), 1u);
  ouro::gc::callbacks().clear();
  EXPECT_TRUE(ouro::gc::callbacks().empty());
}

// --- the object-world checker -------------------------------------------------------------

TEST(HeapVerify, HoldsForAWorldOfCyclesAndWeakReferences) {
  Heap heap;
  HeapScope scope(heap);
  auto a = make<ouro::testing::Bin>();
  auto b = make<ouro::testing::Bin>();
  a->items.push_back(b);
  b->items.push_back(a);
  ouro::Weak<ouro::testing::Bin> weak(a);
  auto leaf = make<ouro::testing::Leaf>(3);
  ouro::Weak<ouro::testing::Leaf> weak_leaf(leaf);
  EXPECT_TRUE(heap.verify());
  ouro::gc::freeze();
  EXPECT_TRUE(heap.verify());
  ouro::gc::unfreeze();
  a.reset();
  b.reset();
  EXPECT_EQ(ouro::gc::collect(), 2u);
  EXPECT_TRUE(weak.expired());
  EXPECT_TRUE(heap.verify());
}

TEST(HeapVerifyDeathTest, AWeakBitWithoutATableEntryIsFound) {
  EXPECT_DEATH(
      {
        Heap heap;
        HeapScope scope(heap);
        auto a = make<ouro::testing::Bin>();
        ouro::detail::ObjectAccess::flags(*a) |= Object::kWeaklyReferenced;  // corrupt it
        (void)heap.verify();
      },
      "weakly-referenced bit disagrees with the weak table");
}

TEST(HeapVerifyDeathTest, ACircularGenerationListIsFoundNotLoopedOn) {
  EXPECT_DEATH(
      {
        Heap heap;
        HeapScope scope(heap);
        auto a = make<ouro::testing::Bin>();
        auto b = make<ouro::testing::Bin>();
        // What two threads racing on a list leave behind: b's next points back at a.
        ouro::detail::links_of(b.get())->next = ouro::detail::links_of(a.get());
        (void)heap.verify();
      },
      "generation list");
}

}  // namespace

namespace {

// --- misuse that the library names ---------------------------------------------------------

class Forgetful : public Object {
 public:
  static constexpr std::string_view kTypeName = "Forgetful";
  Ref<Forgetful> visited;
  Ref<Forgetful> forgotten;  // the mistake: traverse() below does not visit it
  void traverse(ouro::Visitor& visit) override { visit(visited); }
  void clear() override {
    visited = nullptr;
    forgotten = nullptr;
  }

 protected:
  ~Forgetful() override = default;
};

TEST(Misuse, AFieldForgottenInTraverseIsFound) {
  Heap heap;
  HeapScope scope(heap);
  auto a = make<Forgetful>();
  auto b = make<Forgetful>();
  a->visited = b;
  a->forgotten = b;  // b is referenced twice by a, visited once
  b->forgotten = a;  // a cycle the collector cannot see
  auto misses = ouro::gc::find_unvisited_references();
  ASSERT_EQ(misses.size(), 2u);
  std::sort(misses.begin(), misses.end(), [&](const auto& x, const auto& y) {
    return (x.container.get() == a.get()) > (y.container.get() == a.get());
  });
  EXPECT_EQ(misses[0].container.get(), a.get());
  EXPECT_EQ(misses[0].referent.get(), b.get());
  EXPECT_EQ(misses[0].offset,
            static_cast<std::size_t>(reinterpret_cast<const char*>(&a->forgotten) -
                                     reinterpret_cast<const char*>(a.get())));
  EXPECT_EQ(misses[1].container.get(), b.get());
  EXPECT_EQ(misses[1].referent.get(), a.get());
  misses.clear();
  a.reset();
  b.reset();
  EXPECT_EQ(ouro::gc::collect(), 0u);  // the cycle survives, as the report warns
  EXPECT_EQ(heap.live_objects(), 2u);
}

TEST(Misuse, ACorrectTraverseHasNothingUnvisited) {
  Heap heap;
  HeapScope scope(heap);
  auto p = make<Pair>(3);
  ouro::Weak<Pair> weak(p);  // a weak reference's borrowed referent is no reference
  EXPECT_TRUE(ouro::gc::find_unvisited_references().empty());
}

TEST(Misuse, AWeakOfTheWrongTypeIsATypeError) {
  Heap heap;
  HeapScope scope(heap);
  auto leaf = make<ouro::testing::Leaf>(1);
  ouro::Weak<ouro::testing::Leaf> weak(leaf);
  try {
    ouro::Weak<Pair> wrong(weak.ref());
    FAIL();
  } catch (const ouro::TypeError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("referent is a 'Leaf', not a"), std::string::npos) << what;
    EXPECT_NE(what.find("Pair"), std::string::npos) << what;
  }
  ouro::Weak<Object> any(weak.ref());  // an upcast is fine
  EXPECT_EQ(any.lock().get(), leaf.get());
}

}  // namespace
