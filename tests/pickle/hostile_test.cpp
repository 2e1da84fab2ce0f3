// The hostile pickles of tests/data/hostile-pickles (picklescan's test data: os.system,
// eval, getattr chains, code objects, scanner bypasses, malformed files). Loading never
// executes anything — there is nothing in ouro that could — so what is checked is the
// policy: strict mode refuses every malicious file, naming the global or locating the
// malformation; inspect mode loads each one inertly and reports every global it names;
// no file crashes, hangs or leaks, under a 64 MiB heap limit.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ouro/pickle/pickle.h"
#include "ouro/value/value.h"
#include "pickle/opcodes.h"
#include "support/heap_fixture.h"

namespace ouro::pickle {
namespace {

namespace fs = std::filesystem;

struct HostileFile {
  std::string name;
  std::string data;
};

std::vector<HostileFile> hostile_files() {
  std::vector<HostileFile> files;
  for (const fs::directory_entry& entry :
       fs::directory_iterator(fs::path(OURO_HOSTILE_PICKLES_DIR))) {
    const std::string name = entry.path().filename().string();
    if (name == "README.md" || name == "LICENSE") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    files.push_back({name, bytes.str()});
  }
  std::sort(files.begin(), files.end(),
            [](const HostileFile& a, const HostileFile& b) { return a.name < b.name; });
  return files;
}

bool is_benign(const std::string& name) { return name.starts_with("benign"); }

// GLOBAL, INST and STACK_GLOBAL instructions of every pickle in `data` up to the first
// malformed one: the globals an inspecting load must report.
std::size_t count_global_opcodes(const std::string& data, std::size_t& pickles_read) {
  std::size_t count = 0, start = 0;
  pickles_read = 0;
  while (start < data.size()) {
    OpcodeReader reader(std::as_bytes(std::span(data.data() + start, data.size() - start)));
    try {
      while (auto ins = reader.next()) {
        const Op op = ins->info->code;
        if (op == Op::kGlobal || op == Op::kInst || op == Op::kStackGlobal) ++count;
      }
    } catch (const OpcodeError&) {
      return count;
    }
    start += reader.position();
    ++pickles_read;
  }
  return count;
}

class HostileTest : public testing::HeapTest {
 protected:
  HostileTest() : HeapTest(HeapOptions{.limit_bytes = 64 << 20}) {}

  // Loads every pickle of the file in turn (a file may hide a second pickle after STOP).
  // Returns the error that ended it, or nullopt when all loaded.
  std::optional<UnpicklingError> load_all(const std::string& data, const LoadOptions& options,
                                          std::size_t& loaded) {
    std::istringstream in(data);
    loaded = 0;
    while (in.peek() != std::char_traits<char>::eof()) {
      try {
        Value v = load(in, options);
        ++loaded;
      } catch (const UnpicklingError& e) {
        return e;
      }
    }
    return std::nullopt;
  }
};

TEST_F(HostileTest, TheDataIsThere) { EXPECT_EQ(hostile_files().size(), 87u); }

TEST_F(HostileTest, StrictRefusesEveryMaliciousFile) {
  const std::size_t before = live_objects();
  for (const HostileFile& file : hostile_files()) {
    SCOPED_TRACE(file.name);
    std::size_t loaded = 0;
    const std::optional<UnpicklingError> error = load_all(file.data, {}, loaded);
    if (is_benign(file.name)) {
      EXPECT_FALSE(error.has_value()) << error->what();
      EXPECT_EQ(loaded, 1u);
    } else {
      ASSERT_TRUE(error.has_value());
      // Either a global is named, or a malformation is located.
      const bool names_global =
          error->message().find("is not allowed by the unpickling policy") != std::string::npos;
      EXPECT_TRUE(names_global || error->offset() >= 0) << error->what();
      if (names_global) {
        EXPECT_TRUE(error->opcode() == "GLOBAL" || error->opcode() == "STACK_GLOBAL" ||
                    error->opcode() == "INST")
            << error->what();
        EXPECT_NE(error->message().find("global '"), std::string::npos) << error->what();
      }
    }
    EXPECT_EQ(live_objects(), before);
    EXPECT_TRUE(heap().verify());
  }
}

TEST_F(HostileTest, StrictNamesTheGlobals) {
  // A few files whose first global is known from their disassembly.
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"malicious2_v0.pkl", "global 'posix.system'"},
      {"malicious1_v3.pkl", "global 'builtins.eval'"},
      {"malicious0.pkl", "global 'builtins.globals'"},  // __builtin__ mapped (fix_imports)
      {"keyerror-exploit.pkl", "global 'os.system'"},
      {"malicious3.pkl", "global 'http.client.HTTPSConnection'"},
      {"malicious13a.pkl", "global 'pickle.loads'"},
  };
  const std::vector<HostileFile> files = hostile_files();
  for (const auto& [name, text] : expected) {
    SCOPED_TRACE(name);
    auto it = std::find_if(files.begin(), files.end(),
                           [&](const HostileFile& f) { return f.name == name; });
    ASSERT_NE(it, files.end());
    try {
      (void)loads(it->data);
      ADD_FAILURE() << "loaded";
    } catch (const UnpicklingError& e) {
      EXPECT_NE(e.message().find(text), std::string::npos) << e.what();
    }
  }
}

