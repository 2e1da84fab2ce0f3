// The heap's vocabulary and its internal structures (mimalloc's habit: define the words once).
//
//   block       what allocate() returns: a 16-byte aligned run of bytes.
//   size class  one of 32 block sizes, 16..512 bytes in 16-byte steps; index = (n-1)/16.
//   pool        a pool_size-aligned run of pool_size bytes (default 16 KiB) holding blocks of
//               one size class after a Pool header. Because pools are aligned to their size,
//               the header of the pool holding block p is at p & ~(pool_size-1).
//   arena       arena_size bytes (default 1 MiB) taken from the backing in one piece and cut
//               into pools. The first pool's header is followed by the Arena header, so the
//               arena needs no memory of its own elsewhere.
//   large block a request over 512 bytes: taken from the backing on its own, behind a
//               LargeBlock header.
//   backing     where arenas and large blocks come from: the system (mmap for arenas,
//               malloc for large blocks) or a caller's static buffer (first-fit chunks).
//   page        not used: the OS page size matters only to the system backing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "ouro/alloc/allocator.h"

namespace ouro {

/// A free block: the first word links the pool's free list.
struct FreeBlock {
  FreeBlock* next;
};

/// Header at the start of every pool. Field validity:
///   free_list        valid while the pool serves a class; nullptr means "full" (a pool with
///                    no free block is not on its class's list).
///   next, prev       list of used_pools_[size_class] (not circular) while it has a free block;
///   `next` alone
///                    links the arena's free pools while the pool serves no class.
struct Allocator::Pool {
  FreeBlock* free_list;        // free blocks of this pool, most recently freed first
  Pool* next;                  // see above
  Pool* prev;                  // see above
  Arena* arena;                // the arena this pool was cut from
  Allocator* owner;            // found from any block by masking
  std::uint32_t used;          // live blocks
  std::uint32_t size_class;    // index into size classes; kNoClass while free
  std::uint32_t first_offset;  // offset of the first block (after the headers)
  std::uint32_t next_offset;   // offset of the first never-carved block (lazy carving)
  std::uint32_t max_offset;    // carving stops once next_offset passes this
  std::uint32_t magic;         // kPoolMagic while the pool is held; catches foreign pointers
};

/// Header of an arena, right after the Pool header of its first pool.
/// Membership: every held arena is on all_arenas_; an arena with at least one free pool is
/// also on usable_arenas_, which is sorted by nfree_pools ascending (most used first, so
/// lightly used arenas empty out and go back to the backing).
struct Allocator::Arena {
  std::byte* base;             // first byte (== the first pool)
  Pool* free_pools;            // pools given back, reusable by any class
  std::uint32_t nfree_pools;   // free pools, including never-used ones
  std::uint32_t ntotal_pools;  // pools in this arena
  std::uint32_t next_fresh;    // index of the first never-used pool
  std::uint32_t padding;
  Arena* next_usable;  // usable_arenas_ neighbours
  Arena* prev_usable;
  Arena* next_all;  // all_arenas_ neighbours
  Arena* prev_all;
};

/// Header in front of every large block.
struct Allocator::LargeBlock {
  LargeBlock* next;  // all live large blocks of the heap
  LargeBlock* prev;
  Allocator* owner;  // the allocator that owns it
  std::size_t size;  // payload bytes (request rounded up to 16)
};

/// A free run of the caller's buffer (buffer backing), kept in address order and coalesced.
struct Allocator::FreeChunk {
  FreeChunk* next;
  std::size_t size;  // bytes including this header; a multiple of 16
};

static_assert(offsetof(Allocator::Pool, owner) == Allocator::kPoolOwnerOffset);
static_assert(offsetof(Allocator::LargeBlock, owner) == Allocator::kLargeOwnerOffset);
static_assert(sizeof(Allocator::LargeBlock) == Allocator::kLargeHeaderBytes);

inline constexpr std::uint32_t kPoolMagic = 0x6f75726f;  // "ouro"
inline constexpr std::uint32_t kNoClass = 0xffffffff;
inline constexpr unsigned char kFreshByte = 0xCD;  // debug: newly allocated block contents
inline constexpr unsigned char kDeadByte = 0xDD;   // debug: freed block contents

static_assert(sizeof(Allocator::LargeBlock) % kAlignment == 0);

/// Size class index of a small request (n in 1..512).
constexpr std::size_t size_class_of(std::size_t n) noexcept { return (n - 1) / kAlignment; }
/// Block size of a size class.
constexpr std::size_t class_block_size(std::size_t size_class) noexcept {
  return (size_class + 1) * kAlignment;
}
constexpr std::size_t round_up(std::size_t n, std::size_t align) noexcept {
  return (n + align - 1) & ~(align - 1);
}

/// The allocator's structure at `p`. Pools start on pool_size boundaries and blocks on
/// kAlignment ones by construction, which -Wcast-align cannot see on strict-alignment
/// targets (Cortex-M): the cast goes through void*, and debug builds check the alignment.
template <class T, class Byte>
T* structure_at(Byte* p) noexcept {
  OURO_ASSERT(reinterpret_cast<std::uintptr_t>(p) % alignof(T) == 0);
  if constexpr (std::is_const_v<Byte>) {
    return static_cast<T*>(static_cast<const void*>(p));
  } else {
    return static_cast<T*>(static_cast<void*>(p));
  }
}

}  // namespace ouro
