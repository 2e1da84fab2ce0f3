// The pandas and scikit-learn golden files of tests/data/realworld (a DataFrame with int,
// float, str and datetime columns, a Series, a fitted LogisticRegression and a two-tree
// RandomForest, written by pandas 1.5 / scikit-learn 1.2 through
// tools/gen/make_realworld_pickles.py): inspect mode loads each inertly, strict mode
// refuses each naming a library global, and scan lists exactly the globals CPython's own
// unpickler imported for it (recorded by find_class into expected.json). Neither library
// is needed here.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "ouro/pickle/pickle.h"
#include "ouro/pickle/scan.h"
#include "ouro/value/value.h"
#include "pickle/catalogue.h"
#include "support/heap_fixture.h"

namespace ouro::pickle {
namespace {

const std::filesystem::path kData = std::filesystem::path(OURO_SOURCE_DIR) / "tests/data/realworld";

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

nlohmann::json golden_files() {
  return nlohmann::json::parse(read_file(kData / "expected.json"))["pandas_sklearn"];
}

ScanReport scan_text(const std::string& data) {
  return scan(std::as_bytes(std::span(data.data(), data.size())));
}

class PandasSklearnTest : public testing::HeapTest {};

TEST_F(PandasSklearnTest, GoldenFilesAreThere) {
  std::set<std::string> types;
  for (const nlohmann::json& f : golden_files()) {
    types.insert(f["type"].get<std::string>());
    EXPECT_LT(read_file(kData / f["file"].get<std::string>()).size(), 8192u) << f["file"];
  }
  EXPECT_EQ(types,
            (std::set<std::string>{"pandas.core.frame.DataFrame", "pandas.core.series.Series",
                                   "sklearn.linear_model._logistic.LogisticRegression",
                                   "sklearn.ensemble._forest.RandomForestClassifier"}));
}

// Inspect mode: every library global becomes an inert Global, every call an inert Reduce or
// Instance; nothing is refused, the heap stays valid, and the catalogue's printer prints it.
TEST_F(PandasSklearnTest, InspectModeLoadsEach) {
  for (const nlohmann::json& f : golden_files()) {
    const std::string file = f["file"];
    SCOPED_TRACE(file);
    LoadOptions options;
    options.policy = Policy::kInspect;
    Value v;
    ASSERT_NO_THROW(v = loads(read_file(kData / file), options));
    // The top object is an instance of the library's class (its __reduce_ex__ is
    // object's: NEWOBJ, then BUILD with its __dict__ / __getstate__ state).
    const Instance* inst = v.get_if<Instance>();
    ASSERT_NE(inst, nullptr) << v.type_name();
    const Global& cls = inst->cls().as<Global>();
    EXPECT_EQ(fmt::format("{}.{}", cls.module(), cls.qualname()), f["type"].get<std::string>());
    EXPECT_FALSE(inst->state().is_none());
    std::string text;
    ASSERT_NO_THROW(text = catalogue_repr(v));
    EXPECT_FALSE(text.empty());
    EXPECT_TRUE(heap().verify());
  }
}

// Strict mode refuses each file at its first library global, naming it, and the heap is as
// before the call.
TEST_F(PandasSklearnTest, StrictModeRefusesNamingTheGlobal) {
  for (const nlohmann::json& f : golden_files()) {
    const std::string file = f["file"];
    SCOPED_TRACE(file);
    const std::string data = read_file(kData / file);
    const ScanReport report = scan_text(data);
    std::string first_refused;
    for (const ScanGlobal& g : report.globals) {
      if (!g.allowed) {
        first_refused = g.module + "." + g.name;
        break;
      }
    }
    ASSERT_FALSE(first_refused.empty());
    const std::size_t live = heap().live_objects();
    try {
      (void)loads(data);
      ADD_FAILURE() << "strict mode loaded " << file;
    } catch (const UnpicklingError& e) {
      EXPECT_NE(std::string(e.what()).find(first_refused), std::string::npos) << e.what();
    }
    EXPECT_EQ(heap().live_objects(), live);
  }
}

// scan lists exactly what CPython imports to load the file, and allows exactly the
// catalogue's names among them (builtins.slice, numpy's reducers).
TEST_F(PandasSklearnTest, ScanListsTheGlobalsCPythonImports) {
  for (const nlohmann::json& f : golden_files()) {
    const std::string file = f["file"];
    SCOPED_TRACE(file);
    const std::string data = read_file(kData / file);
    const ScanReport report = scan_text(data);
    EXPECT_TRUE(report.error.empty()) << report.error;
    std::set<std::string> found;
    for (const ScanGlobal& g : report.globals) {
      const std::string name = g.module + "." + g.name;
      found.insert(name);
      EXPECT_EQ(g.allowed, detail::find_catalogued(g.module, g.name) != nullptr) << name;
    }
    const auto expected = f["globals"].get<std::set<std::string>>();
    EXPECT_EQ(found, expected);
  }
}

}  // namespace
}  // namespace ouro::pickle
