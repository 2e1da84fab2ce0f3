// `ouro pickle` end to end: runs the built tool (OURO_CLI_PATH, set by tools/ouro's
// CMakeLists.txt) and checks it against CPython: dis against `python3 -m pickletools` (which
// only reads opcodes, so it is safe on the hostile files), show against repr() of the
// value python3 pickled, scan --json parsed by python3 and checked against the globals
// pickletools.genops finds, convert loaded back by python3 to an equal value, and stats'
// CPython estimate against sys.getsizeof. The hostile pickles are never given to CPython's
// pickle.loads.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "support/python_oracle.h"

#ifndef OURO_CLI_PATH
#define OURO_CLI_PATH ""  // tools not built: every test fails on the assertion below
#endif

namespace ouro::testing {
namespace {

namespace fs = std::filesystem;

struct CliResult {
  int status = -1;
  std::string out;
  std::string err;
};

std::string quote(const std::string& s) { return "'" + s + "'"; }

// Runs `ouro ARGS` with `input` on stdin.
CliResult run_ouro(const std::string& args, const std::string& input = "") {
  TempFile in(".in"), out(".out"), err(".err");
  in.write(input);
  const std::string command = quote(OURO_CLI_PATH) + " " + args + " < " + quote(in.path()) + " > " +
                              quote(out.path()) + " 2> " + quote(err.path());
  const int raw = std::system(command.c_str());
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, out.read(), err.read()};
}

// Pickles made by python3: name -> Python expression; each is dumped with every protocol.
const std::vector<std::pair<std::string, std::string>>& python_values() {
  static const std::vector<std::pair<std::string, std::string>> values = {
      {"scalars",
       "[None, True, False, 0, -7, 2**70, 1.5, -0.0, 'h\\xe9llo \\u20ac', b'\\x00\\xff']"},
      {"containers", "({1, 2}, frozenset({3}), {'a': [1, (2,)], 3: None}, bytearray(b'xy'), ())"},
      {"shared", "(lambda l: [l, l, {'k': l}])([1, 2])"},
      {"recursive", "(lambda l: (l.append(l), l)[1])([])"},
  };
  return values;
}

class PickleCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(std::string(OURO_CLI_PATH).empty()) << "built without tools/ouro";
    OURO_REQUIRE_PYTHON();
  }

  // Writes python3's pickle of `expr` with `protocol` to a temporary file.
  std::string python_pickle(const std::string& expr, int protocol) {
    const PythonResult r = run_python("import pickle, sys\nsys.stdout.buffer.write(pickle.dumps(" +
                                      expr + ", " + std::to_string(protocol) + "))\n");
    EXPECT_EQ(r.status, 0) << r.err;
    return r.out;
  }

  std::string write_temp(const std::string& bytes) {
    files_.push_back(std::make_unique<TempFile>(".pkl"));
    files_.back()->write(bytes);
    return files_.back()->path();
  }

  std::vector<std::unique_ptr<TempFile>> files_;
};

