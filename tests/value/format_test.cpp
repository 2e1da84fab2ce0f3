// Printing (ouro/core/format.h, ouro/value/format.h): {fmt} and operator<< for Value, Ref,
// heap and gc statistics, and the py_repr() hook of user types inside containers.
#include "ouro/value/format.h"

#include <gtest/gtest.h>

#include <sstream>

#include "support/heap_fixture.h"

namespace ouro {
namespace {

class FormatTest : public testing::HeapTest {};

// A user type with its own repr, holding a Value.
class Point final : public Object {
 public:
  Point(int x, Value label) : x_(x), label_(std::move(label)) {}
  std::string py_repr() const override {
    return fmt::format("Point(x={}, label={})", x_, repr(label_));
  }
  void traverse(Visitor& visit) override { label_.visit(visit); }
  void clear() override { label_ = nullptr; }

 private:
  ~Point() override = default;
  int x_;
  Value label_;
};

// A user type without a hook: CPython's default text.
class Plain final : public Object {
 private:
  ~Plain() override = default;
};

template <class T>
std::string streamed(const T& x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

TEST_F(FormatTest, ValuesPrintTheirRepr) {
  const Value v = list({1, "a", 2.5, nullptr, bytes("b")});
  EXPECT_EQ(fmt::format("{}", v), "[1, 'a', 2.5, None, b'b']");
  EXPECT_EQ(fmt::format("{:r}", Value("a")), "'a'");
  EXPECT_EQ(fmt::format("{:s}", Value("a")), "a");  // print('a')
  EXPECT_EQ(fmt::format("{:s}", v), repr(v));
  EXPECT_EQ(streamed(dict({{"k", true}})), "{'k': True}");
  EXPECT_EQ(str(Value(7)), "7");
}

TEST_F(FormatTest, RefsPrintTheirObjectsRepr) {
  Ref<List> l = List::make({1, 2});
  EXPECT_EQ(fmt::format("{}", l), "[1, 2]");
  EXPECT_EQ(streamed(Str::make("x")), "'x'");
  Ref<Point> p = make<Point>(3, Value("here"));
  EXPECT_EQ(fmt::format("{}", p), "Point(x=3, label='here')");
  EXPECT_EQ(fmt::format("{}", Ref<Point>()), "None");
  // Containers holding user objects use the hook.
  EXPECT_EQ(repr(list({p, 1})), "[Point(x=3, label='here'), 1]");
  Ref<Plain> plain = make<Plain>();
  const std::string text = repr(list({plain}));
  EXPECT_EQ(text, fmt::format("[<ouro::(anonymous namespace)::Plain object at {}>]",
                              static_cast<const void*>(plain.get())));
}

TEST_F(FormatTest, AUserReprThatReachesItselfPrintsTheRecursionMarker) {
  Ref<List> l = List::make();
  l->append(make<Point>(1, Value(l)));
  // CPython's Py_ReprEnter is per thread; so is ouro's, across the user hook.
  EXPECT_EQ(repr(Value(l)), "[Point(x=1, label=[...])]");
}

TEST_F(FormatTest, StatisticsPrintAsPython) {
  gc::disable();
  Ref<List> a = List::make();
  a->append(a);
  a.reset();
  EXPECT_EQ(gc::collect(), 1u);
  const auto stats = gc::get_stats();
  EXPECT_EQ(fmt::format("{}", stats[2]), "{'collections': 1, 'collected': 1, 'uncollectable': 0}");
  EXPECT_EQ(fmt::format("{}", stats),
            "[{'collections': 0, 'collected': 0, 'uncollectable': 0}, "
            "{'collections': 0, 'collected': 0, 'uncollectable': 0}, "
            "{'collections': 1, 'collected': 1, 'uncollectable': 0}]");
  EXPECT_EQ(streamed(stats[0]), "{'collections': 0, 'collected': 0, 'uncollectable': 0}");
  EXPECT_EQ(streamed(gc::CollectionInfo{2, 5, 1}),
            "{'generation': 2, 'collected': 5, 'uncollectable': 1}");
  const HeapStats h = heap().stats();
  const std::string line = fmt::format("{}", h);
  EXPECT_EQ(line.rfind(fmt::format("HeapStats(bytes_in_use={}, bytes_reserved={}, ", h.bytes_in_use,
                                   h.bytes_reserved),
                       0),
            0u)
      << line;
  EXPECT_EQ(streamed(h), line);
}

}  // namespace
}  // namespace ouro
