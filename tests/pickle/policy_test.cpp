// Tests of src/pickle/policy: the Python 2 <-> 3 name tables (fix_imports) against python3's
// own pickle module, in both directions and through the real load and dump paths.
//  - Loading: every Python 2 name of _compat_pickle's tables is mapped as CPython's
//    Unpickler.find_class maps it. The oracle runs pickle.py's find_class itself, with its
//    import step replaced by a recorder, so the answer is CPython's code on CPython's tables.
//  - Dumping: every Python 3 name of the reverse tables that python3 can import is written by
//    ouro's protocol-2 pickler with the same bytes as CPython's pickle.dumps(obj, 2).
#include "pickle/policy.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "ouro/pickle/pickle.h"
#include "ouro/value/value.h"
#include "support/heap_fixture.h"
#include "support/python_oracle.h"

namespace ouro::pickle {
namespace {

using ouro::testing::run_python;

std::vector<std::vector<std::string>> tab_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::vector<std::string> fields;
    std::size_t start = 0;
    for (std::size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1) {
      fields.push_back(line.substr(start, tab - start));
    }
    fields.push_back(line.substr(start));
    rows.push_back(std::move(fields));
  }
  return rows;
}

// Prints "module \t name \t mapped module \t mapped name" for every Python 2 name of the
// tables (and for Python 3 names and unknown ones, which must stay as they are).
constexpr std::string_view kFindClassOracle = R"PY(
import io, pickle, types, _compat_pickle as c

class Recorder:
    def __init__(self, module): self.module = module
    def __getattr__(self, name): return (self.module, name)

class Modules(dict):
    def __missing__(self, module): return Recorder(module)

# pickle.py's find_class, importing nothing: __import__ and sys.modules are stand-ins.
pickle.__import__ = lambda module, level=0: None
pickle.sys = types.SimpleNamespace(audit=lambda *args: None, modules=Modules())
u = pickle._Unpickler(io.BytesIO(b''))
u.proto = 2
cases = list(c.NAME_MAPPING)
cases += [(m, 'SomeName') for m in c.IMPORT_MAPPING]
cases += list(c.REVERSE_NAME_MAPPING)
cases += [('exceptions', 'NoSuchError'), ('os', 'system'), ('__builtin__', 'basestring')]
for module, name in cases:
    print('\t'.join([module, name, *u.find_class(module, name)]))
)PY";

class PolicyTest : public testing::HeapTest {};

TEST_F(PolicyTest, LoadingMapsEveryPython2NameAsCPythonsFindClass) {
  OURO_REQUIRE_PYTHON();
  const auto py = run_python(std::string(kFindClassOracle));
  ASSERT_EQ(py.status, 0) << py.err;
  const auto rows = tab_rows(py.out);
  ASSERT_GT(rows.size(), 250u);  // 88 names + 55 modules + 112 reverse names in 3.11
  std::size_t mapped = 0;
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 4u);
    // Through the loader: a protocol-2 GLOBAL reported to on_global after the mapping.
    std::string reported;
    LoadOptions options;
    options.policy = Policy::kInspect;
    options.on_global = [&](std::string_view module, std::string_view name, std::int64_t, bool) {
      reported = std::string(module) + "\t" + std::string(name);
    };
    (void)loads(
        "\x80\x02"
        "c" +
            row[0] + "\n" + row[1] + "\n.",
        options);
    EXPECT_EQ(reported, row[2] + "\t" + row[3]) << row[0] << "." << row[1];
    if (row[0] != row[2] || row[1] != row[3]) ++mapped;
    // And the table lookup itself.
    const std::pair<std::string_view, std::string_view> expected(row[2], row[3]);
    EXPECT_EQ(detail::map_python2_name(row[0], row[1]), expected);
  }
  EXPECT_GT(mapped, 140u);
}

