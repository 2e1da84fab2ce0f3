// `ouro trace` and `ouro pickle stats --trace` end to end: the built tool traces itself
// (it links ouro, so OURO_TRACE works on it) and reads the captures back.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <regex>

#include "ouro/trace/capture.h"
#include "support/python_oracle.h"

#ifndef OURO_CLI_PATH
#define OURO_CLI_PATH ""  // tools not built: every test fails on the assertion below
#endif

namespace ouro::trace {
namespace {

using ouro::testing::TempFile;

struct CliResult {
  int status = -1;
  std::string out, err;
};

CliResult run_cli(const std::string& args) {
  TempFile out(".out"), err(".err");
  const std::string command = fmt::format("'{}' {} > '{}' 2> '{}' < /dev/null", OURO_CLI_PATH, args,
                                          out.path().string(), err.path().string());
  const int raw = std::system(command.c_str());
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, out.read(), err.read()};
}

class TraceCli : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(std::string(OURO_CLI_PATH).empty()) << "built without tools/ouro";
  }
  TempFile capture{".ouro"};
};

TEST_F(TraceCli, RunKeepsACaptureAndPrintsThePeak) {
  auto r = run_cli(fmt::format("trace run --frames 2 -o '{}' --limit 3 -- '{}' tour --chapter 6",
                               capture.path().string(), OURO_CLI_PATH));
  ASSERT_EQ(r.status, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("peak traced memory: "), std::string::npos) << r.out;
  // The profiled lines of the tour chapter are the top lines at the peak.
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex("#1: [^\\n]*tour_profile\\.cpp:[0-9]+: size=107 KiB, count=1, "
                        "average=107 KiB")))
      << r.out;

  auto top = run_cli(fmt::format("trace top '{}' --by file --limit 2", capture.path().string()));
  ASSERT_EQ(top.status, 0) << top.err;
  EXPECT_NE(top.out.find("At the peak ("), std::string::npos);
  EXPECT_NE(top.out.find("At the end ("), std::string::npos);
  EXPECT_TRUE(std::regex_search(top.out, std::regex("tour_profile\\.cpp:0: size=")));

  auto lines = run_cli(fmt::format("trace lines '{}'", capture.path().string()));
  ASSERT_EQ(lines.status, 0) << lines.err;
  EXPECT_NE(lines.out.find("Line #    Mem usage    Increment  Occurrences   Line Contents"),
            std::string::npos);
  EXPECT_NE(lines.out.find("110032 B     110032 B           1"), std::string::npos) << lines.out;

  auto diff = run_cli(
      fmt::format("trace diff '{}' '{}' --peak", capture.path().string(), capture.path().string()));
  ASSERT_EQ(diff.status, 0) << diff.err;
  EXPECT_NE(diff.out.find("(+0 B), count=1 (+0)"), std::string::npos) << diff.out;

  TempFile html(".html");
  auto report = run_cli(
      fmt::format("trace report '{}' -o '{}'", capture.path().string(), html.path().string()));
  ASSERT_EQ(report.status, 0) << report.err;
  EXPECT_NE(html.read().find("data-flame=\"peak\""), std::string::npos);
}

TEST_F(TraceCli, BadCapturesAndUsageErrors) {
  capture.write("OUROTRC");
  auto r = run_cli(fmt::format("trace top '{}'", capture.path().string()));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("not an ouro capture"), std::string::npos) << r.err;
  r = run_cli("trace top /nonexistent.ouro");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("/nonexistent.ouro: cannot open capture"), std::string::npos) << r.err;
  // A capture cut in the middle of a record.
  ASSERT_EQ(run_cli(fmt::format("trace run -o '{}' -- '{}' tour --chapter 6",
                                capture.path().string(), OURO_CLI_PATH))
                .status,
            0);
  const std::string whole = capture.read();
  capture.write(whole.substr(0, whole.size() - 5));
  r = run_cli(fmt::format("trace top '{}'", capture.path().string()));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("truncated capture"), std::string::npos) << r.err;
  r = run_cli(fmt::format("trace top '{}' --by traceback --cumulative", capture.path().string()));
  EXPECT_NE(r.status, 0);
  r = run_cli("trace run -- /nonexistent/program");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("cannot run /nonexistent/program"), std::string::npos) << r.err;
}

TEST_F(TraceCli, PickleStatsTrace) {
  OURO_REQUIRE_PYTHON();
  TempFile pickle(".pkl");
  auto made = ouro::testing::run_python(
      "import pickle, sys\n"
      "sys.stdout.buffer.write(pickle.dumps([{'id': i, 'name': 'n%d' % i} for i in "
      "range(1000)], 4))\n");
  ASSERT_EQ(made.status, 0) << made.err;
  pickle.write(made.out);
  auto r = run_cli(fmt::format("pickle stats '{}' --trace '{}'", pickle.path().string(),
                               capture.path().string()));
  ASSERT_EQ(r.status, 0) << r.err;
  Capture c = read_capture(capture.path());
  const Snapshot peak = c.merged(SnapshotKind::kPeak);
  EXPECT_GT(peak.total_count(), 1000u);  // the dicts, their tables, the strs
  // The heap's peak while loading, as pickle stats prints it, matches the traced peak.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("peak while loading:\\s*([0-9]+)")));
  EXPECT_LE(peak.total_size(), std::stoull(m[1]));
}

}  // namespace
}  // namespace ouro::trace
