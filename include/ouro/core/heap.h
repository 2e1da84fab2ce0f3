// ouro::Heap: the home of managed objects. It owns an allocator (ouro/alloc/allocator.h) and
// the object core's private state (the collector's generations, the trashcan, the weak-
// reference table), installs the collector as the allocator's pressure hook, and shuts the
// object world down in one fixed order before its memory goes.
//
// Invariants kept here (DESIGN.md):
//   I1  one heap, one thread: HeapScope, make<T> and collections check the owner thread in
//       every build (a comparison of two ids); debug builds check every allocation too.
//   I7  every byte counts against limit_bytes; passing it runs one full collection, then
//       throws MemoryError; after any failure the heap is consistent and fully usable.
//
// Shutdown order (~Heap), each step needing the ones after it:
//   1. weakref.finalize callbacks registered with atexit run (they may use any object);
//   2. gc.garbage is released;
//   3. a last full collection frees cyclic garbage (finalizers and weakref callbacks run);
//   4. objects still referenced from outside the heap (a Ref that outlives it) are
//      reported by type on stderr, and their references are disarmed (see heap.cpp);
//   5. every remaining container is cleared, so what only they kept alive is freed;
//   6. the core state's own buffers go back to the allocator;
//   7. the allocator returns every arena and large block to the backing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>

#include "ouro/alloc/allocator.h"
#include "ouro/config.h"
#include "ouro/detail/core_state.h"
#include "ouro/errors.h"

namespace ouro {

template <class T>
class Ref;
class Heap;

namespace detail {
/// Throws std::logic_error naming `call`: it needs a current heap and none is set.
[[noreturn]] void throw_no_current_heap(const char* call);
/// A byte per thread whose address identifies the thread: comparing it costs one
/// thread-pointer-relative address, no call (std::this_thread::get_id() is a call).
inline OURO_THREAD_LOCAL char t_thread_token;
inline const void* this_thread_token() noexcept { return &t_thread_token; }
CoreState& core_state(Heap& heap) noexcept;
const CoreState& core_state(const Heap& heap) noexcept;

/// Hooks for the tracing layer's OURO_TRACE (src/trace/session.cpp sets them during static
/// initialisation): `created` runs at the end of every Heap's constructor, `destroying` at
/// the start of its destructor, before the heap's objects die. Null: nothing to do.
struct HeapLifecycleHooks {
  void (*created)(Heap&) noexcept = nullptr;
  void (*destroying)(Heap&) noexcept = nullptr;
};
inline constinit HeapLifecycleHooks heap_lifecycle_hooks;
}  // namespace detail

/// A private heap: allocation, statistics, limit, and the home of every managed object
/// created in it. Never a global singleton: create as many as you like, each used by one
/// thread at a time (I1). Not copyable or movable (objects point back at it).
///
///     ouro::Heap heap({.limit_bytes = 8 << 20});
///     ouro::HeapScope scope(heap);          // make<T> now allocates here
///     auto node = ouro::make<Node>(42);
///     heap.debug_mallocstats(std::cout);
class Heap {
 public:
  /// Called when an allocation would pass the limit, before MemoryError is thrown. It may
  /// free memory (e.g. run a collection); the allocation is then tried once more. The
  /// default (no hook) runs one full collection.
  using PressureHook = std::function<void(Heap& heap, std::size_t requested)>;

  /// Throws std::invalid_argument naming the option for inconsistent options (see
  /// HeapOptions: arenas count against the limit and must fit in the buffer).
  explicit Heap(HeapOptions options = {});
  /// Shuts the object world down in the order given at the top of this header, then
  /// returns every arena and large block to the backing.
  ~Heap();
  Heap(const Heap&) = delete;
  Heap& operator=(const Heap&) = delete;

  /// `n` bytes, 16-byte aligned. Throws MemoryError (limit or backing exhausted).
  [[nodiscard]] void* allocate(std::size_t n) {
    check_thread();
    return allocator_.allocate(n);
  }
  /// Returns a block from allocate(n) with the same n.
  void deallocate(void* p, std::size_t n) noexcept { allocator_.deallocate(p, n); }
  /// Bytes the heap really spends for a request of n bytes (its size class or large size).
  static std::size_t block_size_for(std::size_t n) noexcept { return Allocator::block_size_for(n); }
  /// The allocator underneath, for standard containers (StdAllocator) and the tracer.
  Allocator& allocator() noexcept { return allocator_; }
  const Allocator& allocator() const noexcept { return allocator_; }

