// libFuzzer target: ouro::pickle::loads on arbitrary bytes, strict and inspect, in a heap
// limited to 64 MiB (DESIGN.md I7: the limit bounds any input; I8: nothing is executed).
// Whatever loads, dumps again and loads back, and is printed by the streaming repr under a
// cap; load() from a stream must end as loads() did. Then the heap must hold no object and
// pass verify(). Only ouro's documented exceptions may escape loads: anything else, a crash, a
// leak (LeakSanitizer) or undefined behaviour is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>

#include "ouro/core/gc.h"
#include "ouro/core/heap.h"
#include "ouro/errors.h"
#include "ouro/pickle/pickle.h"
#include "ouro/pickle/scan.h"
#include "ouro/value/value.h"

namespace {

constexpr std::size_t kHeapLimit = std::size_t{64} << 20;

// Loads `data` with `policy`; what loads is printed, dumped and loaded back.
void load_one(std::string_view data, ouro::pickle::Policy policy) {
  ouro::pickle::LoadOptions options;
  options.policy = policy;
  options.persistent_load = [](const ouro::Value& pid) { return pid; };
  bool loaded = false;
  try {
    const ouro::Value value = ouro::pickle::loads(data, options);
    loaded = true;
    (void)ouro::repr(value);
    std::ostringstream capped;
    try {
      ouro::write_repr(capped, value, 1 << 16);
    } catch (const ouro::OutputLimitError&) {
      if (capped.str().size() > (1 << 16)) std::abort();
    }
    const std::string again =
        ouro::pickle::dumps(value, {.protocol = ouro::pickle::kHighestProtocol});
    (void)ouro::pickle::loads(again, options);
  } catch (const ouro::pickle::PickleError&) {
  } catch (const ouro::MemoryError&) {
  } catch (const ouro::Error&) {      // RecursionError, ValueError, ... from repr or dumps
  } catch (const ouro::TypeError&) {  // dumps of an inert value it cannot write
  }
  // The stream reader frames instructions itself: it must agree with loads on success.
  std::istringstream in{std::string(data)};
  bool streamed = false;
  try {
    (void)ouro::pickle::load(in, options);
    streamed = true;
  } catch (const ouro::pickle::PickleError&) {
  } catch (const ouro::MemoryError&) {
    streamed = loaded;  // the stream's buffer counts too; a borderline input may differ
  } catch (const ouro::Error&) {
  } catch (const ouro::TypeError&) {
  }
  if (streamed != loaded) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  {
    ouro::Heap heap({.limit_bytes = kHeapLimit});
    {
      ouro::HeapScope scope(heap);
      load_one(data, ouro::pickle::Policy::kStrict);
      load_one(data, ouro::pickle::Policy::kInspect);
      ouro::gc::collect();
    }
    if (heap.live_objects() != 0 || !heap.verify()) std::abort();
  }
  // The scanner runs the same loader; it must never throw.
  (void)ouro::pickle::scan(data, {.limit_bytes = kHeapLimit});
  return 0;
}
