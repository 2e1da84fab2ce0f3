// Capture files: what a traced run leaves behind (`OURO_TRACE=run.ouro`, `ouro trace run`,
// Snapshot::dump), written as the run goes so a long run holds none of it in memory, and
// read back by `ouro trace top|diff|lines|report`.
//
// Format (version 1, little-endian, documented in docs/profiling.md):
//   magic "OUROTRC\0" (8 bytes), u16 version, u16 flags (0), then records until the end:
//   u8 kind, varint payload length, payload. Unknown kinds are skipped (newer writers may
//   add some); a record running past the end of the file is a truncated capture.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "ouro/trace/snapshot.h"

namespace ouro::trace {

/// A capture file that cannot be read: names the file, the byte offset and what is wrong.
class FormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr std::uint16_t kCaptureVersion = 1;

/// Record kinds of a capture (the u8 before each record).
enum class RecordKind : std::uint8_t {
  kString = 1,      // id, bytes
  kFrame = 2,       // id, file string, line, function string
  kTraceback = 3,   // id, n, n frame ids (most recent first)
  kSample = 4,      // heap, time ns, bytes in use
  kCollection = 5,  // heap, start ns, duration ns, generation, collected, uncollectable
  kScope = 6,       // heap, name, file, start ns, end ns, peak, start bytes, lines
  kSnapshot = 7,    // heap, which, time ns, traceback limit, n (traceback, size, count)
  kTotals = 8,      // heap, n (traceback, bytes allocated ever, blocks allocated ever)
  kLeak = 9,        // heap, retained bytes, n steps (type, bytes, edge)
  kRun = 10,        // command line, frames per allocation
};

/// Which moment a snapshot record describes.
enum class SnapshotKind : std::uint8_t { kEnd = 0, kPeak = 1, kUser = 2 };

/// One point of the memory-over-time plot.
struct Sample {
  std::uint64_t time_ns = 0;  ///< since the process's first tracer started
  std::uint64_t bytes = 0;    ///< traced bytes in use
};

/// One collection of the cycle collector, as the timeline shows it.
struct CollectionEvent {
  std::uint64_t start_ns = 0;
  std::uint64_t duration_ns = 0;
  int generation = 0;
  std::uint64_t collected = 0;
  std::uint64_t uncollectable = 0;
};

/// One row of a profiled scope's per-line table (memory_profiler's columns).
struct LineRow {
  std::uint32_t line = 0;
  std::uint64_t mem_usage = 0;  ///< highest traced bytes seen right after the line ran
  std::int64_t increment = 0;   ///< net bytes the line's runs added (sum over occurrences)
  std::uint64_t occurrences = 0;
};

/// A profiled scope: where, when, and its per-line rows.
struct ScopeRecord {
  std::string name;
  std::string file;
  std::uint64_t start_ns = 0;
  std::uint64_t end_ns = 0;
  std::uint64_t peak = 0;         ///< highest traced bytes inside the scope
  std::uint64_t start_bytes = 0;  ///< traced bytes when the scope began
  std::vector<LineRow> lines;     ///< by line number
};

/// A chain of references keeping an object alive, from an object referenced from outside
/// the heap (a root) to the object (see leaks.h).
struct LeakRecord {
  struct Step {
    std::string type;
    std::uint64_t bytes = 0;
  };
  std::uint64_t retained_bytes = 0;
  std::vector<Step> steps;  ///< root first, the object last
};

/// Everything one heap left in a capture.
struct HeapCapture {
  std::vector<Sample> samples;
  std::vector<CollectionEvent> collections;
  std::vector<ScopeRecord> scopes;
  std::vector<LeakRecord> leaks;
  std::optional<Snapshot> end;     ///< live blocks when the capture ended
  std::optional<Snapshot> peak;    ///< live blocks at the traced peak
  std::vector<Snapshot> user;      ///< snapshots written on request
  std::optional<Snapshot> totals;  ///< every allocation ever made (sizes and counts)
};

/// A whole capture file, read back.
struct Capture {
  std::string command_line;
  int frames = 1;
  std::map<std::uint64_t, HeapCapture> heaps;  ///< by the writer's heap number

  /// One snapshot over all heaps: the end (or peak) snapshots merged. Throws FormatError
  /// if the capture has none (a run that died before writing it).
  Snapshot merged(SnapshotKind kind) const;
};

/// Reads a capture file. `progress(done, total)` is called now and then for big files.
/// Throws FormatError (bad magic, unsupported version, truncated or malformed record).
Capture read_capture(const std::string& path,
                     const std::function<void(std::uint64_t, std::uint64_t)>& progress = {});

/// Streams records to a capture file. Interns strings, frames and tracebacks so each is
/// written once. Buffered with the C library (not the traced heap).
class CaptureWriter {
 public:
  /// Creates or truncates `path` and writes the header. Throws std::runtime_error if the
  /// file cannot be opened, naming it and the reason.
  explicit CaptureWriter(const std::string& path);
  ~CaptureWriter();
  CaptureWriter(const CaptureWriter&) = delete;
  CaptureWriter& operator=(const CaptureWriter&) = delete;

  void write_run(const std::string& command_line, int frames);
  void write_sample(std::uint64_t heap, const Sample& sample);
  void write_collection(std::uint64_t heap, const CollectionEvent& event);
  void write_scope(std::uint64_t heap, const ScopeRecord& scope);
  void write_leak(std::uint64_t heap, const LeakRecord& leak);
  void write_snapshot(std::uint64_t heap, SnapshotKind kind, std::uint64_t time_ns,
                      const Snapshot& snapshot);
  /// Every allocation ever made, per traceback (for the "all allocations" flame graph).
  void write_totals(std::uint64_t heap, const Snapshot& totals);
  /// Flushes the C library's buffer; throws std::runtime_error on a write error.
  void flush();
  const std::string& path() const noexcept { return path_; }

 private:
  std::uint64_t intern_string(const std::string& s);
  std::uint64_t intern_traceback(const Traceback& traceback);
  void write_record(RecordKind kind, const std::string& payload);
  /// Appends a snapshot's traces (count, then traceback id, bytes, blocks per trace).
  void put_traces(std::string& payload, const Snapshot& snapshot);

  std::string path_;
  std::FILE* file_ = nullptr;
  std::unordered_map<std::string, std::uint64_t> strings_;
  std::map<std::pair<std::uint64_t, std::pair<std::uint32_t, std::uint64_t>>, std::uint64_t>
      frames_;
  std::map<std::vector<std::uint64_t>, std::uint64_t> tracebacks_;
};

}  // namespace ouro::trace
