// Exceptions that cross the public API. Out of memory is ouro::MemoryError, derived from
// std::bad_alloc so that code written for operator new's failure handles it unchanged.
#pragma once
#include <cstddef>
#include <new>
#include <stdexcept>
#include <string>

namespace ouro {

/// Thrown when an allocation would pass the heap's `limit_bytes` (after the pressure hook,
/// i.e. one full collection, could not make room) or when the backing has no memory left.
/// Building the message allocates nothing, so it is safe to throw when memory is gone.
///
///     try { auto big = heap.allocate(1 << 30); }
///     catch (const ouro::MemoryError& e) { std::puts(e.what()); }  // heap still usable
class MemoryError : public std::bad_alloc {
 public:
  MemoryError(std::size_t requested, std::size_t limit, std::size_t reserved,
              std::size_t in_use) noexcept;
  const char* what() const noexcept override { return message_; }
  std::size_t requested() const noexcept { return requested_; }  ///< bytes asked for
  std::size_t limit() const noexcept { return limit_; }          ///< the limit (0: none)
  std::size_t reserved() const noexcept { return reserved_; }    ///< bytes taken from backing
  std::size_t in_use() const noexcept { return in_use_; }        ///< bytes in live blocks

 private:
  std::size_t requested_;
  std::size_t limit_;
  std::size_t reserved_;
  std::size_t in_use_;
  char message_[192];
};

/// Thrown by checked conversions (checked_cast, Value::as<T>) when the object or value has
/// another type; the message names both types, as Python's TypeError does.
class TypeError : public std::invalid_argument {
 public:
  explicit TypeError(const std::string& message) : std::invalid_argument(message) {}
};

}  // namespace ouro
