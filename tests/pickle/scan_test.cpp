// ouro::pickle::scan: the globals and calling opcodes it reports, the verdict, and that a
// hostile input never escapes as an exception. The CLI's end-to-end checks against
// CPython's pickletools are in tests/cli/pickle_cli_test.cpp.
#include "ouro/pickle/scan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "ouro/core/heap.h"
#include "ouro/errors.h"
#include "ouro/pickle/pickle.h"
#include "ouro/pickle/torch.h"

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
  EXPECT_EQ(r.verdict, Verdict::kDangerous);
  EXPECT_EQ(verdict_name(r.verdict), "dangerous");
}

TEST(ScanTest, ListsCallsAndMapsPython2Names) {
  const ScanReport r = scan("c__builtin__\neval\n(S'1'\ntR."s);
  ASSERT_EQ(r.globals.size(), 1u);
  EXPECT_EQ(r.globals[0].module, "builtins");
  EXPECT_EQ(r.globals[0].name, "eval");
  EXPECT_EQ(r.globals[0].opcode, "GLOBAL");
  EXPECT_EQ(call_names(r), (std::vector<std::string>{"GLOBAL@0", "REDUCE@25"}));
  EXPECT_EQ(r.verdict, Verdict::kDangerous);
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
  EXPECT_EQ(scan(evil).verdict, Verdict::kDangerous);
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
  EXPECT_EQ(r.verdict, Verdict::kDangerous);
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
  EXPECT_EQ(both.verdict, Verdict::kDangerous);
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
  EXPECT_EQ(evil.verdict, Verdict::kDangerous);
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
  EXPECT_EQ(r.verdict, Verdict::kDangerous);
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

// The three tiers: the catalogue is safe, an unknown global suspicious, a known
// code-execution global dangerous with its reason; the verdict is the worst of them.
TEST(ScanTest, GlobalsAreTieredWithAReason) {
  const ScanReport catalogue = scan(
      "\x80\x02"
      "cbuiltins\ncomplex\nG?\xf0\x00\x00\x00\x00\x00\x00G@\x00\x00\x00\x00\x00\x00\x00\x86R."s);
  ASSERT_EQ(catalogue.globals.size(), 1u);
  EXPECT_EQ(catalogue.globals[0].tier, Tier::kSafe);
  EXPECT_EQ(catalogue.verdict, Verdict::kSafe);

  const ScanReport unknown = scan(
      "\x80\x02"
      "csklearn.tree\nDecisionTreeClassifier\n)\x81."s);
  ASSERT_EQ(unknown.globals.size(), 1u);
  EXPECT_EQ(unknown.globals[0].tier, Tier::kSuspicious);
  EXPECT_EQ(unknown.globals[0].reason, "");
  EXPECT_EQ(unknown.verdict, Verdict::kSuspicious);
  EXPECT_EQ(verdict_name(unknown.verdict), "suspicious");

  const ScanReport both = scan("csklearn.tree\nX\n0csubprocess\nPopen\n."s);
  ASSERT_EQ(both.globals.size(), 2u);
  EXPECT_EQ(both.globals[1].tier, Tier::kDangerous);
  EXPECT_EQ(tier_name(both.globals[1].tier), "dangerous");
  EXPECT_EQ(both.globals[1].reason, "runs a shell command or program");
  EXPECT_EQ(both.verdict, Verdict::kDangerous);
}

std::string read_realworld(const std::string& name) {
  std::ifstream in(std::filesystem::path(OURO_SOURCE_DIR) / "tests/data/realworld" / name,
                   std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// numpy arrays and torch tensors are catalogue rows: their rebuild functions are safe, what
// a fitted model imports is not (golden files of tools/gen/make_realworld_pickles.py).
TEST(ScanTest, ArraysAndCheckpointsAreSafeModelsSuspicious) {
  const std::string array = read_realworld("np_float64_p5.pkl");
  ASSERT_FALSE(array.empty());
  EXPECT_EQ(scan(array).verdict, Verdict::kSafe);

  const std::string checkpoint = read_realworld("tiny_state_dict.pt");
  const auto data_pkl = torch::find_data_pickle(std::as_bytes(std::span(checkpoint)), "pt");
  ASSERT_TRUE(data_pkl.has_value());
  const ScanReport tensors = scan(data_pkl->data);
  EXPECT_EQ(tensors.verdict, Verdict::kSafe);
  EXPECT_FALSE(tensors.globals.empty());

  const ScanReport model = scan(read_realworld("sk_random_forest_p4.pkl"));
  EXPECT_EQ(model.verdict, Verdict::kSuspicious);
}

TEST(ScanTest, DangerousTableCoversModulesAndQualifiedNames) {
  const std::pair<const char*, const char*> dangerous[] = {
      {"os", "system"},
      {"posix", "system"},
      {"nt", "system"},
      {"builtins", "eval"},
      {"builtins", "getattr"},
      {"subprocess", "check_output"},
      {"pickle", "loads"},
      {"_pickle", "Unpickler"},
      {"runpy", "run_path"},
      {"shutil", "rmtree"},
      {"webbrowser", "open"},
      {"socket", "socket"},
      {"importlib.machinery", "SourceFileLoader"},  // a submodule
      {"bdb", "Bdb.run"},                           // an attribute of a class
      {"builtins", "eval.__call__"},                // an attribute of a function
      {"torch", "load"},
  };
  for (const auto& [module, name] : dangerous) {
    EXPECT_NE(dangerous_reason(module, name), "") << module << "." << name;
  }
  const std::pair<const char*, const char*> not_listed[] = {
      {"builtins", "evaluate"},  // a prefix of a name is not it
      {"osx", "system"},         // nor a prefix of a module
      {"collections", "OrderedDict"},
      {"numpy.core.multiarray", "_reconstruct"},
  };
  for (const auto& [module, name] : not_listed) {
    EXPECT_EQ(dangerous_reason(module, name), "") << module << "." << name;
  }
}

// A wildcard vouches for a module's unknown globals, never for its dangerous ones: only the
// exact name does. A wildcard covers submodules, not modules that merely start alike.
TEST(ScanTest, WildcardsAllowSuspiciousButNotDangerousGlobals) {
  const std::string data = "cmylib.models\nNet\n0cos\nsystem\n0cmylibrary\nX\n."s;
  const ScanReport r = scan(data, {.allow = {"mylib.*", "os.*"}});
  ASSERT_EQ(r.globals.size(), 3u);
  EXPECT_EQ(r.globals[0].tier, Tier::kSafe);
  EXPECT_TRUE(r.globals[0].allowed);
  EXPECT_EQ(r.globals[1].tier, Tier::kDangerous);
  EXPECT_EQ(r.globals[2].tier, Tier::kSuspicious);  // mylibrary is not mylib
  EXPECT_EQ(r.verdict, Verdict::kDangerous);
  const ScanReport exact = scan(data, {.allow = {"mylib.*", "os.system", "mylibrary.X"}});
  EXPECT_EQ(exact.verdict, Verdict::kSafe);
}

TEST(ScanTest, InvalidAllowPatternsAreErrorsNotIgnored) {
  EXPECT_EQ(allow_pattern_error("os.system"), "");
  EXPECT_EQ(allow_pattern_error("numpy.*"), "");
  EXPECT_EQ(allow_pattern_error("numpy.core.multiarray._reconstruct"), "");
  for (const char* bad : {"", "*", "os", "os.", ".system", "os.sys*", "numpy.*.x", "os system",
                          "os.1x", "os..system"}) {
    EXPECT_NE(allow_pattern_error(bad), "") << bad;
  }
  EXPECT_THROW(scan("N."s, {.allow = {"numpy"}}), std::invalid_argument);
}

TEST(ScanTest, PolicyFilesHoldOnePatternPerLineWithComments) {
  const std::vector<std::string> patterns = parse_policy(
      "# models we trust\n"
      "numpy.*\n"
      "  sklearn.ensemble._forest.RandomForestClassifier   # the classifier\n"
      "\n"
      "\tcollections.Counter\r\n",
      "trusted.policy");
  EXPECT_EQ(patterns,
            (std::vector<std::string>{"numpy.*", "sklearn.ensemble._forest.RandomForestClassifier",
                                      "collections.Counter"}));
  try {
    parse_policy("numpy.*\nos\n", "bad.policy");
    FAIL() << "an invalid line was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("bad.policy:2: 'os'"), std::string::npos) << e.what();
  }
}

// STACK_GLOBAL on names that are not string constants (here a call's result) is only known
// by running the pickle: listed as <computed>, dangerous.
TEST(ScanTest, ComputedStackGlobalNamesAreDangerous) {
  const ScanReport r = scan(
      "\x80\x04\x8c\x02os\x8c\x08"
      "builtins\x8c\x03str\x93\x8c\x06system\x85R\x93."s);
  ASSERT_EQ(r.globals.size(), 2u);
  EXPECT_EQ(r.globals[0].module + "." + r.globals[0].name, "builtins.str");
  EXPECT_EQ(r.globals[1].module, "<computed>");
  EXPECT_EQ(r.globals[1].tier, Tier::kDangerous);
  EXPECT_EQ(r.verdict, Verdict::kDangerous);
}

// BUILD applied to a global itself rewrites a module or class in the loading process (the
// sys.modules override attack): dangerous even for an otherwise unknown global.
TEST(ScanTest, BuildOnAGlobalIsDangerous) {
  const ScanReport r = scan("\x80\x04\x8c\x05torch\x8c\x06_utils\x93}b."s);
  ASSERT_EQ(r.globals.size(), 1u);
  EXPECT_EQ(r.globals[0].tier, Tier::kDangerous);
  EXPECT_NE(r.globals[0].reason.find("BUILD"), std::string::npos);
  // BUILD on an instance made from the class is ordinary state.
  const ScanReport instance = scan("\x80\x04\x8c\x05mylib\x8c\x03Net\x93)\x81}b."s);
  EXPECT_EQ(instance.verdict, Verdict::kSuspicious);
}

// Protocol 0's escaped text is decoded by the loader, which names the global exactly.
TEST(ScanTest, EscapedStackGlobalNamesGoToTheLoader) {
  const ScanReport r = scan("Vo\\u0073\nVsystem\n\x93."s);
  ASSERT_EQ(r.globals.size(), 1u) << r.error;
  EXPECT_EQ(r.globals[0].module, "os");
  EXPECT_EQ(r.verdict, Verdict::kDangerous);
}

// Every malicious file of the hostile corpus is dangerous, naming the global it uses; the
// benign ones are safe.
TEST(ScanTest, HostileCorpusIsDangerousWithTheRightGlobal) {
  const std::map<std::string, std::string> expected = {
      {"malicious0.pkl", "builtins.eval"},
      {"malicious1_v0.pkl", "builtins.eval"},
      {"malicious1_v3.pkl", "builtins.eval"},
      {"malicious1_v4.pkl", "builtins.eval"},
      {"malicious2_v0.pkl", "posix.system"},
      {"malicious2_v4.pkl", "posix.system"},
      {"malicious3.pkl", "http.client.HTTPSConnection"},
      {"malicious4.pickle", "requests.api.get"},
      {"malicious5.pickle", "aiohttp.client.ClientSession"},
      {"malicious6.pkl", "requests.api.get"},
      {"malicious7.pkl", "socket.create_connection"},
      {"malicious8.pkl", "subprocess.run"},
      {"malicious9.pkl", "sys.exit"},
      {"malicious10.pkl", "builtins.exec"},
      {"malicious11.pkl", "os.system"},
      {"malicious12.pkl", "builtins.__import__"},
      {"malicious13a.pkl", "pickle.loads"},
      {"malicious13b.pkl", "_pickle.loads"},
      {"malicious14.pkl", "runpy._run_code"},
      {"malicious16.pkl", "pip.main"},
      {"malicious19.pkl", "torch.serialization.load"},
      {"malicious21.pkl", "timeit.timeit"},
      {"keyerror-exploit.pkl", "os.system"},
      {"broken_model.pkl", "builtins.exec"},
      {"GHSA-vqmv-47xg-9wpr.pkl", "pty.spawn"},
      {"GHSA-4675-36f9-wf6r.pkl", "ctypes.CDLL"},
      {"types_CodeType.pkl", "types.CodeType"},
      {"io_FileIO.pkl", "_io.FileIO"},
      {"urllib_request_urlopen.pkl", "urllib.request.urlopen"},
      {"sys_module_override_sploit.pkl", "torch._utils"},
      {"type-confusion-exploit.pkl", "os.system"},
  };
  std::size_t dangerous = 0;
  for (const auto& entry : std::filesystem::directory_iterator(OURO_HOSTILE_PICKLES_DIR)) {
    const std::string name = entry.path().filename().string();
    if (name == "README.md" || name == "LICENSE") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    const ScanReport r = scan(bytes.str());
    if (name.starts_with("benign")) {
      EXPECT_EQ(r.verdict, Verdict::kSafe) << name;
      continue;
    }
    ++dangerous;
    EXPECT_EQ(r.verdict, Verdict::kDangerous) << name;
    std::vector<std::string> named;
    for (const ScanGlobal& g : r.globals) {
      if (g.tier == Tier::kDangerous) {
        EXPECT_NE(g.reason, "") << name;
        named.push_back(g.module + "." + g.name);
      }
    }
    EXPECT_FALSE(named.empty()) << name;
    if (const auto it = expected.find(name); it != expected.end()) {
      EXPECT_NE(std::find(named.begin(), named.end(), it->second), named.end())
          << name << " should name " << it->second;
    }
  }
  EXPECT_GE(dangerous, 80u);
}

// A pickle of a million small records walks in a stack and memo of tokens: far less than
// its loaded value, and the limit stops a walk that would pass it.
TEST(ScanTest, WalkMemoryIsBoundedByTheLimit) {
  std::string data = "\x80\x04]\x94("s;
  for (int i = 0; i < 100000; ++i) {
    data += "}\x94\x8c\x02id\x94J"s + std::string(4, '\x01') + "s"s;
    if (i % 1000 == 999) data += "e("s;
  }
  data += "e."s;
  EXPECT_EQ(scan(data, {.limit_bytes = 4 << 20}).verdict, Verdict::kSafe);
  const ScanReport small = scan(data, {.limit_bytes = 64 << 10});
  EXPECT_EQ(small.verdict, Verdict::kOverLimit);
}

// A far memo index (kept apart from the dense memo) stays reachable once the dense memo
// grows past it; and a memo miss is malformed, with the loader's message.
TEST(ScanTest, FarMemoIndicesStayReachable) {
  const std::string data =
      "\x80\x02Nr\x70\x11\x01\x00"
      "0Nr\x60\xea\x00\x00"
      "0Nr\x71\x11\x01\x00"
      "0j\x70\x11\x01\x00."s;
  const ScanReport r = scan(data);
  EXPECT_EQ(r.verdict, Verdict::kSafe) << r.error;
  EXPECT_EQ(r.error, "");
  const ScanReport missing = scan(
      "\x80\x02Nr\x70\x11\x01\x00"
      "0j\x71\x11\x01\x00."s);
  EXPECT_EQ(missing.verdict, Verdict::kMalformed);
  EXPECT_NE(missing.error.find("Memo value not found at index 70001"), std::string::npos)
      << missing.error;
}

}  // namespace
}  // namespace ouro::pickle
