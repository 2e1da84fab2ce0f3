// Snapshot statistics, diffs, filters and dump/load, with python3's tracemalloc as the
// oracle for the printed format and for grouping, ordering and filter semantics.
#include "ouro/trace/snapshot.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "ouro/trace/capture.h"
#include "support/python_oracle.h"

namespace ouro::trace {
namespace {

using ouro::testing::run_python;
using ouro::testing::TempFile;

Traceback tb(std::vector<std::pair<std::string, std::uint32_t>> most_recent_first) {
  Traceback t;
  for (auto& [file, line] : most_recent_first) t.frames.push_back({file, line, {}});
  return t;
}

TEST(FormatSize, MatchesTracemallocForARangeOfSizes) {
  OURO_REQUIRE_PYTHON();
  std::vector<double> sizes;
  for (double s :
       {0.0,     1.0,      99.0,     100.0,         1023.0,    1024.0,    10239.0,     10240.0,
        10241.0, 102399.0, 102400.0, 6233.0 * 1024, 1048575.0, 1048576.0, 104857599.0, 1e12,
        1.2e15,  5e18,     61.5,     99.95,         0.5,       2.5,       1536.0,      10239.5}) {
    sizes.push_back(s);
    if (s != 0) sizes.push_back(-s);  // sizes are integers: no negative zero
  }
  for (double s = 3; s < 1e17; s *= 2.7) sizes.push_back(std::floor(s));
  std::ostringstream script, expected;
  script << "import tracemalloc\nfor s in [";
  for (double s : sizes) script << fmt::format("{}", s) << ",";
  script << "]:\n  print(tracemalloc._format_size(s, False)); print(tracemalloc._format_size(s, "
            "True))\n";
  auto result = run_python(script.str());
  ASSERT_EQ(result.status, 0) << result.err;
  std::string ours;
  for (double s : sizes) ours += format_size(s, false) + "\n" + format_size(s, true) + "\n";
  EXPECT_EQ(ours, result.out);
}

TEST(Statistic, PrintsExactlyAsTracemalloc) {
  OURO_REQUIRE_PYTHON();
  const std::vector<std::pair<std::uint64_t, std::uint64_t>> cases = {
      {6382592, 103968}, {0, 0}, {48, 1}, {1023, 3}, {10240, 7}, {123456789, 1000}, {100, 3}};
  std::ostringstream script;
  script << "import tracemalloc\n"
            "tb = tracemalloc.Traceback(((\"app.cpp\", 12),))\n"
            "for size, count in [";
  for (auto [size, count] : cases) script << "(" << size << "," << count << "),";
  script << "]:\n"
            "  print(tracemalloc.Statistic(tb, size, count))\n"
            "  print(tracemalloc.StatisticDiff(tb, size, size - 5000, count, count - 2))\n";
  auto result = run_python(script.str());
  ASSERT_EQ(result.status, 0) << result.err;
  std::string ours;
  for (auto [size, count] : cases) {
    ours += Statistic{tb({{"app.cpp", 12}}), size, count}.str() + "\n";
    ours += StatisticDiff{tb({{"app.cpp", 12}}), size, static_cast<std::int64_t>(size) - 5000,
                          count, static_cast<std::int64_t>(count) - 2}
                .str() +
            "\n";
  }
  EXPECT_EQ(ours, result.out);
  EXPECT_EQ(Statistic(tb({{"f.py", 1}}), 6233 * 1024 + 10, 103968).str(),
            "f.py:1: size=6233 KiB, count=103968, average=61 B");
}

/// The same traces in ouro and in python3 (tracemalloc.Snapshot built from raw traces).
struct Fixture {
  std::vector<Snapshot::Trace> traces;
  std::string python_traces;  // a Python list literal of (domain, size, frames, total_nframe)
};

Fixture make_fixture(std::vector<std::tuple<Traceback, std::uint64_t, std::uint64_t>> rows) {
  Fixture f;
  f.python_traces = "[";
  for (auto& [t, size, count] : rows) {
    f.traces.push_back({t, size * count, count});
    std::string frames = "(";
    for (auto& fr : t.frames) frames += fmt::format("('{}', {}),", fr.filename, fr.lineno);
    frames += ")";
    for (std::uint64_t i = 0; i < count; ++i) {
      f.python_traces += fmt::format("(0, {}, {}, {}),", size, frames, t.frames.size());
    }
  }
  f.python_traces += "]";
  return f;
}

std::string python_statistics(const std::string& traces, const std::string& body) {
  auto result = run_python(
      "import tracemalloc\n"
      "def snap(traces): return tracemalloc.Snapshot(traces, 3)\n"
      "s = snap(" +
      traces + ")\n" + body);
  EXPECT_EQ(result.status, 0) << result.err;
  return result.out;
}

const std::vector<std::tuple<Traceback, std::uint64_t, std::uint64_t>> kRows = {
    {tb({{"a.cpp", 10}, {"main.cpp", 3}}), 64, 5},
    {tb({{"a.cpp", 11}, {"main.cpp", 3}}), 64, 5},
    {tb({{"b.cpp", 7}, {"main.cpp", 4}}), 1000, 2},
    {tb({{"a.cpp", 10}, {"main.cpp", 5}}), 32, 1},
    {tb({{"lib/c.h", 99}, {"b.cpp", 7}, {"main.cpp", 4}}), 16, 40},
};

TEST(Snapshot, StatisticsGroupAndSortAsTracemalloc) {
  OURO_REQUIRE_PYTHON();
  Fixture f = make_fixture(kRows);
  Snapshot snap(f.traces, 3);
  std::string ours;
  for (auto key : {"lineno", "filename", "traceback"}) {
    for (const auto& stat : snap.statistics(parse_key_type(key))) ours += stat.str() + "\n";
  }
  for (auto key : {"lineno", "filename"}) {
    for (const auto& stat : snap.statistics(parse_key_type(key), true)) ours += stat.str() + "\n";
  }
  std::string theirs = python_statistics(f.python_traces,
                                         "for k in ('lineno', 'filename', 'traceback'):\n"
                                         "  for st in s.statistics(k): print(st)\n"
                                         "for k in ('lineno', 'filename'):\n"
                                         "  for st in s.statistics(k, True): print(st)\n");
  EXPECT_EQ(ours, theirs);
  EXPECT_THROW(snap.statistics(KeyType::kTraceback, true), std::invalid_argument);
  EXPECT_THROW(parse_key_type("size"), std::invalid_argument);
}

TEST(Snapshot, CumulativeDoesNotChargeARecursiveLineTwice) {
  // tracemalloc would report rec.cpp:5 with size=200 for one 100-byte block.
  Snapshot snap({{tb({{"rec.cpp", 5}, {"rec.cpp", 5}, {"main.cpp", 1}}), 100, 1}}, 3);
  auto stats = snap.statistics(KeyType::kLineno, true);
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[0].str(), "rec.cpp:5: size=100 B, count=1, average=100 B");
  EXPECT_EQ(stats[1].str(), "main.cpp:1: size=100 B, count=1, average=100 B");
}

TEST(Snapshot, CompareToMatchesTracemalloc) {
  OURO_REQUIRE_PYTHON();
  Fixture older = make_fixture({kRows[0], kRows[2], kRows[3]});
  Fixture newer = make_fixture({kRows[0], kRows[0], kRows[1], kRows[4]});
  Snapshot a(older.traces, 3), b(newer.traces, 3);
  std::string ours;
  for (auto key : {"lineno", "filename", "traceback"}) {
    for (const auto& d : b.compare_to(a, parse_key_type(key))) ours += d.str() + "\n";
  }
  for (const auto& d : b.compare_to(a, KeyType::kFilename, true)) ours += d.str() + "\n";
  std::string theirs =
      python_statistics(newer.python_traces, "old = snap(" + older.python_traces +
                                                 ")\n"
                                                 "for k in ('lineno', 'filename', 'traceback'):\n"
                                                 "  for d in s.compare_to(old, k): print(d)\n"
                                                 "for d in s.compare_to(old, 'filename', True): "
                                                 "print(d)\n");
  EXPECT_EQ(ours, theirs);
}

TEST(Snapshot, FiltersMatchTracemalloc) {
  OURO_REQUIRE_PYTHON();
  Fixture f = make_fixture(kRows);
  Snapshot snap(f.traces, 3);
  const std::vector<std::vector<Filter>> cases = {
      {{true, "a.cpp", std::nullopt, false}},
      {{false, "a.cpp", std::nullopt, false}},
      {{true, "*.cpp", 10, false}},
      {{true, "main.cpp", 4, true}},
      {{false, "b*", std::nullopt, true}, {true, "*", std::nullopt, false}},
      {{true, "lib/?.h", std::nullopt, false}, {true, "[ab].cpp", std::nullopt, false}},
      {{false, "[!a].cpp", std::nullopt, false}},
  };
  std::string ours, body = "F = tracemalloc.Filter\n";
  for (const auto& filters : cases) {
    for (const auto& stat : snap.filter_traces(filters).statistics(KeyType::kTraceback)) {
      ours += stat.str() + "\n";
    }
    ours += "--\n";
    body += "for st in s.filter_traces([";
    for (const auto& flt : filters) {
      body += fmt::format("F({}, '{}', {}, {}),", flt.inclusive ? "True" : "False",
                          flt.filename_pattern, flt.lineno ? std::to_string(*flt.lineno) : "None",
                          flt.all_frames ? "True" : "False");
    }
    body += "]).statistics('traceback'): print(st)\nprint('--')\n";
  }
  EXPECT_EQ(ours, python_statistics(f.python_traces, body));
}

TEST(Fnmatch, GlobRules) {
  EXPECT_TRUE(fnmatch("src/a/b.cpp", "*.cpp"));
  EXPECT_TRUE(fnmatch("src/a/b.cpp", "src/*"));
  EXPECT_FALSE(fnmatch("src/a/b.cpp", "*.h"));
  EXPECT_TRUE(fnmatch("x1", "x[0-9]"));
  EXPECT_FALSE(fnmatch("xa", "x[0-9]"));
  EXPECT_TRUE(fnmatch("xa", "x[!0-9]"));
  EXPECT_TRUE(fnmatch("", "*"));
  EXPECT_TRUE(fnmatch("a[b", "a[b"));
}

TEST(Snapshot, DumpAndLoadRoundTrip) {
  Fixture f = make_fixture(kRows);
  Snapshot snap(f.traces, 3);
  TempFile file(".ouro");
  snap.dump(file.path());
  Snapshot back = Snapshot::load(file.path());
  EXPECT_EQ(back.traceback_limit(), 3);
  ASSERT_EQ(back.traces().size(), snap.traces().size());
  for (std::size_t i = 0; i < snap.traces().size(); ++i) {
    EXPECT_EQ(back.traces()[i].traceback, snap.traces()[i].traceback);
    EXPECT_EQ(back.traces()[i].size, snap.traces()[i].size);
    EXPECT_EQ(back.traces()[i].count, snap.traces()[i].count);
  }
  // Compact: the five tracebacks, their frames and strings, and 5 entries of a few bytes.
  EXPECT_LT(file.read().size(), 200u);
}

TEST(Capture, BadFilesGiveClearErrors) {
  TempFile file(".ouro");
  file.write("PK\x03\x04 not a capture");
  try {
    Snapshot::load(file.path());
    FAIL() << "no error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("not an ouro capture"), std::string::npos) << e.what();
  }
  Snapshot({{tb({{"a.cpp", 1}}), 10, 1}}, 1).dump(file.path());
  std::string bytes = file.read();
  file.write(bytes.substr(0, bytes.size() - 3));
  try {
    Snapshot::load(file.path());
    FAIL() << "no error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated capture"), std::string::npos) << e.what();
  }
  bytes[8] = 9;
  file.write(bytes);
  EXPECT_THROW(Snapshot::load(file.path()), FormatError);
  EXPECT_THROW(Snapshot::load("/nonexistent/capture.ouro"), FormatError);
}

}  // namespace
}  // namespace ouro::trace
