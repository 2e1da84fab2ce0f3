// ouro::pickle::register_fields: a plain C++ class registered from its named fields pickles
// as CPython pickles an instance of the matching Python class (byte for byte), python3 loads
// ouro's bytes into that class, and ouro loads python3's bytes back into the C++ type.
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

class NestedClass final : public Object {
 public:
  std::string message;

 private:
  ~NestedClass() override = default;
};

// The seed's ComplexDataObject, with fields named as the Python attributes.
class ComplexDataObject final : public Object {
 public:
  std::int64_t integer = 0;
  std::string string;
  Value list;
  Ref<NestedClass> nested;

  void traverse(Visitor& visit) override {
    list.visit(visit);
    visit(nested);
  }
  void clear() override {
    list = nullptr;
    nested = nullptr;
  }

 private:
  ~ComplexDataObject() override = default;
};

class Point final : public Object {
 public:
  int x = 0;
  double y = 0;
  bool flag = false;

 private:
  ~Point() override = default;
};

constexpr std::string_view kPythonClasses = R"PY(
class NestedClass:
    pass

class ComplexDataObject:
    def __init__(self):
        self.integer = 1024
        self.string = 'Sample Text'
        self.list = [1, 2, 3, {''.join(['nes', 'ted']): 'dict'}, ('tuple', 42)]
        self.nested = NestedClass()
        self.nested.message = 'I am nested'
)PY";

void register_once() {
  static const bool once = [] {
    register_fields<NestedClass>("__main__", "NestedClass", {{"message", &NestedClass::message}});
    register_fields<ComplexDataObject>("__main__", "ComplexDataObject",
                                       {{"integer", &ComplexDataObject::integer},
                                        {"string", &ComplexDataObject::string},
                                        {"list", &ComplexDataObject::list},
                                        {"nested", &ComplexDataObject::nested}});
    register_fields<Point>("geometry", "Point",
                           {{"x", &Point::x}, {"y", &Point::y}, {"flag", &Point::flag}});
    return true;
  }();
  (void)once;
}

// python3's pickle (protocol 2) of a geometry.Point whose __dict__ is `state` (Python text).
std::string python_point_pickle(std::string_view state) {
  const auto r = run_python(
      "import pickle, sys, types\n"
      "class Point: pass\n"
      "Point.__module__ = 'geometry'\n"
      "m = types.ModuleType('geometry'); m.Point = Point; sys.modules['geometry'] = m\n"
      "p = Point(); p.__dict__.update(" +
      std::string(state) + ")\nsys.stdout.buffer.write(pickle.dumps(p, 2))\n");
  EXPECT_EQ(r.status, 0) << r.err;
  return r.out;
}

class RegisterFieldsTest : public ouro::testing::HeapTest {
 protected:
  void SetUp() override { register_once(); }
  Value scenario_object() {
    auto nested = make<NestedClass>();
    nested->message = "I am nested";
    auto o = make<ComplexDataObject>();
    o->integer = 1024;
    o->string = "Sample Text";
    o->list = ouro::list({1, 2, 3, dict({{"nested", "dict"}}), tuple({"tuple", 42})});
    o->nested = nested;
    return o;
  }
};

// python3 pickles its ComplexDataObject with every protocol: ouro writes the same bytes for
// the C++ object, and loads python3's bytes back into the C++ types.
TEST_F(RegisterFieldsTest, SameBytesAsCPythonBothWays) {
  OURO_REQUIRE_PYTHON();
  const auto r = run_python(std::string(kPythonClasses) + std::string(ouro::testing::kBlobPython) +
                            "import pickle\n"
                            "for proto in range(6):\n"
                            "    put(pickle.dumps(ComplexDataObject(), proto))\n");
  ASSERT_EQ(r.status, 0) << r.err;
  BlobReader reader(r.out);
  const Value mine = scenario_object();
  for (int proto = 0; proto <= 5; ++proto) {
    const std::string theirs(reader.next());
    EXPECT_EQ(dumps(mine, {.protocol = proto}), theirs) << "protocol " << proto;
    const Value v = loads(theirs);
    ASSERT_TRUE(v.is<ComplexDataObject>()) << "protocol " << proto << ": " << v.type_name();
    const auto& o = v.as<ComplexDataObject>();
    EXPECT_EQ(o.integer, 1024);
    EXPECT_EQ(o.string, "Sample Text");
    EXPECT_EQ(repr(o.list), "[1, 2, 3, {'nested': 'dict'}, ('tuple', 42)]");
    ASSERT_TRUE(o.nested);
    EXPECT_EQ(o.nested->message, "I am nested");
  }
}

TEST_F(RegisterFieldsTest, Python3LoadsTheBytesIntoMatchingClasses) {
  OURO_REQUIRE_PYTHON();
  std::string input;
  for (int proto = 0; proto <= 5; ++proto) {
    ouro::testing::put_blob(input, dumps(scenario_object(), {.protocol = proto}));
  }
  // Loaded by python3, each is the same object as the one its own class builds: pickling
  // both again gives equal bytes.
  const auto r = run_python(std::string(kPythonClasses) + std::string(ouro::testing::kBlobPython) +
                                "import pickle\n"
                                "expected = pickle.dumps(ComplexDataObject(), 5)\n"
                                "for data in read_blobs(sys.stdin.buffer.read()):\n"
                                "    o = pickle.loads(data)\n"
                                "    print(pickle.dumps(o, 5) == expected, o.nested.message)\n",
                            input);
  ASSERT_EQ(r.status, 0) << r.err;
  std::string expected;
  for (int proto = 0; proto <= 5; ++proto) expected += "True I am nested\n";
  EXPECT_EQ(r.out, expected);
}

TEST_F(RegisterFieldsTest, ScalarsRoundTripAndMissingFieldsKeepDefaults) {
  auto p = make<Point>();
  p->x = -7;
  p->y = 2.5;
  p->flag = true;
  const Value back = loads(dumps(Value(p)));
  ASSERT_TRUE(back.is<Point>());
  EXPECT_EQ(back.as<Point>().x, -7);
  EXPECT_EQ(back.as<Point>().y, 2.5);
  EXPECT_TRUE(back.as<Point>().flag);
  // A state without 'y' and 'flag' (an older version of the class) keeps their defaults.
  OURO_REQUIRE_PYTHON();
  const Value old = loads(python_point_pickle("{'x': 3}"));
  ASSERT_TRUE(old.is<Point>());
  EXPECT_EQ(old.as<Point>().x, 3);
  EXPECT_EQ(old.as<Point>().y, 0.0);
}

TEST_F(RegisterFieldsTest, BadStatesNameTheClassAndTheAttribute) {
  const std::size_t before = live_objects();
  OURO_REQUIRE_PYTHON();
  // The unpickler reports the restore's TypeError with the offset of the BUILD.
  try {
    (void)loads(python_point_pickle("{'x': 'three'}"));
    FAIL();
  } catch (const UnpicklingError& e) {
    EXPECT_EQ(e.python_type(), "TypeError");
    EXPECT_EQ(e.message(), "geometry.Point: x: expected int, got str");
    EXPECT_EQ(e.opcode(), "BUILD");
  }
  try {
    (void)loads(python_point_pickle("{'z': 1}"));
    FAIL();
  } catch (const UnpicklingError& e) {
    EXPECT_EQ(e.message(), "geometry.Point: no registered field for attribute 'z'");
  }
  EXPECT_EQ(live_objects(), before);  // nothing half-built is left behind
}

}  // namespace
}  // namespace ouro::pickle
