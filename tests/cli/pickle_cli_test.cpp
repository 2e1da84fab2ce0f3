// `ouro pickle` end to end: runs the built tool (OURO_CLI_PATH, set by tools/ouro's
// CMakeLists.txt) and checks it against CPython: dis against `python3 -m pickletools` (which
// only reads opcodes, so it is safe on the hostile files), show against repr() of the
// value python3 pickled, scan --json parsed by python3 and checked against the globals
// pickletools.genops finds, convert loaded back by python3 to an equal value, and stats'
// CPython estimate against sys.getsizeof. The hostile pickles are never given to CPython's
// pickle.loads.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "cli/deep_size_oracle.h"
#include "cli/ouro_runner.h"
#include "support/python_oracle.h"

namespace ouro::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;

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
  for (const auto& entry : fs::directory_iterator(std::string(OURO_HOSTILE_PICKLES_DIR))) {
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

  // --inspect shows the object tree; --allow loads it strictly and prints repr().
  const CliResult inspect = run_ouro("pickle show --inspect " + quote(file));
  EXPECT_EQ(inspect.status, 0) << inspect.err;
  EXPECT_EQ(inspect.out, "os.system(…) call\n  args: tuple, 1 item\n    [0]: 'true'\n");
  const CliResult allowed = run_ouro("pickle show --allow os.system " + quote(file));
  EXPECT_EQ(allowed.status, 0) << allowed.err;
  EXPECT_EQ(allowed.out, "<reduce os.system('true',)>\n");
  const CliResult json = run_ouro("pickle show --inspect --json " + quote(file));
  EXPECT_EQ(json.status, 0) << json.err;
  const PythonResult parsed = run_python(
      "import json, sys\nj = json.load(sys.stdin)\n"
      "print(j['kind'], j['callable'], j['args']['items'][0]['repr'])\n",
      json.out);
  EXPECT_EQ(parsed.out, "reduce os.system 'true'\n") << json.out << parsed.err;
  const CliResult bounded = run_ouro("pickle show --inspect --depth 1 --max-items 1 " +
                                     quote(write_temp(python_pickle("[[1, 2], 3, 4]", 4))));
  EXPECT_EQ(bounded.out, "list, 3 items\n  [0]: list, 2 items … (below --depth 1)\n  … 2 more\n");
  EXPECT_EQ(run_ouro("pickle show --inspect --max-items 0 " + quote(file)).status, 2);

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
  EXPECT_EQ(scan.status, 1);  // some are dangerous
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
    assert report['member'] is None, report
    tiers = [g['tier'] for g in report['globals']]
    assert all((g['tier'] == 'safe') == g['allowed'] for g in report['globals']), report
    assert all((g['reason'] is not None) == (g['tier'] == 'dangerous') for g in report['globals'])
    want = ('dangerous' if 'dangerous' in tiers else 'suspicious' if 'suspicious' in tiers
            else 'malformed' if report['error'] else 'safe')
    assert report['verdict'] == want, (path, report['verdict'], want)
    if 'benign' in path or 'ouro-test-' in path:
        assert report['verdict'] == 'safe', (path, report)
    print(report['verdict'])
)PY",
                                        scan.out, args);
  ASSERT_EQ(check.status, 0) << check.err << scan.out.substr(0, 2000);
  EXPECT_NE(check.out.find("dangerous"), std::string::npos);
}