TEST_F(PolicyTest, FixImportsOffOrProtocol3KeepsNames) {
  LoadOptions options;
  options.policy = Policy::kInspect;
  std::string reported;
  options.on_global = [&](std::string_view module, std::string_view name, std::int64_t, bool) {
    reported = std::string(module) + "." + std::string(name);
  };
  (void)loads(
      "\x80\x03"
      "cStringIO\nStringIO\n.",
      options);
  EXPECT_EQ(reported, "StringIO.StringIO");
  (void)loads(
      "\x80\x02"
      "cStringIO\nStringIO\n.",
      options);
  EXPECT_EQ(reported, "io.StringIO");
  options.fix_imports = false;
  (void)loads(
      "\x80\x02"
      "cStringIO\nStringIO\n.",
      options);
  EXPECT_EQ(reported, "StringIO.StringIO");
}

// Prints "module \t qualname \t hex of pickle.dumps(obj, 2)" for every reverse-table name
// python3 can import and pickle by reference under that name (module renames: the module's
// own classes).
constexpr std::string_view kDumpOracle = R"PY(
import importlib, pickle, _compat_pickle as c

def dumped(module, name):
    try:
        obj = getattr(importlib.import_module(module), name)
        if (obj.__module__, obj.__qualname__) != (module, name):
            return None  # an alias (builtins.IOError is OSError): pickled under its own name
        return pickle.dumps(obj, 2)
    except Exception:
        return None

cases = list(c.REVERSE_NAME_MAPPING)
for module in c.REVERSE_IMPORT_MAPPING:
    try:
        m = importlib.import_module(module)
    except Exception:
        continue
    names = [n for n, v in sorted(vars(m).items())
             if isinstance(v, type) and v.__module__ == module and v.__qualname__ == n]
    cases += [(module, n) for n in names[:2]]
for module, name in cases:
    data = dumped(module, name)
    if data is not None:
        print('\t'.join([module, name, data.hex()]))
)PY";

std::string from_hex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

TEST_F(PolicyTest, DumpingWritesPython2NamesAsCPython) {
  OURO_REQUIRE_PYTHON();
  const auto py = run_python(std::string(kDumpOracle));
  ASSERT_EQ(py.status, 0) << py.err;
  const auto rows = tab_rows(py.out);
  ASSERT_GT(rows.size(), 100u);
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 3u);
    const Value global(Global::make(heap(), row[0], row[1]));
    EXPECT_EQ(dumps(global, {.protocol = 2}), from_hex(row[2])) << row[0] << "." << row[1];
  }
}

// The loader's allow list takes the same patterns as scan: an exact name, or module.* for
// the module and its submodules (not a module that only starts alike).
TEST(GlobalMatchesTest, ExactNamesAndModuleWildcards) {
  EXPECT_TRUE(detail::global_matches("os.system", "os", "system"));
  EXPECT_FALSE(detail::global_matches("os.system", "os", "systems"));
  EXPECT_TRUE(detail::global_matches("a.b.C", "a.b", "C"));
  EXPECT_TRUE(detail::global_matches("a.b.C", "a", "b.C"));  // a dotted qualname
  EXPECT_TRUE(detail::global_matches("numpy.*", "numpy", "ndarray"));
  EXPECT_TRUE(detail::global_matches("numpy.*", "numpy.core.multiarray", "_reconstruct"));
  EXPECT_FALSE(detail::global_matches("numpy.*", "numpyx", "f"));
  EXPECT_FALSE(detail::global_matches("numpy.core.*", "numpy", "core"));
}

TEST_F(PolicyTest, StrictLoadsAcceptModuleWildcards) {
  const std::string data = "cmylib.models\nNet\n)R.";
  EXPECT_THROW(loads(data), UnpicklingError);
  const Value v = loads(data, {.allow = {"mylib.*"}});
  EXPECT_EQ(repr(v), "<reduce mylib.models.Net()>");
  EXPECT_THROW(loads(data, {.allow = {"mylibrary.*"}}), UnpicklingError);
}

}  // namespace
}  // namespace ouro::pickle
