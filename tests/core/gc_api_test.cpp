// The gc module's API (include/ouro/gc.h) against CPython's gc: thresholds and automatic
// collection, enable/disable, the 25% rule, generations and get_count/get_stats/get_objects,
// freeze, callbacks, get_referrers/get_referents, is_tracked, argument errors and the
// DEBUG_* output. Exact counts throughout; tests whose counts depend on when automatic
// collections happen switch stress mode (OURO_GC_STRESS) off or disable them.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "ouro/core/gc.h"
#include "ouro/core/runtime.h"
#include "support/gc_types.h"

namespace ouro::testing {
namespace {

using GcApiTest = GcTest;
using Count = std::tuple<int, int, int>;

std::size_t collections(int generation) { return gc::get_stats()[generation].collections; }

/// The message of the std::invalid_argument that `f` throws ("" if it throws none).
template <class F>
std::string invalid_argument_of(F f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

// --- argument errors ----------------------------------------------------------------------

TEST_F(GcApiTest, InvalidGenerationErrorsHaveCPythonsMessages) {
  EXPECT_EQ(invalid_argument_of([] { gc::collect(3); }), "invalid generation");
  EXPECT_EQ(invalid_argument_of([] { gc::collect(-1); }), "invalid generation");
  EXPECT_EQ(invalid_argument_of([] { gc::get_objects(3); }),
            "generation parameter must be less than the number of available generations (3)");
  EXPECT_EQ(invalid_argument_of([] { gc::get_objects(1000); }),
            "generation parameter must be less than the number of available generations (3)");
  EXPECT_EQ(invalid_argument_of([] { gc::get_objects(-1000); }),
            "generation parameter cannot be negative");
  EXPECT_EQ(collections(0) + collections(1) + collections(2), 0u);  // nothing ran
}

TEST(GcApiNoHeap, FunctionsNeedACurrentHeap) {
  ASSERT_EQ(Heap::current(), nullptr);
  EXPECT_THROW(gc::collect(), std::logic_error);
  EXPECT_THROW(gc::get_count(), std::logic_error);
}

// --- generations, get_count, get_stats, get_objects -----------------------------------------

TEST_F(GcApiTest, CountIsContainerAllocationsMinusDeallocations) {
  disable_automatic();
  EXPECT_EQ(gc::get_count(), Count(0, 0, 0));
  Ref<Node> a = make<Node>();
  Ref<Bin> b = make<Bin>();
  Ref<Leaf> leaf = make<Leaf>();  // not a container: not counted
  EXPECT_EQ(gc::get_count(), Count(2, 0, 0));
  a.reset();
  EXPECT_EQ(gc::get_count(), Count(1, 0, 0));
  b.reset();
  leaf.reset();
  EXPECT_EQ(gc::get_count(), Count(0, 0, 0));
}

TEST_F(GcApiTest, CollectGenerationsTrickle) {
  // test_collect_generations: each collect(N) adds one to generation N+1's count and
  // zeroes the counts of 0..N.
  disable_automatic();
  Ref<Node> x = make<Node>();
  gc::collect(0);
  EXPECT_EQ(gc::get_count(), Count(0, 1, 0));
  gc::collect(1);
  EXPECT_EQ(gc::get_count(), Count(0, 0, 1));
  gc::collect(2);
  EXPECT_EQ(gc::get_count(), Count(0, 0, 0));
}

TEST_F(GcApiTest, GetStatsCountsCollectionsPerGeneration) {
  // test_get_stats
  disable_automatic();
  for (const gc::GenerationStats& s : gc::get_stats()) {
    EXPECT_EQ(s.collections, 0u);
    EXPECT_EQ(s.collected, 0u);
    EXPECT_EQ(s.uncollectable, 0u);
  }
  gc::collect(0);
  EXPECT_EQ(collections(0), 1u);
  EXPECT_EQ(collections(1), 0u);
  EXPECT_EQ(collections(2), 0u);
  gc::collect(2);
  EXPECT_EQ(collections(0), 1u);  // collecting 2 counts only for generation 2
  EXPECT_EQ(collections(1), 0u);
  EXPECT_EQ(collections(2), 1u);
  make_ring(3).reset();
  EXPECT_EQ(gc::collect(1), 3u);
  EXPECT_EQ(gc::get_stats()[1].collected, 3u);
  EXPECT_EQ(gc::get_stats()[0].collected, 0u);
  EXPECT_EQ(gc::get_stats()[2].collected, 0u);
}

TEST_F(GcApiTest, GetObjectsFollowsPromotion) {
  // test_get_objects
  disable_automatic();
  Ref<Node> l = make<Node>();
  l->next() = l;
  auto in = [&](int generation) { return contains(gc::get_objects(generation), l.get()); };
  EXPECT_TRUE(in(0));
  EXPECT_FALSE(in(1));
  EXPECT_FALSE(in(2));
  gc::collect(0);
  EXPECT_FALSE(in(0));
  EXPECT_TRUE(in(1));
  EXPECT_FALSE(in(2));
  gc::collect(1);
  EXPECT_FALSE(in(0));
  EXPECT_FALSE(in(1));
  EXPECT_TRUE(in(2));
  gc::collect(2);
  EXPECT_FALSE(in(0));
  EXPECT_FALSE(in(1));
  EXPECT_TRUE(in(2));
  l.reset();
  EXPECT_EQ(gc::collect(), 1u);
}

TEST_F(GcApiTest, GetObjectsHasExactlyTheTrackedContainers) {
  // test_get_objects_arguments: all generations together; non-containers never appear.
  disable_automatic();
  Ref<Node> a = make<Node>();
  gc::collect(1);  // a in generation 2
  Ref<Bin> b = make<Bin>();
  gc::collect(0);  // b in generation 1
  Ref<Pair> c = make<Pair>();
  Ref<Leaf> leaf = make<Leaf>();
  EXPECT_EQ(gc::get_objects(0).size(), 1u);
  EXPECT_EQ(gc::get_objects(1).size(), 1u);
  EXPECT_EQ(gc::get_objects(2).size(), 1u);
  std::vector<Ref<Object>> all = gc::get_objects();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_TRUE(contains(all, a.get()));
  EXPECT_TRUE(contains(all, b.get()));
  EXPECT_TRUE(contains(all, c.get()));
  EXPECT_FALSE(contains(all, leaf.get()));
  EXPECT_EQ(gc::get_objects(std::nullopt).size(), 3u);
}

// --- thresholds and automatic collection -----------------------------------------------------

TEST_F(GcApiTest, DefaultThresholdsAreCPythons) {
  EXPECT_EQ(gc::get_threshold(), Count(700, 10, 10));
  gc::set_threshold(5);
  EXPECT_EQ(gc::get_threshold(), Count(5, 10, 10));
  gc::set_threshold(1, 2);
  EXPECT_EQ(gc::get_threshold(), Count(1, 2, 10));
  gc::set_threshold(3, 4, 5);
  EXPECT_EQ(gc::get_threshold(), Count(3, 4, 5));
  EXPECT_TRUE(gc::isenabled());
}

class AutomaticCollectionTest : public GcTest {
 protected:
  // These tests count automatic collections, which stress mode would multiply.
  AutomaticCollectionTest() { testing::set_gc_stress(false); }
};

TEST_F(AutomaticCollectionTest, ThresholdsFireGenerationsInCPythonsOrder) {
  // gc_collect_generations: a collection starts when generation 0's count passes
  // threshold0; the oldest generation whose count passes its threshold is collected.
  gc::set_threshold(3, 2, 100);
  std::vector<int> generations;
  gc::callbacks().add([&](const std::string& phase, const gc::CollectionInfo& info) {
    if (phase == "start") generations.push_back(info.generation);
  });
  std::vector<Ref<Node>> held;
  for (int i = 1; i <= 3; ++i) held.push_back(make<Node>());
  EXPECT_EQ(gc::get_count(), Count(3, 0, 0));  // not passed yet: 3 is not > 3
  EXPECT_TRUE(generations.empty());
  held.push_back(make<Node>());  // the 4th: generation 0
  EXPECT_EQ(gc::get_count(), Count(0, 1, 0));
  EXPECT_EQ(generations, std::vector<int>({0}));
  for (int i = 5; i <= 12; ++i) held.push_back(make<Node>());  // 8th and 12th: gen 0 again
  EXPECT_EQ(gc::get_count(), Count(0, 3, 0));
  for (int i = 13; i <= 16; ++i) held.push_back(make<Node>());  // 16th: gen 1 (3 > 2)
  EXPECT_EQ(gc::get_count(), Count(0, 0, 1));
  EXPECT_EQ(generations, std::vector<int>({0, 0, 0, 1}));
  EXPECT_EQ(collections(0), 3u);
  EXPECT_EQ(collections(1), 1u);
  EXPECT_EQ(collections(2), 0u);
  EXPECT_EQ(gc::get_objects(2).size(), 16u);  // everyone was promoted twice
  gc::callbacks().clear();
}

TEST_F(AutomaticCollectionTest, AllocationsThatDieDoNotCount) {
  gc::set_threshold(5);
  for (int i = 0; i < 1000; ++i) {
    Ref<Node> n = make<Node>();  // count up, and down again when it dies
  }
  EXPECT_EQ(gc::get_count(), Count(0, 0, 0));
  EXPECT_EQ(collections(0) + collections(1) + collections(2), 0u);
}

TEST_F(AutomaticCollectionTest, AutomaticCollectionsFreeCyclicGarbage) {
  gc::set_threshold(10);
  for (int i = 0; i < 1000; ++i) {
    Ref<Node> a = make<Node>();
    a->next() = a;
  }
  const std::array<gc::GenerationStats, 3> stats = gc::get_stats();
  const std::size_t collected = stats[0].collected + stats[1].collected + stats[2].collected;
  EXPECT_GT(collections(0), 0u);
  EXPECT_EQ(collected + live(), 1000u);  // what is not freed yet is still alive: no loss
  EXPECT_LT(live(), 100u);               // and most was freed along the way
  const std::size_t left = live();
  EXPECT_EQ(gc::collect(), left);
  EXPECT_EQ(live(), 0u);
}

TEST_F(AutomaticCollectionTest, ThresholdZeroDisablesAutomaticCollection) {
  gc::set_threshold(0);
  std::vector<Ref<Node>> held;
  for (int i = 0; i < 1000; ++i) held.push_back(make<Node>());
  EXPECT_EQ(gc::get_count(), Count(1000, 0, 0));
  EXPECT_EQ(collections(0) + collections(1) + collections(2), 0u);
}

TEST_F(AutomaticCollectionTest, DisablePreventsAndEnableRestores) {
  gc::set_threshold(1);
  gc::disable();
  EXPECT_FALSE(gc::isenabled());
  std::vector<Ref<Node>> held;
  for (int i = 0; i < 10; ++i) held.push_back(make<Node>());
  EXPECT_EQ(gc::get_count(), Count(10, 0, 0));
  EXPECT_EQ(collections(0), 0u);
  EXPECT_EQ(gc::collect(0), 0u);  // explicit collections still run
  EXPECT_EQ(collections(0), 1u);
  gc::enable();
  EXPECT_TRUE(gc::isenabled());
  held.push_back(make<Node>());  // count 1: not > 1
  EXPECT_EQ(collections(0), 1u);
  held.push_back(make<Node>());  // count 2 > 1: collects generation 0
  EXPECT_EQ(collections(0), 2u);
  EXPECT_EQ(gc::get_count(), Count(0, 2, 0));
}

TEST_F(AutomaticCollectionTest, DisableAlsoStopsStressMode) {
  testing::set_gc_stress(true);
  gc::disable();
  std::vector<Ref<Node>> held;
  for (int i = 0; i < 10; ++i) held.push_back(make<Node>());
  EXPECT_EQ(collections(0), 0u);
  gc::enable();
  held.push_back(make<Node>());  // stress: every container allocation collects
  held.push_back(make<Node>());
  EXPECT_EQ(collections(0), 2u);
}

TEST_F(AutomaticCollectionTest, TwentyFivePercentRuleDelaysFullCollections) {
  // CPython's long_lived_pending < long_lived_total / 4: generation 2 is due by its count
  // long before enough new objects reached it to make a full collection worth its cost.
  constexpr int kLongLived = 100;
  gc::disable();
  std::vector<Ref<Node>> held;
  for (int i = 0; i < kLongLived; ++i) held.push_back(make<Node>());
  gc::collect();  // 100 objects now in generation 2: long_lived_total = 100
  ASSERT_EQ(gc::get_objects(2).size(), static_cast<std::size_t>(kLongLived));
  gc::enable();
  gc::set_threshold(1, 0, 0);
  // Every 2nd allocation collects: generation 0, then 1 (promoting 4 objects to 2), ...
  // From the 4th on, generation 2's count (1) is over its threshold (0), but the objects
  // promoted since the last full collection stay under 100 / 4 = 25 until the 28th
  // allocation, so the first full collection comes at the 30th.
  const std::size_t explicit_full = collections(2);  // the collect() above
  std::vector<int> full_at;
  bool due_but_skipped = false;
  for (int i = 1; i <= 40; ++i) {
    held.push_back(make<Node>());
    const std::size_t automatic_full = collections(2) - explicit_full;
    if (std::get<2>(gc::get_count()) > 0 && automatic_full == 0) due_but_skipped = true;
    if (automatic_full > full_at.size()) full_at.push_back(i);
  }
  EXPECT_TRUE(due_but_skipped);
  // After it, long_lived_total is 130: the next waits for 33 promoted (past 40 here).
  EXPECT_EQ(full_at, std::vector<int>({30}));
  EXPECT_EQ(collections(2), explicit_full + 1);
  EXPECT_EQ(gc::get_objects(2).size(), 130u + (40 - 30) / 4 * 4);
}

// --- freeze ------------------------------------------------------------------------------------

TEST_F(GcApiTest, FrozenCyclesAreNotCollectedUntilUnfrozen) {
  // test_freeze, with the numbers.
  disable_automatic();
  EXPECT_EQ(gc::get_freeze_count(), 0u);
  Ref<Node> held = make<Node>();
  Ref<Node> ring = make_ring(2);
  gc::freeze();
  EXPECT_EQ(gc::get_freeze_count(), 3u);
  EXPECT_EQ(gc::get_count(), Count(0, 0, 0));
  EXPECT_TRUE(gc::get_objects().empty());  // the permanent generation is not listed
  EXPECT_TRUE(gc::is_tracked(held));       // but still tracked
  ring.reset();
  EXPECT_EQ(gc::collect(), 0u);
  EXPECT_EQ(live(), 3u);
  // New objects are collected normally meanwhile.
  make_ring(3).reset();
  EXPECT_EQ(gc::collect(), 3u);
  held.reset();  // a frozen object can still die by refcount
  EXPECT_EQ(gc::get_freeze_count(), 2u);
  gc::unfreeze();
  EXPECT_EQ(gc::get_freeze_count(), 0u);
  EXPECT_EQ(gc::get_objects(2).size(), 2u);  // back in the oldest generation
  EXPECT_EQ(gc::collect(), 2u);
  EXPECT_EQ(live(), 0u);
}

TEST_F(GcApiTest, FreezeResetsOnlyGenerationZerosCount) {
  // CPython 3.11's gc_freeze_impl zeroes generation 0's count, not the older ones.
  disable_automatic();
  gc::collect(0);  // generation 1's count becomes 1
  Ref<Node> young = make<Node>();
  ASSERT_EQ(gc::get_count(), Count(1, 1, 0));
  gc::freeze();
  EXPECT_EQ(gc::get_count(), Count(0, 1, 0));
  gc::unfreeze();
}

TEST_F(GcApiTest, MinusOneMeansAllGenerations) {
  // The argument clinic turns None into -1, so gc.get_objects(-1) is every generation.
  disable_automatic();
  Ref<Node> a = make<Node>();
  gc::collect(0);
  Ref<Node> b = make<Node>();
  EXPECT_EQ(gc::get_objects(-1).size(), 2u);
  EXPECT_EQ(gc::get_objects(-1).size(), gc::get_objects().size());
}

// --- callbacks ---------------------------------------------------------------------------------

struct CallbackRecord {
  int callback;
  std::string phase;
  gc::CollectionInfo info;
};

class CallbackTest : public GcTest {
 protected:
  // GCCallbackTests.setUp: automatic collection off, two callbacks recording.
  CallbackTest() {
    disable_automatic();
    for (int id : {1, 2}) {
      gc::callbacks().add([this, id](const std::string& phase, const gc::CollectionInfo& info) {
        visit_.push_back({id, phase, info});
      });
    }
  }
  ~CallbackTest() override { gc::callbacks(heap_).clear(); }

  std::vector<CallbackRecord> visit_;
};

TEST_F(CallbackTest, StartThenStopForEachCallback) {
  // test_collect
  make_ring(4).reset();
  EXPECT_EQ(gc::collect(), 4u);
  ASSERT_EQ(visit_.size(), 4u);
  const std::vector<std::pair<int, std::string>> expected = {
      {1, "start"}, {2, "start"}, {1, "stop"}, {2, "stop"}};
  for (std::size_t i = 0; i < visit_.size(); ++i) {
    EXPECT_EQ(visit_[i].callback, expected[i].first) << i;
    EXPECT_EQ(visit_[i].phase, expected[i].second) << i;
    EXPECT_EQ(visit_[i].info.generation, 2);
    EXPECT_EQ(visit_[i].info.uncollectable, 0u);
  }
  EXPECT_EQ(visit_[0].info.collected, 0u);  // "start" knows nothing yet
  EXPECT_EQ(visit_[2].info.collected, 4u);
  EXPECT_EQ(visit_[3].info.collected, 4u);
}

TEST_F(CallbackTest, InfoCarriesTheGeneration) {
  // test_collect_generation
  for (int generation : {0, 1, 2}) {
    visit_.clear();
    gc::collect(generation);
    ASSERT_EQ(visit_.size(), 4u);
    for (const CallbackRecord& v : visit_) EXPECT_EQ(v.info.generation, generation);
  }
}

TEST_F(CallbackTest, StopSeesTheCollectionFinished) {
  // In "stop", the garbage is gone and the stats are updated.
  std::size_t live_at_stop = 99;
  std::size_t stats_at_stop = 99;
  gc::callbacks().add([&](const std::string& phase, const gc::CollectionInfo&) {
    if (phase == "stop") {
      live_at_stop = live();
      stats_at_stop = gc::get_stats()[2].collected;
    }
  });
  make_ring(5).reset();
  EXPECT_EQ(gc::collect(), 5u);
  EXPECT_EQ(live_at_stop, 0u);
  EXPECT_EQ(stats_at_stop, 5u);
}

TEST_F(CallbackTest, AutomaticCollectionsCallCallbacks) {
  gc::enable();
  testing::set_gc_stress(false);
  gc::set_threshold(2);
  std::vector<Ref<Node>> held;
  for (int i = 0; i < 3; ++i) held.push_back(make<Node>());
  ASSERT_EQ(visit_.size(), 4u);
  EXPECT_EQ(visit_[0].info.generation, 0);
}

TEST_F(CallbackTest, CallbackExceptionsGoToTheUnraisableHook) {
  std::vector<std::string> reports;
  set_unraisable_hook(heap_, [&](const UnraisableInfo& info) {
    EXPECT_EQ(info.object, nullptr);
    try {
      std::rethrow_exception(info.exception);
    } catch (const std::exception& e) {
      reports.push_back(std::string(info.where) + ": " + e.what());
    }
  });
  gc::callbacks().add_front([](const std::string& phase, const gc::CollectionInfo&) {
    throw std::runtime_error("callback failed in " + phase);
  });
  make_ring(3).reset();
  EXPECT_EQ(gc::collect(), 3u);  // the collection completes
  EXPECT_EQ(live(), 0u);
  EXPECT_EQ(reports, std::vector<std::string>({"gc callback: callback failed in start",
                                               "gc callback: callback failed in stop"}));
  EXPECT_EQ(visit_.size(), 4u);  // the other callbacks still ran
  set_unraisable_hook(heap_, {});
}

TEST_F(CallbackTest, CollectFromACallbackIsSkipped) {
  std::vector<std::size_t> nested;
  gc::callbacks().add(
      [&](const std::string&, const gc::CollectionInfo&) { nested.push_back(gc::collect()); });
  make_ring(2).reset();
  EXPECT_EQ(gc::collect(), 2u);
  EXPECT_EQ(nested, std::vector<std::size_t>({0, 0}));
  EXPECT_EQ(collections(2), 1u);
}

// --- referrers, referents, tracking ----------------------------------------------------------

TEST_F(GcApiTest, GetReferentsIsWhatTraverseVisits) {
  // test_get_referents
  Ref<Leaf> one = make<Leaf>(1);
  Ref<Leaf> three = make<Leaf>(3);
  Ref<Bin> list = make<Bin>();
  list->items = {one, three, one};
  std::vector<Ref<Object>> got = gc::get_referents(std::vector<Ref<Object>>{list});
  ASSERT_EQ(got.size(), 3u);  // once per reference, duplicates included
  EXPECT_EQ(got[0].get(), one.get());
  EXPECT_EQ(got[1].get(), three.get());
  EXPECT_EQ(got[2].get(), one.get());

  Ref<Pair> pair = make<Pair>();
  pair->refs[1] = list;  // refs[0] null: not a referent
  got = gc::get_referents(std::vector<Ref<Object>>{list, pair});
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[3].get(), list.get());

  // Objects that own no references have no referents (gc.get_referents(1, 'a', 4j)).
  EXPECT_TRUE(gc::get_referents(std::vector<Ref<Object>>{one, three}).empty());
  EXPECT_TRUE(gc::get_referents(std::vector<Ref<Object>>{make<Node>()}).empty());
}

TEST_F(GcApiTest, GetReferrersFindsTrackedContainersReferringToAny) {
  disable_automatic();
  Ref<Leaf> target = make<Leaf>();
  Ref<Node> b = make<Node>();
  Ref<Node> a = make<Node>();
  Ref<Pair> c = make<Pair>();
  Ref<Node> d = make<Node>();
  a->next() = b;
  c->refs[0] = b;
  c->refs[1] = target;
  d->next() = a;
  gc::collect(0);  // referrers are found in every generation
  Ref<Bin> e = make<Bin>();
  e->items = {target, target};  // one referrer, however many references

  std::vector<Ref<Object>> got = gc::get_referrers(std::vector<Ref<Object>>{b});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(contains(got, a.get()));
  EXPECT_TRUE(contains(got, c.get()));

  got = gc::get_referrers(std::vector<Ref<Object>>{target});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(contains(got, c.get()));
  EXPECT_TRUE(contains(got, e.get()));

  got = gc::get_referrers(std::vector<Ref<Object>>{a, target});
  ASSERT_EQ(got.size(), 3u);
  EXPECT_TRUE(contains(got, d.get()));

  EXPECT_TRUE(gc::get_referrers(std::vector<Ref<Object>>{d}).empty());  // held from C++ only
}

TEST_F(GcApiTest, IsTrackedForContainersOnly) {
  // test_is_tracked: types that own no references are never tracked.
  EXPECT_FALSE(gc::is_tracked(nullptr));
  Ref<Leaf> leaf = make<Leaf>();
  EXPECT_FALSE(leaf->is_container());
  EXPECT_FALSE(gc::is_tracked(leaf));
  EXPECT_TRUE(gc::is_tracked(make<Node>()));
  EXPECT_TRUE(gc::is_tracked(make<Bin>()));
  EXPECT_TRUE(gc::is_tracked(make<Finalized>()));
  Ref<Node> n = make<Node>();
  gc::collect();
  EXPECT_TRUE(gc::is_tracked(n));  // still tracked after being promoted
}

TEST_F(GcApiTest, IsFinalized) {
  EXPECT_FALSE(gc::is_finalized(nullptr));
  EXPECT_FALSE(gc::is_finalized(make<Leaf>()));
  Ref<Node> n = make<Node>();  // no finalizer: never "finalized"
  n->next() = n;
  Ref<Finalized> f = make<Finalized>();
  EXPECT_FALSE(gc::is_finalized(f));
  EXPECT_EQ(gc::collect(), 0u);
  EXPECT_FALSE(gc::is_finalized(n));
  n->next() = nullptr;
}

// --- debug flags and their output ---------------------------------------------------------------

TEST_F(GcApiTest, SetDebugRoundTrips) {
  EXPECT_EQ(gc::get_debug(), 0);
  gc::set_debug(gc::DEBUG_LEAK);
  EXPECT_EQ(gc::get_debug(), gc::DEBUG_COLLECTABLE | gc::DEBUG_UNCOLLECTABLE | gc::DEBUG_SAVEALL);
  EXPECT_EQ(gc::DEBUG_STATS, 1);
  EXPECT_EQ(gc::DEBUG_COLLECTABLE, 2);
  EXPECT_EQ(gc::DEBUG_UNCOLLECTABLE, 4);
  EXPECT_EQ(gc::DEBUG_SAVEALL, 32);
  EXPECT_EQ(gc::DEBUG_LEAK, 38);
  gc::set_debug(0);
}

std::string pointer_text(const void* p) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%p", p);
  return buffer;
}

/// "%.4f" of a duration: digits, a point, four digits ("0.0012").
bool is_seconds_with_four_decimals(const std::string& text) {
  const std::size_t point = text.find('.');
  if (point == 0 || point == std::string::npos || text.size() - point - 1 != 4) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i != point && (text[i] < '0' || text[i] > '9')) return false;
  }
  return true;
}

