// The tracer's tables and its allocation callbacks (see ouro/trace/tracer.h for the design:
// 16-byte slots in an open-addressing table of live blocks, interned sites, per-site
// totals, and the lazy per-site peak).
//
// The lazy peak, exact at O(1) per change: the peak snapshot is every site's value at the
// last moment the traced total reached its maximum (event peak_event_). A site remembers
// the event of its last change. Before a site changes, if it last changed at or before
// peak_event_, its current value is still its value at the peak, so it is saved into
// peak_bytes/peak_count. Reading the peak: a site unchanged since peak_event_ still holds
// its peak value in current; any other site has it saved.
#include "ouro/trace/tracer.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <unordered_map>

#include "native.h"
#include "ouro/core/gc.h"
#include "ouro/core/site.h"

namespace ouro::trace {

namespace {

/// The library's own entry points are skipped in favour of the user's line. Build systems
/// spell paths relative or absolute, so a frame is the library's when its path has
/// include/ouro/ or src/<layer>/ in it.
bool is_library_file(std::string_view file) noexcept {
  if (file.find("include/ouro/") != std::string_view::npos) return true;
  for (std::string_view layer :
       {"src/alloc/", "src/core/", "src/weak/", "src/value/", "src/pickle/", "src/trace/"}) {
    if (file.find(layer) != std::string_view::npos) return true;
  }
  return false;
}

/// Whether two spellings name the same file: the compiler's (often relative to the build
/// directory, "../../tests/x.cpp") and DWARF's (often absolute).
bool same_file(std::string_view a, std::string_view b) noexcept {
  const auto strip = [](std::string_view path) {
    while (path.starts_with("../") || path.starts_with("./"))
      path.remove_prefix(path.find('/') + 1);
    return path;
  };
  a = strip(a);
  b = strip(b);
  return a.size() <= b.size() ? b.ends_with(a) : a.ends_with(b);
}

std::uint64_t steady_ns() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

/// One clock for every tracer of the process (from the first start), so the timelines of
/// several heaps in one capture line up.
std::uint64_t process_epoch_ns() noexcept {
  static const std::uint64_t epoch = steady_ns();
  return epoch;
}

/// Maps a 64-bit hash onto [0, n) without a division (Lemire's multiply-shift), so the
/// table's capacity need not be a power of two and can grow by 1.5x.
__extension__ using Uint128 = unsigned __int128;
std::size_t reduce(std::uint64_t hash, std::size_t n) noexcept {
  return static_cast<std::size_t>((static_cast<Uint128>(hash) * n) >> 64);
}

std::uint64_t mix(std::uint64_t x) noexcept {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

std::mutex registry_mutex;
std::vector<std::pair<const Heap*, Tracer*>>& registry() {
  static std::vector<std::pair<const Heap*, Tracer*>> tracers;
  return tracers;
}

/// The gc callback that puts collections on the timeline; found again by its type on stop.
struct GcListener {
  Tracer* tracer;
  void (*record)(Tracer*, const std::string&, const gc::CollectionInfo&);
  void operator()(const std::string& phase, const gc::CollectionInfo& info) const {
    record(tracer, phase, info);
  }
};

}  // namespace

/// A raw frame as the entry point recorded it (pointers to the compiler's static strings).
struct RawFrame {
  const char* file;
  const char* function;
  std::uint32_t line;
  friend bool operator==(const RawFrame&, const RawFrame&) = default;
};

struct Tracer::Impl {
  // --- live blocks: open addressing, linear probing, backward-shift deletion ---------------
  struct Slot {
    std::uintptr_t block;  // 0: empty
    std::uint32_t site;    // traceback id
    std::uint32_t size;    // bytes; kBigSize: look in big_sizes
  };
  static_assert(sizeof(Slot) == 16, "the 32-bytes-per-block bound assumes 16-byte slots");
  static constexpr std::uint32_t kBigSize = 0xffffffffu;
  Slot* slots = nullptr;  // calloc'd
  std::size_t capacity = 0;
  std::size_t used = 0;
  std::unordered_map<std::uintptr_t, std::uint64_t> big_sizes;  // blocks of 4 GiB and more

  // --- interned sites ------------------------------------------------------------------------
  struct Site {
    std::uint32_t first_frame;  // into frames
    std::uint32_t frame_count;  // 0: the unknown site
    std::uint64_t hash;
  };
  struct SiteStats {
    std::uint64_t bytes = 0, count = 0;            // live now
    std::uint64_t peak_bytes = 0, peak_count = 0;  // saved value at the peak (see top)
    std::uint64_t last_event = 0;
    std::uint64_t total_bytes = 0, total_count = 0;  // allocated ever
  };
  std::vector<RawFrame> frames;
  std::vector<Site> sites;
  std::vector<SiteStats> stats;
  std::vector<std::uint32_t> site_index;  // open addressing over sites, kNoSite: empty
  static constexpr std::uint32_t kNoSite = 0xffffffffu;
  std::unordered_map<const char*, bool> library_file;  // by file pointer, cached
  std::uint32_t unknown_site = kNoSite;                // the site of frameless allocations
  const char* last_file = nullptr;
  bool last_file_is_library = false;

  Impl() { forget_recent_pools(); }
  ~Impl() { std::free(slots); }

  std::size_t home(std::uintptr_t block) const noexcept {
    return reduce(mix(block >> 4), capacity);
  }

  Slot* find(std::uintptr_t block) noexcept {
    if (capacity == 0) return nullptr;
    for (std::size_t i = home(block);; i = i + 1 == capacity ? 0 : i + 1) {
      if (slots[i].block == block) return &slots[i];
      if (slots[i].block == 0) return nullptr;
    }
  }

