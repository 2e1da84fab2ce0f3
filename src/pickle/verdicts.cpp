// The verdict tiers' knowledge (docs/pickle.md, "Verdicts"): the table of globals known to
// run code when a pickle calls them, with the reason for each, and the allow patterns and
// policy files that let a user vouch for more globals. The table is ouro's own, written
// from the attacks in tests/data/hostile-pickles, the published scanner bypasses (the
// GHSA-* files) and the standard library's modules that run commands, evaluate code,
// load other pickles, touch files or open connections. Host-only (src/CMakeLists.txt).
#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ouro/pickle/scan.h"
#include "pickle/policy.h"

namespace ouro::pickle {
namespace {

/// One row: an allow-style pattern ("module.*" or "module.qualname", which also covers the
/// attributes of that qualname) and why calling it is dangerous.
struct DangerRule {
  std::string_view pattern;
  std::string_view reason;
};

constexpr std::string_view kShell = "runs a shell command or program";
constexpr std::string_view kEval = "evaluates or compiles Python code";
constexpr std::string_view kImport = "imports a module or resolves any attribute by name";
constexpr std::string_view kPickle = "loads another pickle (or marshal data), which can run code";
constexpr std::string_view kFiles = "opens, writes or deletes files";
constexpr std::string_view kNetwork = "opens a network connection";
constexpr std::string_view kNative = "loads native code or reads and writes raw memory";
constexpr std::string_view kProcess = "controls the interpreter or the process";
constexpr std::string_view kRunner = "runs code it is given (profilers, debuggers, test helpers)";
constexpr std::string_view kTorchCode = "torch helper that compiles, evaluates or runs code";

constexpr std::array kDangerRules = {
    // Commands and processes.
    DangerRule{"os.*", "the os module: commands (system, popen, exec*, spawn*), files, process"},
    DangerRule{"posix.*", kShell},
    DangerRule{"nt.*", kShell},
    DangerRule{"subprocess.*", kShell},
    DangerRule{"_posixsubprocess.*", kShell},
    DangerRule{"_winapi.*", kShell},
    DangerRule{"commands.*", kShell},
    DangerRule{"popen2.*", kShell},
    DangerRule{"pty.*", kShell},
    DangerRule{"platform.popen", kShell},
    DangerRule{"asyncio.subprocess.*", kShell},
    DangerRule{"asyncio.unix_events.*", kShell},
    DangerRule{"asyncio.windows_utils.*", kShell},
    DangerRule{"pydoc.*", "pydoc: pipepager runs a command, locate imports anything"},
    DangerRule{"_aix_support._read_cmd_output", kShell},
    DangerRule{"_osx_support.*", kShell},
    DangerRule{"_pyrepl.*", kShell},
    DangerRule{"uuid._get_command_stdout", kShell},
    DangerRule{"imaplib.IMAP4_stream", kShell},
    DangerRule{"ensurepip.*", kShell},
    DangerRule{"pip.*", "pip installs and runs packages"},
    DangerRule{"venv.*", kShell},
    DangerRule{"webbrowser.*", "opens a browser on a URL (runs a program)"},
    DangerRule{"test.support.*", kRunner},
    DangerRule{"distutils.*", "distutils spawns compilers and writes files"},
    // Evaluating code and resolving names.
    DangerRule{"builtins.eval", kEval},
    DangerRule{"builtins.exec", kEval},
    DangerRule{"builtins.execfile", kEval},
    DangerRule{"builtins.compile", kEval},
    DangerRule{"builtins.__import__", kImport},
    DangerRule{"builtins.getattr", kImport},
    DangerRule{"builtins.setattr", "sets any attribute of any object"},
    DangerRule{"builtins.delattr", "deletes any attribute of any object"},
    DangerRule{"builtins.globals", "exposes the interpreter's global namespace"},
    DangerRule{"builtins.locals", "exposes the interpreter's local namespace"},
    DangerRule{"builtins.vars", "exposes an object's namespace"},
    DangerRule{"builtins.open", kFiles},
    DangerRule{"builtins.file", kFiles},
    DangerRule{"builtins.input", "reads the terminal (and evaluates it in Python 2)"},
    DangerRule{"builtins.breakpoint", kRunner},
    DangerRule{"builtins.apply", "calls any callable (Python 2)"},
    DangerRule{"builtins.exit", kProcess},
    DangerRule{"builtins.quit", kProcess},
    DangerRule{"builtins.help", "starts the interactive help (a pager: a command)"},
    DangerRule{"__builtin__.*", "Python 2's builtins: eval, execfile, open, getattr, ..."},
    DangerRule{"__builtins__.*", "the builtins namespace: eval, exec, open, getattr, ..."},
    DangerRule{"code.*", kEval},
    DangerRule{"codeop.*", kEval},
    DangerRule{"types.CodeType", "builds a code object"},
    DangerRule{"types.FunctionType", "builds a function from a code object"},
    DangerRule{"types.MethodType", "binds any callable as a method"},
    DangerRule{"cloudpickle.*", "cloudpickle rebuilds functions from code objects"},
    DangerRule{"dill.*", "dill rebuilds functions from code objects"},
    DangerRule{"importlib.*", kImport},
    DangerRule{"pkgutil.*", kImport},
    DangerRule{"zipimport.*", kImport},
    DangerRule{"runpy.*", "runs a module or a script"},
    DangerRule{"operator.attrgetter", kImport},
    DangerRule{"operator.methodcaller", "calls any method by name"},
    DangerRule{"_operator.attrgetter", kImport},
    DangerRule{"_operator.methodcaller", "calls any method by name"},
    DangerRule{"functools.reduce", "calls any callable repeatedly"},
    DangerRule{"sys.*", "the sys module: sys.modules overrides, exit, settrace, ..."},
    DangerRule{"gc.*", "reaches every live object"},
    DangerRule{"inspect.*", "reaches frames and code"},
    DangerRule{"ctypes.*", kNative},
    DangerRule{"_ctypes.*", kNative},
    DangerRule{"cffi.*", kNative},
    DangerRule{"mmap.*", kNative},
    DangerRule{"signal.*", kProcess},
    DangerRule{"_thread.*", "starts threads running any callable"},
    DangerRule{"threading.*", "starts threads running any callable"},
    DangerRule{"multiprocessing.*", "starts processes running any callable"},
    DangerRule{"concurrent.*", "runs any callable in workers"},
    DangerRule{"atexit.*", "registers code to run at exit"},
    // Runners: profilers, debuggers, tracers, test helpers, code generators.
    DangerRule{"bdb.*", kRunner},
    DangerRule{"pdb.*", kRunner},
    DangerRule{"cProfile.*", kRunner},
    DangerRule{"profile.*", kRunner},
    DangerRule{"trace.*", kRunner},
    DangerRule{"timeit.*", kRunner},
    DangerRule{"doctest.*", kRunner},
    DangerRule{"unittest.*", kRunner},
    DangerRule{"idlelib.*", "IDLE's shell and completers evaluate code"},
    DangerRule{"lib2to3.*", "lib2to3's grammar loads pickles and its parser generator evaluates"},
    DangerRule{"numpy.f2py.*", kEval},
    DangerRule{"numpy.testing.*", kRunner},
    DangerRule{"numpy.load", kPickle},
    DangerRule{"numpy.lib.npyio.*", kPickle},
    DangerRule{"numpy.distutils.*", kShell},
    DangerRule{"pandas.read_pickle", kPickle},
    DangerRule{"pandas.io.pickle.*", kPickle},
    DangerRule{"joblib.load", kPickle},
    DangerRule{"joblib.numpy_pickle.*", kPickle},
    DangerRule{"torch.load", kPickle},
    DangerRule{"torch.serialization.load", kPickle},
    DangerRule{"torch.serialization._load", kPickle},
    DangerRule{"torch.hub.*", "downloads and runs code"},
    DangerRule{"torch.jit.*", kTorchCode},
    DangerRule{"torch._dynamo.*", kTorchCode},
    DangerRule{"torch._inductor.*", kTorchCode},
    DangerRule{"torch.fx.*", kTorchCode},
    DangerRule{"torch.utils.bottleneck.*", kRunner},
    DangerRule{"torch.utils.collect_env.*", kShell},
    DangerRule{"torch.utils.cpp_extension.*", "compiles and loads native code"},
    DangerRule{"torch.utils._config_module.*", kEval},
    DangerRule{"torch.utils.data.datapipes.utils.decoder.*", kPickle},
    DangerRule{"torch._C._load_for_lite_interpreter", kPickle},
    // Other pickles and serialized code.
    DangerRule{"pickle.*", kPickle},
    DangerRule{"_pickle.*", kPickle},
    DangerRule{"cPickle.*", kPickle},
    DangerRule{"pickletools.*", kPickle},
    DangerRule{"marshal.*", kPickle},
    DangerRule{"shelve.*", kPickle},
    DangerRule{"dbm.*", kFiles},
    DangerRule{"yaml.*", "PyYAML can construct any Python object"},
    // Files.
    DangerRule{"io.open", kFiles},
    DangerRule{"io.open_code", kFiles},
    DangerRule{"io.FileIO", kFiles},
    DangerRule{"_io.open", kFiles},
    DangerRule{"_io.open_code", kFiles},
    DangerRule{"_io.FileIO", kFiles},
    DangerRule{"codecs.open", kFiles},
    DangerRule{"fileinput.*", kFiles},
    DangerRule{"shutil.*", kFiles},
    DangerRule{"tempfile.*", kFiles},
    DangerRule{"glob.*", kFiles},
    DangerRule{"linecache.*", kFiles},
    DangerRule{"tarfile.*", kFiles},
    DangerRule{"zipfile.*", kFiles},
    DangerRule{"logging.FileHandler", kFiles},
    DangerRule{"logging.handlers.*", "logging handlers write files, sockets and mail"},
    DangerRule{"logging.config.*", "logging.config evaluates and imports what its config names"},
    // The network.
    DangerRule{"socket.*", kNetwork},
    DangerRule{"_socket.*", kNetwork},
    DangerRule{"ssl.*", kNetwork},
    DangerRule{"http.*", kNetwork},
    DangerRule{"urllib.*", kNetwork},
    DangerRule{"urllib2.*", kNetwork},
    DangerRule{"httplib.*", kNetwork},
    DangerRule{"ftplib.*", kNetwork},
    DangerRule{"smtplib.*", kNetwork},
    DangerRule{"poplib.*", kNetwork},
    DangerRule{"imaplib.*", kNetwork},
    DangerRule{"telnetlib.*", kNetwork},
    DangerRule{"xmlrpc.*", kNetwork},
    DangerRule{"socketserver.*", kNetwork},
    DangerRule{"asyncio.*", "asyncio runs subprocesses, connections and callbacks"},
    DangerRule{"requests.*", kNetwork},
    DangerRule{"httpx.*", kNetwork},
    DangerRule{"aiohttp.*", kNetwork},
    DangerRule{"urllib3.*", kNetwork},
};

// A dotted Python identifier part: letters, digits, '_' (and any non-ASCII byte: Python
// identifiers may be Unicode), not starting with a digit.
bool is_identifier(std::string_view part) {
  if (part.empty() || (part[0] >= '0' && part[0] <= '9')) return false;
  for (const char c : part) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || static_cast<unsigned char>(c) >= 0x80;
    if (!ok) return false;
  }
  return true;
}

std::string_view trim(std::string_view text) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  return text;
}

}  // namespace

