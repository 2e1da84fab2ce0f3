// Python 3.11's hashes of numbers and tuples (Python/pyhash.c, Objects/longobject.c,
// Objects/tupleobject.c), so that equal numbers hash equal across types
// (hash(1) == hash(1.0) == hash(True)) and so that a tuple of numbers hashes exactly as in
// CPython on 64-bit builds. Numeric hashes reduce the value modulo the Mersenne prime
// 2^61 - 1, which makes the hash of m * 2^e cheap for any integer m and exponent e.
//
// Not matched on purpose: str and bytes hashes. CPython's are SipHash keyed by a random
// per-process seed (PYTHONHASHSEED), so no fixed function could equal them; the value layer
// picks its own, and a tuple containing a str hashes differently from CPython's as a result.
// Internal to the value layer.
#pragma once

#include <cstdint>
#include <span>

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

/// hash(tuple) from its items' hashes in order.
///
///     hash_tuple({}) == hash(())
HashValue hash_tuple(std::span<const HashValue> item_hashes) noexcept;

}  // namespace ouro::value::detail
