// What values cost in CPython 3.11 (64-bit): sys.getsizeof's formulas for the built-in
// types, shared by `ouro tour` (values chapter) and `ouro pickle stats`. Internal to the
// tool: the figures describe CPython, not ouro, so the library does not carry them.
#pragma once

#include <cstddef>

#include "ouro/value/value.h"

namespace ouro::cli {

/// sys.getsizeof(v) in CPython 3.11 for an equal value (items' own objects excluded).
/// Containers are sized as CPython's unpickler builds them (lists by APPENDS in batches
/// of 1000, dicts and sets item by item), which is not always a literal's size; an inert Instance
/// counts as a plain object (56 bytes) and a Global as 0 (the class lives in its module, not in the
/// data).
std::size_t cpython_sizeof(const Value& v);

/// The bytes of the whole graph in CPython 3.11: cpython_sizeof of every distinct object
/// reachable from `v`, each once, without the objects CPython shares process-wide (None,
/// True, False, ints -5..256, the empty tuple, str and bytes, and one-character latin-1
/// strs). An Instance's state dict is counted as its __dict__ (a split dict: 296 bytes for
/// up to 29 attributes).
std::size_t cpython_deep_sizeof(const Value& v);

}  // namespace ouro::cli
