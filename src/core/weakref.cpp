// Weak references: creation (shared callback-less refs), clearing on refcount death, and
// the collector's weak-reference step (handle_weakrefs).
//
// Keeps DESIGN.md I5: weak references never keep anything alive (the referent pointer is
// borrowed), and a callback never sees a half-cleared object:
//   - death by refcount: every weakref to the object is cleared first, then the callbacks
//     run, newest first, each with its dead weakref (CPython's PyObject_ClearWeakRefs);
//   - cyclic garbage: before any finalizer or clear(), weakrefs to unreachable objects are
//     cleared; callbacks run only for weakrefs that are themselves reachable, because a
//     weakref that is garbage too could otherwise run a callback that reaches objects
//     clear() has already emptied (CPython's handle_weakrefs, gcmodule.c).
//
// List order per referent (CPython's): the shared callback-less ref first, then refs with
// callbacks, newest first. Clearing walks the list in that order, so callbacks run newest
// first.
#include <cxxabi.h>
#include <fmt/format.h>

#include <cstdlib>
#include <string>

#include "core/internal.h"
#include "core/weak_table.h"

namespace ouro {

namespace detail {
struct WeakRefKey {};
}  // namespace detail

/// The one door to WeakRef's private links for this file.
struct WeakRefAccess {
  static Object*& referent(WeakRef& w) noexcept { return w.referent_; }
  static WeakRef*& prev(WeakRef& w) noexcept { return w.prev_; }
  static WeakRef*& next(WeakRef& w) noexcept { return w.next_; }
  static WeakCallback& callback(WeakRef& w) noexcept { return w.callback_; }
};

namespace detail {

namespace {

using A = WeakRefAccess;

std::uint32_t& flags(Object& o) noexcept { return ObjectAccess::flags(o); }

bool is_weakref(const Object& o) noexcept { return o.type_id() == type_id_of<WeakRef>(); }

// Takes `wr` off its referent's list and clears it (no callback). Erases the table entry
// when the list empties.
void unlink_and_clear(WeakState& state, WeakRef& wr) noexcept {
  Object* referent = A::referent(wr);
  if (referent == nullptr) return;
  WeakRef* prev = A::prev(wr);
  WeakRef* next = A::next(wr);
  if (next != nullptr) A::prev(*next) = prev;
  if (prev != nullptr) {
    A::next(*prev) = next;
  } else {
    weak_set_head(state, referent, next);
    if (next == nullptr) flags(*referent) &= ~Object::kWeaklyReferenced;
  }
  A::prev(wr) = A::next(wr) = nullptr;
  A::referent(wr) = nullptr;
}

// Detaches `referent`'s whole list: every weakref cleared, the entry erased. Returns the
// former head; the list links are left intact for the caller to walk (then reset).
WeakRef* detach_all(WeakState& state, Object* referent) noexcept {
  WeakRef* head = weak_list_head(state, referent);
  weak_set_head(state, referent, nullptr);
  flags(*referent) &= ~Object::kWeaklyReferenced;
  for (WeakRef* wr = head; wr != nullptr; wr = A::next(*wr)) A::referent(*wr) = nullptr;
  return head;
}

void run_callback(Heap& heap, WeakRef* wr) noexcept {
  // The callback runs once: it leaves the weakref before it is called (as in CPython).
  WeakCallback callback = std::move(A::callback(*wr));
  A::callback(*wr) = nullptr;
  const Ref<WeakRef> dead = Ref<WeakRef>::borrow(wr);
  try {
    if (callback) callback(dead);
  } catch (...) {
    report_unraisable(heap, "weakref callback", wr);
  }
}

}  // namespace

// Death by refcount (called from dealloc, the object's count is zero): clear all, then
// call back. The weakrefs with callbacks are held on a chain through their `next` links
// (free once detached), so nothing is allocated here.
void clear_weakrefs_on_dealloc(Heap& heap, Object* object) noexcept {
  WeakState* state = weak_state_if_any(heap);
  if (state == nullptr) return;
  WeakRef* wr = detach_all(*state, object);
  WeakRef* pending = nullptr;
  WeakRef** tail = &pending;
  while (wr != nullptr) {
    WeakRef* next = A::next(*wr);
    A::prev(*wr) = A::next(*wr) = nullptr;
    if (A::callback(*wr)) {
      ++ObjectAccess::refcount(*wr);  // keep it alive until its callback has run
      *tail = wr;
      tail = &A::next(*wr);
    }
    wr = next;
  }
  while (pending != nullptr) {
    WeakRef* current = pending;
    pending = A::next(*current);
    A::next(*current) = nullptr;
    run_callback(heap, current);
    Ref<WeakRef>::adopt(current).reset();
  }
}

// Collector step 5 (see src/core/collector.cpp). Contract: after it, no weakref refers to an
// object of `unreachable`; callbacks of reachable weakrefs to those objects have run;
// those weakrefs, if still alive, are in `old`. Returns true if any callback ran.
bool handle_weakrefs(Heap& heap, GcList& unreachable, GcList& old) noexcept {
  WeakState* state = weak_state_if_any(heap);
  if (state == nullptr) return false;
  GcList callbacks_to_call;
  for (GcLinks* l = unreachable.head.next; l != &unreachable.head; l = l->next) {
    Object* object = object_of(l);
    // A weakref that is garbage is cleared without its callback: its callback could reach
    // objects that clear() empties before the weakref itself dies.
    if (is_weakref(*object)) unlink_and_clear(*state, static_cast<WeakRef&>(*object));
    if (!(flags(*object) & Object::kWeaklyReferenced)) continue;
    WeakRef* wr = detach_all(*state, object);
    while (wr != nullptr) {
      WeakRef* next = A::next(*wr);
      A::prev(*wr) = A::next(*wr) = nullptr;
      // keeps I5: only live (reachable) weakrefs with a callback are called back
      const bool garbage_too = (flags(*wr) & Object::kCollecting) != 0;
      if (A::callback(*wr) && !garbage_too) {
        ++ObjectAccess::refcount(*wr);
        gc_list_move(links_of(wr), callbacks_to_call);
      }
      wr = next;
    }
  }
  const bool any = !callbacks_to_call.empty();
  while (!callbacks_to_call.empty()) {
    GcLinks* links = callbacks_to_call.head.next;
    auto* wr = static_cast<WeakRef*>(object_of(links));
    run_callback(heap, wr);
    Ref<WeakRef>::adopt(wr).reset();
    if (callbacks_to_call.head.next == links) gc_list_move(links, old);
  }
  return any;
}

Ref<WeakRef> make_weakref(Object* referent, WeakCallback callback) {
  if (referent == nullptr) throw TypeError("cannot create weak reference to 'NoneType' object");
  if (flags(*referent) & Object::kNoWeakrefs) {
    throw TypeError(
        fmt::format("cannot create weak reference to '{}' object", referent->type_name()));
  }
  Heap& heap = referent->heap();
  WeakState& state = weak_state(heap);
  auto shared_ref = [&]() -> WeakRef* {
    // The header bit answers without a table probe for an object never weakly referenced.
    if (!(flags(*referent) & Object::kWeaklyReferenced)) return nullptr;
    WeakRef* head = weak_list_head(state, referent);
    return head != nullptr && !head->has_callback() ? head : nullptr;
  };
  if (!callback) {
    if (WeakRef* shared = shared_ref()) return Ref<WeakRef>::borrow(shared);  // as CPython
  }
  // make_in and weak_reserve_one may collect, and the callbacks and finalizers a collection
  // runs may create weak references themselves: they can take the room reserved here or
  // create the shared reference. So the reference is made first, room is reserved next, and
  // nothing allocates between the last look at the table and the insert. Until it is
  // linked, `wr` must not look linked to its destructor: its referent is set last.
  Ref<WeakRef> wr = make_in<WeakRef>(heap, 0, WeakRefKey{}, nullptr, std::move(callback));
  if (!wr->has_callback()) {
    if (WeakRef* shared = shared_ref()) return Ref<WeakRef>::borrow(shared);
  }
  weak_reserve_one(heap, state);  // unconditional: a collection may have emptied the list
  WeakRef* head =
      (flags(*referent) & Object::kWeaklyReferenced) ? weak_list_head(state, referent) : nullptr;
  A::referent(*wr) = referent;
  WeakRef* after =
      (head != nullptr && !head->has_callback() && wr->has_callback()) ? head : nullptr;
  if (after != nullptr) {  // behind the shared callback-less ref
    A::prev(*wr) = after;
    A::next(*wr) = A::next(*after);
    if (A::next(*after) != nullptr) A::prev(*A::next(*after)) = wr.get();
    A::next(*after) = wr.get();
  } else {  // at the head
    A::next(*wr) = head;
    if (head != nullptr) A::prev(*head) = wr.get();
    weak_set_head(state, referent, wr.get());
    flags(*referent) |= Object::kWeaklyReferenced;
  }
  return wr;
}

// Weak<T>(target): the shared callback-less reference when the object has one (the
// already-referenced case, as common as it is cheap in CPython), found with no callback
// object, no heap lookup through Object::heap() and one inline probe; else the general path.
// The header bit is set only while the object's list is in the table (so the state exists);
// an object inside its make<T> takes the general path (its heap is not in its header yet).
namespace {
// Out of line, so that the short path of make_weakref(referent) needs no stack frame.
[[gnu::noinline]] Ref<WeakRef> make_basic_weakref_slow(Object* referent) {
  return make_weakref(referent, WeakCallback());
}
}  // namespace

Ref<WeakRef> make_weakref(Object* referent) {
#if OURO_BARE_METAL
  // The firmware's flash has no room for the short path: the general one answers the same.
  return make_basic_weakref_slow(referent);
#else
  if (OURO_LIKELY(referent != nullptr)) {
    const std::uint32_t bits = flags(*referent);
    if ((bits & (Object::kWeaklyReferenced | Object::kConstructing)) == Object::kWeaklyReferenced) {
      if (Heap* heap = heap_of_constructed(*referent); OURO_LIKELY(heap != nullptr)) {
        WeakRef* head = weak_list_head(*core_state(*heap).weak, referent);
        if (head != nullptr && !head->has_callback()) return Ref<WeakRef>::borrow(head);
      }
    }
  }
  return make_basic_weakref_slow(referent);
#endif
}

void clear_callback(WeakRef& wr) noexcept { A::callback(wr) = nullptr; }

void throw_weak_type_mismatch(const char* mangled_target, const Object& referent) {
  int status = 0;
  char* demangled = abi::__cxa_demangle(mangled_target, nullptr, nullptr, &status);
  const std::string target = status == 0 && demangled != nullptr ? demangled : mangled_target;
  std::free(demangled);
  throw TypeError(fmt::format("ouro::Weak<{}>: the weak reference's referent is a '{}', not a {}",
                              target, referent.type_name(), target));
}

}  // namespace detail

WeakRef::~WeakRef() {
  if (referent_ == nullptr) return;
  // A linked weak reference is fully made (its referent is set last), and it is being
  // destroyed by its heap's dealloc or collection: its heap is in its block's header.
  Heap* heap = detail::heap_of_constructed(*this);
  if (detail::WeakState* state =
          detail::weak_state_if_any(heap != nullptr ? *heap : this->heap())) {
    detail::unlink_and_clear(*state, *this);
  }
}

std::size_t WeakRef::hash() const {
  if (!hashed_) {
    if (referent_ == nullptr) throw TypeError("weak object has gone away");
    auto* self = const_cast<WeakRef*>(this);
    self->hash_ = std::hash<const void*>{}(referent_);
    self->hashed_ = true;
  }
  return hash_;
}

bool WeakRef::equals(const WeakRef& other) const noexcept {
  if (referent_ != nullptr && other.referent_ != nullptr) return referent_ == other.referent_;
  return this == &other;
}

std::size_t getweakrefcount(const Object& object) noexcept {
  if (!(detail::ObjectAccess::flags(object) & Object::kWeaklyReferenced)) return 0;
  const detail::WeakState* state = detail::weak_state_if_any(object.heap());
  std::size_t count = 0;
  for (WeakRef* wr = detail::weak_list_head(*state, &object); wr != nullptr;
       wr = WeakRefAccess::next(*wr)) {
    ++count;
  }
  return count;
}

std::vector<Ref<WeakRef>> getweakrefs(const Object& object) {
  std::vector<Ref<WeakRef>> result;
  if (!(detail::ObjectAccess::flags(object) & Object::kWeaklyReferenced)) return result;
  const detail::WeakState* state = detail::weak_state_if_any(object.heap());
  for (WeakRef* wr = detail::weak_list_head(*state, &object); wr != nullptr;
       wr = WeakRefAccess::next(*wr)) {
    result.push_back(Ref<WeakRef>::borrow(wr));
  }
  return result;
}

}  // namespace ouro
