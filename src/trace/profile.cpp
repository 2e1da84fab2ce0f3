// The per-line profiler (see ouro/trace/profile.h for the charging rule) and its table in
// memory_profiler's layout (memory_profiler.py's show_results template).
#include "ouro/trace/profile.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>

namespace ouro::trace {

LineProfiler::LineProfiler(Tracer& tracer, std::string name, ouro::SourceLocation where)
    : tracer_(tracer), first_line_(where.line()), last_line_(where.line()) {
  if (!tracer.is_tracing()) {
    throw std::logic_error("ouro::trace::LineProfiler: start the heap's tracer first");
  }
  record_.name = name.empty() ? where.function_name() : std::move(name);
  record_.file = where.file_name();
  record_.start_ns = tracer.now_ns();
  record_.start_bytes = tracer.traced_memory().current;
  outer_peak_ = tracer.scope_peak();
  tracer.mark_scope_peak();
  tracer.add_sample();
  LineRow& first = row(first_line_);
  first.mem_usage = record_.start_bytes;
  first.occurrences = 1;
}

LineProfiler::~LineProfiler() {
  if (!finished_) {
    try {
      finish(ouro::SourceLocation::current());
    } catch (...) {
      // No memory for the record: the table is lost, the program goes on.
    }
  }
}

LineRow& LineProfiler::row(std::uint32_t line) {
  auto it = std::lower_bound(record_.lines.begin(), record_.lines.end(), line,
                             [](const LineRow& r, std::uint32_t l) { return r.line < l; });
  if (it == record_.lines.end() || it->line != line) it = record_.lines.insert(it, {line, 0, 0, 0});
  return *it;
}

void LineProfiler::close_line() noexcept {
  if (open_line_ == 0) return;
  const std::uint64_t now = tracer_.traced_memory().current;
  LineRow& r = row(open_line_);
  r.increment += static_cast<std::int64_t>(now) - static_cast<std::int64_t>(open_bytes_);
  r.mem_usage = std::max(r.mem_usage, now);
  open_line_ = 0;
}

void LineProfiler::line(ouro::SourceLocation where) noexcept {
  if (finished_) return;
  try {
    close_line();
    site_.location = where;
    if (!site_pushed_) {
      site_.caller = ouro::detail::current_site_frame;
      ouro::detail::current_site_frame = &site_;
      site_pushed_ = true;
    }
    open_line_ = where.line();
    open_bytes_ = tracer_.traced_memory().current;
    ++row(open_line_).occurrences;
    last_line_ = std::max(last_line_, open_line_);
  } catch (...) {
    open_line_ = 0;  // no memory for a new row: this line goes unrecorded
  }
}

const ScopeRecord& LineProfiler::finish(ouro::SourceLocation where) {
  if (finished_) return record_;
  close_line();
  finished_ = true;
  // Scopes nest with the C++ blocks that hold them, so the chain's top is ours again here.
  if (site_pushed_ && ouro::detail::current_site_frame == &site_) {
    ouro::detail::current_site_frame = site_.caller;
  }
  if (std::string_view(where.file_name()) == record_.file) {
    last_line_ = std::max(last_line_, where.line());
  }
  record_.end_ns = tracer_.now_ns();
  record_.peak = tracer_.scope_peak();
  tracer_.set_scope_peak(std::max(outer_peak_, record_.peak));
  // Blank rows for the lines in between, so the table shows the whole scope.
  for (std::uint32_t l = first_line_; l <= last_line_; ++l) row(l);
  tracer_.add_sample();
  tracer_.add_scope(record_);
  return record_;
}

namespace {

std::string bytes_cell(std::uint64_t bytes) { return fmt::format("{} B", bytes); }

}  // namespace

std::vector<std::string> read_source_lines(const std::string& file,
                                           const std::vector<std::string>& source_dirs) {
  std::vector<std::string> candidates{file};
  if (!file.empty() && file.front() != '/') {
    std::string_view rest = file;
    while (rest.starts_with("../") || rest.starts_with("./"))
      rest.remove_prefix(rest.find('/') + 1);
    for (const auto& dir : source_dirs) candidates.push_back(dir + "/" + std::string(rest));
  }
  std::vector<std::string> lines;
  for (const auto& path : candidates) {
    std::ifstream in(path);
    if (!in) continue;
    for (std::string text; std::getline(in, text);) lines.push_back(text);
    break;
  }
  return lines;
}

std::string format_line_table(const ScopeRecord& scope,
                              const std::vector<std::string>& source_dirs) {
  const std::vector<std::string> source = read_source_lines(scope.file, source_dirs);
  // memory_profiler: '{0:>6} {1:>12} {2:>12}  {3:>10}   {4:<}', then '=' under the header.
  std::string out = fmt::format("Filename: {}\n\n", scope.file);
  const std::string header = fmt::format("{:>6} {:>12} {:>12}  {:>10}   {:<}", "Line #",
                                         "Mem usage", "Increment", "Occurrences", "Line Contents");
  out += header + "\n" + std::string(header.size(), '=') + "\n";
  for (const LineRow& r : scope.lines) {
    const std::string text = r.line >= 1 && r.line <= source.size() ? source[r.line - 1] : "";
    if (r.occurrences == 0) {
      out += fmt::format("{:>6} {:>12} {:>12}  {:>10}   {}\n", r.line, "", "", "", text);
    } else {
      out += fmt::format("{:>6} {:>12} {:>12}  {:>10}   {}\n", r.line, bytes_cell(r.mem_usage),
                         fmt::format("{} B", r.increment), r.occurrences, text);
    }
  }
  out += fmt::format("\nPeak in scope: {} (started at {}, {} net)\n", bytes_cell(scope.peak),
                     bytes_cell(scope.start_bytes), fmt::format("{:+} B", [&] {
                       std::int64_t net = 0;
                       for (const auto& r : scope.lines) net += r.increment;
                       return net;
                     }()));
  return out;
}

}  // namespace ouro::trace
