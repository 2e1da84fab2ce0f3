// Capture files: the streaming writer and the reader (format in capture.h and
// docs/profiling.md). Integers are LEB128 varints, signed ones zigzag-encoded, so a
// typical record is a few bytes; strings, frames and tracebacks are written once and
// referred to by id.
#include "ouro/trace/capture.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace ouro::trace {

namespace {

constexpr char kMagic[8] = {'O', 'U', 'R', 'O', 'T', 'R', 'C', '\0'};

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_signed(std::string& out, std::int64_t v) {
  put_varint(out, (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
}

void put_string(std::string& out, const std::string& s) {
  put_varint(out, s.size());
  out += s;
}

/// Reads one record's payload; every read is bounds-checked against the record.
class Cursor {
 public:
  Cursor(const std::string& path, const char* data, std::size_t size, std::uint64_t offset)
      : path_(path), data_(data), size_(size), offset_(offset) {}
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= size_) fail("record ends inside a number");
      const auto byte = static_cast<unsigned char>(data_[pos_++]);
      v |= std::uint64_t{byte & 0x7fu} << shift;
      if ((byte & 0x80) == 0) return v;
    }
    fail("number longer than 64 bits");
  }
  std::int64_t signed_varint() {
    const std::uint64_t v = varint();
    return static_cast<std::int64_t>((v >> 1) ^ (~(v & 1) + 1));
  }
  std::string string() {
    const std::uint64_t n = varint();
    if (n > size_ - pos_) fail("string runs past the end of its record");
    std::string s(data_ + pos_, n);
    pos_ += n;
    return s;
  }
  std::uint8_t byte() {
    if (pos_ >= size_) fail("record too short");
    return static_cast<std::uint8_t>(data_[pos_++]);
  }
  /// A count of items each at least one byte long: bounded by what is left.
  std::uint64_t count() {
    const std::uint64_t n = varint();
    if (n > size_ - pos_) fail("item count larger than the record");
    return n;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw FormatError(fmt::format("{}: bad capture record at offset {}: {}", path_, offset_, what));
  }

 private:
  const std::string& path_;
  const char* data_;
  std::size_t size_;
  std::uint64_t offset_;
  std::size_t pos_ = 0;
};

}  // namespace

// --- writer ------------------------------------------------------------------------------

CaptureWriter::CaptureWriter(const std::string& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) {
    throw std::runtime_error(
        fmt::format("cannot write capture {}: {}", path, std::strerror(errno)));
  }
  std::string header(kMagic, sizeof kMagic);
  header.push_back(static_cast<char>(kCaptureVersion & 0xff));
  header.push_back(static_cast<char>(kCaptureVersion >> 8));
  header.push_back(0);
  header.push_back(0);
  std::fwrite(header.data(), 1, header.size(), file_);
}

CaptureWriter::~CaptureWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

void CaptureWriter::flush() {
  if (std::fflush(file_) != 0 || std::ferror(file_)) {
    throw std::runtime_error(
        fmt::format("cannot write capture {}: {}", path_, std::strerror(errno)));
  }
}

void CaptureWriter::write_record(RecordKind kind, const std::string& payload) {
  std::string head;
  head.push_back(static_cast<char>(kind));
  put_varint(head, payload.size());
  std::fwrite(head.data(), 1, head.size(), file_);
  std::fwrite(payload.data(), 1, payload.size(), file_);
}

std::uint64_t CaptureWriter::intern_string(const std::string& s) {
  auto [it, inserted] = strings_.try_emplace(s, strings_.size());
  if (inserted) {
    std::string payload;
    put_varint(payload, it->second);
    payload += s;
    write_record(RecordKind::kString, payload);
  }
  return it->second;
}

std::uint64_t CaptureWriter::intern_traceback(const Traceback& traceback) {
  std::vector<std::uint64_t> frame_ids;
  for (const Frame& frame : traceback.frames) {
    const std::uint64_t file = intern_string(frame.filename);
    const std::uint64_t function = intern_string(frame.function);
    auto [it, inserted] = frames_.try_emplace({file, {frame.lineno, function}}, frames_.size());
    if (inserted) {
      std::string payload;
      put_varint(payload, it->second);
      put_varint(payload, file);
      put_varint(payload, frame.lineno);
      put_varint(payload, function);
      write_record(RecordKind::kFrame, payload);
    }
    frame_ids.push_back(it->second);
  }
  auto [it, inserted] = tracebacks_.try_emplace(frame_ids, tracebacks_.size());
  if (inserted) {
    std::string payload;
    put_varint(payload, it->second);
    put_varint(payload, frame_ids.size());
    for (std::uint64_t id : frame_ids) put_varint(payload, id);
    write_record(RecordKind::kTraceback, payload);
  }
  return it->second;
}

namespace {

// One field of a record: an integer as a varint, a string as its length and bytes.
void put_field(std::string& out, std::uint64_t v) { put_varint(out, v); }
void put_field(std::string& out, const std::string& s) { put_string(out, s); }

/// A record's payload from its fields, in order.
template <class... Fields>
std::string fields(const Fields&... values) {
  std::string payload;
  (put_field(payload, values), ...);
  return payload;
}

}  // namespace

