// The HTML report of a capture: one self-contained file (no network, no CDN) with flame
// graphs of the memory held at the peak and of all allocations (zoom, search, hover), the
// memory-over-time plot with the collector's events and profiled scopes, the top lines,
// the profiled scopes' tables and leak chains.
//
// Rendering: the data is embedded compactly (base-36 numbers, interned names, frames in
// depth-first order) and drawn as SVG by a small hand-written script in the page. Why not
// pre-rendered SVG: 10,000 stacks would be megabytes of markup; why not a vendored library
// (d3-flame-graph and d3 are ~100 KB minified before any data): the script that draws,
// zooms and searches a flame graph is a few kilobytes, has no dependencies to audit, and
// the report stays far under 300 KB for 10,000 distinct stacks.
#pragma once

#include <string>
#include <vector>

#include "ouro/trace/capture.h"

namespace ouro::trace {

struct ReportOptions {
  std::string title = "ouro memory report";
  std::size_t top_lines = 30;            ///< rows in the top-lines tables
  std::vector<std::string> source_dirs;  ///< where the profiled tables' sources are found
};

/// The report as one HTML document.
std::string render_report(const Capture& capture, const ReportOptions& options = {});

}  // namespace ouro::trace
