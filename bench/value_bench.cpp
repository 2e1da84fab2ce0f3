// Values in ouro's heap vs CPython 3.11: the two workloads of GitHub issue 5.
//
//   ints     a list of 1,000,000 small ints             (CPython: list(range(n)))
//   records  a list of 100,000 dicts                     (CPython: a list comprehension of
//            {'id': i, 'name': 'user%d' % i,              dict displays)
//             'score': i * 0.5, 'tags': ['a', 'b']}
//
// As in CPython, where the key and tag literals are interned constants created before the
// measured code runs, the key strings and 'a', 'b' are built once, outside the measurement.
//
// Run as a Google Benchmark (timings), or with --report to print the figures that
// bench/value_vs_cpython.py puts next to CPython's: heap bytes in live blocks
// (HeapStats::bytes_in_use, size-class rounding included) and the best build time of N.
// `--report N records` (or `ints`) runs one workload; under callgrind, with
//
//   valgrind --tool=callgrind --collect-atstart=no value_bench --report 1 records
//
// exactly the build is counted (the timed region toggles collection), not the freeing.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

#include "ouro/value/value.h"

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define OURO_BENCH_TOGGLE_COLLECT() CALLGRIND_TOGGLE_COLLECT
#else
#define OURO_BENCH_TOGGLE_COLLECT() ((void)0)
#endif

namespace {

constexpr std::size_t kInts = 1'000'000;
constexpr std::size_t kRecords = 100'000;

// The interned literals of the Python source: built once per heap.
struct Literals {
  explicit Literals(ouro::Heap& heap)
      : id(ouro::Str::make(heap, "id")),
        name(ouro::Str::make(heap, "name")),
        score(ouro::Str::make(heap, "score")),
        tags(ouro::Str::make(heap, "tags")),
        a(ouro::Str::make(heap, "a")),
        b(ouro::Str::make(heap, "b")) {}
  ouro::Value id, name, score, tags, a, b;
};

ouro::Ref<ouro::List> build_ints(ouro::Heap& heap) {
  ouro::Ref<ouro::List> list = ouro::List::make(heap, kInts);
  for (std::size_t i = 0; i < kInts; ++i) list->append(ouro::Value(i));
  return list;
}

ouro::Ref<ouro::List> build_records(ouro::Heap& heap, const Literals& lit) {
  ouro::Ref<ouro::List> list = ouro::List::make(heap, kRecords);
  char name[32];
  for (std::size_t i = 0; i < kRecords; ++i) {
    ouro::Ref<ouro::Dict> d = ouro::Dict::make(heap, 4);  // a 4-item dict display
    d->set(lit.id, ouro::Value(i));
    const auto end = fmt::format_to_n(name, sizeof name, "user{}", i).out;
    d->set(lit.name, ouro::Str::make(heap, {name, static_cast<std::size_t>(end - name)}));
    d->set(lit.score, ouro::Float::make(heap, static_cast<double>(i) * 0.5));
    ouro::Ref<ouro::List> tags = ouro::List::make(heap, 2);
    tags->append(lit.a);
    tags->append(lit.b);
    d->set(lit.tags, std::move(tags));
    list->append(std::move(d));
  }
  return list;
}

void BM_BuildIntList(benchmark::State& state) {
  ouro::Heap heap;
  for (auto _ : state) {
    auto list = build_ints(heap);
    benchmark::DoNotOptimize(list.get());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kInts));
}
BENCHMARK(BM_BuildIntList)->Unit(benchmark::kMillisecond);

void BM_BuildRecords(benchmark::State& state) {
  ouro::Heap heap;
  Literals lit(heap);
  for (auto _ : state) {
    auto list = build_records(heap, lit);
    benchmark::DoNotOptimize(list.get());
    state.PauseTiming();
    list.reset();  // CPython's timing does not include freeing either
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kRecords));
}
BENCHMARK(BM_BuildRecords)->Unit(benchmark::kMillisecond);

void BM_ReprRecords(benchmark::State& state) {
  ouro::Heap heap;
  Literals lit(heap);
  ouro::Value records = build_records(heap, lit);
  for (auto _ : state) benchmark::DoNotOptimize(ouro::repr(records).size());
}
BENCHMARK(BM_ReprRecords)->Unit(benchmark::kMillisecond);

// --report: bytes and best-of-N build seconds, one "name value" line each.
template <class Build>
void report(const char* name, int runs, Build build) {
  double best = 1e30;
  double best_cpu = 1e30;  // process CPU time: what a loaded machine disturbs least
  std::size_t bytes = 0;
  for (int r = 0; r < runs; ++r) {
    ouro::Heap heap;
    Literals lit(heap);
    const std::size_t before = heap.stats().bytes_in_use;
    const std::clock_t cpu_start = std::clock();
    const auto start = std::chrono::steady_clock::now();
    OURO_BENCH_TOGGLE_COLLECT();
    ouro::Ref<ouro::List> list = build(heap, lit);
    OURO_BENCH_TOGGLE_COLLECT();
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    best = std::min(best, took.count());
    best_cpu = std::min(best_cpu, cpu);
    bytes = heap.stats().bytes_in_use - before;
  }
  std::printf("%s_bytes %zu\n%s_seconds %.6f\n%s_cpu_seconds %.6f\n", name, bytes, name, best, name,
              best_cpu);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "--report") == 0) {
    const int runs = argc >= 3 ? std::atoi(argv[2]) : 7;
    const char* only = argc >= 4 ? argv[3] : nullptr;
    auto wanted = [only](const char* name) {
      return only == nullptr || std::strcmp(only, name) == 0;
    };
    if (wanted("ints")) {
      report("ints", runs, [](ouro::Heap& heap, const Literals&) { return build_ints(heap); });
    }
    if (wanted("records")) report("records", runs, build_records);
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
