// The cycle collector: CPython's generational algorithm (Modules/gcmodule.c, 3.11), written
// for ouro's header. Reference counting frees everything that is not part of a cycle; this
// finds the cycles nobody outside refers to.
//
// Keeps DESIGN.md I3 (traverse visits exactly what an object owns: "too much" is caught in
// subtract_refs), I4 (roots are implicit: no stack scanning), I5 (the weak-reference step),
// I6 (finalizers at most once; resurrected objects are not freed) and I7 (the pressure
// hook runs a full collection).
//
// THE ALGORITHM, for a collection of generation N:
//   0. Merge generations 0..N-1 into N: that list is `young`; `old` is N+1 (or N itself).
//   1. update_refs(young): gc_refs = refcount for every object in young; mark kCollecting.
//   2. subtract_refs(young): for every reference from one object of young to another,
//      gc_refs of the target -= 1. Now gc_refs counts references from *outside* young:
//      from C++ (a Ref on the stack, a global), from other generations, from anywhere.
//   3. move_unreachable(young, unreachable): objects with gc_refs > 0 are reachable, and so
//      is everything they reach; the rest move, tentatively, to `unreachable`, and move
//      back when a reachable object turns out to reach them.
//   4. Survivors (young) are promoted: merged into `old`. First, those that hold only
//      atoms leave the lists (CPython's untrack_tuples, and untrack_dicts in a full
//      collection): the value layer's UntrackCheck says which. The walk runs only if step 3
//      saw a survivor of those types that no tracked container of another type pins
//      (UntrackWatch).
//   5. handle_weakrefs: weak references to unreachable objects are cleared; callbacks run
//      only for weak references that are themselves reachable (src/weakref, I5).
//   6. finalize_garbage: finalize() of each unreachable object that has not run it (I6).
//   7. handle_resurrected_objects: steps 1-3 again on `unreachable` alone; what a finalizer
//      made reachable again goes to `old` and is not freed.
//   8. delete_garbage: clear() each object left (DEBUG_SAVEALL: keep it in gc.garbage);
//      refcounting then frees the whole cycle. An object that survives clear() goes to old.
//   The count returned (and added to get_stats()'s "collected") is the size of the list
//   step 8 starts with: objects resurrected in step 7 are not counted, as in CPython 3.9+
//   (test_resurrection_does_not_block_cleanup_of_other_objects). DEBUG_COLLECTABLE prints
//   every object found in step 3, before finalizers run, as CPython does.
//
// Worked example (CPython's A/B/C): young = [A, B, C], A <-> B a cycle, a Ref on the stack
// to C, and C -> A. Refcounts A=2 (B, C), B=1 (A), C=1 (stack).
//   update_refs:   A=2 B=1 C=1
//   subtract_refs: A: B->A and C->A subtracted: 0;  B: A->B: 0;  C: nothing inside: 1
//   move_unreachable walks A (0: tentatively unreachable), B (0: likewise), C (1: reachable;
//   traversing C reaches A, which moves back to young with gc_refs 1); the walk then
//   reaches A again (reachable), whose traversal brings B back. Nothing is unreachable.
//   Drop the stack Ref to C, and all three end in `unreachable` and are freed.
//
// THE MEMBERSHIP RULE: every tracked container is on exactly one list: a generation, the
// permanent generation, or, during a collection, `unreachable` and the lists derived from
// it. Between steps 1 and 3, `young` is singly linked: its prev fields hold gc_refs (see
// the table at GcLinks in include/ouro/detail/runtime.h); move_unreachable restores them
// as it goes. Everywhere else lists are doubly linked and validate_list() holds.
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>

#include "core/internal.h"
#include "ouro/core/gc.h"
#include "ouro/core/runtime.h"

