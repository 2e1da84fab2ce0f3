// ouro::Value: one machine word that is a Python value. None, the booleans and small ints
// live inside the word (no heap object); every other value is a strong reference to a
// managed object of the value layer (or to any other ouro::Object).
//
// Invariants kept here (DESIGN.md):
//   I2  a Value that holds an object owns one reference to it: copying adds one, destroying
//       subtracts one, and the object dies the moment the last reference goes.
//   I3  containers visit each Value they hold through Value::visit, exactly once.
//
// Encoding of the word (shown for 64 bits). Objects are at least 8-byte aligned, so a
// pointer ends in 000: on a 32-bit target a container's object follows its 8 bytes of
// collector links and is 8- but not 16-byte aligned. The special values differ from every
// object pointer in their low three bits and from each other in the whole word.
//
//     +--------------------------------------+------+----------------------------------+
//     | bits 63..4                           | 3..0 | meaning                          |
//     +--------------------------------------+------+----------------------------------+
//     | pointer >> 3 (never 0)               | x000 | object (int beyond the immediate |
//     |                                      |      | range, float, str, list, ...)    |
//     | n (bits 63..1, two's complement)     | ...1 | small int n, -2^62 <= n < 2^62   |
//     | 0                                    | 0010 | None                             |
//     | 0                                    | 0100 | False                            |
//     | 0                                    | 0110 | True                             |
//     | 0                                    | 1010 | internal: empty/deleted slot     |
//     +--------------------------------------+------+----------------------------------+
//
// On a 32-bit target the word is 32 bits and small ints are -2^30 <= n < 2^30:
// kSmallIntMin/kSmallIntMax follow the word size.
//
// Canonical ints: an ouro::Int object never holds a value of the immediate range, so each
// int has exactly one form and equal ints of the same form compare by their words.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "ouro/core/object.h"
#include "ouro/core/ref.h"
#include "ouro/errors.h"

