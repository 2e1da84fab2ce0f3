// The HTML report: self-contained (no network), under 300 KB for 10,000 distinct stacks,
// and opened in headless Chromium: the script runs without errors and draws the flame
// graphs and the memory plot. The screenshot stays in the build directory as an artifact
// (trace_report_screenshot.png beside this test's binary).
#include "ouro/trace/report.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include "ouro/core/gc.h"
#include "ouro/core/ref.h"
#include "ouro/trace/leaks.h"
#include "ouro/trace/profile.h"
#include "ouro/trace/session.h"
#include "support/heap_fixture.h"
#include "support/python_oracle.h"

namespace ouro::trace {
namespace {

namespace fs = std::filesystem;
using ouro::testing::TempFile;

/// A capture of 10,000 distinct three-frame stacks over 40 files, with a timeline.
Capture big_capture() {
  Capture capture;
  capture.frames = 3;
  HeapCapture& heap = capture.heaps[0];
  std::vector<Snapshot::Trace> traces;
  for (std::uint32_t i = 0; i < 10000; ++i) {
    Traceback tb;
    tb.frames.push_back({fmt::format("/home/user/project/src/module_{}.cpp", i % 40), 100 + i / 40,
                         fmt::format("void ns::handler_{}(int)", i % 97)});
    tb.frames.push_back({fmt::format("/home/user/project/src/service_{}.cpp", i % 13), 20 + i % 211,
                         "void ns::service()"});
    tb.frames.push_back({"/home/user/project/src/main.cpp", 10 + i % 7, "int main()"});
    traces.push_back({tb, 64 + (i * 7919) % 100000, 1 + i % 5});
  }
  heap.peak = Snapshot(traces, 3);
  heap.end = Snapshot(std::vector<Snapshot::Trace>(traces.begin(), traces.begin() + 100), 3);
  heap.totals = Snapshot(traces, 3);
  for (std::uint64_t t = 0; t < 5000; ++t) heap.samples.push_back({t * 1000000, t * 997 % 50000});
  heap.collections.push_back({1000000000, 2000000, 0, 12, 0});
  heap.collections.push_back({3000000000, 9000000, 2, 300, 0});
  return capture;
}

TEST(Report, TenThousandStacksUnder300KBAndOffline) {
  const std::string html = render_report(big_capture());
  EXPECT_LT(html.size(), 300u * 1024) << html.size();
  // Self-contained: nothing fetched from anywhere.
  // (the SVG namespace name is an identifier, not an address that is fetched)
  EXPECT_EQ(std::regex_replace(html, std::regex("http://www.w3.org/2000/svg"), "").find("http://"),
            std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find(" src="), std::string::npos);
}

/// Runs headless Chromium on `html_path` with `extra` flags; returns stdout (the DOM when
/// --dump-dom) and leaves stderr in `err`.
std::string run_chromium(const fs::path& html_path, const std::string& extra, std::string& err) {
  const fs::path profile = fs::temp_directory_path() / fmt::format("ouro-chromium-{}", ::getpid());
  fs::create_directories(profile);
  TempFile out(".out"), errors(".err");
  const std::string command = fmt::format(
      "timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic "
      "--no-first-run --disable-background-networking --disable-component-update "
      "--disable-sync --user-data-dir='{}' --enable-logging=stderr --v=0 "
      "--window-size=1280,2200 {} 'file://{}' > '{}' 2> '{}'",
      profile.string(), extra, fs::absolute(html_path).string(), out.path().string(),
      errors.path().string());
  const int status = std::system(command.c_str());
  err = errors.read();
  fs::remove_all(profile);
  EXPECT_EQ(status, 0) << err;
  return out.read();
}

class Node : public Object {
 public:
  static constexpr std::string_view kTypeName = "Node";
  Ref<Object> next;
  char payload[64] = {};
  void traverse(Visitor& visit) override { visit(next); }
  void clear() override { next = nullptr; }

 protected:
  ~Node() override = default;
};

TEST(Report, OpensInHeadlessChromiumWithoutErrors) {
  ASSERT_TRUE(fs::exists("/usr/bin/chromium"))
      << "the report test needs Debian's chromium (scripts/install-deps.sh installs it)";
  // A real run: a traced heap with a profiled scope, a collection and a leak chain.
  Heap heap;
  HeapScope scope(heap);
  Tracer tracer(heap);
  tracer.start(2);
  std::vector<Ref<Node>> kept;
  {
    // clang-format off
    LineProfiler prof(tracer, "build");
    prof.line(); for (int i = 0; i < 200; ++i) kept.push_back(make<Node>());
    prof.line(); kept.front()->next = make<Node>();  // only through kept.front(): a chain of 2
    // clang-format on
  }
  auto cycle = make<Node>();
  cycle->next = cycle;
  cycle.reset();
  gc::collect();
  tracer.add_leak(describe_leak(kept.front()->next));
  TempFile capture_file(".ouro");
  save_capture(tracer, capture_file.path());
  ReportOptions options;
  options.source_dirs = {OURO_SOURCE_DIR};
  const std::string html = render_report(read_capture(capture_file.path()), options);
  EXPECT_TRUE(std::regex_search(html, std::regex("Node \\(\\d+ B\\) → Node \\(\\d+ B\\); "
                                                 "retained: \\d+ B")));
  const fs::path page = fs::current_path() / "trace_report.html";
  std::ofstream(page) << html;

  std::string err;
  const std::string dom = run_chromium(page, "--dump-dom", err);
  EXPECT_NE(dom.find("data-rendered=\"ok\""), std::string::npos) << err;
  EXPECT_EQ(dom.find("data-errors"), std::string::npos) << dom.substr(0, 400);
  EXPECT_EQ(err.find("CONSOLE"), std::string::npos) << err;
  // Both flame graphs drew frames, and the plot has its line and a collection mark.
  const std::regex frames("data-frames=\"([0-9]+)\"");
  int graphs = 0;
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), frames); it != std::sregex_iterator();
       ++it) {
    ++graphs;
    EXPECT_GE(std::stoi((*it)[1]), 2);
  }
  EXPECT_EQ(graphs, 2);
  EXPECT_NE(dom.find("<polyline"), std::string::npos);
  EXPECT_NE(dom.find("class=\"gc\""), std::string::npos);
  EXPECT_NE(dom.find("class=\"scope\""), std::string::npos);

  const fs::path shot = fs::current_path() / "trace_report_screenshot.png";
  fs::remove(shot);
  run_chromium(page, fmt::format("--screenshot='{}'", shot.string()), err);
  ASSERT_TRUE(fs::exists(shot)) << err;
  EXPECT_GT(fs::file_size(shot), 10000u);
}

TEST(Report, BigCaptureRendersInChromium) {
  const fs::path page = fs::current_path() / "trace_report_10000_stacks.html";
  std::ofstream(page) << render_report(big_capture());
  std::string err;
  const std::string dom = run_chromium(page, "--dump-dom", err);
  EXPECT_NE(dom.find("data-rendered=\"ok\""), std::string::npos) << err;
  EXPECT_EQ(err.find("CONSOLE"), std::string::npos) << err;
}

}  // namespace
}  // namespace ouro::trace
