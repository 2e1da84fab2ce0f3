// Tour chapter: the private heap (scenario 4's theme: every byte counts).
#include <fmt/format.h>

#include <iostream>
#include <vector>

#include "ouro/core/heap.h"
#include "tour.h"

namespace ouro::tour {

void heap_chapter() {
  say("ouro keeps every object in a private heap, like CPython's pymalloc: requests up to "
      "512 bytes are rounded to one of 32 size classes and served from 16 KiB pools, which "
      "are cut from 1 MiB arenas. Let us make a heap with a hard limit of 2 MiB.");
  Heap heap({.limit_bytes = 2 << 20});
  // The tour shows the heap alone here; no collector relief is wanted for this demo.
  heap.set_pressure_hook([](Heap&, std::size_t) {});

  std::vector<void*> blocks;
  for (int i = 0; i < 10000; ++i) blocks.push_back(heap.allocate(24 + (i % 5) * 16));
  HeapStats s = heap.stats();
  say("We allocate 10,000 small blocks of 24 to 88 bytes.");
  show(fmt::format("{} bytes in live blocks, {} bytes taken from the system, {} arena(s)",
                   s.bytes_in_use, s.bytes_reserved, s.arenas));

  for (std::size_t i = 0; i < blocks.size(); i += 2) heap.deallocate(blocks[i], 24 + (i % 5) * 16);
  s = heap.stats();
  say("We free every second block. Their pools stay, half empty: that is fragmentation, "
      "memory the heap holds but can only reuse for blocks of the same size.");
  show(fmt::format("{} bytes in live blocks; fragmentation {:.1f}%", s.bytes_in_use,
                   100.0 * s.fragmentation()));

  say("The heap's statistics table, in the manner of CPython's sys._debugmallocstats():");
  heap.debug_mallocstats(std::cout);

  say("Now we ask for more than the limit allows, 512 KiB at a time.");
  std::vector<void*> big;
  try {
    for (;;) big.push_back(heap.allocate(512 << 10));
  } catch (const MemoryError& e) {
    show(fmt::format("after {} large blocks: {}", big.size(), e.what()));
  }
  for (void* p : big) heap.deallocate(p, 512 << 10);
  void* again = heap.allocate(512 << 10);
  say("The failure left the heap consistent: we free the large blocks and the same request "
      "succeeds.");
  show(fmt::format("allocated again; heap verified: {}", heap.verify() ? "yes" : "no"));
  heap.deallocate(again, 512 << 10);
  for (std::size_t i = 1; i < blocks.size(); i += 2) heap.deallocate(blocks[i], 24 + (i % 5) * 16);
  s = heap.stats();
  say("Freeing everything gives whole arenas back to the system.");
  show(
      fmt::format("{} bytes in live blocks, {} bytes still reserved (the heap's own tables "
                  "and one arena kept to avoid thrashing), peak {} bytes",
                  s.bytes_in_use, s.bytes_reserved, s.peak_bytes_reserved));
}

}  // namespace ouro::tour