  bool rehash(std::size_t new_capacity) noexcept {
    Slot* fresh = static_cast<Slot*>(std::calloc(new_capacity, sizeof(Slot)));
    if (fresh == nullptr) return false;
    Slot* old = slots;
    const std::size_t old_capacity = capacity;
    slots = fresh;
    capacity = new_capacity;
    for (std::size_t i = 0; i < old_capacity; ++i) {
      if (old[i].block == 0) continue;
      std::size_t j = home(old[i].block);
      while (slots[j].block != 0) j = j + 1 == capacity ? 0 : j + 1;
      slots[j] = old[i];
    }
    std::free(old);
    return true;
  }

  /// Inserts a block; false if the table could not grow (the block stays untraced).
  bool insert(std::uintptr_t block, std::uint32_t site, std::uint64_t size) noexcept {
    // Grow at 3/4 full to 1/2 full: slots stay within 32 bytes per live block.
    if ((used + 1) * 4 > capacity * 3 && !rehash(std::max<std::size_t>(64, (used + 1) * 2))) {
      return false;
    }
    std::size_t i = home(block);
    while (slots[i].block != 0 && slots[i].block != block) i = i + 1 == capacity ? 0 : i + 1;
    if (slots[i].block == 0) ++used;
    slots[i].block = block;
    slots[i].site = site;
    if (size >= kBigSize) {
      slots[i].size = kBigSize;
      big_sizes[block] = size;
    } else {
      slots[i].size = static_cast<std::uint32_t>(size);
    }
    return true;
  }

  std::uint64_t size_of(const Slot& slot) const {
    return slot.size == kBigSize ? big_sizes.at(slot.block) : slot.size;
  }

  /// Removes the slot, shifting later members of its probe run back (no tombstones).
  void erase(Slot* slot) noexcept {
    if (slot->size == kBigSize) big_sizes.erase(slot->block);
    std::size_t hole = static_cast<std::size_t>(slot - slots);
    for (std::size_t j = hole + 1 == capacity ? 0 : hole + 1; slots[j].block != 0;
         j = j + 1 == capacity ? 0 : j + 1) {
      const std::size_t h = home(slots[j].block);
      // Moves j into the hole unless its home lies cyclically in (hole, j].
      const bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
      if (stays) continue;
      slots[hole] = slots[j];
      hole = j;
    }
    slots[hole].block = 0;
    --used;
    // Shrink below 3/8 full back to 5/8 (hysteresis against thrashing).
    if (capacity > 1024 && used * 8 < capacity * 3) rehash(std::max<std::size_t>(64, used * 8 / 5));
  }

  void clear_large() noexcept {
    std::free(slots);
    slots = nullptr;
    capacity = used = 0;
    big_sizes.clear();
  }

  // --- small blocks: one array of 8-byte slots per pool, indexed by block number ----------
  // A pool serves one size class while it holds a live block, so a block's slot is
  // (offset in its pool) / (its block size): blocks made one after another in a pool
  // write neighbouring slots, and the tracer's work stays in cache. A hash of every
  // block's address instead sent each allocation to a cold line (5x on 100,000 dicts).
  // The array lives while the pool has a traced block: 8 bytes per block of the pool.
  struct PoolSlot {
    std::uint32_t site;  // kNoSite: no traced block here
    std::uint32_t size;  // bytes requested (small blocks are under 4 GiB)
  };
  struct PoolSlots {
    std::uintptr_t pool;       // pool number (address >> pool_shift); 0: empty entry
    std::uint32_t block_size;  // the pool's size class
    std::uint32_t live;        // traced blocks in the pool
    std::uint32_t count;       // slots
    std::uint64_t reciprocal;  // 2^40 / block_size + 1: offset / block_size without dividing
    PoolSlot slot[1];          // `count` of them (allocated past the struct's end)
  };
  std::uint32_t pool_shift = 0;  // 0: the heap has no pools (every block is large)
  std::uintptr_t pool_mask = 0;  // (1 << pool_shift) - 1: a block's offset in its pool

  std::vector<PoolSlots*> pool_table;  // open addressing by pool number; nullptr: empty
  std::size_t pools_used = 0;
  std::uint64_t pool_bytes = 0;           // bytes of all PoolSlots arrays
  PoolSlots** last_pool_entry = nullptr;  // pool_entry's last answer (reset when entries move)
  // The pool each size class last allocated from, and the one it last freed into:
  // allocations and frees alternate between classes (a dict, its key, a float...) but
  // mostly stay in one pool per class, so these answer without probing pool_table
  // (callgrind: add_block went from 86 instructions a call). Kept apart because a program
  // that frees old blocks while it makes new ones (a collection, a rebuilt list) frees into
  // other pools than it allocates from; one array would send both to pool_table.
  // Indexed by (size - 1) / 16 of the request or of the block, which agree. An entry with
  // no pool points at no_pool, whose number no block has (one test instead of two).
  static constexpr std::size_t kSmallClasses = kSmallRequestLimit / 16;
  PoolSlots no_pool{~std::uintptr_t{0}, 0, 0, 0, 0, {}};
  PoolSlots* recent_alloc_pool[kSmallClasses];
  PoolSlots* recent_free_pool[kSmallClasses];

  void forget_recent_pools() noexcept {
    std::fill(std::begin(recent_alloc_pool), std::end(recent_alloc_pool), &no_pool);
    std::fill(std::begin(recent_free_pool), std::end(recent_free_pool), &no_pool);
  }

  /// The pool in `recent` for blocks of `size` bytes if it holds `block`, or nullptr.
  [[gnu::always_inline]] PoolSlots* recent_slots(PoolSlots* const (&recent)[kSmallClasses],
                                                 std::uintptr_t block,
                                                 std::uint64_t size) const noexcept {
    if (OURO_UNLIKELY(size - 1 >= kSmallRequestLimit)) return nullptr;  // large, or 0
    PoolSlots* p = recent[(size - 1) / 16];
    return p->pool == (block >> pool_shift) ? p : nullptr;
  }

