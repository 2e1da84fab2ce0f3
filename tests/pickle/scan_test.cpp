// ouro::pickle::scan: the globals and calling opcodes it reports, the verdict, and that a
// hostile input never escapes as an exception. The CLI's end-to-end checks against
// CPython's pickletools are in tests/cli/pickle_cli_test.cpp.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ouro/pickle/scan.h"

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
  // Past the heap limit: malformed with the MemoryError, not an exception.
  const ScanReport big =
      scan("\x80\x04\x8e\x00\x00\x10\x00\x00\x00\x00\x00"s + std::string(1 << 20, 'x') + ".",
           {.limit_bytes = 256 << 10});
  EXPECT_EQ(big.verdict, Verdict::kMalformed);
  EXPECT_NE(big.error.find("MemoryError"), std::string::npos) << big.error;
}

}  // namespace
}  // namespace ouro::pickle
