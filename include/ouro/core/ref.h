// ouro::Ref<T>, the intrusive strong reference, and ouro::make<T>, the only way to create a
// managed object.
//
// Invariants kept here (DESIGN.md):
//   I1  counts are plain integers: a heap and its objects are used by one thread at a time.
//   I2  the last Ref to go calls detail::dealloc at once (deterministic freeing).
#pragma once

#include <compare>
#include <cstddef>
#include <cstring>
#include <functional>
#include <new>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "ouro/config.h"
#include "ouro/core/heap.h"
#include "ouro/core/object.h"
#include "ouro/core/site.h"
#include "ouro/errors.h"

namespace ouro {

/// A strong reference to a managed object: copying adds one to the count, destruction
/// subtracts one, and the object is freed when the count reaches zero.
///
///     ouro::Ref<Node> a = ouro::make<Node>();
///     ouro::Ref<Node> b = a;            // count 2
///     ouro::Ref<ouro::Object> o = a;    // upcast, count 3
///     auto n = ouro::ref_cast<Node>(o); // checked downcast: empty if o is no Node
///
/// Warning: a Ref must not outlive its heap.
template <class T>
class Ref {
 public:
  using element_type = T;

  constexpr Ref() noexcept = default;
  constexpr Ref(std::nullptr_t) noexcept {}
  Ref(const Ref& other) noexcept : ptr_(other.ptr_) { incref(ptr_); }
  Ref(Ref&& other) noexcept : ptr_(std::exchange(other.ptr_, nullptr)) {}
  template <class U>
  requires std::is_convertible_v<U*, T*> Ref(const Ref<U>& other)
  noexcept : ptr_(other.get()) { incref(ptr_); }
  template <class U>
  requires std::is_convertible_v<U*, T*> Ref(Ref<U>&& other)
  noexcept : ptr_(other.release()) {}
  ~Ref() { decref(ptr_); }

  // The new pointer is stored before the old one is released: the old object's destructor
  // may reach this Ref again (self-assignment and cycles through the assigned field).
  Ref& operator=(const Ref& other) noexcept {
    T* old = ptr_;
    ptr_ = other.ptr_;
    incref(ptr_);
    decref(old);
    return *this;
  }
  // Both sides may hold the same object (two references, so two counts): the old one is
  // released all the same. Only self-move is a no-op.
  Ref& operator=(Ref&& other) noexcept {
    if (this == &other) return *this;
    T* old = ptr_;
    ptr_ = std::exchange(other.ptr_, nullptr);
    decref(old);
    return *this;
  }
  Ref& operator=(std::nullptr_t) noexcept {
    reset();
    return *this;
  }
  void reset() noexcept { decref(std::exchange(ptr_, nullptr)); }

  T* get() const noexcept { return ptr_; }
  T& operator*() const noexcept { return *ptr_; }
  T* operator->() const noexcept { return ptr_; }
  explicit operator bool() const noexcept { return ptr_ != nullptr; }

  /// Gives up ownership without changing the count; the caller now owns one reference.
  [[nodiscard]] T* release() noexcept { return std::exchange(ptr_, nullptr); }
  /// Takes over a reference the caller owns (no count change).
  [[nodiscard]] static Ref adopt(T* object) noexcept {
    Ref r;
    r.ptr_ = object;
    return r;
  }
  /// A new reference to an object the caller can see but does not own (count + 1).
  [[nodiscard]] static Ref borrow(T* object) noexcept {
    incref(object);
    return adopt(object);
  }

  template <class U>
  friend bool operator==(const Ref& a, const Ref<U>& b) noexcept {
    return a.get() == b.get();
  }
  friend bool operator==(const Ref& a, std::nullptr_t) noexcept { return a.ptr_ == nullptr; }
  template <class U>
  friend std::strong_ordering operator<=>(const Ref& a, const Ref<U>& b) noexcept {
    return std::compare_three_way{}(static_cast<const void*>(a.get()),
                                    static_cast<const void*>(b.get()));
  }

