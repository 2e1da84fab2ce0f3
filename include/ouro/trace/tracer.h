// ouro::trace::Tracer: tracemalloc for one heap. It observes every allocation and free of
// the heap through the allocator's one observer (ouro/alloc/allocator.h), records for each
// live block where it came from (the user's source line, see ouro/core/site.h, up to N
// entry-point frames) and its size, and keeps the traced memory, its peak, the per-line
// totals at the peak, and a timeline of bytes in use and collections.
//
// Metadata per live block: small blocks (pooled) get an 8-byte slot (32-bit traceback id,
// 32-bit size) in an array per pool indexed by the block's number, so neighbouring blocks
// share cache lines (8 bytes per block of a full pool; the array goes when the pool has no
// traced block left). Large blocks get a 16-byte slot (address, id, size) in an
// open-addressing table kept between half and three quarters full while it grows (at most
// 32 bytes each). Tracebacks are interned once per distinct site.
//
// The tracer's own memory comes from the C library (malloc), not from the traced heap, and
// is reported by tracer_memory() (tracemalloc.get_tracemalloc_memory). Why: tracing must not
// change what it measures (the heap's bytes in use, its limit, a static buffer's room) and
// must not call the heap's allocator from inside the allocator's callback.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "ouro/alloc/allocator.h"
#include "ouro/core/gc.h"
#include "ouro/core/heap.h"
#include "ouro/core/object.h"
#include "ouro/trace/capture.h"
#include "ouro/trace/snapshot.h"

namespace ouro::trace {

/// Bytes traced now and at the peak (tracemalloc.get_traced_memory()).
struct TracedMemory {
  std::uint64_t current = 0;
  std::uint64_t peak = 0;
};

/// Most frames a traceback may keep (tracemalloc's limit is 65535; entry-point chains are
/// short, and the per-allocation walk is bounded by this).
inline constexpr int kMaxFrames = 64;

/// Traces one heap's allocations. One tracer per heap at a time (the heap has one observer).
/// Destroy it before its heap.
///
///     ouro::Heap heap;
///     ouro::trace::Tracer tracer(heap);
///     tracer.start();
///     { ouro::HeapScope s(heap); auto node = ouro::make<Node>(); }   // attributed to this line
///     auto [current, peak] = tracer.traced_memory();
///     for (auto& stat : tracer.take_snapshot().statistics(ouro::trace::KeyType::kLineno))
///       std::puts(stat.str().c_str());
class Tracer final : private AllocationObserver {
 public:
  explicit Tracer(Heap& heap);
  ~Tracer();
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  /// Starts tracing (tracemalloc.start(nframe)); again while tracing changes the frame limits
  /// for new allocations. `frames` entry points (the user's source lines) are kept per
  /// allocation, then up to `native_frames` C++ frames outside ouro (function names and
  /// file:line, unwound at the allocation and symbolized when a traceback is read; 0: none,
  /// the cheap default). Throws std::invalid_argument for frames outside 1..kMaxFrames or
  /// native_frames outside 0..kMaxFrames, and std::logic_error if the heap already has
  /// another observer.
  ///
  ///     tracer.start(1, 8);   // the user's line, then up to 8 native callers
  void start(int frames = 1, int native_frames = 0);
  /// Stops tracing and forgets every trace, as tracemalloc.stop() does (take the snapshots
  /// you want first).
  void stop() noexcept;
  bool is_tracing() const noexcept { return tracing_; }
  int traceback_limit() const noexcept { return frames_; }
  int native_frames() const noexcept { return native_frames_; }
  Heap& heap() const noexcept { return heap_; }

  /// Traced bytes now and at the peak since start or reset_peak().
  TracedMemory traced_memory() const noexcept { return {current_, peak_}; }
  /// Sets the peak to the current traced memory (tracemalloc.reset_peak()).
  void reset_peak() noexcept;
  /// Forgets every trace, the peak and the totals (tracemalloc.clear_traces()).
  void clear_traces() noexcept;
  /// Bytes the tracer itself holds (tracemalloc.get_tracemalloc_memory()).
  std::uint64_t tracer_memory() const noexcept;
  /// Bytes of the per-block tables alone, and the live blocks in them (the 32-byte bound).
  std::uint64_t trace_table_bytes() const noexcept;
  std::uint64_t traced_blocks() const noexcept;

  /// Where the block behind an object was allocated, or nullopt if it was not traced.
  /// Works for every object, containers included (tracemalloc 3.11 returns None for them).
  std::optional<Traceback> get_object_traceback(const Object& object) const;
  /// The same for a raw block returned by heap.allocate().
  std::optional<Traceback> get_traceback(const void* block) const;