  /// The slot of the block at `offset` in pool `p` (no bounds test: the index of an offset
  /// inside the pool is below count = pool size / block size).
  [[gnu::always_inline]] static PoolSlot& slot_in(PoolSlots& p, std::uintptr_t offset) noexcept {
    return p.slot[(offset * p.reciprocal) >> 40];
  }

  std::size_t pool_home(std::uintptr_t pool) const noexcept {
    return reduce(mix(pool), pool_table.size());
  }

  PoolSlots** pool_entry(std::uintptr_t pool) noexcept {
    // Consecutive allocations and frees mostly hit the same pool: remember the last entry
    // (reset whenever entries move: grow_pool_table and drop_pool).
    if (last_pool_entry != nullptr && (*last_pool_entry)->pool == pool) return last_pool_entry;
    if (pool_table.empty()) return nullptr;
    for (std::size_t i = pool_home(pool);; i = i + 1 == pool_table.size() ? 0 : i + 1) {
      if (pool_table[i] == nullptr) return nullptr;
      if (pool_table[i]->pool == pool) return last_pool_entry = &pool_table[i];
    }
  }

  void grow_pool_table() {
    last_pool_entry = nullptr;
    std::vector<PoolSlots*> old = std::move(pool_table);
    pool_table.assign(std::max<std::size_t>(64, old.size() * 2), nullptr);
    for (PoolSlots* p : old) {
      if (p == nullptr) continue;
      std::size_t i = pool_home(p->pool);
      while (pool_table[i] != nullptr) i = i + 1 == pool_table.size() ? 0 : i + 1;
      pool_table[i] = p;
    }
  }

  /// The pool's slots for a block of `size` requested bytes, made if needed (nullptr: no
  /// memory). The pool's block size is looked up only then (a call into the allocator).
  PoolSlots* pool_slots_for(std::uintptr_t block, std::uint64_t size) {
    const std::uintptr_t pool = block >> pool_shift;
    if (PoolSlots** e = pool_entry(pool)) return *e;
    const auto block_size = static_cast<std::uint32_t>(Allocator::block_size_for(size));
    if ((pools_used + 1) * 2 > pool_table.size()) grow_pool_table();
    const std::uint32_t count =
        static_cast<std::uint32_t>((std::size_t{1} << pool_shift) / block_size);
    const std::size_t bytes = sizeof(PoolSlots) + (count - 1) * sizeof(PoolSlot);
    auto* p = static_cast<PoolSlots*>(std::malloc(bytes));
    if (p == nullptr) return nullptr;
    p->pool = pool;
    p->block_size = block_size;
    p->live = 0;
    p->count = count;
    p->reciprocal = (std::uint64_t{1} << 40) / block_size + 1;
    for (std::uint32_t k = 0; k < count; ++k) p->slot[k].site = kNoSite;
    std::size_t i = pool_home(pool);
    while (pool_table[i] != nullptr) i = i + 1 == pool_table.size() ? 0 : i + 1;
    pool_table[i] = p;
    ++pools_used;
    pool_bytes += bytes;
    return p;
  }

  PoolSlot* pool_slot(PoolSlots* p, std::uintptr_t block) const noexcept {
    // Exact for offsets below 2^31 (pools are at most 16 MiB): the rounding error of the
    // reciprocal, offset * block_size / 2^40, stays below one (checked for every class).
    const std::uint64_t offset = block & pool_mask;
    const std::size_t index = static_cast<std::size_t>((offset * p->reciprocal) >> 40);
    return index < p->count ? &p->slot[index] : nullptr;
  }

  [[gnu::noinline]] void drop_pool(PoolSlots** entry) noexcept {
    last_pool_entry = nullptr;
    PoolSlots* p = *entry;
    for (std::size_t c = 0; c < kSmallClasses; ++c) {
      if (recent_alloc_pool[c] == p) recent_alloc_pool[c] = &no_pool;
      if (recent_free_pool[c] == p) recent_free_pool[c] = &no_pool;
    }
    pool_bytes -= sizeof(PoolSlots) + (p->count - 1) * sizeof(PoolSlot);
    std::free(p);
    // Backward-shift deletion, as in the large-block table.
    std::size_t hole = static_cast<std::size_t>(entry - pool_table.data());
    const std::size_t n = pool_table.size();
    for (std::size_t j = hole + 1 == n ? 0 : hole + 1; pool_table[j] != nullptr;
         j = j + 1 == n ? 0 : j + 1) {
      const std::size_t h = pool_home(pool_table[j]->pool);
      const bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
      if (stays) continue;
      pool_table[hole] = pool_table[j];
      hole = j;
    }
    pool_table[hole] = nullptr;
    --pools_used;
  }

  // --- both kinds ---------------------------------------------------------------------
  // add_block and remove_block run on every allocation and free: their common case (a small
  // block in the pool its class last used) is inlined into the callbacks, and everything
  // else is out of line, so that the common case saves no registers (callgrind: the
  // out-of-line versions spent 20 of their 60 and 88 instructions a call entering and
  // leaving).
  struct Found {
    std::uint32_t site;  // kNoSite: the block was not traced
    std::uint64_t size;
  };

  bool is_small(std::uint64_t size) const noexcept {
    return pool_shift != 0 && size <= kSmallRequestLimit;  // what block_tag() calls small
  }

  /// Records `block`; false if the tracer had no memory for it (the block stays untraced).
  [[gnu::always_inline]] bool add_block(std::uintptr_t block, std::uint32_t site,
                                        std::uint64_t size) {
    if (PoolSlots* p = recent_slots(recent_alloc_pool, block, size)) {
      fill(*p, slot_in(*p, block & pool_mask), site, size);
      return true;
    }
    return add_block_slow(block, site, size);
  }

