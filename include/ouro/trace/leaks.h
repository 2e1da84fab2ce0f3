// Leak finding, as objgraph and heapy do it for Python: the chain of references that keeps
// an object alive, the bytes that would be freed with it, and the most common types with
// their growth between two points.
//
// Roots are found with the collector's own rule (DESIGN.md I4, refcount subtraction): a
// tracked object whose refcount exceeds the references the heap's containers hold to it is
// referenced from outside the heap (a Ref on the C++ stack, a global) and is a root. Only
// the public gc API is used (get_objects, get_referents, refcounts). Weak references are
// never edges (they keep nothing alive, I5). All functions run a full walk: for debugging.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ouro/core/heap.h"
#include "ouro/core/ref.h"
#include "ouro/trace/capture.h"

namespace ouro::trace {

/// Objects referenced from outside the heap: tracked containers whose refcount exceeds the
/// references found by traversing every tracked container (gc.get_objects order).
std::vector<Ref<Object>> find_roots(Heap& heap);

/// The shortest chain of references from a root to `target`, root first and `target` last
/// (objgraph.find_backref_chain). `target` alone when it is itself held from outside the
/// heap beyond the Ref passed here; empty when nothing keeps it alive (it is cyclic trash
/// that the next collection frees).
///
///     auto chain = ouro::trace::reference_chain(leaked);
///     for (auto& o : chain) std::cout << o->type_name() << " -> ";
template <class T>
std::vector<Ref<Object>> reference_chain(const Ref<T>& target);

/// Bytes that would be freed if `target` died: its own getsizeof and that of every object
/// reachable from it that no root reaches without passing through it (heapy's retained size).
template <class T>
std::uint64_t retained_size(const Ref<T>& target);

/// A chain as the capture and the report keep it: type names and sizes, and the retained size.
template <class T>
LeakRecord describe_leak(const Ref<T>& target);

namespace detail {
// The bodies, on the object the caller holds exactly one Ref to (templates above: so that
// passing a Ref<Derived> adds no temporary reference that would look like a root).
std::vector<Ref<Object>> reference_chain_of(Object* target);
std::uint64_t retained_size_of(Object* target);
LeakRecord describe_leak_of(Object* target);
}  // namespace detail

template <class T>
std::vector<Ref<Object>> reference_chain(const Ref<T>& target) {
  return target ? detail::reference_chain_of(target.get()) : std::vector<Ref<Object>>{};
}
template <class T>
std::uint64_t retained_size(const Ref<T>& target) {
  return target ? detail::retained_size_of(target.get()) : 0;
}
template <class T>
LeakRecord describe_leak(const Ref<T>& target) {
  return target ? detail::describe_leak_of(target.get()) : LeakRecord{};
}

/// One row of most_common_types / growth.
struct TypeGrowth {
  std::string type;
  std::size_t count = 0;
  std::int64_t delta = 0;  ///< change since the previous point (growth only)
};

/// The `limit` most numerous live types (objgraph.most_common_types).
std::vector<TypeGrowth> most_common_types(const Heap& heap, std::size_t limit = 10);

/// objgraph.show_growth: remembers the counts per type; each growth() returns the types
/// whose count rose since the previous call (or construction), biggest rise first.
///
///     ouro::trace::GrowthTracker growth(heap);
///     run_one_request();
///     std::cout << ouro::trace::format_growth(growth.growth());
class GrowthTracker {
 public:
  explicit GrowthTracker(const Heap& heap);
  std::vector<TypeGrowth> growth(std::size_t limit = 10);

 private:
  const Heap& heap_;
  std::map<std::string, std::size_t> previous_;
};

/// objgraph's table: '%-*s%9d %+9d' per row, the name column as wide as the longest name.
std::string format_growth(const std::vector<TypeGrowth>& rows);

}  // namespace ouro::trace
