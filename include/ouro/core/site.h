// Where an allocation comes from: the chain of public entry points running on this thread,
// each with the caller's source line (ouro::SourceLocation), for the tracing layer.
//
// An entry point that takes `ouro::SourceLocation loc = ouro::SourceLocation::current()`
// opens a SiteScope for its duration; allocations made meanwhile (its own and those of the
// calls it makes) can then be attributed to the user's line. The chain is a linked list
// through the scopes on the C++ stack, innermost first, so it costs two thread-local
// stores per entry point whether or not anybody traces, and never allocates.
#pragma once

#include "ouro/config.h"

namespace ouro {

/// One entry point on the thread's chain: the line that called it and the one below.
struct SiteFrame {
  ouro::SourceLocation location;  ///< the caller's file, line and function
  const SiteFrame* caller;        ///< the enclosing entry point, or nullptr
};

namespace detail {
/// Innermost running entry point of this thread (constant-initialised: no TLS wrapper).
inline OURO_THREAD_LOCAL const SiteFrame* current_site_frame = nullptr;
}  // namespace detail

/// The innermost entry point running on this thread, or nullptr outside any.
inline const SiteFrame* current_site() noexcept { return detail::current_site_frame; }

/// Pushes `location` on this thread's chain of entry points for the scope's lifetime.
///
///     void append(Value v, ouro::SourceLocation loc = ouro::SourceLocation::current()) {
///       ouro::SiteScope site(loc);   // what append allocates is charged to the caller's line
///       ...
///     }
class SiteScope {
 public:
  explicit SiteScope(const ouro::SourceLocation& location) noexcept
      : frame_{location, detail::current_site_frame} {
    detail::current_site_frame = &frame_;
  }
  ~SiteScope() { detail::current_site_frame = frame_.caller; }
  SiteScope(const SiteScope&) = delete;
  SiteScope& operator=(const SiteScope&) = delete;

 private:
  SiteFrame frame_;
};

}  // namespace ouro
