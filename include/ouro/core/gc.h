// ouro::gc: Python's `gc` module for one heap — collection, thresholds, statistics,
// callbacks, debug flags, freeze, referrers/referents.
//
// Every function works on the heap it is given, by default the current heap
// (Heap::current(), set by HeapScope); std::logic_error if there is none.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <tuple>
#include <vector>

#include "ouro/config.h"
#include "ouro/core/gc_info.h"
#include "ouro/core/heap.h"
#include "ouro/core/ref.h"

namespace ouro::gc {

/// The current heap, for default arguments. Throws std::logic_error if none is current.
Heap& current_heap(ouro::SourceLocation call = ouro::SourceLocation::current());

// Debug flags (gc.DEBUG_*), with CPython's values.
inline constexpr int DEBUG_STATS = 1;          ///< print statistics during collection
inline constexpr int DEBUG_COLLECTABLE = 2;    ///< print collectable objects found
inline constexpr int DEBUG_UNCOLLECTABLE = 4;  ///< print uncollectable objects found
inline constexpr int DEBUG_SAVEALL = 32;       ///< keep unreachable objects in garbage()
inline constexpr int DEBUG_LEAK = DEBUG_COLLECTABLE | DEBUG_UNCOLLECTABLE | DEBUG_SAVEALL;

/// Collects `generation` and every younger one; returns the number of unreachable objects
/// found (collected + uncollectable). Returns 0 without collecting when a collection is
/// already running (e.g. called from a finalizer). Throws std::invalid_argument for a
/// generation outside 0..2 ("invalid generation").
///
///     auto a = ouro::make<Node>(); a->next = a;  // a self-cycle
///     a.reset();
///     assert(ouro::gc::collect() == 1);
std::size_t collect(int generation = 2, Heap& heap = current_heap());

void enable(Heap& heap = current_heap());     ///< turns automatic collection on
void disable(Heap& heap = current_heap());    ///< turns automatic collection off
bool isenabled(Heap& heap = current_heap());  ///< is automatic collection on?

/// Thresholds (CPython 3.11 defaults: 700, 10, 10). threshold0 == 0 disables automatic
/// collection; the oldest generation also waits for the 25% rule (see collector.cpp).
std::tuple<int, int, int> get_threshold(Heap& heap = current_heap());
void set_threshold(int threshold0, std::optional<int> threshold1 = std::nullopt,
                   std::optional<int> threshold2 = std::nullopt, Heap& heap = current_heap());
/// Current counts of the three generations (see detail::Generation::count).
std::tuple<int, int, int> get_count(Heap& heap = current_heap());
/// Per generation: collections, collected, uncollectable (gc.get_stats()).
std::array<GenerationStats, 3> get_stats(Heap& heap = current_heap());

/// The debug flags (DEBUG_*). Output goes to stderr, in CPython's words.
void set_debug(int flags, Heap& heap = current_heap());
int get_debug(Heap& heap = current_heap());

/// Names one registered callback, to remove it (Python removes by identity, which a C++
/// closure has not). Handles are never reused within a heap.
enum class CallbackHandle : std::size_t {};

/// gc.callbacks of one heap: called with "start" before and "stop" after every
/// collection, in list order. Exceptions go to the unraisable hook. A callback may add or
/// remove callbacks; the change applies from the next collection. The list lives in the
/// heap (it counts against the limit).
///
///     auto handle = ouro::gc::callbacks().add([](const std::string& phase, auto& info) {
///       std::printf("%s gen %d\n", phase.c_str(), info.generation);
///     });
///     ouro::gc::callbacks().remove(handle);
class CallbackList {
 public:
  /// Appends a callback (called last). Throws MemoryError.
  CallbackHandle add(Callback callback);
  /// Inserts a callback at the front (called first), as gc.callbacks.insert(0, f).
  CallbackHandle add_front(Callback callback);
  /// Removes the callback; false if the handle names none (already removed).
  bool remove(CallbackHandle handle) noexcept;
  /// Removes every callback.
  void clear() noexcept;
  std::size_t size() const noexcept;
  bool empty() const noexcept { return size() == 0; }

 private:
  friend CallbackList callbacks(Heap& heap);
  explicit CallbackList(Heap& heap) noexcept : heap_(&heap) {}
  Heap* heap_;
};

/// The heap's gc.callbacks.
CallbackList callbacks(Heap& heap = current_heap());
/// gc.garbage: objects kept by DEBUG_SAVEALL (a copy; the heap holds them until cleared).
std::vector<Ref<Object>> garbage(Heap& heap = current_heap());
/// Empties gc.garbage (Python's `gc.garbage.clear()`).
void clear_garbage(Heap& heap = current_heap());

/// Tracked objects, of one generation or of all three (not the frozen ones).
/// Throws std::invalid_argument for a generation outside 0..2, with CPython's message.
std::vector<Ref<Object>> get_objects(std::optional<int> generation = std::nullopt,
                                     Heap& heap = current_heap());
/// Tracked objects that refer to any of `objects` (gc.get_referrers).
std::vector<Ref<Object>> get_referrers(std::span<const Ref<Object>> objects,
                                       Heap& heap = current_heap());
/// Objects that any of `objects` refers to, by their traverse() (gc.get_referents).
std::vector<Ref<Object>> get_referents(std::span<const Ref<Object>> objects);

/// A reference that a container holds but its traverse() does not visit (I3): a cycle
/// through it can never be collected.
struct UnvisitedReference {
  Ref<Object> container;  ///< the object whose traverse() misses the reference
  Ref<Object> referent;   ///< the container it refers to
  std::size_t offset;     ///< byte offset of the reference inside `container`
};

/// Finds references that tracked containers hold in their own object (a `Ref` or `Value`
/// member) to other tracked containers, but do not visit in traverse(): the "forgot a field
/// in traverse()" mistake, which makes a cycle through that field uncollectable. It scans
/// each container's bytes for the addresses of tracked containers (conservatively, as a
/// debugging aid: references kept out of line, e.g. in a std::vector's buffer, are not
/// seen). Debug builds print what it finds when a heap is destroyed. Not for hot paths:
/// it walks every tracked container.
///
///     for (auto& miss : ouro::gc::find_unvisited_references())
///       std::cerr << miss.container->type_name() << " misses " << miss.referent->type_name();
std::vector<UnvisitedReference> find_unvisited_references(Heap& heap = current_heap());

/// Is the object tracked by the collector? (gc.is_tracked)
bool is_tracked(const Ref<Object>& object) noexcept;
/// Has the object's finalizer run? (gc.is_finalized)
bool is_finalized(const Ref<Object>& object) noexcept;

/// Moves every tracked object to the permanent generation, which collections ignore.
void freeze(Heap& heap = current_heap());
/// Moves the permanent generation back into the oldest generation.
void unfreeze(Heap& heap = current_heap());
/// Objects in the permanent generation.
std::size_t get_freeze_count(Heap& heap = current_heap());

}  // namespace ouro::gc

/// Test hooks, fenced off from the API proper (cppgc's `testing`). Not for production code.
namespace ouro::testing {

/// Stress mode: collect generation 0 at every container allocation (also set by
/// OURO_GC_STRESS=1 in the environment when a heap is created). It makes allocation very
/// slow; it exists to shake out missing traverse() and lifetime bugs in test suites.
void set_gc_stress(bool on, Heap& heap = gc::current_heap());

}  // namespace ouro::testing