namespace ouro {

class Value;
class Int;
class Float;
class Str;
class Bytes;
class ByteArray;
class Tuple;
class List;
class Dict;
class Set;
class FrozenSet;
class Global;
class Instance;
class Reduce;

/// Bits of a Value's word that hold a small int: all but the tag bit (63 on 64-bit targets,
/// 31 on 32-bit ones), two's complement.
inline constexpr int kSmallIntBits = 8 * sizeof(std::uintptr_t) - 1;
/// Smallest and largest int held inside a Value (beyond them an ouro::Int object is made):
/// +-2^62 on 64-bit targets, +-2^30 on 32-bit ones.
inline constexpr std::int64_t kSmallIntMin = -(std::int64_t{1} << (kSmallIntBits - 1));
inline constexpr std::int64_t kSmallIntMax = (std::int64_t{1} << (kSmallIntBits - 1)) - 1;

namespace detail {
/// Makes the Int object for an int64 outside the immediate range (in the current heap).
Object* make_big_int(std::int64_t n);
/// Makes the Int object for a uint64 above kSmallIntMax (in the current heap).
Object* make_big_uint(std::uint64_t n);
/// Makes a Float / Str in the current heap (one reference, owned by the caller).
Object* make_float_object(double x);
Object* make_str_object(std::string_view utf8);
/// Throws TypeError: "expected <wanted>, got <type of v>".
[[noreturn]] void throw_wrong_type(std::string_view wanted, const Value& v);
/// The checked conversions behind Value::as<T>() for scalars.
std::int64_t value_to_int64(const Value& v);
std::uint64_t value_to_uint64(const Value& v);
double value_to_double(const Value& v);
std::string_view value_to_string_view(const Value& v);
[[noreturn]] void throw_int_overflow(std::string_view c_type);
/// Type id of a value-layer type (registered on first use under its kTypeName).
template <class T>
std::uint16_t value_type_id() noexcept {
  return type_id_of<T>();
}
/// The name a TypeError shows for T: its kTypeName, or the demangled C++ name for user types
/// that declare none.
template <class T>
std::string_view type_name_for_errors() noexcept {
  if constexpr (requires { T::kTypeName; }) {
    return T::kTypeName;
  } else {
    return type_name_of(type_id_of<T>());
  }
}
/// The current heap (HeapScope) for the value layer's overloads that take no Heap&.
/// Throws std::logic_error naming `call` when this thread has no current heap.
Heap& current_heap_for(std::string_view call);
}  // namespace detail

/// A Python value in one word: None, bool, int, or a reference to a managed object.
/// Construction from C++ values picks the Python type; objects that need the heap (floats,
/// strs, big ints) are made in the current heap (HeapScope), else std::logic_error.
///
///     ouro::HeapScope scope(heap);
///     ouro::Value n = 42, t = true, s = "text", f = 2.5, none;   // none is None
///     int64_t x = n.as<int64_t>();          // TypeError if not an int
///     ouro::Value l = ouro::list({1, "a"});
///     std::size_t n = l.as<ouro::List>().size();   // a reference into l: keep l alive
///     std::cout << ouro::repr(s);           // 'text'
///
/// Warning: a Value holding an object must not outlive its heap.
class Value {
 public:
  /// None.
  constexpr Value() noexcept = default;
  /// None (so that `Value v = nullptr;` reads as Python's `v = None`).
  constexpr Value(std::nullptr_t) noexcept {}
  /// True or False (only bool itself; ints never convert to bool implicitly).
  template <class T>
  requires std::same_as<T, bool>
  constexpr Value(T b) noexcept : bits_(b ? kTrueBits : kFalseBits) {}
  /// An int; beyond kSmallIntMin..kSmallIntMax it becomes an Int object in the current heap.
  template <std::integral T>
  requires(!std::same_as<T, bool>)
      Value(T n, ouro::SiteLocation loc =
                     ouro::SiteLocation::current()) {  // NOLINT(google-explicit-constructor)
    // Only a big int allocates, so only it records the caller's line (ouro/core/site.h):
    // a small int stays a shift and a tag, traced or not.
    if constexpr (std::is_signed_v<T>) {
      const auto wide = static_cast<std::int64_t>(n);
      if (fits_small(wide)) {
        bits_ = small_bits(wide);
      } else {
        SiteScope site(loc);
        bits_ = to_bits(detail::make_big_int(wide));
      }
    } else {
      const auto wide = static_cast<std::uint64_t>(n);
      if (wide <= static_cast<std::uint64_t>(kSmallIntMax)) {
        bits_ = small_bits(static_cast<std::int64_t>(wide));
      } else {
        SiteScope site(loc);
        bits_ = to_bits(detail::make_big_uint(wide));
      }
    }
  }
  /// A float object in the current heap.
  Value(double x, ouro::SiteLocation loc = ouro::SiteLocation::current()) {
    SiteScope site(loc);
    bits_ = to_bits(detail::make_float_object(x));
  }
  /// A str object in the current heap. Throws UnicodeDecodeError for text that is not
  /// UTF-8 (lone surrogates encoded as 3 bytes are accepted, Python's surrogatepass).
  Value(const char* utf8, ouro::SiteLocation loc = ouro::SiteLocation::current())
      : Value(std::string_view(utf8), loc) {}
  Value(std::string_view utf8, ouro::SiteLocation loc = ouro::SiteLocation::current()) {
    SiteScope site(loc);
    bits_ = to_bits(detail::make_str_object(utf8));
  }
  Value(const std::string& utf8, ouro::SiteLocation loc = ouro::SiteLocation::current())
      : Value(std::string_view(utf8), loc) {}
  /// Any managed object (a reference is added; a moved Ref's reference is taken over).
  /// An empty Ref is None.
  template <class T>
  requires std::derived_from<T, Object> Value(const Ref<T>& ref)
  noexcept : bits_(ref ? to_bits(ref.get()) : kNoneBits) { incref(); }
  template <class T>
  requires std::derived_from<T, Object> Value(Ref<T>&& ref)
  noexcept : bits_(ref ? to_bits(ref.release()) : kNoneBits) {}

