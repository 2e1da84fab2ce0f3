// ouro::pickle::dumps vs CPython 3.11's pickle.dumps (protocol 5) on the datasets of
// GitHub issue 6:
//
//   ints       a list of 1,000,000 small ints                  list(range(n))
//   records    100,000 dicts {'id': i, 'name': 'user%d' % i,    a list comprehension
//              'score': i * 0.5, 'tags': ['a', 'b']}
//   bytes      one 100 MiB bytes object                         (compared with a memcpy too)
//   instances  200,000 plain instances of __main__.Record       Record(i): a = i,
//              with 3 attributes                                b = i * 0.5, c = 'r%d' % i
//
// As in CPython, key and attribute names and 'a'/'b' are one object each (interned
// literals), so ouro's pickles equal CPython's byte for byte (--write lets the script
// check that).
//
// --load FILE N times loads of a pickle file's bytes (numpy's globals allowed), best of N,
// and a memcpy of as many bytes into a fresh buffer: bench/pickle_big_files.py's "loading
// big payloads at memcpy speed" row, one JSON line each ("op": "load_file" / "memcpy").
//
// Run as a Google Benchmark, or with --report N [--write DIR] [--only DATASET] to print one JSON
// object per line,
// {"dataset": ..., "op": ..., "seconds": best of N, "bytes": output size}, which
// bench/pickle_vs_cpython.py sets next to CPython's figures. --only keeps one dataset, which
// is how docs/benchmarks.md's per-call profiles are taken:
//
//   valgrind --tool=callgrind --toggle-collect='ouro::pickle::loads*' pickle_bench
//       --report 1 --only records    (the command, on one line)
//
// Operations are keyed by name ("dumps", "memcpy"; the loads side adds "loads"), so new
// rows need no script change.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <string>

#include "ouro/pickle/numpy.h"
#include "ouro/pickle/pickle.h"
#include "ouro/value/value.h"

