// Tests of src/pickle/catalogue and catalogue_stdlib: the standard data-only globals load in
// strict mode, print as CPython's repr() and convert to CPython's bytes, from every protocol
// to every protocol, with python3 as the oracle (pickle.dumps of each value, repr of what
// pickle.loads gives back, pickle.dumps of that): the catalogue's part of the differential
// suite (tests/pickle/roundtrip_test.cpp has sets, NEWOBJ and string identity).
#include "pickle/catalogue.h"

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

class CatalogueTest : public testing::HeapTest {};

// The values, as CPython pickles them (complex/range/slice/OrderedDict reducers, builtin
// types and singletons by name, type(None) through builtins.type), alone and nested.
constexpr std::string_view kValues = R"PY(
import collections, pickle
inf, nan = float('inf'), float('nan')
VALUES = [
    complex(1, 2), complex(0, 2), complex(0, -2), complex(-0.0, 1), complex(1.5, -0.0),
    complex(0, 0), complex(1e16, 1e-5), complex(inf, nan), complex(-inf, -inf),
    complex(2.5, 0.1),
    range(5), range(1, 10, 2), range(10, 0, -3), range(2**70, 2**71, 2**65), range(0),
    slice(1, None, 3), slice(None), slice('a', [1], (2,)), slice(1.5, -2, None),
    collections.OrderedDict(), collections.OrderedDict(a=1, b=[2, 3]),
    collections.OrderedDict([((1, 2), collections.OrderedDict(x=complex(1, 1)))]),
    type(None), type(Ellipsis), type(NotImplemented),
    int, float, str, bool, bytes, bytearray, list, tuple, dict, set, frozenset, object,
    Ellipsis, NotImplemented,
    [complex(3, 4), range(3), slice(2), Ellipsis, {'t': int}],
]
)PY";

// The standard library's rows (catalogue_stdlib.cpp), host-only: collections, the datetime
// family (naive and aware, fold, every repr length), Decimal's special values and both
// notations, Fraction with big parts, UUID with each is_safe, and the classes by name.
constexpr std::string_view kStdlibValues = R"PY(
import datetime as dt, decimal, fractions, uuid
D = decimal.Decimal
utc = dt.timezone.utc
VALUES += [
    collections.defaultdict(list, {'a': [1]}), collections.defaultdict(None), collections.defaultdict(int),
    collections.defaultdict(collections.OrderedDict, {1: collections.OrderedDict(a=2)}),
    collections.Counter('abracadabra'), collections.Counter(), collections.Counter({'x': 2.5, 'y': 3, 'z': -1, 'w': 3}),
    collections.deque(), collections.deque([1, 'two', (3,)]), collections.deque(range(10), maxlen=3), collections.deque(maxlen=0),
    dt.date(2024, 1, 2), dt.date(1, 1, 1), dt.date(9999, 12, 31),
    dt.time(), dt.time(1, 2, 3, 4), dt.time(23, 59, 0, 999999), dt.time(12, 0, 5), dt.time(1, 2, tzinfo=utc),
    dt.time(1, 2, 3, fold=1), dt.time(4, 5, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)), fold=1),
    dt.datetime(2024, 1, 2, 3, 4, 5, 6), dt.datetime(2024, 1, 2), dt.datetime(2000, 2, 29, 0, 0, 7),
    dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=utc), dt.datetime(2021, 11, 7, 1, 30, fold=1),
    dt.datetime(2021, 11, 7, 1, 30, fold=1, tzinfo=dt.timezone(-dt.timedelta(hours=5), 'EST')),
    dt.timedelta(), dt.timedelta(1, 2, 3), dt.timedelta(-1), dt.timedelta(seconds=-1), dt.timedelta(microseconds=5),
    dt.timedelta(days=999999999, hours=23), dt.timedelta.min,
    utc, dt.timezone(dt.timedelta(0), 'UTC'), dt.timezone(dt.timedelta(hours=-5), 'EST'),
    dt.timezone(dt.timedelta(hours=23, minutes=59)), dt.timezone(-dt.timedelta(hours=23, microseconds=1)),
    D('1.10'), D('-0'), D('0E-10'), D('NaN'), D('-sNaN123'), D('Infinity'), D('-Infinity'), D('1E+5'),
    D('123456789012345678901234567890.5'), D('1e-7'), D('0.000001'), D(12345), D('1E+999999999999999999'),
    fractions.Fraction(1, 3), fractions.Fraction(-7, 2), fractions.Fraction(0), fractions.Fraction(5),
    fractions.Fraction(2**70, 3), fractions.Fraction(1, 2**80), fractions.Fraction(2**70 + 1, 2**80),
    uuid.UUID(int=5), uuid.UUID('12345678-1234-5678-1234-567812345678'), uuid.UUID(int=2**128 - 1),
    uuid.UUID(int=0, is_safe=uuid.SafeUUID.safe), uuid.UUID(int=2**64, is_safe=uuid.SafeUUID.unsafe),
    uuid.SafeUUID.safe, uuid.SafeUUID.unsafe, uuid.SafeUUID.unknown,
    collections.OrderedDict, collections.defaultdict, collections.Counter, collections.deque,
    dt.date, dt.time, dt.datetime, dt.timedelta, dt.timezone, D, fractions.Fraction, uuid.UUID,
    uuid.SafeUUID,
    [dt.date(2020, 5, 17), D('2.5'), {'when': dt.datetime(1999, 12, 31, 23, 59, 59)}, fractions.Fraction(3, 4)],
]
)PY";

