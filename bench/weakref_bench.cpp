// Benchmarks of the weak-reference layer against the standard library's peers, measured in
// one process and one run (DESIGN.md "Measuring": only ratios are reported).
//
//   weak/ouro_create_lock       Weak<T>(ref) to an object with no weak reference yet, lock(),
//                               both dropped: a WeakRef is made (heap block, side-table
//                               insert) and freed (side-table erase) every iteration.
//   weak/ouro_shared_lock       the same while another Weak to the object exists: the shared
//                               callback-less reference is found and reused (CPython's
//                               behaviour), so nothing is allocated.
//   weak/std_weak_ptr_lock      std::weak_ptr<T>(shared_ptr), lock(), both dropped (atomic
//                               counts: the binary links pthreads, as ouro does).
//   lookup/ouro_weak_value_dict WeakValueDictionary<std::uint64_t, T>::get(key) over 1,000
//                               live entries, keys in a fixed shuffled order.
//   lookup/std_map_weak_ptr     std::unordered_map<std::uint64_t, std::weak_ptr<T>>::find,
//                               then lock(), over the same keys.
//
// Run: build with -DOURO_BUILD_BENCH=ON (bench/CMakeLists.txt globs *_bench.cpp), then
//   weakref_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//                 --benchmark_enable_random_interleaving=true
// and compare the medians' CPU times (docs/benchmarks.md, "Weak references").
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <unordered_map>
#include <vector>

#include "ouro/weak/containers.h"

namespace {

class Payload : public ouro::Object {
 public:
  int a = 1, b = 2, c = 3;

 protected:
  ~Payload() override = default;
};

struct StdPayload {
  int a = 1, b = 2, c = 3;
};

constexpr std::size_t kEntries = 1000;

void BM_OuroCreateLock(benchmark::State& state) {
  ouro::Heap heap;
  ouro::HeapScope scope(heap);
  ouro::Ref<Payload> object = ouro::make<Payload>();
  for (auto _ : state) {
    ouro::Weak<Payload> weak(object);
    ouro::Ref<Payload> strong = weak.lock();
    benchmark::DoNotOptimize(strong.get());
  }
}
BENCHMARK(BM_OuroCreateLock)->Name("weak/ouro_create_lock");

void BM_OuroSharedLock(benchmark::State& state) {
  ouro::Heap heap;
  ouro::HeapScope scope(heap);
  ouro::Ref<Payload> object = ouro::make<Payload>();
  ouro::Weak<Payload> existing(object);
  for (auto _ : state) {
    ouro::Weak<Payload> weak(object);
    ouro::Ref<Payload> strong = weak.lock();
    benchmark::DoNotOptimize(strong.get());
  }
}
BENCHMARK(BM_OuroSharedLock)->Name("weak/ouro_shared_lock");

void BM_StdWeakPtrLock(benchmark::State& state) {
  auto object = std::make_shared<StdPayload>();
  for (auto _ : state) {
    std::weak_ptr<StdPayload> weak(object);
    std::shared_ptr<StdPayload> strong = weak.lock();
    benchmark::DoNotOptimize(strong.get());
  }
}
BENCHMARK(BM_StdWeakPtrLock)->Name("weak/std_weak_ptr_lock");

std::vector<std::uint64_t> shuffled_keys() {
  std::vector<std::uint64_t> keys(kEntries);
  for (std::size_t i = 0; i < kEntries; ++i) keys[i] = i * 7919;
  std::shuffle(keys.begin(), keys.end(), std::mt19937_64(42));
  return keys;
}

void BM_OuroWeakValueDictLookup(benchmark::State& state) {
  ouro::Heap heap;
  ouro::HeapScope scope(heap);
  const auto keys = shuffled_keys();
  std::vector<ouro::Ref<Payload>> values;
  ouro::WeakValueDictionary<std::uint64_t, Payload> dict;
  for (std::uint64_t key : keys) {
    values.push_back(ouro::make<Payload>());
    dict.set(key, values.back());
  }
  std::size_t i = 0;
  for (auto _ : state) {
    ouro::Ref<Payload> value = dict.get(keys[i]);
    benchmark::DoNotOptimize(value.get());
    i = i + 1 == kEntries ? 0 : i + 1;
  }
}
BENCHMARK(BM_OuroWeakValueDictLookup)->Name("lookup/ouro_weak_value_dict");

void BM_StdMapWeakPtrLookup(benchmark::State& state) {
  const auto keys = shuffled_keys();
  std::vector<std::shared_ptr<StdPayload>> values;
  std::unordered_map<std::uint64_t, std::weak_ptr<StdPayload>> map;
  for (std::uint64_t key : keys) {
    values.push_back(std::make_shared<StdPayload>());
    map.emplace(key, values.back());
  }
  std::size_t i = 0;
  for (auto _ : state) {
    auto it = map.find(keys[i]);
    std::shared_ptr<StdPayload> value = it != map.end() ? it->second.lock() : nullptr;
    benchmark::DoNotOptimize(value.get());
    i = i + 1 == kEntries ? 0 : i + 1;
  }
}
BENCHMARK(BM_StdMapWeakPtrLookup)->Name("lookup/std_map_weak_ptr");

}  // namespace

BENCHMARK_MAIN();
