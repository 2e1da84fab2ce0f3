// ouro::pickle::scan: the globals and calling opcodes it reports, the verdict, and that a
// hostile input never escapes as an exception. The CLI's end-to-end checks against
// CPython's pickletools are in tests/cli/pickle_cli_test.cpp.
#include "ouro/pickle/scan.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ouro/core/heap.h"
#include "ouro/errors.h"
#include "ouro/pickle/pickle.h"

namespace ouro::pickle {
namespace {

using namespace std::string_literals;

std::vector<std::string> call_names(const ScanReport& r) {
  std::vector<std::string> names;
  for (const ScanCall& c : r.calls) names.push_back(c.opcode + "@" + std::to_string(c.offset));
  return names;
}

TEST(ScanTest, PlainDataIsSafeAndCallsNothing) {
  const ScanReport r = scan(
      "\x80\x04}\x94\x8c\x01"
      "a\x94]\x94K\x01"
      "as."s);
  EXPECT_EQ(r.verdict, Verdict::kSafe);
  EXPECT_TRUE(r.globals.empty());
  EXPECT_TRUE(r.calls.empty());
  EXPECT_EQ(r.error, "");
}

TEST(ScanTest, StackGlobalNamesComeFromTheMemo) {
  // 'system' and 'os' are memoized, then fetched back in the other order: a scanner that
  // pairs the two strings before STACK_GLOBAL by position gets this wrong.
  const ScanReport r = scan("\x80\x04\x8c\x06system\x94\x8c\x02os\x94h\x01h\x00\x93."s);
  ASSERT_EQ(r.globals.size(), 1u);
  EXPECT_EQ(r.globals[0].module, "os");
  EXPECT_EQ(r.globals[0].name, "system");
  EXPECT_EQ(r.globals[0].offset, 20);
  EXPECT_EQ(r.globals[0].opcode, "STACK_GLOBAL");
  EXPECT_FALSE(r.globals[0].allowed);
  EXPECT_EQ(call_names(r), std::vector<std::string>{"STACK_GLOBAL@20"});
  EXPECT_EQ(r.verdict, Verdict::kUnsafe);
  EXPECT_EQ(verdict_name(r.verdict), "unsafe");
}

TEST(ScanTest, ListsCallsAndMapsPython2Names) {
  const ScanReport r = scan("c__builtin__\neval\n(S'1'\ntR."s);
  ASSERT_EQ(r.globals.size(), 1u);
  EXPECT_EQ(r.globals[0].module, "builtins");
  EXPECT_EQ(r.globals[0].name, "eval");
  EXPECT_EQ(r.globals[0].opcode, "GLOBAL");
  EXPECT_EQ(call_names(r), (std::vector<std::string>{"GLOBAL@0", "REDUCE@25"}));
  EXPECT_EQ(r.verdict, Verdict::kUnsafe);
}

TEST(ScanTest, AllowedGlobalsAreSafe) {
  const std::string data =
      "\x80\x02"
      "c__builtin__\nset\n]\x85R."s;
  const ScanReport builtin = scan(data);
  ASSERT_EQ(builtin.globals.size(), 1u);
  EXPECT_TRUE(builtin.globals[0].allowed);
  EXPECT_EQ(builtin.verdict, Verdict::kSafe);

  const std::string evil = "cos\nsystem\n."s;
  EXPECT_EQ(scan(evil).verdict, Verdict::kUnsafe);
  const ScanReport allowed = scan(evil, {.allow = {"os.system"}});
  EXPECT_EQ(allowed.verdict, Verdict::kSafe);
  EXPECT_TRUE(allowed.globals.at(0).allowed);
}

TEST(ScanTest, EveryPickleOfTheDataIsScanned) {
  // A harmless first pickle does not hide the second one.
  const ScanReport r = scan("K\x01.cos\nsystem\n."s);
  ASSERT_EQ(r.globals.size(), 1u);
  EXPECT_EQ(r.globals[0].offset, 3);
  EXPECT_EQ(call_names(r), std::vector<std::string>{"GLOBAL@3"});
  EXPECT_EQ(r.verdict, Verdict::kUnsafe);
}

TEST(ScanTest, MalformedInputIsReportedNotThrown) {
  const ScanReport truncated = scan("\x80\x04K"s);
  EXPECT_EQ(truncated.verdict, Verdict::kMalformed);
  EXPECT_NE(truncated.error.find("pickle data was truncated"), std::string::npos)
      << truncated.error;
  EXPECT_EQ(scan(""s).verdict, Verdict::kMalformed);
  EXPECT_EQ(scan("\xff"s).verdict, Verdict::kMalformed);
  // An unknown global before the damage still makes it unsafe: CPython imports it first.
  const ScanReport both = scan("cos\nsystem\n\xff"s);
  EXPECT_EQ(both.verdict, Verdict::kUnsafe);
  EXPECT_NE(both.error, "");
  // Past the heap limit: over-limit (not proven safe) with the limit named, no exception.
  std::string strs = "\x80\x04("s;  // 100,000 distinct strs: the scan builds strs
  for (int i = 0; i < 100000; ++i) {
    const std::string text = std::to_string(i);
    strs += "\x8c"s + static_cast<char>(text.size()) + text;
  }
  const ScanReport big = scan(strs + "t."s, {.limit_bytes = 256 << 10});
  EXPECT_EQ(big.verdict, Verdict::kOverLimit);
  EXPECT_EQ(verdict_name(big.verdict), "over-limit");
  EXPECT_NE(big.error.find("memory limit of 262144 bytes"), std::string::npos) << big.error;
  // An unknown global before the limit still makes it unsafe.
  const ScanReport evil = scan("cos\nsystem\n\x8c\x01x."s, {.limit_bytes = 256 << 10});
  EXPECT_EQ(evil.verdict, Verdict::kUnsafe);
}

// A BINFLOAT (9 bytes) costs a heap Float when loaded; the scan builds none, nor list
// items, big ints or bytes, so a legitimate pickle far larger than the limit scans safe.
TEST(ScanTest, LargeLegitimatePicklesScanWithoutBuildingTheirData) {
  std::string data = "\x80\x04]\x94("s;
  for (int i = 0; i < 200000; ++i) {
    data += "G\x3f\xf8\x00\x00\x00\x00\x00\x00"s;  // 1.5
    if (i % 1000 == 999) data += "e("s;
  }
  data += "\x8a\x02\x01\x02\x8e\x10\x00\x00\x00\x00\x00\x00\x00"s + std::string(16, 'b') + "e."s;
  const ScanReport r = scan(data, {.limit_bytes = 2 << 20});
  EXPECT_EQ(r.verdict, Verdict::kSafe) << r.error;
  // The same pickle does not fit in that limit when its value is built.
  Heap heap({.limit_bytes = 2 << 20});
  HeapScope scope(heap);
  EXPECT_THROW(loads(data), MemoryError);
}

// The report's lists are capped, but a flood of harmless globals cannot hide an unsafe one:
// past the cap unsafe globals are still listed (up to the cap again), and all are counted.
TEST(ScanTest, ReportsAreCappedWithoutHidingUnsafeGlobals) {
  std::string data = "\x80\x02"s;
  for (int i = 0; i < 30; ++i) data += "cbuiltins\nlist\n0"s;  // 30 safe GLOBALs, popped
  for (int i = 0; i < 12; ++i) data += "cos\nsystem\n0"s;      // 12 unsafe ones
  data += "N."s;
  const ScanReport r = scan(data, {.max_listed = 10});
  EXPECT_EQ(r.verdict, Verdict::kUnsafe);
  ASSERT_EQ(r.globals.size(), 20U);  // 10, then 10 unsafe ones
  EXPECT_TRUE(r.globals[9].allowed);
  EXPECT_FALSE(r.globals[10].allowed);
  EXPECT_EQ(r.globals_not_listed, 22U);  // 20 safe + 2 unsafe
  EXPECT_EQ(r.unsafe_not_listed, 2U);
  EXPECT_EQ(r.calls.size(), 10U);
  EXPECT_EQ(r.calls_not_listed, 32U);
  const ScanReport all = scan(data, {.max_listed = 0});
  EXPECT_EQ(all.globals.size(), 42U);
  EXPECT_EQ(all.calls.size(), 42U);
  EXPECT_EQ(all.globals_not_listed + all.calls_not_listed, 0U);
}

}  // namespace
}  // namespace ouro::pickle
