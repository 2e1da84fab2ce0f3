// libFuzzer target: the pickletools.dis port on arbitrary bytes, plain and annotated. It
// must either print a disassembly or throw DisError (what pickletools raises); nothing
// else may escape, and no byte may be read out of bounds (ASan) or misused (UBSan).
#include <cstddef>
#include <cstdint>
#include <span>
#include <sstream>

#include "ouro/pickle/pickletools.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::span<const std::byte> data(reinterpret_cast<const std::byte*>(bytes), size);
  for (const bool annotate : {false, true}) {
    std::ostringstream out;
    try {
      ouro::pickle::dis(data, out, {.annotate = annotate});
    } catch (const ouro::pickle::DisError&) {
    }
  }
  return 0;
}
