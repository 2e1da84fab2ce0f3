// ouro::pickle::inspect_text / inspect_json: the object tree of `show --inspect`, on
// pickles python3 makes here with the standard library (instances, containers, shared
// objects, reduce calls) and on the numpy golden files of tests/data/realworld. Checks the
// exact tree text, the bounds (--depth, --max-items, the node budget), that nothing prints
// an address, and that the JSON form parses and holds the same tree.
#include "ouro/pickle/inspect.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "ouro/pickle/pickle.h"
#include "support/heap_fixture.h"
#include "support/python_oracle.h"

namespace ouro::pickle {
namespace {

class InspectTest : public testing::HeapTest {
 protected:
  // python3's pickle of `expr` (after `setup`), loaded in inspect mode.
  Value python_value(const std::string& setup, const std::string& expr, int protocol = 4) {
    const testing::PythonResult r =
        testing::run_python("import pickle, sys, collections, datetime\n" + setup +
                            "\nsys.stdout.buffer.write(pickle.dumps(" + expr + ", " +
                            std::to_string(protocol) + "))\n");
    EXPECT_EQ(r.status, 0) << r.err;
    return loads(r.out, {.policy = Policy::kInspect});
  }
};

constexpr const char* kPointClass =
    "class Point:\n"
    "    def __init__(self, x, tags):\n"
    "        self.x = x\n"
    "        self.tags = tags\n";

TEST_F(InspectTest, InstancesShowTheirStateAsAttributes) {
  OURO_REQUIRE_PYTHON();
  for (int protocol : {0, 2, 4}) {
    const Value v = python_value(kPointClass, "Point(1.5, ['a', ('b', None)])", protocol);
    EXPECT_EQ(inspect_text(v),
              "__main__.Point instance\n"
              "  .x: 1.5\n"
              "  .tags: list, 2 items\n"
              "    [0]: 'a'\n"
              "    [1]: tuple, 2 items\n"
              "      [0]: 'b'\n"
              "      [1]: None\n")
        << "protocol " << protocol;
  }
}

TEST_F(InspectTest, DictsReduceCallsAndCatalogueValues) {
  OURO_REQUIRE_PYTHON();
  const Value v = python_value(
      "", "{'when': complex(1, 2), 'od': collections.OrderedDict(a=1), 'r': range(3)}");
  EXPECT_EQ(inspect_text(v),
            "dict, 3 items\n"
            "  'when': (1+2j)\n"
            "  'od': collections.OrderedDict(…) call\n"
            "    args: tuple, 0 items\n"
            "    dictitems: dict, 1 item\n"
            "      'a': 1\n"
            "  'r': range(0, 3)\n");
}

TEST_F(InspectTest, BoundsMarkWhatIsNotShown) {
  OURO_REQUIRE_PYTHON();
  const Value many = python_value("", "list(range(30))");
  const std::string text = inspect_text(many, {.max_items = 3});
  EXPECT_EQ(text,
            "list, 30 items\n"
            "  [0]: 0\n"
            "  [1]: 1\n"
            "  [2]: 2\n"
            "  … 27 more\n");
  const Value deep = python_value("", "[[[[1]]]]");
  EXPECT_EQ(inspect_text(deep, {.max_depth = 2}),
            "list, 1 item\n"
            "  [0]: list, 1 item\n"
            "    [0]: list, 1 item … (below --depth 2)\n");
  // The node budget bounds the tree whatever the options: 50 x 50 items, 100 nodes.
  const Value wide = python_value("", "[list(range(50)) for _ in range(50)]");
  const std::string bounded = inspect_text(wide, {.max_items = 1000, .max_nodes = 100});
  EXPECT_LE(std::count(bounded.begin(), bounded.end(), '\n'), 110);
  EXPECT_NE(bounded.find("more"), std::string::npos);
  // Long texts are cut.
  const Value long_text = python_value("", "'x' * 1000");
  EXPECT_EQ(inspect_text(long_text, {.max_text = 10}), "'xxxxxxxxx…\n");
}

// An object met twice is shown once, numbered, and referred to: no address, so the text is
// the same on every run.
TEST_F(InspectTest, SharedObjectsAreNumberedNotRepeated) {
  OURO_REQUIRE_PYTHON();
  const Value v = python_value(kPointClass + std::string("p = Point(1, [])\n"), "[p, p]");
  const std::string text = inspect_text(v);
  EXPECT_EQ(text,
            "list, 2 items\n"
            "  [0]: __main__.Point instance #1\n"
            "    .x: 1\n"
            "    .tags: list, 0 items\n"
            "  [1]: ↑ #1 (shown above)\n");
  EXPECT_EQ(text.find("0x"), std::string::npos);
  const Value cycle = python_value("a = []\na.append(a)\n", "a");
  EXPECT_EQ(inspect_text(cycle), "list, 1 item #1\n  [0]: ↑ #1 (shown above)\n");
}

TEST_F(InspectTest, JsonHoldsTheSameTree) {
  OURO_REQUIRE_PYTHON();
  const Value v = python_value(kPointClass + std::string("p = Point(2, list(range(5)))\n"),
                               "{'p': p, 'again': p}");
  const nlohmann::json j = nlohmann::json::parse(inspect_json(v, {.max_items = 2}));
  EXPECT_EQ(j["kind"], "dict");
  EXPECT_EQ(j["length"], 2);
  const auto& p = j["items"][0];
  EXPECT_EQ(p["key"], "'p'");
  EXPECT_EQ(p["kind"], "instance");
  EXPECT_EQ(p["class"], "__main__.Point");
  EXPECT_EQ(p["id"], 1);
  EXPECT_EQ(p["attributes"][0]["key"], "x");
  EXPECT_EQ(p["attributes"][0]["kind"], "int");
  EXPECT_EQ(p["attributes"][0]["repr"], "2");
  EXPECT_EQ(p["attributes"][1]["kind"], "list");
  EXPECT_EQ(p["attributes"][1]["length"], 5);
  EXPECT_EQ(p["attributes"][1]["items"].size(), 2u);
  EXPECT_EQ(p["attributes"][1]["more"], 3);
  EXPECT_EQ(j["items"][1]["kind"], "ref");
  EXPECT_EQ(j["items"][1]["ref"], 1);
}

std::string read_realworld(const char* name) {
  std::ifstream in(std::filesystem::path(OURO_SOURCE_DIR) / "tests/data/realworld" / name,
                   std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

TEST_F(InspectTest, NumpyArraysShowDtypeShapeAndFirstValues) {
  const auto read = read_realworld;
  const Value fortran = loads(read("np_float32_fortran_p2.pkl"), {.policy = Policy::kInspect});
  const std::string text = inspect_text(fortran, {.first_values = 3});
  EXPECT_EQ(text.rfind("ndarray float32 shape (", 0), 0u) << text;
  EXPECT_NE(text.find("(Fortran order)"), std::string::npos) << text;
  const nlohmann::json j = nlohmann::json::parse(inspect_json(fortran, {.first_values = 3}));
  EXPECT_EQ(j["kind"], "ndarray");
  EXPECT_EQ(j["dtype"], "float32");
  EXPECT_EQ(j["first"].size(), 3u);
}

// The golden files made by scikit-learn and pandas (tools/gen/make_realworld_pickles.py):
// where repr() says only "<... object>", the tree shows the fitted model's parameters and
// its estimators, and the data frame's block manager call.
TEST_F(InspectTest, FittedModelsAndDataFramesShowWhatTheyHold) {
  const Value forest =
      loads(read_realworld("sk_random_forest_p4.pkl"), {.policy = Policy::kInspect});
  const std::string text = inspect_text(forest, {.max_depth = 3, .max_items = 3});
  EXPECT_EQ(text.rfind("sklearn.ensemble._forest.RandomForestClassifier instance\n", 0), 0u)
      << text;
  EXPECT_NE(text.find("\n  .estimator: sklearn.tree._classes.DecisionTreeClassifier instance\n"
                      "    .criterion: 'gini'\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\n  .n_estimators: 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\n  .estimator_params: tuple, 10 items\n"), std::string::npos) << text;
  EXPECT_NE(text.find("more\n"), std::string::npos) << text;  // --max-items cut the rest

  const Value frame = loads(read_realworld("pd_dataframe_p5.pkl"), {.policy = Policy::kInspect});
  const std::string frame_text = inspect_text(frame, {.max_depth = 3, .max_items = 3});
  EXPECT_EQ(frame_text.rfind("pandas.core.frame.DataFrame instance\n"
                             "  ._mgr: pandas.core.internals.managers.BlockManager(…) call\n",
                             0),
            0u)
      << frame_text;
  EXPECT_NE(frame_text.find("\n  ._typ: 'dataframe'\n"), std::string::npos) << frame_text;
}

}  // namespace
}  // namespace ouro::pickle