  /// Creates a managed object in this heap (see ouro/core/ref.h for make<T>).
  template <class T, class... Args>
  Ref<T> make(Args&&... args);

  HeapStats stats() const noexcept { return allocator_.stats(); }
  /// Starts peak tracking afresh from the current figures.
  void reset_peak() noexcept { allocator_.reset_peak(); }
  /// Prints the pools-by-size-class table, arena and large-block summary, in the manner of
  /// CPython's sys._debugmallocstats().
  void debug_mallocstats(std::ostream& out) const { allocator_.debug_mallocstats(out); }
  /// Checks the allocator's structures (Allocator::verify) and the object world: every
  /// tracked container on exactly one generation list, live counts equal to the per-type
  /// counts, the weakly-referenced bit set exactly for the objects in the weak table.
  /// Aborts with a message on the first broken invariant (in every build), else true.
  bool verify() const;
  /// Objects created in this heap and not yet freed.
  std::size_t live_objects() const noexcept { return state_.live_objects; }

  std::size_t limit_bytes() const noexcept { return allocator_.limit_bytes(); }
  /// Changes the limit; lowering it below bytes_reserved only affects future growth.
  void set_limit_bytes(std::size_t limit) noexcept { allocator_.set_limit_bytes(limit); }
  /// Replaces the default pressure relief (one full collection); an empty hook restores it.
  void set_pressure_hook(PressureHook hook) { pressure_hook_ = std::move(hook); }
  /// The options as resolved at construction (defaults filled in).
  const HeapOptions& options() const noexcept { return allocator_.options(); }

  /// The heap that make<T>() uses on this thread (set by HeapScope), or nullptr.
  static Heap* current() noexcept { return current_; }
  /// The heap owning an allocator (only for an allocator a Heap owns). No load: the
  /// allocator is the heap's first member and Heap has no base class and no virtual
  /// function, so the two share their address (the constructor checks it), and dealloc
  /// reaches the heap from a block's pool header in one load.
  static Heap& of(Allocator& allocator) noexcept { return *reinterpret_cast<Heap*>(&allocator); }
  /// Makes the calling thread the heap's owner. The previous owner must no longer use it.
  void bind_to_current_thread() noexcept { owner_ = detail::this_thread_token(); }
  /// Aborts with "heap used from a thread that does not own it" if the calling thread is
  /// not the owner. Cheap (two ids compared): HeapScope, make<T> and collections call it in
  /// every build (I1).
  void check_thread() const noexcept {
    if (OURO_UNLIKELY(owner_ != detail::this_thread_token())) report_wrong_thread();
  }

 private:
  friend class HeapScope;
  friend detail::CoreState& detail::core_state(Heap& heap) noexcept;
  friend const detail::CoreState& detail::core_state(const Heap& heap) noexcept;

  static void relieve_pressure(void* heap, std::size_t requested);
  [[noreturn]] void report_wrong_thread() const noexcept;

  Allocator allocator_;  // first: constructed before, destroyed after the state using it
  detail::CoreState state_;
  PressureHook pressure_hook_;
  const void* owner_;  // the owner thread's token (detail::this_thread_token)

  static OURO_THREAD_LOCAL Heap* current_;
};

namespace detail {
inline CoreState& core_state(Heap& heap) noexcept { return heap.state_; }
inline const CoreState& core_state(const Heap& heap) noexcept { return heap.state_; }
}  // namespace detail

/// Makes `heap` the current heap of this thread for the scope's lifetime (make<T> uses it).
/// Scopes nest; the previous current heap is restored on exit. Aborts if `heap` belongs to
/// another thread (I1).
///
///     ouro::Heap heap;
///     { ouro::HeapScope scope(heap); auto x = ouro::make<Node>(); }
class HeapScope {
 public:
  explicit HeapScope(Heap& heap) noexcept : previous_(Heap::current_) {
    heap.check_thread();
    Heap::current_ = &heap;
  }
  ~HeapScope() { Heap::current_ = previous_; }
  HeapScope(const HeapScope&) = delete;
  HeapScope& operator=(const HeapScope&) = delete;

 private:
  Heap* previous_;
};

}  // namespace ouro