std::vector<std::string> hostile_files() {
  std::vector<std::string> files;
  for (const auto& entry :
       fs::directory_iterator(std::string(OURO_HOSTILE_PICKLES_DIR))) {
    if (entry.path().extension() == ".pkl") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST_F(PickleCliTest, DisMatchesPickletoolsByteForByte) {
  std::vector<std::string> files;
  for (const auto& [name, expr] : python_values()) {
    for (int protocol = 0; protocol <= 5; ++protocol)
      files.push_back(write_temp(python_pickle(expr, protocol)));
  }
  files.push_back(write_temp("\x80\x04K\x01"));  // ends before STOP
  files.push_back(write_temp("\xff"));           // unknown opcode
  for (const std::string& file : hostile_files()) files.push_back(file);
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    const CliResult ours = run_ouro("pickle dis " + quote(file));
    const PythonResult theirs = run_python(
        "import runpy, sys\nsys.argv = ['pickletools', sys.argv[1]]\n"
        "runpy.run_module('pickletools', run_name='__main__')\n",
        "", quote(file));
    EXPECT_EQ(ours.out, theirs.out);
    EXPECT_EQ(ours.status, theirs.status);
    if (theirs.status != 0) {
      // Python ends with a traceback whose last line is the exception; ouro prints that line.
      std::string last = theirs.err.substr(0, theirs.err.size() - 1);
      last = last.substr(last.rfind('\n') + 1) + "\n";
      EXPECT_EQ(ours.err, "ouro: " + last);
    }
  }
}

TEST_F(PickleCliTest, DisReadsStdinAndReportsMissingFiles) {
  const std::string bytes = python_pickle("[1, 'a']", 2);
  const CliResult ours = run_ouro("pickle dis -", bytes);
  EXPECT_EQ(ours.status, 0);
  EXPECT_NE(ours.out.find("highest protocol among opcodes = 2"), std::string::npos) << ours.out;
  const CliResult missing = run_ouro("pickle dis /nonexistent/x.pkl");
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(missing.err, "ouro: /nonexistent/x.pkl: No such file or directory\n");
  EXPECT_EQ(missing.out, "");
}

TEST_F(PickleCliTest, ShowPrintsPythonsRepr) {
  for (const auto& [name, expr] : python_values()) {
    const PythonResult repr = run_python("print(repr(" + expr + "))\n");
    ASSERT_EQ(repr.status, 0) << repr.err;
    for (int protocol = 0; protocol <= 5; ++protocol) {
      SCOPED_TRACE(name + " protocol " + std::to_string(protocol));
      const std::string bytes = python_pickle(expr, protocol);
      const CliResult file = run_ouro("pickle show " + quote(write_temp(bytes)));
      EXPECT_EQ(file.status, 0) << file.err;
      EXPECT_EQ(file.out, repr.out);
      EXPECT_EQ(run_ouro("pickle show -", bytes).out, repr.out);
    }
  }
}

TEST_F(PickleCliTest, ShowIsStrictUnlessToldOtherwise) {
  const std::string file = write_temp("cos\nsystem\n(S'true'\ntR.");
  const CliResult strict = run_ouro("pickle show " + quote(file));
  EXPECT_EQ(strict.status, 1);
  EXPECT_EQ(strict.out, "");
  EXPECT_EQ(strict.err.rfind("ouro: " + file + ": UnpicklingError: ", 0), 0u) << strict.err;
  EXPECT_NE(strict.err.find("global 'os.system'"), std::string::npos) << strict.err;

  const CliResult inspect = run_ouro("pickle show --inspect " + quote(file));
  EXPECT_EQ(inspect.status, 0) << inspect.err;
  EXPECT_NE(inspect.out.find("os.system"), std::string::npos) << inspect.out;
  const CliResult allowed = run_ouro("pickle show --allow os.system " + quote(file));
  EXPECT_EQ(allowed.status, 0) << allowed.err;
  EXPECT_EQ(allowed.out, inspect.out);

  EXPECT_EQ(run_ouro("pickle show " + quote(write_temp("\x80\x04K"))).status, 1);
  EXPECT_EQ(run_ouro("pickle show").status, 2);  // usage error: FILE missing
  EXPECT_EQ(run_ouro("pickle frobnicate x").status, 2);
}

TEST_F(PickleCliTest, ConvertWritesAPickleCpythonLoadsBackEqual) {
  const std::string expr = python_values()[1].second;
  const std::string in = write_temp(python_pickle(expr, 5));
  for (int protocol = 0; protocol <= 5; ++protocol) {
    SCOPED_TRACE(protocol);
    TempFile out(".pkl");
    const CliResult r = run_ouro("pickle convert " + quote(in) + " " + quote(out.path()) +
                                 " --protocol " + std::to_string(protocol));
    ASSERT_EQ(r.status, 0) << r.err;
    const std::string bytes = out.read();
    // ouro writes CPython's exact bytes, so the result is what pickle.dumps gives.
    EXPECT_EQ(bytes, python_pickle(expr, protocol));
    const PythonResult check = run_python(
        "import pickle, sys\nv = pickle.loads(sys.stdin.buffer.read())\nprint(v == " + expr + ")\n",
        bytes);
    EXPECT_EQ(check.out, "True\n") << check.err;
  }
  EXPECT_EQ(run_ouro("pickle convert " + quote(in) + " - --protocol 2").out,
            python_pickle(expr, 2));
  EXPECT_EQ(run_ouro("pickle convert " + quote(in) + " - --protocol 6").status, 2);
}

TEST_F(PickleCliTest, ScanJsonListsTheGlobalsGenopsFinds) {
  std::vector<std::string> files = hostile_files();
  files.push_back(write_temp(python_pickle(python_values()[1].second, 0)));  // safe globals
  std::string args;
  for (const std::string& f : files) args += " " + quote(f);
  const CliResult scan = run_ouro("pickle scan --json" + args);
  EXPECT_EQ(scan.status, 1);  // some are unsafe
  // python3 parses the report and compares it with what pickletools.genops reads from each
  // file: every GLOBAL/INST argument, and as many globals as GLOBAL/INST/STACK_GLOBAL
  // opcodes (the STACK_GLOBAL names themselves come from the stack: ouro's loader resolves
  // them). genops never loads anything.
  const PythonResult check = run_python(R"PY(
import _compat_pickle, json, pickletools, sys
def mapped(module, name, proto):  # Unpickler.find_class's Python 2 mapping
    if proto >= 3: return (module, name)
    if (module, name) in _compat_pickle.NAME_MAPPING: return _compat_pickle.NAME_MAPPING[(module, name)]
    return (_compat_pickle.IMPORT_MAPPING.get(module, module), name)
reports = json.loads(sys.stdin.read())
assert len(reports) == len(sys.argv) - 1, (len(reports), len(sys.argv))
for path, report in zip(sys.argv[1:], reports):
    assert report['file'] == path, (report['file'], path)
    data = open(path, 'rb').read()
    expected, count, start, broken = [], 0, 0, False
    while start < len(data) and not broken:
        end, proto = start, 0
        try:
            for op, arg, pos in pickletools.genops(data[start:]):
                if op.name == 'PROTO': proto = arg
                if op.name in ('GLOBAL', 'INST'):
                    expected.append(mapped(*arg.split(' ', 1), proto) + (start + pos, op.name))
                if op.name in ('GLOBAL', 'INST', 'STACK_GLOBAL'):
                    count += 1
                end = start + pos + 1
        except Exception:
            broken = True
        start = end
    got = [(g['module'], g['name'], g['offset'], g['opcode']) for g in report['globals']]
    py3 = [g for g in got if g[3] != 'STACK_GLOBAL']
    assert py3 == expected, (path, got, expected)
    assert len(got) <= count, (path, got, count)
    unsafe = any(not g['allowed'] for g in report['globals'])
    assert report['verdict'] == ('unsafe' if unsafe else 'malformed' if report['error'] else 'safe'), path
    if 'benign' in path or 'ouro-test-' in path:
        assert report['verdict'] == 'safe', (path, report)
    print(report['verdict'])
)PY",
                                        scan.out, args);
  ASSERT_EQ(check.status, 0) << check.err << scan.out.substr(0, 2000);
  EXPECT_NE(check.out.find("unsafe"), std::string::npos);
}

