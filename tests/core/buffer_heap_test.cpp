// A heap carved from a caller's static buffer: everything fits in 64 KiB, and after
// construction nothing calls the system allocator (support/count_system_allocations.h
// counts the calls). The pickle layer's part is tests/pickle/buffer_heap_test.cpp.
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "ouro/core/gc.h"
#include "ouro/core/heap.h"
#include "ouro/core/ref.h"
#include "ouro/core/weakref.h"
#include "ouro/value/value.h"
#include "ouro/weak/containers.h"
#include "ouro/weak/finalize.h"
#include "support/count_system_allocations.h"

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

class Phoenix : public ouro::Object {
 public:
  explicit Phoenix(int* finalized) : finalized_(finalized) {}
  ouro::Ref<Phoenix> next;
  void traverse(ouro::Visitor& visit) override { visit(next); }
  void clear() override { next = nullptr; }
  void finalize() override { ++*finalized_; }

 protected:
  ~Phoenix() override = default;

 private:
  int* finalized_;
};

alignas(64) std::byte g_large_buffer[4 << 20];

// Every byte in the heap (issue: the limit and the static buffer bound everything): values,
// a collection with finalizers and weak-reference callbacks, weak containers, finalize, and
// the heap's destruction, all without one call to the system allocator.
TEST(BufferBacking, NothingButTheBufferFromConstructionToDestruction) {
  std::optional<ouro::Heap> heap;
  heap.emplace(ouro::HeapOptions{.buffer = g_large_buffer, .buffer_size = sizeof g_large_buffer});
  int finalized = 0, called_back = 0, finalize_calls = 0;
  std::size_t calls = 0;
  {
    CountSystemAllocations counter;
    {
      ouro::HeapScope scope(*heap);
      // Values: containers, strings, big and small ints, floats, a cycle through a list.
      ouro::Value records = ouro::list();
      for (int i = 0; i < 200; ++i) {
        records.as<ouro::List>().append(
            ouro::dict({{ouro::Value("id"), ouro::Value(i)},
                        {ouro::Value("name"), ouro::Value("sensor_data")},
                        {ouro::Value("big"), ouro::Value(std::int64_t{1} << 62)},
                        {ouro::Value("ratio"), ouro::Value(i / 7.0)}}));
      }
      records.as<ouro::List>().append(records);  // the list holds itself
      // Weak references with callbacks to objects in a cycle that has finalizers.
      auto a = ouro::make<Phoenix>(&finalized);
      auto b = ouro::make<Phoenix>(&finalized);
      a->next = b;
      b->next = a;
      ouro::Weak<Phoenix> weak_a(
          a, [&called_back](const ouro::Ref<ouro::WeakRef>&) { ++called_back; });
      ouro::WeakValueDictionary<int, Phoenix> cache;
      cache.set(1, a);
      cache.set(2, b);
      ouro::WeakSet<Phoenix> seen;
      seen.add(a);
      auto f = ouro::finalize(b, [&finalize_calls] { ++finalize_calls; });
      a.reset();
      b.reset();
      records = ouro::Value();
      // The records list and the two Phoenixes (the dicts hold only atoms: untracked, as
      // in CPython, so the collector neither walks nor counts them).
      EXPECT_GE(ouro::gc::collect(), 3u);
      EXPECT_EQ(cache.size(), 0u);
      EXPECT_EQ(seen.size(), 0u);
      EXPECT_FALSE(f.alive());
    }
    heap.reset();  // shutdown: finalize's registry, the last collection, the tables
    calls = counter.count();
  }
  EXPECT_EQ(calls, 0u);
  EXPECT_EQ(finalized, 2);
  EXPECT_EQ(called_back, 1);
  EXPECT_EQ(finalize_calls, 1);
}

}  // namespace
