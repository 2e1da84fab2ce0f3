// The cycle collector's side of bench/gc_vs_cpython.py (GitHub issue 3): four measurements
// of ouro's collector, printed as one JSON line each, for the script to pair with the same
// shapes built in CPython 3.11 in the same run (DESIGN.md "Measuring": only ratios are
// reported, both sides warmed up, best of several runs).
//
//   cycles   500,000 two-object cycles of Node (one Ref field: a Python object with one
//            slot), every outside reference dropped, built with automatic collection off;
//            times gc::collect() alone, which must return 1,000,000. One untimed warm-up
//            round, then best of --runs.
//   live     1,000,001 live containers and no garbage: a root Bag (a vector of Refs: a
//            Python list) of 1,000 Bags of 999 Nodes each, held by a Ref on the stack;
//            times gc::collect(), which must return 0. One untimed warm-up collection (it
//            moves everything to the oldest generation, as every later one finds it), then
//            best of --runs.
//   pauses   --pause-containers (default 10,000,000) Nodes allocated with automatic
//            collection on and CPython's thresholds (700, 10, 10). Each Node goes into a
//            1,000-slot sliding window (the Node it replaces dies by refcount); every 16th
//            Node also gets a partner and the two form a cycle, so one container in 8.5 dies
//            only by the collector. That garbage is what makes generation 0's count (created
//            minus freed containers) reach its threshold. Every automatic collection is timed
//            from its "start" to its "stop" gc callback (steady_clock); reported: how many of
//            each generation, median, 99th percentile and max of the young ones (generations
//            0 and 1), and median and max of the full ones. One untimed warm-up round of 1/10 the
//            size.
//   header   bytes the collector and the object header add to a container: sizeof(GcLinks)
//            + sizeof(Object), and getsizeof() of a container with no fields (both compare
//            with CPython's 16-byte PyGC_Head + 16-byte PyObject) and of a Node.
//
//   gc_bench [--runs N] [--pause-containers N] [--only header|cycles|live|pauses]
//
// --only runs one measurement (for callgrind or perf); bench/gc_vs_cpython.py runs them all.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "ouro/core/gc.h"
#include "ouro/core/ref.h"

namespace {

using Clock = std::chrono::steady_clock;

// A small container with one reference (CPython: `class Node: __slots__ = ('next',)`).
class Node : public ouro::Object {
 public:
  static constexpr std::string_view kTypeName = "Node";
  ouro::Ref<Node> next;
  void traverse(ouro::Visitor& visit) override { visit(next); }
  void clear() override { next = nullptr; }

 protected:
  ~Node() override = default;
};

// A container of references (CPython: a list).
class Bag : public ouro::Object {
 public:
  static constexpr std::string_view kTypeName = "Bag";
  std::vector<ouro::Ref<ouro::Object>> items;
  void traverse(ouro::Visitor& visit) override {
    for (const ouro::Ref<ouro::Object>& item : items) visit(item);
  }
  void clear() override { items.clear(); }

 protected:
  ~Bag() override = default;
};

// A container with no fields: what the header alone costs (CPython: `class E: __slots__ = ()`).
class Empty : public ouro::Object {
 public:
  static constexpr std::string_view kTypeName = "Empty";
  void traverse(ouro::Visitor&) override {}

