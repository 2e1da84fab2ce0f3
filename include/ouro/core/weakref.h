// Weak references (Python's weakref.ref): point at an object without keeping it alive.
//
// Invariant kept here (DESIGN.md I5): weak references never keep anything alive, and a
// callback never sees a half-cleared object. When the referent dies by refcount, all its
// weak references are cleared first, then callbacks run, newest first, each with its dead
// weak reference. When the referent is cyclic garbage, the collector clears the weak
// references before any finalizer or clear() runs, and calls back only weak references
// that are themselves reachable (src/core/weakref.cpp, handle_weakrefs).
//
// Cost: an object that is never weakly referenced pays nothing but one flag bit in its
// header; the lists of weak references live in a per-heap side table (an open-addressing
// hash table whose memory comes from the heap itself).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <typeinfo>
#include <vector>

#include "ouro/core/ref.h"
#include "ouro/errors.h"

namespace ouro {

class WeakRef;

namespace detail {
struct WeakRefKey;  // only src/weakref can make one: WeakRefs come from make_weakref
}  // namespace detail

/// The callback of a weak reference: called with the (now dead) weak reference after its
/// referent died. Exceptions go to the heap's unraisable hook.
/// Warning: a callback that captures a strong Ref to the referent keeps it alive forever.
using WeakCallback = std::function<void(const Ref<WeakRef>& dead)>;

/// The weak reference object (weakref.ref). Usually handled through Weak<T>. It is itself a
/// managed, tracked object, so the collector can tell when a weak reference is garbage.
class WeakRef final : public Object {
 public:
  static constexpr std::string_view kTypeName = "weakref.ReferenceType";

  /// The referent, or an empty Ref once it died (calling the weakref in Python).
  Ref<Object> lock() const noexcept { return Ref<Object>::borrow(referent_); }
  /// The referent without a new reference (nullptr once it died).
  Object* peek() const noexcept { return referent_; }
  /// True once the referent died (or the reference was cleared by the collector).
  bool expired() const noexcept { return referent_ == nullptr; }
  /// True if a callback was given (references with callbacks are never shared).
  bool has_callback() const noexcept { return static_cast<bool>(callback_); }
  /// hash(weakref): the referent's hash, remembered once taken, so it survives the referent.
  /// Throws TypeError("weak object has gone away") if the referent died before any hash.
  std::size_t hash() const;
  /// Python's weakref equality: both alive: the referents are the same object; otherwise
  /// the weak references are the same object.
  bool equals(const WeakRef& other) const noexcept;

  void traverse(Visitor&) override {}  // owns nothing the collector can see (the callback is
                                       // opaque); being a container lets gc tell it is garbage

  WeakRef(const detail::WeakRefKey&, Object* referent, WeakCallback callback) noexcept
      : referent_(referent), callback_(std::move(callback)) {}

 private:
  ~WeakRef() override;
  friend struct WeakRefAccess;

  Object* referent_;         // borrowed: weak; nullptr once cleared
  WeakRef* prev_ = nullptr;  // the referent's list: basic ref first, then newest callback
  WeakRef* next_ = nullptr;  // refs first (CPython's order)
  WeakCallback callback_;
  std::size_t hash_ = 0;
  bool hashed_ = false;
};

namespace detail {
/// Creates (or, without callback, finds) the weak reference to `referent`. Throws
/// TypeError for a null referent or a type that opted out of weak references
/// (`static constexpr bool kWeakReferenceable = false;`), MemoryError under the limit.
Ref<WeakRef> make_weakref(Object* referent, WeakCallback callback);
/// The same without callback (Weak<T>(target)): finds the shared reference on a short path.
Ref<WeakRef> make_weakref(Object* referent);
/// Drops the callback of `wr` without calling it (a callback already running is not
/// affected). The weak containers and finalize() disarm their weak references this way
/// before the state their callbacks point to goes away.
void clear_callback(WeakRef& wr) noexcept;
/// Throws TypeError: a Weak<T> was made from a weak reference to an object of another type.
[[noreturn]] void throw_weak_type_mismatch(const char* mangled_target, const Object& referent);
}  // namespace detail

/// A typed weak reference: the weakref.ref of C++.
///
///     auto big = ouro::make<LargeObject>("BigOne");
///     ouro::Weak<LargeObject> weak(big, [](auto&) { std::puts("finalized"); });
///     if (auto strong = weak.lock()) use(*strong);
///     big.reset();            // prints "finalized"
///     assert(!weak.lock());   // the weak reference returns null
template <class T>
class Weak {
 public:
  Weak() = default;
  /// A weak reference without callback; the same object's callback-less reference is
  /// shared (as CPython does). Throws TypeError if T opted out of weak references.
  explicit Weak(const Ref<T>& target) : ref_(detail::make_weakref(target.get())) {}
  /// A new weak reference whose callback runs after the referent died.
  Weak(const Ref<T>& target, WeakCallback callback)
      : ref_(detail::make_weakref(target.get(), std::move(callback))) {}
  /// Wraps an existing weak reference object (e.g. one given to a callback). Throws
  /// TypeError if its referent is alive and is not a T (a dead one is simply expired).
  explicit Weak(Ref<WeakRef> ref) : ref_(std::move(ref)) {
    Object* referent = ref_ ? ref_->peek() : nullptr;
    if (referent != nullptr && dynamic_cast<T*>(referent) == nullptr) {
      detail::throw_weak_type_mismatch(typeid(T).name(), *referent);
    }
  }

  /// The referent, or an empty Ref once it died.
  Ref<T> lock() const noexcept {
    return ref_ ? Ref<T>::borrow(static_cast<T*>(ref_->peek())) : Ref<T>();
  }
  bool expired() const noexcept { return !ref_ || ref_->expired(); }
  const Ref<WeakRef>& ref() const noexcept { return ref_; }
  std::size_t hash() const { return ref_->hash(); }

  friend bool operator==(const Weak& a, const Weak& b) noexcept {
    if (!a.ref_ || !b.ref_) return a.ref_ == b.ref_;
    return a.ref_->equals(*b.ref_);
  }

 private:
  Ref<WeakRef> ref_;
};

/// Number of weak references to `object` (weakref.getweakrefcount).
std::size_t getweakrefcount(const Object& object) noexcept;
template <class T>
std::size_t getweakrefcount(const Ref<T>& ref) noexcept {
  return ref ? getweakrefcount(*ref) : 0;
}
/// The weak references to `object`, in list order (weakref.getweakrefs).
std::vector<Ref<WeakRef>> getweakrefs(const Object& object);
template <class T>
std::vector<Ref<WeakRef>> getweakrefs(const Ref<T>& ref) {
  return ref ? getweakrefs(*ref) : std::vector<Ref<WeakRef>>{};
}

}  // namespace ouro

template <class T>
struct std::hash<ouro::Weak<T>> {
  std::size_t operator()(const ouro::Weak<T>& weak) const { return weak.hash(); }
};
