// The object core's out-of-line parts: the process-wide type registry, Object's defaults,
// getsizeof, the leak report, and the heap's shutdown sequence.
#include "ouro/core/object.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "ouro/config.h"
#if !OURO_BARE_METAL
#include <cxxabi.h>
#endif

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>
#include <mutex>    // std::lock_guard
#include <ostream>  // not <iostream>: its static initializer links all of iostreams
#include <string>
#include <utility>
#include <vector>

#include "core/internal.h"
#include "core/weak_table.h"
#include "ouro/core/gc.h"
#include "ouro/core/ref.h"
#include "ouro/core/runtime.h"
#include "ouro/errors.h"
#include "ouro/process_mutex.h"

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

// A bare-metal image knows its few types at link time; 64 entries cost 1 KiB of RAM where
// 65535 would cost 1 MiB.
constexpr std::size_t kMaxTypes = OURO_BARE_METAL ? 64 : 0xffff;

struct TypeRegistry {
  ProcessMutex mutex;
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
  if (r.count >= kMaxTypes) fatal("too many managed C++ types (kMaxTypes in src/core/object.cpp)");
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
#if OURO_BARE_METAL
  // No demangler on bare metal (libstdc++'s is 29 KB of flash): the mangled name is shown.
  return {entry.name, entry.length};
#else
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
#endif
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
  if (OURO_UNLIKELY(flags_ & kConstructing)) return *detail::t_constructing_heap;
  Allocator* allocator = detail::owner_allocator(*this);
  if (OURO_UNLIKELY(allocator == nullptr)) {
    detail::fatal(
        "Object::heap(): the object outlived its heap (a Ref or Value kept after the "
        "heap was destroyed)");
  }
  return Heap::of(*allocator);
}

void detail::throw_cross_heap(const Heap& heap, const Object& item) {
  throw TypeError(fmt::format(
      "cannot store a reference to a '{}' of heap {} in heap {}: the objects of a heap refer "
      "only to objects of the same heap (I1); copy values across heaps by pickling them",
      item.type_name(), static_cast<const void*>(&item.heap()), static_cast<const void*>(&heap)));
}

std::size_t getsizeof(const Object& object) noexcept {
  auto* self = const_cast<Object*>(&object);
  const std::uint32_t flags = detail::ObjectAccess::flags(object);
  const void* block = object.is_container() ? static_cast<void*>(detail::links_of(self)) : self;
  return Allocator::usable_size(block, flags & Object::kPoolShiftMask) + object.owned_bytes();
}

std::vector<TypeCount> live_objects_by_type(const Heap& heap) {
  const detail::CoreState& rt = detail::core_state(heap);
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
  const std::size_t live = heap.live_objects();
  if (live == 0) return false;
  fmt::print(out, "ouro: heap destroyed with {} live object{}:\n", live, live == 1 ? "" : "s");
  for (const TypeCount& row : live_objects_by_type(heap)) {
    fmt::print(out, "  {:>8}  {}\n", row.count, row.type);
  }
  return true;
}

