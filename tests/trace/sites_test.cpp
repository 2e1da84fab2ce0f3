// The value and pickle layers' entry points charge their allocations to the caller's line
// (ouro/core/site.h): a value constructor, a list append that grows the item array, loads
// (everything the loaded value is made of) and dumps (its temporaries), each attributed to
// the exact line of this file that called it, with the exact bytes.
#include <gtest/gtest.h>

#include <source_location>

#include "ouro/pickle/pickle.h"
#include "ouro/trace/tracer.h"
#include "ouro/value/value.h"
#include "support/heap_fixture.h"

namespace ouro::trace {
namespace {

class SitesTest : public ouro::testing::HeapTest {
 protected:
  void SetUp() override { tracer.start(); }
  void TearDown() override { tracer.stop(); }

  /// The statistic (size, count) of `line` of this file in `snapshot`, or {0, 0}.
  static std::pair<std::uint64_t, std::uint64_t> at_line(const Snapshot& snapshot,
                                                         std::uint32_t line) {
    for (const Statistic& stat : snapshot.statistics(KeyType::kLineno)) {
      const Frame& frame = stat.traceback.frames[0];
      if (frame.lineno == line && frame.filename.ends_with("sites_test.cpp")) {
        return {stat.size, stat.count};
      }
    }
    return {0, 0};
  }
  std::uint64_t traced() const { return tracer.traced_memory().current; }

  Tracer tracer{heap()};
};

TEST_F(SitesTest, ValueConstructorIsChargedToItsLine) {
  const std::uint64_t before = traced();
  const std::uint32_t line = std::source_location::current().line() + 1;
  const Value text("a str long enough to need its own block, not a small int");
  const std::uint64_t made = traced() - before;
  ASSERT_GT(made, 0u);
  EXPECT_EQ(at_line(tracer.take_snapshot(), line), std::make_pair(made, std::uint64_t{1}));
  const auto tb = tracer.get_object_traceback(text.as<Str>());
  ASSERT_TRUE(tb.has_value());
  EXPECT_EQ(tb->frames[0].lineno, line);

  const std::uint32_t float_line = std::source_location::current().line() + 1;
  const Value x(2.5);
  EXPECT_EQ(tracer.get_object_traceback(x.as<Float>())->frames[0].lineno, float_line);
}

TEST_F(SitesTest, ListAppendThatGrowsIsChargedToItsLine) {
  const std::uint32_t make_line = std::source_location::current().line() + 1;
  const Value items = list({0, 1, 2, 3});  // a full list: the next append grows it
  const std::uint64_t list_and_items = at_line(tracer.take_snapshot(), make_line).first;
  const std::uint64_t before = traced();
  const std::uint32_t line = std::source_location::current().line() + 1;
  items.as<List>().append(Value(4));  // grows: a new item array, the old one freed
  const std::uint64_t grown = traced() - before;
  ASSERT_GT(grown, 0u);
  // The new array is this line's; the old one was list()'s and is gone from it.
  const Snapshot after = tracer.take_snapshot();
  const std::uint64_t old_items = list_and_items - at_line(after, make_line).first;
  EXPECT_GE(old_items, 4 * sizeof(Value));
  EXPECT_EQ(at_line(after, line), std::make_pair(grown + old_items, std::uint64_t{1}));
  EXPECT_EQ(at_line(tracer.totals_snapshot(), line), at_line(after, line));  // nothing else
}

TEST_F(SitesTest, LoadsChargesTheLoadedValueToTheCallersLine) {
  std::string data;
  {
    Heap other;
    HeapScope scope(other);
    data = pickle::dumps(dict({{"id", 1}, {"name", "user1"}, {"tags", list({"a", "b"})}}));
  }
  const std::uint64_t before = traced();
  const std::uint32_t line = std::source_location::current().line() + 1;
  const Value loaded = pickle::loads(data);
  const std::uint64_t made = traced() - before;
  ASSERT_GT(made, 0u);
  const auto [size, count] = at_line(tracer.take_snapshot(), line);
  EXPECT_EQ(size, made);  // every live byte of the load, nothing elsewhere
  EXPECT_GE(count, 6u);   // dict, 'id', 'name', 'user1', 'tags', list, 'a', 'b' (some shared)
  const Value& tags = loaded.as<Dict>().at(Value("tags"));
  EXPECT_EQ(tracer.get_object_traceback(tags.as<List>())->frames[0].lineno, line);
}

TEST_F(SitesTest, DumpsChargesItsTemporariesToTheCallersLine) {
  // A __newobj__ reduce makes a temporary tuple of args[1:] while dumping (as CPython does);
  // the pickler's memo, work stack and output buffer are in the heap too. All of it is
  // charged to the dumps line, and all of it is gone when dumps returns.
  const Value cls(Global::make(heap(), "__main__", "Point"));
  const Value reduce(Reduce::make(heap(), Value(Global::make(heap(), "copyreg", "__newobj__")),
                                  tuple({cls, 1, 2})));
  std::uint64_t tuple_size = traced();
  {
    const Value same_shape = tuple({1, 2});
    tuple_size = traced() - tuple_size;
  }
  const auto total = [](const Snapshot& snapshot) {
    std::pair<std::uint64_t, std::uint64_t> sum{0, 0};
    for (const Statistic& stat : snapshot.statistics(KeyType::kLineno)) {
      sum.first += stat.size;
      sum.second += stat.count;
    }
    return sum;
  };
  const auto all_before = total(tracer.totals_snapshot());
  const std::uint64_t before = traced();
  const std::uint32_t line = std::source_location::current().line() + 1;
  const std::string bytes = pickle::dumps(reduce, {.protocol = 2});
  EXPECT_EQ(traced(), before);  // the temporaries are gone
  const auto all_after = total(tracer.totals_snapshot());
  const auto [size, count] = at_line(tracer.totals_snapshot(), line);
  EXPECT_EQ(size, all_after.first - all_before.first);  // every byte dumps took, nothing elsewhere
  EXPECT_EQ(count, all_after.second - all_before.second);
  EXPECT_GE(count, 2u);  // the tuple (1, 2) and the pickler's own tables
  EXPECT_GT(size, tuple_size);
}

}  // namespace
}  // namespace ouro::trace