TEST_F(GcApiTest, DebugStatsPrintsCPythonsLines) {
  disable_automatic();
  Ref<Node> held = make<Node>();
  make_ring(2).reset();
  Ref<Node> frozen = make<Node>();
  gc::collect(0);  // generation 1: held, frozen (the ring was collected)
  gc::freeze();
  frozen.reset();  // freed by refcount; held stays frozen
  Ref<Node> young = make<Node>();
  make_ring(2).reset();
  gc::set_debug(gc::DEBUG_STATS);
  ::testing::internal::CaptureStderr();
  const std::size_t found = gc::collect(0);
  const std::string output = ::testing::internal::GetCapturedStderr();
  gc::set_debug(0);
  EXPECT_EQ(found, 2u);
  const std::string head =
      "gc: collecting generation 0...\n"
      "gc: objects in each generation: 3 0 0\n"
      "gc: objects in permanent generation: 1\n"
      "gc: done, 2 unreachable, 0 uncollectable, ";
  const std::string tail = "s elapsed\n";
  ASSERT_GT(output.size(), head.size() + tail.size()) << output;
  EXPECT_EQ(output.substr(0, head.size()), head);
  EXPECT_EQ(output.substr(output.size() - tail.size()), tail);
  EXPECT_TRUE(is_seconds_with_four_decimals(
      output.substr(head.size(), output.size() - head.size() - tail.size())))
      << output;
}