  /// The live traced blocks now (tracemalloc.take_snapshot()).
  Snapshot take_snapshot() const;
  /// The live traced blocks at the peak of traced memory, exactly, grouped per traceback.
  Snapshot peak_snapshot() const;
  /// Every allocation since start or clear_traces(), freed or not: bytes and blocks.
  Snapshot totals_snapshot() const;

  /// The memory-over-time samples and collections seen while tracing (oldest first).
  const std::vector<Sample>& samples() const noexcept { return samples_; }
  const std::vector<CollectionEvent>& collections() const noexcept { return collections_; }
  /// Adds a sample now (scope boundaries and collections add one themselves).
  void add_sample() noexcept;
  /// Nanoseconds since the process's first tracer started (the timelines' common clock).
  std::uint64_t now_ns() const noexcept;

  /// Streams the timeline (samples, collections) to `writer` as it is recorded, under the
  /// heap number `heap_id`; nullptr stops streaming. Samples are then not kept in memory.
  void stream_to(CaptureWriter* writer, std::uint64_t heap_id) noexcept;
  CaptureWriter* stream() const noexcept { return writer_; }
  std::uint64_t stream_heap_id() const noexcept { return heap_id_; }

  /// Highest traced memory since the last mark_scope_peak() (the per-line profiler's "peak
  /// in scope", kept apart from the tracemalloc peak so a profiled scope does not reset it).
  std::uint64_t scope_peak() const noexcept { return scope_peak_; }
  void mark_scope_peak() noexcept { scope_peak_ = current_; }

  /// Restores an enclosing scope's peak after a nested one (see LineProfiler).
  void set_scope_peak(std::uint64_t peak) noexcept { scope_peak_ = peak; }
  /// Profiled scopes that ended while tracing (kept here unless streamed to a capture).
  const std::vector<ScopeRecord>& scopes() const noexcept { return scopes_; }
  /// Records a finished profiled scope (LineProfiler calls it).
  void add_scope(ScopeRecord scope);

  /// Records a leak chain (leaks.h's describe_leak) for the capture and the report.
  void add_leak(LeakRecord leak);
  const std::vector<LeakRecord>& leaks() const noexcept { return leaks_; }

  /// The tracer attached to `heap`, if any.
  static Tracer* of(const Heap& heap) noexcept;

  struct Impl;  // the tables (src/trace/tracer.cpp)

 private:
  void on_allocate(void* block, std::size_t size) noexcept override;
  void on_deallocate(void* block, std::size_t size) noexcept override;
  [[gnu::noinline]] void on_allocate_slow(void* block, std::size_t size) noexcept;
  [[gnu::noinline]] void on_deallocate_slow(void* block, std::size_t size) noexcept;
  [[gnu::noinline]] void on_sample_slow() noexcept;
  void count_allocation(std::uint32_t site, std::uint64_t size) noexcept;
  void count_free(std::uint32_t site, std::uint64_t size) noexcept;
  bool outside_sample_window() const noexcept;
  void set_sample_window() noexcept;
  void sample_if_moved() noexcept;
  /// How far the traced total moves between two timeline samples at a given peak.
  static std::uint64_t sample_step_for(std::uint64_t peak) noexcept {
    return peak / 256 > 1024 ? peak / 256 : 1024;
  }
  void record_collection(const std::string& phase, const gc::CollectionInfo& info) noexcept;
  Snapshot snapshot_of(int which) const;

  Heap& heap_;
  std::unique_ptr<Impl> impl_;
  bool tracing_ = false;
  bool in_callback_ = false;  // re-entry guard: the tracer's own work is never traced
  int frames_ = 1;
  int native_frames_ = 0;
  std::uint64_t current_ = 0;
  std::uint64_t peak_ = 0;
  std::uint64_t scope_peak_ = 0;

  std::uint64_t event_ = 0;       // changes counted, the clock of the lazy peak table
  std::uint64_t peak_event_ = 0;  // event_ at which the peak was last reached
  std::uint64_t last_sample_bytes_ = 0;
  // Totals from sample_low_ to sample_low_ + sample_width_ - 1 need no new sample (see
  // outside_sample_window).
  std::uint64_t sample_low_ = 1 - sample_step_for(0);
  std::uint64_t sample_width_ = 2 * sample_step_for(0) - 1;
  std::uint64_t start_ns_ = 0;
  std::vector<Sample> samples_;
  std::vector<CollectionEvent> collections_;
  std::vector<ScopeRecord> scopes_;
  std::vector<LeakRecord> leaks_;
  std::uint64_t collection_start_ns_ = 0;
  std::optional<gc::CallbackHandle> gc_callback_;  // our entry in the heap's gc.callbacks
  CaptureWriter* writer_ = nullptr;
  std::uint64_t heap_id_ = 0;
};

/// The traceback of the block behind `object` from its heap's tracer, or nullopt when the
/// heap is not traced or the object was created before tracing started.
std::optional<Traceback> get_object_traceback(const Object& object);

}  // namespace ouro::trace
