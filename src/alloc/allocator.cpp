// The allocator: size classes, pools, arenas, large blocks, the two backings and the limit.
//
// Keeps DESIGN.md I7 (the limit: every byte taken from the backing is counted in
// bytes_reserved_ *before* it is taken; passing the limit runs the pressure hook once, then
// throws MemoryError with all state unchanged). Thread ownership (I1) is the owner's
// business (ouro::Heap checks it): this file knows nothing above the allocator.
//
// Pool states (CPython's obmalloc, three states):
//   used   serves a size class and has a free block: on used_pools_[class]'s list.
//   full   serves a size class, no free block: on no list (found again by address on free).
//   free   serves no class: on its arena's free_pools list, or never carved (next_fresh).
// Invariant: every pool on a class list has free_list != nullptr (allocation never looks
// twice). The lists keep CPython's "ring" name in the code (ring_insert_front, ring_remove).
#include "ouro/alloc/allocator.h"

#if OURO_HAVE_SYSTEM_BACKING
#include <sys/mman.h>
#include <unistd.h>
#endif

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "alloc/types.h"

namespace ouro {

namespace {

#if OURO_HAVE_SYSTEM_BACKING
std::size_t page_size() noexcept {
  static const std::size_t size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}
#endif

std::uintptr_t address(const void* p) noexcept { return reinterpret_cast<std::uintptr_t>(p); }

// Below this budget (buffer or limit) the default shape is the small one: 8 KiB arenas of
// 1 KiB pools, so that a 16 KiB buffer still holds an arena, its table and a large block.
// Above it, CPython's shape scaled to 64-bit: 1 MiB arenas of 16 KiB pools.
constexpr std::size_t kSmallBudget = std::size_t{4} << 20;

HeapOptions resolve_defaults(HeapOptions options) {
  std::size_t budget = 0;
  if (options.buffer != nullptr) budget = options.buffer_size;
  if (options.limit_bytes != 0 && (budget == 0 || options.limit_bytes < budget)) {
    budget = options.limit_bytes;
  }
  const bool small = budget != 0 && budget < kSmallBudget;
  if (options.pool_size == 0) {
    options.pool_size = small ? std::size_t{1} << 10 : std::size_t{16} << 10;
    if (options.arena_size != 0 && options.arena_size < options.pool_size) {
      options.pool_size = std::bit_floor(options.arena_size);
    }
  }
  if (options.arena_size == 0) {
    options.arena_size =
        std::max(small ? std::size_t{8} << 10 : std::size_t{1} << 20, options.pool_size);
  }
  return options;
}

// Blocks per size class in the free cache: enough that a random mix of frees and
// allocations rarely reaches the pools (bench/heap_bench.cpp, churn), few enough that the
// cache pins at most 32 x 32 blocks. The small shape (1 KiB pools, for buffers of a few
// KiB) has no cache: there every pool counts.
std::uint32_t free_cache_capacity(const HeapOptions& options) noexcept {
  return options.pool_size >= 4096 ? 32 : 0;
}

// The allocator's own table, taken from the backing: the arena ordering table (one slot
// per possible free-pool count) and the free cache.
std::size_t bookkeeping_bytes_for(const HeapOptions& options) noexcept {
  return (options.arena_size / options.pool_size + 1) * sizeof(void*) +
         kSizeClassCount * free_cache_capacity(options) * sizeof(void*);
}

[[noreturn]] void invalid(const char* what) {
  throw std::invalid_argument(std::string("ouro::HeapOptions: ") + what);
}

void validate(const HeapOptions& options) {
  const std::size_t pool = options.pool_size;
  if (pool < 1024 || pool > (std::size_t{1} << 24) || !std::has_single_bit(pool)) {
    invalid("pool_size must be a power of two in [1 KiB, 16 MiB]");
  }
  if (options.arena_size < pool || options.arena_size % pool != 0) {
    invalid("arena_size must be a multiple of pool_size (pools are carved from arenas)");
  }
  if (options.arena_size / pool > (std::size_t{1} << 20)) {
    invalid("at most 2^20 pools per arena");
  }
  if ((options.buffer == nullptr) != (options.buffer_size == 0)) {
    invalid("buffer and buffer_size go together");
  }
#if !OURO_HAVE_SYSTEM_BACKING
  if (options.buffer == nullptr) {
    invalid("this build has no system backing: give a buffer (.buffer, .buffer_size)");
  }
#endif
  // An arena is taken whole and counts whole: one that cannot fit would make every small
  // allocation fail with a MemoryError that looks like a bug.
  const std::size_t table = bookkeeping_bytes_for(options);
  if (options.buffer != nullptr && options.arena_size + table + pool > options.buffer_size) {
    invalid(
        "arena_size (plus its pool alignment and the allocator's table) does not fit in "
        "buffer_size; arenas are carved from the buffer");
  }
  if (options.limit_bytes != 0 && options.arena_size + table > options.limit_bytes) {
    invalid(
        "limit_bytes is below one arena (plus the allocator's table): arenas count "
        "against the limit");
  }
}

}  // namespace

MemoryError::MemoryError(std::size_t requested, std::size_t limit, std::size_t reserved,
                         std::size_t in_use) noexcept
    : requested_(requested), limit_(limit), reserved_(reserved), in_use_(in_use) {
  // {fmt} into the fixed buffer: no allocation (memory just ran out), and no printf family in
  // the firmware's flash.
  const std::size_t room = sizeof message_ - 1;
  char* end = nullptr;
  if (limit != 0) {
    end = fmt::format_to_n(message_, room,
                           "ouro::MemoryError: cannot allocate {} bytes: heap limit is {} bytes, "
                           "{} taken from the backing, {} in live blocks",
                           requested, limit, reserved, in_use)
              .out;
  } else {
    end = fmt::format_to_n(message_, room,
                           "ouro::MemoryError: cannot allocate {} bytes: the backing has no "
                           "memory left ({} bytes taken, {} in live blocks)",
                           requested, reserved, in_use)
              .out;
  }
  *end = '\0';
}

// --- construction -------------------------------------------------------------------------

Allocator::Allocator(HeapOptions requested)
    : options_(resolve_defaults(requested)), limit_bytes_(options_.limit_bytes) {
  validate(options_);
  pool_shift_ = static_cast<std::uint32_t>(std::countr_zero(options_.pool_size));
  pools_per_arena_ = options_.arena_size / options_.pool_size;
  if (options_.buffer != nullptr) {
    // Everything is carved from the caller's buffer; trim it to 16-byte alignment.
    std::uintptr_t begin = round_up(address(options_.buffer), kAlignment);
    std::uintptr_t end = (address(options_.buffer) + options_.buffer_size) & ~(kAlignment - 1);
    if (end <= begin + sizeof(FreeChunk)) invalid("buffer too small");
    buffer_free_ = reinterpret_cast<FreeChunk*>(begin);
    buffer_free_->next = nullptr;
    buffer_free_->size = end - begin;
  }
  // The arena ordering table (one slot per possible free-pool count) and the free cache are
  // the allocator's own bookkeeping; they come from the backing too, so a buffer heap needs
  // nothing else.
  const std::size_t table_bytes = bookkeeping_bytes_for(options_);
  void* table = backing_reserve(table_bytes, Chunk::kTable);
  if (table == nullptr) invalid("buffer too small for the allocator's tables");
  std::memset(table, 0, table_bytes);
  last_arena_with_nfree_ = static_cast<Arena**>(table);
  cache_capacity_ = free_cache_capacity(options_);
  cached_blocks_ = reinterpret_cast<void**>(last_arena_with_nfree_ + pools_per_arena_ + 1);
  bookkeeping_bytes_ = table_bytes;
  note_reserved(table_bytes);
}

Allocator::~Allocator() {
  while (all_arenas_ != nullptr) {
    Arena* arena = all_arenas_;
    all_arenas_ = arena->next_all;
    backing_release(arena->base, options_.arena_size, Chunk::kArena);
  }
  while (large_blocks_ != nullptr) {
    LargeBlock* block = large_blocks_;
    large_blocks_ = block->next;
    backing_release(block, sizeof(LargeBlock) + block->size, Chunk::kLarge);
  }
  backing_release(last_arena_with_nfree_, bookkeeping_bytes_, Chunk::kTable);
}

// --- allocation -------------------------------------------------------------------------

void* Allocator::allocate_slow(std::size_t n) {
  if (n == 0) n = 1;
  for (bool retried = false;; retried = true) {
    void* p = n <= kSmallRequestLimit ? allocate_small(size_class_of(n)) : allocate_large(n);
    if (OURO_LIKELY(p != nullptr)) {
      ++allocations_;
#if OURO_DEBUG >= 2
      std::memset(p, kFreshByte, n);
#endif
      if (OURO_UNLIKELY(observer_ != nullptr)) observer_->on_allocate(p, n);
      return p;
    }
    // I7: the pressure hook (a full collection) gets one chance, then MemoryError.
    if (retried || !relieve_pressure(n)) throw_memory_error(n);
  }
}

std::size_t Allocator::block_size_for(std::size_t n) noexcept {
  if (n == 0) n = 1;
  return n <= kSmallRequestLimit ? class_block_size(size_class_of(n)) : round_up(n, kAlignment);
}

void* Allocator::allocate_small(std::size_t size_class) noexcept {
  if (cached_count_[size_class] != 0) {  // allocate() takes these inline in release builds
    note_in_use(class_block_size(size_class));
    return cached_blocks_[size_class * cache_capacity_ + --cached_count_[size_class]];
  }
  Pool* pool = used_pools_[size_class];
  if (OURO_UNLIKELY(pool == nullptr)) {
    pool = take_pool(size_class);
    if (pool == nullptr) return nullptr;
  }
  FreeBlock* block = pool->free_list;
  ++pool->used;
  pool->free_list = block->next;
  if (pool->free_list == nullptr) {
    // Keep the ring invariant: carve the next never-used block, or retire the full pool.
    const std::size_t size = class_block_size(size_class);
    if (pool->next_offset <= pool->max_offset) {
      pool->free_list =
          structure_at<FreeBlock>(reinterpret_cast<std::byte*>(pool) + pool->next_offset);
      pool->free_list->next = nullptr;
      pool->next_offset += static_cast<std::uint32_t>(size);
      carve_into_cache(pool, size_class);
    } else {
      ring_remove(size_class, pool);
    }
  }
  note_in_use(class_block_size(size_class));
  return block;
}

// A program that builds (and frees little) takes every block from a pool's never-used
// part, each time through the out-of-line path. While the class's free cache is empty,
// the next never-used blocks go into it in one step, so that the following allocations of
// the class take allocate()'s inline path (the records build of bench/value_bench: 600,000
// allocations, most of them here). Only blocks of this pool, already reserved, are moved:
// nothing new is reserved, and the limit is untouched. The pool counts them as used, as it
// does every cached block (verify() checks it); the lowest address is handed out first.
// Precondition: `pool`'s free list is its one block just below next_offset.
void Allocator::carve_into_cache(Pool* pool, std::size_t size_class) noexcept {
  constexpr std::uint32_t kBatch = 16;
  if (cached_count_[size_class] != 0 || cache_capacity_ < kBatch) return;
  const std::uint32_t size = static_cast<std::uint32_t>(class_block_size(size_class));
  if (pool->next_offset > pool->max_offset) return;  // the free list's block is the last
  const std::uint32_t fresh = (pool->max_offset - pool->next_offset) / size + 1;
  const std::uint32_t take = std::min(kBatch, fresh);
  // The list's block and the `take` after it: the list's block goes to the cache too (it
  // is the lowest), and the block after the taken ones becomes the list.
  auto* base = reinterpret_cast<std::byte*>(pool);
  std::byte* first = reinterpret_cast<std::byte*>(pool->free_list);
  void** slots = cached_blocks_ + size_class * cache_capacity_;
  for (std::uint32_t i = 0; i < take; ++i) slots[i] = first + std::size_t{take - 1 - i} * size;
  cached_count_[size_class] = take;
  pool->used += take;
  pool->next_offset += (take - 1) * size;
  pool->free_list = structure_at<FreeBlock>(base + pool->next_offset);
  pool->free_list->next = nullptr;
  pool->next_offset += size;
}

// Takes a pool for `size_class`: the parked pool if there is one (no arena work at all),
// else one from the most used arena that has one (adding an arena when none has). The pool
// is initialized and put on the class's ring. nullptr: limit or backing.
Allocator::Pool* Allocator::take_pool(std::size_t size_class) noexcept {
  if (Pool* pool = std::exchange(parked_pool_, nullptr); pool != nullptr && pool->used == 0) {
    // Still empty, so still on its own class's ring (this class's ring is empty).
    ring_remove(pool->size_class, pool);
    init_pool(pool, size_class);
    ring_insert_front(size_class, pool);
    return pool;
  }
  if (usable_arenas_ == nullptr && !add_arena()) return nullptr;
  Arena* arena = usable_arenas_;
  // The head has the fewest free pools; taking one keeps it the head (CPython's reasoning),
  // so only the per-count "rightmost" table changes.
  if (last_arena_with_nfree_[arena->nfree_pools] == arena) {
    last_arena_with_nfree_[arena->nfree_pools] = nullptr;
  }
  if (arena->nfree_pools > 1) last_arena_with_nfree_[arena->nfree_pools - 1] = arena;
  Pool* pool;
  if (arena->free_pools != nullptr) {
    pool = arena->free_pools;
    arena->free_pools = pool->next;
  } else {
    std::byte* at = arena->base + (std::size_t{arena->next_fresh++} << pool_shift_);
    pool = structure_at<Pool>(at);
    pool->arena = arena;
    pool->owner = this;
    pool->magic = kPoolMagic;
    const std::size_t headers = at == arena->base ? sizeof(Pool) + sizeof(Arena) : sizeof(Pool);
    pool->first_offset = static_cast<std::uint32_t>(round_up(headers, kAlignment));
  }
  if (--arena->nfree_pools == 0) unlink_usable_arena(arena);
  init_pool(pool, size_class);
  ring_insert_front(size_class, pool);
  return pool;
}

// Makes `pool` serve `size_class` with every block free (carved lazily from the start).
void Allocator::init_pool(Pool* pool, std::size_t size_class) noexcept {
  const std::uint32_t size = static_cast<std::uint32_t>(class_block_size(size_class));
  pool->size_class = static_cast<std::uint32_t>(size_class);
  pool->used = 0;
  pool->free_list =
      structure_at<FreeBlock>(reinterpret_cast<std::byte*>(pool) + pool->first_offset);
  pool->free_list->next = nullptr;
  pool->next_offset = pool->first_offset + size;
  pool->max_offset = static_cast<std::uint32_t>(options_.pool_size) - size;
}

// A pool that just emptied is parked: it stays on its class's ring instead of going back
// to its arena at once. A program that creates and drops one object at a time would
// otherwise return the pool and take it again on every cycle (a third of make+drop's cost,
// per bench/). Only one pool is parked at a time, so at most one empty pool (and so at
// most one arena) is held back from the backing. A parked pool that receives blocks again
// is simply a used pool; parked_pool_ then points at it harmlessly until replaced.
void Allocator::park_empty_pool(Pool* pool) noexcept {
  Pool* previous = std::exchange(parked_pool_, pool);
  if (previous != nullptr && previous != pool && previous->used == 0) {
    ring_remove(previous->size_class, previous);
    return_pool_to_arena(previous);
  }
}

// The per-class list of usable pools is doubly linked but not circular: inserting at the
// front touches only the old head (just used) and removing the head only the next pool
// (used next). A ring would also write the tail pool's header each time, a cold cache line
// on every full/usable flip (bench/: a third of the churn workload's L1 misses).
void Allocator::ring_insert_front(std::size_t size_class, Pool* pool) noexcept {
  Pool* head = used_pools_[size_class];
  pool->prev = nullptr;
  pool->next = head;
  if (head != nullptr) head->prev = pool;
  used_pools_[size_class] = pool;  // most recently freed-into pool is used first
}

void Allocator::ring_remove(std::size_t size_class, Pool* pool) noexcept {
  if (pool->prev != nullptr) {
    pool->prev->next = pool->next;
  } else {
    used_pools_[size_class] = pool->next;
  }
  if (pool->next != nullptr) pool->next->prev = pool->prev;
}

void* Allocator::allocate_large(std::size_t n) noexcept {
  if (n > SIZE_MAX / 2) return nullptr;  // (1 << 60 overflowed size_t on 32-bit targets)
  const std::size_t size = round_up(n, kAlignment);
  const std::size_t total = sizeof(LargeBlock) + size;
  if (!may_reserve(total)) return nullptr;
  void* memory = backing_reserve(total, Chunk::kLarge);
  if (memory == nullptr) return nullptr;
  auto* block = static_cast<LargeBlock*>(memory);
  block->owner = this;
  block->size = size;
  block->prev = nullptr;
  block->next = large_blocks_;
  if (large_blocks_ != nullptr) large_blocks_->prev = block;
  large_blocks_ = block;
  note_reserved(total);
  ++large_count_;
  large_bytes_ += size;
  note_in_use(size);
  return block + 1;
}

// --- deallocation -----------------------------------------------------------------------

// The inline paths' cache pop and push when an observer is installed (see allocate()).
void* Allocator::take_cached_observed(std::size_t size_class, std::size_t n) noexcept {
  void* p = take_cached(size_class);
  observer_->on_allocate(p, n);
  return p;
}

void Allocator::put_cached_observed(void* p, std::size_t size_class, std::size_t n) noexcept {
  observer_->on_deallocate(p, n);
  ++deallocations_;
  put_cached(p, size_class);
}

void Allocator::deallocate_slow(void* p, std::size_t n) noexcept {
  if (p == nullptr) return;
  if (n == 0) n = 1;
  if (OURO_UNLIKELY(observer_ != nullptr)) observer_->on_deallocate(p, n);
  ++deallocations_;
  if (n <= kSmallRequestLimit) {
#if OURO_DEBUG >= 2
    check_small_block(p, nullptr, size_class_of(n));
#endif
    deallocate_small(p, size_class_of(n));
  } else {
#if OURO_DEBUG >= 2
    const auto* block = static_cast<const LargeBlock*>(p) - 1;
    bool found = false;
    for (const LargeBlock* b = large_blocks_; b != nullptr && !found; b = b->next)
      found = b == block;
    if (!found)
      detail::fatal(
          "deallocate: pointer is not a live large block of this heap "
          "(foreign pointer or double free)");
    if (block->size != round_up(n, kAlignment)) {
      detail::fatal("deallocate: size does not match the large block's size");
    }
#endif
    deallocate_large(p);
  }
}

// A freed block goes to its class's free cache while there is room, else straight to its
// pool. Flushing part of a full cache instead cost a mass free (a collection freeing a
// million objects of one class, where the cache is always full) 76 more instructions per
// block under callgrind; the bypass costs one comparison.
// Inlined into every free path: a collection frees a million blocks through here.
[[gnu::always_inline]] inline void Allocator::deallocate_small(void* p,
                                                               std::size_t size_class) noexcept {
#if OURO_DEBUG >= 2
  std::memset(p, kDeadByte, class_block_size(size_class));
#endif
  if (cached_count_[size_class] < cache_capacity_) return put_cached(p, size_class);
  bytes_in_use_ -= class_block_size(size_class);
  return_block_to_pool(p, size_class);
}

// The pool's side of a free (bytes_in_use_ is the caller's: the cache counted it already).
[[gnu::always_inline]] inline void Allocator::return_block_to_pool(
    void* p, std::size_t size_class) noexcept {
  return_block_to_pool(
      reinterpret_cast<Pool*>(address(p) & ~((std::uintptr_t{1} << pool_shift_) - 1)), p,
      size_class);
}

// The same, for a caller that has the pool already (free_block). The rare outcomes (the
// pool was full, or is now empty) are one out-of-line call at the end, so that the common
// one needs no stack frame: a collection frees a million blocks through here.
[[gnu::always_inline]] inline void Allocator::return_block_to_pool(
    Pool* pool, void* p, std::size_t size_class) noexcept {
  auto* block = static_cast<FreeBlock*>(p);
  FreeBlock* previous_head = pool->free_list;
  block->next = previous_head;
  pool->free_list = block;
  const std::uint32_t used = --pool->used;
  if (OURO_UNLIKELY(previous_head == nullptr || used == 0)) {
    pool_refilled_or_emptied(pool, size_class, previous_head == nullptr);
  }
}

void Allocator::pool_refilled_or_emptied(Pool* pool, std::size_t size_class,
                                         bool was_full) noexcept {
  if (was_full) ring_insert_front(size_class, pool);  // usable again
  if (pool->used == 0) park_empty_pool(pool);
}

void Allocator::flush_caches() noexcept {
  for (std::size_t c = 0; c < kSizeClassCount; ++c) {
    void** blocks = cached_blocks_ + c * cache_capacity_;
    for (std::uint32_t i = 0; i < cached_count_[c]; ++i) return_block_to_pool(blocks[i], c);
    cached_count_[c] = 0;
  }
}

void Allocator::deallocate_large(void* p) noexcept {
  auto* block = static_cast<LargeBlock*>(p) - 1;
  if (block->prev != nullptr)
    block->prev->next = block->next;
  else
    large_blocks_ = block->next;
  if (block->next != nullptr) block->next->prev = block->prev;
  const std::size_t size = block->size;
  --large_count_;
  large_bytes_ -= size;
  bytes_in_use_ -= size;
  bytes_reserved_ -= sizeof(LargeBlock) + size;
  backing_release(block, sizeof(LargeBlock) + size, Chunk::kLarge);
}

void Allocator::return_pool_to_arena(Pool* pool) noexcept {
  Arena* arena = pool->arena;
  pool->size_class = kNoClass;
  pool->next = arena->free_pools;
  arena->free_pools = pool;
  ++arena->nfree_pools;
  note_pool_freed(arena);
}

// usable_arenas_ is sorted by nfree_pools ascending; last_arena_with_nfree_[n] is the
// rightmost usable arena with n free pools (or nullptr). An arena whose count grows by one
// moves just right of the rightmost arena with its old count: O(1), not a list walk.
void Allocator::note_pool_freed(Arena* arena) noexcept {
  const std::uint32_t nfree = arena->nfree_pools;
  if (nfree == 1) {  // was full, so not on the usable list
    if (nfree == arena->ntotal_pools && usable_arenas_ != nullptr) {
      release_arena(arena);
      return;
    }
    arena->prev_usable = nullptr;
    arena->next_usable = usable_arenas_;
    if (usable_arenas_ != nullptr) usable_arenas_->prev_usable = arena;
    usable_arenas_ = arena;
    if (last_arena_with_nfree_[1] == nullptr) last_arena_with_nfree_[1] = arena;
    return;
  }
  Arena* rightmost_old = last_arena_with_nfree_[nfree - 1];
  if (rightmost_old == arena) {
    Arena* left = arena->prev_usable;
    last_arena_with_nfree_[nfree - 1] =
        (left != nullptr && left->nfree_pools == nfree - 1) ? left : nullptr;
  }
  // An empty arena goes back to the backing unless it is the only usable one (keeping one
  // avoids thrashing when a single pool is freed and taken again and again).
  if (nfree == arena->ntotal_pools && (arena->prev_usable || arena->next_usable)) {
    if (last_arena_with_nfree_[nfree] == arena) last_arena_with_nfree_[nfree] = nullptr;
    unlink_usable_arena(arena);
    release_arena(arena);
    return;
  }
  if (last_arena_with_nfree_[nfree] == nullptr) last_arena_with_nfree_[nfree] = arena;
  if (rightmost_old == arena) return;  // already in order
  unlink_usable_arena(arena);
  arena->prev_usable = rightmost_old;
  arena->next_usable = rightmost_old->next_usable;
  if (rightmost_old->next_usable != nullptr) rightmost_old->next_usable->prev_usable = arena;
  rightmost_old->next_usable = arena;
}

void Allocator::link_usable_arena(Arena* arena) noexcept {
  // Only called for a brand-new arena, which is added when no arena is usable.
  arena->prev_usable = nullptr;
  arena->next_usable = usable_arenas_;
  if (usable_arenas_ != nullptr) usable_arenas_->prev_usable = arena;
  usable_arenas_ = arena;
  if (last_arena_with_nfree_[arena->nfree_pools] == nullptr) {
    last_arena_with_nfree_[arena->nfree_pools] = arena;
  }
}

void Allocator::unlink_usable_arena(Arena* arena) noexcept {
  if (arena->prev_usable != nullptr)
    arena->prev_usable->next_usable = arena->next_usable;
  else
    usable_arenas_ = arena->next_usable;
  if (arena->next_usable != nullptr) arena->next_usable->prev_usable = arena->prev_usable;
  arena->prev_usable = arena->next_usable = nullptr;
}

bool Allocator::add_arena() noexcept {
  const std::size_t bytes = options_.arena_size;
  if (!may_reserve(bytes)) return false;
  auto* base = static_cast<std::byte*>(backing_reserve(bytes, Chunk::kArena));
  if (base == nullptr) return false;
  auto* arena = structure_at<Arena>(base + sizeof(Pool));
  arena->base = base;
  arena->free_pools = nullptr;
  arena->nfree_pools = arena->ntotal_pools = static_cast<std::uint32_t>(pools_per_arena_);
  arena->next_fresh = 0;
  arena->prev_all = nullptr;
  arena->next_all = all_arenas_;
  if (all_arenas_ != nullptr) all_arenas_->prev_all = arena;
  all_arenas_ = arena;
  link_usable_arena(arena);
  note_reserved(bytes);
  ++arena_count_;
  ++arenas_allocated_;
  return true;
}

void Allocator::release_arena(Arena* arena) noexcept {
  if (arena->prev_all != nullptr)
    arena->prev_all->next_all = arena->next_all;
  else
    all_arenas_ = arena->next_all;
  if (arena->next_all != nullptr) arena->next_all->prev_all = arena->prev_all;
  --arena_count_;
  ++arenas_released_;
  bytes_reserved_ -= options_.arena_size;
  backing_release(arena->base, options_.arena_size, Chunk::kArena);
}

// --- limit and accounting ---------------------------------------------------------------

bool Allocator::may_reserve(std::size_t bytes) const noexcept {
  return limit_bytes_ == 0 || (bytes <= limit_bytes_ && bytes_reserved_ <= limit_bytes_ - bytes);
}

void Allocator::note_reserved(std::size_t bytes) noexcept {
  bytes_reserved_ += bytes;
  peak_reserved_ = std::max(peak_reserved_, bytes_reserved_);
}

// The owner's hook (a Heap's: one full collection) gets one chance per allocation (I7).
// Cached free blocks go back to their pools first: emptied arenas return to the backing.
bool Allocator::relieve_pressure(std::size_t requested) {
  bool relieved = false;
  for (std::uint32_t count : cached_count_) relieved = relieved || count != 0;
  flush_caches();
  if (in_pressure_hook_ || pressure_hook_ == nullptr) return relieved;
  struct Guard {
    bool& flag;
    ~Guard() { flag = false; }
  } guard{in_pressure_hook_};
  in_pressure_hook_ = true;
  ++pressure_calls_;
  pressure_hook_(pressure_context_, requested);
  return true;
}

void Allocator::throw_memory_error(std::size_t requested) {
  ++memory_errors_;
  throw MemoryError(requested, limit_bytes_, bytes_reserved_, bytes_in_use_);
}

void Allocator::reset_peak() noexcept {
  peak_in_use_ = bytes_in_use_;
  peak_reserved_ = bytes_reserved_;
}

// --- backings ---------------------------------------------------------------------------

void* Allocator::backing_reserve(std::size_t bytes, Chunk kind) noexcept {
  const std::size_t align = kind == Chunk::kArena ? options_.pool_size : kAlignment;
  if (options_.buffer != nullptr) return buffer_take(bytes, align);
#if OURO_HAVE_SYSTEM_BACKING
  if (kind != Chunk::kArena) return std::malloc(bytes);  // glibc: 16-byte aligned
  // Arenas are mapped with room to spare, then trimmed so that they start pool-aligned.
  const std::size_t page = page_size();
  const std::size_t length = round_up(bytes, page);
  const std::size_t slack = align > page ? align - page : 0;
  void* mapped =
      ::mmap(nullptr, length + slack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) return nullptr;
  const std::uintptr_t begin = address(mapped);
  const std::uintptr_t start = round_up(begin, align);
  if (start > begin) ::munmap(mapped, start - begin);
  const std::uintptr_t tail = start + length;
  const std::uintptr_t end = begin + length + slack;
  if (end > tail) ::munmap(reinterpret_cast<void*>(tail), end - tail);
  return reinterpret_cast<void*>(start);
#else
  return nullptr;  // validate() refused a heap without a buffer
#endif
}

void Allocator::backing_release(void* p, std::size_t bytes, [[maybe_unused]] Chunk kind) noexcept {
  if (options_.buffer != nullptr) return buffer_give(p, bytes);
#if OURO_HAVE_SYSTEM_BACKING
  if (kind != Chunk::kArena) return std::free(p);
  ::munmap(p, round_up(bytes, page_size()));
#endif
}

// First fit over the buffer's free chunks (address order). Buffers are small and chunks
// few (arenas and large blocks), so a list beats a tree here.
void* Allocator::buffer_take(std::size_t bytes, std::size_t align) noexcept {
  bytes = round_up(bytes, kAlignment);
  for (FreeChunk** link = &buffer_free_; *link != nullptr; link = &(*link)->next) {
    FreeChunk* chunk = *link;
    const std::uintptr_t begin = address(chunk);
    const std::uintptr_t start = round_up(begin, align);
    if (start + bytes > begin + chunk->size) continue;
    const std::size_t head = start - begin;
    const std::size_t tail = begin + chunk->size - (start + bytes);
    FreeChunk* after = chunk->next;
    if (tail != 0) {
      auto* rest = reinterpret_cast<FreeChunk*>(start + bytes);
      rest->size = tail;
      rest->next = after;
      after = rest;
    }
    if (head != 0) {
      chunk->size = head;
      chunk->next = after;
    } else {
      *link = after;
    }
    return reinterpret_cast<void*>(start);
  }
  return nullptr;
}

void Allocator::buffer_give(void* p, std::size_t bytes) noexcept {
  auto* chunk = static_cast<FreeChunk*>(p);
  chunk->size = round_up(bytes, kAlignment);
  FreeChunk* before = nullptr;
  FreeChunk* after = buffer_free_;
  while (after != nullptr && after < chunk) {
    before = after;
    after = after->next;
  }
  chunk->next = after;
  if (after != nullptr && address(chunk) + chunk->size == address(after)) {
    chunk->size += after->size;
    chunk->next = after->next;
  }
  if (before != nullptr && address(before) + before->size == address(chunk)) {
    before->size += chunk->size;
    before->next = chunk->next;
  } else if (before != nullptr) {
    before->next = chunk;
  } else {
    buffer_free_ = chunk;
  }
}

// --- unsized frees (by tag) -------------------------------------------------------------

void Allocator::abandon() noexcept {
  for (Arena* a = all_arenas_; a != nullptr; a = a->next_all) {
    for (std::uint32_t i = 0; i < a->next_fresh; ++i) {
      structure_at<Pool>(a->base + (std::size_t{i} << pool_shift_))->owner = nullptr;
    }
  }
  for (LargeBlock* b = large_blocks_; b != nullptr; b = b->next) b->owner = nullptr;
  all_arenas_ = nullptr;
  usable_arenas_ = nullptr;
  large_blocks_ = nullptr;
  for (Pool*& list : used_pools_) list = nullptr;
  for (std::uint32_t& count : cached_count_) count = 0;
  parked_pool_ = nullptr;
  bytes_in_use_ = bytes_reserved_ = bookkeeping_bytes_;
  arena_count_ = large_count_ = large_bytes_ = 0;
}

// The object core's free (dealloc, and so every object a collection frees). The common
// case, a pool block with no observer, computes the pool once and calls nothing but tail
// calls, so it needs no stack frame (the first version spent 47 instructions per block on
// a collection's mass free, 17 of them saving registers for the observer's call and
// recomputing the pool; see docs/benchmarks.md).
void Allocator::free_block(void* block, std::uint32_t pool_shift) noexcept {
  if (OURO_UNLIKELY(observer_ != nullptr || pool_shift == 0)) {
    return free_block_slow(block, pool_shift);
  }
  auto* pool = reinterpret_cast<Pool*>(address(block) & ~((std::uintptr_t{1} << pool_shift) - 1));
#if OURO_DEBUG >= 2
  check_small_block(block, nullptr, kNoClass);
  std::memset(block, kDeadByte, class_block_size(pool->size_class));
#endif
  ++deallocations_;
  const std::size_t size_class = pool->size_class;
  if (cached_count_[size_class] < cache_capacity_) return put_cached(block, size_class);
  bytes_in_use_ -= class_block_size(size_class);
  return_block_to_pool(pool, block, size_class);
}

void Allocator::free_block_slow(void* block, std::uint32_t pool_shift) noexcept {
  if (pool_shift == 0) {
    if (observer_ != nullptr) observer_->on_deallocate(block, usable_size(block, pool_shift));
    ++deallocations_;
    return deallocate_large(block);
  }
  auto* pool = reinterpret_cast<Pool*>(address(block) & ~((std::uintptr_t{1} << pool_shift) - 1));
#if OURO_DEBUG >= 2
  check_small_block(block, nullptr, kNoClass);  // before the pool header is trusted
#endif
  const std::size_t size_class = pool->size_class;
  // The observer gets the block's size from the pool found here (usable_size would find the
  // pool again, in a call: 13 instructions a traced free).
  if (observer_ != nullptr) observer_->on_deallocate(block, class_block_size(size_class));
  ++deallocations_;
  deallocate_small(block, size_class);
}

std::size_t Allocator::usable_size(const void* block, std::uint32_t pool_shift) noexcept {
  if (pool_shift == 0) return (static_cast<const LargeBlock*>(block) - 1)->size;
  auto* pool =
      reinterpret_cast<const Pool*>(address(block) & ~((std::uintptr_t{1} << pool_shift) - 1));
  return class_block_size(pool->size_class);
}

// --- debug checks -------------------------------------------------------------------------

Allocator::Arena* Allocator::find_arena(const void* p) const noexcept {
  const std::uintptr_t at = address(p);
  for (Arena* a = all_arenas_; a != nullptr; a = a->next_all) {
    if (at >= address(a->base) && at < address(a->base) + options_.arena_size) return a;
  }
  return nullptr;
}

// Debug builds (OURO_DEBUG >= 2): a block handed back must be a live block of this heap of
// the expected class. The pointer is first proved by address to lie in one of our arenas
// (a walk over the arenas, cheap next to a debug build's other costs), so no header is
// ever read from foreign memory — CPython's "benign read" in address_in_range is exactly
// what AddressSanitizer reports. A double free is suspected only when the block already
// carries the dead-byte fill, then confirmed by walking the pool's free list.
void Allocator::check_small_block(const void* p, const Pool* pool,
                                  std::size_t size_class) const noexcept {
  if (address(p) % kAlignment != 0) {
    detail::fatal("deallocate: pointer is not a block of this heap (foreign pointer)");
  }
  if (find_arena(p) == nullptr) {
    detail::fatal("deallocate: pointer is not a block of this heap (foreign pointer)");
  }
  if (pool == nullptr) {
    pool = reinterpret_cast<const Pool*>(address(p) & ~((std::uintptr_t{1} << pool_shift_) - 1));
  }
  if (pool->magic != kPoolMagic || pool->owner != this) {
    detail::fatal("deallocate: pointer is not a block of this heap (foreign pointer)");
  }
  if (pool->size_class == kNoClass) {
    detail::fatal("deallocate: pointer is in a pool that serves no size class (double free?)");
  }
  if (size_class != kNoClass && pool->size_class != size_class) {
    detail::fatal("deallocate: size does not match the block's size class");
  }
  const std::size_t block_size = class_block_size(pool->size_class);
  const std::size_t offset = address(p) - address(pool);
  if (offset < pool->first_offset || offset >= pool->next_offset ||
      (offset - pool->first_offset) % block_size != 0) {
    detail::fatal("deallocate: pointer is not the start of an allocated block (foreign pointer)");
  }
  const auto* bytes = static_cast<const unsigned char*>(p);
  if (bytes[block_size - 1] != kDeadByte || bytes[sizeof(FreeBlock)] != kDeadByte) return;
  for (const FreeBlock* b = pool->free_list; b != nullptr; b = b->next) {
    if (b == p) detail::fatal("deallocate: double free of a small block");
  }
  void* const* cached = cached_blocks_ + pool->size_class * cache_capacity_;
  for (std::uint32_t i = 0; i < cached_count_[pool->size_class]; ++i) {
    if (cached[i] == p) detail::fatal("deallocate: double free of a small block");
  }
}

}  // namespace ouro
