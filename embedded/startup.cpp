// Start-up code for a Cortex-M: the vector table and the reset handler. Written here rather
// than taken from newlib's rdimon-crt0, whose heap bounds come from a semihosting query
// that on the LM3S6965 answers with flash addresses (EMBEDDED-NOTES in docs/embedded.md).
// The reset handler copies .data from flash, zeroes .bss, paints the stack (for the
// high-water mark), opens semihosting I/O, runs the C++ constructors and calls
// firmware_main().
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "board.h"

extern "C" {
// Linker symbols (cortex-m.ld); only their addresses mean something.
extern std::uint32_t __data_load__[], __data_start__[], __data_end__[];
extern std::uint32_t __bss_start__[], __bss_end__[];
extern std::uint32_t __stack_top[], __stack_limit[];
extern char end[];

void initialise_monitor_handles();  // librdimon: stdin/stdout/stderr over semihosting
void __libc_init_array();           // newlib: runs .preinit_array, _init, .init_array
int firmware_main();                // main.cpp (ISO C++ forbids calling main itself)

// With -nostartfiles there is no crti/crtn: __libc_init_array still calls _init, and
// global destructors registered with __cxa_atexit name __dso_handle.
// `used`: with link-time optimization they are referenced only from newlib's archive, which
// the optimizer does not see.
__attribute__((used)) void* __dso_handle = nullptr;
__attribute__((used)) void _init() {}
__attribute__((used)) void _fini() {}

[[noreturn]] void reset_handler();
[[noreturn]] void fault_handler();
extern std::uintptr_t ouro_malloc_break_peak;  // syscalls.cpp
}

namespace {

constexpr std::uint32_t kStackPaint = 0xA5A5A5A5;

/// A semihosting request (ARM's "bkpt 0xAB" convention): r0 is the operation, r1 its
/// argument; QEMU answers in r0.
int semihost(int operation, const void* argument) noexcept {
  register int r0 asm("r0") = operation;
  register const void* r1 asm("r1") = argument;
  asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

constexpr int kSysWrite0 = 0x04;  // print a NUL-terminated string
constexpr int kSysExit = 0x18;    // end the program
// On 32-bit ARM, SYS_EXIT takes a reason instead of a status; QEMU exits with 0 for
// "application exit" and with 1 for any other reason, such as this one.
constexpr std::uintptr_t kRunTimeError = 0x20023;  // ADP_Stopped_RunTimeErrorUnknown

}  // namespace

void reset_handler() {
  std::memcpy(__data_start__, __data_load__,
              static_cast<std::size_t>(__data_end__ - __data_start__) * sizeof(std::uint32_t));
  std::memset(__bss_start__, 0,
              static_cast<std::size_t>(__bss_end__ - __bss_start__) * sizeof(std::uint32_t));
  // Paint the stack below this frame (leaving 64 bytes of margin) to find its peak later.
  auto* here = static_cast<std::uint32_t*>(__builtin_frame_address(0));
  for (std::uint32_t* p = __stack_limit; p < here - 16; ++p) *p = kStackPaint;
  initialise_monitor_handles();
  __libc_init_array();
  std::exit(firmware_main());
}

// Cortex-M pushes r0-r3, r12, lr, pc, xpsr on the stack it was using when the fault came;
// this handler finds that frame and hands it to fault_report.
__attribute__((naked)) void fault_handler() {
  asm volatile(
      "tst lr, #4\n"
      "ite eq\n"
      "mrseq r0, msp\n"
      "mrsne r0, psp\n"
      "b fault_report\n");
}

namespace {

/// Appends `value` as 8 hex digits (no printf: the C library's state may be what broke).
char* append_hex(char* out, std::uint32_t value) noexcept {
  for (int shift = 28; shift >= 0; shift -= 4) *out++ = "0123456789abcdef"[(value >> shift) & 0xF];
  return out;
}

}  // namespace

// A fault is a bug (or a stack overflow): print where it happened and the fault status
// registers, then end with a failing status so that the host's test sees it instead of a
// hung emulator. (arm-none-eabi-addr2line -e ouro_firmware.elf <pc> names the line.)
extern "C" [[noreturn]] __attribute__((used)) void fault_report(const std::uint32_t* frame) {
  static char message[128];
  const auto* cfsr = reinterpret_cast<const volatile std::uint32_t*>(0xE000ED28);
  const auto* bfar = reinterpret_cast<const volatile std::uint32_t*>(0xE000ED38);
  char* p = message;
  for (const char* t = "firmware: hard fault at pc "; *t != 0;) *p++ = *t++;
  p = append_hex(p, frame[6]);
  for (const char* t = " lr "; *t != 0;) *p++ = *t++;
  p = append_hex(p, frame[5]);
  for (const char* t = " cfsr "; *t != 0;) *p++ = *t++;
  p = append_hex(p, *cfsr);
  for (const char* t = " bfar "; *t != 0;) *p++ = *t++;
  p = append_hex(p, *bfar);
  *p++ = '\n';
  *p = 0;
  semihost(kSysWrite0, message);
  semihost(kSysExit, reinterpret_cast<const void*>(kRunTimeError));
  for (;;) {
  }
}

namespace {
using Handler = void (*)();
}  // namespace

// The Cortex-M vector table: the initial stack pointer, then the exception handlers. The
// board's interrupts are never enabled, so only the system exceptions are filled in.
extern "C" __attribute__((section(".isr_vector"), used)) const Handler vector_table[16] = {
    reinterpret_cast<Handler>(__stack_top),  // initial SP
    reset_handler,                           // reset
    fault_handler,                           // NMI
    fault_handler,                           // hard fault
    fault_handler,                           // memory management fault
    fault_handler,                           // bus fault
    fault_handler,                           // usage fault
    nullptr,
    nullptr,
    nullptr,
    nullptr,        // reserved
    fault_handler,  // SVCall
    fault_handler,  // debug monitor
    nullptr,        // reserved
    fault_handler,  // PendSV
    fault_handler,  // SysTick
};

namespace ouro::board {

MemoryMap memory_map() noexcept {
  auto bytes = [](const void* from, const void* to) {
    return static_cast<std::size_t>(static_cast<const char*>(to) - static_cast<const char*>(from));
  };
  MemoryMap m;
  m.data_bytes = bytes(__data_start__, __data_end__);
  m.bss_bytes = bytes(__bss_start__, __bss_end__);
  m.malloc_region = bytes(end, __stack_limit);
  m.malloc_peak = ouro_malloc_break_peak - reinterpret_cast<std::uintptr_t>(end);
  m.stack_bytes = bytes(__stack_limit, __stack_top);
  const std::uint32_t* p = __stack_limit;
  while (p < __stack_top && *p == kStackPaint) ++p;
  m.stack_peak = bytes(p, __stack_top);
  m.ram_total = bytes(__data_start__, __stack_top);
  return m;
}

}  // namespace ouro::board
