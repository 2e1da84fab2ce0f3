// ouro::pickle::register_type: a C++ type pickles as a Python class and loads back into
// the C++ type. The seed's ComplexDataObject (SCENARIOS.md 1: an int, a str, a list holding
// a dict and a tuple, and a nested object) goes both ways with python3: python3 loads
// ouro's bytes into matching Python classes, and ouro loads python3's bytes.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>

#include "ouro/pickle/pickle.h"
#include "ouro/value/value.h"
#include "pickle/blob_io.h"
#include "support/heap_fixture.h"
#include "support/python_oracle.h"

namespace ouro::pickle {
namespace {

using ouro::testing::BlobReader;
using ouro::testing::run_python;

/// The nested object of the scenario: one message.
class NestedObject final : public Object {
 public:
  static constexpr std::string_view kTypeName = "NestedObject";
  explicit NestedObject(std::string text) : message(std::move(text)) {}
  std::string message;

 private:
  ~NestedObject() override = default;
};

/// The scenario's ComplexDataObject.
class ComplexDataObject final : public Object {
 public:
  static constexpr std::string_view kTypeName = "ComplexDataObject";
  ComplexDataObject(std::int64_t n, std::string t, Value list, Ref<NestedObject> inner)
      : number(n), text(std::move(t)), items(std::move(list)), nested(std::move(inner)) {}
  void traverse(Visitor& visit) override {
    items.visit(visit);
    visit(nested);
  }
  void clear() override {
    items = Value();
    nested = nullptr;
  }

  std::int64_t number;
  std::string text;
  Value items;  // a list
  Ref<NestedObject> nested;