 protected:
  ~Empty() override = default;
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double median_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n == 0 ? 0.0 : (n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2);
}

[[noreturn]] void fail(const char* what, std::size_t got, std::size_t expected) {
  std::fprintf(stderr, "gc_bench: %s: got %zu, expected %zu\n", what, got, expected);
  std::exit(1);
}

void print_times(const char* measure, const std::vector<double>& seconds, std::size_t found) {
  std::printf("{\"measure\": \"%s\", \"found\": %zu, \"best\": %.9f, \"median\": %.9f, \"runs\": [",
              measure, found, *std::min_element(seconds.begin(), seconds.end()),
              median_of(seconds));
  for (std::size_t i = 0; i < seconds.size(); ++i) {
    std::printf("%s%.9f", i ? ", " : "", seconds[i]);
  }
  std::printf("]}\n");
}

constexpr std::size_t kCyclePairs = 500'000;

// Builds the garbage with automatic collection off (so that all of it is still there),
// then times the collection that finds it.
double collect_cycles(ouro::Heap& heap) {
  ouro::gc::disable(heap);
  for (std::size_t i = 0; i < kCyclePairs; ++i) {
    ouro::Ref<Node> a = ouro::make<Node>();
    ouro::Ref<Node> b = ouro::make<Node>();
    a->next = b;
    b->next = std::move(a);
  }
  const Clock::time_point start = Clock::now();
  const std::size_t found = ouro::gc::collect(2, heap);
  const double elapsed = seconds_since(start);
  ouro::gc::enable(heap);
  if (found != 2 * kCyclePairs) fail("cycles: collect()", found, 2 * kCyclePairs);
  return elapsed;
}

void measure_cycles(int runs) {
  ouro::Heap heap;
  ouro::HeapScope scope(heap);
  collect_cycles(heap);  // warm-up: the heap's pools exist from now on
  std::vector<double> seconds;
  for (int i = 0; i < runs; ++i) seconds.push_back(collect_cycles(heap));
  print_times("cycles", seconds, 2 * kCyclePairs);
}

constexpr std::size_t kBags = 1'000;
constexpr std::size_t kNodesPerBag = 999;

void measure_live(int runs) {
  ouro::Heap heap;
  ouro::HeapScope scope(heap);
  ouro::gc::disable(heap);
  ouro::Ref<Bag> root = ouro::make<Bag>();
  root->items.reserve(kBags);
  for (std::size_t i = 0; i < kBags; ++i) {
    ouro::Ref<Bag> bag = ouro::make<Bag>();
    bag->items.reserve(kNodesPerBag);
    for (std::size_t j = 0; j < kNodesPerBag; ++j) bag->items.push_back(ouro::make<Node>());
    root->items.push_back(std::move(bag));
  }
  ouro::gc::enable(heap);
  const std::size_t containers = 1 + kBags * (1 + kNodesPerBag);
  if (ouro::gc::collect(2, heap) != 0) fail("live: warm-up collect()", 1, 0);
  std::vector<double> seconds;
  for (int i = 0; i < runs; ++i) {
    const Clock::time_point start = Clock::now();
    const std::size_t found = ouro::gc::collect(2, heap);
    seconds.push_back(seconds_since(start));
    if (found != 0) fail("live: collect()", found, 0);
  }
  if (ouro::gc::get_objects(2, heap).size() != containers) fail("live: containers", 0, containers);
  std::printf("{\"measure\": \"live\", \"containers\": %zu, ", containers);
  std::printf("\"best\": %.9f, \"median\": %.9f}\n",
              *std::min_element(seconds.begin(), seconds.end()), median_of(seconds));
}

constexpr std::size_t kWindow = 1'000;
constexpr std::size_t kCycleEvery = 16;

// Pause times of automatic collections, by generation: [0] and [1] are the young
// collections, [2] the full ones the 25% rule lets through.
struct Pauses {
  std::vector<double> seconds[3];
};

Pauses run_pauses(std::size_t containers) {
  ouro::Heap heap;
  ouro::HeapScope scope(heap);
  ouro::gc::set_threshold(700, 10, 10, heap);
  Pauses pauses;
  for (std::vector<double>& s : pauses.seconds) s.reserve(containers / 1000);  // no allocation
  Clock::time_point started{};                                                 // in a pause
  ouro::gc::callbacks(heap).add(
      [&](const std::string& phase, const ouro::gc::CollectionInfo& info) {
        if (phase == "start") {
          started = Clock::now();
        } else {
          pauses.seconds[info.generation].push_back(seconds_since(started));
        }
      });
  std::vector<ouro::Ref<Node>> window(kWindow);
  std::size_t made = 0;
  for (std::size_t i = 0; made < containers; ++i) {
    ouro::Ref<Node> node = ouro::make<Node>();
    ++made;
    if (i % kCycleEvery == 0) {
      node->next = ouro::make<Node>();
      node->next->next = node;
      ++made;
    }
    window[i % kWindow] = std::move(node);
  }
  ouro::gc::callbacks(heap).clear();
  return pauses;
}

// Nearest-rank percentile (bench/gc_vs_cpython.py computes it the same way).
double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const auto rank =
      static_cast<std::size_t>(std::ceil(p / 100 * static_cast<double>(values.size())));
  return values[std::max<std::size_t>(rank, 1) - 1];
}

double max_of(const std::vector<double>& values) {
  return values.empty() ? 0.0 : *std::max_element(values.begin(), values.end());
}

void measure_pauses(std::size_t containers) {
  run_pauses(containers / 10);  // warm-up
  const Pauses pauses = run_pauses(containers);
  std::vector<double> young = pauses.seconds[0];
  young.insert(young.end(), pauses.seconds[1].begin(), pauses.seconds[1].end());
  std::printf(
      "{\"measure\": \"pauses\", \"containers\": %zu, \"count\": [%zu, %zu, %zu], "
      "\"young_median\": %.9f, \"young_p99\": %.9f, \"young_max\": %.9f, \"full_median\": %.9f, "
      "\"full_max\": %.9f}\n",
      containers, pauses.seconds[0].size(), pauses.seconds[1].size(), pauses.seconds[2].size(),
      median_of(young), percentile(young, 99), max_of(young), median_of(pauses.seconds[2]),
      max_of(pauses.seconds[2]));
}

void measure_header() {
  ouro::Heap heap;
  ouro::HeapScope scope(heap);
  const ouro::Ref<Empty> empty = ouro::make<Empty>();
  const ouro::Ref<Node> node = ouro::make<Node>();
  std::printf(
      "{\"measure\": \"header\", \"gc_links\": %zu, \"object\": %zu, \"header\": %zu, "
      "\"empty_getsizeof\": %zu, \"node_getsizeof\": %zu}\n",
      sizeof(ouro::detail::GcLinks), sizeof(ouro::Object),
      sizeof(ouro::detail::GcLinks) + sizeof(ouro::Object), ouro::getsizeof(empty),
      ouro::getsizeof(node));
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  std::size_t pause_containers = 10'000'000;
  std::string_view only;
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 < argc && std::strcmp(argv[i], "--runs") == 0) {
      runs = std::max(1, std::atoi(argv[i + 1]));
    } else if (i + 1 < argc && std::strcmp(argv[i], "--pause-containers") == 0) {
      pause_containers = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (i + 1 < argc && std::strcmp(argv[i], "--only") == 0) {
      only = argv[i + 1];
    } else {
      std::fprintf(stderr,
                   "usage: %s [--runs N] [--pause-containers N] "
                   "[--only header|cycles|live|pauses]\n",
                   argv[0]);
      return 2;
    }
  }
  if (only.empty() || only == "header") measure_header();
  if (only.empty() || only == "cycles") measure_cycles(runs);
  if (only.empty() || only == "live") measure_live(runs);
  if (only.empty() || only == "pauses") measure_pauses(pause_containers);
  return 0;
}
