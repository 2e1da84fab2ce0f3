// The unpickler's internal entry point: loads and load (ouro/pickle.h) are thin wrappers
// around it, and the fuzz target and `ouro pickle scan` call it directly.
#pragma once

#include <cstddef>
#include <span>

#include "ouro/core/heap.h"
#include "ouro/pickle/pickle.h"

namespace ouro::pickle::detail {

/// Loads one pickle from `data` into `heap` (see loads). `consumed`, when given, receives
/// the offset just past STOP. Keeps DESIGN.md I8: nothing is imported or called.
Value unpickle(Heap& heap, std::span<const std::byte> data, const LoadOptions& options,
               std::size_t* consumed = nullptr);

}  // namespace ouro::pickle::detail
