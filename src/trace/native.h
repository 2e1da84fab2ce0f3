// Native frames for the tracer: the return addresses of the C++ stack at an allocation,
// captured cheaply (glibc's backtrace(), the unwinder of libgcc that C++ exceptions use),
// and turned into function names and file:line only when a traceback is read (elfutils'
// libdw), so a traced allocation pays for the unwinding and nothing else. docs/profiling.md
// says why these two.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

namespace ouro::trace::native {

/// Up to `max` return addresses of the calling thread's stack, innermost first; how many.
int capture(void** addresses, int max) noexcept;

/// What a return address resolves to.
struct Symbol {
  std::string function;    ///< demangled; "0x..." when the address has no symbol
  std::string file;        ///< the source file of the line in `function`, or empty
  std::uint32_t line = 0;  ///< the line in `function` that made the call (through inlining)
  bool library = false;    ///< a function of ouro itself (namespace ouro)
};

/// Resolves return addresses of this process, caching each answer. Not thread-safe (one per
/// tracer, used under its heap's thread).
class Symbolizer {
 public:
  Symbolizer();
  ~Symbolizer();
  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;

  const Symbol& resolve(std::uintptr_t return_address);

 private:
  struct Session;  // libdw's view of the process's modules, made on first use
  std::unique_ptr<Session> session_;
  std::unordered_map<std::uintptr_t, Symbol> cache_;
};

}  // namespace ouro::trace::native
