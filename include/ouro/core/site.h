// Where an allocation comes from: the chain of public entry points running on this thread,
// each with the caller's source line (ouro::SiteLocation), for the tracing layer.
//
// An entry point that takes `ouro::SiteLocation loc = ouro::SiteLocation::current()` opens a
// SiteScope for its duration; allocations made meanwhile (its own and those of the calls it
// makes) can then be attributed to the user's line. The chain is a linked list through the
// scopes on the C++ stack, innermost first, and never allocates.
//
// Cost when nobody traces: a SiteScope reads one process-wide counter of running tracers and
// pushes nothing (one predictable branch, and one more on a register when it closes);
// make<T> does not even do that (ouro/core/ref.h: it tests the allocator's observer, the
// test the allocator's fast path makes anyway). On bare metal (OURO_BARE_METAL, no tracer)
// SiteLocation is an empty tag and SiteScope is empty: no file names, function names or
// instructions reach the firmware.
#pragma once

#include "ouro/config.h"

#if !OURO_BARE_METAL
#include <atomic>
#include <cstdint>
#include <new>
#endif

namespace ouro {

#if OURO_BARE_METAL
/// The caller's line as entry points take it. Bare metal has no tracer: an empty tag, so
/// defaulted `SiteLocation::current()` arguments cost no code and no flash.
class SiteLocation {
 public:
  static constexpr SiteLocation current() noexcept { return {}; }
};
#else
/// The caller's line as entry points take it (std::source_location where the compiler has
/// it, see ouro/config.h).
using SiteLocation = ouro::SourceLocation;
#endif

/// One entry point on the thread's chain: the line that called it and the one below.
struct SiteFrame {
  ouro::SourceLocation location;  ///< the caller's file, line and function
  const SiteFrame* caller;        ///< the enclosing entry point, or nullptr
};

namespace detail {
/// Innermost running entry point of this thread (constant-initialised: no TLS wrapper).
inline OURO_THREAD_LOCAL const SiteFrame* current_site_frame = nullptr;
#if !OURO_BARE_METAL
/// Tracers running in the process (ouro::trace::Tracer::start and stop count them). Entry
/// points record their caller's line only while it is not zero.
inline std::atomic<std::uint32_t> running_tracers{0};
#endif
}  // namespace detail

/// The innermost entry point running on this thread, or nullptr outside any.
inline const SiteFrame* current_site() noexcept { return detail::current_site_frame; }

/// True while a tracer runs somewhere in the process: entry points then record their lines.
inline bool sites_recorded() noexcept {
#if OURO_BARE_METAL
  return false;
#else
  return detail::running_tracers.load(std::memory_order_relaxed) != 0;
#endif
}

/// Pushes `location` on this thread's chain of entry points for the scope's lifetime, while
/// a tracer runs (see sites_recorded()); otherwise does nothing.
///
///     void append(Value v, ouro::SiteLocation loc = ouro::SiteLocation::current()) {
///       ouro::SiteScope site(loc);   // what append allocates is charged to the caller's line
///       ...
///     }
///
/// Warning: a scope opened before a tracer started stays off the chain (allocations under
/// it go to the next recorded frame, or the unknown site).
class SiteScope {
 public:
  /// Pushes regardless of sites_recorded() (make<T>, which knows its heap is observed).
  struct Always {};

#if OURO_BARE_METAL
  explicit SiteScope(SiteLocation /*location*/) noexcept {}
  SiteScope(SiteLocation /*location*/, Always /*always*/) noexcept {}
#else
  explicit SiteScope(const SiteLocation& location) noexcept {
    if (OURO_UNLIKELY(sites_recorded())) push(location);
  }
  SiteScope(const SiteLocation& location, Always /*always*/) noexcept { push(location); }
  ~SiteScope() {
    if (OURO_UNLIKELY(pushed_)) detail::current_site_frame = frame_.caller;
  }
#endif
  SiteScope(const SiteScope&) = delete;
  SiteScope& operator=(const SiteScope&) = delete;

#if !OURO_BARE_METAL
 private:
  void push(const SiteLocation& location) noexcept {
    ::new (&frame_) SiteFrame{location, detail::current_site_frame};
    detail::current_site_frame = &frame_;
    pushed_ = true;
  }

  union {
    SiteFrame frame_;  // constructed only when pushed_ (the off path writes nothing)
  };
  bool pushed_ = false;
#endif
};

}  // namespace ouro