namespace detail {

namespace {

// Breaks what is left after the last collection: every remaining container is cleared
// (its references dropped) while all of them are held, then released; what only they
// kept alive is freed by refcounting. Objects still referenced from outside the heap
// (a leaked Ref) survive this and their memory goes with the heap's arenas.
void clear_remaining_containers(Heap& heap) noexcept {
  CoreState& rt = core_state(heap);
  HeapVector<Object*> remaining{StdAllocator<Object*>(heap.allocator())};
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

// Step 5: what is still alive now is referenced from outside the heap (every container was
// cleared, so nothing inside holds anything). Said in every build: the program has a Ref or
// Value that outlives its heap, a bug that would otherwise crash later.
void report_outside_references(Heap& heap) noexcept {
  if (core_state(heap).live_objects == 0) return;
  std::string types;
  try {
    for (const TypeCount& row : live_objects_by_type(heap)) {
      types += fmt::format("{}{} {}", types.empty() ? "" : ", ", row.count, row.type);
    }
  } catch (...) {
    types = "(no memory to list their types)";
  }
  fmt::print(stderr,
             "ouro: heap at {} destroyed while {} object{} still referenced from outside it "
             "(a Ref or Value outlives its heap): {}. Their memory is kept so that dropping "
             "those references is harmless; any other use of them is an error.\n",
             fmt::ptr(&heap), core_state(heap).live_objects,
             core_state(heap).live_objects == 1 ? " is" : "s are", types);
}

#if OURO_DEBUG >= 1
// Debug builds, before step 4 breaks them: references that traverse() does not visit, the
// usual reason why a cycle survives the last collection (I3).
void report_unvisited_references(Heap& heap) noexcept {
  try {
    for (const gc::UnvisitedReference& miss : gc::find_unvisited_references(heap)) {
      const std::string_view owner = miss.container->type_name();
      const std::string_view referent = miss.referent->type_name();
      fmt::print(stderr,
                 "ouro: {} holds a reference to a {} (at byte {}) that its traverse() "
                 "does not visit: a cycle through it is never collected (I3)\n",
                 owner, referent, miss.offset);
    }
  } catch (...) {
    // no memory for the audit: nothing to report
  }
}
#endif

// Step 6: the core state's buffers go back to the allocator before it is torn down (or
// abandoned, in which case live blocks are no longer freed one by one).
void release_core_buffers(Heap& heap, CoreState& rt) noexcept {
  HeapVector<Object*>(rt.garbage.get_allocator()).swap(rt.garbage);
  HeapVector<GcCallbackEntry>(rt.callbacks.get_allocator()).swap(rt.callbacks);
  release_weak_state(heap);
}

}  // namespace

// The object world's invariants, as an executable check (Lua's lua_checkmemory). Every walk
// is bounded by live_objects, so a list made circular by misuse (two threads sharing a heap)
// aborts with a message instead of looping.
#define OURO_CHECK(cond, what) \
  ((cond) ? (void)0 : ::ouro::detail::fail_assertion(what ": " #cond, __FILE__, __LINE__))

namespace {

// Walks one list: links consistent both ways, every member a tracked container.
std::size_t check_list(const CoreState& rt, const GcList& list) {
  std::size_t n = 0;
  for (const GcLinks* l = list.head.next; l != &list.head; l = l->next) {
    OURO_CHECK(++n <= rt.live_objects, "a generation list is longer than the live objects");
    OURO_CHECK(l->next->prev == l, "a generation list's links disagree");
    const std::uint32_t f = ObjectAccess::flags(*object_of(const_cast<GcLinks*>(l)));
    OURO_CHECK((f & Object::kContainer) && (f & Object::kTracked),
               "a generation list holds an untracked object or a non-container");
    OURO_CHECK(!(f & (Object::kCollecting | Object::kUnreachable)),
               "collector flags left on an object between collections");
  }
  return n;
}

// The weakly-referenced bit of every tracked container agrees with the weak table, and every
// key of the table carries the bit.
void check_weak_bits(const CoreState& rt, const GcList& list) {
  for (const GcLinks* l = list.head.next; l != &list.head; l = l->next) {
    const Object* o = object_of(const_cast<GcLinks*>(l));
    const bool flagged = (ObjectAccess::flags(*o) & Object::kWeaklyReferenced) != 0;
    const bool listed = rt.weak != nullptr && weak_list_head(*rt.weak, o) != nullptr;
    OURO_CHECK(flagged == listed, "the weakly-referenced bit disagrees with the weak table");
  }
}

}  // namespace

bool verify_object_world(const Heap& heap) {
  const CoreState& rt = core_state(heap);
  std::size_t by_type = 0;
  for (std::uint32_t count : rt.live_by_type) by_type += count;
  OURO_CHECK(by_type == rt.live_objects,
             "live objects differ from the sum of live objects by type");
  std::size_t tracked = 0;
  for (const Generation& g : rt.generations) {
    tracked += check_list(rt, g.list);
    check_weak_bits(rt, g.list);
  }
  tracked += check_list(rt, rt.permanent);
  check_weak_bits(rt, rt.permanent);
  OURO_CHECK(tracked <= rt.live_objects, "more tracked containers than live objects");
  if (rt.weak != nullptr) {
    std::size_t keys = 0;
    for (std::size_t i = 0; i < rt.weak->capacity; ++i) {
      const Object* key = rt.weak->slots[i].key;
      if (key == nullptr || !is_live_weak_key(key)) continue;
      ++keys;
      OURO_CHECK(ObjectAccess::flags(*key) & Object::kWeaklyReferenced,
                 "a key of the weak table lacks the weakly-referenced bit");
    }
    OURO_CHECK(keys == rt.weak->live, "the weak table's live count is wrong");
  }
  return true;
}

#undef OURO_CHECK

void shutdown_object_world(Heap& heap) noexcept {
  CoreState& rt = core_state(heap);
  rt.shutting_down = true;
  shutdown_weakrefs(heap);  // step 1: finalize(atexit=True)
  HeapVector<Object*> garbage(StdAllocator<Object*>(heap.allocator()));
  garbage.swap(rt.garbage);  // step 2: gc.garbage (no allocation: a swap)
  for (Object* o : garbage) Ref<Object>::adopt(o).reset();
  collect_at_shutdown(heap);  // step 3
#if OURO_DEBUG >= 1
  report_unvisited_references(heap);  // what made step 3 leave cycles behind
#endif
  clear_remaining_containers(heap);  // step 4
  report_outside_references(heap);   // step 5
  release_core_buffers(heap, rt);    // step 6
}

}  // namespace detail

}  // namespace ouro
