// The process-wide table of C++ types that pickle as Python classes (register_type /
// find_registration). Registrations are never removed, so the pointers find_registration
// hands out stay valid for the life of the process; a mutex guards the table because
// heaps live on several threads.
#include <fmt/format.h>

#include <map>
#include <memory>
#include <mutex>  // std::lock_guard
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "ouro/pickle/pickle.h"
#include "ouro/process_mutex.h"

namespace ouro::pickle {
namespace {

/// (module, qualname) order for the registry's map, also against a pair of views, so that a
/// look-up builds no strings (mixed tuple comparison is not portable across compilers).
struct NameOrder {
  using is_transparent = void;
  template <class A, class B>
  bool operator()(const A& a, const B& b) const noexcept {
    const std::string_view a0 = std::get<0>(a), b0 = std::get<0>(b);
    if (a0 != b0) return a0 < b0;
    return std::string_view(std::get<1>(a)) < std::string_view(std::get<1>(b));
  }
};

struct Registry {
  ouro::detail::ProcessMutex mutex;
  std::vector<std::unique_ptr<TypeRegistration>> all;  // owns every registration
  std::map<std::uint16_t, const TypeRegistration*> by_type;
  // (module, qualname); looked up by a tuple of views, so a look-up builds no string (the
  // unpickler asks for every class it meets, and must not allocate outside its heap).
  std::map<std::tuple<std::string, std::string>, const TypeRegistration*, NameOrder> by_name;
};

Registry& registry() {
  static Registry r;  // constructed on first use: registration may run in static init
  return r;
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
  r.by_name[{p->module, p->qualname}] = p;
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
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  const auto it = r.by_name.find(std::tuple<std::string_view, std::string_view>(module, qualname));
  return it == r.by_name.end() ? nullptr : it->second;
}

}  // namespace ouro::pickle
