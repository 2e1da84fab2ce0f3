// Benchmarks of the foundation: ouro::Heap against the malloc peers, make<T> against
// std::make_shared, and how many bytes each allocator takes from the system per byte asked.
//
// Why these three: ouro's heap exists to make Python-shaped workloads (millions of small,
// short- and long-lived objects of mixed sizes) cheap in time and in memory, and Ref<T> with
// plain counts exists to make handing references around cheaper than shared_ptr's atomic
// counts. DESIGN.md "Measuring": only ratios against a peer in the same process and run are
// reported (the machines are shared), medians of repetitions, both sides warmed up.
//
//   churn/<allocator>     1,000,000 live blocks of 16..512 bytes (uniform, fixed seed); each
//                         item frees a random live slot and allocates a new random size into
//                         it, then writes the first word (as an object header would be).
//                         The same operation sequence for every allocator; 1,000,000 untimed
//                         warm-up items, then 3,000,000 timed ones. items/s = free+allocate
//                         pairs per second.
//   refs/ouro_make        make<T> (a 3-int, non-container Object), 4 copies, all dropped.
//   refs/std_make_shared  the same with std::make_shared and shared_ptr copies.
//   memory/<allocator>    bytes taken from the system per byte requested, after the 1,000,000
//                         fill allocations ("fill") and after fill + 1,000,000 churn items
//                         ("churn"). ouro: HeapStats::bytes_reserved. glibc: mallinfo2()
//                         arena + hblkhd, as deltas in a fresh child process (this binary
//                         re-executed), so earlier benchmarks' freed memory cannot hide
//                         growth. mimalloc: mi_process_info's committed bytes, jemalloc:
//                         stats.mapped, also as deltas in a fresh child.
//
// One executable per peer (see bench/CMakeLists.txt): linking mimalloc or jemalloc replaces
// the process's malloc, so glibc is measured only in heap_bench, which links neither.
#include <benchmark/benchmark.h>
#include <dlfcn.h>
#include <fmt/core.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ouro/core/heap.h"
#include "ouro/core/ref.h"

#if OURO_BENCH_PEER_MIMALLOC
#include <mimalloc.h>
#endif
#if OURO_BENCH_PEER_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