void CaptureWriter::write_run(const std::string& command_line, int frames) {
  write_record(RecordKind::kRun, fields(command_line, static_cast<std::uint64_t>(frames)));
}

void CaptureWriter::write_sample(std::uint64_t heap, const Sample& sample) {
  write_record(RecordKind::kSample, fields(heap, sample.time_ns, sample.bytes));
}

void CaptureWriter::write_collection(std::uint64_t heap, const CollectionEvent& event) {
  write_record(RecordKind::kCollection, fields(heap, event.start_ns, event.duration_ns,
                                               static_cast<std::uint64_t>(event.generation),
                                               event.collected, event.uncollectable));
}

void CaptureWriter::write_scope(std::uint64_t heap, const ScopeRecord& scope) {
  std::string payload = fields(heap, scope.name, scope.file, scope.start_ns, scope.end_ns,
                               scope.peak, scope.start_bytes, std::uint64_t{scope.lines.size()});
  for (const LineRow& row : scope.lines) {
    payload += fields(std::uint64_t{row.line}, row.mem_usage);
    put_signed(payload, row.increment);
    put_varint(payload, row.occurrences);
  }
  write_record(RecordKind::kScope, payload);
}

void CaptureWriter::write_leak(std::uint64_t heap, const LeakRecord& leak) {
  std::string payload = fields(heap, leak.retained_bytes, std::uint64_t{leak.steps.size()});
  for (const auto& step : leak.steps) payload += fields(step.type, step.bytes);
  write_record(RecordKind::kLeak, payload);
}

void CaptureWriter::put_traces(std::string& payload, const Snapshot& snapshot) {
  std::vector<std::uint64_t> ids;  // interned first: their records precede this one
  ids.reserve(snapshot.traces().size());
  for (const auto& trace : snapshot.traces()) ids.push_back(intern_traceback(trace.traceback));
  put_varint(payload, ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    payload += fields(ids[i], snapshot.traces()[i].size, snapshot.traces()[i].count);
  }
}

void CaptureWriter::write_snapshot(std::uint64_t heap, SnapshotKind kind, std::uint64_t time_ns,
                                   const Snapshot& snapshot) {
  std::string payload = fields(heap);
  payload.push_back(static_cast<char>(kind));
  payload += fields(time_ns, static_cast<std::uint64_t>(snapshot.traceback_limit()));
  put_traces(payload, snapshot);
  write_record(RecordKind::kSnapshot, payload);
}

void CaptureWriter::write_totals(std::uint64_t heap, const Snapshot& totals) {
  std::string payload = fields(heap);
  put_traces(payload, totals);
  write_record(RecordKind::kTotals, payload);
}

// --- reader ------------------------------------------------------------------------------

Snapshot Capture::merged(SnapshotKind kind) const {
  std::map<Traceback, Snapshot::Trace> merged;
  bool any = false;
  int limit = frames;
  for (const auto& [id, heap] : heaps) {
    const std::optional<Snapshot>& snap = kind == SnapshotKind::kPeak ? heap.peak : heap.end;
    if (!snap) continue;
    any = true;
    limit = snap->traceback_limit();
    for (const auto& trace : snap->traces()) {
      auto& into = merged[trace.traceback];
      into.traceback = trace.traceback;
      into.size += trace.size;
      into.count += trace.count;
    }
  }
  if (!any) {
    throw FormatError(
        fmt::format("the capture has no {} snapshot (did the traced program end "
                    "before writing it?)",
                    kind == SnapshotKind::kPeak ? "peak" : "final"));
  }
  std::vector<Snapshot::Trace> traces;
  for (auto& [key, trace] : merged) traces.push_back(std::move(trace));
  return Snapshot(std::move(traces), limit);
}