TEST_F(PickleCliTest, ScanResolvesStackGlobalsAndExitsByVerdict) {
  const std::string dir = std::string(OURO_HOSTILE_PICKLES_DIR) + "/";
  const CliResult hidden = run_ouro("pickle scan " + quote(dir + "GHSA-3gf5-cxq9-w223.pkl"));
  EXPECT_EQ(hidden.status, 1);
  EXPECT_NE(
      hidden.out.find("global idlelib.pyshell.ModifiedInterpreter.runcode (STACK_GLOBAL at 59)  "
                      "DANGEROUS: IDLE's shell and completers evaluate code"),
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
  EXPECT_EQ(run_ouro("pickle scan " + quote(safe) + " " + quote(broken)).status, 5);
  EXPECT_EQ(run_ouro("pickle scan " + quote(safe) + " /nonexistent.pkl").status, 5);
  // Dangerous wins over suspicious, suspicious over malformed; --allow makes a global safe.
  const std::string evil = write_temp("cos\nsystem\n(S'true'\ntR.");
  const std::string unknown = write_temp("cmylib.models\nNet\n)R.");
  EXPECT_EQ(run_ouro("pickle scan " + quote(broken) + " " + quote(unknown)).status, 4);
  EXPECT_EQ(run_ouro("pickle scan " + quote(unknown) + " " + quote(evil)).status, 1);
  EXPECT_EQ(run_ouro("pickle scan --allow os.system " + quote(evil)).status, 0);
  EXPECT_EQ(run_ouro("pickle scan --allow 'mylib.*' " + quote(unknown)).status, 0);
  // A wildcard never vouches for a dangerous global.
  EXPECT_EQ(run_ouro("pickle scan --allow 'os.*' " + quote(evil)).status, 1);
}

// --allow takes module.qualname or module.*, --allow-file a policy file; anything else is a
// usage error that says why, never silently ignored.
TEST_F(PickleCliTest, AllowFormsAndPolicyFiles) {
  const std::string unknown = write_temp("cmylib.models\nNet\n)R.");
  for (const char* bad : {"mylib", "'*'", "'mylib.*.x'", "'my lib.Net'"}) {
    const CliResult r = run_ouro(std::string("pickle scan --allow ") + bad + " " + quote(unknown));
    EXPECT_EQ(r.status, 2) << bad;
    EXPECT_NE(r.err.find("is not an allow pattern"), std::string::npos) << r.err;
  }
  EXPECT_EQ(run_ouro("pickle show --allow mylib " + quote(unknown)).status, 2);
  const std::string policy = write_temp("# trusted\nmylib.*   # our models\n\n");
  EXPECT_EQ(run_ouro("pickle scan --allow-file " + quote(policy) + " " + quote(unknown)).status, 0);
  EXPECT_EQ(run_ouro("pickle scan --policy " + quote(policy) + " " + quote(unknown)).status, 0);
  const CliResult shown = run_ouro("pickle show --policy " + quote(policy) + " " + quote(unknown));
  EXPECT_EQ(shown.status, 0) << shown.err;
  const std::string bad_policy = write_temp("mylib.*\nos\n");
  const CliResult bad =
      run_ouro("pickle scan --allow-file " + quote(bad_policy) + " " + quote(unknown));
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find(bad_policy + ":2: 'os'"), std::string::npos) << bad.err;
  EXPECT_EQ(run_ouro("pickle scan --allow-file /nonexistent.policy " + quote(unknown)).status, 2);
}

// A strict load names every global it would need allowed, with its tier, and the ways on.
TEST_F(PickleCliTest, StrictRefusalListsEveryGlobalToAllow) {
  const std::string file =
      write_temp("cmylib.models\nNet\n)R0cos\nsystem\n(S'true'\ntR0cmylib.models\nNet\n.");
  for (const char* command : {"show", "stats", "convert"}) {
    const std::string extra = std::string(command) == "convert" ? " -" : "";
    const CliResult r = run_ouro(std::string("pickle ") + command + " " + quote(file) + extra);
    EXPECT_EQ(r.status, 1) << command;
    EXPECT_NE(r.err.find("refused: loading it would import 2 globals outside the safe catalogue"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("  mylib.models.Net  (suspicious)"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("  os.system  (dangerous: "), std::string::npos) << r.err;
    for (const char* hint : {"--allow", "--inspect", "ouro pickle scan"}) {
      EXPECT_NE(r.err.find(hint), std::string::npos) << hint << r.err;
    }
  }
  // A malformed pickle is not a refusal.
  const CliResult broken = run_ouro("pickle show " + quote(write_temp("\x80\x04K")));
  EXPECT_EQ(broken.err.find("refused"), std::string::npos) << broken.err;
}

// Every .pkl member of a zip is scanned and reported by name (picklescan does the same).
TEST_F(PickleCliTest, ScanReadsEveryPickleOfAZip) {
  const std::string zip = write_temp("");  // python3 writes the zip there
  const PythonResult made = run_python(R"PY(
import pickle, sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_STORED) as z:
    z.writestr('archive/data.pkl', pickle.dumps({'w': [1.0, 2.0]}, protocol=2))
    z.writestr('archive/version', '3')
    z.writestr('archive/extra.pkl', b'cos\nsystem\n(S"true"\ntR.')
)PY",
                                       "", quote(zip));
  ASSERT_EQ(made.status, 0) << made.err;
  const CliResult r = run_ouro("pickle scan " + quote(zip));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find(zip + ":archive/data.pkl: safe\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(zip + ":archive/extra.pkl: dangerous\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("archive/version"), std::string::npos) << r.out;
  const CliResult json = run_ouro("pickle scan --json " + quote(zip));
  EXPECT_NE(json.out.find("\"member\": \"archive/extra.pkl\""), std::string::npos) << json.out;
}