TEST_F(GcApiTest, DebugCollectablePrintsEachObjectFound) {
  disable_automatic();
  Ref<Node> a = make<Node>();
  Ref<Finalized> b = make<Finalized>();
  a->next() = b;
  b->next() = a;
  const std::string a_text = pointer_text(a.get());
  const std::string b_text = pointer_text(b.get());
  a.reset();
  b.reset();
  gc::set_debug(gc::DEBUG_COLLECTABLE);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(gc::collect(), 2u);
  const std::string output = ::testing::internal::GetCapturedStderr();
  gc::set_debug(0);
  EXPECT_EQ(output, "gc: collectable <Node " + a_text + ">\n" + "gc: collectable <Finalized " +
                        b_text + ">\n");
  EXPECT_EQ(a_text.substr(0, 2), "0x");
}

TEST_F(GcApiTest, DebugLeakPrintsAndSaves) {
  // DEBUG_LEAK = COLLECTABLE | UNCOLLECTABLE | SAVEALL: the leak hunter's setting.
  disable_automatic();
  Ref<Node> a = make<Node>();
  a->next() = a;
  const std::string a_text = pointer_text(a.get());
  a.reset();
  gc::set_debug(gc::DEBUG_LEAK);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(gc::collect(), 1u);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "gc: collectable <Node " + a_text + ">\n");
  gc::set_debug(0);
  EXPECT_EQ(gc::garbage().size(), 1u);
  gc::clear_garbage();
  EXPECT_EQ(gc::collect(), 1u);
  EXPECT_EQ(live(), 0u);
}

TEST_F(GcApiTest, NoOutputWithoutDebugFlags) {
  make_ring(3).reset();
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(gc::collect(), 3u);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

// --- heaps are independent ---------------------------------------------------------------------

TEST_F(GcApiTest, EachHeapHasItsOwnCollector) {
  disable_automatic();
  Heap other;
  {
    HeapScope scope(other);
    make_ring(5).reset();
    gc::set_threshold(1);
  }
  make_ring(2).reset();
  EXPECT_EQ(gc::collect(2, other), 5u);
  EXPECT_EQ(gc::get_stats(other)[2].collections, 1u);
  EXPECT_EQ(gc::get_stats()[2].collections, 0u);
  EXPECT_EQ(std::get<0>(gc::get_threshold()), 700);
  EXPECT_EQ(live(), 2u);
  EXPECT_EQ(gc::collect(), 2u);
  EXPECT_EQ(other.live_objects(), 0u);
}

}  // namespace
}  // namespace ouro::testing
