// Where broken invariants end: one place that prints and aborts (config.h's tiers).
// {fmt}, not printf: the firmware links no printf family (docs/embedded.md).
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>

#include "ouro/config.h"

namespace ouro::detail {

void fail_assertion(const char* what, const char* file, int line) noexcept {
  fmt::print(stderr, "ouro: internal check failed: {} at {}:{}\n", what, file, line);
  std::fflush(stderr);
  std::abort();
}

void fatal(const char* message) noexcept {
  fmt::print(stderr, "ouro: fatal: {}\n", message);
  std::fflush(stderr);
  std::abort();
}

}  // namespace ouro::detail