TEST_F(CatalogueTest, StrictLoadPrintsCPythonsRepr) {
  OURO_REQUIRE_PYTHON();
  const auto py = run_python(std::string(testing::kBlobPython) + std::string(kValues) +
                             std::string(kStdlibValues) + R"PY(
put(str(len(VALUES)))
for v in VALUES:
    for proto in range(6):
        data = pickle.dumps(v, proto)
        put(data)
        put(repr(pickle.loads(data)))
        for target in range(6):
            put(pickle.dumps(pickle.loads(data), target))
)PY");
  ASSERT_EQ(py.status, 0) << py.err;
  BlobReader reader(py.out);
  const int values = std::stoi(std::string(reader.next()));
  int checked = 0;
  while (!reader.done()) {
    const std::string data(reader.next()), expected(reader.next());
    SCOPED_TRACE(expected);
    Value v;
    ASSERT_NO_THROW(v = loads(data));  // strict: the catalogue's names are allowed
    EXPECT_EQ(catalogue_repr(v), expected) << "protocol " << checked % 6;
    for (int target = 0; target <= 5; ++target) {  // convert, to every protocol
      const std::string rewritten(reader.next());
      EXPECT_TRUE(dumps(v, {.protocol = target}) == rewritten)
          << "protocol " << checked % 6 << " to " << target;
    }
    ++checked;
  }
  EXPECT_EQ(checked, values * 6);
  EXPECT_GT(values, 100);
}

// Calls of catalogued globals in shapes CPython's reducers never write keep the generic
// text (nothing is guessed), and unknown globals are still refused in strict mode.
TEST_F(CatalogueTest, OtherShapesKeepTheGenericText) {
  const Value odd = loads("cbuiltins\ncomplex\n(I1\ntR.");  // complex(1): one int argument
  EXPECT_EQ(catalogue_repr(odd), "<reduce builtins.complex(1,)>");
  EXPECT_EQ(catalogue_repr(loads("cbuiltins\ntype\n(I1\ntR.")), "<reduce builtins.type(1,)>");
  EXPECT_THROW((void)loads("cos\nsystem\n."), UnpicklingError);
  // Values outside the catalogue print as ouro::repr does.
  const Value plain = list({1, "a", 2.5});
  EXPECT_EQ(catalogue_repr(plain), repr(plain));
}

