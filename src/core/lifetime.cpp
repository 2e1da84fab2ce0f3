// How managed objects die: by refcount (dealloc, with PEP 442 finalizers and the trashcan)
// and with their heap (shutdown_runtime: atexit finalizers, a last collection, the leak
// report).
//
// Keeps DESIGN.md I2 (freed the moment the count reaches zero; a 10,000,000-long chain must
// not overflow the stack) and I6 (a finalizer runs at most once and may resurrect).
//
// The trashcan (CPython's Py_TRASHCAN idea): destroying an object drops its references,
// which may destroy the next object, and so on: recursion as deep as the chain. A
// finalizer that drops the last reference to the next object recurses the same way. Past
// kTrashcanDepth nested deallocs, a dying *container* is neither finalized nor destroyed
// but pushed on the heap's `deferred` list (linked through its GcLinks, free once it is
// untracked); the outermost dealloc drains that list, running the whole dealloc of each
// (finalizer included). Depth stays bounded whatever the shape of the graph. Non-containers
// own no references (a type that owns references must override traverse and so is a
// container), so they never start a chain.
//
// Like CPython's subtype_dealloc, the trashcan is entered *before* the finalizer runs. A
// deferred object whose finalizer is still pending keeps its weak references (they are
// cleared after the finalizer, as for any object), so while it waits the trashcan holds it
// with a count of 1: a weak reference locked meanwhile yields a live object, and giving
// that reference back cannot start a second dealloc (CPython needs a refcount check in
// PyWeakref_GET_OBJECT for this window, gh-60806). When drained it is re-tracked
// (generation 0), so that its finalizer sees, and may resurrect, an ordinary tracked
// object; if a locked weak reference kept it alive, it simply lives on, finalizer pending.
// A deferred object without a pending finalizer has its weak references cleared before it
// waits, and waits with count 0.
#include <fmt/format.h>

#include <cstdio>
#include <exception>

#include "core/internal.h"
#include "ouro/core/ref.h"

