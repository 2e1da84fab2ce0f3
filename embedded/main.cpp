// The ouro firmware: the tour's heap, collector, weak-reference and pickle chapters on a
// bare-metal Cortex-M3, inside the board's 64 KiB of RAM (docs/embedded.md). Every Python
// value lives in one ouro heap carved from a static buffer; output goes to the host through
// semihosting, and the exit status says whether every check passed. The host's test
// (embedded/check_firmware.py) reads this output: keep the "pickle protocol N hex:" lines,
// the "micropython-row" lines and the final "firmware:" line in their formats.
#include <fmt/format.h>

#include <cstdio>
#include <string>

#include "board.h"
#include "ouro/core/gc.h"
#include "ouro/core/heap.h"
#include "ouro/core/ref.h"
#include "ouro/pickle/pickle.h"
#include "ouro/value/value.h"
#include "ouro/weak/containers.h"
#include "tour_seed.h"

namespace {

using namespace ouro;

/// The ouro heap's whole memory: a static buffer in .bss (so the linker counts it as RAM).
/// Its size is the firmware's main RAM decision: see docs/embedded.md's memory map.
constexpr std::size_t kHeapBufferBytes = OURO_FIRMWARE_HEAP_BYTES;
alignas(16) std::byte heap_buffer[kHeapBufferBytes];

int checks_run = 0;
int checks_failed = 0;

void print(const std::string& text) { std::fputs(text.c_str(), stdout); }

void heading(int number, const char* title) {
  print(fmt::format("\n== {}. {} ==\n", number, title));
}

void show(const std::string& text) { print(fmt::format("    -> {}\n", text)); }

/// Records one expectation; a failed one is printed and makes the exit status 1.
void check(bool ok, const std::string& what) {
  ++checks_run;
  if (!ok) {
    ++checks_failed;
    print(fmt::format("    CHECK FAILED: {}\n", what));
  }
}

void show_heap(const Heap& heap) {
  const HeapStats s = heap.stats();
  show(
      fmt::format("heap: {} bytes in live blocks, {} reserved of {} (limit), {} pools used "
                  "({} bytes of pool headers), {} arenas, {} bytes of heap tables; malloc "
                  "(outside the heap): {} bytes",
                  s.bytes_in_use, s.bytes_reserved, s.limit_bytes, s.pools_used,
                  s.pool_overhead_bytes, s.arenas, s.bookkeeping_bytes, board::malloc_in_use()));
}

// --- 1. values in a static buffer --------------------------------------------------------

// The 32-bit layout this firmware is measured with (docs/embedded.md quotes these figures):
// a one-word Value, a 12-byte object header (vtable pointer, refcount, flags) and 8 bytes of
// collector links before each container.
static_assert(sizeof(void*) != 4 ||
                  (sizeof(Value) == 4 && sizeof(Object) == 12 && sizeof(detail::GcLinks) == 8),
              "the 32-bit layout changed: update docs/embedded.md's bytes-per-object figures");

void values_chapter(Heap& heap) {
  show(
      fmt::format("layout: Value {} bytes, object header {} bytes, collector links {} bytes "
                  "per container, blocks in {} size classes of {} bytes, Heap object {} bytes",
                  sizeof(Value), sizeof(Object), sizeof(detail::GcLinks), kSizeClassCount,
                  kAlignment, sizeof(Heap)));
  show(fmt::format("small ints up to {} need no object; the heap's buffer is {} bytes of .bss",
                   kSmallIntMax, kHeapBufferBytes));
  show_heap(heap);
  Value obj = tour::complex_data_object(heap);
  const Instance& o = obj.as<Instance>();
  show(fmt::format("obj.integer = {}, obj.string = {}", repr(*o.get_attr("integer")),
                   repr(*o.get_attr("string"))));
  show(fmt::format("obj.list = {}", repr(*o.get_attr("list"))));
  show(fmt::format("deep_sizeof(obj) = {} bytes", deep_sizeof(obj)));
  check(repr(*o.get_attr("list")) == "[1, 2, 3, {'nested': 'dict'}, ('tuple', 42)]", "obj.list");
  Value big = Int::from_decimal("1180591620717411303424");  // 2**70: an Int object
  show(
      fmt::format("2**70 = {} ({} bytes); hash(2**70) = {}", repr(big), getsizeof(big), hash(big)));
  check(hash(big) == 512, "hash(2**70) as CPython's");  // 2**70 mod (2**61 - 1) == 2**9
  show_heap(heap);
}

// --- 2. a cycle and the collector ---------------------------------------------------------

class Node : public Object {
 public:
  static constexpr std::string_view kTypeName = "Node";
  Ref<Node> partner;
  void traverse(Visitor& visit) override { visit(partner); }
  void clear() override { partner = nullptr; }

