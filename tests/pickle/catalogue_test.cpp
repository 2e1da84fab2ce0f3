// Tests of src/pickle/catalogue: the standard data-only globals load in strict mode, print
// as CPython's repr() and convert back to CPython's bytes, for every protocol, with python3
// as the oracle (pickle.dumps of each value, repr of what pickle.loads gives back).
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

TEST_F(CatalogueTest, StrictLoadPrintsCPythonsRepr) {
  OURO_REQUIRE_PYTHON();
  const auto py = run_python(std::string(testing::kBlobPython) + std::string(kValues) + R"PY(
for v in VALUES:
    for proto in range(6):
        data = pickle.dumps(v, proto)
        put(data)
        put(repr(pickle.loads(data)))
        put(pickle.dumps(pickle.loads(data), proto))
)PY");
  ASSERT_EQ(py.status, 0) << py.err;
  BlobReader reader(py.out);
  int checked = 0;
  while (!reader.done()) {
    const std::string data(reader.next()), expected(reader.next()), rewritten(reader.next());
    SCOPED_TRACE(expected);
    Value v;
    ASSERT_NO_THROW(v = loads(data));  // strict: the catalogue's names are allowed
    EXPECT_EQ(catalogue_repr(v), expected) << "protocol " << checked % 6;
    EXPECT_TRUE(dumps(v, {.protocol = checked % 6}) == rewritten) << "protocol " << checked % 6;
    ++checked;
  }
  EXPECT_EQ(checked, 40 * 6);
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

}  // namespace
}  // namespace ouro::pickle
