// `convert` against CPython: for values made by python3, ouro's dumps(loads(data), q) must be
// CPython's pickle.dumps(pickle.loads(data), q) byte for byte. These cases need ouro to know
// more than the bytes it read: which writer CPython uses for a reduce (NEWOBJ, NEWOBJ_EX),
// which strings CPython shares after loading (singletons, interned attribute and global
// names), and the order CPython's set table iterates in (hash seed 0, as the oracle runs).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ouro/pickle/pickle.h"
#include "ouro/pickle/pickletools.h"
#include "ouro/value/value.h"
#include "pickle/blob_io.h"
#include "support/heap_fixture.h"
#include "support/python_oracle.h"

namespace ouro::pickle {
namespace {

using ouro::testing::BlobReader;
using ouro::testing::run_python;

// Classes the cases use, on the Python side only (ouro loads them in inspect mode).
constexpr std::string_view kClasses = R"PY(
import pickle, collections

class Plain:
    def __init__(self, **attrs): self.__dict__.update(attrs)

class WithNewArgs:
    def __new__(cls, *args): return object.__new__(cls)
    def __init__(self, a, b): self.a, self.b = a, b
    def __getnewargs__(self): return (self.a, self.b)

class WithNewArgsEx:
    def __new__(cls, *args, **kwargs): return object.__new__(cls)
    def __init__(self, a, *, b): self.a, self.b = a, b
    def __getnewargs_ex__(self): return ((self.a,), {'b': self.b})

class Slotted:
    __slots__ = ('x', 'y')
    def __init__(self, x, y): self.x, self.y = x, y

class q:
    pass

class ListWithNewArgs(list):
    def __new__(cls, *args): return list.__new__(cls)
    def __init__(self, tag, items): super().__init__(items); self.tag = tag
    def __getnewargs__(self): return (self.tag, [])
)PY";

// Writes records: for each case (`CASES`: (value, source protocols, target protocols)) and
// each source p and target q, a label, data = dumps(x, p) and dumps(loads(data), q).
constexpr std::string_view kRunner = R"PY(
for index, (value, sources, targets) in enumerate(CASES):
    for source in sources:
        data = pickle.dumps(value, source)
        for target in targets:
            put('case %d: dumps with protocol %d, convert to %d' % (index, source, target))
            put(data)
            put(pickle.dumps(pickle.loads(data), target))
)PY";

class RoundTripTest : public testing::HeapTest {
 protected:
  /// Runs `cases` (Python defining CASES) and checks every conversion; returns the count.
  int expect_convert_matches_python(const std::string& cases) {
    const auto py = run_python(std::string(testing::kBlobPython) + std::string(kClasses) + cases +
                               std::string(kRunner));
    EXPECT_EQ(py.status, 0) << py.err;
    BlobReader reader(py.out);
    int checked = 0;
    while (!reader.done()) {
      const std::string label(reader.next()), data(reader.next()), expected(reader.next());
      const int target = label.back() - '0';
      std::string ours;
      try {
        LoadOptions options;
        options.policy = Policy::kInspect;
        ours = dumps(loads(data, options), {.protocol = target});
      } catch (const std::exception& e) {
        ADD_FAILURE() << label << ": " << e.what();
        continue;
      }
      EXPECT_TRUE(ours == expected) << label << "\n--- ouro:\n"
                                    << disassembly(ours) << "--- python3:\n"
                                    << disassembly(expected);
      ++checked;
    }
    return checked;
  }

  static std::string disassembly(const std::string& data) {
    std::ostringstream out;
    try {
      dis(std::as_bytes(std::span<const char>(data.data(), data.size())), out);
    } catch (const std::exception& e) {
      out << "error: " << e.what() << "\n";
    }
    return out.str();
  }
};

// NEWOBJ with arguments (protocol 2+) and NEWOBJ_EX with keyword arguments (protocol 4+)
// are written back as such; NEWOBJ_EX converted to protocol 2 or 3 becomes CPython's
// functools.partial(cls.__new__, cls, *args, **kwargs)() (for a class defining __new__).
// Below protocol 2 CPython asks the class again (copyreg._reconstructor), which a loaded
// value cannot do.
TEST_F(RoundTripTest, NewObjWithArgumentsIsWrittenAsNewObj) {
  OURO_REQUIRE_PYTHON();
  const int checked = expect_convert_matches_python(R"PY(
P2, P4 = [2, 3, 4, 5], [4, 5]
shared = WithNewArgs('s', 2)
shared_ex = WithNewArgsEx('s', b=(1, 2))
CASES = [
    (WithNewArgs(1, 'two'), P2, P2),
    (WithNewArgs((1, 2), [3]), P2, P2),
    ([shared, shared, WithNewArgs(shared, None)], P2, P2),
    (WithNewArgsEx(1, b=2), P4, P2),
    (WithNewArgsEx('text', b=[1, 2]), P4, P2),
    ([WithNewArgsEx(1, b=2), WithNewArgs(3, 4)], P4, P2),
    ([shared_ex, shared_ex, WithNewArgsEx(shared_ex, b='b'), 'b', 'text'], P4, P2),
    (ListWithNewArgs('t', [1, 2, 3]), P2, P2),
]
)PY");
  EXPECT_EQ(checked, 4 * 16 + 4 * 8);
}

