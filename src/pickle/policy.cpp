// The allow-list and the Python 2 name mapping (see policy.h). Keeps DESIGN.md I8: nothing
// here imports or calls; a name is only looked up in fixed tables.
#include "pickle/policy.h"

#include <algorithm>
#include <array>
#include <iterator>

#include "pickle/catalogue.h"

namespace ouro::pickle::detail {
namespace {

constexpr std::array kAllowList = {
    AllowedGlobal{"builtins", "set", GlobalKind::kSet},
    AllowedGlobal{"builtins", "frozenset", GlobalKind::kFrozenSet},
    AllowedGlobal{"builtins", "list", GlobalKind::kList},
    AllowedGlobal{"builtins", "tuple", GlobalKind::kTuple},
    AllowedGlobal{"builtins", "dict", GlobalKind::kDict},
    AllowedGlobal{"builtins", "bytes", GlobalKind::kBytes},
    AllowedGlobal{"builtins", "bytearray", GlobalKind::kByteArray},
    AllowedGlobal{"_codecs", "encode", GlobalKind::kCodecsEncode},
    AllowedGlobal{"copyreg", "_reconstructor", GlobalKind::kReconstructor},
    AllowedGlobal{"copyreg", "__newobj__", GlobalKind::kNewObj},
    AllowedGlobal{"copyreg", "__newobj_ex__", GlobalKind::kNewObjEx},
    // The catalogue's standard data types (pickle/catalogue.h) follow as inert names.
};

// The whole of CPython's _compat_pickle (tools/gen/gen_compat_pickle.py generates the rows).
struct CompatName {
  std::string_view from_module, from_name, to_module, to_name;
};
struct CompatModule {
  std::string_view from_module, to_module;
};
#include "pickle/compat_pickle.inc"

/// _compat_pickle's rule, the same both ways: the (module, name) table first, then the
/// module table for the module alone; names in neither are unchanged. The views are
/// the table's or the arguments' (nothing is allocated).
template <std::size_t kNames, std::size_t kModules>
std::pair<std::string_view, std::string_view> map_compat_name(
    const CompatName (&names)[kNames], const CompatModule (&modules)[kModules],
    std::string_view module, std::string_view name) {
  const auto row = std::lower_bound(
      std::begin(names), std::end(names), std::pair{module, name},
      [](const CompatName& a, const std::pair<std::string_view, std::string_view>& b) {
        return std::pair{a.from_module, a.from_name} < b;
      });
  if (row != std::end(names) && row->from_module == module && row->from_name == name) {
    return {row->to_module, row->to_name};
  }
  const auto renamed =
      std::lower_bound(std::begin(modules), std::end(modules), module,
                       [](const CompatModule& a, std::string_view b) { return a.from_module < b; });
  if (renamed != std::end(modules) && renamed->from_module == module) {
    return {renamed->to_module, name};
  }
  return {module, name};
}

}  // namespace

std::span<const AllowedGlobal> builtin_allow_list() noexcept { return kAllowList; }

std::pair<std::string_view, std::string_view> map_python2_name(std::string_view module,
                                                               std::string_view name) {
  return map_compat_name(kNameMapping, kImportMapping, module, name);
}

std::pair<std::string_view, std::string_view> map_python3_name(std::string_view module,
                                                               std::string_view name) {
  return map_compat_name(kReverseNameMapping, kReverseImportMapping, module, name);
}

bool global_matches(std::string_view pattern, std::string_view module,
                    std::string_view name) noexcept {
#if !OURO_BARE_METAL
  if (pattern.ends_with(".*")) {
    const std::string_view prefix = pattern.substr(0, pattern.size() - 2);
    return module.starts_with(prefix) &&
           (module.size() == prefix.size() || module[prefix.size()] == '.');
  }
#endif
  return pattern.size() == module.size() + 1 + name.size() && pattern.starts_with(module) &&
         pattern[module.size()] == '.' && pattern.ends_with(name);
}

GlobalKind classify_global(std::string_view module, std::string_view name,
                           const LoadOptions& options) {
  for (const AllowedGlobal& row : kAllowList) {
    if (row.module == module && row.name == name) return row.kind;
  }
  if (find_catalogued(module, name) != nullptr) return GlobalKind::kInert;
  if (find_registration(module, name) != nullptr) return GlobalKind::kRegistered;
  for (const std::string& allowed : options.allow) {
    if (global_matches(allowed, module, name)) return GlobalKind::kCallerAllowed;
  }
  return GlobalKind::kUnknown;
}

}  // namespace ouro::pickle::detail
