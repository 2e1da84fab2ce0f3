// Exceptions that cross the public API. Out of memory is ouro::MemoryError, derived from
// std::bad_alloc so that code written for operator new's failure handles it unchanged.
// Python's other built-in exceptions that the value layer raises derive from ouro::Error
// (a std::runtime_error that knows its Python class name), in Python's hierarchy:
//
//     Error ── ValueError ── UnicodeDecodeError
//           ├─ LookupError ── KeyError, IndexError
//           ├─ OverflowError
//           └─ RecursionError
//
// TypeError (std::invalid_argument) and MemoryError (std::bad_alloc) stay outside Error
// because their standard bases are what C++ callers already catch.
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

/// Base of the Python exceptions the value layer throws (all but TypeError and MemoryError).
/// `python_type()` is the Python class name, so a message can be printed as Python would:
///
///     catch (const ouro::Error& e) { std::cerr << e.python_type() << ": " << e.what(); }
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
  /// Python's name of the exception class ("ValueError", "KeyError", ...).
  virtual const char* python_type() const noexcept { return "Exception"; }
};

/// Python's ValueError: right type, wrong value (e.g. an int with more than 4300 digits).
class ValueError : public Error {
 public:
  using Error::Error;
  const char* python_type() const noexcept override { return "ValueError"; }
};

/// Python's UnicodeDecodeError: bytes that are not UTF-8 (surrogates allowed) given as str.
class UnicodeDecodeError : public ValueError {
 public:
  UnicodeDecodeError(const std::string& message, std::size_t offset)
      : ValueError(message), offset_(offset) {}
  const char* python_type() const noexcept override { return "UnicodeDecodeError"; }
  std::size_t offset() const noexcept { return offset_; }  ///< first bad byte

 private:
  std::size_t offset_;
};

/// Python's OverflowError: a number that does not fit the requested representation.
class OverflowError : public Error {
 public:
  using Error::Error;
  const char* python_type() const noexcept override { return "OverflowError"; }
};

/// Python's LookupError, the base of KeyError and IndexError.
class LookupError : public Error {
 public:
  using Error::Error;
  const char* python_type() const noexcept override { return "LookupError"; }
};

/// Python's KeyError; what() is the repr of the missing key, as str(KeyError(k)) is.
class KeyError : public LookupError {
 public:
  using LookupError::LookupError;
  const char* python_type() const noexcept override { return "KeyError"; }
};

/// Python's IndexError ("list index out of range").
class IndexError : public LookupError {
 public:
  using LookupError::LookupError;
  const char* python_type() const noexcept override { return "IndexError"; }
};

/// Python's RecursionError: nesting deeper than the recursion limit (1000, as CPython's
/// default) in repr, comparison, hashing or JSON conversion. The C++ stack is never at risk.
class RecursionError : public Error {
 public:
  using Error::Error;
  const char* python_type() const noexcept override { return "RecursionError"; }
};

}  // namespace ouro
