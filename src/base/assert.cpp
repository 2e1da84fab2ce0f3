// Where broken invariants end: one place that prints and aborts (config.h's tiers).
#include <cstdio>
#include <cstdlib>

#include "ouro/config.h"

namespace ouro::detail {

void fail_assertion(const char* what, const char* file, int line) noexcept {
  std::fprintf(stderr, "ouro: internal check failed: %s at %s:%d\n", what, file, line);
  std::fflush(stderr);
  std::abort();
}

void fatal(const char* message) noexcept {
  std::fprintf(stderr, "ouro: fatal: %s\n", message);
  std::fflush(stderr);
  std::abort();
}

}  // namespace ouro::detail
