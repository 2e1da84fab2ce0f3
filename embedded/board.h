// What the firmware knows about the board it runs on: the memory map the linker laid out
// (cortex-m.ld), how much of the malloc region and the stack were used, and the
// semihosting exit. Implemented in startup.cpp and syscalls.cpp.
#pragma once

#include <cstddef>

namespace ouro::board {

/// RAM figures from the linker's symbols and from run-time high-water marks.
struct MemoryMap {
  std::size_t ram_total = 0;      ///< the board's RAM (memory.ld)
  std::size_t data_bytes = 0;     ///< .data
  std::size_t bss_bytes = 0;      ///< .bss, the ouro heap's buffer included
  std::size_t malloc_region = 0;  ///< between the end of .bss and the stack's limit
  std::size_t malloc_peak = 0;    ///< highest break _sbrk handed out in that region
  std::size_t stack_bytes = 0;    ///< stack reserved at the top of RAM
  std::size_t stack_peak = 0;     ///< deepest stack use seen (painted at reset)
};

/// Bytes newlib's malloc has handed out and not freed (std::string, std::function, ...).
std::size_t malloc_in_use() noexcept;

/// The figures as of now (the stack's high-water mark is measured by scanning its paint).
MemoryMap memory_map() noexcept;

}  // namespace ouro::board
