// The per-line profiler: memory_profiler's `@profile` table for a C++ scope, measured in
// exact traced bytes rather than guessed from the process's resident size.
//
// C++ has no line events, so the scope marks its lines: `prof.line();` at the start of a
// line records the caller's line (ouro::SourceLocation) and closes the previous one, whose
// increment is the traced bytes that changed between the two marks. Because each change is
// charged once to the line that ran just before it, increments never double count, add up
// to the scope's net change, and a loop body's line sums its iterations (Occurrences counts
// them); an increment is negative only when the line really freed bytes.
//
// The marks are also allocation sites: between two marks, allocations that no entry point
// attributes to a line of their own are charged to the marked line (the profiler pushes
// one frame on the thread's site chain, ouro/core/site.h, for the scope's duration).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ouro/config.h"
#include "ouro/core/site.h"
#include "ouro/trace/capture.h"
#include "ouro/trace/tracer.h"

namespace ouro::trace {

/// Profiles one scope line by line. The tracer must be tracing.
///
///     ouro::trace::LineProfiler prof(tracer, "encode");
///     prof.line(); auto text = ouro::Value("sensor_data").repeat(10000);
///     prof.line(); for (int i = 0; i < 3; ++i) {
///     prof.line();   items.append(text);
///                  }
///     std::cout << ouro::trace::format_line_table(prof.finish());
class LineProfiler {
 public:
  /// Begins the scope at the caller's line. Throws std::logic_error if the tracer is off.
  explicit LineProfiler(Tracer& tracer, std::string name = {},
                        ouro::SourceLocation where = ouro::SourceLocation::current());
  /// Ends the scope if finish() was not called (the table goes to the tracer).
  ~LineProfiler();
  LineProfiler(const LineProfiler&) = delete;
  LineProfiler& operator=(const LineProfiler&) = delete;

  /// Marks the start of the caller's line (memory_profiler's line event).
  void line(ouro::SourceLocation where = ouro::SourceLocation::current()) noexcept;
  /// Ends the scope at the caller's line, hands the record to the tracer and returns it.
  const ScopeRecord& finish(ouro::SourceLocation where = ouro::SourceLocation::current());

 private:
  void close_line() noexcept;
  LineRow& row(std::uint32_t line);

  Tracer& tracer_;
  ScopeRecord record_;
  std::uint32_t first_line_;
  std::uint32_t last_line_;
  std::uint32_t open_line_ = 0;   // the line running now (0: none)
  std::uint64_t open_bytes_ = 0;  // traced bytes when it began
  std::uint64_t outer_peak_ = 0;  // an enclosing scope's peak so far
  SiteFrame site_{};              // the marked line, on the site chain once line() ran
  bool site_pushed_ = false;
  bool finished_ = false;
};

/// memory_profiler's table for a scope: "Filename:", the header
/// `Line #    Mem usage    Increment  Occurrences   Line Contents`, one row per source line
/// of the scope (text read from the file; rows without runs left blank), then the peak.
/// A relative file name (as build systems pass them) is tried as is, then, without its
/// leading "../" parts, under each of `source_dirs`.
std::string format_line_table(const ScopeRecord& scope,
                              const std::vector<std::string>& source_dirs = {});

/// The lines of a source file found as format_line_table finds it (empty if not found).
std::vector<std::string> read_source_lines(const std::string& file,
                                           const std::vector<std::string>& source_dirs = {});

}  // namespace ouro::trace