  [[gnu::always_inline]] static void fill(PoolSlots& p, PoolSlot& slot, std::uint32_t site,
                                          std::uint64_t size) noexcept {
    if (slot.site == kNoSite) ++p.live;
    slot.site = site;
    slot.size = static_cast<std::uint32_t>(size);
  }

  [[gnu::noinline]] bool add_block_slow(std::uintptr_t block, std::uint32_t site,
                                        std::uint64_t size) {
    if (!is_small(size)) return insert(block, site, size);
    PoolSlots* p = pool_slots_for(block, size);
    if (p == nullptr) return false;
    recent_alloc_pool[(size - 1) / 16] = p;
    PoolSlot* slot = pool_slot(p, block);
    if (slot == nullptr) return false;
    fill(*p, *slot, site, size);
    return true;
  }

  std::optional<Found> find_block(std::uintptr_t block) noexcept {
    if (pool_shift != 0) {
      if (PoolSlots** e = pool_entry(block >> pool_shift)) {
        PoolSlot* slot = pool_slot(*e, block);
        if (slot != nullptr && slot->site != kNoSite) return Found{slot->site, slot->size};
      }
    }
    if (Slot* slot = find(block)) return Found{slot->site, size_of(*slot)};
    return std::nullopt;
  }

  /// Forgets `block` and says what it was (site kNoSite: it was not traced).
  [[gnu::always_inline]] Found remove_block(std::uintptr_t block, std::uint64_t size) noexcept {
    if (PoolSlots* p = recent_slots(recent_free_pool, block, size)) {
      PoolSlot& slot = slot_in(*p, block & pool_mask);
      if (OURO_LIKELY(slot.site != kNoSite)) {
        const Found found{slot.site, slot.size};
        slot.site = kNoSite;
        if (OURO_UNLIKELY(--p->live == 0)) drop_pool(pool_entry(p->pool));
        return found;
      }
    }
    return remove_block_slow(block, size);
  }

  [[gnu::noinline]] Found remove_block_slow(std::uintptr_t block, std::uint64_t size) noexcept {
    if (pool_shift != 0) {
      if (PoolSlots** e = pool_entry(block >> pool_shift)) {
        PoolSlots* p = *e;
        PoolSlot* slot = pool_slot(p, block);
        if (slot != nullptr && slot->site != kNoSite) {
          const Found found{slot->site, slot->size};
          slot->site = kNoSite;
          if (--p->live == 0) {
            drop_pool(e);
          } else if (is_small(size)) {
            recent_free_pool[(size - 1) / 16] = p;  // the next free of the class looks here
          }
          return found;
        }
      }
    }
    if (Slot* slot = find(block)) {
      const Found found{slot->site, size_of(*slot)};
      erase(slot);
      return found;
    }
    return {kNoSite, 0};
  }

  void clear_blocks() noexcept {
    clear_large();
    for (PoolSlots*& p : pool_table) {
      std::free(p);
      p = nullptr;
    }
    last_pool_entry = nullptr;
    forget_recent_pools();
    pools_used = 0;
    pool_bytes = 0;
  }

  std::uint64_t block_table_bytes() const noexcept {
    return capacity * sizeof(Slot) + pool_bytes + pool_table.size() * sizeof(PoolSlots*);
  }

  bool is_library(const char* file) {
    if (file == last_file) return last_file_is_library;
    auto [it, inserted] = library_file.try_emplace(file, false);
    if (inserted) it->second = is_library_file(file);
    last_file = file;
    last_file_is_library = it->second;
    return it->second;
  }

  // --- the site of the running chain, cached -----------------------------------------------
  // Every allocation under an entry point needs its site: walking the chain, skipping the
  // library's own frames (a file-name test) and interning the frames (hashing and comparing
  // them) cost more than the rest of the callback. The result depends only on the frames the
  // walk looked at, so it is cached by their identities: where SourceLocation is
  // std::source_location, one pointer to the compiler's static record of the call site.
  // Direct-mapped, indexed by the innermost two frames (a library entry point called from
  // several user lines gets several entries). A hit is inlined into on_allocate; the walk
  // is out of line (its frame buffers made every call save registers and move the stack).
  static constexpr bool kLocationIsPointer = sizeof(ouro::SourceLocation) == sizeof(void*);
  static constexpr std::uint32_t kCachedDepth = 4;  // deeper walks are not cached
  struct SiteCacheEntry {
    // The identities of the innermost frame and its caller (nullptr: none), which the entry
    // is indexed by and which most walks look no further than (one frame of the user's, or
    // one of the library's called from the user's line).
    const void* key[2] = {};
    std::uint32_t site = kNoSite;
    std::uint8_t depth = 0;    // frames the walk looked at (key[0] nullptr: empty entry)
    bool chain_ended = false;  // it stopped because the chain ended, with fewer frames kept
    bool beyond_key = false;   // the answer depends on frames past the key's: see deeper
    const void* deeper[kCachedDepth - 2] = {};  // identities of the frames past the key's
  };
  static constexpr std::size_t kSiteCacheSize = 256;
  SiteCacheEntry site_cache[kSiteCacheSize];
  int site_cache_limit = 0;  // the frame limit the entries were walked with

  static const void* identity(const ouro::SourceLocation& location) noexcept {
    const void* id;
    std::memcpy(&id, &location, sizeof id);
    return id;
  }
  static const void* identity(const SiteFrame* frame) noexcept {
    return frame == nullptr ? nullptr : identity(frame->location);
  }
  static std::size_t cache_index(const void* innermost, const void* caller) noexcept {
    const auto a = reinterpret_cast<std::uintptr_t>(innermost);
    const auto b = reinterpret_cast<std::uintptr_t>(caller);
    static_assert(kSiteCacheSize == 256, "the index keeps the product's top 8 bits");
    return static_cast<std::size_t>(((a ^ (b * 0x9e3779b97f4a7c15ULL)) * 0xff51afd7ed558ccdULL) >>
                                    56);
  }