// CPython 3.11's string identities after loading: a one-character latin-1 str is the cached
// singleton; BUILD interns attribute names (an interned 'x' is another object than the
// singleton 'x'), and so is a class's qualname; other equal strings loaded separately stay
// separate objects. Each decides a memo PUT/GET.
TEST_F(RoundTripTest, StringIdentityFollowsCPython) {
  OURO_REQUIRE_PYTHON();
  const int checked = expect_convert_matches_python(R"PY(
ALL, P2 = range(6), [2, 3, 4, 5]
runtime = lambda text: ''.join(list(text))   # an equal str that is not the interned one
CASES = [
    ([Plain(x=1), 'x'], ALL, ALL),
    ([Plain(x='x', y='x')], ALL, ALL),
    (['x', Plain(x=1), Plain(x=2, y='y')], ALL, ALL),
    ([Plain(name='name'), 'name', runtime('name')], ALL, ALL),
    ([Plain(abc=1), runtime('abc'), runtime('abc')], ALL, ALL),
    ([Plain(a=1, b=2), Plain(a=3, b=4), {'a': 1, 'b': 2}, ['a', 'b']], ALL, ALL),
    ([q, Plain(q=1), 'q'], ALL, ALL),
    ([Slotted(1, 'x'), 'y', Plain(x='y')], P2, P2),
    (WithNewArgsEx('a', b=[1, 'b']), [4, 5], [4, 5]),
    ([runtime('same'), runtime('same'), 'é', 'é', 'ĕ', 'ĕ'], ALL, ALL),
]
)PY");
  EXPECT_EQ(checked, 8 * 36 + 16 + 4);
}

// Sets iterate in CPython's table order, so convert writes CPython's ADDITEMS / FROZENSET /
// set([...]) sequences: ints, floats, bools, tuples of them, and str/bytes (hash seed 0),
// with tables that grew, and sets built with deletions before being pickled.
TEST_F(RoundTripTest, SetsConvertInCPythonsOrder) {
  OURO_REQUIRE_PYTHON();
  const int checked = expect_convert_matches_python(R"PY(
ALL = range(6)
churned = set(range(100))
for i in range(0, 100, 3): churned.discard(i)
churned |= {1000 + i for i in range(40)}
CASES = [
    ({5, 3, 9, True, 2.5, -1, 2**70}, ALL, ALL),
    (set(range(1000)) | {-5, 10**6}, ALL, ALL),
    ({'apple', 'pear', 'fig', 'x', '', 'é', 'ĕ', '😀', b'raw', b'', (1, 'a'), (2.0, (True, b'x'))}, ALL, ALL),
    (frozenset({'k%d' % i for i in range(200)}), ALL, ALL),
    ([churned, frozenset(churned)], ALL, ALL),
    ({frozenset({1, 2}), frozenset({'a'}), (3, 4)}, ALL, ALL),
    ({i * 0.5 for i in range(-50, 50)}, ALL, ALL),
]
)PY");
  EXPECT_EQ(checked, 7 * 36);
}

// `show` prints repr(): the loaded set's order is CPython's too.
TEST_F(RoundTripTest, SetReprIsCPythons) {
  OURO_REQUIRE_PYTHON();
  const auto py = run_python(std::string(testing::kBlobPython) + R"PY(
import pickle
values = [{3, 1, 2, 17, 9}, {'b', 'a', 'c', 'abc', 'é'}, frozenset(range(30, 0, -3)),
          {(1, 2), (2, 1), 1.5, -7}, set('the quick brown fox jumps over the lazy dog')]
for v in values:
    for proto in range(6):
        data = pickle.dumps(v, proto)
        put(data)
        put(repr(pickle.loads(data)))
)PY");
  ASSERT_EQ(py.status, 0) << py.err;
  BlobReader reader(py.out);
  int checked = 0;
  while (!reader.done()) {
    const std::string data(reader.next()), expected(reader.next());
    EXPECT_EQ(repr(loads(data)), expected);
    ++checked;
  }
  EXPECT_EQ(checked, 30);
}

}  // namespace
}  // namespace ouro::pickle