 protected:
  ~Node() override = default;
};

void collector_chapter(Heap& heap) {
  gc::disable();
  const std::size_t live_before = heap.live_objects();
  {
    Ref<Node> a = make<Node>();
    Ref<Node> b = make<Node>();
    a->partner = b;
    b->partner = a;
    show(fmt::format("a <-> b: getrefcount(a) = {}, getsizeof(a) = {} bytes", getrefcount(a),
                     getsizeof(a)));
  }
  const std::size_t live_cycle = heap.live_objects() - live_before;
  show(fmt::format("references dropped, automatic collection disabled: {} objects still live",
                   live_cycle));
  const std::size_t found = gc::collect();
  show(fmt::format("gc::collect() returned {}; live objects now {} more than before", found,
                   heap.live_objects() - live_before));
  check(live_cycle == 2 && found == 2, "the cycle is collected");
  gc::enable();
  check(gc::isenabled(), "automatic collection re-enabled");
  show(fmt::format("gc::isenabled() = {}", gc::isenabled()));
}

// --- 3. a weak-reference cache -------------------------------------------------------------

class Reading : public Object {
 public:
  static constexpr std::string_view kTypeName = "Reading";
  explicit Reading(int reading_value) : value(reading_value) {}
  int value;
  void traverse(Visitor&) override {}

 protected:
  ~Reading() override = default;
};

void weakref_chapter() {
  WeakValueDictionary<int, Reading> cache;
  Ref<Reading> kept = make<Reading>(20);
  {
    Ref<Reading> r1 = make<Reading>(21);
    Ref<Reading> r2 = make<Reading>(22);
    cache.set(0, kept);
    cache.set(1, r1);
    cache.set(2, r2);
    show(fmt::format("cache holds {} readings while their owners live", cache.size()));
  }
  show(fmt::format("owners gone: the cache holds {} (key 0 -> {})", cache.size(),
                   cache.get(0) ? cache.get(0)->value : -1));
  check(cache.size() == 1 && cache.contains(0) && !cache.contains(1), "weak entries vanish");
  kept.reset();
  show(fmt::format("last strong reference dropped: the cache holds {}", cache.size()));
  check(cache.size() == 0, "cache empty");
}

// --- 4. pickle --------------------------------------------------------------------------------

std::string hex(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) out += fmt::format("{:02x}", c);
  return out;
}

void pickle_chapter(Heap& heap) {
  Value obj = tour::complex_data_object(heap);
  for (int protocol : {2, 4}) {
    const std::string data = pickle::dumps(obj, {.protocol = protocol});
    show(fmt::format("pickle.dumps(obj, {}) -> {} bytes", protocol, data.size()));
    print(fmt::format("pickle protocol {} hex: {}\n", protocol, hex(data)));
    pickle::LoadOptions options;
    options.allow = {"__main__.ComplexDataObject", "__main__.NestedClass"};
    Value loaded = pickle::loads(data, options);
    const Value* nested = loaded.as<Instance>().get_attr("nested");
    const std::string message = repr(*nested->as<Instance>().get_attr("message"));
    show(fmt::format("loaded back: obj.nested.message = {}", message));
    // Loaded back equal. Not byte-identical when dumped again, in CPython either: BUILD
    // interns the attribute name, which is then another object than the list's dict key.
    auto same = [&](std::string_view name) {
      return equals(*loaded.as<Instance>().get_attr(name), *obj.as<Instance>().get_attr(name));
    };
    check(message == "'I am nested'" && same("integer") && same("string") && same("list"),
          fmt::format("protocol {} round trip", protocol));
    show_heap(heap);
  }
}

// --- 5. sensor data in chunks ---------------------------------------------------------------

void sensor_chapter(Heap& heap) {
  // The scenario's 'sensor_data' * 10000 (110,000 bytes) cannot fit 64 KiB of RAM: the board
  // processes it in chunks of 'sensor_data' * 200, each encoded to bytes and dropped.
  constexpr int kRepeat = 200, kChunks = 50;
  std::string text;
  for (int i = 0; i < kRepeat; ++i) text += "sensor_data";
  std::size_t total = 0, size_of_chunk = 0;
  for (int chunk = 0; chunk < kChunks; ++chunk) {
    Value data(text);                              // data = 'sensor_data' * 200
    Value encoded = bytes(data.as<Str>().utf8());  // encoded = data.encode()
    size_of_chunk = getsizeof(encoded);
    total += encoded.as<Bytes>().size();
  }
  show(
      fmt::format("{} chunks of 'sensor_data' * {}: {} bytes processed; sys.getsizeof(chunk) "
                  "= {}",
                  kChunks, kRepeat, total, size_of_chunk));
  check(total == 110000, "all of 'sensor_data' * 10000 processed");
  show(
      fmt::format("fragmentation after the chunks: {:.1f}%", 100.0 * heap.stats().fragmentation()));
}

// --- 6. MemoryError -------------------------------------------------------------------------

