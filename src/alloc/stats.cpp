// Statistics, the sys._debugmallocstats()-style table and the whole-heap verifier.
// Per-class figures come from a walk over the arenas (stats() is not a hot path), so the
// allocation fast path keeps only the byte counters.
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <ostream>

#include "alloc/types.h"

namespace ouro {

double HeapStats::fragmentation() const noexcept {
  std::size_t used = 0, total = 0;
  for (const SizeClassStats& c : size_classes) {
    used += c.blocks_used * c.block_size;
    total += (c.blocks_used + c.blocks_free) * c.block_size;
  }
  return total == 0 ? 0.0 : 1.0 - static_cast<double>(used) / static_cast<double>(total);
}

double HeapStats::overhead() const noexcept {
  return bytes_reserved == 0
             ? 0.0
             : 1.0 - static_cast<double>(bytes_in_use) / static_cast<double>(bytes_reserved);
}

namespace {
// CPython's table prints 1,048,576; {fmt}'s "L" would depend on the global locale.
std::string with_thousands_separators(std::size_t value) {
  const std::string digits = std::to_string(value);
  std::string grouped;
  grouped.reserve(digits.size() + digits.size() / 3);
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) grouped.push_back(',');
    grouped.push_back(digits[i]);
  }
  return grouped;
}
}  // namespace

// Friend of Allocator: the walks over its private structures.
struct AllocatorInternals {
  template <class Fn>
  static void for_each_carved_pool(const Allocator& heap, Fn&& fn) {
    for (const Allocator::Arena* a = heap.all_arenas_; a != nullptr; a = a->next_all) {
      for (std::uint32_t i = 0; i < a->next_fresh; ++i) {
        fn(*a, *reinterpret_cast<const Allocator::Pool*>(a->base +
                                                         (std::size_t{i} << heap.pool_shift_)));
      }
    }
  }
  static std::size_t capacity(const Allocator& heap, const Allocator::Pool& pool) {
    return (heap.options_.pool_size - pool.first_offset) / class_block_size(pool.size_class);
  }
};

HeapStats Allocator::stats() const noexcept {
  HeapStats s;
  s.bytes_in_use = bytes_in_use_;
  s.bytes_reserved = bytes_reserved_;
  s.peak_bytes_in_use = peak_in_use_;
  s.peak_bytes_reserved = peak_reserved_;
  s.limit_bytes = limit_bytes_;
  s.arenas = arena_count_;
  s.arenas_allocated = arenas_allocated_;
  s.arenas_released = arenas_released_;
  s.large_blocks = large_count_;
  s.large_bytes = large_bytes_;
  s.bookkeeping_bytes = bookkeeping_bytes_;
  s.allocations = allocations_;
  s.deallocations = deallocations_;
  s.memory_errors = memory_errors_;
  s.pressure_calls = pressure_calls_;
  for (std::size_t c = 0; c < kSizeClassCount; ++c)
    s.size_classes[c].block_size = class_block_size(c);
  for (const Arena* a = all_arenas_; a != nullptr; a = a->next_all) s.pools_free += a->nfree_pools;
  AllocatorInternals::for_each_carved_pool(*this, [&](const Arena&, const Pool& pool) {
    if (pool.size_class == kNoClass) return;
    if (&pool == parked_pool_ && pool.used == 0) {  // idle and empty: a free pool for the figures
      ++s.pools_free;
      return;
    }
    SizeClassStats& c = s.size_classes[pool.size_class];
    const std::size_t capacity = AllocatorInternals::capacity(*this, pool);
    ++c.pools;
    c.blocks_used += pool.used;
    c.blocks_free += capacity - pool.used;
    ++s.pools_used;
    s.pool_overhead_bytes += options_.pool_size - capacity * c.block_size;
  });
  return s;
}

void Allocator::debug_mallocstats(std::ostream& out) const {
  const HeapStats s = stats();
  fmt::print(out, "Small block threshold = {}, in {} size classes.\n\n", kSmallRequestLimit,
             kSizeClassCount);
  fmt::print(out, "class   size   num pools   blocks in use  avail blocks\n");
  fmt::print(out, "-----   ----   ---------   -------------  ------------\n");
  std::size_t in_blocks = 0, available = 0;
  for (std::size_t c = 0; c < kSizeClassCount; ++c) {
    const SizeClassStats& row = s.size_classes[c];
    if (row.pools == 0) continue;
    fmt::print(out, "{:5}  {:5}  {:10}  {:14}  {:12}\n", c, row.block_size, row.pools,
               row.blocks_used, row.blocks_free);
    in_blocks += row.blocks_used * row.block_size;
    available += row.blocks_free * row.block_size;
  }
  auto line = [&](const std::string& label, std::size_t value) {
    fmt::print(out, "{:<35}= {:>20}\n", label, with_thousands_separators(value));
  };
  out << '\n';
  line("# arenas allocated total", s.arenas_allocated);
  line("# arenas reclaimed", s.arenas_released);
  line("# arenas allocated current", s.arenas);
  line(fmt::format("{} arenas * {} bytes/arena", s.arenas, options_.arena_size),
       s.arenas * options_.arena_size);
  out << '\n';
  line("# bytes in allocated blocks", in_blocks);
  line("# bytes in available blocks", available);
  line(fmt::format("{} unused pools * {} bytes", s.pools_free, options_.pool_size),
       s.pools_free * options_.pool_size);
  line("# bytes lost to pool headers", s.pool_overhead_bytes);
  line("# large blocks", s.large_blocks);
  line("# bytes in large blocks", s.large_bytes);
  line("# bytes in heap tables", s.bookkeeping_bytes);
  line("# bytes in use (live blocks)", s.bytes_in_use);
  line("# bytes reserved from backing", s.bytes_reserved);
  line("# peak bytes reserved", s.peak_bytes_reserved);
  if (s.limit_bytes != 0) line("# limit bytes", s.limit_bytes);
  fmt::print(out, "{:<35}= {:>19.1f}%\n", "fragmentation (free in used pools)",
             100.0 * s.fragmentation());
}

