// ouro::Heap: a private heap in the manner of CPython's obmalloc, as a class.
//
// Small requests (<= 512 bytes) are served from pools of one size class (16-byte steps),
// pools are carved from arenas, and arenas (and large blocks) come from the backing: the
// system, or a caller's static buffer. The vocabulary (block, size class, pool, arena,
// large block) is defined once in src/alloc/types.h.
//
// Invariants kept here (DESIGN.md):
//   I1  one heap, one thread: debug builds abort when another thread uses the heap.
//   I7  every byte taken from the backing counts against limit_bytes; passing it calls the
//       pressure hook once (the collector hangs a full collection there), then throws
//       MemoryError; after any failure the heap is consistent and fully usable.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <thread>

#include "ouro/config.h"
#include "ouro/detail/core_state.h"
#include "ouro/errors.h"

namespace ouro {

template <class T>
class Ref;

namespace detail {
/// Throws std::logic_error: make<T>() was called with no HeapScope active on this thread.
[[noreturn]] void throw_no_current_heap();
}  // namespace detail

/// Granularity of small blocks, and the alignment of every block the heap returns.
inline constexpr std::size_t kAlignment = 16;
/// Requests up to this many bytes are small (pooled); larger ones are large blocks.
inline constexpr std::size_t kSmallRequestLimit = 512;
/// Number of small size classes: 16, 32, ..., 512 bytes.
inline constexpr std::size_t kSizeClassCount = kSmallRequestLimit / kAlignment;

/// How a Heap is shaped and where its memory comes from.
///
///     static std::byte buffer[64 * 1024];
///     ouro::Heap heap({.arena_size = 16 * 1024, .pool_size = 1024,
///                      .buffer = buffer, .buffer_size = sizeof buffer});
struct HeapOptions {
  std::size_t arena_size = std::size_t{1} << 20;  ///< bytes per arena; a multiple of pool_size
  std::size_t pool_size = std::size_t{16} << 10;  ///< bytes per pool; a power of two >= 1 KiB
  std::size_t limit_bytes = 0;  ///< most bytes taken from the backing; 0: no limit
  void* buffer = nullptr;       ///< caller's static buffer: all memory is carved from it
  std::size_t buffer_size = 0;  ///< bytes in `buffer`
};

/// One row of the per-size-class table.
struct SizeClassStats {
  std::size_t block_size = 0;   ///< bytes per block in this class
  std::size_t pools = 0;        ///< pools currently serving this class
  std::size_t blocks_used = 0;  ///< live blocks of this class
  std::size_t blocks_free = 0;  ///< free blocks in those pools (including never-carved ones)
};

/// A snapshot of a heap's accounting. All byte counts are exact, not sampled.
struct HeapStats {
  std::size_t bytes_in_use = 0;         ///< bytes in live blocks (small: block size; large: size)
  std::size_t bytes_reserved = 0;       ///< bytes taken from the backing (what the limit counts)
  std::size_t peak_bytes_in_use = 0;    ///< highest bytes_in_use since construction/reset_peak
  std::size_t peak_bytes_reserved = 0;  ///< highest bytes_reserved since construction/reset_peak
  std::size_t limit_bytes = 0;          ///< the limit; 0: none
  std::size_t arenas = 0;               ///< arenas currently held
  std::size_t arenas_allocated = 0;     ///< arenas taken from the backing, ever
  std::size_t arenas_released = 0;      ///< arenas given back, ever
  std::size_t pools_used = 0;           ///< pools serving some size class
  std::size_t pools_free = 0;           ///< pools in held arenas that serve no class
  std::size_t pool_overhead_bytes = 0;  ///< bytes of pool and arena headers in used pools
  std::size_t large_blocks = 0;         ///< live large blocks
  std::size_t large_bytes = 0;          ///< bytes of live large blocks (payload)
  std::size_t bookkeeping_bytes = 0;    ///< bytes of the heap's own tables taken from the backing
  std::size_t allocations = 0;          ///< successful allocate() calls, ever
  std::size_t deallocations = 0;        ///< deallocate() calls, ever
  std::size_t memory_errors = 0;        ///< MemoryErrors thrown, ever
  std::size_t pressure_calls = 0;       ///< times the pressure hook ran
  std::array<SizeClassStats, kSizeClassCount> size_classes{};