namespace ouro {

namespace detail {

using gc::CollectionInfo;
using gc::GenerationStats;

namespace {

using Flags = std::uint32_t;

Flags& flags_of(GcLinks* links) noexcept { return ObjectAccess::flags(*object_of(links)); }

std::uintptr_t gc_refs(const GcLinks* links) noexcept {
  return reinterpret_cast<std::uintptr_t>(links->prev);
}
void set_gc_refs(GcLinks* links, std::uintptr_t refs) noexcept {
  links->prev = reinterpret_cast<GcLinks*>(refs);
}

// Executable form of the membership rule (OURO_DEBUG >= 3): a doubly linked list whose
// objects are tracked and carry exactly the collector flags `expected` among `mask`.
[[maybe_unused]] bool validate_list(const GcList& list, Flags mask, Flags expected) noexcept {
  const GcLinks* prev = &list.head;
  for (const GcLinks* l = list.head.next; l != &list.head; l = l->next) {
    if (l->prev != prev) return false;
    const Flags f = ObjectAccess::flags(*object_of(const_cast<GcLinks*>(l)));
    if (!(f & Object::kTracked) || (f & mask) != expected) return false;
    prev = l;
  }
  return list.head.prev == prev;
}

constexpr Flags kGcStateMask = Object::kCollecting | Object::kUnreachable;

// --- steps 1-3 ----------------------------------------------------------------------------

// Step 1. Contract: after it, every object of `containers` has gc_refs == refcount and
// kCollecting; `containers` is singly linked (prev fields hold gc_refs).
void update_refs(GcList& containers) noexcept {
  for (GcLinks* l = containers.head.next; l != &containers.head; l = l->next) {
    Object* object = object_of(l);
    OURO_ASSERT(object->refcount() != 0);
    set_gc_refs(l, object->refcount());
    ObjectAccess::flags(*object) |= Object::kCollecting;
  }
}

// Step 2's visitor: a reference into the collected set is an internal one.
class SubtractRefs final : public Visitor {
 public:
  Object* referrer = nullptr;
  void visit(Object* target) override {
    if (!(ObjectAccess::flags(*target) & Object::kCollecting)) return;
    GcLinks* links = links_of(target);
    // I3: more references visited than the target's count means some traverse() visits
    // what it does not own. That would free live objects, so stop here, naming the type.
    if (OURO_UNLIKELY(gc_refs(links) == 0)) report_over_visit(target);
    set_gc_refs(links, gc_refs(links) - 1);
  }

 private:
  [[noreturn]] void report_over_visit(Object* target) const noexcept {
    const std::string message = "gc: a traverse() visits a reference it does not own: " +
                                std::string(referrer->type_name()) + " visited " +
                                std::string(target->type_name()) +
                                " more times than that object's refcount allows (I3)";
    fatal(message.c_str());
  }
};

// Step 2. Contract: after it, gc_refs of every object of `containers` counts only the
// references from outside the list.
void subtract_refs(GcList& containers) noexcept {
  SubtractRefs visitor;
  for (GcLinks* l = containers.head.next; l != &containers.head; l = l->next) {
    visitor.referrer = object_of(l);
    visitor.referrer->traverse(visitor);
  }
}

// Untracking (step 4) examines every survivor of two types: tuples in every collection,
// dicts in full ones (CPython's untrack_tuples and untrack_dicts). That walk reads each
// survivor's header and each candidate's items again, after move_unreachable has had them
// in cache: a build of 100k records lost a fifth of its time to it. move_unreachable
// therefore notes, while it traverses a survivor of those types anyway, whether it refers
// to a tracked container of another type (a list, a user type). No untracking takes such a
// container off the lists, so the check (may_be_tracked, value layer) is false for that
// survivor whatever the order of the walk; the walk runs only if some survivor of those
// types refers to none. The check itself, and its order (tuples first), are CPython's.
struct UntrackWatch {
  std::uint16_t every = 0;     // the type examined in every collection
  std::uint16_t full = 0;      // the type examined in this one too (== every if not full)
  std::size_t candidates = 0;  // survivors of those types that no container pins
};

// Step 3's visit: `target` is reachable from a reachable object.
[[gnu::always_inline]] inline void reach(GcList& young, Object* target) noexcept {
  Flags& flags = ObjectAccess::flags(*target);
  // Objects outside the collection, and those move_unreachable has already passed (to the
  // left of its position: kCollecting already cleared), need nothing.
  if (!(flags & Object::kCollecting)) return;
  GcLinks* links = links_of(target);
  if (flags & Object::kUnreachable) {
    // Tentatively unreachable after all: back to the end of young, where the walk will
    // reach it again. The unreachable list is doubly linked, young's tail pointer valid.
    gc_list_remove(links);
    gc_list_append(links, young);
    flags &= ~Object::kUnreachable;
    set_gc_refs(links, 1);
  } else if (gc_refs(links) == 0) {
    set_gc_refs(links, 1);  // ahead of the walk: tell it this one is reachable
  }
}

class VisitReachable final : public Visitor {
 public:
  explicit VisitReachable(GcList& young) : young_(young) {}
  void visit(Object* target) override { reach(young_, target); }