namespace {

constexpr std::size_t kInts = 1'000'000;
constexpr std::size_t kRecords = 100'000;
constexpr std::size_t kBytes = 100u << 20;
constexpr std::size_t kInstances = 200'000;
constexpr int kProtocol = 5;

ouro::Value build_ints(ouro::Heap& heap) {
  ouro::Ref<ouro::List> list = ouro::List::make(heap, kInts);
  for (std::size_t i = 0; i < kInts; ++i) list->append(ouro::Value(i));
  return ouro::Value(list);
}

ouro::Value build_records(ouro::Heap& heap) {
  const ouro::Value id = ouro::Str::make(heap, "id"), name = ouro::Str::make(heap, "name"),
                    score = ouro::Str::make(heap, "score"), tags = ouro::Str::make(heap, "tags"),
                    a = ouro::Str::make(heap, "a"), b = ouro::Str::make(heap, "b");
  ouro::Ref<ouro::List> list = ouro::List::make(heap, kRecords);
  for (std::size_t i = 0; i < kRecords; ++i) {
    ouro::Ref<ouro::Dict> d = ouro::Dict::make(heap, 4);
    d->set(id, ouro::Value(i));
    d->set(name, ouro::Str::make(heap, fmt::format("user{}", i)));
    d->set(score, ouro::Float::make(heap, static_cast<double>(i) * 0.5));
    ouro::Ref<ouro::List> t = ouro::List::make(heap, 2);
    t->append(a);
    t->append(b);
    d->set(tags, ouro::Value(t));
    list->append(ouro::Value(d));
  }
  return ouro::Value(list);
}

ouro::Value build_bytes(ouro::Heap& heap) {
  const std::string data(kBytes, '\xab');
  return ouro::Value(ouro::Bytes::make(heap, ouro::as_bytes(data)));
}

ouro::Value build_instances(ouro::Heap& heap) {
  const ouro::Value cls = ouro::Global::make(heap, "__main__", "Record");
  const ouro::Value a = ouro::Str::make(heap, "a"), b = ouro::Str::make(heap, "b"),
                    c = ouro::Str::make(heap, "c");
  ouro::Ref<ouro::List> list = ouro::List::make(heap, kInstances);
  for (std::size_t i = 0; i < kInstances; ++i) {
    ouro::Ref<ouro::Dict> state = ouro::Dict::make(heap, 3);
    state->set(a, ouro::Value(i));
    state->set(b, ouro::Float::make(heap, static_cast<double>(i) * 0.5));
    state->set(c, ouro::Str::make(heap, fmt::format("r{}", i)));
    list->append(ouro::Value(ouro::Instance::make(heap, cls, ouro::Value(state))));
  }
  return ouro::Value(list);
}

struct Dataset {
  const char* name;
  ouro::Value (*build)(ouro::Heap&);
};
constexpr Dataset kDatasets[] = {{"ints", build_ints},
                                 {"records", build_records},
                                 {"bytes", build_bytes},
                                 {"instances", build_instances}};

void BM_Dumps(benchmark::State& state) {
  ouro::Heap heap;
  ouro::HeapScope scope(heap);
  const Dataset& d = kDatasets[state.range(0)];
  const ouro::Value v = d.build(heap);
  for (auto _ : state) benchmark::DoNotOptimize(ouro::pickle::dumps(v, {.protocol = kProtocol}));
  state.SetLabel(d.name);
}
BENCHMARK(BM_Dumps)->DenseRange(0, 3)->Unit(benchmark::kMillisecond);

// The loads side: strict mode with the class allowed, as a caller would load these.
ouro::pickle::LoadOptions load_options() {
  ouro::pickle::LoadOptions options;
  options.allow = {"__main__.Record"};
  return options;
}

void BM_Loads(benchmark::State& state) {
  ouro::Heap heap;
  ouro::HeapScope scope(heap);
  const Dataset& d = kDatasets[state.range(0)];
  const std::string data = ouro::pickle::dumps(d.build(heap), {.protocol = kProtocol});
  const ouro::pickle::LoadOptions options = load_options();
  for (auto _ : state) benchmark::DoNotOptimize(ouro::pickle::loads(data, options).bits());
  state.SetLabel(d.name);
}
BENCHMARK(BM_Loads)->DenseRange(0, 3)->Unit(benchmark::kMillisecond);

// --- --report ---------------------------------------------------------------------------

template <class F>
double best_seconds(int runs, F&& f) {
  double best = 1e300;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    f();
    best = std::min(
        best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

void print_row(const char* dataset, const char* op, double seconds, std::size_t bytes) {
  std::printf("{\"dataset\": \"%s\", \"op\": \"%s\", \"seconds\": %.6f, \"bytes\": %zu}\n", dataset,
              op, seconds, bytes);
  std::fflush(stdout);
}

void report(int runs, const char* write_dir, const char* only) {
  for (const Dataset& d : kDatasets) {
    if (only != nullptr && std::strcmp(only, d.name) != 0) continue;
    ouro::Heap heap;
    ouro::HeapScope scope(heap);
    const ouro::Value v = d.build(heap);
    std::string out;
    const double s =
        best_seconds(runs, [&] { out = ouro::pickle::dumps(v, {.protocol = kProtocol}); });
    print_row(d.name, "dumps", s, out.size());
    if (write_dir != nullptr) {
      std::ofstream(fmt::format("{}/{}.pickle", write_dir, d.name), std::ios::binary) << out;
    }
    {
      // As CPython's `pickle.loads(data)` in the script's loop, the result is freed inside
      // the measured time.
      const ouro::pickle::LoadOptions options = load_options();
      const double l = best_seconds(
          runs, [&] { benchmark::DoNotOptimize(ouro::pickle::loads(out, options).bits()); });
      print_row(d.name, "loads", l, out.size());
    }
    if (std::strcmp(d.name, "bytes") == 0) {
      // The floor for (c): copying the payload into a fresh buffer, as dumps must.
      const auto& payload = v.as<ouro::Bytes>();
      const double m = best_seconds(runs, [&] {
        std::unique_ptr<char[]> copy(new char[payload.size()]);
        std::memcpy(copy.get(), payload.data().data(), payload.size());
        benchmark::DoNotOptimize(copy.get());
      });
      print_row(d.name, "memcpy", m, payload.size());
    }
  }
}

void report_file(const char* path, int runs) {
  std::ifstream in(path, std::ios::binary);
  const std::string data{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  ouro::Heap heap;
  ouro::HeapScope scope(heap);
  ouro::pickle::LoadOptions options;
  options.allow = ouro::pickle::numpy::safe_globals();
  const double l = best_seconds(
      runs, [&] { benchmark::DoNotOptimize(ouro::pickle::loads(data, options).bits()); });
  print_row("file", "load_file", l, data.size());
  const double m = best_seconds(runs, [&] {
    std::unique_ptr<char[]> copy(new char[data.size()]);
    std::memcpy(copy.get(), data.data(), data.size());
    benchmark::DoNotOptimize(copy.get());
  });
  print_row("file", "memcpy", m, data.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::strcmp(argv[1], "--load") == 0) {
    report_file(argv[2], argc >= 4 ? std::atoi(argv[3]) : 5);
    return 0;
  }
  if (argc >= 2 && std::strcmp(argv[1], "--report") == 0) {
    const int runs = argc >= 3 ? std::atoi(argv[2]) : 5;
    const char* write_dir = nullptr;
    const char* only = nullptr;
    for (int i = 3; i + 1 < argc; i += 2) {
      if (std::strcmp(argv[i], "--write") == 0) write_dir = argv[i + 1];
      if (std::strcmp(argv[i], "--only") == 0) only = argv[i + 1];
    }
    report(runs, write_dir, only);
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
