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

// OURO_BARE_METAL=1 (CMake option OURO_BARE_METAL): a target without an OS. No threads (the
// owner-thread check compiles out), no system backing (heaps need a caller's static buffer),
// no environment variables, no stream I/O in the library. docs/embedded.md.
#ifndef OURO_BARE_METAL
#define OURO_BARE_METAL 0
#endif

#define OURO_VERSION_MAJOR 0
#define OURO_VERSION_MINOR 1
#define OURO_VERSION_PATCH 0
#define OURO_VERSION_STRING "0.1.0"

namespace ouro::detail {
/// Prints "ouro: <what> at <file>:<line>" to stderr and aborts. Never returns.
[[noreturn]] void fail_assertion(const char* what, const char* file, int line) noexcept;
/// Aborts with a formatted message naming the misuse (double free, foreign pointer, ...).
[[noreturn]] void fatal(const char* message) noexcept;
}  // namespace ouro::detail

// Per-thread state (the current heap, the recursion depth) is thread_local on hosted builds
// and a plain static on bare metal, where there is one thread and no TLS support.
#if OURO_BARE_METAL
#define OURO_THREAD_LOCAL
#else
#define OURO_THREAD_LOCAL thread_local
#endif

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
