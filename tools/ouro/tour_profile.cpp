// Tour chapter: profiling line by line (scenario 4, the embedded seed program). The seed
// decorates a function with memory_profiler's @profile, makes 'sensor_data' * 10000,
// encodes it to bytes and prints sys.getsizeof of the result; here the same steps run in a
// heap carved from a static buffer, under the tracer and the per-line profiler, and the
// run's capture becomes an HTML report.
#include <fmt/format.h>

#include <array>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "ouro/trace/capture.h"
#include "ouro/trace/profile.h"
#include "ouro/trace/report.h"
#include "ouro/trace/session.h"
#include "ouro/trace/tracer.h"
#include "ouro/value/value.h"
#include "tour.h"

namespace ouro::tour {

namespace {
// The embedded system's whole memory: nothing the chapter keeps comes from anywhere else.
alignas(16) std::array<std::byte, 512 * 1024> sensor_buffer;
}  // namespace

void profile_chapter() {
  say("The seed program of the embedded-systems article profiles one function with "
      "memory_profiler's @profile: it makes 'sensor_data' * 10000, encodes it to bytes and "
      "prints sys.getsizeof of the result. memory_profiler reads the process's resident size "
      "after each line, so its figures are guesses in MiB. ouro's tracer sees every block of "
      "the heap, so the same table is exact, to the byte.");
  Heap heap({.arena_size = 64 * 1024,
             .pool_size = 4 * 1024,
             .buffer = sensor_buffer.data(),
             .buffer_size = sensor_buffer.size()});
  // Under OURO_TRACE (ouro trace run) the environment already traces this heap.
  std::optional<trace::Tracer> own;
  if (trace::Tracer::of(heap) == nullptr) own.emplace(heap).start();
  trace::Tracer& tracer = *trace::Tracer::of(heap);
  std::string sensor_text;
  for (int i = 0; i < 10000; ++i) sensor_text += "sensor_data";
  say(
      fmt::format("A heap of {} KiB carved from a static buffer, traced. (C++ builds the "
                  "repeated text in a std::string first; the Str below is the heap's copy.)",
                  sensor_buffer.size() / 1024));
  std::size_t result_size = 0;
  {
    // The profiled function, line by line: each mark shares its line with its statement.
    // clang-format off
    trace::LineProfiler prof(tracer, "process_sensor_data");
    prof.line(); Ref<Str> data = Str::make(heap, sensor_text);
    prof.line(); Ref<Bytes> processed = Bytes::make(heap, as_bytes(data->utf8()));
    prof.line(); result_size = getsizeof(Value(processed));
    prof.line(); data.reset();
    // clang-format on
    const trace::ScopeRecord& record = prof.finish();
    say("The per-line table, in memory_profiler's columns (bytes, not MiB):");
    fmt::print("{}\n", trace::format_line_table(record, {OURO_SOURCE_DIR}));
  }
  show(
      fmt::format("getsizeof(processed) = {} bytes (CPython 3.11: 110033 for the same "
                  "bytes object: 33 bytes of header, ours is the block and its payload)",
                  result_size));
  const auto [current, peak] = tracer.traced_memory();
  show(fmt::format("traced now {} B, peak {} B; the heap's own figure: {} B in use", current, peak,
                   heap.stats().bytes_in_use));

  const auto dir = std::filesystem::temp_directory_path();
  const std::string capture = (dir / "ouro-tour-profile.ouro").string();
  const std::string report = (dir / "ouro-tour-profile.html").string();
  trace::save_capture(tracer, capture);
  trace::ReportOptions options;
  options.source_dirs = {OURO_SOURCE_DIR};
  options.title = "ouro tour: process_sensor_data";
  std::ofstream(report) << trace::render_report(trace::read_capture(capture), options);
  say("The run's capture and its report, which `ouro trace report` would make from the "
      "capture: one HTML file with flame graphs, the memory plot and this table.");
  show(fmt::format("capture {} ({} bytes); report {}", capture, std::filesystem::file_size(capture),
                   report));
  say(fmt::format("Try: ouro trace lines {}   and   ouro trace report {} -o report.html", capture,
                  capture));
}

}  // namespace ouro::tour