namespace {

// --- the operation sequence ----------------------------------------------------------------

constexpr std::size_t kLiveBlocks = 1'000'000;
constexpr std::size_t kWarmupItems = 1'000'000;
constexpr std::size_t kTimedItems = 3'000'000;
constexpr std::uint64_t kSeed = 0x6f75726f'2024'0001;  // fixed: same sequence every run
constexpr std::uint32_t kMinSize = 16;
constexpr std::uint32_t kMaxSize = 512;

/// One churn item: free the block in `slot`, allocate `size` bytes into it.
struct ChurnItem {
  std::uint32_t slot;
  std::uint32_t size;
};

/// The whole sequence, generated once per process and shared by every allocator.
struct ChurnPlan {
  std::vector<std::uint32_t> fill_sizes;  // kLiveBlocks initial sizes
  std::vector<ChurnItem> items;           // kWarmupItems + kTimedItems
};

// splitmix64: tiny, fast and identical on every platform (unlike std distributions).
std::uint64_t next_random(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Uniform in [0, n) by multiply-shift (Lemire); the bias is below 2^-32 for these n.
std::uint32_t random_below(std::uint64_t& state, std::uint32_t n) noexcept {
  return static_cast<std::uint32_t>(((next_random(state) >> 32) * n) >> 32);
}

std::uint32_t random_size(std::uint64_t& state) noexcept {
  return kMinSize + random_below(state, kMaxSize - kMinSize + 1);
}

const ChurnPlan& churn_plan() {
  static const ChurnPlan plan = [] {
    ChurnPlan p;
    std::uint64_t state = kSeed;
    p.fill_sizes.resize(kLiveBlocks);
    for (auto& size : p.fill_sizes) size = random_size(state);
    p.items.resize(kWarmupItems + kTimedItems);
    for (auto& item : p.items) {
      item.slot = random_below(state, static_cast<std::uint32_t>(kLiveBlocks));
      item.size = random_size(state);
    }
    return p;
  }();
  return plan;
}

// --- the allocators, behind one shape ---------------------------------------------------

struct OuroAllocator {
  static constexpr std::string_view kName = "ouro";
  ouro::Heap heap;
  void* allocate(std::size_t n) { return heap.allocate(n); }
  void deallocate(void* p, std::size_t n) noexcept { heap.deallocate(p, n); }
};

struct GlibcAllocator {
  static constexpr std::string_view kName = "glibc";
  void* allocate(std::size_t n) noexcept { return std::malloc(n); }
  void deallocate(void* p, std::size_t) noexcept { std::free(p); }
};

#if OURO_BENCH_PEER_MIMALLOC
struct MimallocAllocator {
  static constexpr std::string_view kName = "mimalloc";
  void* allocate(std::size_t n) noexcept { return mi_malloc(n); }
  void deallocate(void* p, std::size_t) noexcept { mi_free(p); }
};
#endif

#if OURO_BENCH_PEER_JEMALLOC
struct JemallocAllocator {
  static constexpr std::string_view kName = "jemalloc";
  void* allocate(std::size_t n) noexcept { return mallocx(n, 0); }
  void deallocate(void* p, std::size_t n) noexcept { sdallocx(p, n, 0); }
};
#endif

/// A live block of the churn and its requested size (sized frees need it).
struct Slot {
  void* block;
  std::uint32_t size;
};

template <class Allocator>
void allocate_into(Allocator& allocator, Slot& slot, std::uint32_t size, std::uint64_t stamp) {
  void* block = allocator.allocate(size);
  if (block == nullptr) std::abort();
  *static_cast<std::uint64_t*>(block) = stamp;  // touch it, as an object header would be
  slot = {block, size};
}

template <class Allocator>
void fill(Allocator& allocator, std::vector<Slot>& slots, const ChurnPlan& plan) {
  slots.resize(kLiveBlocks);
  for (std::size_t i = 0; i < kLiveBlocks; ++i) {
    allocate_into(allocator, slots[i], plan.fill_sizes[i], i);
  }
}

template <class Allocator>
void churn(Allocator& allocator, std::vector<Slot>& slots, const ChurnItem* items,
           std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    Slot& slot = slots[items[i].slot];
    allocator.deallocate(slot.block, slot.size);
    allocate_into(allocator, slot, items[i].size, i);
  }
}

template <class Allocator>
void drain(Allocator& allocator, std::vector<Slot>& slots) {
  for (Slot& slot : slots) allocator.deallocate(slot.block, slot.size);
  slots.clear();
}

template <class Allocator>
void bm_churn(benchmark::State& state) {
  const ChurnPlan& plan = churn_plan();
  auto allocator = std::make_unique<Allocator>();  // fresh per repetition (ouro: new Heap)
  std::vector<Slot> slots;
  fill(*allocator, slots, plan);
  churn(*allocator, slots, plan.items.data(), kWarmupItems);
  const ChurnItem* item = plan.items.data() + kWarmupItems;
  for (auto _ : state) {
    Slot& slot = slots[item->slot];
    allocator->deallocate(slot.block, slot.size);
    allocate_into(*allocator, slot, item->size, 0);
    ++item;
  }
  state.SetItemsProcessed(state.iterations());
  benchmark::DoNotOptimize(slots.data());
  drain(*allocator, slots);
}

// --- make<T> + 4 copies + drop ----------------------------------------------------------

/// A small non-container managed object: three ints after the 16-byte header.
class Triple final : public ouro::Object {
 public:
  Triple(int a, int b, int c) noexcept : a_(a), b_(b), c_(c) {}
  int sum() const noexcept { return a_ + b_ + c_; }

 protected:
  ~Triple() override = default;

