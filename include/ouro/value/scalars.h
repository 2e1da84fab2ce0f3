// The value layer's leaf types: int (beyond the immediate range), float, str, bytes and
// bytearray. None of them owns a reference, so none is a container: they are never tracked
// by the collector and never start a destruction chain. Immutable ones keep their data
// inline, right after the object (one block each, via make_in).
//
// Invariants kept here (DESIGN.md): I7 — every byte (inline data, bytearray's buffer) is a
// heap block counted against the limit and reported by getsizeof (owned_bytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ouro/value/core.h"

namespace ouro {

/// A Python int outside the immediate range of a Value (|n| >= 2^62): sign and magnitude
/// in 64-bit limbs, least significant first, stored inline. Never holds a small value, so
/// every int has one canonical form. Build ints with the static functions, which return
/// a Value (immediate when the result is small).
///
///     ouro::Value big = ouro::Int::from_decimal("123456789012345678901234567890");
///     std::vector<std::byte> le = ouro::Int::to_bytes(big);   // pickle LONG1 payload
///     assert(ouro::Int::from_bytes(le) == big);
class Int final : public Object {
 public:
  static constexpr std::string_view kTypeName = "int";
  using Limb = std::uint64_t;

  /// The int with magnitude `limbs` (least significant first; high zero limbs allowed) and
  /// sign; an immediate Value when small. Throws MemoryError.
  static Value from_limbs(Heap& heap, std::span<const Limb> limbs, bool negative);
  /// int.from_bytes(bytes, 'little', signed=True): pickle's LONG1/LONG4 payload.
  static Value from_bytes(Heap& heap, std::span<const std::byte> bytes);
  static Value from_bytes(std::span<const std::byte> bytes);
  /// int(text) in base 10 (whitespace, sign, underscores as Python allows). Throws
  /// ValueError "invalid literal for int() with base 10: ..." or CPython 3.11's 4300-digit
  /// limit message.
  static Value from_decimal(Heap& heap, std::string_view text);
  static Value from_decimal(std::string_view text);
  /// int(x) for a finite double (truncates). Throws OverflowError for infinities and
  /// ValueError for NaN, with Python's messages.
  static Value from_double(Heap& heap, double x);

  /// pickle.encode_long(v): shortest little-endian two's complement, empty for 0.
  /// Precondition: v is an int or bool (else TypeError).
  static std::vector<std::byte> to_bytes(const Value& v);
  /// Size of to_bytes(v), and writing it into caller storage of exactly that size.
  static std::size_t bytes_size(const Value& v);
  static void write_bytes(const Value& v, std::span<std::byte> out);
  /// str(v) for an int or bool-as-int. Throws ValueError beyond 4300 digits (CPython 3.11).
  static std::string to_decimal(const Value& v);

  std::span<const Limb> limbs() const noexcept { return {data(), size_}; }  ///< magnitude
  bool negative() const noexcept { return negative_; }
  std::string py_repr() const override;  ///< Python's repr(), as ouro::repr gives it

  Int(std::size_t size, bool negative) noexcept
      : size_(static_cast<std::uint32_t>(size)), negative_(negative) {}

 private:
  friend class IntBuilder;
  Limb* data() noexcept { return reinterpret_cast<Limb*>(this + 1); }
  const Limb* data() const noexcept { return reinterpret_cast<const Limb*>(this + 1); }
  ~Int() override = default;

  std::uint32_t size_;  // limbs stored inline after the object (>= 1)
  bool negative_;       // sign; the magnitude is never in the immediate range
};

/// A Python float (an IEEE double). NaN floats are distinct objects: as dict keys they
/// match only themselves, as in CPython.
///
///     ouro::Ref<ouro::Float> f = ouro::Float::make(heap, 0.5);
class Float final : public Object {
 public:
  static constexpr std::string_view kTypeName = "float";
  [[nodiscard]] static Ref<Float> make(Heap& heap, double x) { return make_in<Float>(heap, 0, x); }
  [[nodiscard]] static Ref<Float> make(double x) {
    return make(detail::current_heap_for("ouro::Float::make"), x);
  }
  explicit Float(double x) noexcept : value_(x) {}
  double value() const noexcept { return value_; }
  std::string py_repr() const override;  ///< Python's repr(), as ouro::repr gives it

 private:
  ~Float() override = default;
  double value_;
};

/// A Python str: UTF-8 bytes stored inline (lone surrogates allowed as 3-byte sequences,
/// so that every Python str, including pickle's surrogatepass output, is representable),
/// with the code-point length and the hash cached. Immutable.
///
///     ouro::Ref<ouro::Str> s = ouro::Str::make(heap, "h\xc3\xa9llo");
///     s->size() == 5;  s->utf8().size() == 6;
///
/// The hash is CPython's under PYTHONHASHSEED=0 (SipHash-1-3 over the PEP 393 code units),
/// so that sets of strs iterate in that CPython's order.
class Str final : public Object {
 public:
  static constexpr std::string_view kTypeName = "str";
  /// Throws UnicodeDecodeError for invalid UTF-8, OverflowError beyond 4 GiB, MemoryError.
  [[nodiscard]] static Ref<Str> make(Heap& heap, std::string_view utf8);
  [[nodiscard]] static Ref<Str> make(std::string_view utf8) {
    return make(detail::current_heap_for("ouro::Str::make"), utf8);
  }
  /// From a string already known to be valid (scan done by the caller): no validation.
  [[nodiscard]] static Ref<Str> make_valid(Heap& heap, std::string_view utf8,
                                           std::size_t code_points);
  /// A str of `bytes` UTF-8 bytes that `fill(char* out)` writes in place (the value layer's
  /// operations build results this way, without a staging copy). `fill` must write exactly
  /// `bytes` bytes of valid text with `code_points` code points, and must not throw.
  template <class Fill>
  [[nodiscard]] static Ref<Str> make_filled(Heap& heap, std::size_t bytes, std::size_t code_points,
                                            Fill&& fill) {
    check_size(bytes);
    Ref<Str> s = make_in<Str>(heap, bytes, bytes, code_points);
    fill(s->chars());
    return s;
  }

