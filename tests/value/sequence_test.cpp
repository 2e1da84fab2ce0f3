// Slicing, repetition and join (src/value/sequence.cpp) against python3: every combination
// of start, stop and step from a set of awkward bounds, on str (non-ASCII and ASCII),
// bytes, bytearray, list and tuple, compared by repr.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "ouro/value/value.h"
#include "support/heap_fixture.h"
#include "value_oracle.h"

namespace ouro {
namespace {

using value::testing::python_lines;

class SequenceTest : public testing::HeapTest {};

std::string bound_text(std::optional<std::int64_t> b) { return b ? std::to_string(*b) : "None"; }

TEST_F(SequenceTest, SlicesMatchCPython) {
  // The same values on both sides: python evaluates the literal, ouro builds it.
  const std::vector<std::pair<std::string, Value>> seqs = {
      {"'h\\xe9llo w\\xf6rld\\u20ac\\U0001d11e'",
       Value("h\xc3\xa9llo w\xc3\xb6rld\xe2\x82\xac\xf0\x9d\x84\x9e")},
      {"'abcdefg'", Value("abcdefg")},
      {"b'abcdefg'", bytes("abcdefg")},
      {"bytearray(b'abcde')", bytearray("abcde")},
      {"[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]", list({0, 1, 2, 3, 4, 5, 6, 7, 8, 9})},
      {"(0, 'a', 2.5, None, 4, 5, 6)", tuple({0, "a", 2.5, nullptr, 4, 5, 6})},
      {"()", tuple()},
      {"''", Value("")},
  };
  const std::vector<std::optional<std::int64_t>> bounds = {
      std::nullopt, -100, -5, -1, 0, 1, 3, 100, INT64_MIN, INT64_MAX};
  const std::vector<std::optional<std::int64_t>> steps = {std::nullopt, 1,  2,   3,    -1,
                                                          -2,           -3, 100, -100, INT64_MIN};
  std::string input;
  std::vector<std::string> mine;
  for (const auto& [literal, seq] : seqs) {
    for (auto start : bounds) {
      for (auto stop : bounds) {
        for (auto step : steps) {
          input += literal + "|" + bound_text(start) + "|" + bound_text(stop) + "|" +
                   bound_text(step) + "\n";
          mine.push_back(repr(slice(seq, {start, stop, step})));
        }
      }
    }
  }
  const auto theirs = python_lines(R"PY(
import sys
for line in sys.stdin:
    literal, start, stop, step = line.rstrip('\n').split('|')
    seq = eval(literal)
    print(repr(seq[eval(start):eval(stop):eval(step)]))
)PY",
                                   input);
  ASSERT_EQ(theirs.size(), mine.size());
  for (std::size_t i = 0; i < mine.size(); ++i) EXPECT_EQ(mine[i], theirs[i]) << "case " << i;
}

TEST_F(SequenceTest, SliceErrors) {
  try {
    (void)slice(list({1}), {.step = 0});
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(), "slice step cannot be zero");
  }
  try {
    (void)slice(5, {});
    FAIL();
  } catch (const TypeError& e) {
    EXPECT_STREQ(e.what(), "'int' object is not subscriptable");
  }
}

