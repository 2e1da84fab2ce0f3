// What values cost in CPython 3.11 (64-bit): sys.getsizeof's formulas for the built-in
// types, shared by `ouro tour` (values chapter) and `ouro pickle stats`. Internal to the
// tool: the figures describe CPython, not ouro, so the library does not carry them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ouro/value/value.h"

namespace ouro::cli {

/// How CPython's unpickler grew a pickle's lists: by APPENDS batches of 1000 (protocol 1
/// and up), or one APPEND per item (protocol 0), which over-allocates differently.
struct CPythonBuild {
  bool lists_by_single_appends = false;
};

/// The build a pickle's opcodes imply: single appends when it has APPEND and no APPENDS.
/// A pickle the opcode reader refuses gives the default.
CPythonBuild cpython_build_of(std::string_view pickle);

/// sys.getsizeof(v) in CPython 3.11 for an equal value (items' own objects excluded).
/// Containers are sized as CPython's unpickler builds them (lists per `build`, dicts and
/// sets item by item), which is not always a literal's size; an inert Instance counts as a
/// plain object (56 bytes), the catalogue's objects (complex, range, slice, the datetime
/// family, Decimal, Fraction, Counter, defaultdict, deque) as those objects, and a Global
/// as 0 (the class lives in its module, not in the data).
std::size_t cpython_sizeof(const Value& v, const CPythonBuild& build = {});

/// The estimate of a whole graph, and what it could not size.
struct CPythonEstimate {
  std::size_t bytes = 0;  ///< the sizes of every object it could size
  /// module.qualname of the callables / classes of objects whose CPython size only their
  /// library knows (a numpy array's buffer, a data frame's blocks), once each, sorted,
  /// with how many such objects: their bytes are not in `bytes`.
  std::vector<std::pair<std::string, std::size_t>> not_sized;
};

/// The bytes of the whole graph in CPython 3.11: cpython_sizeof of every distinct object
/// reachable from `v`, each once, without the objects CPython shares process-wide (None,
/// True, False, ints -5..256, the empty tuple, str and bytes, and one-character latin-1
/// strs, timezone.utc, Enum members). An Instance's state dict is counted as its __dict__
/// (a split dict: 296 bytes for up to 29 attributes); a uuid.UUID has slots instead. The
/// catalogue's objects count what they hold apart (a Fraction's ints, a deque's items, an
/// aware datetime's tzinfo), not the temporaries of their call (a date's byte state). Reduces of
/// other callables and Instances restored by their own
/// __setstate__ are not sized (nor is what they hold): they are listed in not_sized.
CPythonEstimate estimate_cpython_size(const Value& v, const CPythonBuild& build = {});
/// estimate_cpython_size(v).bytes.
std::size_t cpython_deep_sizeof(const Value& v);

/// `ouro pickle stats`' CPython lines for `value` loaded from `pickle`: the estimate, and
/// a caveat naming what it leaves out.
void print_cpython_estimate(const Value& value, std::string_view pickle);

}  // namespace ouro::cli
