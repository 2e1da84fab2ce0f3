// A heap carved from a caller's static buffer: everything fits in 64 KiB, and after
// construction nothing calls the system allocator. This binary replaces the global
// operator new (and, outside sanitizer builds, malloc) with counting versions to prove it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <vector>

#include "ouro/core/gc.h"
#include "ouro/core/heap.h"
#include "ouro/core/ref.h"

namespace {
std::size_t g_system_allocations = 0;
bool g_counting = false;
}  // namespace

// The replacements pair malloc with free on purpose; GCC cannot see that operator new here
// is ours and warns that free() does not match it.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t n) {
  if (g_counting) ++g_system_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

#if !defined(__SANITIZE_ADDRESS__)
extern "C" void* __libc_malloc(std::size_t);
extern "C" void* malloc(std::size_t n) {
  if (g_counting) ++g_system_allocations;
  return __libc_malloc(n);
}
#endif

namespace {

class Cell : public ouro::Object {
 public:
  ouro::Ref<Cell> next;
  int value = 0;
  void traverse(ouro::Visitor& visit) override { visit(next); }
  void clear() override { next = nullptr; }

 protected:
  ~Cell() override = default;
};

// Counting scope: allocations made between start and stop.
struct CountSystemAllocations {
  CountSystemAllocations() {
    g_system_allocations = 0;
    g_counting = true;
  }
  ~CountSystemAllocations() { g_counting = false; }
  std::size_t count() const { return g_system_allocations; }
};

alignas(64) std::byte g_buffer[64 * 1024];

TEST(BufferBacking, AWholeHeapFitsIn64KiBWithoutTheSystemAllocator) {
  ouro::Heap heap({.arena_size = 8 * 1024,
                   .pool_size = 1024,
                   .limit_bytes = 0,
                   .buffer = g_buffer,
                   .buffer_size = sizeof g_buffer});
  ouro::HeapScope scope(heap);
  std::size_t calls = 0;
  {
    CountSystemAllocations counter;
    void* blocks[100];
    for (int round = 0; round < 50; ++round) {
      for (int i = 0; i < 100; ++i) blocks[i] = heap.allocate(16 + (i * 7) % 240);
      void* large = heap.allocate(3000);
      for (int i = 0; i < 100; i += 2) heap.deallocate(blocks[i], 16 + (i * 7) % 240);
      heap.deallocate(large, 3000);
      for (int i = 1; i < 100; i += 2) heap.deallocate(blocks[i], 16 + (i * 7) % 240);
    }
    {
      auto a = ouro::make<Cell>();
      auto b = ouro::make<Cell>();
      a->next = b;
      b->next = a;
    }
    EXPECT_EQ(ouro::gc::collect(), 2u);
    calls = counter.count();
  }
  EXPECT_EQ(calls, 0u);
  EXPECT_TRUE(heap.verify());
  EXPECT_LE(heap.stats().peak_bytes_reserved, sizeof g_buffer);
}

TEST(BufferBacking, ExhaustedBufferThrowsMemoryErrorAndRecovers) {
  ouro::Heap heap({.arena_size = 8 * 1024,
                   .pool_size = 1024,
                   .limit_bytes = 0,
                   .buffer = g_buffer,
                   .buffer_size = sizeof g_buffer});
  std::vector<void*> blocks;
  EXPECT_THROW(
      {
        for (;;) blocks.push_back(heap.allocate(2000));
      },
      ouro::MemoryError);
  EXPECT_GT(blocks.size(), 20u);  // most of the 64 KiB was usable
  EXPECT_TRUE(heap.verify());
  for (void* p : blocks) heap.deallocate(p, 2000);
  // Freed chunks coalesce: one big request fits again.
  void* big = heap.allocate(48 * 1024);
  heap.deallocate(big, 48 * 1024);
  std::vector<void*> small;
  for (int i = 0; i < 100; ++i) small.push_back(heap.allocate(100));
  for (void* p : small) heap.deallocate(p, 100);
  EXPECT_TRUE(heap.verify());
}

}  // namespace
