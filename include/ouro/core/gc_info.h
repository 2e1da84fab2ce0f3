// The plain records the collector hands to users: per-generation statistics, what a gc
// callback receives, and what the unraisable hook receives. Kept apart from gc.h so that the
// object core's private state (ouro/detail/core_state.h) can hold them without the API.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <string>
#include <string_view>

namespace ouro {

class Object;

namespace gc {

/// Per-generation statistics as gc.get_stats() reports them.
struct GenerationStats {
  std::size_t collections = 0;    ///< collections of this generation
  std::size_t collected = 0;      ///< objects found unreachable and freed
  std::size_t uncollectable = 0;  ///< always 0 since PEP 442 (kept for Python's shape)
};

/// Information passed to gc callbacks (gc.callbacks' `info` dict).
struct CollectionInfo {
  int generation = 0;             ///< the generation being collected
  std::size_t collected = 0;      ///< objects freed ("stop" phase only)
  std::size_t uncollectable = 0;  ///< always 0 since PEP 442
};

/// A gc callback: `phase` is "start" or "stop" (gc.callbacks). A closure of up to 16
/// bytes (two pointers) is stored inside the callback list itself, which lives in the heap;
/// a larger one is allocated by std::function on the system heap.
using Callback = std::function<void(const std::string& phase, const CollectionInfo& info)>;

}  // namespace gc

/// What the unraisable hook receives (Python's sys.unraisablehook argument): an exception
/// that could not propagate, from a finalizer, a weakref callback, clear() or a gc callback.
struct UnraisableInfo {
  std::string_view where;        ///< "finalizer", "weakref callback", "clear", "gc callback"
  const Object* object;          ///< the object concerned, or nullptr
  std::exception_ptr exception;  ///< what was thrown
};

}  // namespace ouro