// Walks everything and checks each structure's invariant. Unlike OURO_ASSERT these checks
// are compiled in every build: verify() is what tests call to prove consistency.
#define OURO_VERIFY(cond) \
  ((cond) ? (void)0       \
          : ::ouro::detail::fail_assertion("Allocator::verify: " #cond, __FILE__, __LINE__))

// Every walk below is bounded by a count it can trust (arenas by arena_count_, a pool's free
// list by the blocks carved in it, ...): a list made circular by a double free or a race
// between two threads aborts with a message here instead of looping forever.
bool Allocator::verify() const {
  std::size_t small_in_use = 0, arenas = 0;
  for (const Arena* a = all_arenas_; a != nullptr; a = a->next_all) {
    OURO_VERIFY(++arenas <= arena_count_);
    OURO_VERIFY(a->next_all == nullptr || a->next_all->prev_all == a);
    OURO_VERIFY(a->ntotal_pools == pools_per_arena_ && a->next_fresh <= a->ntotal_pools);
    std::size_t free_listed = 0;
    for (const Pool* p = a->free_pools; p != nullptr; p = p->next) {
      OURO_VERIFY(++free_listed <= a->next_fresh);
      OURO_VERIFY(p->arena == a && p->size_class == kNoClass);
    }
    OURO_VERIFY(a->nfree_pools == free_listed + (a->ntotal_pools - a->next_fresh));
  }
  OURO_VERIFY(arenas == arena_count_);
  std::size_t carved_pools = 0;
  AllocatorInternals::for_each_carved_pool(*this, [&](const Arena& a, const Pool& pool) {
    ++carved_pools;
    OURO_VERIFY(pool.magic == kPoolMagic && pool.arena == &a && pool.owner == this);
    if (pool.size_class == kNoClass) return;
    const std::size_t size = class_block_size(pool.size_class);
    const std::size_t carved = (pool.next_offset - pool.first_offset) / size;
    std::size_t free_blocks = 0;
    for (const FreeBlock* b = pool.free_list; b != nullptr; b = b->next) {
      OURO_VERIFY(++free_blocks <= carved);
      const std::size_t offset =
          reinterpret_cast<const std::byte*>(b) - reinterpret_cast<const std::byte*>(&pool);
      OURO_VERIFY(offset >= pool.first_offset && offset < pool.next_offset);
      OURO_VERIFY((offset - pool.first_offset) % size == 0);
    }
    OURO_VERIFY(carved == pool.used + free_blocks);
    small_in_use += pool.used * size;
  });
  std::size_t pools_on_lists = 0;
  for (std::size_t c = 0; c < kSizeClassCount; ++c) {
    OURO_VERIFY(used_pools_[c] == nullptr || used_pools_[c]->prev == nullptr);
    for (const Pool* p = used_pools_[c]; p != nullptr; p = p->next) {
      OURO_VERIFY(++pools_on_lists <= carved_pools);
      OURO_VERIFY(p->size_class == c && p->free_list != nullptr);
      OURO_VERIFY(p->next == nullptr || p->next->prev == p);
    }
  }
  std::size_t large_in_use = 0, large = 0;
  for (const LargeBlock* b = large_blocks_; b != nullptr; b = b->next) {
    OURO_VERIFY(++large <= large_count_);
    OURO_VERIFY(b->owner == this && (b->next == nullptr || b->next->prev == b));
    large_in_use += b->size;
  }
  OURO_VERIFY(large == large_count_ && large_in_use == large_bytes_);
  OURO_VERIFY(small_in_use + large_in_use == bytes_in_use_);
  // usable_arenas_ is sorted by free pools, and the rightmost table agrees with it.
  std::size_t usable = 0;
  for (const Arena* a = usable_arenas_; a != nullptr; a = a->next_usable) {
    OURO_VERIFY(++usable <= arena_count_);
    OURO_VERIFY(a->nfree_pools > 0);
    const Arena* next = a->next_usable;
    OURO_VERIFY(next == nullptr || (next->prev_usable == a && next->nfree_pools >= a->nfree_pools));
    const bool rightmost = next == nullptr || next->nfree_pools != a->nfree_pools;
    OURO_VERIFY((last_arena_with_nfree_[a->nfree_pools] == a) == rightmost);
  }
  const std::size_t reserved =
      arenas * options_.arena_size + bookkeeping_bytes_ + large * sizeof(LargeBlock) + large_in_use;
  OURO_VERIFY(reserved == bytes_reserved_);
  return true;
}

}  // namespace ouro
