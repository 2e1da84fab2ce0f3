// tools/ouro/cpython_sizes: `ouro pickle stats`' estimate of what a pickle's value costs in
// CPython 3.11, checked against python3's own sys.getsizeof of what pickle.loads builds
// (every distinct object once, minus CPython's shared singletons) for lists, dicts and sets
// of many sizes, grown by APPEND / SETITEM (protocol 0) or batches (protocols 1-5), and for
// complex / range / slice; and the caveat for objects only their library can size.
#include "cpython_sizes.h"

#include <gtest/gtest.h>

#include <string>

#include "cli/deep_size_oracle.h"
#include "ouro/pickle/pickle.h"
#include "ouro/value/value.h"
#include "pickle/blob_io.h"
#include "pickle/catalogue.h"
#include "support/heap_fixture.h"
#include "support/python_oracle.h"

namespace ouro::cli {
namespace {

using ouro::testing::BlobReader;
using ouro::testing::run_python;

class CPythonSizesTest : public ouro::testing::HeapTest {
 protected:
  static pickle::LoadOptions inspect() {
    pickle::LoadOptions options;
    options.policy = pickle::Policy::kInspect;
    return options;
  }

  /// Pickles each of `values` (Python code defining the list `values`) with every protocol
  /// and checks the estimate of what loads with `options` against python3's deep_size of
  /// what pickle.loads gives; returns how many pickles were checked.
  static int expect_estimates_match(const std::string& values, const pickle::LoadOptions& options) {
    const auto py = run_python(std::string(testing::kBlobPython) +
                               std::string(testing::kDeepSizePython) + values + R"PY(
for v in values:
    for proto in range(6):
        data = pickle.dumps(v, proto)
        put(data)
        put(str(deep_size(pickle.loads(data))))
)PY");
    EXPECT_EQ(py.status, 0) << py.err;
    BlobReader reader(py.out);
    int checked = 0;
    while (!reader.done()) {
      const std::string data(reader.next()), expected(reader.next());
      const Value v = pickle::loads(data, options);
      const CPythonEstimate estimate = estimate_cpython_size(v, cpython_build_of(data));
      EXPECT_EQ(estimate.bytes, std::stoull(expected))
          << "protocol " << checked % 6 << ": " << pickle::catalogue_repr(v).substr(0, 120);
      EXPECT_TRUE(estimate.not_sized.empty());
      ++checked;
    }
    return checked;
  }
};

TEST_F(CPythonSizesTest, MatchesSysGetsizeofForEveryProtocolAndSize) {
  OURO_REQUIRE_PYTHON();
  const int checked = expect_estimates_match(R"PY(
SIZES = [0, 1, 2, 3, 4, 5, 6, 8, 9, 12, 16, 17, 18, 19, 25, 33, 100, 999, 1000, 1001, 2500]
values = []
for n in SIZES:
    values += [list(range(1000, 1000 + n)), {i + 1000: -i - 1000 for i in range(n)},
               {'key%d' % i: i + 1000 for i in range(n)}, set(range(1000, 1000 + n)),
               frozenset('k%d' % i for i in range(n)), [[i + 1000] * (n % 7) for i in range(n % 40)]]
values += [[complex(1, 2), range(10 ** 20), slice(1, None, 2000)], (complex(0, 1), range(3), slice(None))]
)PY",
                                             inspect());
  EXPECT_EQ(checked, (21 * 6 + 2) * 6);
}

// The catalogue's standard-library objects (datetime family, Decimal, Fraction, UUID,
// Counter, defaultdict, deque with and without maxlen) and what they hold.
TEST_F(CPythonSizesTest, CatalogueObjectsMatchSysGetsizeof) {
  OURO_REQUIRE_PYTHON();
  // Strict loading: all of them are in the catalogue.
  const int checked = expect_estimates_match(R"PY(
import collections, datetime as dt, decimal, fractions, uuid
D, utc = decimal.Decimal, dt.timezone.utc
est = dt.timezone(dt.timedelta(hours=-5), 'EST')
values = [
    dt.date(2024, 1, 2), dt.time(1, 2), dt.time(1, 2, tzinfo=est), dt.datetime(2024, 1, 2),
    [dt.datetime(2024, 1, 2, tzinfo=utc), dt.datetime(2024, 1, 3, tzinfo=est), est],
    dt.timedelta(1, 2, 3), utc, dt.timezone(dt.timedelta(0), 'UTC'), est,
    D('1.10'), D('1' * 76), D('1' * 77), D('-' + '9' * 200 + 'E-5'), D('NaN'), D('sNaN' + '7' * 90),
    fractions.Fraction(1, 3), fractions.Fraction(2 ** 70, 3), uuid.UUID(int=5),
    uuid.UUID(int=2 ** 127 + 1, is_safe=uuid.SafeUUID.safe), uuid.SafeUUID.unsafe,
    collections.Counter('abracadabra'), collections.Counter({'k%d' % i: i + 1000 for i in range(30)}),
    collections.defaultdict(list, {'a': [1000]}), collections.defaultdict(None),
    collections.deque(), collections.deque(range(1000, 1100)), collections.deque(range(1000, 1063)),
    collections.deque(range(1000, 3100)), collections.deque(range(1000, 1200), maxlen=70),
    collections.deque(range(1000, 1010), maxlen=0), collections.deque([1000], maxlen=5),
]
)PY",
                                             {});
  EXPECT_EQ(checked, 31 * 6);
}