void memory_error_chapter(Heap& heap) {
  Ref<List> hog = List::make(heap);
  std::size_t items = 0;
  try {
    for (;;) {
      hog->append(list({static_cast<std::int64_t>(items), "filler"}));
      ++items;
    }
  } catch (const MemoryError& e) {
    show(fmt::format("after {} items: MemoryError: {}", items, e.what()));
    check(true, "MemoryError caught");
  }
  hog.reset();
  gc::collect();
  Value after = list({1, 2, 3});
  show(fmt::format("after dropping the list: [1, 2, 3] allocates again, heap verified: {}",
                   heap.verify() ? "yes" : "no"));
  check(repr(after) == "[1, 2, 3]" && heap.verify(), "heap usable after MemoryError");
  show_heap(heap);
}

// --- 7. bytes per object, against MicroPython --------------------------------------------

/// Bytes in live blocks that building `make` keeps, measured by the heap's own statistics
/// (MicroPython's figures in docs/embedded.md come from gc.mem_free()).
template <class Make>
std::size_t bytes_kept(Heap& heap, Make&& make) {
  gc::collect();
  const std::size_t before = heap.stats().bytes_in_use;
  Value v = make();
  return heap.stats().bytes_in_use - before;
}

void micropython_chapter(Heap& heap) {
  // String constants of the program are interned in MicroPython (qstrs, not on its heap):
  // ouro makes them once, before measuring.
  const Value id_key("id"), name_key("name");
  struct Row {
    const char* python;
    std::size_t micropython;
    std::size_t ouro;
  };
  Row rows[] = {
      {"[i for i in range(100)]", 928,
       bytes_kept(heap,
                  [&] {
                    Ref<List> l = List::make(heap);
                    for (int i = 0; i < 100; ++i) l->append(i);
                    return Value(l);
                  })},
      {"{i: i for i in range(10)}", 272,
       bytes_kept(heap,
                  [&] {
                    Ref<Dict> d = Dict::make(heap);
                    for (int i = 0; i < 10; ++i) d->set(i, i);
                    return Value(d);
                  })},
      {"'sensor_data' * 100", 1216,
       bytes_kept(heap,
                  [&] {
                    std::string s;
                    for (int i = 0; i < 100; ++i) s += "sensor_data";
                    return Value(s);
                  })},
      {"(1, 2, 3)", 16,
       bytes_kept(heap,
                  [&] {
                    return tuple({1, 2, 3});
                  })},
      {"[{'id': i, 'name': 'u%d' % i} for i in range(20)]", 1440,
       bytes_kept(heap,
                  [&] {
                    Ref<List> l = List::make(heap);
                    for (int i = 0; i < 20; ++i) {
                      Ref<Dict> d = Dict::make(heap);
                      d->set(id_key, i);
                      d->set(name_key, fmt::format("u{}", i));
                      l->append(Value(d));
                    }
                    return Value(l);
                  })},
  };
  for (const Row& r : rows) {
    print(fmt::format("micropython-row | {} | {} | {}\n", r.python, r.micropython, r.ouro));
  }
}

}  // namespace

// Called by the reset handler (startup.cpp); its result is the program's exit status.
extern "C" int firmware_main() {
  print("ouro firmware: Python's memory model on a Cortex-M3\n");
  Heap heap({.arena_size = OURO_FIRMWARE_ARENA_BYTES,
             .pool_size = OURO_FIRMWARE_POOL_BYTES,
             .limit_bytes = kHeapBufferBytes,
             .buffer = heap_buffer,
             .buffer_size = kHeapBufferBytes});
  HeapScope scope(heap);
  try {
    heading(1, "Python values in a static buffer");
    values_chapter(heap);
    heading(2, "A reference cycle and gc::collect()");
    collector_chapter(heap);
    heading(3, "A weak-reference cache");
    weakref_chapter();
    heading(4, "Pickling ComplexDataObject");
    pickle_chapter(heap);
    heading(5, "Sensor data in chunks");
    sensor_chapter(heap);
    heading(6, "Past the limit: MemoryError");
    memory_error_chapter(heap);
    heading(7, "Bytes per object");
    micropython_chapter(heap);
  } catch (const std::exception& e) {
    check(false, fmt::format("unexpected exception: {}", e.what()));
  }
  const board::MemoryMap m = board::memory_map();
  const HeapStats s = heap.stats();
  print(fmt::format(
      "ram | data {} | bss {} | heap-buffer {} | malloc-region {} | malloc-peak {} "
      "| stack {} | stack-peak {} | heap-tables {} | heap-peak-reserved {} "
      "| heap-object {}\n",
      m.data_bytes, m.bss_bytes, kHeapBufferBytes, m.malloc_region, m.malloc_peak, m.stack_bytes,
      m.stack_peak, s.bookkeeping_bytes, s.peak_bytes_reserved, sizeof(Heap)));
  print(fmt::format("firmware: {} checks, {} failed\n", checks_run, checks_failed));
  return checks_failed == 0 ? 0 : 1;
}
