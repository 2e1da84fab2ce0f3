// ouro::Object: the base of every managed object, its header, and the Visitor through which
// the collector learns what an object owns.
//
// Invariants kept here (DESIGN.md):
//   I2  refcount is the truth: an object is freed the moment its count reaches zero.
//   I3  traverse() visits exactly what the object owns; clear() drops those references.
//   I6  finalize() runs at most once (PEP 442); the kFinalized flag remembers it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include "ouro/config.h"
#include "ouro/detail/core_state.h"
#include "ouro/detail/gc_list.h"

namespace ouro {

class Heap;
class Object;
template <class T>
class Ref;

/// Receives each reference an object owns, from Object::traverse().
///
///     void traverse(ouro::Visitor& visit) override { visit(left_); visit(right_); }
class Visitor {
 public:
  /// Called once per owned reference; `object` may be null (then ignored).
  virtual void visit(Object* object) = 0;
  template <class T>
  void operator()(const Ref<T>& ref) {
    if (ref) visit(ref.get());
  }
  void operator()(Object* object) {
    if (object != nullptr) visit(object);
  }

 protected:
  ~Visitor() = default;
};

namespace detail {
struct ObjectAccess;
/// Registers a C++ type name and returns its small id (stored in object headers).
std::uint16_t register_type(std::string_view name) noexcept;
/// The name registered for a type id.
std::string_view type_name_of(std::uint16_t id) noexcept;
/// Number of registered types.
std::size_t registered_type_count() noexcept;
/// Frees an object whose count reached zero: finalizer (once), weakrefs, destructor,
/// block. Defers nested container destruction past a depth (the trashcan, I2).
void dealloc(Object* object) noexcept;
}  // namespace detail

/// The base of every managed object. Derive from it, implement `traverse` (and `clear`)
/// if the type holds references, give it a non-public destructor, and create it with
/// ouro::make<T>(...) — creating it any other way does not compile.
///
/// Header layout (16 bytes, plus 16 bytes of GcLinks before containers):
///
///     +--------+----------------------------------------------------------------+
///     | bytes  | field                                                          |
///     +--------+----------------------------------------------------------------+
///     | 0..7   | vtable pointer (the "type": traverse, clear, finalize, ~T)     |
///     | 8..11  | refcount_   uint32, plain (one heap, one thread: I1)           |
///     | 12..15 | flags_      bits 0-4 pool shift (0: large block)               |
///     |        |             bit 5 container, 6 tracked, 7 finalized,          |
///     |        |             8 weakly referenced, 9 collecting, 10 unreachable, |
///     |        |             11 dying, 12 frozen, 13 has finalizer,            |
///     |        |             14 not weakly referenceable, 15 constructing;      |
///     |        |             bits 16-31 type id                                 |
///     +--------+----------------------------------------------------------------+
///
///     class Node : public ouro::Object {
///      public:
///       ouro::Ref<Node> next;
///       void traverse(ouro::Visitor& visit) override { visit(next); }
///       void clear() override { next = nullptr; }
///      protected:
///       ~Node() override = default;
///     };
class Object {
 public:
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;

  /// Visits every reference this object owns, exactly once each (I3). A type that owns
  /// references must override it; overriding it makes the type a *container* that the
  /// collector tracks. Must not allocate, throw or change any reference.
  virtual void traverse(Visitor& visit);
  /// Drops the references this object owns, to break a cycle of garbage. After clear()
  /// the object must still be destructible. Exceptions go to the unraisable hook.
  virtual void clear() {}
  /// Python's __del__: runs at most once (I6), when the object dies by refcount or as
  /// cyclic garbage. It may resurrect the object by storing a reference to it somewhere.
  /// Exceptions go to the unraisable hook.
  virtual void finalize() {}
  /// The type's name as shown by gc and leak reports (the registered name by default).
  virtual std::string_view type_name() const noexcept;
  /// The object's Python repr() text, used when it is printed (ouro::repr of a container
  /// holding it, the {fmt} formatters, operator<<). Default: `<TypeName object at 0x...>`,
  /// as CPython's object.__repr__. Override it to show fields; to print a field that is a
  /// Value, call ouro::repr(field) (value layer). A cycle through overrides ends in
  /// RecursionError, as in Python.
  ///
  ///     std::string py_repr() const override { return fmt::format("Point({}, {})", x, y); }
  virtual std::string py_repr() const;
  /// Heap bytes this object owns outside its own block (e.g. a list's item array), for
  /// getsizeof(). Referenced objects are not included.
  virtual std::size_t owned_bytes() const noexcept { return 0; }