namespace ouro::detail {

namespace {

// CPython's _PyTrash_UNWIND_LEVEL; deep enough that ordinary graphs never defer.
constexpr unsigned kTrashcanDepth = 50;

void* block_of(Object* object) noexcept {
  return (ObjectAccess::flags(*object) & Object::kContainer) ? static_cast<void*>(links_of(object))
                                                             : static_cast<void*>(object);
}

// Runs ~T and gives the block back. The count is zero and the object untracked. Inlined
// into both of its callers (a call here cost a collection 9 instructions per object),
// except in the firmware, whose flash has no room for the second copy.
#if OURO_BARE_METAL
#define OURO_INLINE_HOT inline
#else
#define OURO_INLINE_HOT [[gnu::always_inline]] inline
#endif
OURO_INLINE_HOT void destroy_and_free(Heap& heap, Object* object) noexcept {
  const std::uint32_t flags = ObjectAccess::flags(*object);
  void* block = block_of(object);
  ObjectAccess::destroy(*object);
  CoreState& rt = core_state(heap);
  --rt.live_objects;
  const std::uint32_t type = flags >> 16;
  --rt.live_by_type[type < kTypeCountSlots ? type : kTypeCountSlots - 1];
  heap.allocator().free_block(block, flags & Object::kPoolShiftMask);
}

void untrack(CoreState& rt, Object* object) noexcept {
  // The collector's state goes with the list (CPython's _PyObject_GC_UNTRACK keeps only
  // FINALIZED): an object that leaves a collection's list mid-collection and is re-tracked
  // from the trashcan must not look like a member of that collection.
  untrack_container(object);
  // CPython counts generation 0 as allocations minus deallocations of containers.
  if (rt.generations[0].count > 0) --rt.generations[0].count;
}

bool finalizer_pending(std::uint32_t flags) noexcept {
  return (flags & (Object::kHasFinalizer | Object::kFinalized)) == Object::kHasFinalizer;
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

// The whole death of an object whose count reached zero: finalizer (once, I6), weak
// references, untracking, destructor, block. Runs at dealloc_depth >= 1.
void release(Heap& heap, CoreState& rt, Object* object) noexcept {
  const std::uint32_t& flags = ObjectAccess::flags(*object);
  if (finalizer_pending(flags)) {
    if (finalize_from_dealloc(heap, object)) return;  // resurrected
  }
  // I5: weak references are cleared (and their callbacks run) before the object goes.
  if (flags & Object::kWeaklyReferenced) clear_weakrefs_on_dealloc(heap, object);
  if (flags & Object::kTracked) untrack(rt, object);
  destroy_and_free(heap, object);
}

// The trashcan's drain: takes deferred objects off the list until one is to be released
// (nullptr when the list is empty).
Object* next_deferred(CoreState& rt) noexcept {
  while (rt.deferred != nullptr) {
    GcLinks* links = rt.deferred;
    rt.deferred = links->next;
    Object* deferred = object_of(links);
    if (finalizer_pending(ObjectAccess::flags(*deferred))) {
      // Re-tracked (no collection started: we are inside dealloc) so that the pending
      // finalizer sees, and may resurrect, an ordinary tracked object.
      link_into_generation0(rt, deferred);
      // Drop the trashcan's reference; someone who took one through a weak reference
      // meanwhile keeps the object alive.
      if (--ObjectAccess::refcount(*deferred) != 0) continue;
    }
    return deferred;
  }
  return nullptr;
}

}  // namespace

void dealloc(Object* object) noexcept {
  std::uint32_t& flags = ObjectAccess::flags(*object);
  Allocator* allocator = Allocator::owner_of(block_of(object), flags & Object::kPoolShiftMask);
  // An object that outlived its heap (a Ref dropped after ~Heap): the heap kept its memory
  // and disowned it (Allocator::abandon), so there is nothing left to free or to tell.
  if (OURO_UNLIKELY(allocator == nullptr)) return;
  Heap& heap = Heap::of(*allocator);
  CoreState& rt = core_state(heap);
  // A plain object (not a container, so it owns no references and cannot start a chain;
  // no finalizer; no weak reference): neither the trashcan, nor a finalizer, nor weak
  // references apply, so it is freed without the depth count or the drain (which the
  // outermost dealloc of any chain still does). The commonest death (strings, numbers, a
  // make<T> of a leaf type): 20 fewer instructions (docs/benchmarks.md).
#if !OURO_BARE_METAL  // the firmware's flash has no room for it; release() does the same
  if (!(flags & (Object::kContainer | Object::kHasFinalizer | Object::kWeaklyReferenced))) {
    return destroy_and_free(heap, object);
  }
#endif
  // I2: the trashcan comes before the finalizer, which may itself drop the last reference
  // to the next object of a chain (each finalizer running inside the previous one).
  if ((flags & Object::kContainer) && rt.dealloc_depth >= kTrashcanDepth) {
    if (finalizer_pending(flags)) {
      ObjectAccess::refcount(*object) = 1;  // the trashcan's reference (see the top)
    } else if (flags & Object::kWeaklyReferenced) {
      clear_weakrefs_on_dealloc(heap, object);  // as early as an undeferred death would
      flags &= ~Object::kWeaklyReferenced;      // done: release() must not do it again
    }
    if (flags & Object::kTracked) untrack(rt, object);
    GcLinks* links = links_of(object);
    links->next = rt.deferred;
    rt.deferred = links;
    return;
  }
  // One call site of release() (the object, then each drained one), so that it is inlined:
  // a call and its frame cost a collection 10 instructions per object.
  ++rt.dealloc_depth;
  for (;;) {
    release(heap, rt, object);
    --rt.dealloc_depth;
    // Only the outermost dealloc drains, so the drained deallocs start at depth 1.
    if (OURO_LIKELY(rt.dealloc_depth != 0 || rt.deferred == nullptr)) return;
    object = next_deferred(rt);
    if (object == nullptr) return;
    ++rt.dealloc_depth;
  }
}

void report_unraisable(Heap& heap, std::string_view where, const Object* object) noexcept {
  UnraisableInfo info{where, object, std::current_exception()};
  CoreState& rt = core_state(heap);
  if (rt.unraisable_hook) {
    try {
      rt.unraisable_hook(info);
      return;
    } catch (...) {
      // A failing hook falls back to the default, as CPython does.
    }
  }
  // The default path allocates nothing (it may run because memory ran out).
  const char* message = "unknown exception";
  try {
    std::rethrow_exception(info.exception);
  } catch (const std::exception& e) {
    message = e.what();
  } catch (...) {
  }
  const std::string_view type = object != nullptr ? object->type_name() : std::string_view("?");
  // Short pieces: fmt's inline buffer holds each, so nothing is allocated.
  fmt::print(stderr, "Exception ignored in {} of <{} object at {}>:\n", where, type,
             fmt::ptr(object));
  std::fputs(message, stderr);
  std::fputc('\n', stderr);
}

}  // namespace ouro::detail
