// `ouro pickle dis|show|convert|scan|stats`: the pickle layer from the command line.
// Every FILE may be `-` for standard input. Output goes to stdout, diagnostics to stderr
// prefixed "ouro: ". Exit status: 0 success; 1 an unreadable file, a failed load, dis or
// convert, or a failed write (a full disk, a closed pipe); 2 usage errors (main.cpp); 3 a
// limit stopped the command (--max-memory, --max-output). scan follows picklescan: 0 all
// safe, 1 some file unsafe, 2 some file malformed or unreadable, 3 some file passed the
// memory limit (the first of unsafe, malformed, limit wins).
//
// Limits (docs/pickle.md, "Limits of the command line"): every command's working memory is
// a heap limited by --max-memory (values, the unpickler's stack and memo, dis's
// bookkeeping), and the texts that can grow far beyond their input (show's repr, dis's
// indentation) stream to stdout under --max-output; every write is checked. Outside the
// heap there remain only the input file where a command reads it whole (dis, scan, stats)
// and the bytes convert writes (pickle::dumps builds them).
#include <fmt/format.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "cpython_sizes.h"
#include "ouro/alloc/allocator.h"
#include "ouro/core/heap.h"
#include "ouro/core/runtime.h"
#include "ouro/errors.h"
#include "ouro/pickle/pickle.h"
#include "ouro/pickle/pickletools.h"
#include "ouro/pickle/scan.h"
#include "ouro/pickle/torch.h"
#include "ouro/value/value.h"
#include "pickle/archive.h"
#include "pickle/catalogue.h"

