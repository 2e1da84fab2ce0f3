// How managed objects die: by refcount (dealloc, with PEP 442 finalizers and the trashcan)
// and with their heap (shutdown_runtime: atexit finalizers, a last collection, the leak
// report).
//
// Keeps DESIGN.md I2 (freed the moment the count reaches zero; a 10,000,000-long chain must
// not overflow the stack) and I6 (a finalizer runs at most once and may resurrect).
//
// The trashcan (CPython's Py_TRASHCAN idea): destroying an object drops its references,
// which may destroy the next object, and so on: recursion as deep as the chain. Past
// kTrashcanDepth nested destructions, a dying *container* is not destroyed but pushed on
// the heap's `deferred` list (linked through its GcLinks, free once it is untracked); the
// outermost dealloc drains that list. Depth stays bounded whatever the shape of the graph.
// Non-containers own no references (a type that owns references must override traverse
// and so is a container), so they never start a chain.
#include <cstdio>
#include <exception>

#include "ouro/ref.h"

namespace ouro::detail {

namespace {

// CPython's _PyTrash_UNWIND_LEVEL; deep enough that ordinary graphs never defer.
constexpr unsigned kTrashcanDepth = 50;

void* block_of(Object* object) noexcept {
  return (ObjectAccess::flags(*object) & Object::kContainer) ? static_cast<void*>(links_of(object))
                                                             : static_cast<void*>(object);
}

// Runs ~T and gives the block back. The count is zero and the object untracked.
void destroy_and_free(Heap& heap, Object* object) noexcept {
  const std::uint32_t flags = ObjectAccess::flags(*object);
  void* block = block_of(object);
  ObjectAccess::destroy(*object);
  Runtime& rt = heap.runtime();
  --rt.live_objects;
  const std::uint32_t type = flags >> 16;
  --rt.live_by_type[type < kTypeCountSlots ? type : kTypeCountSlots - 1];
  heap.deallocate_block(block, flags & Object::kPoolShiftMask);
}

void untrack(Runtime& rt, Object* object) noexcept {
  GcLinks* links = links_of(object);
  links->prev->next = links->next;
  links->next->prev = links->prev;
  links->prev = links->next = nullptr;
  ObjectAccess::flags(*object) &= ~Object::kTracked;
  // CPython counts generation 0 as allocations minus deallocations of containers.
  if (rt.generations[0].count > 0) --rt.generations[0].count;
}

// PEP 442 from dealloc: the finalizer sees a live object (count 1). True if it resurrected
// the object (someone kept a reference), in which case it must not be freed (I6).
bool finalize_from_dealloc(Heap& heap, Object* object) noexcept {
  std::uint32_t& flags = ObjectAccess::flags(*object);
  flags |= Object::kFinalized;  // I6: at most once, even if it throws or resurrects
  std::uint32_t& count = ObjectAccess::refcount(*object);
  count = 1;
  try {
    object->finalize();
  } catch (...) {
    report_unraisable(heap, "finalizer", object);
  }
  return --count != 0;
}

}  // namespace

void dealloc(Object* object) noexcept {
  std::uint32_t& flags = ObjectAccess::flags(*object);
  Heap& heap = Heap::owner_of_block(block_of(object), flags & Object::kPoolShiftMask);
  Runtime& rt = heap.runtime();
  if ((flags & (Object::kHasFinalizer | Object::kFinalized)) == Object::kHasFinalizer) {
    if (finalize_from_dealloc(heap, object)) return;  // resurrected
  }
  // I5: weak references are cleared (and their callbacks run) before the object goes.
  if ((flags & Object::kWeaklyReferenced) && rt.clear_weakrefs_on_dealloc != nullptr) {
    rt.clear_weakrefs_on_dealloc(heap, object);
  }
  if (flags & Object::kTracked) untrack(rt, object);
  if ((flags & Object::kContainer) && rt.dealloc_depth >= kTrashcanDepth) {
    GcLinks* links = links_of(object);
    links->next = rt.deferred;
    rt.deferred = links;
    return;
  }
  ++rt.dealloc_depth;
  destroy_and_free(heap, object);
  --rt.dealloc_depth;
  // Only the outermost dealloc drains, so the drained destructions start at depth 1.
  while (rt.dealloc_depth == 0 && rt.deferred != nullptr) {
    GcLinks* links = rt.deferred;
    rt.deferred = links->next;
    ++rt.dealloc_depth;
    destroy_and_free(heap, object_of(links));
    --rt.dealloc_depth;
  }
}

void report_unraisable(Heap& heap, std::string_view where, const Object* object) noexcept {
  UnraisableInfo info{where, object, std::current_exception()};
  Runtime& rt = heap.runtime();
  if (rt.unraisable_hook) {
    try {
      rt.unraisable_hook(info);
      return;
    } catch (...) {
      // A failing hook falls back to the default, as CPython does.
    }
  }
  std::string message = "unknown exception";
  try {
    std::rethrow_exception(info.exception);
  } catch (const std::exception& e) {
    message = e.what();
  } catch (...) {
  }
  const std::string_view type = object != nullptr ? object->type_name() : std::string_view("?");
  std::fprintf(stderr, "Exception ignored in %.*s of <%.*s object at %p>:\n%s\n",
               static_cast<int>(where.size()), where.data(), static_cast<int>(type.size()),
               type.data(), static_cast<const void*>(object), message.c_str());
}

}  // namespace ouro::detail
