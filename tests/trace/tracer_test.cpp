// The tracer on a real heap: allocations attributed to the lines that made them, traced
// memory and its peak, the exact peak snapshot, object tracebacks for containers and plain
// objects, and the 32-bytes-per-block bound on the tracer's table.
#include "ouro/trace/tracer.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "ouro/core/gc.h"
#include "ouro/core/ref.h"
#include "support/heap_fixture.h"

namespace ouro::trace {
namespace {

/// A leaf object of 32 bytes (16 of header + 16 of payload): block size = request size.
class Leaf : public Object {
 public:
  explicit Leaf(std::uint64_t v = 0) : value(v) {}
  std::uint64_t value;
  std::uint64_t pad = 0;

 protected:
  ~Leaf() override = default;
};

/// A container (16 bytes of collector links + 16 header + 16 fields = 48 bytes).
class Box : public Object {
 public:
  Ref<Object> item;
  std::uint64_t pad = 0;
  void traverse(Visitor& visit) override { visit(item); }
  void clear() override { item = nullptr; }

 protected:
  ~Box() override = default;
};

constexpr std::uint64_t kLeafBytes = 32;
constexpr std::uint64_t kBoxBytes = 48;

class TracerTest : public ouro::testing::HeapTest {
 protected:
  TracerTest() : tracer(heap()) {}
  Tracer tracer;
};

std::string this_file() { return std::source_location::current().file_name(); }

TEST_F(TracerTest, AttributesAllocationsToTheirLines) {
  static_assert(sizeof(Leaf) + 0 == kLeafBytes && sizeof(Box) + 16 == kBoxBytes);
  tracer.start();
  std::vector<Ref<Leaf>> leaves;
  const std::uint32_t leaf_line = std::source_location::current().line() + 2;
  for (int i = 0; i < 10; ++i) {
    leaves.push_back(make<Leaf>(i));
  }
  const std::uint32_t box_line = std::source_location::current().line() + 1;
  auto box = make<Box>();
  auto stats = tracer.take_snapshot().statistics(KeyType::kLineno);
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[0].str(),
            fmt::format("{}:{}: size=320 B, count=10, average=32 B", this_file(), leaf_line));
  EXPECT_EQ(stats[1].str(),
            fmt::format("{}:{}: size=48 B, count=1, average=48 B", this_file(), box_line));
  EXPECT_EQ(tracer.traced_memory().current, 10 * kLeafBytes + kBoxBytes);
  EXPECT_EQ(tracer.traced_blocks(), 11u);
}

TEST_F(TracerTest, CurrentPeakResetAndClear) {
  EXPECT_FALSE(tracer.is_tracing());
  auto before = make<Leaf>();  // not traced: made before start
  tracer.start();
  EXPECT_TRUE(tracer.is_tracing());
  {
    std::vector<Ref<Leaf>> many;
    for (int i = 0; i < 100; ++i) many.push_back(make<Leaf>());
    EXPECT_EQ(tracer.traced_memory().current, 100 * kLeafBytes);
  }
  before.reset();  // freeing an untraced block changes nothing
  EXPECT_EQ(tracer.traced_memory().current, 0u);
  EXPECT_EQ(tracer.traced_memory().peak, 100 * kLeafBytes);
  auto one = make<Leaf>();
  tracer.reset_peak();
  EXPECT_EQ(tracer.traced_memory().peak, kLeafBytes);
  tracer.clear_traces();
  EXPECT_EQ(tracer.traced_memory().current, 0u);
  EXPECT_EQ(tracer.traced_memory().peak, 0u);
  one.reset();  // cleared: no longer traced, nothing goes negative
  EXPECT_EQ(tracer.traced_memory().current, 0u);
  tracer.stop();
  EXPECT_FALSE(tracer.is_tracing());
  auto after = make<Leaf>();
  EXPECT_EQ(tracer.traced_memory().current, 0u);
  EXPECT_THROW(tracer.start(0), std::invalid_argument);
  EXPECT_THROW(tracer.start(kMaxFrames + 1), std::invalid_argument);
}

TEST_F(TracerTest, PeakSnapshotIsExact) {
  tracer.start();
  const std::uint32_t line_a = std::source_location::current().line() + 3;
  {
    std::vector<Ref<Leaf>> a;
    for (int i = 0; i < 50; ++i) a.push_back(make<Leaf>());
    // vector storage is the C++ allocator's, not the heap's: only the leaves are traced.
  }
  const std::uint32_t line_b = std::source_location::current().line() + 2;
  std::vector<Ref<Box>> b;
  for (int i = 0; i < 20; ++i) b.push_back(make<Box>());
  // The peak (50 leaves = 1600 B) is gone; now 20 boxes (960 B) are live.
  auto peak = tracer.peak_snapshot().statistics(KeyType::kLineno);
  ASSERT_EQ(peak.size(), 1u);
  EXPECT_EQ(peak[0].traceback.frames[0].lineno, line_a);
  EXPECT_EQ(peak[0].size, 50 * kLeafBytes);
  auto now = tracer.take_snapshot().statistics(KeyType::kLineno);
  ASSERT_EQ(now.size(), 1u);
  EXPECT_EQ(now[0].traceback.frames[0].lineno, line_b);
  EXPECT_EQ(now[0].size, 20 * kBoxBytes);
  // Grow past the old peak with a mix: the peak snapshot follows.
  for (int i = 0; i < 20; ++i) b.push_back(make<Box>());
  auto peak2 = tracer.peak_snapshot();
  EXPECT_EQ(peak2.total_size(), 40 * kBoxBytes);
  EXPECT_EQ(peak2.total_size(), tracer.traced_memory().peak);
  auto totals = tracer.totals_snapshot();
  EXPECT_EQ(totals.total_size(), 50 * kLeafBytes + 40 * kBoxBytes);
  EXPECT_EQ(totals.total_count(), 90u);
}

TEST_F(TracerTest, PeakSnapshotSumsToPeakUnderChurn) {
  tracer.start();
  std::vector<Ref<Object>> live;
  std::uint64_t state = 7;
  for (int i = 0; i < 5000; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    if ((state >> 60) < 7 || live.empty()) {
      if ((state >> 33) & 1) {
        live.push_back(make<Leaf>());
      } else {
        live.push_back(make<Box>());
      }
    } else {
      live.erase(live.begin() + static_cast<std::ptrdiff_t>((state >> 20) % live.size()));
    }
    if (i % 997 == 0) {
      EXPECT_EQ(tracer.peak_snapshot().total_size(), tracer.traced_memory().peak);
    }
  }
  EXPECT_EQ(tracer.peak_snapshot().total_size(), tracer.traced_memory().peak);
  EXPECT_EQ(tracer.take_snapshot().total_size(), tracer.traced_memory().current);
}

TEST_F(TracerTest, ObjectTracebackForContainersAndLeaves) {
  tracer.start(4);
  const std::uint32_t box_line = std::source_location::current().line() + 1;
  auto box = make<Box>();
  const std::uint32_t leaf_line = std::source_location::current().line() + 1;
  auto leaf = make<Leaf>();
  auto box_tb = get_object_traceback(*box);
  ASSERT_TRUE(box_tb.has_value());
  EXPECT_EQ(box_tb->frames.at(0).lineno, box_line);
  EXPECT_EQ(box_tb->frames.at(0).filename, this_file());
  EXPECT_NE(box_tb->frames.at(0).function.find("ObjectTraceback"), std::string::npos);
  auto leaf_tb = tracer.get_object_traceback(*leaf);
  ASSERT_TRUE(leaf_tb.has_value());
  EXPECT_EQ(leaf_tb->frames.at(0).lineno, leaf_line);
  tracer.stop();
  EXPECT_FALSE(tracer.get_object_traceback(*leaf).has_value());
}

/// Makes a Leaf inside a Box's constructor: two entry points on the chain.
class Pair : public Object {
 public:
  Pair() : inner(make<Leaf>()) {}
  Ref<Leaf> inner;
  void traverse(Visitor& visit) override { visit(inner); }