TEST_F(HostileTest, InspectLoadsInertlyAndReportsEveryGlobal) {
  const std::size_t before = live_objects();
  std::vector<std::string> failed;
  for (const HostileFile& file : hostile_files()) {
    SCOPED_TRACE(file.name);
    std::vector<std::string> reported;
    LoadOptions options;
    options.policy = Policy::kInspect;
    options.on_global = [&](std::string_view module, std::string_view name, std::int64_t offset,
                            bool) {
      EXPECT_GE(offset, 0);
      reported.push_back(std::string(module) + "." + std::string(name));
    };
    std::size_t loaded = 0, pickles = 0;
    const std::optional<UnpicklingError> error = load_all(file.data, options, loaded);
    const std::size_t globals = count_global_opcodes(file.data, pickles);
    if (error.has_value()) {
      // Only malformed pickles may fail in inspect mode, never because of the policy:
      // bytes the opcode reader cannot read either (a truncated string, garbage after
      // STOP), or shapes no data has (a missing memo key, STACK_GLOBAL of non-strings,
      // BUILD on a module-level object, i.e. setting attributes of a module).
      EXPECT_EQ(error->message().find("not allowed"), std::string::npos) << error->what();
      failed.push_back(file.name);
      EXPECT_LE(reported.size(), globals);
    } else {
      EXPECT_EQ(reported.size(), globals);
      EXPECT_GE(loaded, 1u);
    }
    if (!is_benign(file.name) && file.name != "malicious6.pkl" && file.name != "broken_model.pkl") {
      EXPECT_FALSE(reported.empty());
    }
    EXPECT_EQ(live_objects(), before);
    EXPECT_TRUE(heap().verify());
  }
  EXPECT_EQ(failed, (std::vector<std::string>{
                        "broken_model.pkl", "keyerror-exploit.pkl", "malicious-invalid-bytes.pkl",
                        "sys_module_override_sploit.pkl", "type-confusion-exploit.pkl"}));
}

TEST_F(HostileTest, InspectKeepsTheCallInert) {
  // malicious2_v0: posix.system('...') becomes a Reduce holding the Global and its args.
  const std::vector<HostileFile> files = hostile_files();
  auto it = std::find_if(files.begin(), files.end(),
                         [](const HostileFile& f) { return f.name == "malicious2_v0.pkl"; });
  ASSERT_NE(it, files.end());
  LoadOptions options;
  options.policy = Policy::kInspect;
  Value v = loads(it->data, options);
  ASSERT_TRUE(v.is<Reduce>()) << repr(v);
  const Global& g = v.as<Reduce>().callable.as<Global>();
  EXPECT_EQ(g.module(), "posix");
  EXPECT_EQ(g.qualname(), "system");
  EXPECT_TRUE(v.as<Reduce>().args.is<Tuple>());
}

}  // namespace
}  // namespace ouro::pickle
