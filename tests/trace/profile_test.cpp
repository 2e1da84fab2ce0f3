// The per-line profiler on a function with a loop: exact increments per line, occurrences
// counted, no negative or doubled increments, the peak inside the scope, and the table in
// memory_profiler's layout with the source text.
#include "ouro/trace/profile.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "ouro/core/ref.h"
#include "support/heap_fixture.h"

namespace ouro::trace {
namespace {

class Cell : public Object {  // 32 bytes: header 16 + 16
 public:
  std::uint64_t a = 0, b = 0;

 protected:
  ~Cell() override = default;
};

class ProfileTest : public ouro::testing::HeapTest {
 protected:
  ProfileTest() : tracer(heap()) { tracer.start(); }
  Tracer tracer;
};

const LineRow& row_at(const ScopeRecord& s, std::uint32_t line) {
  for (const auto& r : s.lines) {
    if (r.line == line) return r;
  }
  throw std::out_of_range("no row for line " + std::to_string(line));
}

TEST_F(ProfileTest, LoopLinesCountOccurrencesAndNeverGoNegative) {
  std::vector<Ref<Cell>> kept;
  const std::uint32_t first = std::source_location::current().line() + 3;
  // Each mark shares its line with the statement it measures:
  // clang-format off
  LineProfiler prof(tracer, "loop");
  prof.line(); auto one = make<Cell>();
  prof.line(); for (int i = 0; i < 5; ++i) {
  prof.line();   kept.push_back(make<Cell>());
  prof.line();   auto temp = make<Cell>();  // freed at the end of each iteration
               }
  prof.line(); one.reset();
  // clang-format on
  const ScopeRecord& rec = prof.finish();
  EXPECT_EQ(rec.name, "loop");
  EXPECT_EQ(row_at(rec, first + 1).increment, 32);
  EXPECT_EQ(row_at(rec, first + 2).occurrences, 1u);
  EXPECT_EQ(row_at(rec, first + 2).increment, 0);
  EXPECT_EQ(row_at(rec, first + 3).occurrences, 5u);
  EXPECT_EQ(row_at(rec, first + 3).increment, 5 * 32);
  // temp is made on this line and freed when the iteration ends, before the next mark:
  // the line's net is 0, never negative, and not counted twice.
  EXPECT_EQ(row_at(rec, first + 4).occurrences, 5u);
  EXPECT_EQ(row_at(rec, first + 4).increment, 0);
  EXPECT_EQ(row_at(rec, first + 6).increment, -32);   // really frees `one`
  EXPECT_EQ(row_at(rec, first + 5).occurrences, 0u);  // the closing brace: blank
  std::int64_t net = 0;
  for (const auto& r : rec.lines) net += r.increment;
  EXPECT_EQ(net, 5 * 32);
  EXPECT_EQ(rec.peak, 7u * 32);  // one + five kept + one temp
  EXPECT_EQ(row_at(rec, first + 3).mem_usage, 6u * 32);
  ASSERT_EQ(tracer.scopes().size(), 1u);

  const std::string table = format_line_table(rec, {OURO_SOURCE_DIR});
  EXPECT_NE(table.find("Line #    Mem usage    Increment  Occurrences   Line Contents\n"
                       "============================================================="),
            std::string::npos)
      << table;
  EXPECT_NE(
      table.find(fmt::format("{:>6} {:>12} {:>12}  {:>10}   ", first + 3, "192 B", "160 B", 5)),
      std::string::npos)
      << table;
  EXPECT_NE(table.find("kept.push_back(make<Cell>());"), std::string::npos) << table;
  EXPECT_NE(table.find("Peak in scope: 224 B"), std::string::npos) << table;
}

TEST_F(ProfileTest, NestedScopesKeepTheOuterPeak) {
  // clang-format off
  LineProfiler outer(tracer, "outer");
  outer.line(); auto big = std::vector<Ref<Cell>>(10);
  outer.line(); for (auto& c : big) c = make<Cell>();
  outer.line(); big.clear();
  // clang-format on
  {
    LineProfiler inner(tracer, "inner");
    inner.line();
    auto c = make<Cell>();
    EXPECT_EQ(inner.finish().peak, 32u);
  }
  EXPECT_EQ(outer.finish().peak, 320u);
}

TEST_F(ProfileTest, MarkedLinesAreAllocationSites) {
  const std::uint32_t line = std::source_location::current().line() + 3;
  // clang-format off
  LineProfiler prof(tracer, "raw");
  prof.line(); void* block = heap().allocate(64);
  // clang-format on
  prof.finish();
  ASSERT_TRUE(tracer.get_traceback(block).has_value());
  EXPECT_EQ(tracer.get_traceback(block)->frames[0].lineno, line);
  EXPECT_EQ(current_site(), nullptr);  // popped by finish()
  heap().deallocate(block, 64);
}

TEST_F(ProfileTest, NeedsTracing) {
  tracer.stop();
  EXPECT_THROW(LineProfiler prof(tracer), std::logic_error);
}

}  // namespace
}  // namespace ouro::trace
