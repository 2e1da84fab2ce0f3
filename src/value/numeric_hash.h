// Python 3.11's hashes of numbers and tuples (Python/pyhash.c, Objects/longobject.c,
// Objects/tupleobject.c), so that equal numbers hash equal across types
// (hash(1) == hash(1.0) == hash(True)) and so that a tuple of numbers hashes exactly as in
// CPython on 64-bit builds. Numeric hashes reduce the value modulo the Mersenne prime
// 2^61 - 1, which makes the hash of m * 2^e cheap for any integer m and exponent e.
//
// str and bytes hash as CPython's with PYTHONHASHSEED=0 (Python/pyhash.c): SipHash-1-3
// with an all-zero key, over a str's code units in CPython's own storage width (1, 2 or 4
// bytes per code point, PEP 393). That is the only seed whose hashes are known in advance,
// and the one under which CPython's set order (and so its set pickles) is reproducible; a
// randomized CPython orders sets differently from run to run anyway.
// Internal to the value layer.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "value/bigint.h"

namespace ouro::value::detail {

/// Py_hash_t on 64-bit builds. Never -1: CPython reserves -1 for "error" and maps it to -2.
using HashValue = std::int64_t;

/// _PyHASH_MODULUS: the prime 2^61 - 1 numeric hashes reduce by.
inline constexpr std::uint64_t kHashModulus = (std::uint64_t{1} << 61) - 1;

/// hash(float('inf')); hash(-inf) is its negation.
inline constexpr HashValue kHashInf = 314159;

/// hash(n) for an int (and hash(True) == hash_int64(1)).
///
///     hash_int64(-1) == -2;  hash_int64(kHashModulus) == 0
HashValue hash_int64(std::int64_t value) noexcept;

/// hash(n) for an int of any size. Precondition: is_normalized(view).
HashValue hash_bigint(LimbsView view) noexcept;

/// _Py_HashPointer: the identity hash CPython gives objects without __hash__, here for an
/// address or any other stable identity of the object (rotated right by 4 bits).
HashValue hash_pointer(std::uintptr_t identity) noexcept;

/// hash(x) for a float: equals the hash of the equal int or fraction; +-kHashInf for the
/// infinities; for a NaN, since 3.10, the identity hash of the float object, so the caller
/// passes that object's identity.
///
///     hash_double(2.0, id) == hash_int64(2);  hash_double(nan, id) == hash_pointer(id)
HashValue hash_double(double value, std::uintptr_t identity) noexcept;

/// Python 3.11's tuple hash (an xxHash64 variant over the items' hashes), fed one item hash
/// at a time so that callers need not gather the hashes first.
///
///     TupleHasher h;  h.add(hash_int64(1));  h.add(hash_double(2.5, 0));  HashValue t =
///     h.finish();
class TupleHasher {
 public:
  /// Mixes in the next item's hash.
  void add(HashValue item_hash) noexcept;
  /// The hash of a tuple of the items added so far.
  HashValue finish() const noexcept;

 private:
  std::uint64_t accumulator_ = kPrime5;  // xxHash lane state
  std::uint64_t length_ = 0;             // items added

  static constexpr std::uint64_t kPrime5 = 2870177450012600261ULL;
};

/// SipHash-1-3 with a 128-bit key, fed in pieces (CPython's siphash13 in Python/pyhash.c
/// takes the whole buffer; the result is the same).
///
///     SipHash13 h(0, 0);  h.update(as_bytes("abc"));  h.finish();  // CPython's, before -1 fixup
class SipHash13 {
 public:
  SipHash13(std::uint64_t k0, std::uint64_t k1) noexcept;
  void update(std::span<const std::byte> data) noexcept;
  std::uint64_t finish() noexcept;

 private:
  void compress(std::uint64_t word) noexcept;
  std::uint64_t v0_, v1_, v2_, v3_;  // SipHash state
  std::uint64_t tail_ = 0;           // bytes not yet compressed, little-endian
  unsigned tail_size_ = 0;           // 0..7
  std::uint64_t length_ = 0;         // bytes fed (its low byte goes into the last word)
};

/// hash(b) for bytes under PYTHONHASHSEED=0 (_Py_HashBytes): 0 for b'', never -1.
HashValue hash_bytes_seed0(std::span<const std::byte> data) noexcept;

/// hash(s) for a str given as UTF-8 (lone surrogates as 3-byte sequences) under
/// PYTHONHASHSEED=0: the bytes hash of its PEP 393 code units (latin-1 bytes when every code
/// point is below U+0100, else UTF-16 units when below U+10000, else UTF-32), little-endian.
///
///     hash_str_seed0("abc") == -4594863902769663758   // PYTHONHASHSEED=0 python3: hash('abc')
HashValue hash_str_seed0(std::string_view utf8, bool ascii) noexcept;

/// hash(tuple) from its items' hashes in order.
///
///     hash_tuple({}) == hash(())
HashValue hash_tuple(std::span<const HashValue> item_hashes) noexcept;

}  // namespace ouro::value::detail
