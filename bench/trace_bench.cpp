// The tracer's overhead on the values and pickle workloads (issue 11): each workload timed
// with no tracer (the allocator's observer branch not taken: "off") and with a tracer
// keeping one frame ("on"), interleaved, best of N each, in one process. Prints one line per
// workload: "name off_seconds on_seconds ratio"; then the off-path cost of make<T>'s line
// recording, and the tracer's metadata per live block.
//
//   build/release/bench/trace_bench [runs=7]
//   build/release/bench/trace_bench probe values.records on|off   (under callgrind:
//       valgrind --tool=callgrind --toggle-collect='*probe_workload*' build/release/...)
//
// The second form runs one workload once, traced or not, for an instruction count of the
// timed part alone (the figures in docs/benchmarks.md, "Tracing overhead").
//
// docs/benchmarks.md quotes the median of three whole runs. What "off" costs against a
// build without the observer branch is measured by running the same workloads from
// bench/value_bench and bench/pickle_bench on both builds (see docs/benchmarks.md).
#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ouro/pickle/pickle.h"
#include "ouro/trace/tracer.h"
#include "ouro/value/value.h"

namespace {

/// CPU seconds of this thread (CLOCK_THREAD_CPUTIME_ID): unlike wall time, they do not
/// count the time other processes take on a shared machine (hardware cycle counters are
/// not available on these virtual machines).
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

constexpr std::size_t kInts = 1'000'000;
constexpr std::size_t kRecords = 100'000;

ouro::Value build_ints(ouro::Heap& heap) {
  ouro::Ref<ouro::List> list = ouro::List::make(heap, kInts);
  for (std::size_t i = 0; i < kInts; ++i) list->append(ouro::Value(i));
  return ouro::Value(list);
}

/// The records workload of bench/value_bench.cpp: 100,000 dicts
/// {'id': i, 'name': 'user<i>', 'score': i * 0.5, 'tags': ['a', 'b']}.
ouro::Value build_records(ouro::Heap& heap) {
  ouro::HeapScope scope(heap);
  const ouro::Value id("id"), name("name"), score("score"), tags("tags"), a("a"), b("b");
  ouro::Value records = ouro::list();
  char text[32];
  for (std::size_t i = 0; i < kRecords; ++i) {
    const auto end = fmt::format_to_n(text, sizeof text, "user{}", i).out;
    records.as<ouro::List>().append(ouro::dict(
        {{id, ouro::Value(i)},
         {name, ouro::Value(std::string_view(text, static_cast<std::size_t>(end - text)))},
         {score, ouro::Value(static_cast<double>(i) * 0.5)},
         {tags, ouro::list({a, b})}}));
  }
  return records;
}

/// A small user type for the cost of make<T>'s source line (ouro/core/site.h).
class Leaf : public ouro::Object {
 public:
  std::uint64_t value = 0;