  std::string_view utf8() const noexcept { return {chars(), byte_size_}; }  ///< the bytes
  std::size_t size() const noexcept { return length_; }                     ///< len(s): code points
  bool is_ascii() const noexcept { return length_ == byte_size_; }
  std::int64_t hash() const noexcept;    ///< cached after the first call
  std::string py_repr() const override;  ///< Python's repr(), as ouro::repr gives it

  /// Throws OverflowError for more than 4 GiB of text (the size is 32 bits).
  static void check_size(std::size_t bytes);

  Str(std::size_t bytes, std::size_t code_points) noexcept
      : byte_size_(static_cast<std::uint32_t>(bytes)),
        length_(static_cast<std::uint32_t>(code_points)) {}

 private:
  char* chars() noexcept { return reinterpret_cast<char*>(this + 1); }
  const char* chars() const noexcept { return reinterpret_cast<const char*>(this + 1); }
  ~Str() override = default;

  std::uint32_t byte_size_;         // UTF-8 bytes inline after the object
  std::uint32_t length_;            // code points
  mutable std::int64_t hash_ = -1;  // -1: not computed yet (never a valid hash)
};

/// A Python bytes: immutable bytes stored inline, hash cached.
///
///     auto b = ouro::Bytes::make(heap, ouro::as_bytes("abc"));
class Bytes final : public Object {
 public:
  static constexpr std::string_view kTypeName = "bytes";
  [[nodiscard]] static Ref<Bytes> make(Heap& heap, std::span<const std::byte> data);
  [[nodiscard]] static Ref<Bytes> make(std::span<const std::byte> data) {
    return make(detail::current_heap_for("ouro::Bytes::make"), data);
  }
  /// A bytes of `size` bytes that `fill(std::byte* out)` writes in place; it must write
  /// all of them and must not throw.
  template <class Fill>
  [[nodiscard]] static Ref<Bytes> make_filled(Heap& heap, std::size_t size, Fill&& fill) {
    Ref<Bytes> b = make_in<Bytes>(heap, size, size);
    fill(reinterpret_cast<std::byte*>(b.get() + 1));
    return b;
  }
  std::span<const std::byte> data() const noexcept {
    return {reinterpret_cast<const std::byte*>(this + 1), size_};
  }
  std::size_t size() const noexcept { return size_; }
  std::int64_t hash() const noexcept;
  std::string py_repr() const override;  ///< Python's repr(), as ouro::repr gives it

  explicit Bytes(std::size_t size) noexcept : size_(size) {}

 private:
  ~Bytes() override = default;
  std::size_t size_;                // bytes inline after the object
  mutable std::int64_t hash_ = -1;  // -1: not computed yet
};

/// A Python bytearray: mutable bytes in a separately allocated heap buffer (owned_bytes).
/// Unhashable.
///
///     auto a = ouro::ByteArray::make(heap, {});  a->append(std::byte{1});
class ByteArray final : public Object {
 public:
  static constexpr std::string_view kTypeName = "bytearray";
  [[nodiscard]] static Ref<ByteArray> make(Heap& heap, std::span<const std::byte> data = {});
  [[nodiscard]] static Ref<ByteArray> make(std::span<const std::byte> data = {}) {
    return make(detail::current_heap_for("ouro::ByteArray::make"), data);
  }
  std::span<const std::byte> data() const noexcept { return {data_, size_}; }
  std::span<std::byte> data() noexcept { return {data_, size_}; }
  std::size_t size() const noexcept { return size_; }
  /// Appends bytes; strong guarantee (MemoryError leaves the contents unchanged).
  void extend(std::span<const std::byte> more);
  /// b.extend(x) for a bytes, a bytearray, or a list or tuple of ints in 0..255. Throws
  /// TypeError ("can't extend bytearray with int"), ValueError ("byte must be in range(0,
  /// 256)"); either way the bytearray is unchanged.
  void extend(const Value& more);
  void append(std::byte b) { extend(std::span<const std::byte>(&b, 1)); }
  /// Makes room for `capacity` bytes in all, so that appending up to it allocates nothing
  /// (Python has no such call; C++ callers filling a buffer in chunks want one).
  void reserve(std::size_t capacity);
  std::size_t capacity() const noexcept { return capacity_; }
  std::string py_repr() const override;  ///< Python's repr(), as ouro::repr gives it
  std::size_t owned_bytes() const noexcept override;

  ByteArray() noexcept = default;

 private:
  ~ByteArray() override;
  std::byte* data_ = nullptr;  // heap block of capacity_ bytes, or null when capacity_ is 0
  std::size_t size_ = 0;       // bytes in use
  std::size_t capacity_ = 0;   // bytes allocated
};

/// The bytes of a string, for building Bytes and ByteArray from text.
inline std::span<const std::byte> as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

}  // namespace ouro