  /// Current reference count (Python's sys.getrefcount minus its own temporary).
  std::uint32_t refcount() const noexcept { return refcount_; }
  /// True for types that override traverse (they carry GcLinks and can be tracked).
  bool is_container() const noexcept { return (flags_ & kContainer) != 0; }
  /// True if the collector currently tracks this object (gc.is_tracked).
  bool is_tracked() const noexcept { return (flags_ & kTracked) != 0; }
  /// True once finalize() has run (gc.is_finalized).
  bool is_finalized() const noexcept { return (flags_ & kFinalized) != 0; }
  /// The registered id of the object's C++ type.
  std::uint16_t type_id() const noexcept { return static_cast<std::uint16_t>(flags_ >> 16); }
  /// The heap this object lives in; valid in the constructor too (make<T> sets it).
  Heap& heap() const noexcept;

  // Flag bits of flags_ (see the layout table above).
  static constexpr std::uint32_t kPoolShiftMask = 0x1f;
  static constexpr std::uint32_t kContainer = 1u << 5;
  static constexpr std::uint32_t kTracked = 1u << 6;
  static constexpr std::uint32_t kFinalized = 1u << 7;
  static constexpr std::uint32_t kWeaklyReferenced = 1u << 8;
  static constexpr std::uint32_t kCollecting = 1u << 9;
  static constexpr std::uint32_t kUnreachable = 1u << 10;
  static constexpr std::uint32_t kDying = 1u << 11;
  static constexpr std::uint32_t kFrozen = 1u << 12;
  static constexpr std::uint32_t kHasFinalizer = 1u << 13;
  static constexpr std::uint32_t kNoWeakrefs = 1u << 14;
  static constexpr std::uint32_t kConstructing = 1u << 15;  // until make<T> fills the header

  /// Managed objects come only from ouro::make<T>; `new T` does not compile.
  static void* operator new(std::size_t) = delete;
  static void* operator new[](std::size_t) = delete;
  static void operator delete[](void*) = delete;

 protected:
  Object() noexcept = default;
  virtual ~Object() = default;
  // A virtual destructor needs an accessible operator delete; protected keeps `delete p` from
  // compiling outside the class hierarchy. It never runs: blocks go back to the heap.
  static void operator delete(void*) noexcept {}

 private:
  template <class T>
  friend class Ref;
  friend struct detail::ObjectAccess;
  friend void detail::dealloc(Object*) noexcept;