 private:
  static void incref(T* object) noexcept {
    if (object != nullptr) ++static_cast<Object*>(object)->refcount_;
  }
  static void decref(T* object) noexcept {
    if (object != nullptr && --static_cast<Object*>(object)->refcount_ == 0) {
      detail::dealloc(object);
    }
  }

  T* ptr_ = nullptr;
};

/// Checked downcast: the same object as a Ref<To>, or an empty Ref if it is not a To.
template <class To, class From>
Ref<To> ref_cast(const Ref<From>& from) noexcept {
  return Ref<To>::borrow(dynamic_cast<To*>(from.get()));
}

/// Checked downcast that throws ouro::TypeError naming both types when `from` is no To.
template <class To, class From>
Ref<To> checked_cast(const Ref<From>& from) {
  To* to = dynamic_cast<To*>(from.get());
  if (to == nullptr && from) {
    throw TypeError(std::string("expected ") + typeid(To).name() + ", got " +
                    std::string(from->type_name()));
  }
  return Ref<To>::borrow(to);
}

/// The reference count of `ref`'s object. Unlike Python's sys.getrefcount, no temporary
/// reference is added for the call: a fresh object held by one Ref reports 1.
template <class T>
std::uint32_t getrefcount(const Ref<T>& ref) noexcept {
  return ref ? ref->refcount() : 0;
}

/// Bytes the object takes in its heap: its block (with the collector's links for a
/// container) plus what it owns exclusively (Object::owned_bytes), like sys.getsizeof.
std::size_t getsizeof(const Object& object) noexcept;
template <class T>
std::size_t getsizeof(const Ref<T>& ref) noexcept {
  return ref ? getsizeof(*ref) : 0;
}

namespace detail {

std::uint16_t register_type_mangled(const char* mangled_name) noexcept;

template <class T>
[[gnu::noinline, gnu::cold]] std::uint16_t register_type_of() noexcept {
  if constexpr (requires { T::kTypeName; }) {
    return register_type(T::kTypeName);
  } else {
    return register_type_mangled(typeid(T).name());
  }
}

/// The registered id of T (registered on first use, process-wide). A type may choose its
/// displayed name with `static constexpr std::string_view kTypeName = "Name";`. The
/// registration is out of line, so that what every `is<Str>()` and make<T> inlines is the
/// guard's test and a load.
template <class T>
inline std::uint16_t type_id_of() noexcept {
  static const std::uint16_t id = register_type_of<T>();
  return id;
}

/// Called when a new container is tracked and generation 0's count passes its threshold
/// (or stress mode is on): runs the automatic collection of src/gc if it is due.
void collect_on_allocation(Heap& heap) noexcept;

/// A new container: put at the end of generation 0 (CPython's _PyObject_GC_Link + track),
/// or, for a type that starts untracked (starts_untracked_v), left off the lists as
/// untrack_container leaves an object. Either way it counts as generation 0's allocation,
/// which may start the automatic collection.
inline void adopt_new_container(Heap& heap, Object* object, bool starts_untracked) noexcept {
  CoreState& rt = detail::core_state(heap);
  if (starts_untracked) {
    GcLinks* links = links_of(object);
    links->prev = links->next = nullptr;
    ++rt.generations[0].count;
  } else {
    link_into_generation0(rt, object);
  }
  if (OURO_UNLIKELY(rt.generations[0].count > rt.generations[0].threshold || rt.stress)) {
    collect_on_allocation(heap);
  }
}

/// Fills in the header of a just-constructed object and tracks it if it is a container
/// (or only counts it, for a container that starts untracked).
inline void adopt_new_object(Heap& heap, Object* object, std::size_t bytes,
                             std::uint32_t kind_flags, std::uint16_t type_id,
                             bool starts_untracked = false) noexcept {
  ObjectAccess::flags(*object) =
      (std::uint32_t{type_id} << 16) | kind_flags | heap.allocator().block_tag(bytes);
  CoreState& rt = detail::core_state(heap);
  ++rt.live_objects;
  ++rt.live_by_type[type_id < kTypeCountSlots ? type_id : kTypeCountSlots - 1];
  if (kind_flags & Object::kContainer) adopt_new_container(heap, object, starts_untracked);
}

/// The allocator that owns a constructed object's block (nullptr once its heap is gone),
/// read from the block's pool or large-block header: one mask and one load.
inline Allocator* owner_allocator(const Object& object) noexcept {
  const std::uint32_t flags = ObjectAccess::flags(object);
  auto* self = const_cast<Object*>(&object);
  const void* block = (flags & Object::kContainer) ? static_cast<void*>(links_of(self)) : self;
  return Allocator::owner_of(block, flags & Object::kPoolShiftMask);
}

/// Object::heap() inline, for the value layer's hot paths (every container operation asks
/// which heap it is in): the out-of-line call answers the rare cases (an object inside its
/// make<T>, an orphan, which it reports).
inline Heap& heap_of(const Object& object) noexcept {
  if (OURO_UNLIKELY(ObjectAccess::flags(object) & Object::kConstructing)) return object.heap();
  Allocator* allocator = owner_allocator(object);
  if (OURO_UNLIKELY(allocator == nullptr)) return object.heap();
  return Heap::of(*allocator);
}

/// Keeps I1 where a container stores a reference: `item` must live in `heap`. One mask and
/// one load (the owner in the item's pool header); immediates never reach it.
inline void check_same_heap(const Heap& heap, const Object& item) {
  if (OURO_UNLIKELY(ObjectAccess::flags(item) & Object::kConstructing)) return;  // no header yet
  if (OURO_UNLIKELY(owner_allocator(item) != &heap.allocator())) throw_cross_heap(heap, item);
}

/// The same check where the container is at hand but its heap is not needed otherwise
/// (list.append): the two blocks' owners are compared without finding the Heap.
inline void check_same_heap(const Object& container, const Object& item) {
  const std::uint32_t both = ObjectAccess::flags(item) | ObjectAccess::flags(container);
  if (OURO_UNLIKELY(both & Object::kConstructing)) {  // a header not filled in yet
    if (!(ObjectAccess::flags(item) & Object::kConstructing))
      check_same_heap(container.heap(), item);
    return;
  }
  if (OURO_UNLIKELY(owner_allocator(item) != owner_allocator(container))) {
    throw_cross_heap(container.heap(), item);
  }
}

template <class T>
constexpr void check_managed_type() {
  static_assert(std::is_base_of_v<Object, T>, "ouro::make<T>: T must derive from ouro::Object");
  static_assert(!std::is_destructible_v<T>,
                "ouro::make<T>: declare T's destructor protected or private "
                "(`protected: ~T() override = default;`): managed objects die when their "
                "refcount reaches zero, never on the stack, in a container or by delete");
  static_assert(alignof(T) <= kAlignment, "ouro::make<T>: T needs more than 16-byte alignment");
}

}  // namespace detail

/// Creates a T in this heap with `trailing` extra bytes right after the object (for types
/// with inline variable-length data such as strings). Throws MemoryError.
template <class T, class... Args>
Ref<T> make_in(Heap& heap, std::size_t trailing, Args&&... args) {
  detail::check_managed_type<T>();
  heap.check_thread();
  constexpr bool container = detail::is_container_v<T>;
  constexpr std::size_t header = container ? sizeof(detail::GcLinks) : 0;
  const std::size_t bytes = header + sizeof(T) + trailing;
  void* block = heap.allocator().allocate(bytes);  // the thread was checked just above
  if constexpr (container) {
    // The rounding slack of a container's block is zeroed, so that the bytes after the
    // object hold no stale pointer that gc::find_unvisited_references could mistake for a
    // reference (less than 16 bytes: blocks are multiples of 16).
    const std::size_t slack = ((bytes + kAlignment - 1) & ~(kAlignment - 1)) - bytes;
    if (slack != 0) std::memset(static_cast<char*>(block) + bytes, 0, slack);
  }
  T* object;
  // While T's constructor runs, Object::heap() answers from here (the header is not
  // filled in yet); nested make<> calls inside the constructor save and restore it.
  detail::ConstructionScope constructing(heap);
  try {
    object = ::new (static_cast<char*>(block) + header) T(std::forward<Args>(args)...);
  } catch (...) {
    heap.deallocate(block, bytes);
    throw;
  }
  constexpr std::uint32_t kind = (container ? Object::kContainer : 0u) |
                                 (detail::has_finalizer_v<T> ? Object::kHasFinalizer : 0u) |
                                 (detail::weak_referenceable<T>() ? 0u : Object::kNoWeakrefs);
  detail::adopt_new_object(heap, object, bytes, kind, detail::type_id_of<T>(),
                           detail::starts_untracked_v<T>);
  return Ref<T>::adopt(object);
}

template <class T, class... Args>
Ref<T> Heap::make(Args&&... args) {
  return make_in<T>(*this, 0, std::forward<Args>(args)...);
}

/// Creates a T in the current heap (see HeapScope). Throws MemoryError, and
/// std::logic_error when no heap is current on this thread.
///
///     ouro::HeapScope scope(heap);
///     ouro::Ref<Node> node = ouro::make<Node>(1, "one");
///
/// make<T> records the caller's line for the tracer (ouro/core/site.h). A defaulted
/// ouro::SiteLocation cannot follow a parameter pack, so make<T> is a family of fixed-arity
/// overloads, each ending with that default, up to kMakeLocatedArity arguments; calls with
/// more arguments still work but are charged to the enclosing entry point (or none).
template <class T>
Ref<T> make(ouro::SiteLocation loc = ouro::SiteLocation::current());
template <class T, class A1>
Ref<T> make(A1&& a1, ouro::SiteLocation loc = ouro::SiteLocation::current());
template <class T, class A1, class A2>
Ref<T> make(A1&& a1, A2&& a2, ouro::SiteLocation loc = ouro::SiteLocation::current());
template <class T, class A1, class A2, class A3>
Ref<T> make(A1&& a1, A2&& a2, A3&& a3, ouro::SiteLocation loc = ouro::SiteLocation::current());
template <class T, class A1, class A2, class A3, class A4>
Ref<T> make(A1&& a1, A2&& a2, A3&& a3, A4&& a4,
            ouro::SiteLocation loc = ouro::SiteLocation::current());
template <class T, class A1, class A2, class A3, class A4, class A5>
Ref<T> make(A1&& a1, A2&& a2, A3&& a3, A4&& a4, A5&& a5,
            ouro::SiteLocation loc = ouro::SiteLocation::current());
template <class T, class A1, class A2, class A3, class A4, class A5, class A6>
Ref<T> make(A1&& a1, A2&& a2, A3&& a3, A4&& a4, A5&& a5, A6&& a6,
            ouro::SiteLocation loc = ouro::SiteLocation::current());

/// Most arguments make<T> takes while still recording the caller's line.
inline constexpr std::size_t kMakeLocatedArity = 6;

namespace detail {
/// make<T>'s one body: the current heap, the caller's line pushed for the tracer, make_in.
/// The traced path, out of line so that the untraced one stays make_in<T> alone.
template <class T, class... Args>
[[gnu::noinline]] Ref<T> make_observed(const ouro::SiteLocation& loc, Heap& heap, Args&&... args) {
  SiteScope site(loc, SiteScope::Always{});
  return make_in<T>(heap, 0, std::forward<Args>(args)...);
}

// make<T> and make_at are always inlined: otherwise GCC keeps one of them out of line, a
// call more than the untraced make<T> needs (callgrind: 26 instructions per make<T>).
template <class T, class... Args>
[[gnu::always_inline]] inline Ref<T> make_at([[maybe_unused]] const ouro::SiteLocation& loc,
                                             Args&&... args) {
  Heap* heap = Heap::current();
  if (OURO_UNLIKELY(heap == nullptr)) throw_no_current_heap("ouro::make<T>()");
#if !OURO_BARE_METAL
  // The caller's line matters only to an observer (the tracer). This is the test the
  // allocator's inline fast path makes anyway, so with tracing off the compiler folds the
  // two and recording lines costs make<T> nothing.
  if (OURO_UNLIKELY(heap->allocator().observer() != nullptr)) {
    return make_observed<T>(loc, *heap, std::forward<Args>(args)...);
  }
#endif
  return make_in<T>(*heap, 0, std::forward<Args>(args)...);
}
}  // namespace detail

template <class T>
[[gnu::always_inline]] inline Ref<T> make(ouro::SiteLocation loc) {
  return detail::make_at<T>(loc);
}
template <class T, class A1>
[[gnu::always_inline]] inline Ref<T> make(A1&& a1, ouro::SiteLocation loc) {
  return detail::make_at<T>(loc, std::forward<A1>(a1));
}
template <class T, class A1, class A2>
[[gnu::always_inline]] inline Ref<T> make(A1&& a1, A2&& a2, ouro::SiteLocation loc) {
  return detail::make_at<T>(loc, std::forward<A1>(a1), std::forward<A2>(a2));
}
template <class T, class A1, class A2, class A3>
[[gnu::always_inline]] inline Ref<T> make(A1&& a1, A2&& a2, A3&& a3, ouro::SiteLocation loc) {
  return detail::make_at<T>(loc, std::forward<A1>(a1), std::forward<A2>(a2), std::forward<A3>(a3));
}
template <class T, class A1, class A2, class A3, class A4>
[[gnu::always_inline]] inline Ref<T> make(A1&& a1, A2&& a2, A3&& a3, A4&& a4,
                                          ouro::SiteLocation loc) {
  return detail::make_at<T>(loc, std::forward<A1>(a1), std::forward<A2>(a2), std::forward<A3>(a3),
                            std::forward<A4>(a4));
}
template <class T, class A1, class A2, class A3, class A4, class A5>
[[gnu::always_inline]] inline Ref<T> make(A1&& a1, A2&& a2, A3&& a3, A4&& a4, A5&& a5,
                                          ouro::SiteLocation loc) {
  return detail::make_at<T>(loc, std::forward<A1>(a1), std::forward<A2>(a2), std::forward<A3>(a3),
                            std::forward<A4>(a4), std::forward<A5>(a5));
}
template <class T, class A1, class A2, class A3, class A4, class A5, class A6>
[[gnu::always_inline]] inline Ref<T> make(A1&& a1, A2&& a2, A3&& a3, A4&& a4, A5&& a5, A6&& a6,
                                          ouro::SiteLocation loc) {
  return detail::make_at<T>(loc, std::forward<A1>(a1), std::forward<A2>(a2), std::forward<A3>(a3),
                            std::forward<A4>(a4), std::forward<A5>(a5), std::forward<A6>(a6));
}
/// More than kMakeLocatedArity arguments: no caller line (see above).
template <class T, class... Args>
requires(sizeof...(Args) > kMakeLocatedArity) Ref<T> make(Args&&... args) {
  Heap* heap = Heap::current();
  if (OURO_UNLIKELY(heap == nullptr)) detail::throw_no_current_heap("ouro::make<T>()");
  return make_in<T>(*heap, 0, std::forward<Args>(args)...);
}

}  // namespace ouro

template <class T>
struct std::hash<ouro::Ref<T>> {
  std::size_t operator()(const ouro::Ref<T>& ref) const noexcept {
    return std::hash<const void*>{}(ref.get());
  }
};
