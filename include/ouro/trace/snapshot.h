// Snapshots of a tracer's live blocks and the statistics tracemalloc computes from them:
// grouped by line, file or traceback, cumulative or not, compared with an older snapshot,
// filtered by filename patterns, printed exactly as Python's tracemalloc prints them, and
// dumped to / loaded from a compact versioned binary file (docs/profiling.md, "Files").
//
// Semantics follow Lib/tracemalloc.py (3.11) with one deliberate difference: cumulative
// statistics count a block once per distinct frame, so a recursive function's line is not
// charged twice for the same block (tracemalloc adds it once per occurrence).
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ouro/config.h"

namespace ouro::trace {

/// One frame of a traceback: a source line, and the function when known.
struct Frame {
  std::string filename;      ///< as the compiler spelled it (ouro::SourceLocation::file_name)
  std::uint32_t lineno = 0;  ///< 1-based; 0 when grouping by file
  std::string function;      ///< function name, or empty (not part of comparisons)

  /// "filename:lineno", as tracemalloc's Frame.__str__.
  std::string str() const;
  friend bool operator==(const Frame& a, const Frame& b) noexcept {
    return a.filename == b.filename && a.lineno == b.lineno;
  }
  friend std::strong_ordering operator<=>(const Frame& a, const Frame& b) noexcept;
};

/// Frames of an allocation, most recent first (the order tracemalloc's C layer keeps).
/// Compares oldest frame first, as tracemalloc.Traceback does.
struct Traceback {
  std::vector<Frame> frames;  ///< never empty: "<unknown>:0" when no line is known

  /// "filename:lineno" of the oldest frame, as tracemalloc's Traceback.__str__ prints it.
  std::string str() const;
  /// tracemalloc's Traceback.format(): '  File "f", line n' and the source line, oldest
  /// first unless most_recent_first; `limit` as there (negative: oldest frames).
  std::vector<std::string> format(std::optional<int> limit = std::nullopt,
                                  bool most_recent_first = false) const;
  friend bool operator==(const Traceback& a, const Traceback& b) noexcept {
    return a.frames == b.frames;
  }
  friend std::strong_ordering operator<=>(const Traceback& a, const Traceback& b) noexcept;
};

/// Bytes and blocks grouped under one traceback (tracemalloc.Statistic).
struct Statistic {
  Traceback traceback;
  std::uint64_t size = 0;   ///< bytes
  std::uint64_t count = 0;  ///< blocks
  /// "file:line: size=6233 KiB, count=103968, average=61 B", byte for byte tracemalloc's.
  std::string str() const;
};

/// A statistic and its change against an older snapshot (tracemalloc.StatisticDiff).
struct StatisticDiff {
  Traceback traceback;
  std::uint64_t size = 0;
  std::int64_t size_diff = 0;
  std::uint64_t count = 0;
  std::int64_t count_diff = 0;
  /// "file:line: size=1 KiB (+1 KiB), count=3 (+3), average=341 B", as tracemalloc.
  std::string str() const;
};

/// tracemalloc's _format_size: "12 B", "99.5 KiB", "+1023 MiB" (same units and rounding).
std::string format_size(double size, bool sign);

/// How statistics are grouped ('lineno', 'filename', 'traceback' in tracemalloc).
enum class KeyType { kLineno, kFilename, kTraceback };
/// Parses "lineno"/"line", "filename"/"file", "traceback"; std::invalid_argument otherwise.
KeyType parse_key_type(std::string_view name);

/// Keeps or drops blocks by the filename (fnmatch pattern) and line of their frames
/// (tracemalloc.Filter). Inclusive filters keep only matching blocks; exclusive ones drop them.
struct Filter {
  bool inclusive = true;
  std::string filename_pattern;         ///< fnmatch: *, ?, [seq], [!seq]
  std::optional<std::uint32_t> lineno;  ///< only this line, if set
  bool all_frames = false;              ///< test every frame, not only the most recent
};

/// fnmatch.fnmatch on POSIX: '*' also matches '/'.
bool fnmatch(std::string_view name, std::string_view pattern) noexcept;

/// The live blocks of a heap at one moment, grouped by traceback (blocks with the same
/// traceback are indistinguishable to every statistic, so they are stored once).
///
///     auto snap = tracer.take_snapshot();
///     for (auto& stat : snap.statistics(ouro::trace::KeyType::kLineno)) fmt::print("{}\n",
///     stat.str());
class Snapshot {
 public:
  struct Trace {
    Traceback traceback;
    std::uint64_t size = 0;   ///< bytes of all blocks with this traceback
    std::uint64_t count = 0;  ///< number of such blocks
  };

  Snapshot() = default;
  Snapshot(std::vector<Trace> traces, int traceback_limit);

  const std::vector<Trace>& traces() const noexcept { return traces_; }
  /// Frames kept per allocation when the snapshot was taken (tracemalloc's traceback_limit).
  int traceback_limit() const noexcept { return traceback_limit_; }
  std::uint64_t total_size() const noexcept;
  std::uint64_t total_count() const noexcept;

  /// A new snapshot with only the blocks the filters keep (Snapshot.filter_traces).
  Snapshot filter_traces(std::span<const Filter> filters) const;
  /// Statistics sorted biggest first. Throws std::invalid_argument for cumulative
  /// traceback statistics, as tracemalloc does.
  std::vector<Statistic> statistics(KeyType key_type, bool cumulative = false) const;
  /// Differences with an older snapshot, biggest change first (Snapshot.compare_to).
  std::vector<StatisticDiff> compare_to(const Snapshot& old, KeyType key_type,
                                        bool cumulative = false) const;

  /// Writes the snapshot as a capture file holding just this snapshot (see capture.h).
  void dump(const std::string& path) const;
  /// Reads the last snapshot of a capture file (a dump, or a run's final snapshot).
  /// Throws trace::FormatError naming the file and offset for bad or truncated files.
  static Snapshot load(const std::string& path);

 private:
  std::vector<Trace> traces_;
  int traceback_limit_ = 1;
};

}  // namespace ouro::trace