 private:
  int a_, b_, c_;
};

/// The same payload for std::make_shared.
struct PlainTriple {
  int a, b, c;
};

[[maybe_unused]] void bm_refs_ouro(benchmark::State& state) {
  ouro::Heap heap;
  ouro::HeapScope scope(heap);
  int seed = 0;
  for (auto _ : state) {
    ouro::Ref<Triple> object = ouro::make<Triple>(seed, 2, 3);
    benchmark::DoNotOptimize(object);
    // DoNotOptimize's memory clobber forces each count update to be stored, so the four
    // increments and five decrements really happen (plain counts could otherwise fold).
    ouro::Ref<Triple> copy0 = object;
    benchmark::DoNotOptimize(copy0);
    ouro::Ref<Triple> copy1 = copy0;
    benchmark::DoNotOptimize(copy1);
    ouro::Ref<Triple> copy2 = copy1;
    benchmark::DoNotOptimize(copy2);
    ouro::Ref<Triple> copy3 = copy2;
    benchmark::DoNotOptimize(copy3);
    benchmark::ClobberMemory();
    ++seed;
  }
  state.SetItemsProcessed(state.iterations());
}

[[maybe_unused]] void bm_refs_make_shared(benchmark::State& state) {
  int seed = 0;
  for (auto _ : state) {
    std::shared_ptr<PlainTriple> object = std::make_shared<PlainTriple>(PlainTriple{seed, 2, 3});
    benchmark::DoNotOptimize(object);
    std::shared_ptr<PlainTriple> copy0 = object;
    benchmark::DoNotOptimize(copy0);
    std::shared_ptr<PlainTriple> copy1 = copy0;
    benchmark::DoNotOptimize(copy1);
    std::shared_ptr<PlainTriple> copy2 = copy1;
    benchmark::DoNotOptimize(copy2);
    std::shared_ptr<PlainTriple> copy3 = copy2;
    benchmark::DoNotOptimize(copy3);
    benchmark::ClobberMemory();
    ++seed;
  }
  state.SetItemsProcessed(state.iterations());
}

// --- memory: bytes taken from the system per byte requested -----------------------------

constexpr std::string_view kChildFlag = "--ouro-memory-child=";

/// Sum of requested bytes of the live blocks.
std::size_t requested_bytes(const std::vector<Slot>& slots) {
  std::size_t sum = 0;
  for (const Slot& slot : slots) sum += slot.size;
  return sum;
}

/// Bytes this process's malloc has taken from the system, as the peer itself reports it.
std::size_t system_bytes() {
#if OURO_BENCH_PEER_MIMALLOC
  std::size_t elapsed, user, sys, rss, peak_rss, commit, peak_commit, faults;
  mi_process_info(&elapsed, &user, &sys, &rss, &peak_rss, &commit, &peak_commit, &faults);
  return commit;
#elif OURO_BENCH_PEER_JEMALLOC
  std::uint64_t epoch = 1;
  std::size_t length = sizeof epoch;
  mallctl("epoch", &epoch, &length, &epoch, length);
  std::size_t mapped = 0;
  length = sizeof mapped;
  mallctl("stats.mapped", &mapped, &length, nullptr, 0);
  return mapped;
#else
  const struct mallinfo2 info = mallinfo2();
  return info.arena + info.hblkhd;
#endif
}

/// The process's default malloc (whatever this binary links) after `phase` ("fill" or
/// "churn"): prints "<requested> <system bytes delta>". Runs in a fresh child process.
int run_memory_child(std::string_view phase) {
  const ChurnPlan& plan = churn_plan();  // generated before the baseline: not counted
  std::vector<Slot> slots;
  slots.reserve(kLiveBlocks);
  GlibcAllocator allocator;  // std::malloc: glibc here, the peer in a peer's binary
  const std::size_t before = system_bytes();
  fill(allocator, slots, plan);
  if (phase == "churn") churn(allocator, slots, plan.items.data(), kWarmupItems);
  const std::size_t after = system_bytes();
  std::printf("%zu %zu\n", requested_bytes(slots), after - before);
  std::fflush(stdout);
  drain(allocator, slots);
  return 0;
}

std::string self_path() {
  char buffer[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  if (n <= 0) return {};
  return std::string(buffer, static_cast<std::size_t>(n));
}

void report_memory(benchmark::State& state, std::size_t requested, std::size_t reserved) {
  state.counters["requested_MB"] = static_cast<double>(requested) / 1e6;
  state.counters["reserved_MB"] = static_cast<double>(reserved) / 1e6;
  state.counters["reserved_per_requested"] =
      static_cast<double>(reserved) / static_cast<double>(requested);
}

void bm_memory_system(benchmark::State& state, std::string phase) {
  std::size_t requested = 0, reserved = 0;
  for (auto _ : state) {
    const std::string command = fmt::format("'{}' {}{}", self_path(), kChildFlag, phase);
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr || std::fscanf(pipe, "%zu %zu", &requested, &reserved) != 2) {
      state.SkipWithError("memory child process failed");
    }
    if (pipe != nullptr) ::pclose(pipe);
  }
  if (requested != 0) report_memory(state, requested, reserved);
}

void bm_memory_ouro(benchmark::State& state, std::string phase) {
  const ChurnPlan& plan = churn_plan();
  for (auto _ : state) {
    OuroAllocator allocator;
    std::vector<Slot> slots;
    fill(allocator, slots, plan);
    if (phase == "churn") churn(allocator, slots, plan.items.data(), kWarmupItems);
    const ouro::HeapStats stats = allocator.heap.stats();
    report_memory(state, requested_bytes(slots), stats.bytes_reserved);
    state.counters["in_use_per_requested"] =
        static_cast<double>(stats.bytes_in_use) / static_cast<double>(requested_bytes(slots));
    drain(allocator, slots);
  }
}

// --- registration -------------------------------------------------------------------------

/// The file that defines the `malloc` this process calls (dladdr on the resolved symbol).
std::string malloc_provider() {
  Dl_info info{};
  void* symbol = ::dlsym(RTLD_DEFAULT, "malloc");
  if (symbol == nullptr || ::dladdr(symbol, &info) == 0 || info.dli_fname == nullptr) return "?";
  return info.dli_fname;
}

template <class Allocator>
void register_churn() {
  benchmark::RegisterBenchmark(fmt::format("churn/{}", Allocator::kName).c_str(),
                               bm_churn<Allocator>)
      ->Iterations(kTimedItems)
      ->Unit(benchmark::kNanosecond);
}

void register_memory(std::string_view system_name) {
  for (std::string phase : {"fill", "churn"}) {
    benchmark::RegisterBenchmark(fmt::format("memory_{}/ouro", phase).c_str(), bm_memory_ouro,
                                 phase)
        ->Iterations(1)
        ->Repetitions(1)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(fmt::format("memory_{}/{}", phase, system_name).c_str(),
                                 bm_memory_system, phase)
        ->Iterations(1)
        ->Repetitions(1)
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with(kChildFlag)) return run_memory_child(arg.substr(kChildFlag.size()));
  }
  const std::string provider = malloc_provider();
  benchmark::AddCustomContext("malloc_provider", provider);
  register_churn<OuroAllocator>();
#if OURO_BENCH_PEER_MIMALLOC
  register_churn<MimallocAllocator>();
  register_memory("mimalloc");
#elif OURO_BENCH_PEER_JEMALLOC
  register_churn<JemallocAllocator>();
  register_memory("jemalloc");
#else
  // Only label glibc what really is glibc (a stray peer library would interpose malloc).
  if (provider.find("libc.so") != std::string::npos) {
    register_churn<GlibcAllocator>();
    register_memory("glibc");
  } else {
    fmt::print(stderr, "heap_bench: malloc comes from {}, not glibc: glibc benchmarks skipped\n",
               provider);
  }
  benchmark::RegisterBenchmark("refs/ouro_make", bm_refs_ouro);
  benchmark::RegisterBenchmark("refs/std_make_shared", bm_refs_make_shared);
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