// Calls of the standard library's rows in shapes their reducers never write, built by hand
// (protocol 0 text): where CPython's constructor normalizes (timedelta's carries, a Fraction
// in lowest terms, Decimal's canonical string) ouro prints what python3's repr prints; where
// it needs what ouro does not model (dividing big ints, non-ASCII digits) or CPython would
// raise, ouro keeps the generic <reduce ...> text and never prints a wrong repr.
TEST_F(CatalogueTest, HandWrittenCallsMatchCPythonsConstructors) {
  OURO_REQUIRE_PYTHON();
  const auto py = run_python(std::string(testing::kBlobPython) + R"PY(
import pickle
def call(module, name, *args):
    return ('c%s\n%s\n(' % (module, name) + ''.join(args) + 'tR.').encode('latin-1')
I = lambda n: 'I%d\n' % n
L = lambda n: 'L%dL\n' % n
S = lambda s: 'V%s\n' % s
B = lambda b: "c_codecs\nencode\n(V%s\nVlatin1\ntR" % b
delta = lambda *a: 'cdatetime\ntimedelta\n(' + ''.join(I(x) for x in a) + 'tR'
EXACT = [
    call('datetime', 'timedelta', I(0), I(86401), I(-1)),
    call('datetime', 'timedelta', I(1), I(2), I(3), I(4), I(5), I(6), I(7)),
    call('datetime', 'timedelta', I(-3), I(-1000000), I(-2000001)),
    call('datetime', 'timedelta'),
    call('datetime', 'timezone', delta(0, 3600), S('CET')),
    call('datetime', 'timezone', delta(0), S('UTC')),
    call('datetime', 'date', S('\\u0007\\u00e8\\u0002\\u001f')),   # str state, day not checked
    call('datetime', 'datetime', B('\\u0007\\u00e8\\u0081\\u0002\\u0003\\u0004\\u0005\\u0000\\u0000\\u0006'), 'N'),
    call('fractions', 'Fraction', I(4), I(-6)),
    call('fractions', 'Fraction', I(0), I(-5)),
    call('fractions', 'Fraction', L(2**70 + 1), L(2**65)),
    call('decimal', 'Decimal', S(' 1_000.50 ')),
    call('decimal', 'Decimal', S('-.5e-9')),
    call('decimal', 'Decimal', S('nan0012')),
    call('decimal', 'Decimal', S('1e999999999999999999')),
    call('decimal', 'Decimal', I(-42)),
    call('collections', 'deque', '(lp0\nI1\naI2\naI3\na', I(2)),
    call('collections', 'Counter', '(dp0\nVa\nF1.5\nsVb\nI2\nsVc\nI1\ns'),
    call('uuid', 'SafeUUID', 'N'),
]
GENERIC = [
    call('fractions', 'Fraction', L(2**70), L(2**80)),    # needs big-int division
    call('fractions', 'Fraction', I(1), I(0)),              # ZeroDivisionError
    call('decimal', 'Decimal', S('1e2000000000000000000')), # InvalidOperation
    call('decimal', 'Decimal', S('1 2')),
    call('datetime', 'date', B('\\u0007\\u00e8\\u000d\\u0001')),  # month 13: refused
    call('datetime', 'timedelta', I(1000000000)),           # OverflowError
    call('datetime', 'timezone', delta(1)),                 # a whole day: ValueError
    call('datetime', 'timezone', delta(0, 60), I(5)),       # the name must be a str
    call('collections', 'deque', '(t', I(-1)),              # maxlen must be >= 0
    call('uuid', 'SafeUUID', I(3)),
]
for kind, cases in (('exact', EXACT), ('generic', GENERIC)):
    for data in cases:
        put(kind)
        put(data)
        try:
            put(repr(pickle.loads(data)))
        except Exception as e:
            put(type(e).__name__)
)PY");
  ASSERT_EQ(py.status, 0) << py.err;
  BlobReader reader(py.out);
  int exact = 0, generic = 0;
  while (!reader.done()) {
    const std::string kind(reader.next()), data(reader.next()), expected(reader.next());
    SCOPED_TRACE(data);
    Value v;
    ASSERT_NO_THROW(v = loads(data));
    if (kind == "exact") {
      EXPECT_EQ(catalogue_repr(v), expected);
      ++exact;
    } else {
      EXPECT_TRUE(catalogue_repr(v).starts_with("<reduce ")) << catalogue_repr(v);
      EXPECT_NE(catalogue_repr(v), expected);
      ++generic;
    }
  }
  EXPECT_EQ(exact, 19);
  EXPECT_EQ(generic, 10);
}

}  // namespace
}  // namespace ouro::pickle
