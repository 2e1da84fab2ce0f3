// ouro::Allocator: the bottom layer, a small-object allocator in the manner of CPython's
// obmalloc. It knows nothing above it: no objects, no collector, no environment, no threads.
//
// Small requests (<= 512 bytes) are served from pools of one size class (16-byte steps),
// pools are carved from arenas, and arenas (and large blocks) come from the backing: the
// system, or a caller's static buffer. The vocabulary (block, size class, pool, arena,
// large block) is defined once in src/alloc/types.h.
//
// Invariants kept here (DESIGN.md):
//   I7  every byte taken from the backing counts against limit_bytes (arenas, large blocks
//       with their headers and the allocator's own table alike); passing it calls the
//       pressure hook once, then throws MemoryError; after any failure the allocator is
//       consistent and fully usable.
//
// Users normally meet it through ouro::Heap (ouro/core/heap.h), which owns one and installs
// the collector as its pressure hook. It can also be used on its own:
//
//     ouro::Allocator alloc({.limit_bytes = 1 << 20});
//     void* p = alloc.allocate(48);
//     alloc.deallocate(p, 48);
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <iosfwd>

#include "ouro/config.h"
#include "ouro/errors.h"

namespace ouro {

/// Granularity of small blocks, and the alignment of every block the allocator returns.
inline constexpr std::size_t kAlignment = 16;
/// Requests up to this many bytes are small (pooled); larger ones are large blocks.
inline constexpr std::size_t kSmallRequestLimit = 512;
/// Number of small size classes: 16, 32, ..., 512 bytes.
inline constexpr std::size_t kSizeClassCount = kSmallRequestLimit / kAlignment;

/// How an allocator (and so a Heap) is shaped and where its memory comes from.
///
/// Arenas count against `limit_bytes` as a whole the moment they are taken, so a limit
/// below one arena (plus the allocator's table) cannot serve a single small block; a
/// buffer must hold at least one arena. The defaults adapt to a small buffer: with
/// `arena_size` and `pool_size` left at 0, a buffer below 4 MiB gets 8 KiB arenas of
/// 1 KiB pools (so `{.buffer = b, .buffer_size = sizeof b}` works for any buffer of
/// 16 KiB or more), any other heap 1 MiB arenas of 16 KiB pools.
///
///     static std::byte buffer[64 * 1024];
///     ouro::Heap heap({.buffer = buffer, .buffer_size = sizeof buffer});
struct HeapOptions {
  std::size_t arena_size = 0;   ///< bytes per arena; a multiple of pool_size (0: default)
  std::size_t pool_size = 0;    ///< bytes per pool; a power of two >= 1 KiB (0: default)
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

/// A snapshot of an allocator's accounting. All byte counts are exact, not sampled.
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
  std::size_t bookkeeping_bytes = 0;    ///< bytes of the allocator's own tables from the backing
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

/// Told of every block an allocator hands out and takes back (the tracer's one door).
/// Callbacks must not allocate from the allocator that calls them.
class AllocationObserver {
 public:
  /// `block` was just handed out for a request of `size` bytes.
  virtual void on_allocate(void* block, std::size_t size) noexcept = 0;
  /// `block` is being taken back; `size` is the request size for a sized free, the block's
  /// real size for an unsized one (free_block).
  virtual void on_deallocate(void* block, std::size_t size) noexcept = 0;

 protected:
  ~AllocationObserver() = default;
};

/// The small-object allocator. One thread at a time (its owner, e.g. a Heap, checks that).
/// Not copyable or movable (pools point back at it).
class Allocator {
 public:
  /// Called when an allocation would pass the limit (or the backing is exhausted), before
  /// MemoryError is thrown. It may free memory; the allocation is then tried once more.
  /// A plain function and a context word: the hook itself must not need the system heap.
  using PressureHook = void (*)(void* context, std::size_t requested);

  /// Throws std::invalid_argument naming the option for inconsistent options.
  explicit Allocator(HeapOptions options = {});
  /// Returns every arena and large block to the backing.
  ~Allocator();
  Allocator(const Allocator&) = delete;
  Allocator& operator=(const Allocator&) = delete;