TEST_F(PickleCliTest, StatsEstimatesCpythonsBytes) {
  const std::string expr =
      "[1000, 'Sample Text', 'caf\\xe9', (1, 2), {'a': 1, 'b': [3] * 9}, {1: 2}, 2**70, 1.5, "
      "b'abc', {1, 2, 3, 4, 5, 6}, list(range(300, 1310))]";
  const std::string bytes = python_pickle(expr, 4);
  // The same rule in Python: every distinct object once, minus CPython's shared singletons.
  const PythonResult truth = run_python(
      std::string(kDeepSizePython) + "print(deep_size(pickle.loads(sys.stdin.buffer.read())))\n",
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

// --- limits ----------------------------------------------------------------------------
//
// The tool's promise (docs/pickle.md, "Limits of the command line"): under --max-memory a
// hostile file never grows the process by more than the limit plus a small fixed baseline,
// the error names the limit, texts stream under --max-output, and failed writes fail.

// How one run of the tool ended, with its own peak resident memory: wait4's rusage of that
// child alone (RUSAGE_CHILDREN would mix in every earlier child of this test process).
struct MeasuredRun {
  int status = -1;
  std::size_t peak_rss = 0;  // bytes
  double seconds = 0;
  std::string err;
};

MeasuredRun run_measured(const std::vector<std::string>& args,
                         const std::string& stdout_path = "/dev/null") {
  TempFile err(".err");
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int out = ::open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int error = ::open(err.path().c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out < 0 || error < 0 || ::dup2(out, 1) < 0 || ::dup2(error, 2) < 0) ::_exit(126);
    std::vector<char*> argv{const_cast<char*>(OURO_CLI_PATH)};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(OURO_CLI_PATH, argv.data());
    ::_exit(127);
  }
  MeasuredRun run;
  int raw = 0;
  rusage usage{};
  if (pid < 0 || ::wait4(pid, &raw, 0, &usage) != pid) {
    ADD_FAILURE() << "could not run " << OURO_CLI_PATH;
    return run;
  }
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  run.peak_rss = static_cast<std::size_t>(usage.ru_maxrss) * 1024;  // ru_maxrss is in KiB
  run.err = err.read();
  return run;
}

constexpr std::size_t kMiB = std::size_t{1} << 20;
// What the process may use beyond the limit and its baseline: the C++ runtime's own
// buffers, a half-grown container's last step, allocator slack. Small and fixed.
constexpr std::size_t kSlack = 16 * kMiB;
// AddressSanitizer keeps freed memory in quarantine (256 MiB by default) and maps shadow
// memory, so a sanitized process's resident size says nothing about the heap's limit. The
// memory bounds are asserted in the release build (make test); the sanitizer build checks
// the same runs' outcomes (the limit's error, the exit status) and their memory safety.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kResidentSizeMeaningful = false;
#else
constexpr bool kResidentSizeMeaningful = true;
#endif

class PickleLimitsTest : public PickleCliTest {
 protected:
  // Peak resident memory of `ouro pickle show` on a one-byte value: the fixed baseline.
  std::size_t baseline() {
    const MeasuredRun r = run_measured({"pickle", "show", write_temp("K\x01.")});
    EXPECT_EQ(r.status, 0) << r.err;
    return r.peak_rss;
  }
};

// Each shape costs one or two bytes of input per entry of the unpickler's own bookkeeping
// (mark stack, memo, value stack) or per heap object; 10 MB inputs would take hundreds of
// megabytes unbounded. The files are written and their bytes freed before any run, so the
// forked child does not start with them (a child's peak RSS counts what it inherited).
TEST_F(PickleLimitsTest, HostileLoadsStayWithinTheMemoryLimit) {
  constexpr std::size_t n = 10'000'000;
  const auto repeat = [](std::size_t count, const std::string& unit) {
    std::string out;
    out.reserve(count * unit.size());
    for (std::size_t i = 0; i < count; ++i) out += unit;
    return out;
  };
  const std::vector<std::pair<std::string, std::function<std::string()>>> shapes = {
      {"MARK stack", [&] { return "\x80\x02"s + std::string(n, '(') + "N."; }},
      {"ten million MEMOIZEs", [&] { return "\x80\x04]"s + std::string(n, '\x94') + "."; }},
      {"deep nesting",
       [&] { return "\x80\x02"s + std::string(n / 3, ']') + std::string(n / 3 - 1, 'a') + "."; }},
      {"DUP bomb", [&] { return "\x80\x02N"s + std::string(n, '2') + "."; }},
      {"memo-GET expansion", [&] { return "\x80\x02]q\x00"s + repeat(n / 2, "h\x00"s) + "."; }},
  };
  const std::size_t base = baseline();
  for (const auto& [name, make] : shapes) {
    SCOPED_TRACE(name);
    const std::string file = write_temp(make());
    const std::size_t file_size = fs::file_size(file);
    // show and convert read the file as they go: only the heap grows.
    for (const char* command : {"show", "convert"}) {
      std::vector<std::string> args = {"pickle", command, "--max-memory", "64M", file};
      if (std::string(command) == "convert") args.push_back("-");
      const MeasuredRun r = run_measured(args);
      EXPECT_EQ(r.status, 3) << command << ": " << r.err.substr(0, 500);
      EXPECT_NE(r.err.find("exceeded the memory limit of 64 MiB (--max-memory)"), std::string::npos)
          << command << ": " << r.err.substr(0, 500);
      if (kResidentSizeMeaningful) {
        EXPECT_LE(r.peak_rss, 64 * kMiB + base + kSlack)
            << command << " peaked at " << r.peak_rss / kMiB << " MiB";
      }
    }
    // scan maps the file; its walk needs 8 bytes per stack, mark or memo entry and builds
    // nothing, so a shape whose entries fit scans safe (deep nesting: one token per list),
    // the others pass the limit. Its report goes to stdout.
    TempFile report(".out");
    const MeasuredRun scan =
        run_measured({"pickle", "scan", "--max-memory", "64M", file}, report.path());
    const std::string scanned = report.read();
    if (name == "deep nesting") {
      EXPECT_EQ(scan.status, 0) << scanned;
    } else {
      EXPECT_EQ(scan.status, 3) << scan.err;
      EXPECT_NE(scanned.find("exceeded the memory limit of 64 MiB (--max-memory)"),
                std::string::npos);
    }
    if (kResidentSizeMeaningful) {
      EXPECT_LE(scan.peak_rss, 64 * kMiB + file_size + base + kSlack)
          << "scan peaked at " << scan.peak_rss / kMiB << " MiB";
    }
    // dis holds the file too, and its emulation needs a byte or two per entry (8 per MARK):
    // some shapes are valid pickletools input that fits, some pass a limit; all bounded.
    const MeasuredRun dis = run_measured({"pickle", "dis", "--max-memory", "64M", file});
    if (dis.status == 3) {
      EXPECT_TRUE(dis.err.find("exceeded the memory limit of 64 MiB (--max-memory)") !=
                      std::string::npos ||
                  dis.err.find("passed the output limit") != std::string::npos)
          << dis.err;
    }
    if (kResidentSizeMeaningful) {
      EXPECT_LE(dis.peak_rss, 64 * kMiB + file_size + base + kSlack)
          << "dis peaked at " << dis.peak_rss / kMiB << " MiB";
    }
  }
}

// dis's own memory is limited: a MARK costs it 8 bytes, so 10 MB of MARKs pass 64 MiB.
TEST_F(PickleLimitsTest, DisBookkeepingStopsAtTheMemoryLimit) {
  const std::string file = write_temp(std::string(10'000'000, '(') + "N.");
  const MeasuredRun r = run_measured(
      {"pickle", "dis", "--max-memory", "64M", "--max-output", "0", "--indentlevel", "0", file});
  EXPECT_EQ(r.status, 3) << r.err;
  EXPECT_NE(r.err.find("exceeded the memory limit of 64 MiB (--max-memory) in dis"),
            std::string::npos)
      << r.err;
}

TEST_F(PickleLimitsTest, SizesAcceptTheUsualFormsAndRejectOthersClearly) {
  const std::string file = write_temp("K\x01.");
  for (const char* size : {"64M", "1G", "512K", "512k", "100000", "64MiB", "2MB"}) {
    EXPECT_EQ(run_ouro(std::string("pickle show --max-memory ") + size + " " + quote(file)).out,
              "1\n")
        << size;
  }
  for (const char* size : {"1.5G", "-1", "12X", "", "M", "99999999999999999999"}) {
    const CliResult r =
        run_ouro(std::string("pickle show --max-memory '") + size + "' " + quote(file));
    EXPECT_EQ(r.status, 2) << size;
    EXPECT_NE(r.err.find("is not a size"), std::string::npos) << size << ": " << r.err;
  }
  // Below one arena no heap can work: a usage error that says so.
  const CliResult tiny = run_ouro("pickle show --max-memory 1000 " + quote(file));
  EXPECT_EQ(tiny.status, 2);
  EXPECT_NE(tiny.err.find("--max-memory 1000 is too small"), std::string::npos) << tiny.err;
  // A pickle of 100,000 distinct strs does not fit in 2 MiB: the limit is named.
  std::string strs = "\x80\x04("s;
  for (int i = 0; i < 100000; ++i) {
    const std::string text = std::to_string(i);
    strs += "\x8c"s + static_cast<char>(text.size()) + text;
  }
  const CliResult small = run_ouro("pickle show --max-memory 2M " + quote(write_temp(strs + "l.")));
  EXPECT_EQ(small.status, 3);
  EXPECT_NE(small.err.find("exceeded the memory limit of 2 MiB (--max-memory) while loading"),
            std::string::npos)
      << small.err;
  EXPECT_NE(run_ouro("pickle show --help").out.find("--max-memory"), std::string::npos);
}

// A 240-byte pickle whose ten levels each list the previous level ten times: 10^9 'lol's
// of repr from 5 KB of heap. show streams it and stops at --max-output (10M by default).
TEST_F(PickleLimitsTest, ShowOfABillionLaughsStopsAtTheOutputCap) {
  std::string bytes = "\x80\x02X\x03\x00\x00\x00lolq\x00"s;
  for (int level = 1; level < 10; ++level) {
    bytes += "(";
    for (int k = 0; k < 10; ++k) bytes += "h" + std::string(1, static_cast<char>(level - 1));
    bytes += "lq" + std::string(1, static_cast<char>(level)) + "0";
  }
  bytes += "h\x09.";
  const std::string file = write_temp(bytes);
  TempFile out(".out");
  const MeasuredRun r = run_measured({"pickle", "show", file}, out.path());
  EXPECT_EQ(r.status, 3) << r.err;
  EXPECT_NE(r.err.find("the repr passed the output limit of 10 MiB (--max-output)"),
            std::string::npos)
      << r.err;
  EXPECT_LT(r.seconds, 10);
  const std::string text = out.read();
  EXPECT_EQ(text.size(), 10 * kMiB + 1);  // the cap, then a newline
  EXPECT_EQ(text.substr(0, 24), "[[[[[[[[['lol', 'lol', '");
  if (kResidentSizeMeaningful) {
    EXPECT_LE(r.peak_rss, baseline() + kSlack);
  }
}

// Two lists holding each other: [...] marks the recursion as CPython's repr does, the text
// matches python3's, and the 100,000-fold version (10^10 bytes) stops at the cap in seconds.
TEST_F(PickleLimitsTest, MutuallyRecursiveListsPrintAsPythonDoesAndStopAtTheCap) {
  const std::string expr = "(lambda a, b: (a.extend([b] * N), b.extend([a] * N), a)[2])([], [])";
  const auto pickle_of = [&](int n) {
    return python_pickle("(lambda N: " + expr + ")(" + std::to_string(n) + ")", 4);
  };
  const PythonResult small = run_python("N = 300\nprint(repr(" + expr + "))\n");
  ASSERT_EQ(small.status, 0) << small.err;
  const CliResult ours =
      run_ouro("pickle show --max-output 0 " + quote(write_temp(pickle_of(300))));
  EXPECT_EQ(ours.status, 0) << ours.err;
  EXPECT_TRUE(ours.out == small.out)
      << "outputs differ; sizes " << ours.out.size() << " and " << small.out.size();
  const MeasuredRun big = run_measured({"pickle", "show", write_temp(pickle_of(100000))});
  EXPECT_EQ(big.status, 3) << big.err;
  EXPECT_LT(big.seconds, 10);
}

// 100 KB of nested MARKs: each line is indented by every open MARK, 20 GB of pickletools
// text. dis streams it and stops at --max-output (1G by default) within seconds.
TEST_F(PickleLimitsTest, DisOfDeeplyNestedMarksEndsWithinSeconds) {
  const std::string file = write_temp(std::string(100000, '(') + "N.");
  const MeasuredRun r = run_measured({"pickle", "dis", file});
  EXPECT_EQ(r.status, 3) << r.err;
  EXPECT_NE(r.err.find("the disassembly passed the output limit of 1 GiB (--max-output)"),
            std::string::npos)
      << r.err;
  EXPECT_LT(r.seconds, 20);
  if (kResidentSizeMeaningful) {
    EXPECT_LE(r.peak_rss, baseline() + kSlack);
  }
  TempFile out(".out");
  const MeasuredRun capped =
      run_measured({"pickle", "dis", "--max-output", "100K", file}, out.path());
  EXPECT_EQ(capped.status, 3);
  EXPECT_EQ(out.read().size(), 100 * 1024 + 1);
}

// A full disk or a closed pipe fails the command (status 1, the reason on stderr) instead
// of leaving a short listing behind a status of 0.
TEST_F(PickleLimitsTest, FailedWritesFailTheCommand) {
  const std::string file = write_temp(python_pickle("list(range(5000))", 2));
  for (const char* command : {"dis", "show"}) {
    const MeasuredRun full = run_measured({"pickle", command, file}, "/dev/full");
    EXPECT_EQ(full.status, 1) << command;
    EXPECT_EQ(full.err, "ouro: writing the output failed: No space left on device\n") << command;
  }
  const MeasuredRun full = run_measured({"pickle", "convert", file, "-"}, "/dev/full");
  EXPECT_EQ(full.status, 1);
  const std::string pipe = "set -o pipefail; " + quote(OURO_CLI_PATH) + " pickle dis " +
                           quote(file) + " 2>&1 | head -c 10 > /dev/null; echo ${PIPESTATUS[0]}";
  const PythonResult closed = run_python(
      "import subprocess, sys\n"
      "r = subprocess.run(['bash', '-c', sys.argv[1]], capture_output=True, text=True)\n"
      "print(r.stdout.strip())\n",
      "", quote(pipe));
  EXPECT_EQ(closed.out, "1\n") << closed.err;
}

// scan stopped by the limit says so (over-limit, status 3), and a legitimate pickle of many
// floats, far above the limit once loaded, scans safe.
TEST_F(PickleLimitsTest, ScanSaysOverLimitAndScansLargeLegitimatePickles) {
  const std::string floats =
      write_temp(python_pickle("[i + 0.5 for i in range(3_000_000)]", 4));  // 27 MB, ~100 MB loaded
  const CliResult safe = run_ouro("pickle scan --max-memory 16M " + quote(floats));
  EXPECT_EQ(safe.status, 0) << safe.out << safe.err;
  EXPECT_EQ(safe.out, floats + ": safe\n");
  EXPECT_EQ(run_ouro("pickle show --max-memory 16M " + quote(floats)).status, 3);
  const std::string dups = write_temp("\x80\x02N" + std::string(10'000'000, '2') + ".");
  const CliResult over = run_ouro("pickle scan --max-memory 16M " + quote(dups));
  EXPECT_EQ(over.status, 3);
  EXPECT_NE(over.out.find(": over-limit"), std::string::npos) << over.out;
  EXPECT_NE(over.out.find("exceeded the memory limit of 16 MiB (--max-memory)"), std::string::npos)
      << over.out;
}

}  // namespace
}  // namespace ouro::testing
