// The JSON mapping (src/value/json.cpp): plain JSON types, the '$' forms for what JSON
// lacks, exact round trips of every type, and the errors for cycles and bad input.
#include "ouro/value/json.h"

#include <gtest/gtest.h>

#include <cmath>

#include "ouro/value/value.h"
#include "support/heap_fixture.h"

namespace ouro {
namespace {

class JsonTest : public testing::HeapTest {};

TEST_F(JsonTest, PlainTypesMapDirectly) {
  Value v = dict(
      {{"id", 1}, {"name", "user1"}, {"score", 0.5}, {"tags", list({"a", Value()})}, {"ok", true}});
  EXPECT_EQ(to_json(v).dump(),
            R"({"id":1,"name":"user1","score":0.5,"tags":["a",null],"ok":true})");
  EXPECT_EQ(from_json(heap(), Json::parse(R"({"b": [1, 2.5], "a": null})")),
            dict({{"b", list({1, 2.5})}, {"a", Value()}}));
  EXPECT_EQ(repr(from_json(heap(), nlohmann::json::parse(R"({"b": 1, "a": 2})"))),
            "{'a': 2, 'b': 1}");  // plain nlohmann::json sorts keys
}

TEST_F(JsonTest, EveryTypeRoundTrips) {
  Value g = Global::make(heap(), "m", "C");
  Ref<Reduce> r = Reduce::make(heap(), g, tuple({1}));
  r->listitems = list({2});
  const std::vector<Value> values = {Int::from_decimal("123456789012345678901234567890"),
                                     Int::from_decimal("-9223372036854775808"),
                                     Value(std::numeric_limits<std::uint64_t>::max()),
                                     Value(std::nan("")),
                                     Value(-INFINITY),
                                     tuple({1, tuple({})}),
                                     set({1, "a"}),
                                     frozenset({2.5}),
                                     bytes(std::string("\0\xff'x", 4)),
                                     bytearray("abc"),
                                     dict({{1, "int key"}, {"s", 2}}),
                                     dict({{"$tuple", 1}}),
                                     g,
                                     Instance::make(heap(), g, dict({{"x", 1}})),
                                     r,
                                     Value("\xed\xa0\x80")};
  for (const Value& v : values) {
    const Json j = to_json(v);
    const Value back = from_json(heap(), Json::parse(j.dump()));
    EXPECT_EQ(repr(back).substr(0, 12), repr(v).substr(0, 12)) << j.dump();
    if (!v.is<Instance>() && !v.is<Reduce>() && !(v.is<Float>() && std::isnan(v.as<double>()))) {
      EXPECT_TRUE(equals(back, v)) << j.dump();
    }
    EXPECT_EQ(back.type_name(), v.type_name()) << j.dump();
  }
  EXPECT_EQ(to_json(dict({{1, 2}})).dump(), R"({"$dict":[[1,2]]})");
  EXPECT_EQ(to_json(bytes("hi")).dump(), R"({"$bytes":"aGk="})");
}

TEST_F(JsonTest, CyclesAndBadInputGiveClearErrors) {
  Value l = list({});
  l.as<List>().append(l);
  try {
    (void)to_json(l);
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(), "Circular reference detected");
  }
  l.as<List>().clear();
  Value shared = list({1});
  EXPECT_EQ(to_json(list({shared, shared})).dump(), "[[1],[1]]");
  EXPECT_THROW(from_json(heap(), Json::parse(R"({"$nope": 1})")), ValueError);
  EXPECT_THROW(from_json(heap(), Json::parse(R"({"$int": "12x"})")), ValueError);
}

}  // namespace
}  // namespace ouro
