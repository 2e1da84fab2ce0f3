// The unpickler's internal entry point: loads and load (ouro/pickle.h) are thin wrappers
// around it, and the fuzz target and `ouro pickle scan` call it directly.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <span>

#include "ouro/core/heap.h"
#include "ouro/pickle/pickle.h"

namespace ouro::pickle::detail {

/// How much of the pickled value the unpickler builds.
enum class Build : unsigned char {
  kAll,      ///< the value (loads, load)
  kForScan,  ///< what scanning for globals needs: every opcode runs with its checks, but
             ///< lists get no items and floats, big ints, bytes and bytearrays are one
             ///< placeholder per type (their content cannot name a global), so a large
             ///< legitimate pickle scans in little memory. Errors that depend on that content
             ///< (hashing set(a_list)'s items) are not seen.
};

/// Loads one pickle from `data` into `heap` (see loads). `consumed`, when given, receives
/// the offset just past STOP. Keeps DESIGN.md I8: nothing is imported or called. With
/// `report_to`, the unpickler's own findings are recorded there (None is returned) instead
/// of thrown, allocating nothing (try_loads); the other errors still throw.
Value unpickle(Heap& heap, std::span<const std::byte> data, const LoadOptions& options,
               std::size_t* consumed = nullptr, Build build = Build::kAll,
               LoadError* report_to = nullptr);

/// Loads one pickle from `in`, reading as CPython's Unpickler does: each instruction's
/// bytes (a whole frame at FRAME) and nothing past STOP, so the stream is left just after
/// the pickle. At most one instruction or frame is buffered.
Value unpickle(Heap& heap, std::istream& in, const LoadOptions& options);

}  // namespace ouro::pickle::detail
