// Build switches and the assertion tiers (mimalloc's idea): what a build checks is decided
// here and nowhere else.
//
//   OURO_DEBUG=0  release: no internal checks
//   OURO_DEBUG=1  cheap assertions (OURO_ASSERT)
//   OURO_DEBUG=2  + double free, foreign pointers, wrong-thread use, freed-block fill pattern
//   OURO_DEBUG=3  + expensive whole-heap walks between steps (OURO_ASSERT_EXPENSIVE)
//
// A broken internal invariant is a bug, never bad input: it aborts with file and line and is
// never turned into an exception (bad input throws typed errors instead).
#pragma once

#ifndef OURO_DEBUG
#define OURO_DEBUG 0
#endif

// OURO_BARE_METAL=1: a target without an operating system (docs/embedded.md): no threads
// (thread-locals become plain statics and the owner-thread check compares a constant), no
// system backing (a heap needs a caller's buffer), no environment variables.
#ifndef OURO_BARE_METAL
#define OURO_BARE_METAL 0
#endif

#if OURO_BARE_METAL
#define OURO_THREAD_LOCAL
#define OURO_HAVE_SYSTEM_BACKING 0
#define OURO_HAVE_ENVIRONMENT 0
#else
#define OURO_THREAD_LOCAL thread_local
#define OURO_HAVE_SYSTEM_BACKING 1
#define OURO_HAVE_ENVIRONMENT 1
#endif

#define OURO_VERSION_MAJOR 0
#define OURO_VERSION_MINOR 1
#define OURO_VERSION_PATCH 0
#define OURO_VERSION_STRING "0.1.0"

// std::source_location, or a stand-in with the same interface where the standard library
// lacks it (libstdc++ 12 offers it only to compilers with __builtin_source_location, which
// clang 14, the fuzzers' compiler, has not). Entry points capture their caller's line with it.
#include <version>
#if defined(__cpp_lib_source_location)
#include <source_location>
namespace ouro {
using SourceLocation = std::source_location;
}  // namespace ouro
#else
#include <cstdint>
namespace ouro {
class SourceLocation {
 public:
  static constexpr SourceLocation current(const char* file = __builtin_FILE(),
                                          std::uint_least32_t line = __builtin_LINE(),
                                          const char* function = __builtin_FUNCTION()) noexcept {
    SourceLocation where;
    where.file_ = file;
    where.line_ = line;
    where.function_ = function;
    return where;
  }
  constexpr SourceLocation() noexcept = default;
  constexpr const char* file_name() const noexcept { return file_; }
  constexpr const char* function_name() const noexcept { return function_; }
  constexpr std::uint_least32_t line() const noexcept { return line_; }
  constexpr std::uint_least32_t column() const noexcept { return 0; }

 private:
  const char* file_ = "";
  const char* function_ = "";
  std::uint_least32_t line_ = 0;
};
}  // namespace ouro
#endif

namespace ouro::detail {
/// Prints "ouro: <what> at <file>:<line>" to stderr and aborts. Never returns.
[[noreturn]] void fail_assertion(const char* what, const char* file, int line) noexcept;
/// Aborts with a formatted message naming the misuse (double free, foreign pointer, ...).
[[noreturn]] void fatal(const char* message) noexcept;
}  // namespace ouro::detail

#define OURO_LIKELY(x) __builtin_expect(!!(x), 1)
#define OURO_UNLIKELY(x) __builtin_expect(!!(x), 0)

#if OURO_DEBUG >= 1
#define OURO_ASSERT(cond) \
  (OURO_LIKELY(cond) ? (void)0 : ::ouro::detail::fail_assertion(#cond, __FILE__, __LINE__))
#else
#define OURO_ASSERT(cond) ((void)0)
#endif

#if OURO_DEBUG >= 3
#define OURO_ASSERT_EXPENSIVE(cond) OURO_ASSERT(cond)
#else
#define OURO_ASSERT_EXPENSIVE(cond) ((void)0)
#endif