 protected:
  ~Leaf() override = default;
};
constexpr std::size_t kLeaves = 1'000'000;

/// Off-path cost of recording the caller's line: make<T> (pushes the line, two
/// thread-local stores) against make_in<T> (records nothing), no tracer in either.
void measure_site_cost(int runs) {
  auto time = [&](bool located) {
    double best = 1e30;  // thread CPU seconds
    for (int r = 0; r < runs * 2; ++r) {
      ouro::Heap heap;
      ouro::HeapScope scope(heap);
      std::vector<ouro::Ref<Leaf>> keep;
      keep.reserve(kLeaves);
      const double c0 = thread_cpu_seconds();
      for (std::size_t i = 0; i < kLeaves; ++i) {
        // The baseline is make<T> as it was before it recorded lines: current heap, make_in.
        keep.push_back(located ? ouro::make<Leaf>()
                               : ouro::make_in<Leaf>(*ouro::Heap::current(), 0));
      }
      best = std::min(best, thread_cpu_seconds() - c0);
    }
    return best;
  };
  double plain = 1e30, located = 1e30;
  for (int round = 0; round < 2; ++round) {
    plain = std::min(plain, time(false));
    located = std::min(located, time(true));
  }
  std::printf("%-16s cpu off %.4f s located %.4f s ratio %.3f (make<T> vs make_in<T>)\n",
              "make.site", plain, located, located / plain);
}

/// The tracer's metadata while 100,000 records are alive: per-block tables, and all of it.
void measure_metadata() {
  ouro::Heap heap;
  ouro::HeapScope scope(heap);
  ouro::trace::Tracer tracer(heap);
  tracer.start(1);
  const ouro::Value records = build_records(heap);
  const double blocks = static_cast<double>(tracer.traced_blocks());
  std::printf("%-16s %.0f live blocks: tables %.1f B/block, all tracer memory %.1f B/block\n",
              "metadata", blocks, static_cast<double>(tracer.trace_table_bytes()) / blocks,
              static_cast<double>(tracer.tracer_memory()) / blocks);
}

/// A workload: `prepare` runs untimed (and untraced) in the heap, `timed` is measured.
struct Workload {
  const char* name;
  std::function<ouro::Value(ouro::Heap&)> prepare;
  std::function<void(ouro::Heap&, const ouro::Value&)> timed;
};

/// Seconds of the best of `runs` timed calls, each in a fresh heap, traced or not.
double best_seconds(int runs, bool traced, const Workload& w, double* best_cycles) {
  double best = 1e30;
  for (int r = 0; r < runs; ++r) {
    ouro::Heap heap;
    ouro::HeapScope scope(heap);
    const ouro::Value prepared = w.prepare(heap);
    std::optional<ouro::trace::Tracer> tracer;
    if (traced) tracer.emplace(heap).start(1);
    const auto start = std::chrono::steady_clock::now();
    const double c0 = thread_cpu_seconds();
    w.timed(heap, prepared);
    const double c1 = thread_cpu_seconds();
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    best = std::min(best, took.count());
    *best_cycles = std::min(*best_cycles, c1 - c0);
  }
  return best;
}

/// The timed part of a workload, once, on its own for callgrind's --toggle-collect.
[[gnu::noinline]] void probe_workload(const Workload& w, ouro::Heap& heap,
                                      const ouro::Value& prepared) {
  w.timed(heap, prepared);
}

/// `trace_bench probe NAME on|off`: the workload NAME once, traced (one frame) or not.
int probe(const Workload* begin, const Workload* end, std::string_view name, bool traced) {
  const Workload* w = std::find_if(begin, end, [&](const Workload& x) { return x.name == name; });
  if (w == end) {
    std::fprintf(stderr, "trace_bench probe: no workload named '%.*s'\n",
                 static_cast<int>(name.size()), name.data());
    return 2;
  }
  ouro::Heap heap;
  ouro::HeapScope scope(heap);
  const ouro::Value prepared = w->prepare(heap);
  std::optional<ouro::trace::Tracer> tracer;
  if (traced) tracer.emplace(heap).start(1);
  probe_workload(*w, heap, prepared);
  return 0;
}

void measure(int runs, const Workload& w) {
  double off = 1e30, on = 1e30, off_cycles = 1e30, on_cycles = 1e30;
  for (int round = 0; round < 2; ++round) {  // interleaved: both sides see the same machine
    off = std::min(off, best_seconds(runs, false, w, &off_cycles));
    on = std::min(on, best_seconds(runs, true, w, &on_cycles));
  }
  std::printf("%-16s cpu off %.4f s on %.4f s ratio %.3f | wall off %.4f s on %.4f s ratio %.3f\n",
              w.name, off_cycles, on_cycles, on_cycles / off_cycles, off, on, on / off);
}

}  // namespace

int main(int argc, char** argv) {
  const bool probing = argc == 4 && std::string_view(argv[1]) == "probe";
  const int runs = argc >= 2 && !probing ? std::max(1, std::atoi(argv[1])) : 7;
  const auto nothing = [](ouro::Heap&) { return ouro::Value(); };
  static std::string records_pickle;
  {
    ouro::Heap heap;
    ouro::HeapScope scope(heap);  // dumps works in the current heap
    records_pickle = ouro::pickle::dumps(build_records(heap), {.protocol = 5});
  }
  const Workload workloads[] = {
      {"values.ints", nothing, [](ouro::Heap& h, const ouro::Value&) { (void)build_ints(h); }},
      {"values.records", nothing,
       [](ouro::Heap& h, const ouro::Value&) { (void)build_records(h); }},
      {"pickle.dumps", build_records,
       [](ouro::Heap&, const ouro::Value& v) {
         records_pickle = ouro::pickle::dumps(v, {.protocol = 5});
       }},
      {"pickle.loads", nothing,
       [](ouro::Heap&, const ouro::Value&) { (void)ouro::pickle::loads(records_pickle); }},
  };
  if (probing) {
    return probe(std::begin(workloads), std::end(workloads), argv[2],
                 std::string_view(argv[3]) == "on");
  }
  for (const Workload& w : workloads) measure(runs, w);
  measure_site_cost(runs);
  measure_metadata();
  return 0;
}