namespace ouro::cli {
namespace {

/// Thrown by a command to end the program with `code` (its message already printed).
[[noreturn]] void exit_with(int code) { throw CLI::RuntimeError(code); }

void error(const std::string& message) { fmt::print(stderr, "ouro: {}\n", message); }

/// Exit status when --max-memory or --max-output stopped a command.
constexpr int kExitLimit = 3;

/// A SIZE argument: an integer, then an optional binary unit K, M, G or T (also KB/KiB,
/// any case): "64M", "1G", "512K", "1000". nullopt for anything else (fractions such as
/// "1.5G" included) or a size that overflows.
std::optional<std::size_t> parse_size(std::string_view text) {
  std::size_t value = 0;
  std::size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    const std::size_t digit = static_cast<std::size_t>(text[i] - '0');
    if (value > (SIZE_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  if (i == 0) return std::nullopt;
  std::string unit;
  for (char c : text.substr(i))
    unit += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  int shift = 0;
  if (unit.empty() || unit == "B") {
    shift = 0;
  } else if (unit == "K" || unit == "KB" || unit == "KIB") {
    shift = 10;
  } else if (unit == "M" || unit == "MB" || unit == "MIB") {
    shift = 20;
  } else if (unit == "G" || unit == "GB" || unit == "GIB") {
    shift = 30;
  } else if (unit == "T" || unit == "TB" || unit == "TIB") {
    shift = 40;
  } else {
    return std::nullopt;
  }
  if (value > (SIZE_MAX >> shift)) return std::nullopt;
  return value << shift;
}

/// A size as the limits' messages give it: "64 MiB", "1 GiB", "1000 bytes".
std::string format_size(std::size_t bytes) {
  static constexpr std::pair<int, const char*> kUnits[] = {
      {40, "TiB"}, {30, "GiB"}, {20, "MiB"}, {10, "KiB"}};
  for (const auto& [shift, name] : kUnits) {
    const std::size_t unit = std::size_t{1} << shift;
    if (bytes >= unit && bytes % unit == 0) return fmt::format("{} {}", bytes / unit, name);
  }
  return fmt::format("{} bytes", bytes);
}

/// CLI11 check for SIZE options: the message says which forms are accepted.
const CLI::Validator kSizeCheck(
    [](std::string& text) -> std::string {
      if (parse_size(text)) return "";
      return fmt::format("'{}' is not a size: give bytes, or a number with K, M, G or T (64M, 1G)",
                         text);
    },
    "SIZE");

/// --max-memory and --max-output of one command. The defaults protect someone who runs the
/// command on an untrusted file (docs/pickle.md explains the figures).
struct Limits {
  static constexpr const char* kDefaultMemory = "256M";
  std::string max_memory = kDefaultMemory;
  std::string max_output;  // only for the commands that take --max-output

  void add_memory_to(CLI::App* command) {
    command
        ->add_option("--max-memory", max_memory,
                     "Most memory the command's heap may use (values, stack, memo): bytes or "
                     "K, M, G, T; over it the command stops with exit status 3")
        ->check(kSizeCheck)
        ->capture_default_str();
  }
  void add_output_to(CLI::App* command, const char* default_size, const char* what) {
    max_output = default_size;
    command
        ->add_option("--max-output", max_output,
                     fmt::format("Most bytes of {} to print (0: no cap); past it the output stops "
                                 "with exit status 3",
                                 what))
        ->check(kSizeCheck)
        ->capture_default_str();
  }
  /// The --max-memory figure; a limit too small for any heap (below one arena) is a usage
  /// error (exit status 2) that says why.
  std::size_t memory_bytes() const {
    const std::size_t bytes = *parse_size(max_memory);
    try {
      const Allocator probe({.limit_bytes = bytes});
    } catch (const std::invalid_argument& e) {
      error(fmt::format("--max-memory {} is too small: {}", max_memory, e.what()));
      exit_with(2);
    }
    return bytes;
  }
  std::size_t output_bytes() const { return max_output.empty() ? 0 : *parse_size(max_output); }
};

/// Standard output as the commands use it: SIGPIPE ignored, so that a closed pipe is a
/// failed write (EPIPE) the command reports and exits 1 for, not a silent death.
void prepare_stdout() { std::signal(SIGPIPE, SIG_IGN); }

/// Flushes stdout; on a failed write (now or earlier) prints why and exits 1.
void finish_stdout() {
  errno = 0;
  std::cout.flush();
  const bool failed = !std::cout || std::fflush(stdout) != 0 || std::ferror(stdout) != 0;
  if (failed) {
    error(fmt::format("writing the output failed: {}",
                      errno != 0 ? std::strerror(errno) : "stream error"));
    std::clearerr(stdout);
    exit_with(1);
  }
}

/// Ends a command that a failed write stopped (a std::ios_base::failure from the writers).
[[noreturn]] void exit_write_failed() {
  error(fmt::format("writing the output failed: {}",
                    errno != 0 ? std::strerror(errno) : "stream error"));
  exit_with(1);
}

/// Ends a command that --max-output stopped.
[[noreturn]] void exit_output_limit(const std::string& path, std::size_t limit,
                                    std::string_view what) {
  std::cout << '\n';
  finish_stdout();
  error(fmt::format("{}: {} passed the output limit of {} (--max-output); output stopped there",
                    path, what, format_size(limit)));
  exit_with(kExitLimit);
}

/// The message for a MemoryError under --max-memory (the system's own exhaustion otherwise).
std::string memory_message(const MemoryError& e) {
  if (e.limit() == 0) return fmt::format("out of memory: {}", e.what());
  return fmt::format("exceeded the memory limit of {} (--max-memory)", format_size(e.limit()));
}

/// Reads FILE (or stdin for "-") whole into `out`; on failure returns why ("No such file
/// or directory"), else "".
std::string read_input(const std::string& path, std::string& out) {
  if (path == "-") {
    std::ios::sync_with_stdio(false);
    out.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    if (std::cin.bad()) return "read error";
  } else {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) return std::strerror(errno);
    // Sized up front: appending would double the string's capacity, up to twice the file.
    const std::streamoff size = in.tellg();
    if (size > 0) {
      out.resize(static_cast<std::size_t>(size));
      in.seekg(0);
      in.read(out.data(), size);
      out.resize(static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad()) return "read error";
    // A file that is not seekable (a named pipe) or that grew: read the rest.
    in.clear();
    out.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) return "read error";
  }
  // A torch.save checkpoint (a zip) stands for its one pickle, data.pkl; say which member.
  // A legacy torch file is a row of pickles: only the first (its magic number) is read.
  if (const std::string legacy = pickle::torch::describe_legacy_format(as_bytes(out));
      !legacy.empty()) {
    fmt::print(stderr, "ouro: {}: note: {}; only its first pickle is read here\n", path, legacy);
  }
  try {
    if (const auto pkl = pickle::torch::find_data_pickle(as_bytes(out), "damaged zip archive")) {
      fmt::print(stderr, "ouro: {}: a torch.save checkpoint: reading its member '{}'\n", path,
                 pkl->member);
      out = std::string(reinterpret_cast<const char*>(pkl->data.data()), pkl->data.size());
    }
  } catch (const pickle::CheckpointError& e) {
    return e.what();
  }
  return "";
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
    // Inspect mode keeps persistent ids (a checkpoint's storages) as inert values: the id.
    if (inspect) o.persistent_load = [](const Value& pid) { return pid; };
    return o;
  }
};

/// Runs `load` (a loads or load call in the current heap); on failure prints the loader's
/// message and exits: 3 when the memory limit stopped it, 1 otherwise.
template <class LoadFunction>
Value load_or_exit(const std::string& path, LoadFunction load) {
  try {
    return load();
  } catch (const pickle::UnpicklingError& e) {
    error(fmt::format("{}: {}", path, e.what()));
  } catch (const MemoryError& e) {
    error(fmt::format("{}: {} while loading", path, memory_message(e)));
    exit_with(kExitLimit);
  } catch (const Error& e) {
    error(fmt::format("{}: {}: {}", path, e.python_type(), e.what()));
  }
  exit_with(1);
}

/// FILE opened for reading as it goes, when it is a plain pickle file; nullptr for stdin and
/// for what must be seen whole (a torch.save checkpoint, a zip whose data.pkl is the pickle;
/// a legacy torch file, for read_input's note about it): those go through read_or_exit.
std::unique_ptr<std::ifstream> open_plain_pickle(const std::string& path) {
  if (path == "-") return nullptr;
  auto in = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*in) {
    error(fmt::format("{}: {}", path, std::strerror(errno)));
    exit_with(1);
  }
  std::array<char, 1024> start{};  // enough for describe_legacy_format's magic numbers
  in->read(start.data(), start.size());
  const auto head = std::as_bytes(std::span(start.data(), static_cast<std::size_t>(in->gcount())));
  if (pickle::detail::looks_like_zip(head) ||
      !pickle::torch::describe_legacy_format(head).empty()) {
    return nullptr;
  }
  in->clear();
  in->seekg(0);
  return in;
}

/// Loads the pickle at the start of FILE (or stdin) in the current heap. A plain pickle file
/// is read as it is loaded (pickle::load), so only the heap holds what it becomes.
Value load_file_or_exit(const std::string& path, const LoadFlags& flags) {
  if (const auto in = open_plain_pickle(path)) {
    return load_or_exit(path, [&] { return pickle::load(*in, flags.options()); });
  }
  const std::string data = read_or_exit(path);
  return load_or_exit(path, [&] { return pickle::loads(data, flags.options()); });
}

void add_dis(CLI::App& pickle) {
  auto* cmd = pickle.add_subcommand("dis", "Disassemble a pickle, as python3 -m pickletools");
  auto file = std::make_shared<std::string>();
  auto annotate = std::make_shared<bool>(false);
  auto limits = std::make_shared<Limits>();
  cmd->add_option("FILE", *file, "The pickle (- for stdin)")->required();
  auto indent = std::make_shared<int>(pickle::DisOptions{}.indentlevel);
  cmd->add_flag("-a,--annotate", *annotate, "Annotate each line with a short opcode description");
  cmd->add_option("-l,--indentlevel", *indent, "Blanks per open MARK, as pickletools' -l")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  limits->add_memory_to(cmd);
  limits->add_output_to(cmd, "1G", "disassembly");
  cmd->callback([file, annotate, indent, limits] {
    prepare_stdout();
    const pickle::DisOptions options{.annotate = *annotate,
                                     .indentlevel = *indent,
                                     .max_output = limits->output_bytes(),
                                     .limit_bytes = limits->memory_bytes()};
    try {
      // Lines go to stdout as they are made; pickletools prints the error after them. A
      // plain file is read as it is disassembled, so memory stays small whatever its size.
      if (const auto in = open_plain_pickle(*file)) {
        pickle::dis(*in, std::cout, options);
      } else {
        const std::string data = read_or_exit(*file);
        pickle::dis(std::as_bytes(std::span(data.data(), data.size())), std::cout, options);
      }
    } catch (const pickle::DisError& e) {
      finish_stdout();
      error(fmt::format("{}: {}", e.python_type(), e.what()));
      exit_with(1);
    } catch (const OutputLimitError& e) {
      exit_output_limit(*file, e.limit(), "the disassembly");
    } catch (const MemoryError& e) {
      finish_stdout();
      error(fmt::format("{}: {} in dis", *file, memory_message(e)));
      exit_with(kExitLimit);
    } catch (const std::ios_base::failure&) {
      exit_write_failed();
    }
    finish_stdout();
  });
}

void add_show(CLI::App& pickle) {
  auto* cmd = pickle.add_subcommand("show", "Load a pickle and print repr() of its value");
  auto file = std::make_shared<std::string>();
  auto flags = std::make_shared<LoadFlags>();
  auto limits = std::make_shared<Limits>();
  cmd->add_option("FILE", *file, "The pickle (- for stdin)")->required();
  flags->add_to(cmd);
  limits->add_memory_to(cmd);
  limits->add_output_to(cmd, "10M", "repr text");
  cmd->callback([file, flags, limits] {
    prepare_stdout();
    Heap heap({.limit_bytes = limits->memory_bytes()});
    HeapScope scope(heap);
    const Value value = load_file_or_exit(*file, *flags);
    try {
      // Streamed: a value that shares one list a billion times has a repr of gigabytes.
      pickle::write_catalogue_repr(std::cout, value, limits->output_bytes());
      std::cout << '\n';
    } catch (const OutputLimitError& e) {
      exit_output_limit(*file, e.limit(), "the repr");
    } catch (const std::ios_base::failure&) {
      exit_write_failed();
    } catch (const Error& e) {
      finish_stdout();
      error(fmt::format("{}: {}: {}", *file, e.python_type(), e.what()));
      exit_with(1);
    }
    finish_stdout();
  });
}

void add_convert(CLI::App& pickle) {
  auto* cmd = pickle.add_subcommand("convert", "Load a pickle and write it with another protocol");
  auto in = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto protocol = std::make_shared<int>(pickle::kDefaultProtocol);
  auto flags = std::make_shared<LoadFlags>();
  auto limits = std::make_shared<Limits>();
  cmd->add_option("IN", *in, "The pickle to read (- for stdin)")->required();
  cmd->add_option("OUT", *out, "The file to write (- for stdout)")->required();
  cmd->add_option("-p,--protocol", *protocol, "Protocol to write")
      ->check(CLI::Range(0, pickle::kHighestProtocol))
      ->capture_default_str();
  flags->add_to(cmd);
  limits->add_memory_to(cmd);
  cmd->callback([in, out, protocol, flags, limits] {
    prepare_stdout();
    Heap heap({.limit_bytes = limits->memory_bytes()});
    HeapScope scope(heap);
    const Value value = load_file_or_exit(*in, *flags);
    std::string bytes;
    try {
      bytes = pickle::dumps(value, {.protocol = *protocol});
    } catch (const MemoryError& e) {
      error(fmt::format("{}: {} while pickling", *in, memory_message(e)));
      exit_with(kExitLimit);
    } catch (const std::exception& e) {
      error(fmt::format("{}: {}", *in, e.what()));
      exit_with(1);
    }
    if (*out == "-") {
      std::cout.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      finish_stdout();
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
      "{{\"file\": {}, \"verdict\": {}, \"error\": {}, \"globals\": [{}], \"calls\": [{}], "
      "\"globals_not_listed\": {}, \"unsafe_not_listed\": {}, \"calls_not_listed\": {}}}",
      json_string(path), json_string(pickle::verdict_name(r.verdict)),
      r.error.empty() ? "null" : json_string(r.error), globals, calls, r.globals_not_listed,
      r.unsafe_not_listed, r.calls_not_listed);
}

void print_scan_text(const std::string& path, const pickle::ScanReport& r) {
  fmt::print("{}: {}\n", path, pickle::verdict_name(r.verdict));
  for (const auto& g : r.globals) {
    fmt::print("  global {}.{} ({} at {}){}\n", g.module, g.name, g.opcode, g.offset,
               g.allowed ? "" : "  UNSAFE");
  }
  if (r.globals_not_listed != 0) {
    fmt::print("  ... {} more globals not listed ({} of them UNSAFE; --max-list)\n",
               r.globals_not_listed, r.unsafe_not_listed);
  }
  for (const auto& c : r.calls) fmt::print("  call   {} at {}\n", c.opcode, c.offset);
  if (r.calls_not_listed != 0) {
    fmt::print("  ... {} more calls not listed (--max-list)\n", r.calls_not_listed);
  }
  if (!r.error.empty()) fmt::print("  error  {}\n", r.error);
}

void add_scan(CLI::App& pickle) {
  auto* cmd = pickle.add_subcommand(
      "scan", "List the globals and calling opcodes of pickles, with a safety verdict");
  cmd->footer(
      "Exit status: 0 every file safe, 1 some file unsafe, 2 some file malformed or\n"
      "unreadable (and none unsafe), 3 some file passed --max-memory (and none of the above).");
  auto files = std::make_shared<std::vector<std::string>>();
  auto json = std::make_shared<bool>(false);
  auto allow = std::make_shared<std::vector<std::string>>();
  cmd->add_option("FILE", *files, "Pickles to scan (- for stdin)")->required();
  cmd->add_flag("--json", *json, "One JSON array of per-file reports");
  cmd->add_option("--allow", *allow, "Count this global (module.qualname) as safe; repeatable")
      ->allow_extra_args(false);
  auto limits = std::make_shared<Limits>();
  auto max_list = std::make_shared<std::size_t>(pickle::ScanOptions{}.max_listed);
  limits->add_memory_to(cmd);
  cmd->add_option("--max-list", *max_list,
                  "Most globals and calls listed per file (then as many unsafe globals again; "
                  "the rest is counted); 0: all")
      ->capture_default_str();
  cmd->callback([files, json, allow, limits, max_list] {
    prepare_stdout();
    bool unsafe = false;
    bool failed = false;
    bool over_limit = false;
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
      pickle::ScanReport report = pickle::scan(
          data, {.allow = *allow, .limit_bytes = limits->memory_bytes(), .max_listed = *max_list});
      unsafe = unsafe || report.verdict == pickle::Verdict::kUnsafe;
      failed = failed || report.verdict == pickle::Verdict::kMalformed;
      if (report.verdict == pickle::Verdict::kOverLimit) {
        over_limit = true;
        report.error = fmt::format("exceeded the memory limit of {} (--max-memory)",
                                   format_size(limits->memory_bytes()));
      }
      if (*json) {
        reports.push_back(scan_json(path, report));
      } else {
        print_scan_text(path, report);
      }
    }
    if (*json) fmt::print("[{}]\n", fmt::join(reports, ",\n "));
    finish_stdout();
    if (unsafe) exit_with(1);
    if (failed) exit_with(2);
    if (over_limit) exit_with(kExitLimit);
  });
}

void add_stats(CLI::App& pickle) {
  auto* cmd = pickle.add_subcommand("stats", "Memory figures of a pickle: bytes, objects, heap");
  auto file = std::make_shared<std::string>();
  auto flags = std::make_shared<LoadFlags>();
  auto limits = std::make_shared<Limits>();
  cmd->add_option("FILE", *file, "The pickle (- for stdin)")->required();
  flags->add_to(cmd);
  limits->add_memory_to(cmd);
  cmd->callback([file, flags, limits] {
    prepare_stdout();
    // Read whole: stats reports the file's size next to the heap's figures.
    const std::string data = read_or_exit(*file);
    Heap heap({.limit_bytes = limits->memory_bytes()});
    HeapScope scope(heap);
    const std::size_t before = heap.stats().bytes_in_use;
    heap.reset_peak();
    const Value value = load_or_exit(*file, [&] { return pickle::loads(data, flags->options()); });
    const HeapStats after = heap.stats();
    fmt::print("pickled bytes:               {:>12}\n", data.size());
    fmt::print("ouro heap after loading:     {:>12}\n", after.bytes_in_use - before);
    fmt::print("ouro heap peak while loading:{:>12}\n", after.peak_bytes_in_use - before);
    print_cpython_estimate(value, data);
    fmt::print("objects by type:\n");
    for (const TypeCount& row : live_objects_by_type(heap)) {
      fmt::print("  {:<24}{:>10}\n", row.type, row.count);
    }
    finish_stdout();
  });
}

}  // namespace

void add_pickle_command(CLI::App& app) {
  auto* pickle = app.add_subcommand("pickle", "Pickle files: dis, show, convert, scan, stats");
  pickle->require_subcommand(1);
  pickle->footer(
      "Every command loads into a heap limited by --max-memory (default 256M) and streams\n"
      "its text under --max-output. Exit status: 0 success; 1 unreadable file, failed load,\n"
      "dis or convert, or failed write; 2 usage error; 3 a limit (--max-memory,\n"
      "--max-output) stopped the command. scan: see `ouro pickle scan --help`.\n"
      "Details: docs/pickle.md, \"Limits of the command line\".");
  add_dis(*pickle);
  add_show(*pickle);
  add_convert(*pickle);
  add_scan(*pickle);
  add_stats(*pickle);
}

}  // namespace ouro::cli