  /// `n` bytes, 16-byte aligned. Throws MemoryError (limit or backing exhausted).
  [[nodiscard]] void* allocate(std::size_t n) {
#if OURO_DEBUG < 2  // debug builds fill and check every block: the out-of-line path
    // Inline fast path: the most recently freed block of the class, from the free cache.
    // With an observer (a tracer) the cached block is taken too, and the observer told out
    // of line: builds take most blocks from the cache (batches of never-used blocks), and
    // sending each through allocate_slow cost a traced build of 100k records 28M
    // instructions. Bare metal has no tracer: its observed path stays allocate_slow.
    if (OURO_LIKELY(n - 1 < kSmallRequestLimit)) {
      const std::size_t size_class = (n - 1) / kAlignment;
      if (OURO_LIKELY(cached_count_[size_class] != 0)) {
        if (OURO_LIKELY(observer_ == nullptr)) return take_cached(size_class);
#if !OURO_BARE_METAL
        return take_cached_observed(size_class, n);
#endif
      }
    }
#endif
    return allocate_slow(n);
  }
  /// Returns a block from allocate(n) with the same n. Debug builds abort on a double
  /// free, a foreign pointer or a size that does not match the block.
  void deallocate(void* p, std::size_t n) noexcept {
#if OURO_DEBUG < 2
    // Inline fast path: into the class's free cache, touching neither block nor pool (with
    // an observer too, told out of line first, as in allocate).
    if (OURO_LIKELY(p != nullptr && n - 1 < kSmallRequestLimit)) {
      const std::size_t size_class = (n - 1) / kAlignment;
      if (OURO_LIKELY(cached_count_[size_class] < cache_capacity_)) {
        if (OURO_LIKELY(observer_ == nullptr)) {
          ++deallocations_;
          return put_cached(p, size_class);
        }
#if !OURO_BARE_METAL
        return put_cached_observed(p, size_class, n);
#endif
      }
    }
#endif
    deallocate_slow(p, n);
  }
  /// Gives every block of the free cache back to its pool, so that emptied pools and
  /// arenas can go back to the backing. A Heap calls it after each full collection; the
  /// allocator calls it itself before the pressure hook.
  void flush_caches() noexcept;
  /// Bytes the allocator really spends for a request of n bytes (its class or large size).
  static std::size_t block_size_for(std::size_t n) noexcept;

  // --- unsized frees (what an object header that records no size needs) ---------------
  /// A tag to remember with a block of `n` requested bytes: it finds the block's pool (or
  /// says "large") without storing the size. Fits in 5 bits; 0 means a large block.
  std::uint32_t block_tag(std::size_t n) const noexcept {
    return n <= kSmallRequestLimit ? pool_shift_ : 0;
  }
  /// The allocator that owns `block` (allocated with the given tag), or nullptr if its
  /// allocator abandoned it (see abandon()). Inline, one mask and one load: dealloc and the
  /// same-heap check (I1) run it for every object.
  static Allocator* owner_of(const void* block, std::uint32_t tag) noexcept {
    const auto at = reinterpret_cast<std::uintptr_t>(block);
    const std::uintptr_t field = tag != 0
                                     ? (at & ~((std::uintptr_t{1} << tag) - 1)) + kPoolOwnerOffset
                                     : at - kLargeHeaderBytes + kLargeOwnerOffset;
    return *reinterpret_cast<Allocator* const*>(field);
  }
  /// Where the owner pointer sits in a pool header and in a large block's header (checked
  /// against the structures in src/alloc/types.h).
  static constexpr std::size_t kPoolOwnerOffset = 4 * sizeof(void*);
  static constexpr std::size_t kLargeOwnerOffset = 2 * sizeof(void*);
  static constexpr std::size_t kLargeHeaderBytes = 4 * sizeof(void*) > 16 ? 4 * sizeof(void*) : 16;
  /// Frees a block by its tag; the size is looked up (the pool's class or large header).
  void free_block(void* block, std::uint32_t tag) noexcept;
  /// Bytes the block really takes (its size class, or a large block's size).
  static std::size_t usable_size(const void* block, std::uint32_t tag) noexcept;

  /// Gives up every block still allocated without returning it to the backing: their
  /// memory stays valid (and is leaked), and owner_of() answers nullptr for them from now
  /// on. A Heap calls this when it is destroyed while objects are still referenced from
  /// outside it, so that dropping those references later touches only their own memory.
  void abandon() noexcept;

  HeapStats stats() const noexcept;
  /// Starts peak tracking afresh from the current figures.
  void reset_peak() noexcept;
  /// Prints the pools-by-size-class table, arena and large-block summary, in the manner of
  /// CPython's sys._debugmallocstats().
  void debug_mallocstats(std::ostream& out) const;
  /// Walks every arena, pool and free list and checks their invariants; aborts (through
  /// OURO_ASSERT, also in release builds of this call) on the first broken one, else true.
  /// Every walk is bounded by the counts it checks against, so a corrupted list (a cycle
  /// made by a double free or a race) aborts with a message instead of looping.
  bool verify() const;