  /// Entries walked with another frame limit would give other sites: forgotten.
  void set_site_limit(int limit) noexcept {
    if (limit == site_cache_limit) return;
    std::fill(std::begin(site_cache), std::end(site_cache), SiteCacheEntry{});
    site_cache_limit = limit;
  }

  void cache_site(const SiteFrame* innermost, std::uint32_t depth, bool chain_ended,
                  std::uint32_t site) noexcept {
    if (depth > kCachedDepth) return;
    const void* first = identity(innermost);
    const void* second = identity(innermost->caller);
    SiteCacheEntry& e = site_cache[cache_index(first, second)];
    e.key[0] = first;
    e.key[1] = second;
    const SiteFrame* f = innermost->caller;
    for (std::uint32_t k = 2; k < depth; ++k) {
      f = f->caller;
      e.deeper[k - 2] = identity(f);
    }
    e.depth = static_cast<std::uint8_t>(depth);
    e.chain_ended = chain_ended;
    // The key covers the first two frames, and with depth 1 the chain's end after the first.
    e.beyond_key = depth > 2 || (depth == 2 && chain_ended);
    e.site = site;
  }

  /// The cached site of the running chain when its key alone decides it (the common case,
  /// inlined into on_allocate), or kNoSite. With no entry point running: the unknown site.
  [[gnu::always_inline]] std::uint32_t quick_site(int native_frames) const noexcept {
    if constexpr (!kLocationIsPointer) return kNoSite;
    const SiteFrame* innermost = ouro::current_site();
    if (OURO_UNLIKELY(innermost == nullptr || native_frames != 0)) {
      return native_frames == 0 ? unknown_site : kNoSite;
    }
    const void* first = identity(innermost->location);
    const void* second = identity(innermost->caller);
    const SiteCacheEntry& e = site_cache[cache_index(first, second)];
    const bool hit = e.key[0] == first && e.key[1] == second && !e.beyond_key;
    return OURO_LIKELY(hit) ? e.site : kNoSite;
  }

  /// The cached site of the chain from `innermost` (not nullptr), or kNoSite.
  std::uint32_t cached_site(const SiteFrame* innermost) const noexcept {
    const void* first = identity(innermost);
    const SiteFrame* f = innermost->caller;
    const SiteCacheEntry& e = site_cache[cache_index(first, identity(f))];
    if (e.key[0] != first || e.key[1] != identity(f)) return kNoSite;
    if (!e.beyond_key) return e.site;
    f = f->caller;  // the walk looked at the caller (depth >= 2): not nullptr
    for (std::uint32_t k = 2; k < e.depth; ++k, f = f->caller) {
      if (identity(f) != e.deeper[k - 2] || f == nullptr) return kNoSite;
    }
    return e.chain_ended && f != nullptr ? kNoSite : e.site;
  }

  /// The site of an allocation made now: up to `limit` user frames of the entry-point
  /// chain (library frames skipped; the innermost one kept if there is no user frame).
  /// `limit` is the one given to set_site_limit.
  std::uint32_t current_site(int limit, int native_frames) {
    const SiteFrame* innermost = ouro::current_site();
    if (kLocationIsPointer && innermost != nullptr && native_frames == 0) {
      const std::uint32_t cached = cached_site(innermost);
      if (cached != kNoSite) return cached;
    }
    if (native_frames > 0) return site_with_native_frames(innermost, limit, native_frames);
    if (innermost == nullptr) {  // no entry point running: the unknown site, interned once
      if (unknown_site == kNoSite) unknown_site = intern(nullptr, 0);
      return unknown_site;
    }
    return walk_site(innermost, limit);
  }

  [[gnu::noinline]] std::uint32_t walk_site(const SiteFrame* innermost, int limit) {
    RawFrame buffer[kMaxFrames];
    std::uint32_t n = 0, depth = 0;
    for (const SiteFrame* f = innermost; f != nullptr && n < static_cast<std::uint32_t>(limit);
         f = f->caller, ++depth) {
      if (is_library(f->location.file_name())) continue;
      buffer[n++] = {f->location.file_name(), f->location.function_name(), f->location.line()};
    }
    // Fewer frames than the limit: the walk ran to the chain's end, and its answer depends
    // on the chain ending there.
    const bool chain_ended = n < static_cast<std::uint32_t>(limit);
    if (n == 0) {
      buffer[n++] = {innermost->location.file_name(), innermost->location.function_name(),
                     innermost->location.line()};
    }
    const std::uint32_t site = intern(buffer, n);
    if constexpr (kLocationIsPointer) cache_site(innermost, depth, chain_ended, site);
    return site;
  }

  // --- native frames ------------------------------------------------------------------------
  // A native frame is kept raw in the site (file nullptr, the return address in `function`)
  // and symbolized when a traceback is read. The stack is captured deeper than asked: the
  // first frames are the tracer's and the allocator's own, skipped when symbolized.
  static constexpr int kNativeSlack = 24;  // ouro's frames above the user's, at most
  mutable native::Symbolizer symbolizer;

  std::uint32_t site_with_native_frames(const SiteFrame* innermost, int limit, int native_frames) {
    RawFrame buffer[kMaxFrames + kMaxFrames + kNativeSlack];
    std::uint32_t n = 0;
    for (const SiteFrame* f = innermost; f != nullptr && n < static_cast<std::uint32_t>(limit);
         f = f->caller) {
      if (is_library(f->location.file_name())) continue;
      buffer[n++] = {f->location.file_name(), f->location.function_name(), f->location.line()};
    }
    if (n == 0 && innermost != nullptr) {
      buffer[n++] = {innermost->location.file_name(), innermost->location.function_name(),
                     innermost->location.line()};
    }
    void* stack[kMaxFrames + kNativeSlack];
    const int got = native::capture(stack, native_frames + kNativeSlack);
    for (int k = 0; k < got; ++k) buffer[n++] = {nullptr, static_cast<const char*>(stack[k]), 0};
    return intern(buffer, n);
  }

