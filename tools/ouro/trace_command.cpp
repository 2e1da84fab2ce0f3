// `ouro trace run|top|diff|lines|report`: tracing from the command line, and the --trace
// option of `ouro pickle stats` (added here, so the pickle command's file needs no edit).
// Diagnostics go to stderr prefixed "ouro: "; exit status 1 for an unreadable capture or a
// failed program start, the traced program's own status for `run`, 2 for usage errors.
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "ouro/trace/capture.h"
#include "ouro/trace/profile.h"
#include "ouro/trace/report.h"
#include "ouro/trace/session.h"

namespace ouro::cli {
namespace {

[[noreturn]] void exit_with(int code) { throw CLI::RuntimeError(code); }

/// Reads a capture, showing progress on stderr for big files; exits 1 with the reader's
/// message (file, offset, what is wrong) when it cannot.
trace::Capture load_capture(const std::string& path) {
  try {
    const auto size = std::filesystem::exists(path) ? std::filesystem::file_size(path) : 0;
    const bool show_progress = size > (std::uintmax_t{64} << 20) && isatty(2);
    return trace::read_capture(path, [&](std::uint64_t done, std::uint64_t total) {
      if (show_progress) fmt::print(stderr, "\rouro: reading {}: {:3}%", path, done * 100 / total);
      if (show_progress && done == total) fmt::print(stderr, "\n");
    });
  } catch (const trace::FormatError& e) {
    fmt::print(stderr, "ouro: {}\n", e.what());
    exit_with(1);
  }
}

trace::Snapshot snapshot_or_exit(const trace::Capture& capture, trace::SnapshotKind kind) {
  try {
    return capture.merged(kind);
  } catch (const trace::FormatError& e) {
    fmt::print(stderr, "ouro: {}\n", e.what());
    exit_with(1);
  }
}

struct TopOptions {
  std::string by = "line";
  bool cumulative = false;
  std::size_t limit = 10;
  void add_to(CLI::App* cmd) {
    cmd->add_option("--by", by, "Group by line, file or traceback")
        ->check(CLI::IsMember({"line", "lineno", "file", "filename", "traceback"}));
    cmd->add_flag("--cumulative", cumulative, "Count every frame of each traceback");
    cmd->add_option("--limit", limit, "Rows to print")->check(CLI::PositiveNumber);
  }
};

void print_top(const trace::Snapshot& snap, const TopOptions& o, const std::string& title) {
  std::vector<trace::Statistic> stats;
  try {
    stats = snap.statistics(trace::parse_key_type(o.by), o.cumulative);
  } catch (const std::invalid_argument& e) {
    throw CLI::ValidationError("--cumulative", e.what());
  }
  fmt::print("{} ({} in {} blocks):\n", title, trace::format_size(double(snap.total_size()), false),
             snap.total_count());
  for (std::size_t i = 0; i < stats.size() && i < o.limit; ++i) {
    fmt::print("#{}: {}\n", i + 1, stats[i].str());
    // By traceback, each statistic's frames follow (as tracemalloc's documentation prints
    // them), most recent first: entry points, then native frames with their functions.
    if (o.by == "traceback" && !o.cumulative) {
      for (const std::string& line : stats[i].traceback.format(std::nullopt, true)) {
        fmt::print("{}\n", line);
      }
    }
  }
  if (stats.size() > o.limit) fmt::print("{} other entries\n", stats.size() - o.limit);
}

void add_run(CLI::App& trace) {
  auto* cmd =
      trace.add_subcommand("run", "Run a program with tracing on; print its peak and top lines");
  auto frames = std::make_shared<int>(1);
  auto native_frames = std::make_shared<int>(0);
  auto output = std::make_shared<std::string>("ouro-trace.ouro");
  auto argv = std::make_shared<std::vector<std::string>>();
  auto top = std::make_shared<TopOptions>();
  cmd->add_option("--frames", *frames, "Entry-point frames (source lines) kept per allocation")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--native-frames", *native_frames,
                  "C++ frames (function, file:line) kept per allocation, 0: none")
      ->check(CLI::Range(0, 64));
  cmd->add_option("-o,--output", *output, "Capture file to keep");
  top->add_to(cmd);
  cmd->add_option("PROGRAM", *argv, "The program and its arguments (after --)")->required();
  cmd->callback([frames, native_frames, output, argv, top] {
    std::vector<char*> args;
    for (auto& a : *argv) args.push_back(a.data());
    args.push_back(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
      fmt::print(stderr, "ouro: cannot start {}: {}\n", argv->front(), std::strerror(errno));
      exit_with(1);
    }
    if (pid == 0) {
      setenv(trace::kTraceEnv, output->c_str(), 1);
      setenv(trace::kTraceFramesEnv, std::to_string(*frames).c_str(), 1);
      setenv(trace::kTraceNativeFramesEnv, std::to_string(*native_frames).c_str(), 1);
      execvp(args[0], args.data());
      fmt::print(stderr, "ouro: cannot run {}: {}\n", argv->front(), std::strerror(errno));
      _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code == 127 || !std::filesystem::exists(*output)) {
      fmt::print(stderr,
                 "ouro: no capture was written ({} exited with {}; is it linked with ouro?)\n",
                 argv->front(), code);
      exit_with(code == 0 ? 1 : code);
    }
    const trace::Capture capture = load_capture(*output);
    const trace::Snapshot peak = snapshot_or_exit(capture, trace::SnapshotKind::kPeak);
    fmt::print("ouro trace: {} exited with {}; capture in {}\n", argv->front(), code, *output);
    fmt::print("peak traced memory: {} ({} B)\n",
               trace::format_size(double(peak.total_size()), false), peak.total_size());
    print_top(peak, *top, "Top lines at the peak");
    if (code != 0) exit_with(code);
  });
}

void add_top(CLI::App& trace) {
  auto* cmd = trace.add_subcommand("top", "tracemalloc statistics at the peak and at the end");
  auto file = std::make_shared<std::string>();
  auto top = std::make_shared<TopOptions>();
  cmd->add_option("CAPTURE", *file, "The capture file")->required();
  top->add_to(cmd);
  cmd->callback([file, top] {
    const trace::Capture capture = load_capture(*file);
    print_top(snapshot_or_exit(capture, trace::SnapshotKind::kPeak), *top, "At the peak");
    fmt::print("\n");
    print_top(snapshot_or_exit(capture, trace::SnapshotKind::kEnd), *top, "At the end");
  });
}

void add_diff(CLI::App& trace) {
  auto* cmd =
      trace.add_subcommand("diff", "Differences between two captures (Snapshot.compare_to)");
  auto old_file = std::make_shared<std::string>();
  auto new_file = std::make_shared<std::string>();
  auto top = std::make_shared<TopOptions>();
  auto peak = std::make_shared<bool>(false);
  cmd->add_option("OLD", *old_file, "The older capture")->required();
  cmd->add_option("NEW", *new_file, "The newer capture")->required();
  cmd->add_flag("--peak", *peak, "Compare the peak snapshots instead of the final ones");
  top->add_to(cmd);
  cmd->callback([old_file, new_file, top, peak] {
    const auto kind = *peak ? trace::SnapshotKind::kPeak : trace::SnapshotKind::kEnd;
    const trace::Snapshot older = snapshot_or_exit(load_capture(*old_file), kind);
    const trace::Snapshot newer = snapshot_or_exit(load_capture(*new_file), kind);
    std::vector<trace::StatisticDiff> diffs;
    try {
      diffs = newer.compare_to(older, trace::parse_key_type(top->by), top->cumulative);
    } catch (const std::invalid_argument& e) {
      throw CLI::ValidationError("--cumulative", e.what());
    }
    for (std::size_t i = 0; i < diffs.size() && i < top->limit; ++i) {
      fmt::print("#{}: {}\n", i + 1, diffs[i].str());
    }
  });
}

void add_lines(CLI::App& trace) {
  auto* cmd = trace.add_subcommand("lines", "The per-line tables of the profiled scopes");
  auto file = std::make_shared<std::string>();
  auto dirs = std::make_shared<std::vector<std::string>>();
  cmd->add_option("CAPTURE", *file, "The capture file")->required();
  cmd->add_option("--source-dir", *dirs, "Where to find sources named by relative paths");
  cmd->callback([file, dirs] {
    const trace::Capture capture = load_capture(*file);
    std::vector<std::string> search = *dirs;
    search.push_back(std::filesystem::current_path().string());
    std::size_t shown = 0;
    for (const auto& [id, heap] : capture.heaps) {
      for (const auto& scope : heap.scopes) {
        if (shown++ != 0) fmt::print("\n");
        fmt::print("{}", trace::format_line_table(scope, search));
      }
    }
    if (shown == 0) fmt::print("no profiled scopes in {}\n", *file);
  });
}

void add_report(CLI::App& trace) {
  auto* cmd = trace.add_subcommand("report", "One self-contained HTML report of a capture");
  auto file = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  auto dirs = std::make_shared<std::vector<std::string>>();
  cmd->add_option("CAPTURE", *file, "The capture file")->required();
  cmd->add_option("-o,--output", *output, "The HTML file to write")->required();
  cmd->add_option("--source-dir", *dirs, "Where to find sources named by relative paths");
  cmd->callback([file, output, dirs] {
    const trace::Capture capture = load_capture(*file);
    trace::ReportOptions options;
    options.source_dirs = *dirs;
    options.source_dirs.push_back(std::filesystem::current_path().string());
    options.title = fmt::format("ouro memory report: {}", capture.command_line);
    const std::string html = trace::render_report(capture, options);
    std::ofstream out(*output, std::ios::binary);
    out << html;
    if (!out) {
      fmt::print(stderr, "ouro: cannot write {}: {}\n", *output, std::strerror(errno));
      exit_with(1);
    }
    fmt::print("ouro trace: report written to {} ({} bytes)\n", *output, html.size());
  });
}

}  // namespace

void add_trace_command(CLI::App& app) {
  auto* trace = app.add_subcommand("trace", "Memory tracing: run, top, diff, lines, report");
  trace->require_subcommand(1);
  add_run(*trace);
  add_top(*trace);
  add_diff(*trace);
  add_lines(*trace);
  add_report(*trace);
}

void add_pickle_trace_option(CLI::App& app) {
  // `ouro pickle stats FILE --trace capture.ouro`: the option sets OURO_TRACE while the
  // command line is parsed, before the stats command makes its heap, so that heap is traced
  // and its capture written when it dies (the memory perspective of loading, as a capture).
  CLI::App* stats = app.get_subcommand("pickle")->get_subcommand("stats");
  stats->add_option_function<std::string>(
      "--trace", [](const std::string& path) { setenv(trace::kTraceEnv, path.c_str(), 1); },
      "Trace the load into this capture file (see ouro trace)");
}

}  // namespace ouro::cli
