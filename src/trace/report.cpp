// The HTML report (see ouro/trace/report.h for the rendering choice). The page is one
// document: inline CSS, the data as base-36 number lists, and report_script.inc.
#include "ouro/trace/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "ouro/trace/profile.h"

namespace ouro::trace {

namespace {

const char* const kScript =
#include "report_script.inc"
    ;

std::string escape_html(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

/// A JSON string literal safe inside <script> ("</" cannot end the element).
std::string js_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '<') {
      out += "\\u003c";
    } else if (u < 0x20) {
      out += fmt::format("\\u{:04x}", u);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Numbers are written without separators: a number is its quotient by 36 in base 32 with
// "continuation" digits (A-Z, then !#$%&*), most significant first, then its remainder by
// 36 as a "final" digit (0-9a-z). Numbers below 36 take one character. The script's
// nums() reads them back.
constexpr char kFinalDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
constexpr char kContinuationDigits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ!#$%&*";

void put_number(std::string& out, std::uint64_t v) {
  char buf[24];
  int n = 0;
  for (std::uint64_t q = v / 36; q != 0; q /= 32) buf[n++] = kContinuationDigits[q % 32];
  while (n > 0) out += buf[--n];
  out += kFinalDigits[v % 36];
}

void put_signed_number(std::string& out, std::int64_t v) {
  put_number(out, (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
}

/// Interned strings and frames, frames sorted by file and line so they compress well.
struct Tables {
  std::map<std::string, std::uint64_t> string_ids;
  std::vector<std::string> strings;
  std::map<std::tuple<std::string, std::uint32_t, std::string>, std::uint64_t> frame_ids;

  std::uint64_t string(const std::string& s) {
    auto [it, inserted] = string_ids.try_emplace(s, strings.size());
    if (inserted) strings.push_back(s);
    return it->second;
  }
};

/// The flame graphs' tree: root -> oldest frame -> ... -> the allocating line.
struct Node {
  std::map<std::uint64_t, Node> kids;  // by frame id
  std::uint64_t values[4] = {};        // peak bytes, peak blocks, all bytes, all blocks
};

void add_traces(Node& root, Tables& tables, const Snapshot& snap, int slot) {
  for (const auto& trace : snap.traces()) {
    Node* n = &root;
    for (auto f = trace.traceback.frames.rbegin(); f != trace.traceback.frames.rend(); ++f) {
      const auto key = std::make_tuple(f->filename, f->lineno, f->function);
      auto [it, inserted] = tables.frame_ids.try_emplace(key, tables.frame_ids.size());
      n = &n->kids[it->second];
    }
    n->values[slot] += trace.size;
    n->values[slot + 1] += trace.count;
  }
}

void encode_nodes(const Node& n, std::uint64_t depth, const std::vector<std::uint64_t>& renumber,
                  std::string& out) {
  for (const auto& [frame, kid] : n.kids) {
    put_number(out, depth + 1);
    put_number(out, renumber[frame]);
    // Everything live at the peak was allocated: "all" is written as its excess over "peak".
    put_number(out, kid.values[0]);
    put_number(out, kid.values[1]);
    put_number(out, kid.values[2] - std::min(kid.values[2], kid.values[0]));
    put_number(out, kid.values[3] - std::min(kid.values[3], kid.values[1]));
    encode_nodes(kid, depth + 1, renumber, out);
  }
}

std::string statistics_table(const Snapshot& snap, std::size_t limit) {
  std::string out;
  const auto stats = snap.statistics(KeyType::kLineno);
  for (std::size_t i = 0; i < stats.size() && i < limit; ++i) {
    out += escape_html(fmt::format("#{}: {}", i + 1, stats[i].str())) + "\n";
  }
  if (stats.size() > limit) out += fmt::format("{} other lines\n", stats.size() - limit);
  return out;
}

constexpr const char* kStyle = R"CSS(
body{font:14px system-ui,sans-serif;margin:0 24px 40px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:28px;border-bottom:1px solid #ccc}
pre{background:#f6f6f6;padding:8px;overflow-x:auto;font-size:12px}
svg.flame text{font:11px monospace;pointer-events:none}svg.flame .frame{cursor:pointer}
svg.plot text{font:11px sans-serif}svg .grid{stroke:#eee}svg .memory{fill:none;stroke:#1e88e5;stroke-width:1.5}
svg .scope{fill:#fff59d;opacity:.5}#tip{position:absolute;display:none;background:#333;color:#fff;
padding:4px 8px;border-radius:3px;font:12px monospace;white-space:pre;pointer-events:none}
.summary td{padding:2px 12px 2px 0}
)CSS";

}  // namespace

std::string render_report(const Capture& capture, const ReportOptions& options) {
  Tables tables;
  Node root;
  std::optional<Snapshot> peak, end, totals;
  try {
    peak = capture.merged(SnapshotKind::kPeak);
    end = capture.merged(SnapshotKind::kEnd);
  } catch (const FormatError&) {
    // A capture cut short: the report shows the timeline and whatever else it has.
  }
  {
    std::map<Traceback, Snapshot::Trace> all;
    for (const auto& [id, heap] : capture.heaps) {
      if (!heap.totals) continue;
      for (const auto& t : heap.totals->traces()) {
        auto& into = all[t.traceback];
        into.traceback = t.traceback;
        into.size += t.size;
        into.count += t.count;
      }
    }
    std::vector<Snapshot::Trace> traces;
    for (auto& [k, t] : all) traces.push_back(std::move(t));
    totals = Snapshot(std::move(traces), capture.frames);
  }
  if (peak) add_traces(root, tables, *peak, 0);
  add_traces(root, tables, *totals, 2);

  // Frames numbered in (file, line) order; their table: file, line, function.
  // Frames numbered in (file, line) order; their table: file id and line as differences
  // from the previous frame's (zigzag), then the function's string id.
  std::vector<std::uint64_t> renumber(tables.frame_ids.size());
  std::string frames = "\"";
  {
    std::uint64_t next = 0;
    std::int64_t previous_file = 0, previous_line = 0;
    for (const auto& [key, id] : tables.frame_ids) {
      renumber[id] = next++;
      const auto file = static_cast<std::int64_t>(tables.string(std::get<0>(key)));
      const auto line = static_cast<std::int64_t>(std::get<1>(key));
      put_signed_number(frames, file - previous_file);
      put_signed_number(frames, line - previous_line);
      put_number(frames, tables.string(std::get<2>(key)));
      previous_file = file;
      previous_line = line;
    }
  }
  frames += "\"";
  std::string nodes = "\"";
  encode_nodes(root, 0, renumber, nodes);
  nodes += "\"";

  // The timeline: all heaps' bytes summed, at most 2000 points (each the highest of its
  // stretch, so the peak is never smoothed away), times in microseconds.
  std::vector<std::tuple<std::uint64_t, std::uint64_t, std::uint64_t>> events;  // t, heap, b
  std::string collections = "\"", scopes = "\"";
  std::uint64_t scope_rows = 0;
  for (const auto& [id, heap] : capture.heaps) {
    for (const auto& s : heap.samples) events.emplace_back(s.time_ns, id, s.bytes);
    for (const auto& c : heap.collections) {
      put_number(collections, c.start_ns / 1000);
      put_number(collections, c.duration_ns / 1000);
      put_number(collections, static_cast<std::uint64_t>(c.generation));
      put_number(collections, c.collected);
    }
    for (const auto& s : heap.scopes) {
      put_number(scopes, s.start_ns / 1000);
      put_number(scopes, s.end_ns / 1000);
      put_number(scopes, tables.string(s.name));
      ++scope_rows;
    }
  }
  collections += "\"";
  scopes += "\"";
  std::sort(events.begin(), events.end());
  std::map<std::uint64_t, std::uint64_t> per_heap;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> points;
  std::uint64_t sum = 0, observed_peak = 0;
  for (const auto& [t, heap, bytes] : events) {
    sum = sum - per_heap[heap] + bytes;
    per_heap[heap] = bytes;
    points.emplace_back(t / 1000, sum);
    observed_peak = std::max(observed_peak, sum);
  }
  std::string samples = "\"";
  const std::size_t stride = std::max<std::size_t>(1, (points.size() + 1999) / 2000);
  for (std::size_t i = 0; i < points.size(); i += stride) {
    std::size_t best = i;
    for (std::size_t j = i; j < std::min(points.size(), i + stride); ++j) {
      if (points[j].second > points[best].second) best = j;
    }
    put_number(samples, points[best].first);
    put_number(samples, points[best].second);
  }
  samples += "\"";

  std::string strings = "[";
  for (std::size_t i = 0; i < tables.strings.size(); ++i) {
    strings += (i ? "," : "") + js_string(tables.strings[i]);
  }
  strings += "]";

  std::string html;
  html += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" +
          escape_html(options.title) + "</title>\n<style>" + kStyle + "</style></head>\n<body>\n";
  html += "<h1>" + escape_html(options.title) + "</h1>\n<table class=\"summary\">";
  html += fmt::format("<tr><td>peak traced memory</td><td>{}</td></tr>",
                      peak ? escape_html(fmt::format("{} ({} B in {} blocks)",
                                                     format_size(double(peak->total_size()), false),
                                                     peak->total_size(), peak->total_count()))
                           : "unknown (no peak snapshot)");
  if (end) {
    html +=
        fmt::format("<tr><td>at the end</td><td>{} in {} blocks</td></tr>",
                    escape_html(format_size(double(end->total_size()), false)), end->total_count());
  }
  html +=
      fmt::format("<tr><td>allocations</td><td>{} ({} in total)</td></tr>", totals->total_count(),
                  escape_html(format_size(double(totals->total_size()), false)));
  html += fmt::format(
      "<tr><td>frames per "
      "allocation</td><td>{}</td></tr><tr><td>heaps</td><td>{}</td></tr></table>\n",
      capture.frames, capture.heaps.size());
  html +=
      "<h2>Flame graphs</h2>\n<p>Click a frame to zoom, the bottom bar to zoom out; hover for "
      "bytes and blocks. <input id=\"search\" placeholder=\"search frames\"> <button "
      "id=\"reset\">reset zoom</button> <span id=\"matched\"></span></p>\n"
      "<h3>Memory held at the peak</h3><div id=\"flame-peak\" data-flame=\"peak\"></div>\n"
      "<h3>All allocations</h3><div id=\"flame-all\" data-flame=\"all\"></div>\n";
  html += fmt::format(
      "<h2>Memory over time</h2>\n<p>Traced bytes in use; marks at the bottom are the "
      "collector's collections (green, orange, red: generations 0, 1, 2), yellow bands the "
      "profiled scopes ({}). Highest point: {}.</p>\n<div id=\"plot\" data-plot=\"1\"></div>\n",
      scope_rows, escape_html(format_size(double(observed_peak), false)));
  if (peak) {
    html += "<h2>Top lines at the peak</h2>\n<pre>" + statistics_table(*peak, options.top_lines) +
            "</pre>\n";
  }
  if (end) {
    html += "<h2>Top lines at the end</h2>\n<pre>" + statistics_table(*end, options.top_lines) +
            "</pre>\n";
  }
  html += "<h2>Profiled scopes</h2>\n";
  bool any_scope = false;
  for (const auto& [id, heap] : capture.heaps) {
    for (const auto& s : heap.scopes) {
      any_scope = true;
      html += "<h3>" + escape_html(s.name) + "</h3><pre>" +
              escape_html(format_line_table(s, options.source_dirs)) + "</pre>\n";
    }
  }
  if (!any_scope) html += "<p>None.</p>\n";
  html += "<h2>Leak chains</h2>\n";
  bool any_leak = false;
  for (const auto& [id, heap] : capture.heaps) {
    for (const auto& leak : heap.leaks) {
      any_leak = true;
      std::string chain;
      for (const auto& step : leak.steps) {
        chain += (chain.empty() ? "" : " → ") + fmt::format("{} ({} B)", step.type, step.bytes);
      }
      html += "<p>" + escape_html(chain.empty() ? "(nothing keeps it alive)" : chain) +
              escape_html(fmt::format("; retained: {} B", leak.retained_bytes)) + "</p>\n";
    }
  }
  if (!any_leak) html += "<p>None recorded.</p>\n";
  html += "<div id=\"tip\"></div>\n<script>\nconst DATA = {strings:" + strings +
          ",frames:" + frames + ",nodes:" + nodes + ",samples:" + samples +
          ",collections:" + collections + ",scopes:" + scopes + "};\n" + kScript +
          "</script>\n</body></html>\n";
  return html;
}

}  // namespace ouro::trace
