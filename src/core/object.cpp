// The object core's out-of-line parts: the process-wide type registry, Object's defaults,
// getsizeof, the leak report, and the heap's shutdown sequence.
#include "ouro/core/object.h"

#include <cxxabi.h>
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <list>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "ouro/core/ref.h"
#include "ouro/core/runtime.h"

namespace ouro {

namespace detail {

namespace {

// Types are process-wide (a C++ type is the same in every heap), so the registry is the one
// global here. Registering allocates nothing (a heap carved from a static buffer must not
// reach the system allocator, even for its first object of a type): entries point at
// static strings (kTypeName, or the mangled typeid name), demangled lazily for display.
struct TypeEntry {
  const char* name;
  std::size_t length;
  bool mangled;
};

constexpr std::size_t kMaxTypes = 0xffff;

struct TypeRegistry {
  std::mutex mutex;
  std::size_t count = 0;
  TypeEntry entries[kMaxTypes];
  std::list<std::string> demangled;  // display names, made on first request (no allocation before)
  const std::string* demangled_of[kMaxTypes] = {};
};

TypeRegistry& registry() {
  static TypeRegistry instance;
  return instance;
}

std::uint16_t add_type(TypeEntry entry) noexcept {
  TypeRegistry& r = registry();
  std::lock_guard lock(r.mutex);
  if (r.count >= kMaxTypes) fatal("more than 65535 managed C++ types");
  r.entries[r.count] = entry;
  return static_cast<std::uint16_t>(r.count++);
}

}  // namespace

std::uint16_t register_type(std::string_view name) noexcept {
  return add_type({name.data(), name.size(), false});
}

std::uint16_t register_type_mangled(const char* mangled_name) noexcept {
  return add_type({mangled_name, std::strlen(mangled_name), true});
}

std::string_view type_name_of(std::uint16_t id) noexcept {
  TypeRegistry& r = registry();
  std::lock_guard lock(r.mutex);
  if (id >= r.count) return "?";
  const TypeEntry& entry = r.entries[id];
  if (!entry.mangled) return {entry.name, entry.length};
  if (r.demangled_of[id] == nullptr) {
    int status = 0;
    char* demangled = abi::__cxa_demangle(entry.name, nullptr, nullptr, &status);
    try {
      r.demangled.emplace_back(status == 0 && demangled != nullptr ? demangled : entry.name);
      r.demangled_of[id] = &r.demangled.back();
    } catch (...) {
      std::free(demangled);
      return {entry.name, entry.length};
    }
    std::free(demangled);
  }
  return *r.demangled_of[id];
}

std::size_t registered_type_count() noexcept {
  TypeRegistry& r = registry();
  std::lock_guard lock(r.mutex);
  return r.count;
}

}  // namespace detail

void Object::traverse(Visitor&) {}

std::string_view Object::type_name() const noexcept { return detail::type_name_of(type_id()); }

std::string Object::py_repr() const {
  return fmt::format("<{} object at {}>", type_name(), static_cast<const void*>(this));
}

Heap& Object::heap() const noexcept {
  auto* self = const_cast<Object*>(this);
  const void* block = is_container() ? static_cast<void*>(detail::links_of(self)) : self;
  return Heap::owner_of_block(block, flags_ & kPoolShiftMask);
}

std::size_t getsizeof(const Object& object) noexcept {
  auto* self = const_cast<Object*>(&object);
  const std::uint32_t flags = detail::ObjectAccess::flags(object);
  const void* block = object.is_container() ? static_cast<void*>(detail::links_of(self)) : self;
  return Heap::block_size_of(block, flags & Object::kPoolShiftMask) + object.owned_bytes();
}

std::vector<TypeCount> live_objects_by_type(const Heap& heap) {
  const detail::Runtime& rt = heap.runtime();
  std::vector<TypeCount> counts;
  for (std::size_t id = 0; id < detail::kTypeCountSlots; ++id) {
    if (rt.live_by_type[id] == 0) continue;
    std::string name = id + 1 == detail::kTypeCountSlots
                           ? std::string("(other types)")
                           : std::string(detail::type_name_of(static_cast<std::uint16_t>(id)));
    counts.push_back({std::move(name), rt.live_by_type[id]});
  }
  std::sort(counts.begin(), counts.end(), [](const TypeCount& a, const TypeCount& b) {
    return a.count != b.count ? a.count > b.count : a.type < b.type;
  });
  return counts;
}

bool report_leaks(const Heap& heap, std::ostream& out) {
  const std::size_t live = heap.runtime().live_objects;
  if (live == 0) return false;
  fmt::print(out, "ouro: heap destroyed with {} live object{}:\n", live, live == 1 ? "" : "s");
  for (const TypeCount& row : live_objects_by_type(heap)) {
    fmt::print(out, "  {:>8}  {}\n", row.count, row.type);
  }
  return true;
}

namespace detail {

void collect_at_shutdown(Heap& heap) noexcept;  // src/core/collector.cpp

namespace {

// Breaks what is left after the last collection: every remaining container is cleared
// (its references dropped) while all of them are held, then released; what only they
// kept alive is freed by refcounting. Objects still referenced from outside the heap
// (a leaked Ref) survive this and their memory goes with the heap's arenas.
void clear_remaining_containers(Heap& heap) noexcept {
  Runtime& rt = heap.runtime();
  std::vector<Object*> remaining;
  auto collect_list = [&](GcList& list) {
    for (GcLinks* l = list.head.next; l != &list.head; l = l->next)
      remaining.push_back(object_of(l));
  };
  try {
    for (Generation& g : rt.generations) collect_list(g.list);
    collect_list(rt.permanent);
  } catch (...) {
    return;  // no memory for the list: leave the rest to the arenas' release
  }
  for (Object* o : remaining) ++ObjectAccess::refcount(*o);
  for (Object* o : remaining) {
    try {
      o->clear();
    } catch (...) {
      report_unraisable(heap, "clear", o);
    }
  }
  for (Object* o : remaining) Ref<Object>::adopt(o).reset();
}

}  // namespace

void shutdown_runtime(Heap& heap) noexcept {
  Runtime& rt = heap.runtime();
  rt.shutting_down = true;
  if (rt.weakref_shutdown != nullptr) rt.weakref_shutdown(heap);  // finalize(atexit=True)
  std::vector<Object*> garbage;
  garbage.swap(rt.garbage);
  for (Object* o : garbage) Ref<Object>::adopt(o).reset();
  collect_at_shutdown(heap);
#if OURO_DEBUG >= 1
  report_leaks(heap, std::cerr);
#endif
  clear_remaining_containers(heap);
}

}  // namespace detail

}  // namespace ouro