TEST_F(PickleCliTest, ScanResolvesStackGlobalsAndExitsByVerdict) {
  const std::string dir = std::string(OURO_HOSTILE_PICKLES_DIR) + "/";
  const CliResult hidden = run_ouro("pickle scan " + quote(dir + "GHSA-3gf5-cxq9-w223.pkl"));
  EXPECT_EQ(hidden.status, 1);
  EXPECT_NE(hidden.out.find(
                "global idlelib.pyshell.ModifiedInterpreter.runcode (STACK_GLOBAL at 59)  UNSAFE"),
            std::string::npos)
      << hidden.out;
  // A benign first pickle does not hide a second, malicious one.
  const CliResult second = run_ouro("pickle scan " + quote(dir + "malicious6.pkl"));
  EXPECT_EQ(second.status, 1);
  EXPECT_NE(second.out.find("requests.api.get"), std::string::npos) << second.out;

  const std::string safe = write_temp(python_pickle("{'a': [1, 2]}", 4));
  const CliResult ok = run_ouro("pickle scan " + quote(safe));
  EXPECT_EQ(ok.status, 0);
  EXPECT_EQ(ok.out, safe + ": safe\n");
  const std::string broken = write_temp("\x80\x04]\x94(K\x01");
  EXPECT_EQ(run_ouro("pickle scan " + quote(safe) + " " + quote(broken)).status, 2);
  EXPECT_EQ(run_ouro("pickle scan " + quote(safe) + " /nonexistent.pkl").status, 2);
  // Unsafe wins over malformed; --allow makes a global safe.
  const std::string evil = write_temp("cos\nsystem\n(S'true'\ntR.");
  EXPECT_EQ(run_ouro("pickle scan " + quote(broken) + " " + quote(evil)).status, 1);
  EXPECT_EQ(run_ouro("pickle scan --allow os.system " + quote(evil)).status, 0);
}

TEST_F(PickleCliTest, StatsEstimatesCpythonsBytes) {
  const std::string expr =
      "[1000, 'Sample Text', 'caf\\xe9', (1, 2), {'a': 1, 'b': [3] * 9}, {1: 2}, 2**70, 1.5, "
      "b'abc', {1, 2, 3, 4, 5, 6}, list(range(300, 1310))]";
  const std::string bytes = python_pickle(expr, 4);
  // The same rule in Python: every distinct object once, minus CPython's shared singletons.
  const PythonResult truth = run_python(R"PY(
import pickle, sys
v = pickle.loads(sys.stdin.buffer.read())
seen, total, todo = set(), 0, [v]
while todo:
    o = todo.pop()
    if id(o) in seen: continue
    seen.add(id(o))
    if o is None or o is True or o is False or o == () or o == '' or o == b'': continue
    if type(o) is int and -5 <= o <= 256: continue
    if type(o) is str and len(o) == 1 and ord(o) < 256: continue
    total += sys.getsizeof(o)
    if isinstance(o, (list, tuple, set, frozenset)): todo.extend(o)
    if isinstance(o, dict): todo.extend(o.keys()); todo.extend(o.values())
print(total)
)PY",
                                        bytes);
  ASSERT_EQ(truth.status, 0) << truth.err;
  const CliResult stats = run_ouro("pickle stats -", bytes);
  ASSERT_EQ(stats.status, 0) << stats.err;
  const auto field = [&](const std::string& label) {
    const std::size_t at = stats.out.find(label);
    EXPECT_NE(at, std::string::npos) << stats.out;
    const std::size_t end = stats.out.find('\n', at);
    return std::stoull(stats.out.substr(at + label.size(), end - at - label.size()));
  };
  EXPECT_EQ(field("pickled bytes:"), bytes.size());
  EXPECT_EQ(field("CPython 3.11 (estimated):"), std::stoull(truth.out));
  EXPECT_GT(field("ouro heap after loading:"), 0u);
  EXPECT_GE(field("ouro heap peak while loading:"), field("ouro heap after loading:"));
  EXPECT_NE(stats.out.find("  list "), std::string::npos) << stats.out;
}

}  // namespace
}  // namespace ouro::testing
