// Snapshot statistics, comparison and filters, with tracemalloc's semantics and its exact
// text (Lib/tracemalloc.py 3.11 is the reference; tests/trace compare with python3).
#include "ouro/trace/snapshot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include "ouro/trace/capture.h"

namespace ouro::trace {

std::string Frame::str() const { return fmt::format("{}:{}", filename, lineno); }

std::strong_ordering operator<=>(const Frame& a, const Frame& b) noexcept {
  if (auto c = a.filename.compare(b.filename); c != 0) {
    return c < 0 ? std::strong_ordering::less : std::strong_ordering::greater;
  }
  return a.lineno <=> b.lineno;
}

std::strong_ordering operator<=>(const Traceback& a, const Traceback& b) noexcept {
  // tracemalloc.Traceback keeps its frames oldest first and compares those tuples.
  return std::lexicographical_compare_three_way(a.frames.rbegin(), a.frames.rend(),
                                                b.frames.rbegin(), b.frames.rend());
}

std::string Traceback::str() const {
  // tracemalloc 3.11 prints Traceback[0], which is the *oldest* frame (its frames are kept
  // oldest first); with one frame, the usual case, that is the allocating line.
  return frames.empty() ? std::string("<unknown>:0") : frames.back().str();
}

namespace {

/// linecache.getline for Traceback::format: the line's text, or empty.
std::string source_line(const std::string& file, std::uint32_t lineno) {
  std::ifstream in(file);
  std::string line;
  for (std::uint32_t n = 1; n <= lineno && std::getline(in, line); ++n) {
    if (n == lineno) return line;
  }
  return {};
}

std::string strip(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r\n\f\v");
  if (begin == std::string::npos) return {};
  const auto end = s.find_last_not_of(" \t\r\n\f\v");
  return s.substr(begin, end - begin + 1);
}

}  // namespace

std::vector<std::string> Traceback::format(std::optional<int> limit, bool most_recent_first) const {
  // Oldest first, as tracemalloc's Python-side Traceback.
  std::vector<const Frame*> oldest_first;
  for (auto it = frames.rbegin(); it != frames.rend(); ++it) oldest_first.push_back(&*it);
  std::vector<const Frame*> slice = oldest_first;
  if (limit) {
    const auto n = static_cast<std::ptrdiff_t>(oldest_first.size());
    if (*limit > 0) {
      slice.assign(oldest_first.end() - std::min<std::ptrdiff_t>(*limit, n), oldest_first.end());
    } else {
      slice.assign(oldest_first.begin(),
                   oldest_first.begin() + std::min<std::ptrdiff_t>(-*limit, n));
    }
  }
  if (most_recent_first) std::reverse(slice.begin(), slice.end());
  std::vector<std::string> lines;
  for (const Frame* frame : slice) {
    // As Python's traceback module; tracemalloc's frames have no function (left out then).
    lines.push_back(frame->function.empty()
                        ? fmt::format("  File \"{}\", line {}", frame->filename, frame->lineno)
                        : fmt::format("  File \"{}\", line {}, in {}", frame->filename,
                                      frame->lineno, frame->function));
    if (std::string text = strip(source_line(frame->filename, frame->lineno)); !text.empty()) {
      lines.push_back("    " + text);
    }
  }
  return lines;
}

std::string format_size(double size, bool sign) {
  // tracemalloc._format_size, unit by unit: "%.1f" below 100 of a unit past bytes, "%.0f"
  // below 10 * 1024 (or in TiB). {fmt} rounds the binary value exactly, as printf does.
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  for (int i = 0; i < 5; ++i) {
    const bool last = i == 4;
    if (std::fabs(size) < 100 && i != 0) {
      return sign ? fmt::format("{:+.1f} {}", size, kUnits[i])
                  : fmt::format("{:.1f} {}", size, kUnits[i]);
    }
    if (std::fabs(size) < 10 * 1024 || last) {
      return sign ? fmt::format("{:+.0f} {}", size, kUnits[i])
                  : fmt::format("{:.0f} {}", size, kUnits[i]);
    }
    size /= 1024;
  }
  return {};  // unreachable: the TiB step always returns
}

std::string Statistic::str() const {
  std::string text = fmt::format("{}: size={}, count={}", traceback.str(),
                                 format_size(static_cast<double>(size), false), count);
  if (count != 0) {
    text +=
        ", average=" + format_size(static_cast<double>(size) / static_cast<double>(count), false);
  }
  return text;
}

std::string StatisticDiff::str() const {
  std::string text =
      fmt::format("{}: size={} ({}), count={} ({:+d})", traceback.str(),
                  format_size(static_cast<double>(size), false),
                  format_size(static_cast<double>(size_diff), true), count, count_diff);
  if (count != 0) {
    text +=
        ", average=" + format_size(static_cast<double>(size) / static_cast<double>(count), false);
  }
  return text;
}

KeyType parse_key_type(std::string_view name) {
  if (name == "lineno" || name == "line") return KeyType::kLineno;
  if (name == "filename" || name == "file") return KeyType::kFilename;
  if (name == "traceback") return KeyType::kTraceback;
  throw std::invalid_argument(
      fmt::format("unknown key_type: '{}' (expected lineno, filename "
                  "or traceback)",
                  name));
}

bool fnmatch(std::string_view name, std::string_view pattern) noexcept {
  // Iterative glob with one backtrack point per '*', as fnmatch.translate's regex behaves.
  std::size_t n = 0, p = 0, star_p = std::string_view::npos, star_n = 0;
  auto match_one = [&](std::size_t& pi, char c) -> bool {
    if (pattern[pi] == '?') {
      ++pi;
      return true;
    }
    if (pattern[pi] == '[') {
      std::size_t j = pi + 1;
      bool negate = false;
      if (j < pattern.size() && (pattern[j] == '!')) {
        negate = true;
        ++j;
      }
      std::size_t k = j;
      if (k < pattern.size() && pattern[k] == ']') ++k;
      while (k < pattern.size() && pattern[k] != ']') ++k;
      if (k >= pattern.size()) {  // no closing bracket: '[' is literal
        if (c != '[') return false;
        ++pi;
        return true;
      }
      bool found = false;
      for (std::size_t q = j; q < k; ++q) {
        if (q + 2 < k && pattern[q + 1] == '-') {
          if (pattern[q] <= c && c <= pattern[q + 2]) found = true;
          q += 2;
        } else if (pattern[q] == c) {
          found = true;
        }
      }
      pi = k + 1;
      return found != negate;
    }
    if (pattern[pi] != c) return false;
    ++pi;
    return true;
  };
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star_p = ++p;
      star_n = n;
      continue;
    }
    std::size_t pi = p;
    if (p < pattern.size() && match_one(pi, name[n])) {
      p = pi;
      ++n;
      continue;
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    n = ++star_n;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

namespace {

bool match_frame_impl(const Filter& filter, const Frame& frame) {
  if (!fnmatch(frame.filename, filter.filename_pattern)) return false;
  return !filter.lineno || frame.lineno == *filter.lineno;
}

/// tracemalloc.Filter._match_traceback: true when the filter lets the trace through.
bool filter_lets_through(const Filter& filter, const Traceback& traceback) {
  if (filter.all_frames) {
    const bool any = std::any_of(traceback.frames.begin(), traceback.frames.end(),
                                 [&](const Frame& f) { return match_frame_impl(filter, f); });
    return any ? filter.inclusive : !filter.inclusive;
  }
  if (traceback.frames.empty()) return !filter.inclusive;
  return match_frame_impl(filter, traceback.frames.front()) != !filter.inclusive;
}

using Grouped = std::map<Traceback, Statistic>;

void add_to(Grouped& grouped, Traceback key, std::uint64_t size, std::uint64_t count) {
  auto [it, inserted] = grouped.try_emplace(key);
  if (inserted) it->second.traceback = std::move(key);
  it->second.size += size;
  it->second.count += count;
}

Grouped group_by(const std::vector<Snapshot::Trace>& traces, KeyType key_type, bool cumulative) {
  if (cumulative && key_type == KeyType::kTraceback) {
    throw std::invalid_argument("cumulative mode cannot by used with key type 'traceback'");
  }
  auto key_of = [&](const Frame& frame) {
    Traceback key;
    key.frames.push_back(key_type == KeyType::kFilename ? Frame{frame.filename, 0, {}} : frame);
    key.frames.front().function = key_type == KeyType::kFilename ? "" : frame.function;
    return key;
  };
  Grouped grouped;
  for (const auto& trace : traces) {
    if (trace.traceback.frames.empty()) continue;
    if (!cumulative) {
      add_to(grouped,
             key_type == KeyType::kTraceback ? trace.traceback
                                             : key_of(trace.traceback.frames.front()),
             trace.size, trace.count);
      continue;
    }
    // Each distinct key once per trace: recursion must not charge a line twice.
    std::set<Traceback> seen;
    for (const Frame& frame : trace.traceback.frames) {
      Traceback key = key_of(frame);
      if (seen.insert(key).second) add_to(grouped, std::move(key), trace.size, trace.count);
    }
  }
  return grouped;
}

}  // namespace

Snapshot::Snapshot(std::vector<Trace> traces, int traceback_limit)
    : traces_(std::move(traces)), traceback_limit_(traceback_limit) {}

std::uint64_t Snapshot::total_size() const noexcept {
  std::uint64_t total = 0;
  for (const auto& t : traces_) total += t.size;
  return total;
}

std::uint64_t Snapshot::total_count() const noexcept {
  std::uint64_t total = 0;
  for (const auto& t : traces_) total += t.count;
  return total;
}

Snapshot Snapshot::filter_traces(std::span<const Filter> filters) const {
  std::vector<Trace> kept;
  for (const auto& trace : traces_) {
    bool include_ok = true, has_include = false;
    bool exclude_ok = true;
    bool any_include = false;
    for (const Filter& f : filters) {
      if (f.inclusive) {
        has_include = true;
        any_include = any_include || filter_lets_through(f, trace.traceback);
      } else if (!filter_lets_through(f, trace.traceback)) {
        exclude_ok = false;
      }
    }
    if (has_include) include_ok = any_include;
    if (include_ok && exclude_ok) kept.push_back(trace);
  }
  return Snapshot(std::move(kept), traceback_limit_);
}

std::vector<Statistic> Snapshot::statistics(KeyType key_type, bool cumulative) const {
  Grouped grouped = group_by(traces_, key_type, cumulative);
  std::vector<Statistic> stats;
  stats.reserve(grouped.size());
  for (auto& [key, stat] : grouped) stats.push_back(std::move(stat));
  // Statistic._sort_key = (size, count, traceback), reverse=True.
  std::stable_sort(stats.begin(), stats.end(), [](const Statistic& a, const Statistic& b) {
    if (a.size != b.size) return a.size > b.size;
    if (a.count != b.count) return a.count > b.count;
    return a.traceback > b.traceback;
  });
  return stats;
}

std::vector<StatisticDiff> Snapshot::compare_to(const Snapshot& old, KeyType key_type,
                                                bool cumulative) const {
  Grouped new_group = group_by(traces_, key_type, cumulative);
  Grouped old_group = group_by(old.traces_, key_type, cumulative);
  std::vector<StatisticDiff> diffs;
  for (auto& [key, stat] : new_group) {
    auto previous = old_group.find(key);
    StatisticDiff d{stat.traceback, stat.size, static_cast<std::int64_t>(stat.size), stat.count,
                    static_cast<std::int64_t>(stat.count)};
    if (previous != old_group.end()) {
      d.size_diff -= static_cast<std::int64_t>(previous->second.size);
      d.count_diff -= static_cast<std::int64_t>(previous->second.count);
      old_group.erase(previous);
    }
    diffs.push_back(std::move(d));
  }
  for (auto& [key, stat] : old_group) {
    diffs.push_back({stat.traceback, 0, -static_cast<std::int64_t>(stat.size), 0,
                     -static_cast<std::int64_t>(stat.count)});
  }
  // StatisticDiff._sort_key = (|size_diff|, size, |count_diff|, count, traceback), reverse.
  auto key = [](const StatisticDiff& d) {
    return std::make_tuple(std::llabs(d.size_diff), d.size, std::llabs(d.count_diff), d.count);
  };
  std::stable_sort(diffs.begin(), diffs.end(), [&](const StatisticDiff& a, const StatisticDiff& b) {
    if (key(a) != key(b)) return key(a) > key(b);
    return a.traceback > b.traceback;
  });
  return diffs;
}

void Snapshot::dump(const std::string& path) const {
  CaptureWriter writer(path);
  writer.write_run("Snapshot::dump", traceback_limit_);
  writer.write_snapshot(0, SnapshotKind::kUser, 0, *this);
  writer.flush();
}

Snapshot Snapshot::load(const std::string& path) {
  Capture capture = read_capture(path);
  for (auto& [heap, data] : capture.heaps) {
    if (!data.user.empty()) return data.user.back();
  }
  return capture.merged(SnapshotKind::kEnd);
}

}  // namespace ouro::trace
