// CPython's Lib/test/pickletester.py (3.11), the unpickling half, as data-driven tests:
// test_load_from_data (DATA0-DATA4 and the Python 2 pickles), test_bad_stack, test_bad_mark,
// test_truncated_data, test_badly_quoted_string and test_correctly_quoted_string. Where
// pickletester only checks the exception class, the exact class and message are also
// compared with python3's C unpickler on the same bytes (these inputs name only builtins).
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ouro/pickle/pickle.h"
#include "ouro/value/value.h"
#include "pickle/blob_io.h"
#include "pickle/pickletester_data.h"
#include "support/heap_fixture.h"
#include "support/python_oracle.h"

namespace ouro::pickle {
namespace {

using namespace std::string_view_literals;

class PickletesterTest : public testing::HeapTest {
 protected:
  UnpicklingError load_error(std::string_view data, const LoadOptions& options = {}) {
    const std::size_t before = live_objects();
    try {
      Value v = loads(data, options);
      ADD_FAILURE() << "loaded " << repr(v);
    } catch (const UnpicklingError& e) {
      EXPECT_EQ(live_objects(), before) << e.what();
      EXPECT_TRUE(heap().verify());
      return e;
    }
    return UnpicklingError("", "", -1, "");
  }

  // Compares ouro's errors with CPython's for each input, exactly.
  void expect_cpython_errors(std::span<const std::string_view> inputs, const LoadOptions& options) {
    OURO_REQUIRE_PYTHON();
    const auto expected = testing::cpython_load_errors(inputs);
    ASSERT_EQ(expected.size(), inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      SCOPED_TRACE(::testing::PrintToString(std::string(inputs[i])));
      const UnpicklingError e = load_error(inputs[i], options);
      EXPECT_EQ(e.python_type(), expected[i].first);
      EXPECT_EQ(e.message(), expected[i].second);
    }
  }
};

LoadOptions allowing(std::vector<std::string> names) {
  LoadOptions o;
  o.allow = std::move(names);
  return o;
}

// create_data(): [0, 1, 2.0, 3.0+0j, 1, -1, 255, -255, -256, 65535, -65535, -65536,
// 2147483647, -2147483647, -2147483648, y, y, 5] with y = ('abc', 'abc', c, c), c a C with
// foo=1, bar=2.
void expect_create_data(const Value& v) {
  const List& x = v.as<List>();
  ASSERT_EQ(x.size(), 18u);
  std::string ints;
  for (std::size_t i : {0, 1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 17}) ints += repr(x[i]) + " ";
  EXPECT_EQ(ints,
            "0 1 1 -1 255 -255 -256 65535 -65535 -65536 2147483647 -2147483647 -2147483648 5 ");
  EXPECT_EQ(repr(x[2]), "2.0");
  const Reduce& complex = x[3].as<Reduce>();  // complex is inert (docs/pickle.md)
  EXPECT_EQ(complex.callable.as<Global>().qualname(), "complex");
  EXPECT_EQ(repr(complex.args), "(3.0, 0.0)");
  EXPECT_TRUE(x[15].is_same(x[16]));
  const Tuple& y = x[15].as<Tuple>();
  ASSERT_EQ(y.size(), 4u);
  EXPECT_EQ(repr(y[0]), "'abc'");
  EXPECT_TRUE(y[2].is_same(y[3]));
  const Instance& c = y[2].as<Instance>();
  EXPECT_EQ(c.cls().as<Global>().module(), "__main__");
  EXPECT_EQ(c.cls().as<Global>().qualname(), "C");
  EXPECT_EQ(c.get_attr("foo")->as<int>(), 1);
  EXPECT_EQ(c.get_attr("bar")->as<int>(), 2);
}

TEST_F(PickletesterTest, LoadFromData0To4) {
  for (const testdata::PickletesterCase& c : testdata::kPickletesterCases) {
    if (!c.name.starts_with("DATA") || c.name.size() != 5) continue;  // DATA0..DATA4
    SCOPED_TRACE(std::string(c.name));
    // The class C must be allowed; without it strict mode names it.
    EXPECT_NE(load_error(c.data).message().find("'__main__.C'"), std::string::npos);
    expect_create_data(loads(c.data, allowing({"__main__.C"})));
  }
}

TEST_F(PickletesterTest, LoadPython2Pickles) {
  EXPECT_EQ(repr(loads(testdata::kDataSetBytes)), "{1, 2}");
  EXPECT_EQ(repr(loads(testdata::kDataSet2Bytes)), "{3}");
  const Value r = loads(testdata::kDataXrangeBytes);
  EXPECT_EQ(r.as<Reduce>().callable.as<Global>().qualname(), "range");
  EXPECT_EQ(repr(r.as<Reduce>().args), "(0, 5, 1)");
  EXPECT_NE(load_error(testdata::kDataCookieBytes).message().find("'http.cookies.SimpleCookie'"),
            std::string::npos);
  EXPECT_NE(load_error(testdata::kDataUeerrBytes).message().find("'builtins.UnicodeEncodeError'"),
            std::string::npos);
  LoadOptions inspect;
  inspect.policy = Policy::kInspect;
  const Value cookie = loads(testdata::kDataCookieBytes, inspect);
  EXPECT_TRUE(cookie.is<Reduce>()) << repr(cookie);  // a dict subclass: its items are kept
  const Value ueerr = loads(testdata::kDataUeerrBytes, inspect);
  EXPECT_EQ(repr(ueerr.as<Reduce>().args), "('ascii', 'foo', 0, 1, 'bad')");
}

constexpr std::string_view kBadStack[] = {
    "."sv,           "0"sv,      "1"sv,
    "2"sv,           "(2"sv,     "R"sv,
    ")R"sv,          "a"sv,      "Na"sv,
    "b"sv,           "Nb"sv,     "d"sv,
    "e"sv,           "(e"sv,     "ibuiltins\nlist\n"sv,
    "l"sv,           "o"sv,      "(o"sv,
    "p1\n"sv,        "q\x00"sv,  "r\x00\x00\x00\x00"sv,
    "s"sv,           "Ns"sv,     "NNs"sv,
    "t"sv,           "u"sv,      "(u"sv,
    "}(Nu"sv,        "\x81"sv,   ")\x81"sv,
    "\x85"sv,        "\x86"sv,   "N\x86"sv,
    "\x87"sv,        "N\x87"sv,  "NN\x87"sv,
    "\x90"sv,        "(\x90"sv,  "\x91"sv,
    "\x92"sv,        ")}\x92"sv, "\x93"sv,
    "Vlist\n\x93"sv, "\x94"sv,
};

TEST_F(PickletesterTest, BadStack) { expect_cpython_errors(kBadStack, {}); }

constexpr std::string_view kBadMark[] = {
    "N(."sv,
    "N(2"sv,
    "cbuiltins\nlist\n)(R"sv,
    "cbuiltins\nlist\n()R"sv,
    "]N(a"sv,
    "cbuiltins\nValueError\n)R}(b"sv,
    "cbuiltins\nValueError\n)R(}b"sv,
    "(Nd"sv,
    "N(p1\n"sv,
    "N(q\x00"sv,
    "N(r\x00\x00\x00\x00"sv,
    "}NN(s"sv,
    "}N(Ns"sv,
    "}(NNs"sv,
    "}((u"sv,
    "cbuiltins\nlist\n)(\x81"sv,
    "cbuiltins\nlist\n()\x81"sv,
    "N(\x85"sv,
    "NN(\x86"sv,
    "N(N\x86"sv,
    "NNN(\x87"sv,
    "NN(N\x87"sv,
    "N(NN\x87"sv,
    "]((\x90"sv,
    "cbuiltins\nlist\n)}(\x92"sv,
    "cbuiltins\nlist\n)(}\x92"sv,
    "cbuiltins\nlist\n()}\x92"sv,
    "Vbuiltins\n(Vlist\n\x93"sv,
    "Vbuiltins\nVlist\n(\x93"sv,
    "N(\x94"sv,
};

TEST_F(PickletesterTest, BadMark) {
  // builtins.ValueError is no data type; allowed here so that the stack errors show.
  expect_cpython_errors(kBadMark, allowing({"builtins.ValueError"}));
}

constexpr std::string_view kTruncated[] = {
    "B"sv,
    "B\x03\x00\x00"sv,
    "B\x03\x00\x00\x00"sv,
    "B\x03\x00\x00\x00"
    "ab"sv,
    "C"sv,
    "C\x03"sv,
    "C\x03"
    "ab"sv,
    "F"sv,
    "F0.0"sv,
    "F0.00"sv,
    "G"sv,
    "G\x00\x00\x00\x00\x00\x00\x00"sv,
    "I"sv,
    "I0"sv,
    "J"sv,
    "J\x00\x00\x00"sv,
    "K"sv,
    "L"sv,
    "L0"sv,
    "L10"sv,
    "L0L"sv,
    "L10L"sv,
    "M"sv,
    "M\x00"sv,
    "S"sv,
    "S'abc'"sv,
    "T"sv,
    "T\x03\x00\x00"sv,
    "T\x03\x00\x00\x00"sv,
    "T\x03\x00\x00\x00"
    "ab"sv,
    "U"sv,
    "U\x03"sv,
    "U\x03"
    "ab"sv,
    "V"sv,
    "Vabc"sv,
    "X"sv,
    "X\x03\x00\x00"sv,
    "X\x03\x00\x00\x00"sv,
    "X\x03\x00\x00\x00"
    "ab"sv,
    "(c"sv,
    "(cbuiltins"sv,
    "(cbuiltins\n"sv,
    "(cbuiltins\nlist"sv,
    "Ng"sv,
    "Ng0"sv,
    "(i"sv,
    "(ibuiltins"sv,
    "(ibuiltins\n"sv,
    "(ibuiltins\nlist"sv,
    "Nh"sv,
    "Nj"sv,
    "Nj\x00\x00\x00"sv,
    "Np"sv,
    "Np0"sv,
    "Nq"sv,
    "Nr"sv,
    "Nr\x00\x00\x00"sv,
    "\x80"sv,
    "\x82"sv,
    "\x83"sv,
    "\x84\x01"sv,
    "\x84"sv,
    "\x84\x01\x00\x00"sv,
    "\x8a"sv,
    "\x8b"sv,
    "\x8b\x00\x00\x00"sv,
    "\x8c"sv,
    "\x8c\x03"sv,
    "\x8c\x03"
    "ab"sv,
    "\x8d"sv,
    "\x8d\x03\x00\x00\x00\x00\x00\x00"sv,
    "\x8d\x03\x00\x00\x00\x00\x00\x00\x00"sv,
    "\x8d\x03\x00\x00\x00\x00\x00\x00\x00"
    "ab"sv,
    "\x8e"sv,
    "\x8e\x03\x00\x00\x00\x00\x00\x00"sv,
    "\x8e\x03\x00\x00\x00\x00\x00\x00\x00"sv,
    "\x8e\x03\x00\x00\x00\x00\x00\x00\x00"
    "ab"sv,
    "\x96"sv,
    "\x96\x03\x00\x00\x00\x00\x00\x00"sv,
    "\x96\x03\x00\x00\x00\x00\x00\x00\x00"sv,
    "\x96\x03\x00\x00\x00\x00\x00\x00\x00"
    "ab"sv,
    "\x95"sv,
    "\x95\x02\x00\x00\x00\x00\x00\x00"sv,
    "\x95\x02\x00\x00\x00\x00\x00\x00\x00"sv,
    "\x95\x02\x00\x00\x00\x00\x00\x00\x00N"sv,
};

TEST_F(PickletesterTest, TruncatedData) {
  EXPECT_EQ(load_error(""sv).python_type(), "EOFError");
  EXPECT_EQ(load_error("N"sv).python_type(), "EOFError");
  // pickletester's truncated_errors for the C unpickler (ImportError cannot happen here).
  const std::set<std::string> allowed = {"UnpicklingError", "EOFError", "AttributeError",
                                         "ValueError", "IndexError"};
  for (std::string_view c : kTruncated) {
    SCOPED_TRACE(::testing::PrintToString(std::string(c)));
    const UnpicklingError e = load_error(c);
    EXPECT_TRUE(allowed.contains(e.python_type())) << e.what();
    EXPECT_GE(e.offset(), 0);
  }
}

TEST_F(PickletesterTest, BadlyQuotedString) {
  constexpr std::string_view bad[] = {
      "S'\n."sv,    "S\"\n."sv,     "S' \n."sv,  "S\" \n."sv,   "S'\"\n."sv, "S\"'\n."sv,
      "S' ' \n."sv, "S\" \" \n."sv, "S ''\n."sv, "S \"\"\n."sv, "S \n."sv,   "S\n."sv,
  };
  expect_cpython_errors(bad, {});
  EXPECT_EQ(load_error("S."sv).python_type(), "UnpicklingError");
}

TEST_F(PickletesterTest, CorrectlyQuotedString) {
  EXPECT_EQ(repr(loads("S''\n."sv)), "''");
  EXPECT_EQ(repr(loads("S\"\"\n."sv)), "''");
  EXPECT_EQ(repr(loads("S\"\\n\"\n."sv)), "'\\n'");
  EXPECT_EQ(repr(loads("S'\\n'\n."sv)), "'\\n'");
}

}  // namespace
}  // namespace ouro::pickle