 private:
  GcList& young_;
};

// The same, for a survivor that untracking examines (UntrackWatch): also notes whether it
// refers to a tracked container of a type that no untracking of this collection examines
// (a list, a user type), which keeps it tracked whatever the rest holds.
class VisitReachableNotingPins final : public Visitor {
 public:
  VisitReachableNotingPins(GcList& young, const UntrackWatch& watch)
      : young_(young), every_(watch.every), full_(watch.full) {}
  bool pinned = false;
  void visit(Object* target) override {
    const Flags flags = ObjectAccess::flags(*target);
    constexpr Flags kTrackedContainer = Object::kContainer | Object::kTracked;
    if (!pinned && (flags & kTrackedContainer) == kTrackedContainer) {
      const auto type = static_cast<std::uint16_t>(flags >> 16);
      pinned = type != every_ && type != full_;
    }
    reach(young_, target);
  }

 private:
  GcList& young_;
  std::uint16_t every_, full_;
};

// Step 3. Contract: after it, `young` holds exactly the objects reachable from those with
// outside references, doubly linked again, kCollecting cleared; `unreachable` holds the
// rest, doubly linked, with kCollecting | kUnreachable.
// Loop invariant: every object to the left of `gc` is reachable, its prev restored and its
// kCollecting cleared; objects to the right still hold gc_refs in prev.
// Returns the number of reachable objects (each passes the reachable branch exactly once),
// which the 25% rule needs: counting here saves a walk over the survivors.
// With kWatch, also counts in watch->candidates the reachable objects of the types
// untracking examines that refer to no pinning container (see UntrackWatch); without, the
// walk has no cost for it.
template <bool kWatch>
std::size_t move_unreachable(GcList& young, GcList& unreachable, UntrackWatch* watch) noexcept {
  VisitReachable visitor(young);
  std::optional<VisitReachableNotingPins> noting;
  if constexpr (kWatch) noting.emplace(young, *watch);
  GcLinks* prev = &young.head;
  GcLinks* gc = young.head.next;
  std::size_t reachable = 0;
  while (gc != &young.head) {
    Object* object = object_of(gc);
    if (gc_refs(gc) != 0) {
      bool examined = false;
      if constexpr (kWatch) {
        const std::uint16_t type = object->type_id();
        examined = type == watch->every || type == watch->full;
      }
      if (examined) {
        noting->pinned = false;
        object->traverse(*noting);
        if (!noting->pinned) ++watch->candidates;
      } else {
        object->traverse(visitor);
      }
      gc->prev = prev;
      ObjectAccess::flags(*object) &= ~Object::kCollecting;
      prev = gc;
      ++reachable;
    } else {
      prev->next = gc->next;  // young is singly linked here: no next->prev to fix
      ObjectAccess::flags(*object) |= Object::kUnreachable;
      gc_list_append(gc, unreachable);
    }
    gc = prev->next;
  }
  young.head.prev = prev;
  return reachable;
}

// Steps 1-3. Returns the number of reachable objects left in `young`.
std::size_t deduce_unreachable(GcList& young, GcList& unreachable,
                               UntrackWatch* watch = nullptr) noexcept {
  update_refs(young);
  subtract_refs(young);
  const std::size_t reachable = watch != nullptr
                                    ? move_unreachable<true>(young, unreachable, watch)
                                    : move_unreachable<false>(young, unreachable, nullptr);
  OURO_ASSERT_EXPENSIVE(validate_list(young, kGcStateMask, 0));
  OURO_ASSERT_EXPENSIVE(validate_list(unreachable, kGcStateMask, kGcStateMask));
  return reachable;
}

// Step 4's untracking (CPython's untrack_tuples, then untrack_dicts in a full collection):
// survivors of the type the value layer named that its check finds holding only atoms
// leave young. Returns how many left.
struct UntrackRule {
  UntrackCheck check = nullptr;
  std::uint16_t every = 0;  // the type id examined in every collection (tuple)
  std::uint16_t full = 0;   // the type id examined in full collections only (dict)
};
std::atomic<const UntrackRule*> untrack_rule{nullptr};

std::size_t untrack_type(GcList& young, UntrackCheck check, std::uint16_t type) noexcept {
  std::size_t untracked = 0;
  for (GcLinks* l = young.head.next; l != &young.head;) {
    GcLinks* next = l->next;
    Object* object = object_of(l);
    if (object->type_id() == type && check(*object)) {
      untrack_container(object);
      ++untracked;
    }
    l = next;
  }
  return untracked;
}

std::size_t untrack_atom_holders(GcList& young, const UntrackRule& rule, bool full) noexcept {
  // Tuples first, over the whole list, so that a dict sees its tuples already untracked.
  std::size_t untracked = untrack_type(young, rule.check, rule.every);
  if (full) untracked += untrack_type(young, rule.check, rule.full);
  return untracked;
}

// --- steps 6-8 ----------------------------------------------------------------------------

// Step 6. Each object is moved to `seen` before its finalizer runs, because a finalizer
// may free other objects of the list (taking them off it); the head is always valid.
void finalize_garbage(Heap& heap, GcList& unreachable) noexcept {
  GcList seen;
  while (!unreachable.empty()) {
    GcLinks* links = unreachable.head.next;
    gc_list_move(links, seen);
    Object* object = object_of(links);
    Flags& flags = ObjectAccess::flags(*object);
    if ((flags & (Object::kHasFinalizer | Object::kFinalized)) != Object::kHasFinalizer) continue;
    flags |= Object::kFinalized;  // I6: at most once
    Ref<Object> hold = Ref<Object>::borrow(object);
    try {
      object->finalize();
    } catch (...) {
      report_unraisable(heap, "finalizer", object);
    }
  }
  gc_list_merge(seen, unreachable);
}

void clear_flags(GcList& list, Flags flags) noexcept {
  for (GcLinks* l = list.head.next; l != &list.head; l = l->next) flags_of(l) &= ~flags;
}

// Step 7. Contract: after it, `still_unreachable` holds what nothing outside reaches even
// after the finalizers ran; the rest (resurrected) is merged into `old`.
void handle_resurrected_objects(GcList& unreachable, GcList& still_unreachable,
                                GcList& old) noexcept {
  clear_flags(unreachable, kGcStateMask);
  deduce_unreachable(unreachable, still_unreachable);
  gc_list_merge(unreachable, old);
}

void print_object(const char* what, Object* object) {
  const std::string_view type = object->type_name();
  fmt::print(stderr, "gc: {} <{} {}>\n", what, type, fmt::ptr(object));
}

// Step 8. clear() breaks each cycle; refcounting frees the objects, which takes them off
// the list. One that survives its clear() (still referenced) goes to `old`.
void delete_garbage(Heap& heap, GcList& collectable, GcList& old) noexcept {
  CoreState& rt = core_state(heap);
  while (!collectable.empty()) {
    GcLinks* links = collectable.head.next;
    Object* object = object_of(links);
    if (rt.debug_flags & gc::DEBUG_SAVEALL) {
      try {
        rt.garbage.push_back(object);
        ++ObjectAccess::refcount(*object);
      } catch (...) {
        // No memory for gc.garbage: the object stays uncleared in `old`, as in CPython
        // (PyList_Append failed, error cleared); a later collection finds it again.
      }
      flags_of(links) &= ~kGcStateMask;
      gc_list_move(links, old);
      continue;
    }
    {
      Ref<Object> hold = Ref<Object>::borrow(object);
      try {
        object->clear();
      } catch (...) {
        report_unraisable(heap, "clear", object);
      }
    }
    if (collectable.head.next == links) {
      flags_of(links) &= ~kGcStateMask;
      gc_list_move(links, old);
    }
  }
}

void print_generation_sizes(const CoreState& rt) {
  std::fputs("gc: objects in each generation:", stderr);
  for (const Generation& g : rt.generations) fmt::print(stderr, " {}", gc_list_size(g.list));
  fmt::print(stderr, "\ngc: objects in permanent generation: {}\n", gc_list_size(rt.permanent));
}

// Steps 0-8 for one generation. Returns unreachable objects found (collected + 0
// uncollectable: ouro has no legacy finalizers, so nothing is uncollectable).
std::size_t collect_main(Heap& heap, int generation) noexcept {
  CoreState& rt = core_state(heap);
  const auto started = std::chrono::steady_clock::now();
  if (rt.debug_flags & gc::DEBUG_STATS) {
    fmt::print(stderr, "gc: collecting generation {}...\n", generation);
    print_generation_sizes(rt);
  }
  if (generation + 1 < kGenerations) ++rt.generations[generation + 1].count;
  for (int i = 0; i <= generation; ++i) rt.generations[i].count = 0;
  for (int i = 0; i < generation; ++i)
    gc_list_merge(rt.generations[i].list, rt.generations[generation].list);
  GcList& young = rt.generations[generation].list;
  GcList& old = generation + 1 < kGenerations ? rt.generations[generation + 1].list : young;
  OURO_ASSERT_EXPENSIVE(validate_list(young, kGcStateMask, 0));

  GcList unreachable;
  const bool full = &young == &old;
  const UntrackRule* rule =
      OURO_BARE_METAL ? nullptr : untrack_rule.load(std::memory_order_acquire);
  UntrackWatch watch;
  if (rule != nullptr) watch = {rule->every, full ? rule->full : rule->every};
  std::size_t survivors = deduce_unreachable(young, unreachable, rule ? &watch : nullptr);
  if (watch.candidates != 0) survivors -= untrack_atom_holders(young, *rule, full);
  if (&young != &old) {
    if (generation == kGenerations - 2) rt.long_lived_pending += survivors;
    gc_list_merge(young, old);
  } else {
    rt.long_lived_pending = 0;
    rt.long_lived_total = survivors;
  }
  std::size_t found = 0;
  std::size_t pending_finalizers = 0;
  for (GcLinks* l = unreachable.head.next; l != &unreachable.head; l = l->next) {
    Object* object = object_of(l);
    Flags& flags = ObjectAccess::flags(*object);
    flags &= ~Object::kUnreachable;
    ++found;
    if ((flags & (Object::kHasFinalizer | Object::kFinalized)) == Object::kHasFinalizer) {
      ++pending_finalizers;
    }
    if (rt.debug_flags & gc::DEBUG_COLLECTABLE) print_object("collectable", object);
  }
  const bool callbacks_ran = rt.weak != nullptr && handle_weakrefs(heap, unreachable, old);
  GcList final_unreachable;
  if (pending_finalizers == 0 && !callbacks_ran) {
    // Steps 6-7 can only change the outcome through code they run: with no finalizer
    // pending and no weakref callback run, nothing can have been resurrected, so the
    // second pass over the garbage (CPython runs it unconditionally) is skipped.
    gc_list_merge(unreachable, final_unreachable);
  } else {
    finalize_garbage(heap, unreachable);
    handle_resurrected_objects(unreachable, final_unreachable, old);
    // Counted before step 8 frees them, and after step 7: what a finalizer resurrected was
    // not collected (CPython's `m += gc_list_size(&final_unreachable)`).
    found = gc_list_size(final_unreachable);
  }
  delete_garbage(heap, final_unreachable, old);

  GenerationStats& stats = rt.stats[generation];
  ++stats.collections;
  stats.collected += found;
  if (rt.debug_flags & gc::DEBUG_STATS) {
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
    fmt::print(stderr, "gc: done, {} unreachable, 0 uncollectable, {:.4f}s elapsed\n", found,
               elapsed.count());
  }
  return found;
}

void invoke_callbacks(Heap& heap, const std::string& phase, const CollectionInfo& info) noexcept {
  CoreState& rt = core_state(heap);
  if (rt.callbacks.empty()) return;
  // A copy, in the heap: a callback may add or remove callbacks.
  HeapVector<GcCallbackEntry> callbacks{StdAllocator<GcCallbackEntry>(heap.allocator())};
  try {
    callbacks = rt.callbacks;
  } catch (...) {
    report_unraisable(heap, "gc callback", nullptr);
    return;
  }
  for (auto& entry : callbacks) {
    try {
      entry.callback(phase, info);
    } catch (...) {
      report_unraisable(heap, "gc callback", nullptr);
    }
  }
}

// A collection with its callbacks; the caller has set rt.collecting.
std::size_t collect_with_callbacks(Heap& heap, int generation) noexcept {
  invoke_callbacks(heap, "start", {generation, 0, 0});
  const std::size_t found = collect_main(heap, generation);
  invoke_callbacks(heap, "stop", {generation, found, 0});
  return found;
}

std::size_t collect_guarded(Heap& heap, int generation) noexcept {
  CoreState& rt = core_state(heap);
  if (rt.collecting) return 0;  // from a finalizer or callback: skipped, as in CPython
  rt.collecting = true;
  // OURO_DEBUG=3: the whole heap is checked before and after every collection.
  OURO_ASSERT_EXPENSIVE(heap.verify());
  const std::size_t found = collect_with_callbacks(heap, generation);
  // After a full collection the allocator's free cache goes back to the pools, so that the
  // arenas the collection emptied can go back to the backing.
  if (generation == kGenerations - 1) heap.allocator().flush_caches();
  OURO_ASSERT_EXPENSIVE(heap.verify());
  rt.collecting = false;
  return found;
}

// The automatic policy (CPython's gc_collect_generations): the oldest generation whose
// count passed its threshold is collected, with the younger ones. The oldest one also
// waits until the objects promoted into it since the last full collection exceed 25% of
// the objects it held then: without that rule, a program that builds a large long-lived
// structure would pay quadratic time in full collections (CPython, issue #4074).
void collect_generations(Heap& heap) noexcept {
  CoreState& rt = core_state(heap);
  for (int i = kGenerations - 1; i >= 0; --i) {
    if (rt.generations[i].count > rt.generations[i].threshold || (i == 0 && rt.stress)) {
      if (i == kGenerations - 1 && rt.long_lived_pending < rt.long_lived_total / 4) continue;
      collect_guarded(heap, i);
      break;
    }
  }
}

}  // namespace

void set_untrack_check(UntrackCheck check, std::uint16_t every, std::uint16_t full) noexcept {
  static UntrackRule rule;  // set once per process (the value layer's first tuple or dict)
  rule = UntrackRule{check, every, full};
  untrack_rule.store(&rule, std::memory_order_release);
}

void collect_on_allocation(Heap& heap) noexcept {
  CoreState& rt = core_state(heap);
  if (!rt.enabled || rt.collecting || rt.shutting_down) return;
  if (rt.generations[0].threshold == 0 && !rt.stress) return;
  collect_generations(heap);
}

// The heap's last collection, as CPython's _PyGC_CollectNoFail: no gc.callbacks, which may
// refer to objects of the program that are gone by the time ~Heap runs (a callback
// capturing a local declared after the heap), and no DEBUG_SAVEALL, which would keep every
// unreachable object in gc.garbage where nobody can look any more, so that none of them
// would ever be destroyed.
void collect_at_shutdown(Heap& heap) noexcept {
  CoreState& rt = core_state(heap);
  if (rt.collecting) return;
  rt.debug_flags &= ~gc::DEBUG_SAVEALL;
  rt.collecting = true;
  collect_main(heap, kGenerations - 1);
  heap.allocator().flush_caches();
  rt.collecting = false;
}

void collect_on_pressure(Heap& heap) noexcept { collect_guarded(heap, kGenerations - 1); }

}  // namespace detail

namespace gc {

using detail::core_state;
using detail::CoreState;
using detail::gc_list_size;
using detail::GcLinks;
using detail::GcList;

Heap& current_heap(ouro::SourceLocation call) {
  Heap* heap = Heap::current();
  if (OURO_UNLIKELY(heap == nullptr)) {
    const std::string where = fmt::format("ouro::gc call at {}:{} (in {})", call.file_name(),
                                          call.line(), call.function_name());
    detail::throw_no_current_heap(where.c_str());
  }
  return *heap;
}

std::size_t collect(int generation, Heap& heap) {
  if (generation < 0 || generation >= detail::kGenerations) {
    throw std::invalid_argument("invalid generation");
  }
  heap.check_thread();
  return detail::collect_guarded(heap, generation);
}

void enable(Heap& heap) { core_state(heap).enabled = true; }
void disable(Heap& heap) { core_state(heap).enabled = false; }
bool isenabled(Heap& heap) { return core_state(heap).enabled; }

std::tuple<int, int, int> get_threshold(Heap& heap) {
  const CoreState& rt = core_state(heap);
  return {rt.generations[0].threshold, rt.generations[1].threshold, rt.generations[2].threshold};
}

void set_threshold(int threshold0, std::optional<int> threshold1, std::optional<int> threshold2,
                   Heap& heap) {
  CoreState& rt = core_state(heap);
  rt.generations[0].threshold = threshold0;
  if (threshold1) rt.generations[1].threshold = *threshold1;
  if (threshold2) rt.generations[2].threshold = *threshold2;
}

std::tuple<int, int, int> get_count(Heap& heap) {
  const CoreState& rt = core_state(heap);
  return {rt.generations[0].count, rt.generations[1].count, rt.generations[2].count};
}

std::array<GenerationStats, 3> get_stats(Heap& heap) {
  const CoreState& rt = core_state(heap);
  return {rt.stats[0], rt.stats[1], rt.stats[2]};
}

void set_debug(int flags, Heap& heap) { core_state(heap).debug_flags = flags; }
int get_debug(Heap& heap) { return core_state(heap).debug_flags; }

CallbackList callbacks(Heap& heap) { return CallbackList(heap); }

namespace {
CallbackHandle insert_callback(Heap& heap, Callback callback, bool front) {
  CoreState& rt = core_state(heap);
  const std::size_t id = rt.next_callback_id;
  auto at = front ? rt.callbacks.begin() : rt.callbacks.end();
  rt.callbacks.insert(at, detail::GcCallbackEntry{id, std::move(callback)});
  ++rt.next_callback_id;  // only once stored: a failed insert uses no handle
  return CallbackHandle{id};
}
}  // namespace

CallbackHandle CallbackList::add(Callback callback) {
  return insert_callback(*heap_, std::move(callback), false);
}

CallbackHandle CallbackList::add_front(Callback callback) {
  return insert_callback(*heap_, std::move(callback), true);
}

bool CallbackList::remove(CallbackHandle handle) noexcept {
  auto& list = core_state(*heap_).callbacks;
  for (auto it = list.begin(); it != list.end(); ++it) {
    if (it->id == static_cast<std::size_t>(handle)) {
      list.erase(it);
      return true;
    }
  }
  return false;
}

void CallbackList::clear() noexcept { core_state(*heap_).callbacks.clear(); }

std::size_t CallbackList::size() const noexcept { return core_state(*heap_).callbacks.size(); }

std::vector<Ref<Object>> garbage(Heap& heap) {
  std::vector<Ref<Object>> result;
  for (Object* o : core_state(heap).garbage) result.push_back(Ref<Object>::borrow(o));
  return result;
}

void clear_garbage(Heap& heap) {
  HeapVector<Object*> garbage{StdAllocator<Object*>(heap.allocator())};
  garbage.swap(core_state(heap).garbage);
  for (Object* o : garbage) Ref<Object>::adopt(o).reset();
}

namespace {
void append_list(std::vector<Ref<Object>>& out, const GcList& list) {
  for (GcLinks* l = list.head.next; l != &list.head; l = l->next) {
    out.push_back(Ref<Object>::borrow(detail::object_of(l)));
  }
}
}  // namespace

std::vector<Ref<Object>> get_objects(std::optional<int> generation, Heap& heap) {
  CoreState& rt = core_state(heap);
  std::vector<Ref<Object>> result;
  // CPython's argument clinic maps None to -1, so -1 means "all generations" there too.
  if (generation && *generation != -1) {
    if (*generation >= detail::kGenerations) {
      throw std::invalid_argument(
          "generation parameter must be less than the number of available generations (3)");
    }
    if (*generation < 0) throw std::invalid_argument("generation parameter cannot be negative");
    append_list(result, rt.generations[*generation].list);
    return result;
  }
  for (const detail::Generation& g : rt.generations) append_list(result, g.list);
  return result;
}

namespace {

class FindAny final : public Visitor {
 public:
  explicit FindAny(std::span<const Ref<Object>> targets) : targets_(targets) {}
  bool found = false;
  void visit(Object* object) override {
    for (const Ref<Object>& t : targets_) found = found || t.get() == object;
  }

