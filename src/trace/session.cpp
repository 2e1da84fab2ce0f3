// Capture writing for a tracer, and OURO_TRACE (see ouro/trace/session.h). The environment
// hooks are installed during static initialisation into core's heap lifecycle hooks; the
// linker is told to keep this file (ouro_trace_env_anchor) although nothing calls into it.
#include "ouro/trace/session.h"

#include <fmt/format.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <vector>

extern "C" {
/// Referenced by the link options of ouro (src/CMakeLists.txt) so this file is linked.
void ouro_trace_env_anchor() {}
}

namespace ouro::trace {

void write_heap_capture(const Tracer& tracer, CaptureWriter& writer, std::uint64_t heap_id) {
  const bool streamed = tracer.stream() == &writer;
  if (!streamed) {
    for (const Sample& s : tracer.samples()) writer.write_sample(heap_id, s);
    for (const CollectionEvent& e : tracer.collections()) writer.write_collection(heap_id, e);
    for (const ScopeRecord& s : tracer.scopes()) writer.write_scope(heap_id, s);
    for (const LeakRecord& l : tracer.leaks()) writer.write_leak(heap_id, l);
  }
  writer.write_sample(heap_id, {tracer.now_ns(), tracer.traced_memory().current});
  writer.write_snapshot(heap_id, SnapshotKind::kPeak, tracer.now_ns(), tracer.peak_snapshot());
  writer.write_snapshot(heap_id, SnapshotKind::kEnd, tracer.now_ns(), tracer.take_snapshot());
  writer.write_totals(heap_id, tracer.totals_snapshot());
}

void save_capture(const Tracer& tracer, const std::string& path) {
  CaptureWriter writer(path);
  writer.write_run("save_capture", tracer.traceback_limit());
  write_heap_capture(tracer, writer, 0);
  writer.flush();
}

namespace {

/// What OURO_TRACE keeps for the process. Never destroyed: heaps with static storage may
/// die after every other static object, and their hook still needs it.
struct Environment {
  std::mutex mutex;
  std::unique_ptr<CaptureWriter> writer;
  bool failed = false;
  int frames = 1;
  int native_frames = 0;
  std::uint64_t next_heap = 0;
  struct Traced {
    Heap* heap;
    Tracer* tracer;
    std::uint64_t id;
  };
  std::vector<Traced> heaps;
};

Environment& environment() {
  static auto* env = new Environment;
  return *env;
}

/// Set once a heap is traced: until then the destruction hook returns at once, so a program
/// without OURO_TRACE makes no system allocation here (a static-buffer heap makes none).
std::atomic<bool> environment_used{false};

std::string command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!raw.empty() && raw.back() == '\0') raw.pop_back();
  for (char& c : raw) c = c == '\0' ? ' ' : c;
  return raw;
}

/// A frame count from the environment variable `name` (in lowest..kMaxFrames), or `fallback`
/// with a message on stderr when it is set to anything else.
int frame_count_from_environment(const char* name, int lowest, int fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const long n = std::strtol(text, &end, 10);
  if (*end != '\0' || n < lowest || n > kMaxFrames) {
    std::fprintf(stderr, "ouro: %s=%s: expected a frame count in %d..%d; using %d\n", name, text,
                 lowest, kMaxFrames, fallback);
    return fallback;
  }
  return static_cast<int>(n);
}

void finish(Environment::Traced& traced, Environment& env) noexcept {
  try {
    write_heap_capture(*traced.tracer, *env.writer, traced.id);
    env.writer->flush();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ouro: OURO_TRACE: %s\n", e.what());
  }
  delete traced.tracer;
}

void finish_all_at_exit() {
  Environment& env = environment();
  std::lock_guard lock(env.mutex);
  for (auto& traced : env.heaps) finish(traced, env);
  env.heaps.clear();
  env.writer.reset();  // closes the file
}

void on_heap_created(Heap& heap) noexcept {
  const char* path = std::getenv(kTraceEnv);
  if (path == nullptr || *path == '\0') return;
  environment_used.store(true);
  Environment& env = environment();
  std::lock_guard lock(env.mutex);
  if (env.failed) return;
  try {
    if (!env.writer) {
      env.frames = frame_count_from_environment(kTraceFramesEnv, 1, 1);
      env.native_frames = frame_count_from_environment(kTraceNativeFramesEnv, 0, 0);
      env.writer = std::make_unique<CaptureWriter>(path);
      env.writer->write_run(command_line(), env.frames);
      env.writer->flush();
      std::atexit(finish_all_at_exit);
    }
    auto tracer = std::make_unique<Tracer>(heap);
    tracer->start(env.frames, env.native_frames);
    tracer->stream_to(env.writer.get(), env.next_heap);
    env.heaps.push_back({&heap, tracer.release(), env.next_heap++});
  } catch (const std::exception& e) {
    env.failed = true;
    std::fprintf(stderr, "ouro: OURO_TRACE: tracing is off: %s\n", e.what());
  }
}

void on_heap_destroying(Heap& heap) noexcept {
  if (!environment_used.load()) return;
  Environment& env = environment();
  std::lock_guard lock(env.mutex);
  for (auto it = env.heaps.begin(); it != env.heaps.end(); ++it) {
    if (it->heap == &heap) {
      finish(*it, env);
      env.heaps.erase(it);
      return;
    }
  }
}

[[maybe_unused]] const bool hooks_installed = [] {
  ouro::detail::heap_lifecycle_hooks.created = &on_heap_created;
  ouro::detail::heap_lifecycle_hooks.destroying = &on_heap_destroying;
  return true;
}();

}  // namespace

}  // namespace ouro::trace
