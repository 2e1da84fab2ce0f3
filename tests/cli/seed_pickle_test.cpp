// The seed program's ComplexDataObject (SCENARIOS.md, scenario 1), as the tour and the
// firmware build it, pickles to exactly CPython's bytes with every protocol. CPython writes
// the str 'nested' once (the dict key in the list and the attribute name are one interned
// object) and refers back to it; ouro's tour uses one Str for both, and the pickler shares it
// by identity even where it is an attribute name.
#include <gtest/gtest.h>

#include <string>

#include "../tools/ouro/tour_seed.h"
#include "ouro/pickle/pickle.h"
#include "support/python_oracle.h"

namespace {

// tools/ouro/seed_program.py, run as __main__ (pickle names its classes __main__.*).
constexpr const char* kSeedProgram = R"PY(
import pickle, sys
exec(open(sys.argv[1]).read())
obj = ComplexDataObject()
for protocol in range(6):
    sys.stdout.write(pickle.dumps(obj, protocol).hex() + '\n')
)PY";

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

TEST(SeedPickle, EveryProtocolGivesCPythonsBytes) {
  OURO_REQUIRE_PYTHON();
  const auto python = ouro::testing::run_python(
      kSeedProgram, "", std::string(OURO_SOURCE_DIR) + "/tools/ouro/seed_program.py");
  ASSERT_EQ(python.status, 0) << python.err;
  ouro::Heap heap;
  ouro::HeapScope scope(heap);
  const ouro::Value seed = ouro::tour::complex_data_object(heap);
  std::string expected_lines = python.out, ours;
  for (int protocol = 0; protocol <= 5; ++protocol) {
    ours += hex(ouro::pickle::dumps(seed, {.protocol = protocol})) + "\n";
  }
  EXPECT_EQ(ours, expected_lines);
}

}  // namespace