 private:
  ~ComplexDataObject() override = default;
};

// The same classes on the Python side; state is the instance __dict__. The dict key
// 'nested' is built at run time: as a literal CPython would intern it and share it with the
// attribute name 'nested' (one object, so one memo entry), which the C++ data does not do.
constexpr std::string_view kPythonClasses = R"PY(
class NestedObject:
    def __init__(self, message):
        self.message = message

class ComplexDataObject:
    def __init__(self):
        self.number = 1024
        self.text = 'Sample Text'
        self.items = [1, 2, 3, {''.join(['nes', 'ted']): 'dict'}, ('tuple', 42)]
        self.nested = NestedObject('I am nested')
)PY";

void register_scenario_types() {
  static const bool once = [] {
    register_type<NestedObject>(
        "__main__", "NestedObject",
        [](const NestedObject& o) {
          return dict({{"message", o.message}});
        },
        [](const Value& state) {
          return make<NestedObject>(state.as<Dict>().at("message").as<std::string>());
        });
    register_type<ComplexDataObject>(
        "__main__", "ComplexDataObject",
        [](const ComplexDataObject& o) {
          return dict({{"number", o.number},
                       {"text", o.text},
                       {"items", o.items},
                       {"nested", Value(o.nested)}});
        },
        [](const Value& state) {
          const Dict& d = state.as<Dict>();
          return make<ComplexDataObject>(d.at("number").as<std::int64_t>(),
                                         d.at("text").as<std::string>(), d.at("items"),
                                         d.at("nested").ref<NestedObject>());
        });
    return true;
  }();
  (void)once;
}

class RegistryTest : public ouro::testing::HeapTest {
 protected:
  void SetUp() override { register_scenario_types(); }
  Value scenario_object() {
    Value items = list({1, 2, 3, dict({{"nested", "dict"}}), tuple({"tuple", 42})});
    return Value(
        make<ComplexDataObject>(1024, "Sample Text", items, make<NestedObject>("I am nested")));
  }
};

TEST_F(RegistryTest, FindsRegistrationsByTypeAndName) {
  const TypeRegistration* by_type = find_registration(detail::type_id_of<ComplexDataObject>());
  ASSERT_NE(by_type, nullptr);
  EXPECT_EQ(by_type->qualname, "ComplexDataObject");
  EXPECT_EQ(find_registration("__main__", "NestedObject"),
            find_registration(detail::type_id_of<NestedObject>()));
  EXPECT_EQ(find_registration("__main__", "Missing"), nullptr);
}

// Registered objects pickle exactly as CPython pickles instances of the Python classes.
TEST_F(RegistryTest, DumpsLikeCPythonForEveryProtocol) {
  OURO_REQUIRE_PYTHON();
  const auto r = run_python(std::string(kPythonClasses) + std::string(ouro::testing::kBlobPython) +
                            "import pickle\n"
                            "for proto in range(6):\n"
                            "    put(pickle.dumps(ComplexDataObject(), proto))\n");
  ASSERT_EQ(r.status, 0) << r.err;
  BlobReader reader(r.out);
  const Value v = scenario_object();
  for (int proto = 0; proto <= 5; ++proto) {
    EXPECT_EQ(dumps(v, {.protocol = proto}), std::string(reader.next())) << "protocol " << proto;
  }
}

// python3 loads ouro's bytes into its classes and reads the fields back.
TEST_F(RegistryTest, Python3LoadsOurosBytesIntoMatchingClasses) {
  OURO_REQUIRE_PYTHON();
  std::string input;
  for (int proto = 0; proto <= 5; ++proto) {
    ouro::testing::put_blob(input, dumps(scenario_object(), {.protocol = proto}));
  }
  const auto r = run_python(std::string(kPythonClasses) + std::string(ouro::testing::kBlobPython) +
                                "import pickle\n"
                                "for data in read_blobs(sys.stdin.buffer.read()):\n"
                                "    o = pickle.loads(data)\n"
                                "    print(type(o).__name__, o.number, o.text, o.items,\n"
                                "          type(o.nested).__name__, o.nested.message)\n",
                            input);
  ASSERT_EQ(r.status, 0) << r.err;
  std::string expected;
  for (int proto = 0; proto <= 5; ++proto) {
    expected +=
        "ComplexDataObject 1024 Sample Text [1, 2, 3, {'nested': 'dict'}, ('tuple', 42)] "
        "NestedObject I am nested\n";
  }
  EXPECT_EQ(r.out, expected);
}

// python3 pickles its object; ouro loads it back into the C++ types.
TEST_F(RegistryTest, LoadsPython3sBytesIntoTheCppTypes) {
  OURO_REQUIRE_PYTHON();
  const auto r = run_python(std::string(kPythonClasses) + std::string(ouro::testing::kBlobPython) +
                            "import pickle\n"
                            "for proto in range(6):\n"
                            "    put(pickle.dumps(ComplexDataObject(), proto))\n");
  ASSERT_EQ(r.status, 0) << r.err;
  BlobReader reader(r.out);
  for (int proto = 0; proto <= 5; ++proto) {
    const Value v = loads(reader.next());
    ASSERT_TRUE(v.is<ComplexDataObject>()) << "protocol " << proto << ": " << v.type_name();
    const auto& o = v.as<ComplexDataObject>();
    EXPECT_EQ(o.number, 1024);
    EXPECT_EQ(o.text, "Sample Text");
    EXPECT_EQ(repr(o.items), "[1, 2, 3, {'nested': 'dict'}, ('tuple', 42)]");
    ASSERT_TRUE(o.nested);
    EXPECT_EQ(o.nested->message, "I am nested");
  }
}

TEST_F(RegistryTest, RoundTripsThroughOuroItself) {
  for (int proto = 0; proto <= 5; ++proto) {
    const Value v = loads(dumps(scenario_object(), {.protocol = proto}));
    ASSERT_TRUE(v.is<ComplexDataObject>()) << "protocol " << proto;
    EXPECT_EQ(v.as<ComplexDataObject>().nested->message, "I am nested");
  }
}

}  // namespace
}  // namespace ouro::pickle
