// ProcessMutex: the lock of the few process-wide tables (type registries) that heaps on
// several threads share. A bare-metal build (OURO_BARE_METAL) has one thread and no
// std::mutex in its C++ library, so there the lock is a no-op with the same interface.
// Base layer: any layer may include it.
#pragma once

#include "ouro/config.h"

#if OURO_BARE_METAL
namespace ouro::detail {
/// One thread only: locking has nothing to exclude. Works with std::lock_guard.
struct ProcessMutex {
  void lock() noexcept {}
  void unlock() noexcept {}
};
}  // namespace ouro::detail
#else
#include <mutex>
namespace ouro::detail {
using ProcessMutex = std::mutex;
}  // namespace ouro::detail
#endif