 private:
  std::span<const Ref<Object>> targets_;
};

class Collect final : public Visitor {
 public:
  std::vector<Ref<Object>>& out;
  explicit Collect(std::vector<Ref<Object>>& result) : out(result) {}
  void visit(Object* object) override { out.push_back(Ref<Object>::borrow(object)); }
};

}  // namespace

std::vector<Ref<Object>> get_referrers(std::span<const Ref<Object>> objects, Heap& heap) {
  std::vector<Ref<Object>> result;
  for (detail::Generation& g : core_state(heap).generations) {
    for (GcLinks* l = g.list.head.next; l != &g.list.head; l = l->next) {
      Object* candidate = detail::object_of(l);
      FindAny finder(objects);
      candidate->traverse(finder);
      if (finder.found) result.push_back(Ref<Object>::borrow(candidate));
    }
  }
  return result;
}

std::vector<Ref<Object>> get_referents(std::span<const Ref<Object>> objects) {
  std::vector<Ref<Object>> result;
  Collect collect(result);
  for (const Ref<Object>& o : objects) {
    if (o && o->is_container()) o->traverse(collect);
  }
  return result;
}

bool is_tracked(const Ref<Object>& object) noexcept { return object && object->is_tracked(); }
bool is_finalized(const Ref<Object>& object) noexcept { return object && object->is_finalized(); }

void freeze(Heap& heap) {
  CoreState& rt = core_state(heap);
  for (detail::Generation& g : rt.generations) gc_list_merge(g.list, rt.permanent);
  rt.generations[0].count = 0;  // CPython 3.11 resets only generation 0's count
}

void unfreeze(Heap& heap) {
  CoreState& rt = core_state(heap);
  gc_list_merge(rt.permanent, rt.generations[detail::kGenerations - 1].list);
}

std::size_t get_freeze_count(Heap& heap) { return gc_list_size(core_state(heap).permanent); }

}  // namespace gc

namespace testing {

void set_gc_stress(bool on, Heap& heap) { detail::core_state(heap).stress = on; }

}  // namespace testing

}  // namespace ouro
