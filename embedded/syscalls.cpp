// newlib's memory system call for this firmware: _sbrk, bounded. newlib's malloc (used by
// std::string, std::function, exceptions in flight, stdio buffers: everything outside the
// ouro heap) grows its region from the end of .bss (`end`, cortex-m.ld) and must stop at
// the stack's limit; the default _sbrk knows neither bound on this board. The other system
// calls (write, exit, ...) are librdimon's, over semihosting.
#include <malloc.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

#include "board.h"

extern "C" {
extern char end[];            // cortex-m.ld: first byte after .bss
extern char __stack_limit[];  // cortex-m.ld: lowest byte of the stack

/// The highest break handed out so far (board::memory_map reports it).
std::uintptr_t ouro_malloc_break_peak = 0;

void* _sbrk(std::ptrdiff_t increment) {
  static char* current = end;
  if (ouro_malloc_break_peak == 0) ouro_malloc_break_peak = reinterpret_cast<std::uintptr_t>(end);
  if (increment > __stack_limit - current || increment < end - current) {
    errno = ENOMEM;
    return reinterpret_cast<void*>(-1);
  }
  char* previous = current;
  current += increment;
  if (reinterpret_cast<std::uintptr_t>(current) > ouro_malloc_break_peak) {
    ouro_malloc_break_peak = reinterpret_cast<std::uintptr_t>(current);
  }
  return previous;
}
}

namespace ouro::board {

std::size_t malloc_in_use() noexcept { return static_cast<std::size_t>(mallinfo().uordblks); }

}  // namespace ouro::board