TEST_F(SequenceTest, RepeatAsPython) {
  const Value chunk = Value("sensor_data") * 10000;  // the embedded scenario's chunk
  EXPECT_EQ(chunk.as<Str>().size(), 110000u);
  EXPECT_EQ(slice(chunk, {.start = -11}).as<std::string_view>(), "sensor_data");
  EXPECT_EQ(repr(3 * Value("\xc3\xa9-")), "'\xc3\xa9-\xc3\xa9-\xc3\xa9-'");
  EXPECT_EQ(Value("\xc3\xa9-").as<Str>().size() * 3, (3 * Value("\xc3\xa9-")).as<Str>().size());
  EXPECT_EQ(repr(repeat(bytes("ab"), 3)), "b'ababab'");
  EXPECT_EQ(repr(repeat(bytearray("ab"), 2)), "bytearray(b'abab')");
  EXPECT_EQ(repr(repeat(list({1, "x"}), 2)), "[1, 'x', 1, 'x']");
  EXPECT_EQ(repr(repeat(tuple({1}), 3)), "(1, 1, 1)");
  EXPECT_EQ(repr(repeat(list({1}), -4)), "[]");
  EXPECT_EQ(repr(Value("abc") * 0), "''");
  // A list repeated holds the same objects, as in Python: [[]] * 2 shares the inner list.
  const Value inner = list();
  const Value twice = repeat(list({inner}), 2);
  EXPECT_TRUE(twice.as<List>()[0].is_same(twice.as<List>()[1]));
  try {
    (void)repeat(dict(), 3);
    FAIL();
  } catch (const TypeError& e) {
    EXPECT_STREQ(e.what(), "unsupported operand type(s) for *: 'dict' and 'int'");
  }
  EXPECT_THROW((void)repeat(Value("ab"), std::int64_t{1} << 40), OverflowError);
  // Empty sequences repeated a huge number of times are empty at once.
  const std::int64_t huge = std::int64_t{1} << 60;
  EXPECT_EQ(repr(repeat(Value(""), huge)), "''");
  EXPECT_EQ(repr(repeat(bytes(""), huge)), "b''");
  EXPECT_EQ(repr(repeat(bytearray(""), huge)), "bytearray(b'')");
  EXPECT_EQ(repr(repeat(list(), huge)), "[]");
  EXPECT_EQ(repr(repeat(tuple(), huge)), "()");
}

TEST_F(SequenceTest, JoinAsPython) {
  EXPECT_EQ(join(", ", list({"a", "b", "c"})).as<std::string_view>(), "a, b, c");
  EXPECT_EQ(join("", tuple({"x"})).as<std::string_view>(), "x");
  EXPECT_EQ(join("-", list()).as<std::string_view>(), "");
  EXPECT_EQ(join("\xc3\xa9", list({"a", "b"})).as<Str>().size(), 3u);
  EXPECT_EQ(repr(join(bytes(","), list({bytes("a"), bytearray("b")}))), "b'a,b'");
  EXPECT_EQ(repr(join(bytearray(","), list({bytes("a"), bytes("b")}))), "bytearray(b'a,b')");
  EXPECT_EQ(join("+", dict({{"k", 1}, {"j", 2}})).as<std::string_view>(), "k+j");
  try {
    (void)join(",", list({"a", 1}));
    FAIL();
  } catch (const TypeError& e) {
    EXPECT_STREQ(e.what(), "sequence item 1: expected str instance, int found");
  }
  try {
    (void)join(bytes(","), list({"a"}));
    FAIL();
  } catch (const TypeError& e) {
    EXPECT_STREQ(e.what(), "sequence item 0: expected a bytes-like object, str found");
  }
  try {
    (void)join(",", 5);
    FAIL();
  } catch (const TypeError& e) {
    EXPECT_STREQ(e.what(), "can only join an iterable");
  }
}

TEST_F(SequenceTest, ByteArrayReserveAndExtend) {
  Ref<ByteArray> a = ByteArray::make();
  a->reserve(1000);
  EXPECT_EQ(a->capacity(), 1000u);
  const std::size_t reserved = heap().stats().bytes_in_use;
  for (int i = 0; i < 100; ++i) a->extend(as_bytes("0123456789"));
  EXPECT_EQ(heap().stats().bytes_in_use, reserved);  // no allocation within the reserve
  a->extend(bytes("ab"));
  a->extend(list({1, 255, true}));
  EXPECT_EQ(a->size(), 1005u);
  EXPECT_EQ(repr(slice(Value(a), {.start = -5})), "bytearray(b'ab\\x01\\xff\\x01')");
  a->extend(Value(a));  // extending with itself doubles it, as in Python
  EXPECT_EQ(a->size(), 2010u);
  try {
    a->extend(list({1, 256}));
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(), "byte must be in range(0, 256)");
  }
  try {
    a->extend(Value(5));
    FAIL();
  } catch (const TypeError& e) {
    EXPECT_STREQ(e.what(), "can't extend bytearray with int");
  }
  try {
    a->extend(list({"x"}));
    FAIL();
  } catch (const TypeError& e) {
    EXPECT_STREQ(e.what(), "'str' object cannot be interpreted as an integer");
  }
  EXPECT_EQ(a->size(), 2010u);  // failed extends changed nothing
}

}  // namespace
}  // namespace ouro
