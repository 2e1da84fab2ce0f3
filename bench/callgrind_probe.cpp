// Instruction counts per operation, for comparisons that timings on a shared machine cannot
// settle: each workload is one noinline function run once over N operations, so that
//
//   valgrind --tool=callgrind --toggle-collect='probe_*' ./callgrind_probe WORKLOAD
//
// counts exactly that loop (Ir / N per operation; add --cache-sim=yes for simulated cache
// misses). Built by hand against a build's static library, which also works for commits
// before the core's headers moved (see docs/benchmarks.md, "Instruction counts"):
//
//   g++ -std=c++20 -O2 -g -DNDEBUG -Iinclude bench/callgrind_probe.cpp \
//       build/release/src/libouro.a -lfmt -o /tmp/callgrind_probe
//
// Workloads: make (make<T> + 4 Ref copies + drop, bench/heap_bench.cpp's refs/ouro_make),
// churn (random free + allocate over 200,000 live blocks of 16..512 bytes, fixed seed),
// weak_first and weak_shared (bench/weakref_bench.cpp's create + lock); make_shared and
// weak_ptr, the C++ peers of make and of the weak references (no ouro heap involved).
#if __has_include("ouro/core/heap.h")
#include "ouro/core/ref.h"
#include "ouro/core/weakref.h"
#else  // before the core redesign (a4414af and earlier)
#include "ouro/ref.h"
#include "ouro/weakref.h"
#endif

#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

namespace {

constexpr long kOperations = 1'000'000;

class Triple : public ouro::Object {
 public:
  Triple(int a, int b, int c) : a_(a), b_(b), c_(c) {}
  int a_, b_, c_;

 protected:
  ~Triple() override = default;
};

// Keeps the compiler from folding what the benchmark must do (benchmark::DoNotOptimize).
template <class T>
void keep(T& value) {
  asm volatile("" : : "r,m"(value) : "memory");
}

struct Plain {
  Plain(int a, int b, int c) : a_(a), b_(b), c_(c) {}
  int a_, b_, c_;
};

struct Slot {
  void* block;
  std::size_t size;
};

__attribute__((noinline)) void probe_churn(ouro::Heap& heap, std::vector<Slot>& slots,
                                           const std::vector<std::uint32_t>& plan, long n) {
  for (long i = 0; i < n; ++i) {
    const std::uint32_t item = plan[static_cast<std::size_t>(i)];
    Slot& slot = slots[item % slots.size()];
    heap.deallocate(slot.block, slot.size);
    slot.size = 16 + (item >> 20) % 497;
    slot.block = heap.allocate(slot.size);
    *static_cast<std::size_t*>(slot.block) = slot.size;
  }
}

// make + 4 copies + drop, for any smart pointer: `create(i)` makes the object.
template <class Create>
[[gnu::always_inline]] inline void copy_four_times(long n, Create create) {
  for (long i = 0; i < n; ++i) {
    auto object = create(static_cast<int>(i));
    keep(object);
    auto copy0 = object;
    keep(copy0);
    auto copy1 = copy0;
    keep(copy1);
    auto copy2 = copy1;
    keep(copy2);
    auto copy3 = copy2;
    keep(copy3);
  }
}

__attribute__((noinline)) void probe_make(long n) {
  copy_four_times(n, [](int i) { return ouro::make<Triple>(i, 2, 3); });
}

// The peers, for the same count: std::make_shared + 4 shared_ptr copies + drop, and a
// std::weak_ptr made from a shared_ptr and locked (bench/weakref_bench.cpp's peer).
__attribute__((noinline)) void probe_make_shared(long n) {
  copy_four_times(n, [](int i) { return std::make_shared<Plain>(i, 2, 3); });
}

__attribute__((noinline)) void probe_weak_ptr(const std::shared_ptr<Plain>& object, long n) {
  for (long i = 0; i < n; ++i) {
    std::weak_ptr<Plain> weak(object);
    std::shared_ptr<Plain> strong = weak.lock();
    keep(strong);
  }
}

__attribute__((noinline)) void probe_weak_first(const ouro::Ref<Triple>& object, long n) {
  for (long i = 0; i < n; ++i) {
    ouro::Weak<Triple> weak(object);
    ouro::Ref<Triple> strong = weak.lock();
    keep(strong);
  }
}

__attribute__((noinline)) void probe_weak_shared(const ouro::Ref<Triple>& object, long n) {
  ouro::Weak<Triple> existing(object);
  for (long i = 0; i < n; ++i) {
    ouro::Weak<Triple> weak(object);
    ouro::Ref<Triple> strong = weak.lock();
    keep(strong);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s make|make_shared|churn|weak_first|weak_shared|weak_ptr\n",
                 argv[0]);
    return 2;
  }
  ouro::Heap heap;
  ouro::HeapScope scope(heap);
  const char* workload = argv[1];
  if (std::strcmp(workload, "make") == 0) {
    probe_make(kOperations);
  } else if (std::strcmp(workload, "churn") == 0) {
    std::mt19937 rng(42);
    std::vector<Slot> slots(200'000);
    for (Slot& slot : slots) {
      slot.size = 16 + rng() % 497;
      slot.block = heap.allocate(slot.size);
    }
    std::vector<std::uint32_t> plan(static_cast<std::size_t>(kOperations));
    for (std::uint32_t& item : plan) item = static_cast<std::uint32_t>(rng());
    probe_churn(heap, slots, plan, kOperations);
    for (Slot& slot : slots) heap.deallocate(slot.block, slot.size);
  } else if (std::strcmp(workload, "make_shared") == 0) {
    probe_make_shared(kOperations);
  } else if (std::strcmp(workload, "weak_ptr") == 0) {
    const auto object = std::make_shared<Plain>(1, 2, 3);
    probe_weak_ptr(object, kOperations);
  } else if (std::strcmp(workload, "weak_first") == 0 ||
             std::strcmp(workload, "weak_shared") == 0) {
    const ouro::Ref<Triple> object = ouro::make<Triple>(1, 2, 3);
    if (workload[5] == 'f') {
      probe_weak_first(object, kOperations);
    } else {
      probe_weak_shared(object, kOperations);
    }
  } else {
    std::fprintf(stderr, "unknown workload %s\n", workload);
    return 2;
  }
  std::printf("%s: %ld operations\n", workload, kOperations);
  return 0;
}