  /// The native frames of a site as the user sees them: ouro's own frames at the top of
  /// the stack dropped, at most `limit` kept, and none repeating a line already shown.
  void append_native_frames(const RawFrame* raw, std::uint32_t n, int limit,
                            std::vector<Frame>& out) const {
    std::uint32_t k = 0;
    while (k < n && symbolizer.resolve(reinterpret_cast<std::uintptr_t>(raw[k].function)).library) {
      ++k;
    }
    if (k == n) k = 0;  // all of it ouro's (a program inside namespace ouro): show it all
    for (int kept = 0; k < n && kept < limit; ++k) {
      const native::Symbol& s =
          symbolizer.resolve(reinterpret_cast<std::uintptr_t>(raw[k].function));
      Frame frame{s.file.empty() ? std::string("<native>") : s.file, s.line, s.function};
      const bool repeated = std::any_of(out.begin(), out.end(), [&](const Frame& f) {
        return f.lineno == frame.lineno && same_file(f.filename, frame.filename);
      });
      if (repeated) continue;
      out.push_back(std::move(frame));
      ++kept;
    }
  }

  std::uint32_t intern(const RawFrame* raw, std::uint32_t n) {
    std::uint64_t hash = n;
    for (std::uint32_t i = 0; i < n; ++i) {
      hash = mix(hash ^ reinterpret_cast<std::uintptr_t>(raw[i].file)) ^ raw[i].line;
      hash = mix(hash ^ reinterpret_cast<std::uintptr_t>(raw[i].function));
    }
    if ((sites.size() + 1) * 2 > site_index.size()) grow_site_index();
    std::size_t i = reduce(hash, site_index.size());
    for (;; i = i + 1 == site_index.size() ? 0 : i + 1) {
      const std::uint32_t id = site_index[i];
      if (id == kNoSite) break;
      const Site& site = sites[id];
      if (site.hash == hash && site.frame_count == n &&
          std::equal(raw, raw + n, frames.begin() + site.first_frame)) {
        return id;
      }
    }
    const auto id = static_cast<std::uint32_t>(sites.size());
    sites.push_back({static_cast<std::uint32_t>(frames.size()), n, hash});
    frames.insert(frames.end(), raw, raw + n);
    stats.emplace_back();
    site_index[i] = id;
    return id;
  }

  void grow_site_index() {
    site_index.assign(std::max<std::size_t>(64, site_index.size() * 2), kNoSite);
    for (std::uint32_t id = 0; id < sites.size(); ++id) {
      std::size_t i = reduce(sites[id].hash, site_index.size());
      while (site_index[i] != kNoSite) i = i + 1 == site_index.size() ? 0 : i + 1;
      site_index[i] = id;
    }
  }

  Traceback traceback_of(std::uint32_t id, int native_limit) const {
    Traceback tb;
    const Site& site = sites[id];
    for (std::uint32_t k = 0; k < site.frame_count; ++k) {
      const RawFrame& raw = frames[site.first_frame + k];
      if (raw.file == nullptr) {  // the native frames follow the entry points
        append_native_frames(&raw, site.frame_count - k, native_limit, tb.frames);
        break;
      }
      tb.frames.push_back({raw.file, raw.line, raw.function});
    }
    if (tb.frames.empty()) tb.frames.push_back({"<unknown>", 0, {}});
    return tb;
  }