  /// Free bytes inside pools that serve a size class, as a fraction of those pools' block
  /// bytes: memory the heap holds but can neither use for other sizes nor give back.
  double fragmentation() const noexcept;
  /// Fraction of reserved bytes not in live blocks (headers, free blocks, free pools).
  double overhead() const noexcept;
};

/// A private heap: allocation, statistics, limit, and the home of every managed object
/// created in it. Never a global singleton: create as many as you like, each used by one
/// thread at a time (I1). Not copyable or movable (objects point back at it).
///
///     ouro::Heap heap({.limit_bytes = 8 << 20});
///     ouro::HeapScope scope(heap);          // make<T> now allocates here
///     auto node = ouro::make<Node>(42);
///     heap.debug_mallocstats(std::cout);
class Heap {
 public:
  /// Called when an allocation would pass the limit, before MemoryError is thrown. It may
  /// free memory (e.g. run a collection); the allocation is then tried once more.
  using PressureHook = std::function<void(Heap& heap, std::size_t requested)>;

  /// Throws std::invalid_argument for inconsistent options (sizes, buffer too small).
  explicit Heap(HeapOptions options = {});
  /// Runs the object layer's shutdown (atexit finalizers, a final collection, the debug
  /// leak report), then returns every arena and large block to the backing.
  ~Heap();
  Heap(const Heap&) = delete;
  Heap& operator=(const Heap&) = delete;

  /// `n` bytes, 16-byte aligned. Throws MemoryError (limit or backing exhausted).
  [[nodiscard]] void* allocate(std::size_t n);
  /// Returns a block from allocate(n) with the same n. Debug builds abort on a double
  /// free, a foreign pointer or a size that does not match the block.
  void deallocate(void* p, std::size_t n) noexcept;
  /// Bytes the heap really spends for a request of n bytes (its size class or large size).
  static std::size_t block_size_for(std::size_t n) noexcept;

  /// Creates a managed object in this heap (see ouro/ref.h for make<T>).
  template <class T, class... Args>
  Ref<T> make(Args&&... args);

  HeapStats stats() const noexcept;
  /// Starts peak tracking afresh from the current figures.
  void reset_peak() noexcept;
  /// Prints the pools-by-size-class table, arena and large-block summary, in the manner of
  /// CPython's sys._debugmallocstats().
  void debug_mallocstats(std::ostream& out) const;
  /// Walks every arena, pool and free list and checks their invariants; aborts (through
  /// OURO_ASSERT, also in release builds of this call) on the first broken one, else true.
  bool verify() const;

  std::size_t limit_bytes() const noexcept { return limit_bytes_; }
  /// Changes the limit; lowering it below bytes_reserved only affects future growth.
  void set_limit_bytes(std::size_t limit) noexcept { limit_bytes_ = limit; }
  void set_pressure_hook(PressureHook hook) { pressure_hook_ = std::move(hook); }
  const HeapOptions& options() const noexcept { return options_; }

  /// The heap that make<T>() uses on this thread (set by HeapScope), or nullptr.
  static Heap* current() noexcept { return current_; }
  /// Makes the calling thread the heap's owner. The previous owner must no longer use it.
  void bind_to_current_thread() noexcept { owner_ = std::this_thread::get_id(); }
  /// Debug builds: aborts with a clear message if the calling thread is not the owner.
  void check_thread() const noexcept {
#if OURO_DEBUG >= 2
    if (OURO_UNLIKELY(owner_ != std::this_thread::get_id())) report_wrong_thread();
#endif
  }

  // --- for ouro's object layer (objects record only their pool shift, not their size) ---
  /// log2(pool_size); stored in each small object's header to find its pool.
  std::uint32_t pool_shift() const noexcept { return static_cast<std::uint32_t>(pool_shift_); }
  /// The heap owning a block (small when pool_shift != 0, else large).
  static Heap& owner_of_block(const void* block, std::uint32_t pool_shift) noexcept;
  /// Frees a block whose size the heap looks up itself (the pool's class or large header).
  void deallocate_block(void* block, std::uint32_t pool_shift) noexcept;
  /// Bytes the block really takes (its size class, or a large block's size).
  static std::size_t block_size_of(const void* block, std::uint32_t pool_shift) noexcept;

  /// Layer state (collector lists, trashcan, weak-reference table). Internal.
  detail::Runtime& runtime() noexcept { return runtime_; }
  const detail::Runtime& runtime() const noexcept { return runtime_; }

  // Internal structures, defined in src/alloc/types.h (opaque to users).
  struct Pool;
  struct Arena;
  struct LargeBlock;
  struct FreeChunk;