  Value(const Value& other) noexcept : bits_(other.bits_) { incref(); }
  Value(Value&& other) noexcept : bits_(std::exchange(other.bits_, kNoneBits)) {}
  ~Value() { decref(); }
  // As Ref: the new word is stored before the old object is released (its destructor may
  // reach this Value again).
  Value& operator=(const Value& other) noexcept {
    const std::uintptr_t old = bits_;
    bits_ = other.bits_;
    incref();
    release_bits(old);
    return *this;
  }
  Value& operator=(Value&& other) noexcept {
    const std::uintptr_t old = std::exchange(bits_, std::exchange(other.bits_, kNoneBits));
    if (old != bits_) release_bits(old);
    return *this;
  }

  /// A Value for an object the caller sees but does not own (count + 1); nullptr: None.
  static Value borrow(Object* object) noexcept {
    Value v;
    if (object != nullptr) {
      v.bits_ = to_bits(object);
      v.incref();
    }
    return v;
  }

  bool is_none() const noexcept { return bits_ == kNoneBits; }
  bool is_bool() const noexcept { return bits_ == kTrueBits || bits_ == kFalseBits; }
  /// True for an int held in the word (not for an Int object, nor for bool).
  bool is_small_int() const noexcept { return (bits_ & 1) != 0; }
  /// True for any Python int (immediate or Int object); false for bool, as type(v) is int.
  bool is_int() const noexcept;
  /// True if the value is held in an object (not None, bool or a small int).
  bool is_object() const noexcept { return (bits_ & kTagMask) == 0; }
  /// True if the value holds a T (a value-layer type or any other managed type).
  template <class T>
  requires std::derived_from<T, Object>
  bool is() const noexcept {
    if (!is_object()) return false;
    if constexpr (std::is_final_v<T>) {
      return object()->type_id() == detail::value_type_id<T>();
    } else {
      return dynamic_cast<T*>(object()) != nullptr;
    }
  }
  /// The object, or nullptr for None, bool and small ints.
  Object* object() const noexcept {
    return is_object() ? reinterpret_cast<Object*>(bits_) : nullptr;
  }
  /// The held T, or nullptr when the value is something else.
  template <class T>
  requires std::derived_from<T, Object> T* get_if() const noexcept {
    return is<T>() ? static_cast<T*>(object()) : nullptr;
  }
  /// The value as a C++ type, checked: TypeError when the Python type does not fit,
  /// OverflowError when an int does not fit the integer type. T may be bool, an integer
  /// type (from int or bool), double (from float, int or bool), std::string_view or
  /// std::string (from str; the view lives as long as the str), or a managed type (a
  /// reference to the object, e.g. `v.as<List>()`).
  template <class T>
  decltype(auto) as() const {
    if constexpr (std::same_as<T, bool>) {
      if (!is_bool()) detail::throw_wrong_type("bool", *this);
      return bits_ == kTrueBits;
    } else if constexpr (std::integral<T>) {
      if constexpr (std::is_signed_v<T>) {
        const std::int64_t n = is_small_int() ? small_value() : detail::value_to_int64(*this);
        if (n < std::numeric_limits<T>::min() || n > std::numeric_limits<T>::max()) {
          detail::throw_int_overflow("signed integer");
        }
        return static_cast<T>(n);
      } else {
        const std::uint64_t n = detail::value_to_uint64(*this);
        if (n > std::numeric_limits<T>::max()) detail::throw_int_overflow("unsigned integer");
        return static_cast<T>(n);
      }
    } else if constexpr (std::floating_point<T>) {
      return static_cast<T>(detail::value_to_double(*this));
    } else if constexpr (std::same_as<T, std::string_view>) {
      return detail::value_to_string_view(*this);
    } else if constexpr (std::same_as<T, std::string>) {
      return std::string(detail::value_to_string_view(*this));
    } else {
      static_assert(std::derived_from<T, Object>,
                    "Value::as<T>: T must be bool, an integer or floating type, "
                    "std::string_view, std::string, or a managed type such as ouro::List");
      T* p = get_if<T>();
      if (p == nullptr) detail::throw_wrong_type(detail::type_name_for_errors<T>(), *this);
      return static_cast<T&>(*p);
    }
  }
  /// The held T as a Ref (TypeError if the value is no T).
  template <class T>
  requires std::derived_from<T, Object> Ref<T> ref()
  const { return Ref<T>::borrow(&as<T>()); }