Capture read_capture(const std::string& path,
                     const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw FormatError(fmt::format("{}: cannot open capture: {}", path, std::strerror(errno)));
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (data.size() < 12 || std::memcmp(data.data(), kMagic, sizeof kMagic) != 0) {
    throw FormatError(fmt::format("{}: not an ouro capture (bad magic at offset 0)", path));
  }
  const unsigned version =
      static_cast<unsigned char>(data[8]) | (static_cast<unsigned char>(data[9]) << 8);
  if (version != kCaptureVersion) {
    throw FormatError(
        fmt::format("{}: capture version {} at offset 8 is not supported "
                    "(this ouro reads version {})",
                    path, version, kCaptureVersion));
  }
  Capture capture;
  std::vector<std::string> strings;
  std::vector<Frame> frames;
  std::vector<Traceback> tracebacks;
  auto at = [&](auto& table, std::uint64_t id, Cursor& cur, const char* what) -> auto& {
    if (id >= table.size()) cur.fail(fmt::format("unknown {} id {}", what, id));
    return table[id];
  };
  auto read_traces = [&](Cursor& cur) {
    std::vector<Snapshot::Trace> traces(cur.count());
    for (auto& trace : traces) {
      trace.traceback = at(tracebacks, cur.varint(), cur, "traceback");
      trace.size = cur.varint();
      trace.count = cur.varint();
    }
    return traces;
  };
  std::size_t pos = 12;
  std::uint64_t last_progress = 0;
  while (pos < data.size()) {
    const std::uint64_t record_offset = pos;
    const auto kind = static_cast<RecordKind>(static_cast<unsigned char>(data[pos++]));
    std::uint64_t length = 0;
    int shift = 0;
    for (;; shift += 7) {
      if (pos >= data.size() || shift > 63) {
        throw FormatError(
            fmt::format("{}: truncated capture: record header at offset {} is cut "
                        "off",
                        path, record_offset));
      }
      const auto byte = static_cast<unsigned char>(data[pos++]);
      length |= std::uint64_t{byte & 0x7fu} << shift;
      if ((byte & 0x80) == 0) break;
    }
    if (length > data.size() - pos) {
      throw FormatError(
          fmt::format("{}: truncated capture: record at offset {} needs {} bytes, "
                      "{} remain",
                      path, record_offset, length, data.size() - pos));
    }
    Cursor cur(path, data.data() + pos, length, record_offset);
    pos += length;
    switch (kind) {
      case RecordKind::kString: {
        const std::uint64_t id = cur.varint();
        if (id != strings.size()) cur.fail("string ids out of order");
        strings.emplace_back(data.data() + pos - length, length);
        // The id's own bytes precede the text: drop them.
        std::size_t id_bytes = 1;
        for (std::uint64_t v = id; v >= 0x80; v >>= 7) ++id_bytes;
        strings.back().erase(0, id_bytes);
        break;
      }
      case RecordKind::kFrame: {
        if (cur.varint() != frames.size()) cur.fail("frame ids out of order");
        Frame frame;
        frame.filename = at(strings, cur.varint(), cur, "string");
        frame.lineno = static_cast<std::uint32_t>(cur.varint());
        frame.function = at(strings, cur.varint(), cur, "string");
        frames.push_back(std::move(frame));
        break;
      }
      case RecordKind::kTraceback: {
        if (cur.varint() != tracebacks.size()) cur.fail("traceback ids out of order");
        Traceback tb;
        for (std::uint64_t n = cur.count(); n > 0; --n) {
          tb.frames.push_back(at(frames, cur.varint(), cur, "frame"));
        }
        tracebacks.push_back(std::move(tb));
        break;
      }
      case RecordKind::kRun:
        capture.command_line = cur.string();
        capture.frames = static_cast<int>(cur.varint());
        break;
      case RecordKind::kSample: {
        auto& heap = capture.heaps[cur.varint()];
        Sample s;
        s.time_ns = cur.varint();
        s.bytes = cur.varint();
        heap.samples.push_back(s);
        break;
      }
      case RecordKind::kCollection: {
        auto& heap = capture.heaps[cur.varint()];
        CollectionEvent e;
        e.start_ns = cur.varint();
        e.duration_ns = cur.varint();
        e.generation = static_cast<int>(cur.varint());
        e.collected = cur.varint();
        e.uncollectable = cur.varint();
        heap.collections.push_back(e);
        break;
      }
      case RecordKind::kScope: {
        auto& heap = capture.heaps[cur.varint()];
        ScopeRecord s;
        s.name = cur.string();
        s.file = cur.string();
        s.start_ns = cur.varint();
        s.end_ns = cur.varint();
        s.peak = cur.varint();
        s.start_bytes = cur.varint();
        s.lines.resize(cur.count());
        for (auto& row : s.lines) {
          row.line = static_cast<std::uint32_t>(cur.varint());
          row.mem_usage = cur.varint();
          row.increment = cur.signed_varint();
          row.occurrences = cur.varint();
        }
        heap.scopes.push_back(std::move(s));
        break;
      }
      case RecordKind::kLeak: {
        auto& heap = capture.heaps[cur.varint()];
        LeakRecord leak;
        leak.retained_bytes = cur.varint();
        leak.steps.resize(cur.count());
        for (auto& step : leak.steps) {
          step.type = cur.string();
          step.bytes = cur.varint();
        }
        heap.leaks.push_back(std::move(leak));
        break;
      }
      case RecordKind::kSnapshot: {
        auto& heap = capture.heaps[cur.varint()];
        const auto which = static_cast<SnapshotKind>(cur.byte());
        cur.varint();  // time
        const int limit = static_cast<int>(cur.varint());
        Snapshot snap(read_traces(cur), limit);
        if (which == SnapshotKind::kEnd) {
          heap.end = std::move(snap);
        } else if (which == SnapshotKind::kPeak) {
          heap.peak = std::move(snap);
        } else {
          heap.user.push_back(std::move(snap));
        }
        break;
      }
      case RecordKind::kTotals: {
        auto& heap = capture.heaps[cur.varint()];
        heap.totals = Snapshot(read_traces(cur), capture.frames);
        break;
      }
      default:
        break;  // a newer writer's record: skip it
    }
    if (progress && pos - last_progress > (std::uint64_t{16} << 20)) {
      last_progress = pos;
      progress(pos, data.size());
    }
  }
  if (progress) progress(data.size(), data.size());
  return capture;
}

}  // namespace ouro::trace
