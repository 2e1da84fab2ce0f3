// Memory limits in embedded systems (SCENARIOS.md 4): a sensor-data pipeline inside a small
// fixed heap carved from a static buffer. Each chunk is a string encoded to bytes; the
// program prints sys.getsizeof of each result, the heap's peak per chunk, the fragmentation
// table, and a clean MemoryError (not a crash) when a chunk is too large for the buffer,
// after which processing continues with smaller chunks.
#include <fmt/format.h>

#include <cstddef>
#include <iostream>

#include "ouro/value/format.h"
#include "ouro/value/value.h"

namespace {

alignas(16) std::byte buffer[256 * 1024];  // the device's whole budget for Python data

// The @profile'd routine: builds a chunk, encodes it, keeps a short summary.
ouro::Value process_chunk(ouro::Heap& heap, std::int64_t repeats) {
  heap.reset_peak();
  const std::size_t before = heap.stats().bytes_in_use;
  const ouro::Value text = ouro::Value("sensor_data") * repeats;  // 'sensor_data' * n
  const ouro::Value data = ouro::encode(text, "utf-8");           // text.encode()
  const ouro::Value summary = ouro::slice(data, {.stop = 11});
  fmt::print("  {:>6} repeats: getsizeof(data) = {:>6}, peak +{:>6} bytes\n", repeats,
             ouro::getsizeof(data), heap.stats().peak_bytes_in_use - before);
  return summary;
}

}  // namespace

int main() {
  ouro::Heap heap({.arena_size = 64 * 1024,
                   .pool_size = 4 * 1024,
                   .buffer = buffer,
                   .buffer_size = sizeof buffer});
  ouro::HeapScope scope(heap);
  auto results = ouro::List::make();

  fmt::print("Chunks in a {} KiB static buffer:\n", sizeof buffer / 1024);
  std::int64_t repeats = 1000;
  for (int chunk = 0; chunk < 6; ++chunk) {
    try {
      results->append(process_chunk(heap, repeats));
      repeats *= 2;
    } catch (const ouro::MemoryError& e) {
      fmt::print("  {:>6} repeats: MemoryError: {}\n", repeats, e.what());
      repeats /= 4;  // the heap is intact: carry on with smaller chunks
    }
  }
  fmt::print("{} chunks processed; first summary {}\n", results->size(), (*results)[0]);
  fmt::print("{}\n", heap.stats());
  fmt::print("fragmentation: {:.1f}%\n", heap.stats().fragmentation() * 100);
  heap.debug_mallocstats(std::cout);
  return results->size() >= 4 && heap.stats().memory_errors >= 1 ? 0 : 1;
}