  std::uint32_t refcount_ = 1;           // the reference make<T> hands out
  std::uint32_t flags_ = kConstructing;  // set by make<T> after construction; see the table
};

namespace detail {

/// The one door to an Object's private header for ouro's own layers (not for users).
struct ObjectAccess {
  static std::uint32_t& flags(Object& o) noexcept { return o.flags_; }
  static std::uint32_t flags(const Object& o) noexcept { return o.flags_; }
  static std::uint32_t& refcount(Object& o) noexcept { return o.refcount_; }
  static void destroy(Object& o) noexcept { o.~Object(); }
};

/// Links a container at the end of generation 0 and counts it (CPython's _PyObject_GC_TRACK
/// plus the generation-0 count of _PyObject_GC_Link). Starts no collection.
inline void link_into_generation0(CoreState& rt, Object* object) noexcept {
  gc_list_append(reinterpret_cast<GcLinks*>(object) - 1, rt.generations[0].list);
  ObjectAccess::flags(*object) |= Object::kTracked;
  ++rt.generations[0].count;
}

/// CPython's untracking of containers that hold only atoms (tuples and dicts, decided by
/// the value layer): takes a tracked container off its list (_PyObject_GC_UNTRACK), or puts
/// an untracked one at the end of generation 0 (_PyObject_GC_TRACK). Generation 0's count
/// is left alone: it counts allocations, as CPython's does.
inline void untrack_container(Object* object) noexcept {
  GcLinks* links = reinterpret_cast<GcLinks*>(object) - 1;
  gc_list_remove(links);
  links->prev = links->next = nullptr;
  ObjectAccess::flags(*object) &= ~(Object::kTracked | Object::kCollecting | Object::kUnreachable);
}
inline void retrack_container(CoreState& rt, Object* object) noexcept {
  gc_list_append(reinterpret_cast<GcLinks*>(object) - 1, rt.generations[0].list);
  ObjectAccess::flags(*object) |= Object::kTracked;
}
/// Asked by each collection about the survivors of the collected generations of two types,
/// before they move on: true if `object` owns nothing the collector must see, which
/// untracks it. Objects of type `every` are asked in every collection, those of type `full`
/// in collections of the oldest generation only (CPython's untrack_tuples and untrack_dicts;
/// the value layer sets it for tuple and dict). One check per process; none: nothing is
/// untracked. Contract the collector relies on to skip the walk: the check is false for an
/// object that refers (through traverse) to a tracked container whose type is neither
/// `every` nor `full` (CPython's _PyObject_GC_MAY_BE_TRACKED holds for it).
using UntrackCheck = bool (*)(const Object& object) noexcept;
void set_untrack_check(UntrackCheck check, std::uint16_t every, std::uint16_t full) noexcept;

/// True if T overrides Object::traverse (directly or through a base): it owns references
/// and so needs GcLinks and tracking.
template <class T>
inline constexpr bool is_container_v =
    !std::is_same_v<decltype(&T::traverse), void (Object::*)(Visitor&)>;

/// True if T declares `static constexpr bool kStartsUntracked = true;`: a container that
/// make<T> counts as an allocation of generation 0 (which may start a collection) but does
/// not link, as CPython's dicts start (_PyObject_GC_Link without _PyObject_GC_TRACK); the
/// type tracks itself with retrack_container when it first may hold a container. (Linked
/// and untracked again at once, a new dict would be a survivor of the collection its own
/// allocation starts, and a full one would then walk every survivor to untrack it.)
template <class T>
inline constexpr bool starts_untracked_v = [] {
  if constexpr (requires { T::kStartsUntracked; }) {
    return T::kStartsUntracked;
  } else {
    return false;
  }
}();

/// True if T overrides Object::finalize: only such objects pay for the PEP 442 steps.
template <class T>
inline constexpr bool has_finalizer_v = !std::is_same_v<decltype(&T::finalize), void (Object::*)()>;

/// False if T opted out of weak references with
/// `static constexpr bool kWeakReferenceable = false;` (every type may be weakly
/// referenced by default, at no cost until it is).
template <class T>
constexpr bool weak_referenceable() {
  if constexpr (requires { T::kWeakReferenceable; }) {
    return T::kWeakReferenceable;
  } else {
    return true;
  }
}

/// Throws TypeError: `heap` was about to store a reference to `item`, which lives in another
/// heap (I1: the objects of a heap refer only to objects of the same heap).
[[noreturn]] void throw_cross_heap(const Heap& heap, const Object& item);

/// Sends the exception being handled to the heap's unraisable hook (default: stderr).
/// Call only from inside a catch block.
void report_unraisable(Heap& heap, std::string_view where, const Object* object) noexcept;

/// Sets the heap that Object::heap() reports while a constructor run by make<T> executes
/// (the header is filled in only afterwards). Scopes nest, for make<> inside a constructor.
inline OURO_THREAD_LOCAL Heap* t_constructing_heap = nullptr;
class ConstructionScope {
 public:
  explicit ConstructionScope(Heap& heap) noexcept : previous_(t_constructing_heap) {
    t_constructing_heap = &heap;
  }
  ~ConstructionScope() { t_constructing_heap = previous_; }
  ConstructionScope(const ConstructionScope&) = delete;
  ConstructionScope& operator=(const ConstructionScope&) = delete;

 private:
  Heap* previous_;
};

/// The GcLinks in front of a container.
inline GcLinks* links_of(Object* o) noexcept { return reinterpret_cast<GcLinks*>(o) - 1; }
/// The container behind a GcLinks.
inline Object* object_of(GcLinks* links) noexcept { return reinterpret_cast<Object*>(links + 1); }

}  // namespace detail

}  // namespace ouro
