// `ouro pickle dis|show|convert|scan|stats`: the pickle layer from the command line.
// Every FILE may be `-` for standard input. Output goes to stdout, diagnostics to stderr
// prefixed "ouro: ". Exit status: 0 success; 1 an unreadable file or a failed load, dis or
// convert; 2 usage errors (main.cpp). scan follows picklescan: 0 all safe, 1 some file
// unsafe, 2 some file malformed or unreadable (unsafe wins over malformed).
#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "cpython_sizes.h"
#include "ouro/errors.h"
#include "ouro/core/heap.h"
#include "ouro/pickle/pickle.h"
#include "ouro/pickle/scan.h"
#include "ouro/pickle/pickletools.h"
#include "ouro/core/runtime.h"
#include "ouro/value/value.h"
#include "pickle/catalogue.h"

namespace ouro::cli {
namespace {

/// Thrown by a command to end the program with `code` (its message already printed).
[[noreturn]] void exit_with(int code) { throw CLI::RuntimeError(code); }

void error(const std::string& message) { fmt::print(stderr, "ouro: {}\n", message); }

/// Reads FILE (or stdin for "-") whole into `out`; on failure returns why ("No such file
/// or directory"), else "".
std::string read_input(const std::string& path, std::string& out) {
  if (path == "-") {
    std::ios::sync_with_stdio(false);
    out.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    return std::cin.bad() ? "read error" : "";
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::strerror(errno);
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return in.bad() ? "read error" : "";
}

std::string read_or_exit(const std::string& path) {
  std::string data;
  const std::string why = read_input(path, data);
  if (!why.empty()) {
    error(fmt::format("{}: {}", path, why));
    exit_with(1);
  }
  return data;
}

/// The loading flags shared by show, convert and stats.
struct LoadFlags {
  bool inspect = false;
  std::vector<std::string> allow;

  void add_to(CLI::App* command) {
    command->add_flag("--inspect", inspect,
                      "Load unknown globals as inert values instead of refusing them");
    // One name per --allow, so that the positional arguments after it stay positional.
    command->add_option("--allow", allow, "Accept this global (module.qualname); repeatable")
        ->allow_extra_args(false);
  }
  pickle::LoadOptions options() const {
    pickle::LoadOptions o;
    o.policy = inspect ? pickle::Policy::kInspect : pickle::Policy::kStrict;
    o.allow = allow;
    return o;
  }
};

/// Loads `data` in the current heap; on failure prints the loader's message and exits 1.
Value load_or_exit(const std::string& path, const std::string& data, const LoadFlags& flags) {
  try {
    return pickle::loads(data, flags.options());
  } catch (const pickle::UnpicklingError& e) {
    error(fmt::format("{}: {}", path, e.what()));
  } catch (const MemoryError& e) {
    error(fmt::format("{}: MemoryError: {}", path, e.what()));
  } catch (const Error& e) {
    error(fmt::format("{}: {}: {}", path, e.python_type(), e.what()));
  }
  exit_with(1);
}

void add_dis(CLI::App& pickle) {
  auto* cmd = pickle.add_subcommand("dis", "Disassemble a pickle, as python3 -m pickletools");
  auto file = std::make_shared<std::string>();
  auto annotate = std::make_shared<bool>(false);
  cmd->add_option("FILE", *file, "The pickle (- for stdin)")->required();
  cmd->add_flag("-a,--annotate", *annotate, "Annotate each line with a short opcode description");
  cmd->callback([file, annotate] {
    std::string data = read_or_exit(*file);
    std::istringstream in(std::move(data));
    // pickletools writes its output before the error's traceback; flush in the same order.
    std::ostringstream out;
    std::ostringstream err;
    const int status = pickle::run_dis_command(in, out, err, {.annotate = *annotate});
    std::cout << out.str() << std::flush;
    if (status != 0) {
      std::cerr << "ouro: " << err.str() << std::flush;
      exit_with(status);
    }
  });
}

void add_show(CLI::App& pickle) {
  auto* cmd = pickle.add_subcommand("show", "Load a pickle and print repr() of its value");
  auto file = std::make_shared<std::string>();
  auto flags = std::make_shared<LoadFlags>();
  cmd->add_option("FILE", *file, "The pickle (- for stdin)")->required();
  flags->add_to(cmd);
  cmd->callback([file, flags] {
    const std::string data = read_or_exit(*file);
    Heap heap;
    HeapScope scope(heap);
    const Value value = load_or_exit(*file, data, *flags);
    fmt::print("{}\n", pickle::catalogue_repr(value));  // CPython's repr, standard types too
  });
}

void add_convert(CLI::App& pickle) {
  auto* cmd = pickle.add_subcommand("convert", "Load a pickle and write it with another protocol");
  auto in = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto protocol = std::make_shared<int>(pickle::kDefaultProtocol);
  auto flags = std::make_shared<LoadFlags>();
  cmd->add_option("IN", *in, "The pickle to read (- for stdin)")->required();
  cmd->add_option("OUT", *out, "The file to write (- for stdout)")->required();
  cmd->add_option("-p,--protocol", *protocol, "Protocol to write")
      ->check(CLI::Range(0, pickle::kHighestProtocol))
      ->capture_default_str();
  flags->add_to(cmd);
  cmd->callback([in, out, protocol, flags] {
    const std::string data = read_or_exit(*in);
    Heap heap;
    HeapScope scope(heap);
    const Value value = load_or_exit(*in, data, *flags);
    std::string bytes;
    try {
      bytes = pickle::dumps(value, {.protocol = *protocol});
    } catch (const std::exception& e) {
      error(fmt::format("{}: {}", *in, e.what()));
      exit_with(1);
    }
    if (*out == "-") {
      std::cout.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      std::cout.flush();
      return;
    }
    std::ofstream file(*out, std::ios::binary | std::ios::trunc);
    if (!file.write(bytes.data(), static_cast<std::streamsize>(bytes.size())) || !file.flush()) {
      error(fmt::format("{}: {}", *out, std::strerror(errno)));
      exit_with(1);
    }
  });
}

/// JSON string literal (UTF-8 passed through; control characters, quote and backslash escaped).
std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (b < 0x20) {
      out += fmt::format("\\u{:04x}", b);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string scan_json(const std::string& path, const pickle::ScanReport& r) {
  std::string globals;
  for (const auto& g : r.globals) {
    globals += fmt::format(
        "{}{{\"module\": {}, \"name\": {}, \"offset\": {}, \"opcode\": {}, \"allowed\": {}}}",
        globals.empty() ? "" : ", ", json_string(g.module), json_string(g.name), g.offset,
        json_string(g.opcode), g.allowed ? "true" : "false");
  }
  std::string calls;
  for (const auto& c : r.calls) {
    calls += fmt::format("{}{{\"opcode\": {}, \"offset\": {}}}", calls.empty() ? "" : ", ",
                         json_string(c.opcode), c.offset);
  }
  return fmt::format(
      "{{\"file\": {}, \"verdict\": {}, \"error\": {}, \"globals\": [{}], \"calls\": [{}]}}",
      json_string(path), json_string(pickle::verdict_name(r.verdict)),
      r.error.empty() ? "null" : json_string(r.error), globals, calls);
}

void print_scan_text(const std::string& path, const pickle::ScanReport& r) {
  fmt::print("{}: {}\n", path, pickle::verdict_name(r.verdict));
  for (const auto& g : r.globals) {
    fmt::print("  global {}.{} ({} at {}){}\n", g.module, g.name, g.opcode, g.offset,
               g.allowed ? "" : "  UNSAFE");
  }
  for (const auto& c : r.calls) fmt::print("  call   {} at {}\n", c.opcode, c.offset);
  if (!r.error.empty()) fmt::print("  error  {}\n", r.error);
}

void add_scan(CLI::App& pickle) {
  auto* cmd = pickle.add_subcommand(
      "scan", "List the globals and calling opcodes of pickles, with a safety verdict");
  cmd->footer(
      "Exit status: 0 every file safe, 1 some file unsafe, 2 some file malformed or\n"
      "unreadable (and none unsafe).");
  auto files = std::make_shared<std::vector<std::string>>();
  auto json = std::make_shared<bool>(false);
  auto allow = std::make_shared<std::vector<std::string>>();
  cmd->add_option("FILE", *files, "Pickles to scan (- for stdin)")->required();
  cmd->add_flag("--json", *json, "One JSON array of per-file reports");
  cmd->add_option("--allow", *allow, "Count this global (module.qualname) as safe; repeatable")
      ->allow_extra_args(false);
  cmd->callback([files, json, allow] {
    bool unsafe = false;
    bool failed = false;
    std::vector<std::string> reports;
    for (const std::string& path : *files) {
      std::string data;
      const std::string why = read_input(path, data);
      if (!why.empty()) {
        failed = true;
        error(fmt::format("{}: {}", path, why));
        if (*json) {
          reports.push_back(fmt::format(
              "{{\"file\": {}, \"verdict\": \"unreadable\", \"error\": {}, \"globals\": [], "
              "\"calls\": []}}",
              json_string(path), json_string(why)));
        }
        continue;
      }
      const pickle::ScanReport report = pickle::scan(data, {.allow = *allow});
      unsafe = unsafe || report.verdict == pickle::Verdict::kUnsafe;
      failed = failed || report.verdict == pickle::Verdict::kMalformed;
      if (*json) {
        reports.push_back(scan_json(path, report));
      } else {
        print_scan_text(path, report);
      }
    }
    if (*json) fmt::print("[{}]\n", fmt::join(reports, ",\n "));
    std::fflush(stdout);
    if (unsafe) exit_with(1);
    if (failed) exit_with(2);
  });
}

void add_stats(CLI::App& pickle) {
  auto* cmd = pickle.add_subcommand("stats", "Memory figures of a pickle: bytes, objects, heap");
  auto file = std::make_shared<std::string>();
  auto flags = std::make_shared<LoadFlags>();
  cmd->add_option("FILE", *file, "The pickle (- for stdin)")->required();
  flags->add_to(cmd);
  cmd->callback([file, flags] {
    const std::string data = read_or_exit(*file);
    Heap heap;
    HeapScope scope(heap);
    const std::size_t before = heap.stats().bytes_in_use;
    heap.reset_peak();
    const Value value = load_or_exit(*file, data, *flags);
    const HeapStats after = heap.stats();
    fmt::print("pickled bytes:               {:>12}\n", data.size());
    fmt::print("ouro heap after loading:     {:>12}\n", after.bytes_in_use - before);
    fmt::print("ouro heap peak while loading:{:>12}\n", after.peak_bytes_in_use - before);
    print_cpython_estimate(value, data);
    fmt::print("objects by type:\n");
    for (const TypeCount& row : live_objects_by_type(heap)) {
      fmt::print("  {:<24}{:>10}\n", row.type, row.count);
    }
  });
}

}  // namespace

void add_pickle_command(CLI::App& app) {
  auto* pickle = app.add_subcommand("pickle", "Pickle files: dis, show, convert, scan, stats");
  pickle->require_subcommand(1);
  add_dis(*pickle);
  add_show(*pickle);
  add_convert(*pickle);
  add_scan(*pickle);
  add_stats(*pickle);
}

}  // namespace ouro::cli
