// Tests of ouro::Value and the operations on every value (value.h, src/value/value.cpp):
// the tagged encoding, checked conversions, Python's equality and hash rules across types,
// truth values, sizes, deep nesting (recursion errors, never a crash) and the heap limit.
#include "ouro/value/value.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ouro/core/gc.h"
#include "support/heap_fixture.h"
#include "support/python_oracle.h"

namespace ouro {
namespace {

using testing::HeapTest;

class ValueTest : public HeapTest {};

TEST_F(ValueTest, ImmediatesNeedNoHeapObject) {
  const std::size_t before = live_objects();
  Value none, t = true, f = false, zero = 0, big = kSmallIntMax, small = kSmallIntMin;
  EXPECT_EQ(live_objects(), before);
  EXPECT_TRUE(none.is_none());
  EXPECT_TRUE(t.is_bool());
  EXPECT_TRUE(t.as<bool>());
  EXPECT_FALSE(f.as<bool>());
  EXPECT_TRUE(zero.is_small_int());
  EXPECT_EQ(big.as<std::int64_t>(), kSmallIntMax);
  EXPECT_EQ(small.as<std::int64_t>(), kSmallIntMin);
  EXPECT_EQ(getsizeof(big), 0u);
  EXPECT_EQ(none.type_name(), "NoneType");
  EXPECT_EQ(t.type_name(), "bool");
  EXPECT_EQ(zero.type_name(), "int");
  EXPECT_FALSE(t.is_int());  // type(True) is bool
}

TEST_F(ValueTest, IntsBeyondTheImmediateRangeAreCanonicalObjects) {
  Value above = kSmallIntMax + 1, below = kSmallIntMin - 1;
  Value max64 = std::numeric_limits<std::int64_t>::max();
  Value umax = std::numeric_limits<std::uint64_t>::max();
  EXPECT_TRUE(above.is<Int>());
  EXPECT_TRUE(below.is<Int>());
  EXPECT_TRUE(above.is_int());
  EXPECT_EQ(above.as<std::int64_t>(), kSmallIntMax + 1);
  EXPECT_EQ(below.as<std::int64_t>(), kSmallIntMin - 1);
  EXPECT_EQ(max64.as<std::int64_t>(), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(umax.as<std::uint64_t>(), std::numeric_limits<std::uint64_t>::max());
  EXPECT_THROW(umax.as<std::int64_t>(), OverflowError);
  EXPECT_THROW(Value(-1).as<unsigned>(), OverflowError);
  EXPECT_THROW(Value(1 << 20).as<std::int16_t>(), OverflowError);
  // Arithmetic results that become small again are immediates.
  std::uint64_t limb = 5;
  EXPECT_TRUE(Int::from_limbs(heap(), {&limb, 1}, true).is_small_int());
  EXPECT_EQ(Int::to_decimal(umax), "18446744073709551615");
  EXPECT_EQ(repr(Int::from_decimal("-123456789012345678901234567890")),
            "-123456789012345678901234567890");
  EXPECT_THROW(Int::from_decimal("12a"), ValueError);
}

TEST_F(ValueTest, TwosComplementBytesAsPickleWritesThem) {
  auto hex = [](const std::vector<std::byte>& b) {
    std::string s;
    for (std::byte x : b) s += fmt::format("{:02x}", std::to_integer<int>(x));
    return s;
  };
  EXPECT_EQ(hex(Int::to_bytes(0)), "");
  EXPECT_EQ(hex(Int::to_bytes(255)), "ff00");
  EXPECT_EQ(hex(Int::to_bytes(-256)), "00ff");
  EXPECT_EQ(hex(Int::to_bytes(true)), "01");
  Value big = Int::from_decimal("-340282366920938463463374607431768211456");  // -2^128
  const std::vector<std::byte> b = Int::to_bytes(big);
  EXPECT_EQ(hex(b), "00000000000000000000000000000000ff");
  EXPECT_EQ(Int::from_bytes(b), big);
  EXPECT_THROW(Int::to_bytes("x"), TypeError);
}

TEST_F(ValueTest, CheckedConversionsNameBothTypes) {
  Value s = "text";
  EXPECT_EQ(s.as<std::string_view>(), "text");
  EXPECT_EQ(s.as<std::string>(), "text");
  try {
    (void)s.as<List>();
    FAIL() << "no TypeError";
  } catch (const TypeError& e) {
    EXPECT_STREQ(e.what(), "expected list, got str");
  }
  EXPECT_THROW(s.as<std::int64_t>(), TypeError);
  EXPECT_THROW(Value(1).as<bool>(), TypeError);
  EXPECT_DOUBLE_EQ(Value(3).as<double>(), 3.0);
  EXPECT_DOUBLE_EQ(Value(2.5).as<double>(), 2.5);
  EXPECT_EQ(Value(true).as<int>(), 1);
  EXPECT_EQ(s.get_if<List>(), nullptr);
  EXPECT_NE(s.get_if<Str>(), nullptr);
  EXPECT_THROW(Value(std::string_view("\xc0\x80")), UnicodeDecodeError);
  Value surrogate = std::string_view("\xed\xa0\x80");  // U+D800, as surrogatepass writes
  EXPECT_EQ(surrogate.as<Str>().size(), 1u);
}

TEST_F(ValueTest, CopiesShareTheObjectAndCountReferences) {
  Value a = list({1, 2});
  Object* o = a.object();
  EXPECT_EQ(o->refcount(), 1u);
  {
    Value b = a;
    EXPECT_EQ(o->refcount(), 2u);
    EXPECT_TRUE(b.is_same(a));
    Value c = std::move(b);
    EXPECT_TRUE(b.is_none());
    EXPECT_EQ(o->refcount(), 2u);
  }
  EXPECT_EQ(o->refcount(), 1u);
  const std::size_t before = live_objects();
  a = nullptr;
  EXPECT_EQ(live_objects(), before - 1);
}

TEST_F(ValueTest, NumbersCompareAndHashAcrossTypes) {
  Value one = 1, one_f = 1.0, yes = true;
  EXPECT_TRUE(equals(one, one_f));
  EXPECT_TRUE(equals(one, yes));
  EXPECT_TRUE(equals(yes, one_f));
  EXPECT_EQ(hash(one), hash(one_f));
  EXPECT_EQ(hash(one), hash(yes));
  EXPECT_FALSE(equals(one, Value(1.5)));
  EXPECT_FALSE(equals(one, Value("1")));
  EXPECT_FALSE(equals(Value(), Value(false)));
  Value big = Int::from_decimal("9007199254740993");  // 2^53 + 1: no double equals it
  EXPECT_FALSE(equals(big, Value(9007199254740992.0)));
  EXPECT_TRUE(equals(Int::from_decimal("9007199254740992"), Value(9007199254740992.0)));
  Value p = Int::from_decimal("2305843009213693951");  // 2^61 - 1 hashes to 0
  EXPECT_EQ(hash(p), 0);
  EXPECT_EQ(hash(Value(-1)), -2);
  Value nan = std::nan("");
  EXPECT_FALSE(equals(nan, nan));  // nan != nan, even the same object
  EXPECT_FALSE(equals(list({std::nan("")}), list({std::nan("")})));  // two NaN objects
  Value l = list({nan});
  Value l2 = list({l.as<List>()[0]});
  EXPECT_TRUE(equals(l, l2));  // same object inside: identity first
  EXPECT_EQ(hash(Value(std::numeric_limits<double>::infinity())), 314159);
}

TEST_F(ValueTest, HashesMatchCPythonForNumbersTuplesAndFrozensets) {
  OURO_REQUIRE_PYTHON();
  const std::vector<Value> values = {0,
                                     -1,
                                     1 << 30,
                                     kSmallIntMax,
                                     Int::from_decimal("123456789012345678901234567890"),
                                     0.5,
                                     -2.75,
                                     1e300,
                                     tuple({}),
                                     tuple({1, 2.5}),
                                     tuple({tuple({1}), -7}),
                                     frozenset({}),
                                     frozenset({1, 2, 3}),
                                     frozenset({tuple({1, 2}), 0.25}),
                                     true,
                                     false};
  const char* python =
      "import sys\n"
      "vals = [0, -1, 1 << 30, 2**62 - 1, 123456789012345678901234567890, 0.5, -2.75, 1e300,\n"
      "        (), (1, 2.5), ((1,), -7), frozenset(), frozenset({1, 2, 3}),\n"
      "        frozenset({(1, 2), 0.25}), True, False]\n"
      "for v in vals: print(hash(v))\n";
  testing::PythonResult r = testing::run_python(python);
  ASSERT_EQ(r.status, 0) << r.err;
  std::string expected;
  for (const Value& v : values) expected += std::to_string(hash(v)) + "\n";
  EXPECT_EQ(expected, r.out);
}

TEST_F(ValueTest, UnhashableTypesGiveAClearError) {
  for (const Value& v : {list({}), dict({}), set({}), bytearray("x"), tuple({1, list({})})}) {
    try {
      (void)hash(v);
      FAIL() << repr(v) << " hashed";
    } catch (const TypeError& e) {
      EXPECT_TRUE(std::string(e.what()).starts_with("unhashable type: '")) << e.what();
    }
    EXPECT_FALSE(is_hashable(v));
  }
  try {
    (void)hash(dict({}));
  } catch (const TypeError& e) {
    EXPECT_STREQ(e.what(), "unhashable type: 'dict'");
  }
  EXPECT_TRUE(is_hashable(tuple({1, "a", frozenset({2})})));
}

TEST_F(ValueTest, ContainersCompareByContent) {
  EXPECT_EQ(list({1, "a", 2.0}), list({1.0, "a", 2}));
  EXPECT_NE(list({1, 2}), tuple({1, 2}));
  EXPECT_EQ(tuple({1, tuple({2})}), tuple({true, tuple({2.0})}));
  EXPECT_EQ(dict({{"a", 1}, {"b", 2}}), dict({{"b", 2}, {"a", 1}}));
  EXPECT_NE(dict({{"a", 1}}), dict({{"a", 2}}));
  EXPECT_EQ(set({1, 2}), frozenset({2, 1}));
  EXPECT_EQ(bytes("ab"), bytearray("ab"));
  EXPECT_NE(bytes("ab"), Value("ab"));
  Value g1 = Global::make(heap(), "m", "C"), g2 = Global::make(heap(), "m", "C");
  EXPECT_EQ(g1, g2);
  EXPECT_EQ(hash(g1), hash(g2));
  Value i1 = Instance::make(heap(), g1), i2 = Instance::make(heap(), g1);
  EXPECT_NE(i1, i2);
  EXPECT_EQ(i1, i1);
}

TEST_F(ValueTest, TruthValues) {
  EXPECT_FALSE(truthy(Value()));
  EXPECT_FALSE(truthy(0));
  EXPECT_FALSE(truthy(0.0));
  EXPECT_FALSE(truthy(""));
  EXPECT_FALSE(truthy(list({})));
  EXPECT_FALSE(truthy(dict({})));
  EXPECT_TRUE(truthy(list({0})));
  EXPECT_TRUE(truthy("0"));
  EXPECT_TRUE(truthy(Int::from_decimal("-99999999999999999999")));
}

TEST_F(ValueTest, SizesCountBlocksAndOwnedArrays) {
  EXPECT_EQ(getsizeof(Value(5)), 0u);
  EXPECT_EQ(getsizeof(Value(0.5)), 32u);          // 16 header + 8 double, 16-byte class
  EXPECT_EQ(getsizeof(Value("user12345")), 48u);  // 32 + 9 bytes inline
  Value l = list({"a", "b"});
  EXPECT_EQ(getsizeof(l), 48u + 16u);  // object with links + 2-item array
  Value d = dict({{"id", 1}, {"name", "x"}, {"score", 0.5}, {"tags", l}});
  EXPECT_EQ(getsizeof(d), 48u + 80u);  // object + exact 4-entry table
  Value shared = "shared";
  Value pair = list({shared, shared});
  EXPECT_EQ(deep_sizeof(pair), getsizeof(pair) + getsizeof(shared));
  Value self = list({});
  self.as<List>().append(self);
  EXPECT_EQ(deep_sizeof(self), getsizeof(self));
  self.as<List>().clear();
}

TEST_F(ValueTest, DeepNestingNeverOverflowsTheStack) {
  constexpr int kDepth = 1'000'000;
  Value deep = list({});
  for (int i = 0; i < kDepth; ++i) deep = list({deep});
  Value deep2 = list({});
  for (int i = 0; i < kDepth; ++i) deep2 = list({deep2});
  try {
    (void)repr(deep);
    FAIL() << "no RecursionError";
  } catch (const RecursionError& e) {
    EXPECT_STREQ(e.what(), "maximum recursion depth exceeded while getting the repr of an object");
  }
  try {
    (void)equals(deep, deep2);
    FAIL() << "no RecursionError";
  } catch (const RecursionError& e) {
    EXPECT_STREQ(e.what(), "maximum recursion depth exceeded in comparison");
  }
  EXPECT_THROW((void)hash(deep), TypeError);  // a list: unhashable at the top
  Value deep_tuple = tuple({});
  for (int i = 0; i < 5000; ++i) deep_tuple = tuple({deep_tuple});
  EXPECT_THROW((void)hash(deep_tuple), RecursionError);
  EXPECT_EQ(deep_sizeof(deep), std::size_t{kDepth} * getsizeof(list({1})) + getsizeof(list({})));
  const std::size_t before = live_objects();
  deep = nullptr;  // 1,000,001 nested lists die through the trashcan
  deep2 = nullptr;
  deep_tuple = nullptr;
  EXPECT_EQ(live_objects(), before - 2 * (kDepth + 1) - 5001);
  // After the errors, depth accounting is back to zero: shallow work still succeeds.
  Value nested = list({});
  for (int i = 0; i < 900; ++i) nested = list({nested});
  EXPECT_EQ(repr(nested).size(), 2u * 901);
  EXPECT_TRUE(equals(nested, nested));
}

TEST_F(ValueTest, CPythonAlsoRaisesRecursionErrorForTheSameShapes) {
  OURO_REQUIRE_PYTHON();
  testing::PythonResult r = testing::run_python(
      "l = []\n"
      "for i in range(100000): l = [l]\n"
      "try: repr(l)\n"
      "except RecursionError as e: print(e)\n"
      "m = []\n"
      "for i in range(100000): m = [m]\n"
      "try: l == m\n"
      "except RecursionError as e: print(e)\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "maximum recursion depth exceeded while getting the repr of an object\n"
            "maximum recursion depth exceeded in comparison\n");
}

TEST_F(ValueTest, RecursionLimitIsAdjustable) {
  Value nested = list({});
  for (int i = 0; i < 50; ++i) nested = list({nested});
  const std::size_t old = recursion_limit();
  set_recursion_limit(20);
  EXPECT_THROW((void)repr(nested), RecursionError);
  set_recursion_limit(old);
  EXPECT_NO_THROW((void)repr(nested));
}

class LimitTest : public HeapTest {
 protected:
  LimitTest()
      : HeapTest({.arena_size = 64 << 10, .pool_size = 4 << 10, .limit_bytes = 256 << 10}) {}
};

TEST_F(LimitTest, MemoryErrorLeavesContainersUnchangedAndTheHeapConsistent) {
  Value l = list({});
  List& items = l.as<List>();
  bool failed = false;
  std::size_t size_at_failure = 0;
  try {
    for (int i = 0;; ++i) items.append(Value(0.5 * i));
  } catch (const MemoryError&) {
    failed = true;
    size_at_failure = items.size();
  }
  ASSERT_TRUE(failed);
  EXPECT_TRUE(heap().verify());
  EXPECT_EQ(items.size(), size_at_failure);
  EXPECT_EQ(items[size_at_failure - 1].as<double>(),
            0.5 * static_cast<double>(size_at_failure - 1));
  // A dict too big to build: the half-made dict is not reachable and is freed.
  const std::size_t before = live_objects();
  EXPECT_THROW((void)Dict::make(heap(), 1'000'000), MemoryError);
  EXPECT_EQ(live_objects(), before);
  Value d = dict({});
  Dict& dd = d.as<Dict>();
  l = nullptr;  // room again
  for (int i = 0; i < 1000; ++i) dd.set(i, i);
  EXPECT_EQ(dd.size(), 1000u);
  EXPECT_TRUE(heap().verify());
  // Fill again until the dict cannot grow: its contents stay intact.
  Value keep = list({});
  try {
    for (int i = 0;; ++i) keep.as<List>().append(Value(std::to_string(i)));
  } catch (const MemoryError&) {
  }
  try {
    for (int i = 1000;; ++i) dd.set(i, i);
  } catch (const MemoryError&) {
  }
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(dd.at(i).as<int>(), i);
  EXPECT_TRUE(heap().verify());
}

}  // namespace
}  // namespace ouro