 protected:
  ~Pair() override = default;
};

TEST_F(TracerTest, FramesFollowTheChainOfEntryPoints) {
  tracer.start(2);
  const std::uint32_t outer_line = std::source_location::current().line() + 1;
  auto pair = make<Pair>();
  auto tb = tracer.get_object_traceback(*pair->inner);
  ASSERT_TRUE(tb.has_value());
  ASSERT_EQ(tb->frames.size(), 2u);  // Pair's constructor line, then this line
  EXPECT_EQ(tb->frames[1].lineno, outer_line);
  EXPECT_NE(tb->frames[0].lineno, outer_line);
  auto cumulative = tracer.take_snapshot().statistics(KeyType::kLineno, true);
  ASSERT_EQ(cumulative.size(), 2u);
  EXPECT_EQ(cumulative[0].traceback.frames[0].lineno, outer_line);  // both blocks
  EXPECT_EQ(cumulative[0].count, 2u);
}

TEST_F(TracerTest, AFrameLimitChangedWhileTracingAppliesToTheNextAllocations) {
  // The same call under each limit in turn: the tracer caches sites per chain of frames, and
  // a site found under the old limit must not answer under the new one.
  std::vector<Ref<Pair>> pairs;
  for (const std::size_t frames : {1u, 2u, 1u, 2u}) {
    tracer.start(static_cast<int>(frames));
    pairs.push_back(make<Pair>());
    auto tb = tracer.get_object_traceback(*pairs.back()->inner);
    ASSERT_TRUE(tb.has_value());
    EXPECT_EQ(tb->frames.size(), frames);
  }
}

TEST_F(TracerTest, RawAllocationsWithoutASiteAreUnknown) {
  tracer.start();
  void* p = heap().allocate(4000);
  auto stats = tracer.take_snapshot().statistics(KeyType::kLineno);
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].str(), "<unknown>:0: size=4000 B, count=1, average=4000 B");
  {
    const auto here = std::source_location::current();
    SiteScope site(here);
    void* q = heap().allocate(160);
    EXPECT_EQ(tracer.get_traceback(q)->frames[0].lineno, here.line());
    heap().deallocate(q, 160);
  }
  heap().deallocate(p, 4000);
  EXPECT_EQ(tracer.traced_memory().current, 0u);
}

