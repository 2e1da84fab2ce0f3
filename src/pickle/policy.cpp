// The allow-list and the Python 2 name mapping (see policy.h). Keeps DESIGN.md I8: nothing
// here imports or calls; a name is only looked up in fixed tables.
#include "pickle/policy.h"

#include <array>

namespace ouro::pickle::detail {
namespace {

constexpr std::array kAllowList = {
    AllowedGlobal{"builtins", "set", GlobalKind::kSet},
    AllowedGlobal{"builtins", "frozenset", GlobalKind::kFrozenSet},
    AllowedGlobal{"builtins", "list", GlobalKind::kList},
    AllowedGlobal{"builtins", "tuple", GlobalKind::kTuple},
    AllowedGlobal{"builtins", "dict", GlobalKind::kDict},
    AllowedGlobal{"builtins", "bytes", GlobalKind::kBytes},
    AllowedGlobal{"builtins", "bytearray", GlobalKind::kByteArray},
    AllowedGlobal{"_codecs", "encode", GlobalKind::kCodecsEncode},
    AllowedGlobal{"copyreg", "_reconstructor", GlobalKind::kReconstructor},
    AllowedGlobal{"copyreg", "__newobj__", GlobalKind::kNewObj},
    AllowedGlobal{"copyreg", "__newobj_ex__", GlobalKind::kNewObjEx},
    // Values ouro has no type for, or type objects: kept as inert names and calls.
    AllowedGlobal{"builtins", "complex", GlobalKind::kInert},
    AllowedGlobal{"builtins", "range", GlobalKind::kInert},
    AllowedGlobal{"builtins", "slice", GlobalKind::kInert},
    AllowedGlobal{"builtins", "int", GlobalKind::kInert},
    AllowedGlobal{"builtins", "float", GlobalKind::kInert},
    AllowedGlobal{"builtins", "str", GlobalKind::kInert},
    AllowedGlobal{"builtins", "bool", GlobalKind::kInert},
    AllowedGlobal{"builtins", "object", GlobalKind::kInert},
    AllowedGlobal{"builtins", "type", GlobalKind::kInert},
    AllowedGlobal{"collections", "OrderedDict", GlobalKind::kInert},
};

struct NameMapping {
  std::string_view from_module, from_name, to_module, to_name;
};

// _compat_pickle.NAME_MAPPING (the entries standard data meets).
constexpr std::array kNameMapping = {
    NameMapping{"__builtin__", "xrange", "builtins", "range"},
    NameMapping{"__builtin__", "reduce", "functools", "reduce"},
    NameMapping{"__builtin__", "intern", "sys", "intern"},
    NameMapping{"__builtin__", "unichr", "builtins", "chr"},
    NameMapping{"__builtin__", "unicode", "builtins", "str"},
    NameMapping{"__builtin__", "long", "builtins", "int"},
    NameMapping{"itertools", "izip", "builtins", "zip"},
    NameMapping{"itertools", "imap", "builtins", "map"},
    NameMapping{"itertools", "ifilter", "builtins", "filter"},
    NameMapping{"itertools", "ifilterfalse", "itertools", "filterfalse"},
    NameMapping{"itertools", "izip_longest", "itertools", "zip_longest"},
    NameMapping{"UserDict", "IterableUserDict", "collections", "UserDict"},
    NameMapping{"UserList", "UserList", "collections", "UserList"},
    NameMapping{"UserString", "UserString", "collections", "UserString"},
    NameMapping{"whichdb", "whichdb", "dbm", "whichdb"},
    NameMapping{"_socket", "fromfd", "socket", "fromfd"},
    NameMapping{"_multiprocessing", "Connection", "multiprocessing.connection", "Connection"},
    NameMapping{"multiprocessing.process", "Process", "multiprocessing.context", "Process"},
    NameMapping{"multiprocessing.forking", "Popen", "multiprocessing.popen_fork", "Popen"},
    NameMapping{"urllib", "ContentTooShortError", "urllib.error", "ContentTooShortError"},
    NameMapping{"urllib", "getproxies", "urllib.request", "getproxies"},
    NameMapping{"urllib", "pathname2url", "urllib.request", "pathname2url"},
    NameMapping{"urllib", "quote_plus", "urllib.parse", "quote_plus"},
    NameMapping{"urllib", "quote", "urllib.parse", "quote"},
    NameMapping{"urllib", "unquote_plus", "urllib.parse", "unquote_plus"},
    NameMapping{"urllib", "unquote", "urllib.parse", "unquote"},
    NameMapping{"urllib", "url2pathname", "urllib.request", "url2pathname"},
    NameMapping{"urllib", "urlcleanup", "urllib.request", "urlcleanup"},
    NameMapping{"urllib", "urlencode", "urllib.parse", "urlencode"},
    NameMapping{"urllib", "urlopen", "urllib.request", "urlopen"},
    NameMapping{"urllib", "urlretrieve", "urllib.request", "urlretrieve"},
    NameMapping{"urllib2", "HTTPError", "urllib.error", "HTTPError"},
    NameMapping{"urllib2", "URLError", "urllib.error", "URLError"},
    NameMapping{"exceptions", "StandardError", "builtins", "Exception"},
    NameMapping{"UserDict", "UserDict", "collections", "UserDict"},
    NameMapping{"socket", "_socketobject", "socket", "SocketType"},
};

// _compat_pickle.IMPORT_MAPPING (module renames).
constexpr std::array<std::pair<std::string_view, std::string_view>, 37> kImportMapping = {{
    {"__builtin__", "builtins"},
    {"copy_reg", "copyreg"},
    {"Queue", "queue"},
    {"SocketServer", "socketserver"},
    {"ConfigParser", "configparser"},
    {"repr", "reprlib"},
    {"tkFileDialog", "tkinter.filedialog"},
    {"tkSimpleDialog", "tkinter.simpledialog"},
    {"tkColorChooser", "tkinter.colorchooser"},
    {"tkCommonDialog", "tkinter.commondialog"},
    {"Dialog", "tkinter.dialog"},
    {"Tkdnd", "tkinter.dnd"},
    {"tkFont", "tkinter.font"},
    {"tkMessageBox", "tkinter.messagebox"},
    {"ScrolledText", "tkinter.scrolledtext"},
    {"Tkconstants", "tkinter.constants"},
    {"Tix", "tkinter.tix"},
    {"ttk", "tkinter.ttk"},
    {"Tkinter", "tkinter"},
    {"markupbase", "_markupbase"},
    {"_winreg", "winreg"},
    {"thread", "_thread"},
    {"dummy_thread", "_dummy_thread"},
    {"dbhash", "dbm.bsd"},
    {"dumbdbm", "dbm.dumb"},
    {"dbm", "dbm.ndbm"},
    {"gdbm", "dbm.gnu"},
    {"xmlrpclib", "xmlrpc.client"},
    {"SimpleXMLRPCServer", "xmlrpc.server"},
    {"httplib", "http.client"},
    {"htmlentitydefs", "html.entities"},
    {"HTMLParser", "html.parser"},
    {"Cookie", "http.cookies"},
    {"cookielib", "http.cookiejar"},
    {"BaseHTTPServer", "http.server"},
    {"test.test_support", "test.support"},
    {"commands", "subprocess"},
}};

}  // namespace

std::span<const AllowedGlobal> builtin_allow_list() noexcept { return kAllowList; }

std::pair<std::string, std::string> map_python2_name(std::string_view module,
                                                     std::string_view name) {
  for (const NameMapping& m : kNameMapping) {
    if (m.from_module == module && m.from_name == name) {
      return {std::string(m.to_module), std::string(m.to_name)};
    }
  }
  // Python 2's exceptions module: every name lives in builtins now.
  if (module == "exceptions") return {"builtins", std::string(name)};
  for (const auto& [from, to] : kImportMapping) {
    if (from == module) return {std::string(to), std::string(name)};
  }
  return {std::string(module), std::string(name)};
}

GlobalKind classify_global(std::string_view module, std::string_view name,
                           const LoadOptions& options) {
  for (const AllowedGlobal& row : kAllowList) {
    if (row.module == module && row.name == name) return row.kind;
  }
  if (find_registration(module, name) != nullptr) return GlobalKind::kRegistered;
  for (const std::string& allowed : options.allow) {
    if (allowed.size() == module.size() + 1 + name.size() && allowed.starts_with(module) &&
        allowed[module.size()] == '.' && allowed.ends_with(name)) {
      return GlobalKind::kCallerAllowed;
    }
  }
  return GlobalKind::kUnknown;
}

}  // namespace ouro::pickle::detail