  std::uint64_t memory() const noexcept {
    return block_table_bytes() + big_sizes.size() * 32 + frames.capacity() * sizeof(RawFrame) +
           sites.capacity() * sizeof(Site) + stats.capacity() * sizeof(SiteStats) +
           site_index.capacity() * sizeof(std::uint32_t) + library_file.size() * 32 +
           sizeof(Impl);  // sizeof(Impl) includes the site cache
  }
};

Tracer::Tracer(Heap& heap) : heap_(heap), impl_(std::make_unique<Impl>()) {
  // Small blocks live in pools of one size class, pool_size-aligned (ouro/alloc/allocator.h):
  // the tracer indexes their slots by pool (see Impl).
  impl_->pool_shift = heap.allocator().block_tag(1);
  impl_->pool_mask = (std::uintptr_t{1} << impl_->pool_shift) - 1;
  std::lock_guard lock(registry_mutex);
  for (auto& [h, t] : registry()) {
    if (h == &heap) throw std::logic_error("ouro::trace::Tracer: the heap already has a tracer");
  }
  registry().emplace_back(&heap, this);
}

Tracer::~Tracer() {
  stop();
  std::lock_guard lock(registry_mutex);
  std::erase_if(registry(), [&](const auto& entry) { return entry.second == this; });
}

Tracer* Tracer::of(const Heap& heap) noexcept {
  std::lock_guard lock(registry_mutex);
  for (auto& [h, t] : registry()) {
    if (h == &heap) return t;
  }
  return nullptr;
}

void Tracer::start(int frames, int native_frames) {
  if (frames < 1 || frames > kMaxFrames) {
    throw std::invalid_argument(fmt::format(
        "ouro::trace::Tracer::start: frames must be in 1..{}, got {}", kMaxFrames, frames));
  }
  if (native_frames < 0 || native_frames > kMaxFrames) {
    throw std::invalid_argument(
        fmt::format("ouro::trace::Tracer::start: native_frames must be in 0..{}, got {}",
                    kMaxFrames, native_frames));
  }
  frames_ = frames;
  impl_->set_site_limit(frames);
  if (native_frames > 0 && native_frames_ == 0) {
    // The first backtrace() loads the unwinder (a dlopen and malloc): not inside a callback.
    void* warm_up[1];
    native::capture(warm_up, 1);
  }
  native_frames_ = native_frames;
  if (tracing_) return;
  if (heap_.allocator().observer() != nullptr) {
    throw std::logic_error(
        "ouro::trace::Tracer::start: the heap's allocator already has an "
        "observer");
  }
  // The gc callback list lives in the heap: added before observing, so it is not traced.
  gc_callback_ = gc::callbacks(heap_).add(
      GcListener{this, [](Tracer* t, const std::string& phase, const gc::CollectionInfo& info) {
                   t->record_collection(phase, info);
                 }});
  heap_.allocator().set_observer(this);
  tracing_ = true;
  ouro::detail::running_tracers.fetch_add(1, std::memory_order_relaxed);  // entry points record
  start_ns_ = process_epoch_ns();
  add_sample();
}

void Tracer::stop() noexcept {
  if (!tracing_) return;
  heap_.allocator().set_observer(nullptr);
  tracing_ = false;
  ouro::detail::running_tracers.fetch_sub(1, std::memory_order_relaxed);
  if (gc_callback_) gc::callbacks(heap_).remove(*gc_callback_);
  gc_callback_.reset();
  clear_traces();
}

void Tracer::clear_traces() noexcept {
  impl_->clear_blocks();
  for (auto& s : impl_->stats) s = {};
  current_ = peak_ = scope_peak_ = 0;
  event_ = peak_event_ = last_sample_bytes_ = 0;
  set_sample_window();
  samples_.clear();
  collections_.clear();
  scopes_.clear();
  leaks_.clear();
}

void Tracer::reset_peak() noexcept {
  peak_ = current_;
  peak_event_ = event_;
  set_sample_window();  // a lower peak: a narrower window
}

std::uint64_t Tracer::tracer_memory() const noexcept {
  return impl_->memory() + samples_.capacity() * sizeof(Sample) +
         collections_.capacity() * sizeof(CollectionEvent);
}

std::uint64_t Tracer::trace_table_bytes() const noexcept { return impl_->block_table_bytes(); }

std::uint64_t Tracer::now_ns() const noexcept { return steady_ns() - start_ns_; }

// The callbacks run on every allocation and free of the traced heap. Their common case (the
// site found in the cache by the chain's first two frames, a small block of a pool the
// size class used last) is inlined into them and calls nothing, so it saves no registers
// and sets no re-entry guard: anything else (a site to walk, a pool to look up or make, a
// large block, a sample to write) goes to on_allocate_slow / on_deallocate_slow, which
// redo the whole callback under the guard.

inline void Tracer::count_allocation(std::uint32_t site, std::uint64_t size) noexcept {
  Impl::SiteStats& s = impl_->stats[site];
  s.total_bytes += size;
  ++s.total_count;
  ++event_;
  if (s.last_event <= peak_event_) {  // still holds its value at the peak: save it
    s.peak_bytes = s.bytes;
    s.peak_count = s.count;
  }
  s.last_event = event_;
  s.bytes += size;
  ++s.count;
  current_ += size;
  if (current_ > peak_) {
    peak_ = current_;
    peak_event_ = event_;
  }
  if (current_ > scope_peak_) scope_peak_ = current_;
}

inline void Tracer::count_free(std::uint32_t site, std::uint64_t size) noexcept {
  Impl::SiteStats& s = impl_->stats[site];
  ++event_;
  if (s.last_event <= peak_event_) {
    s.peak_bytes = s.bytes;
    s.peak_count = s.count;
  }
  s.last_event = event_;
  s.bytes -= size;
  --s.count;
  current_ -= size;  // never above the peak: no peak to update
}

// A timeline point whenever the traced total moved by sample_step_for(peak) since the last
// one (see add_sample). The window of totals that need no point is kept as a start and a
// width, one subtraction and one comparison a change; it is computed from the peak when it
// is set and not widened as the peak grows, so leaving it sends the callback to
// sample_if_moved, which widens it and checks again.
inline bool Tracer::outside_sample_window() const noexcept {
  return current_ - sample_low_ >= sample_width_;
}

void Tracer::set_sample_window() noexcept {
  const std::uint64_t step = sample_step_for(peak_);
  sample_low_ = last_sample_bytes_ - step + 1;  // wraps below 0: no total is that low
  sample_width_ = 2 * step - 1;                 // low .. last + step - 1 need no point
}

void Tracer::sample_if_moved() noexcept {
  set_sample_window();
  if (outside_sample_window()) add_sample();
}

void Tracer::on_allocate(void* block, std::size_t size) noexcept {
  if (in_callback_) return;  // the tracer never traces itself
  Impl& impl = *impl_;
  const auto address = reinterpret_cast<std::uintptr_t>(block);
  const std::uint32_t site = impl.quick_site(native_frames_);
  Impl::PoolSlots* pool = impl.recent_slots(impl.recent_alloc_pool, address, size);
  if (OURO_UNLIKELY(site == Impl::kNoSite || pool == nullptr)) {
    return on_allocate_slow(block, size);
  }
  Impl::fill(*pool, Impl::slot_in(*pool, address & impl.pool_mask), site, size);
  count_allocation(site, size);
  if (OURO_UNLIKELY(outside_sample_window())) on_sample_slow();
}

void Tracer::on_allocate_slow(void* block, std::size_t size) noexcept {
  in_callback_ = true;
  try {
    const std::uint32_t site = impl_->current_site(frames_, native_frames_);
    if (impl_->add_block(reinterpret_cast<std::uintptr_t>(block), site, size)) {
      count_allocation(site, size);
      if (outside_sample_window()) sample_if_moved();
    }
  } catch (...) {
    // Out of the C library's memory for the tracer's tables: this block stays untraced.
  }
  in_callback_ = false;
}

void Tracer::on_deallocate(void* block, std::size_t size) noexcept {
  if (in_callback_) return;
  Impl& impl = *impl_;
  const auto address = reinterpret_cast<std::uintptr_t>(block);
  Impl::PoolSlots* pool = impl.recent_slots(impl.recent_free_pool, address, size);
  if (OURO_UNLIKELY(pool == nullptr)) return on_deallocate_slow(block, size);
  Impl::PoolSlot& slot = Impl::slot_in(*pool, address & impl.pool_mask);
  // An untraced block, or the pool's last traced one (its slots go): the slow path.
  if (OURO_UNLIKELY(slot.site == Impl::kNoSite || pool->live == 1)) {
    return on_deallocate_slow(block, size);
  }
  const std::uint32_t site = slot.site;
  slot.site = Impl::kNoSite;
  --pool->live;
  count_free(site, slot.size);
  if (OURO_UNLIKELY(outside_sample_window())) on_sample_slow();
}

void Tracer::on_deallocate_slow(void* block, std::size_t size) noexcept {
  in_callback_ = true;
  const Impl::Found found = impl_->remove_block(reinterpret_cast<std::uintptr_t>(block), size);
  if (found.site != Impl::kNoSite) {
    count_free(found.site, found.size);
    if (outside_sample_window()) sample_if_moved();
  }
  in_callback_ = false;
}

void Tracer::on_sample_slow() noexcept {
  in_callback_ = true;
  sample_if_moved();
  in_callback_ = false;
}

std::uint64_t Tracer::traced_blocks() const noexcept {
  std::uint64_t blocks = 0;
  for (const Impl::SiteStats& s : impl_->stats) blocks += s.count;
  return blocks;
}

void Tracer::add_sample() noexcept {
  last_sample_bytes_ = current_;
  set_sample_window();
  const Sample sample{now_ns(), current_};
  try {
    if (writer_ != nullptr) {
      writer_->write_sample(heap_id_, sample);
      return;
    }
    if (samples_.size() >= 100000) {  // keep memory bounded: every other point
      std::size_t j = 0;
      for (std::size_t i = 0; i < samples_.size(); i += 2) samples_[j++] = samples_[i];
      samples_.resize(j);
    }
    samples_.push_back(sample);
  } catch (...) {
    // No memory for the point: the timeline misses it.
  }
}

void Tracer::record_collection(const std::string& phase, const gc::CollectionInfo& info) noexcept {
  if (phase == "start") {
    collection_start_ns_ = now_ns();
    return;
  }
  const CollectionEvent event{collection_start_ns_, now_ns() - collection_start_ns_,
                              info.generation, info.collected, info.uncollectable};
  try {
    if (writer_ != nullptr) {
      writer_->write_collection(heap_id_, event);
    } else {
      collections_.push_back(event);
    }
  } catch (...) {
  }
  add_sample();
}

void Tracer::add_scope(ScopeRecord scope) {
  if (writer_ != nullptr) {
    writer_->write_scope(heap_id_, scope);
  } else {
    scopes_.push_back(std::move(scope));
  }
}

void Tracer::add_leak(LeakRecord leak) {
  if (writer_ != nullptr) {
    writer_->write_leak(heap_id_, leak);
  } else {
    leaks_.push_back(std::move(leak));
  }
}

void Tracer::stream_to(CaptureWriter* writer, std::uint64_t heap_id) noexcept {
  writer_ = writer;
  heap_id_ = heap_id;
}

Snapshot Tracer::snapshot_of(int which) const {
  // which: 0 live now, 1 at the peak, 2 allocated ever.
  std::map<Traceback, Snapshot::Trace> merged;  // equal text from different TUs merges
  for (std::uint32_t id = 0; id < impl_->stats.size(); ++id) {
    const Impl::SiteStats& s = impl_->stats[id];
    std::uint64_t bytes = s.bytes, count = s.count;
    if (which == 1 && s.last_event > peak_event_) {
      bytes = s.peak_bytes;
      count = s.peak_count;
    } else if (which == 2) {
      bytes = s.total_bytes;
      count = s.total_count;
    }
    if (count == 0) continue;
    Traceback tb = impl_->traceback_of(id, native_frames_);
    auto& trace = merged[tb];
    if (trace.count == 0) trace.traceback = std::move(tb);
    trace.size += bytes;
    trace.count += count;
  }
  std::vector<Snapshot::Trace> traces;
  traces.reserve(merged.size());
  for (auto& [key, trace] : merged) traces.push_back(std::move(trace));
  return Snapshot(std::move(traces), frames_);
}

Snapshot Tracer::take_snapshot() const { return snapshot_of(0); }
Snapshot Tracer::peak_snapshot() const { return snapshot_of(1); }
Snapshot Tracer::totals_snapshot() const { return snapshot_of(2); }

std::optional<Traceback> Tracer::get_traceback(const void* block) const {
  const auto found = impl_->find_block(reinterpret_cast<std::uintptr_t>(block));
  if (!found) return std::nullopt;
  return impl_->traceback_of(found->site, native_frames_);
}

std::optional<Traceback> Tracer::get_object_traceback(const Object& object) const {
  // A container's block starts with the collector's links, just before the object.
  const char* start = reinterpret_cast<const char*>(&object);
  if (object.is_container()) start -= sizeof(ouro::detail::GcLinks);
  return get_traceback(start);
}

std::optional<Traceback> get_object_traceback(const Object& object) {
  Tracer* tracer = Tracer::of(object.heap());
  if (tracer == nullptr) return std::nullopt;
  return tracer->get_object_traceback(object);
}

}  // namespace ouro::trace