  /// The value of a small int. Precondition: is_small_int().
  std::int64_t small_value() const noexcept {
    // Sign-extend from the word's width (32 bits on 32-bit targets), then drop the tag.
    return static_cast<std::int64_t>(static_cast<std::intptr_t>(bits_) >> 1);
  }
  /// Python's type(v).__name__: "NoneType", "bool", "int", "str", "list", ...
  std::string_view type_name() const noexcept;
  /// The word itself: equal words are the same Python object (`a is b`).
  std::uintptr_t bits() const noexcept { return bits_; }
  /// Python's `a is b`.
  bool is_same(const Value& other) const noexcept { return bits_ == other.bits_; }
  /// Reports the held object (if any) to a collector visitor: a container's traverse()
  /// calls this once for each Value it owns (I3).
  void visit(Visitor& visitor) const {
    if (is_object()) visitor(object());
  }

  /// Python's `==` (ouro::equals); may throw RecursionError for very deep nesting.
  friend bool operator==(const Value& a, const Value& b);

 private:
  friend struct ValueAccess;
  static constexpr std::uintptr_t kTagMask = 0x7;  // objects are 8-byte aligned at least
  static constexpr std::uintptr_t kNoneBits = 0x2;
  static constexpr std::uintptr_t kFalseBits = 0x4;
  static constexpr std::uintptr_t kTrueBits = 0x6;
  static constexpr std::uintptr_t kEmptyBits = 0xA;  // low bits 010: never an object

  static constexpr bool fits_small(std::int64_t n) noexcept {
    return n >= kSmallIntMin && n <= kSmallIntMax;
  }
  static constexpr std::uintptr_t small_bits(std::int64_t n) noexcept {
    return (static_cast<std::uintptr_t>(n) << 1) | 1;
  }
  static std::uintptr_t to_bits(const Object* o) noexcept {
    return reinterpret_cast<std::uintptr_t>(o);
  }
  void incref() const noexcept {
    if (is_object()) ++detail::ObjectAccess::refcount(*object());
  }
  static void release_bits(std::uintptr_t bits) noexcept {
    if ((bits & kTagMask) == 0) {
      Object* o = reinterpret_cast<Object*>(bits);
      if (--detail::ObjectAccess::refcount(*o) == 0) detail::dealloc(o);
    }
  }
  void decref() noexcept { release_bits(bits_); }

  std::uintptr_t bits_ = kNoneBits;
};

static_assert(sizeof(Value) == sizeof(void*), "a Value is one word");

/// Internal access to a Value's word for the value layer's tables (not for users).
struct ValueAccess {
  /// The marker of an empty or deleted table slot (never a Python value).
  static Value empty() noexcept {
    Value v;
    v.bits_ = Value::kEmptyBits;
    return v;
  }
  static bool is_empty(const Value& v) noexcept { return v.bits_ == Value::kEmptyBits; }
  /// Takes over a reference the caller owns.
  static Value adopt(Object* o) noexcept {
    Value v;
    v.bits_ = Value::to_bits(o);
    return v;
  }
  /// Gives up the reference without releasing it (the word becomes None).
  static std::uintptr_t release(Value& v) noexcept {
    return std::exchange(v.bits_, Value::kNoneBits);
  }
};

}  // namespace ouro