TEST_F(TracerTest, AtMost32BytesOfTableAndCollectionsOnTheTimeline) {
  tracer.start();
  std::vector<Ref<Leaf>> many;
  for (int i = 0; i < 100000; ++i) {
    many.push_back(make<Leaf>());
    if (i > 64 && i % 1000 == 0) {
      EXPECT_LE(tracer.trace_table_bytes(), 32 * tracer.traced_blocks()) << i;
    }
  }
  EXPECT_LE(tracer.trace_table_bytes(), 32 * tracer.traced_blocks());
  EXPECT_GT(tracer.tracer_memory(), tracer.trace_table_bytes());
  EXPECT_GT(tracer.samples().size(), 50u);
  auto cycle = make<Box>();
  cycle->item = cycle;
  cycle.reset();
  EXPECT_EQ(gc::collect(), 1u);
  ASSERT_FALSE(tracer.collections().empty());
  EXPECT_EQ(tracer.collections().back().generation, 2);
  EXPECT_EQ(tracer.collections().back().collected, 1u);
  many.clear();
  EXPECT_EQ(tracer.traced_memory().current, 0u);
}

TEST_F(TracerTest, OneTracerPerHeap) {
  EXPECT_THROW(Tracer second(heap()), std::logic_error);
  EXPECT_EQ(Tracer::of(heap()), &tracer);
}

}  // namespace
}  // namespace ouro::trace
