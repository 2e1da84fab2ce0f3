// The unpickler's safety policy (DESIGN.md I8, "loading never executes"): which globals a
// pickle may name, what each allowed global means in ouro's value model, and the Python 2
// name mapping (_compat_pickle) applied before the decision. The unpickler asks here for
// every GLOBAL, STACK_GLOBAL and INST; `ouro pickle scan` can reuse the same table.
//
// The allow-list (docs/pickle.md, "Loading safely: the allow-list"):
//   evaluated  builtins.set, frozenset, list, tuple, dict, bytes, bytearray,
//              _codecs.encode(str, 'latin1'), copyreg._reconstructor(cls, object, None),
//              copyreg.__newobj__ / __newobj_ex__ — pure constructors of ouro values;
//   inert      the catalogue (pickle/catalogue.h, detail::catalogue_entries()):
//              builtins.complex, range, slice, type, the builtin types, Ellipsis,
//              NotImplemented, collections.OrderedDict, and on hosts numpy's reducers,
//              defaultdict, Counter, deque, the datetime family, Decimal, Fraction, UUID:
//              allowed as names; a call of them stays an inert Reduce (nothing is run, the
//              bytes dump back unchanged) that catalogue_repr() prints as CPython;
//   registered C++ types (find_registration) and the caller's LoadOptions::allow patterns:
//              "module.qualname" exactly, or (on the host) "module.*" for a module and
//              its submodules (global_matches).
// Everything else is unknown: refused under Policy::kStrict, an inert Global under kInspect.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "ouro/pickle/pickle.h"

namespace ouro::pickle::detail {

/// What an allowed global does when the pickle calls it.
enum class GlobalKind : std::uint8_t {
  kUnknown,        // not on any list: refused (strict) or inert (inspect)
  kCallerAllowed,  // named in LoadOptions::allow: inert Global, calls become Reduce/Instance
  kRegistered,     // a registered C++ type: Instance until BUILD calls its restore
  kInert,          // safe built-in name; calls of it stay inert Reduce values
  kSet,
  kFrozenSet,
  kList,
  kTuple,
  kDict,
  kBytes,
  kByteArray,
  kCodecsEncode,   // _codecs.encode(text, 'latin1') -> bytes (protocol 0-2 bytes)
  kReconstructor,  // copyreg._reconstructor(cls, object, None) -> Instance of cls
  kNewObj,         // copyreg.__newobj__(cls, *args)
  kNewObjEx,       // copyreg.__newobj_ex__(cls, args, kwargs)
};

/// One row of the built-in allow-list.
struct AllowedGlobal {
  std::string_view module;
  std::string_view name;
  GlobalKind kind;
};

/// The built-in allow-list of evaluated globals (without the catalogue's inert names,
/// registered types and caller additions).
std::span<const AllowedGlobal> builtin_allow_list() noexcept;

/// _compat_pickle's mapping of a Python 2 name to Python 3 (NAME_MAPPING first, then
/// IMPORT_MAPPING for the module), as Unpickler.find_class applies it below protocol 3.
/// The views are the tables' or the arguments'.
std::pair<std::string_view, std::string_view> map_python2_name(std::string_view module,
                                                               std::string_view name);
/// The reverse: a Python 3 name to Python 2 (REVERSE_NAME_MAPPING, then
/// REVERSE_IMPORT_MAPPING), as Pickler.save_global writes GLOBAL below protocol 3.
std::pair<std::string_view, std::string_view> map_python3_name(std::string_view module,
                                                               std::string_view name);

/// Whether the allow pattern `pattern` ("module.qualname", or "module.*" for the module and
/// its submodules) names `module.name`. The wildcard form is host-only: the firmware's
/// loader matches exact names.
bool global_matches(std::string_view pattern, std::string_view module,
                    std::string_view name) noexcept;

/// The decision for `module.name` (already mapped): built-in row, registration, caller's
/// allow list, or unknown.
GlobalKind classify_global(std::string_view module, std::string_view name,
                           const LoadOptions& options);

}  // namespace ouro::pickle::detail
