// Whole-heap views of the object world: live objects by type, the leak report, and the
// unraisable hook (Python's sys.unraisablehook).
#pragma once

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "ouro/core/heap.h"

namespace ouro {

/// One row of live_objects_by_type().
struct TypeCount {
  std::string type;   ///< the C++ type's registered name
  std::size_t count;  ///< live objects of that type
};

/// Live objects of a heap per type, most numerous first.
///
///     for (auto& row : ouro::live_objects_by_type(heap)) std::cout << row.type << row.count;
std::vector<TypeCount> live_objects_by_type(const Heap& heap);

/// Prints "ouro: heap destroyed with N live objects" and a count per type to `out`, and
/// returns true, if any object is alive; else prints nothing and returns false. Debug
/// builds call it from ~Heap after the last collection.
bool report_leaks(const Heap& heap, std::ostream& out);

/// Replaces the heap's unraisable hook: where exceptions from finalizers, weakref callbacks,
/// clear() and gc callbacks go, since they cannot propagate. An empty function restores
/// the default (print to stderr).
///
///     detail::core_state(heap).unraisable_hook = ...; // or:
///     ouro::set_unraisable_hook(heap, [](const ouro::UnraisableInfo& info) { log(info); });
inline void set_unraisable_hook(Heap& heap, std::function<void(const UnraisableInfo&)> hook) {
  detail::core_state(heap).unraisable_hook = std::move(hook);
}

}  // namespace ouro