std::string_view dangerous_reason(std::string_view module, std::string_view name) noexcept {
  // "bdb.Bdb.run": the rule for bdb.Bdb covers its attributes too, so each rule is tried on
  // the whole qualname and on every dotted prefix of it.
  for (const DangerRule& rule : kDangerRules) {
    std::string_view prefix = name;
    while (true) {
      if (detail::global_matches(rule.pattern, module, prefix)) return rule.reason;
      const std::size_t dot = prefix.rfind('.');
      if (dot == std::string_view::npos) break;
      prefix = prefix.substr(0, dot);
    }
  }
  return "";
}

std::string allow_pattern_error(std::string_view pattern) {
  if (pattern.empty()) return "an empty pattern";
  std::string_view names = pattern;
  if (names.ends_with(".*")) names.remove_suffix(2);
  if (names.find('*') != std::string_view::npos) {
    return "'*' is only allowed as the whole last part (module.*)";
  }
  std::size_t parts = 0;
  for (std::size_t start = 0; start <= names.size(); ++parts) {
    const std::size_t dot = std::min(names.find('.', start), names.size());
    if (!is_identifier(names.substr(start, dot - start))) {
      return "not a dotted Python name (module.qualname or module.*)";
    }
    start = dot + 1;
  }
  if (parts < 2 && !pattern.ends_with(".*")) {
    return "a global needs its module and its name (module.qualname), or module.* for a whole "
           "module";
  }
  return "";
}

std::vector<std::string> parse_policy(std::string_view text, std::string_view source) {
  std::vector<std::string> patterns;
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const std::size_t end = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    line = trim(line.substr(0, std::min(line.find('#'), line.size())));
    if (line.empty()) continue;
    if (const std::string why = allow_pattern_error(line); !why.empty()) {
      throw std::invalid_argument(std::string(source) + ":" + std::to_string(line_number) + ": '" +
                                  std::string(line) + "': " + why);
    }
    patterns.emplace_back(line);
  }
  return patterns;
}

}  // namespace ouro::pickle