 private:
  friend class HeapScope;
  friend struct HeapInternals;

  void* allocate_small(std::size_t size_class) noexcept;
  void* allocate_large(std::size_t n) noexcept;
  void deallocate_small(void* p, std::size_t size_class) noexcept;
  void deallocate_large(void* p) noexcept;
  void return_pool_to_arena(Pool* pool) noexcept;
  Pool* take_pool(std::size_t size_class) noexcept;
  void init_pool(Pool* pool, std::size_t size_class) noexcept;
  void park_empty_pool(Pool* pool) noexcept;
  void ring_insert_front(std::size_t size_class, Pool* pool) noexcept;
  void ring_remove(std::size_t size_class, Pool* pool) noexcept;
  bool add_arena() noexcept;
  void release_arena(Arena* arena) noexcept;
  void link_usable_arena(Arena* arena) noexcept;
  void unlink_usable_arena(Arena* arena) noexcept;
  void note_pool_freed(Arena* arena) noexcept;
  bool may_reserve(std::size_t bytes) const noexcept;
  bool relieve_pressure(std::size_t requested);
  [[noreturn]] void throw_memory_error(std::size_t requested);
  enum class Chunk { kArena, kLarge, kTable };
  void* backing_reserve(std::size_t bytes, Chunk kind) noexcept;
  void backing_release(void* p, std::size_t bytes, Chunk kind) noexcept;
  void* buffer_take(std::size_t bytes, std::size_t align) noexcept;
  void buffer_give(void* p, std::size_t bytes) noexcept;
  void note_reserved(std::size_t bytes) noexcept;
  void note_in_use(std::size_t bytes) noexcept;
  Arena* find_arena(const void* p) const noexcept;
  void check_small_block(const void* p, const Pool* pool, std::size_t size_class) const noexcept;
  [[noreturn]] void report_wrong_thread() const noexcept;

  HeapOptions options_;
  std::size_t limit_bytes_;
  std::size_t pool_shift_;  // log2(pool_size): a block's pool header is at p & ~(pool_size-1)
  std::size_t pools_per_arena_;
  Pool* used_pools_[kSizeClassCount] = {};   // rings of pools with a free block, per class
  Pool* parked_pool_ = nullptr;              // one emptied pool kept back (see park_empty_pool)
  Arena* usable_arenas_ = nullptr;           // arenas with a free pool, fewest free first
  Arena** last_arena_with_nfree_ = nullptr;  // [n]: rightmost usable arena with n free pools
  Arena* all_arenas_ = nullptr;              // every held arena (for teardown, verify, stats)
  LargeBlock* large_blocks_ = nullptr;       // every live large block
  FreeChunk* buffer_free_ = nullptr;         // buffer backing: free chunks, address order
  std::size_t bookkeeping_bytes_ = 0;
  // Accounting; updated only after an operation has succeeded (strong guarantee).
  std::size_t bytes_in_use_ = 0;
  std::size_t bytes_reserved_ = 0;
  std::size_t peak_in_use_ = 0;
  std::size_t peak_reserved_ = 0;
  std::size_t arena_count_ = 0;
  std::size_t arenas_allocated_ = 0;
  std::size_t arenas_released_ = 0;
  std::size_t large_count_ = 0;
  std::size_t large_bytes_ = 0;
  std::size_t allocations_ = 0;
  std::size_t deallocations_ = 0;
  std::size_t memory_errors_ = 0;
  std::size_t pressure_calls_ = 0;
  bool in_pressure_hook_ = false;
  PressureHook pressure_hook_;
  std::thread::id owner_;
  detail::Runtime runtime_;

  static thread_local Heap* current_;
};

/// Makes `heap` the current heap of this thread for the scope's lifetime (make<T> uses it).
/// Scopes nest; the previous current heap is restored on exit.
///
///     ouro::Heap heap;
///     { ouro::HeapScope scope(heap); auto x = ouro::make<Node>(); }
class HeapScope {
 public:
  explicit HeapScope(Heap& heap) noexcept : previous_(Heap::current_) {
    heap.check_thread();
    Heap::current_ = &heap;
  }
  ~HeapScope() { Heap::current_ = previous_; }
  HeapScope(const HeapScope&) = delete;
  HeapScope& operator=(const HeapScope&) = delete;

 private:
  Heap* previous_;
};

}  // namespace ouro