TEST_F(CPythonSizesTest, ProtocolZeroListsAreGrownOneAppendAtATime) {
  const std::string p0 = pickle::dumps(list({1, 2, 3}), {.protocol = 0});
  const std::string p2 = pickle::dumps(list({1, 2, 3}), {.protocol = 2});
  EXPECT_TRUE(cpython_build_of(p0).lists_by_single_appends);
  EXPECT_FALSE(cpython_build_of(p2).lists_by_single_appends);
  EXPECT_FALSE(cpython_build_of("not a pickle").lists_by_single_appends);
}

// A numpy array and a data frame, pickled by python3 as numpy and pandas do (their reducer
// and class names, made without the libraries): their bytes are not guessed but named.
TEST_F(CPythonSizesTest, LibraryObjectsAreNamedNotSized) {
  OURO_REQUIRE_PYTHON();
  const auto py = run_python(std::string(testing::kBlobPython) + R"PY(
import pickle, sys, types
def module(name):
    m = types.ModuleType(name); sys.modules[name] = m; return m
for parent in ('numpy', 'numpy.core', 'pandas', 'pandas.core'): module(parent)
multiarray = module('numpy.core.multiarray')
def _reconstruct(*args): pass
_reconstruct.__module__, _reconstruct.__qualname__ = 'numpy.core.multiarray', '_reconstruct'
multiarray._reconstruct = _reconstruct
class ndarray:
    def __reduce__(self):
        return (_reconstruct, ('ndarray', (0,), b'b'), (1, (3,), 'f8', False, b'\0' * 24))
frame = module('pandas.core.frame')
class DataFrame:
    __module__ = 'pandas.core.frame'
    def __reduce__(self): return (DataFrame, (), ('blocks', [ndarray()]))
    def __setstate__(self, state): pass
frame.DataFrame = DataFrame
multiarray.ndarray = ndarray
ndarray.__module__ = 'numpy.core.multiarray'
put(pickle.dumps([ndarray(), ndarray(), DataFrame(), [1, 2]], 4))
)PY");
  ASSERT_EQ(py.status, 0) << py.err;
  BlobReader reader(py.out);
  const std::string data(reader.next());
  const Value v = pickle::loads(data, inspect());
  const CPythonEstimate estimate = estimate_cpython_size(v, cpython_build_of(data));
  ASSERT_EQ(estimate.not_sized.size(), 2u);
  EXPECT_EQ(estimate.not_sized[0],
            std::pair(std::string("numpy.core.multiarray._reconstruct"), std::size_t{2}));
  EXPECT_EQ(estimate.not_sized[1],
            std::pair(std::string("pandas.core.frame.DataFrame"), std::size_t{1}));
  // What is sized: the outer list and the inner [1, 2], each APPENDS-grown to 8 slots.
  EXPECT_EQ(estimate.bytes, 2 * (56u + 8 * 8));
}

}  // namespace
}  // namespace ouro::cli
