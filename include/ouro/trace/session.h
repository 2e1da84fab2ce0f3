// Writing a tracer's results to a capture file, and OURO_TRACE: tracing any program linked
// with ouro from the environment, as PYTHONTRACEMALLOC and `memray run` do.
//
//   OURO_TRACE=run.ouro ./my_program        every heap traced, the capture written as the
//   OURO_TRACE_FRAMES=4                     run goes (timeline, scopes) and when each heap
//   OURO_TRACE_NATIVE_FRAMES=8              dies or the program exits (snapshots); 4 entry
//                                           points and 8 native frames per allocation
//
// An explicit Tracer cannot be made for a heap that OURO_TRACE already traces (one
// observer per heap); Tracer::of(heap) returns the environment's tracer instead.
#pragma once

#include <cstdint>
#include <string>

#include "ouro/trace/capture.h"
#include "ouro/trace/tracer.h"

namespace ouro::trace {

/// Writes what `tracer` holds under heap number `heap_id`: the final, peak and totals
/// snapshots, and the samples, collections and scopes it kept in memory (not those it
/// already streamed to this writer).
void write_heap_capture(const Tracer& tracer, CaptureWriter& writer, std::uint64_t heap_id);

/// Saves a tracer's results as a capture file that `ouro trace top|diff|lines|report` read.
/// Throws std::runtime_error if the file cannot be written.
///
///     tracer.start();  run();  ouro::trace::save_capture(tracer, "run.ouro");
void save_capture(const Tracer& tracer, const std::string& path);

/// Environment variables read by OURO_TRACE's hooks.
inline constexpr const char* kTraceEnv = "OURO_TRACE";
inline constexpr const char* kTraceFramesEnv = "OURO_TRACE_FRAMES";
inline constexpr const char* kTraceNativeFramesEnv = "OURO_TRACE_NATIVE_FRAMES";

}  // namespace ouro::trace