  std::size_t limit_bytes() const noexcept { return limit_bytes_; }
  /// Changes the limit; lowering it below bytes_reserved only affects future growth.
  void set_limit_bytes(std::size_t limit) noexcept { limit_bytes_ = limit; }
  /// Installs the pressure hook (nullptr: none; allocation failure throws at once).
  void set_pressure_hook(PressureHook hook, void* context) noexcept {
    pressure_hook_ = hook;
    pressure_context_ = context;
  }
  /// Installs (or with nullptr removes) the observer told of every block.
  void set_observer(AllocationObserver* observer) noexcept { observer_ = observer; }
  AllocationObserver* observer() const noexcept { return observer_; }
  /// The options as resolved at construction (defaults filled in).
  const HeapOptions& options() const noexcept { return options_; }

  /// An opaque word the allocator's owner may set and read back (Lua's `ud`): a Heap finds
  /// itself from any of its blocks through it. The allocator never reads it.
  void* owner() const noexcept { return owner_; }
  void set_owner(void* owner) noexcept { owner_ = owner; }

  // Internal structures, defined in src/alloc/types.h (opaque to users).
  struct Pool;
  struct Arena;
  struct LargeBlock;
  struct FreeChunk;

 private:
  friend struct AllocatorInternals;

  void* allocate_slow(std::size_t n);
  void deallocate_slow(void* p, std::size_t n) noexcept;
  void* take_cached_observed(std::size_t size_class, std::size_t n) noexcept;
  void put_cached_observed(void* p, std::size_t size_class, std::size_t n) noexcept;
  void* take_cached(std::size_t size_class) noexcept {
    void* block = cached_blocks_[size_class * cache_capacity_ + --cached_count_[size_class]];
    ++allocations_;
    note_in_use((size_class + 1) * kAlignment);
    return block;
  }
  void put_cached(void* block, std::size_t size_class) noexcept {
    cached_blocks_[size_class * cache_capacity_ + cached_count_[size_class]++] = block;
    bytes_in_use_ -= (size_class + 1) * kAlignment;
  }
  void* allocate_small(std::size_t size_class) noexcept;
  void carve_into_cache(Pool* pool, std::size_t size_class) noexcept;
  void* allocate_large(std::size_t n) noexcept;
  void deallocate_small(void* p, std::size_t size_class) noexcept;
  void return_block_to_pool(void* p, std::size_t size_class) noexcept;
  void return_block_to_pool(Pool* pool, void* p, std::size_t size_class) noexcept;
  void pool_refilled_or_emptied(Pool* pool, std::size_t size_class, bool was_full) noexcept;
  void free_block_slow(void* block, std::uint32_t pool_shift) noexcept;
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
  void note_in_use(std::size_t bytes) noexcept {
    bytes_in_use_ += bytes;
    if (bytes_in_use_ > peak_in_use_) peak_in_use_ = bytes_in_use_;
  }
  Arena* find_arena(const void* p) const noexcept;
  void check_small_block(const void* p, const Pool* pool, std::size_t size_class) const noexcept;

  HeapOptions options_;
  std::size_t limit_bytes_;
  std::uint32_t pool_shift_;  // log2(pool_size): a block's pool header is at p & ~(pool_size-1)
  std::size_t pools_per_arena_;
  Pool* used_pools_[kSizeClassCount] = {};  // lists of pools with a free block, per class
  // The free cache (jemalloc's tcache, mimalloc's local free list): per size class, up to
  // cache_capacity_ freed blocks, newest last, handed out again before any pool is looked
  // at. A free into it touches neither the block nor its pool's header (cold lines in a
  // large heap); for the pools the cached blocks are still in use (they count in
  // Pool::used, not in bytes_in_use_). cached_blocks_ is [kSizeClassCount][capacity],
  // taken from the backing with the arena table (bookkeeping_bytes_).
  void** cached_blocks_ = nullptr;
  std::uint32_t cache_capacity_ = 0;  // 0 for the small (microcontroller) shape: no cache
  std::uint32_t cached_count_[kSizeClassCount] = {};
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
  PressureHook pressure_hook_ = nullptr;
  void* pressure_context_ = nullptr;
  AllocationObserver* observer_ = nullptr;
  void* owner_ = nullptr;
};

}  // namespace ouro
