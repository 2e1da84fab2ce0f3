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

#include "ouro/core/heap.h"
#include "ouro/core/ref.h"

namespace ouro::gc {

/// The current heap, for default arguments. Throws std::logic_error if none is current.
Heap& current_heap();

// Debug flags (gc.DEBUG_*), with CPython's values.
inline constexpr int DEBUG_STATS = 1;          ///< print statistics during collection
inline constexpr int DEBUG_COLLECTABLE = 2;    ///< print collectable objects found
inline constexpr int DEBUG_UNCOLLECTABLE = 4;  ///< print uncollectable objects found
inline constexpr int DEBUG_SAVEALL = 32;       ///< keep unreachable objects in garbage()
inline constexpr int DEBUG_LEAK = DEBUG_COLLECTABLE | DEBUG_UNCOLLECTABLE | DEBUG_SAVEALL;

using GenerationStats = detail::GenerationStats;
using CollectionInfo = detail::CollectionInfo;
/// A gc callback: phase is "start" or "stop"; info has generation, collected, uncollectable.
using Callback = std::function<void(const std::string& phase, const CollectionInfo& info)>;

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

/// gc.callbacks: called with "start" before and "stop" after every collection. Exceptions
/// go to the unraisable hook.
std::vector<Callback>& callbacks(Heap& heap = current_heap());
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

/// Stress mode: collect at every container allocation (also set by OURO_GC_STRESS=1 in the
/// environment when the heap is created). For tests; it makes allocation very slow.
void set_stress(bool on, Heap& heap = current_heap());

}  // namespace ouro::gc
