// The process-wide table of C++ types that pickle as Python classes (register_type /
// find_registration). Registrations are never removed, so the pointers find_registration
// hands out stay valid for the life of the process; a mutex guards the table because
// heaps live on several threads.
#include <fmt/format.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "ouro/pickle/pickle.h"

namespace ouro::pickle {
namespace {

struct Registry {
  std::mutex mutex;
  std::vector<std::unique_ptr<TypeRegistration>> all;  // owns every registration
  std::map<std::uint16_t, const TypeRegistration*> by_type;
  std::map<std::string, const TypeRegistration*, std::less<>> by_name;  // "module\nqualname"
};

Registry& registry() {
  static Registry r;  // constructed on first use: registration may run in static init
  return r;
}

std::string name_key(std::string_view module, std::string_view qualname) {
  return fmt::format("{}\n{}", module, qualname);
}

}  // namespace

void register_type(TypeRegistration registration) {
  if (registration.module.empty() || registration.qualname.empty()) {
    throw std::invalid_argument("ouro::pickle::register_type: module and qualname are required");
  }
  if (!registration.reduce || !registration.restore) {
    throw std::invalid_argument("ouro::pickle::register_type: reduce and restore are required");
  }
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto owned = std::make_unique<TypeRegistration>(std::move(registration));
  const TypeRegistration* p = owned.get();
  // A later registration of the same type or name replaces the earlier one for lookups.
  r.by_type[p->type_id] = p;
  r.by_name[name_key(p->module, p->qualname)] = p;
  r.all.push_back(std::move(owned));
}

namespace field_detail {
void throw_field_error(std::string_view module, std::string_view qualname, std::string_view what) {
  throw TypeError(fmt::format("{}.{}: {}", module, qualname, what));
}
}  // namespace field_detail

const TypeRegistration* find_registration(std::uint16_t type_id) noexcept {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  const auto it = r.by_type.find(type_id);
  return it == r.by_type.end() ? nullptr : it->second;
}

const TypeRegistration* find_registration(std::string_view module,
                                          std::string_view qualname) noexcept {
  try {
    const std::string key = name_key(module, qualname);
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    const auto it = r.by_name.find(key);
    return it == r.by_name.end() ? nullptr : it->second;
  } catch (...) {  // allocating the key failed: report "not registered"
    return nullptr;
  }
}

}  // namespace ouro::pickle
