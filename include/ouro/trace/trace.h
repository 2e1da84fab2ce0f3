// The tracing layer in one include: the tracer (tracemalloc for one heap), snapshots and
// their statistics, capture files, the per-line profiler, leak finding, OURO_TRACE and
// captures of a tracer, and the HTML report. docs/profiling.md is the guide.
#pragma once

#include "ouro/trace/capture.h"   // IWYU pragma: export
#include "ouro/trace/leaks.h"     // IWYU pragma: export
#include "ouro/trace/profile.h"   // IWYU pragma: export
#include "ouro/trace/report.h"    // IWYU pragma: export
#include "ouro/trace/session.h"   // IWYU pragma: export
#include "ouro/trace/snapshot.h"  // IWYU pragma: export
#include "ouro/trace/tracer.h"    // IWYU pragma: export
