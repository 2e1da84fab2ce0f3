// `ouro pickle dis|show|convert|scan|stats`: the pickle layer from the command line.
// Every FILE may be `-` for standard input. Output goes to stdout, diagnostics to stderr
// prefixed "ouro: ". Exit status: 0 success; 1 an unreadable file, a failed load, dis or
// convert, or a failed write (a full disk, a closed pipe); 2 usage errors (main.cpp); 3 a
// limit stopped the command (--max-memory, --max-output). scan: 0 all safe, 1 some pickle
// dangerous, 4 suspicious, 5 unreadable or malformed, 3 over the memory limit (the first
// that applies, in that order, wins).
//
// Limits (docs/pickle.md, "Limits of the command line"): every command's working memory is
// a heap limited by --max-memory (values, the unpickler's stack and memo, dis's
// bookkeeping), and the texts that can grow far beyond their input (show's repr, dis's
// indentation) stream to stdout under --max-output; every write is checked. Outside the
// heap there remain only the input file where a command reads it whole (dis, scan, stats)
// and the bytes convert writes (pickle::dumps builds them).
#include <fmt/format.h>

#include <algorithm>
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
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "cpython_sizes.h"
#include "ouro/alloc/allocator.h"
#include "ouro/core/heap.h"
#include "ouro/core/runtime.h"
#include "ouro/errors.h"
#include "ouro/pickle/inspect.h"
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
std::string read_input(const std::string& path, std::string& out, bool quiet = false) {
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
      !legacy.empty() && !quiet) {
    fmt::print(stderr, "ouro: {}: note: {}; only its first pickle is read here\n", path, legacy);
  }
  try {
    if (const auto pkl = pickle::torch::find_data_pickle(as_bytes(out), "damaged zip archive")) {
      if (!quiet)
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

/// Protocol 5's out-of-band buffers from files, in order, as bytes in the current heap: what
/// pickle.loads(data, buffers=[open(f, 'rb').read() for f in files]) gives CPython. Exits on
/// an unreadable file.
std::vector<Value> read_buffers_or_exit(const std::vector<std::string>& paths) {
  std::vector<Value> buffers;
  for (const std::string& path : paths) {
    std::ifstream in(path, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.is_open() || in.bad()) {
      error(fmt::format("{} (--buffer): {}", path, std::strerror(errno)));
      exit_with(1);
    }
    buffers.emplace_back(Bytes::make(std::as_bytes(std::span(data.data(), data.size()))));
  }
  return buffers;
}

/// CLI11 check for --allow: a valid allow pattern (pickle::allow_pattern_error), so that an
/// unknown form is a usage error, never silently dropped.
const CLI::Validator kAllowCheck(
    [](std::string& text) -> std::string {
      if (const std::string why = pickle::allow_pattern_error(text); !why.empty()) {
        return fmt::format("'{}' is not an allow pattern: {}", text, why);
      }
      return "";
    },
    "PATTERN");

/// --allow and --allow-file/--policy: the globals a user vouches for (docs/pickle.md,
/// "Verdicts"). Shared by show, convert, stats and scan.
struct AllowFlags {
  std::vector<std::string> allow;
  std::vector<std::string> policy_files;

  void add_to(CLI::App* command) {
    // One name per --allow, so that the positional arguments after it stay positional.
    command
        ->add_option("--allow", allow,
                     "Accept this global: module.qualname, or module.* for a module and its "
                     "submodules; repeatable")
        ->check(kAllowCheck)
        ->allow_extra_args(false);
    command
        ->add_option("--allow-file,--policy", policy_files,
                     "A policy file: one allow pattern per line, '#' comments; repeatable")
        ->allow_extra_args(false);
  }
  /// Every pattern, the policy files' included; a file that cannot be read or holds an
  /// invalid line is a usage error (exit status 2) naming the file and line.
  std::vector<std::string> patterns() const {
    std::vector<std::string> all = allow;
    for (const std::string& path : policy_files) {
      std::ifstream in(path, std::ios::binary);
      if (!in) {
        error(fmt::format("--allow-file {}: {}", path, std::strerror(errno)));
        exit_with(2);
      }
      const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
      try {
        for (std::string& p : pickle::parse_policy(text, path)) all.push_back(std::move(p));
      } catch (const std::invalid_argument& e) {
        error(fmt::format("--allow-file: {}", e.what()));
        exit_with(2);
      }
    }
    return all;
  }
};

/// The loading flags shared by show, convert and stats.
struct LoadFlags {
  bool inspect = false;
  AllowFlags allow;
  std::vector<std::string> buffer_files;  // --buffer: out-of-band buffers, in order

  void add_to(CLI::App* command) {
    command->add_flag("--inspect", inspect,
                      "Load unknown globals as inert values instead of refusing them");
    allow.add_to(command);
    command
        ->add_option("--buffer", buffer_files,
                     "A file holding the next out-of-band buffer (protocol 5 NEXT_BUFFER), as "
                     "pickle.loads(data, buffers=[...]) takes them; repeat in order")
        ->allow_extra_args(false);
  }
  pickle::LoadOptions options() const {
    pickle::LoadOptions o;
    o.policy = inspect ? pickle::Policy::kInspect : pickle::Policy::kStrict;
    o.allow = allow.patterns();
    if (!buffer_files.empty()) {
      o.buffers = read_buffers_or_exit(buffer_files);
      o.buffers_given = true;
    }
    // Inspect mode keeps persistent ids (a checkpoint's storages) as inert values: the id.
    if (inspect) o.persistent_load = [](const Value& pid) { return pid; };
    return o;
  }
};

/// After a strict load failed: when the pickle names globals outside the safe catalogue,
/// lists every one of them (a scan: the load stopped at the first) with its tier, and says
/// how to go on. Nothing when the failure had another cause.
void explain_refusal(const std::string& path, const LoadFlags& flags) {
  if (flags.inspect) return;
  std::string data;
  if (!read_input(path, data, /*quiet=*/true).empty()) return;
  const pickle::ScanReport report =
      pickle::scan(data, {.allow = flags.allow.patterns(), .max_listed = 0});
  std::vector<const pickle::ScanGlobal*> refused;
  for (const pickle::ScanGlobal& g : report.globals) {
    const bool seen = std::any_of(refused.begin(), refused.end(), [&](const auto* r) {
      return r->module == g.module && r->name == g.name;
    });
    if (!g.allowed && !seen) refused.push_back(&g);
  }
  if (refused.empty()) return;
  fmt::print(stderr,
             "ouro: {}: refused: loading it would import {} global{} outside the safe "
             "catalogue:\n",
             path, refused.size(), refused.size() == 1 ? "" : "s");
  for (const pickle::ScanGlobal* g : refused) {
    fmt::print(stderr, "  {}.{}  ({}{}{})\n", g->module, g->name, pickle::tier_name(g->tier),
               g->reason.empty() ? "" : ": ", g->reason);
  }
  fmt::print(stderr,
             "To accept them: --allow module.name (or --allow 'module.*', --allow-file FILE); to "
             "load them as inert values: --inspect; for the verdict: ouro pickle scan {}\n",
             path);
}

/// Runs `load` (a loads or load call in the current heap); on failure prints the loader's
/// message and exits: 3 when the memory limit stopped it, 1 otherwise. With `flags`, a
/// refusal lists every global outside the catalogue (explain_refusal).
template <class LoadFunction>
Value load_or_exit(const std::string& path, LoadFunction load, const LoadFlags* flags = nullptr) {
  try {
    return load();
  } catch (const pickle::UnpicklingError& e) {
    error(fmt::format("{}: {}", path, e.what()));
    if (flags != nullptr) explain_refusal(path, *flags);
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
    return load_or_exit(
        path, [&] { return pickle::load(*in, flags.options()); }, &flags);
  }
  const std::string data = read_or_exit(path);
  return load_or_exit(
      path, [&] { return pickle::loads(data, flags.options()); }, &flags);
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

/// show's tree options (--inspect prints the object tree, pickle/inspect.h).
struct TreeFlags {
  bool json = false;
  pickle::InspectOptions options;

  void add_to(CLI::App* command) {
    command->add_flag("--json", json,
                      "Print the object tree as JSON (docs/pickle.md gives the schema)");
    command
        ->add_option("--depth", options.max_depth,
                     "Levels of the object tree shown below the root (--inspect, --json)")
        ->check(CLI::Range(std::size_t{0}, std::size_t{10000}))
        ->capture_default_str();
    command
        ->add_option("--max-items", options.max_items,
                     "Items shown per container in the tree, then \"… N more\"")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}))
        ->capture_default_str();
  }
};

void add_show(CLI::App& pickle) {
  auto* cmd = pickle.add_subcommand(
      "show",
      "Load a pickle and print repr() of its value; --inspect: the object tree of any pickle");
  auto file = std::make_shared<std::string>();
  auto flags = std::make_shared<LoadFlags>();
  auto tree = std::make_shared<TreeFlags>();
  auto limits = std::make_shared<Limits>();
  cmd->add_option("FILE", *file, "The pickle (- for stdin)")->required();
  flags->add_to(cmd);
  tree->add_to(cmd);
  limits->add_memory_to(cmd);
  limits->add_output_to(cmd, "10M", "repr text");
  cmd->callback([file, flags, tree, limits] {
    prepare_stdout();
    Heap heap({.limit_bytes = limits->memory_bytes()});
    HeapScope scope(heap);
    const Value value = load_file_or_exit(*file, *flags);
    try {
      if (flags->inspect || tree->json) {
        // The tree is bounded by its options (max_nodes), not by the input.
        std::string text = tree->json ? pickle::inspect_json(value, tree->options) + "\n"
                                      : pickle::inspect_text(value, tree->options);
        const std::size_t cap = limits->output_bytes();
        if (cap != 0 && text.size() > cap) {
          std::cout.write(text.data(), static_cast<std::streamsize>(cap));
          exit_output_limit(*file, cap, "the tree");
        }
        std::cout << text;
      } else {
        // Streamed: a value that shares one list a billion times has a repr of gigabytes.
        pickle::write_catalogue_repr(std::cout, value, limits->output_bytes());
        std::cout << '\n';
      }
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

/// Exit statuses of `ouro pickle scan` (docs/pickle.md, "Verdicts"): the most serious file
/// decides, in the order dangerous, suspicious, unreadable, limit. 2 stays the usage error
/// of every command and 3 the limit, as for the other commands.
constexpr int kExitDangerous = 1;
constexpr int kExitSuspicious = 4;
constexpr int kExitUnreadable = 5;

/// One pickle scan reads: a file, or one member of a zip (a torch.save checkpoint holds
/// archive/data.pkl and possibly more .pkl members; every one is scanned).
struct ScanTarget {
  std::string file;
  std::string member;  // "" for a plain file
  std::string why_unreadable;
  pickle::ScanReport report;
};

nlohmann::ordered_json scan_json(const ScanTarget& t) {
  nlohmann::ordered_json j;
  j["file"] = t.file;
  j["member"] = t.member.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(t.member);
  if (!t.why_unreadable.empty()) {
    j["verdict"] = "unreadable";
    j["error"] = t.why_unreadable;
    j["globals"] = nlohmann::ordered_json::array();
    j["calls"] = nlohmann::ordered_json::array();
    return j;
  }
  const pickle::ScanReport& r = t.report;
  j["verdict"] = pickle::verdict_name(r.verdict);
  j["error"] = r.error.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(r.error);
  auto& globals = j["globals"] = nlohmann::ordered_json::array();
  for (const auto& g : r.globals) {
    globals.push_back(
        nlohmann::ordered_json{{"module", g.module},
                               {"name", g.name},
                               {"offset", g.offset},
                               {"opcode", g.opcode},
                               {"allowed", g.allowed},
                               {"tier", pickle::tier_name(g.tier)},
                               {"reason", g.reason.empty() ? nlohmann::ordered_json()
                                                           : nlohmann::ordered_json(g.reason)}});
  }
  auto& calls = j["calls"] = nlohmann::ordered_json::array();
  for (const auto& c : r.calls)
    calls.push_back(nlohmann::ordered_json{{"opcode", c.opcode}, {"offset", c.offset}});
  j["globals_not_listed"] = r.globals_not_listed;
  j["unsafe_not_listed"] = r.unsafe_not_listed;
  j["dangerous_not_listed"] = r.dangerous_not_listed;
  j["calls_not_listed"] = r.calls_not_listed;
  return j;
}

void print_scan_text(const ScanTarget& t) {
  const std::string name = t.member.empty() ? t.file : fmt::format("{}:{}", t.file, t.member);
  if (!t.why_unreadable.empty()) {
    fmt::print("{}: unreadable\n  error  {}\n", name, t.why_unreadable);
    return;
  }
  const pickle::ScanReport& r = t.report;
  fmt::print("{}: {}\n", name, pickle::verdict_name(r.verdict));
  for (const auto& g : r.globals) {
    std::string tier;
    if (g.tier == pickle::Tier::kDangerous) {
      tier = fmt::format("  DANGEROUS: {}", g.reason);
    } else if (g.tier == pickle::Tier::kSuspicious) {
      tier = "  SUSPICIOUS: not in the safe catalogue";
    }
    fmt::print("  global {}.{} ({} at {}){}\n", g.module, g.name, g.opcode, g.offset, tier);
  }
  if (r.globals_not_listed != 0) {
    fmt::print("  ... {} more globals not listed ({} of them unsafe, {} dangerous; --max-list)\n",
               r.globals_not_listed, r.unsafe_not_listed, r.dangerous_not_listed);
  }
  for (const auto& c : r.calls) fmt::print("  call   {} at {}\n", c.opcode, c.offset);
  if (r.calls_not_listed != 0) {
    fmt::print("  ... {} more calls not listed (--max-list)\n", r.calls_not_listed);
  }
  if (!r.error.empty()) fmt::print("  error  {}\n", r.error);
}

/// Scans FILE: stdin read whole, a file memory-mapped (the walk touches only the opcodes,
/// not a big array's payload), a zip member by member (every member named *.pkl).
std::vector<ScanTarget> scan_file(const std::string& path, const pickle::ScanOptions& options) {
  const auto scan_bytes = [&](std::span<const std::byte> bytes, std::string member) {
    ScanTarget t{path, std::move(member), "", {}};
    t.report = pickle::scan(bytes, options);
    return t;
  };
  if (path == "-") {
    std::string data;
    std::ios::sync_with_stdio(false);
    data.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    if (std::cin.bad()) return {{path, "", "read error", {}}};
    return {scan_bytes(as_bytes(data), "")};
  }
  std::vector<ScanTarget> targets;
  try {
    const pickle::detail::MappedFile file(path);
    if (!pickle::detail::looks_like_zip(file.bytes())) {
      if (const std::string legacy = pickle::torch::describe_legacy_format(file.bytes());
          !legacy.empty()) {
        fmt::print(stderr, "ouro: {}: note: {}; its pickles are scanned up to the raw storages\n",
                   path, legacy);
      }
      targets.push_back(scan_bytes(file.bytes(), ""));
      return targets;
    }
    const pickle::detail::ZipArchive zip(file.bytes(), path);
    for (const pickle::detail::ZipMember& m : zip.members()) {
      if (!m.name.ends_with(".pkl")) continue;
      try {
        targets.push_back(scan_bytes(zip.data(m), m.name));
      } catch (const pickle::CheckpointError& e) {
        targets.push_back({path, m.name, e.what(), {}});
      }
    }
    if (targets.empty()) targets.push_back({path, "", "a zip archive without a .pkl member", {}});
  } catch (const pickle::CheckpointError& e) {
    targets.push_back({path, "", e.what(), {}});
  }
  return targets;
}

void add_scan(CLI::App& pickle) {
  auto* cmd = pickle.add_subcommand(
      "scan",
      "Verdict on pickles (safe, suspicious, dangerous) from their globals, without loading");
  cmd->footer(
      "Exit status: 0 every pickle safe; 1 some pickle dangerous (a global known to run code);\n"
      "4 some pickle suspicious (a global outside the safe catalogue, not known to be\n"
      "dangerous); 5 some file unreadable or malformed; 3 some pickle passed --max-memory;\n"
      "2 a usage error. The first of 1, 4, 5, 3 that applies wins. A zip (torch.save) is\n"
      "scanned member by member. Details: docs/pickle.md, \"Verdicts\".");
  auto files = std::make_shared<std::vector<std::string>>();
  auto json = std::make_shared<bool>(false);
  auto allow = std::make_shared<AllowFlags>();
  cmd->add_option("FILE", *files, "Pickles or torch.save zips to scan (- for stdin)")->required();
  cmd->add_flag("--json", *json, "One JSON array of per-pickle reports");
  allow->add_to(cmd);
  auto limits = std::make_shared<Limits>();
  auto max_list = std::make_shared<std::size_t>(pickle::ScanOptions{}.max_listed);
  limits->add_memory_to(cmd);
  cmd->add_option("--max-list", *max_list,
                  "Most globals and calls listed per pickle (then as many unsafe globals again; "
                  "the rest is counted); 0: all")
      ->capture_default_str();
  cmd->callback([files, json, allow, limits, max_list] {
    prepare_stdout();
    const pickle::ScanOptions options{
        .allow = allow->patterns(), .limit_bytes = limits->memory_bytes(), .max_listed = *max_list};
    bool dangerous = false, suspicious = false, unreadable = false, over_limit = false;
    nlohmann::ordered_json reports = nlohmann::ordered_json::array();
    for (const std::string& path : *files) {
      for (ScanTarget& t : scan_file(path, options)) {
        const pickle::Verdict v = t.report.verdict;
        if (!t.why_unreadable.empty()) {
          error(fmt::format("{}{}{}: {}", path, t.member.empty() ? "" : ":", t.member,
                            t.why_unreadable));
        }
        unreadable = unreadable || !t.why_unreadable.empty() || v == pickle::Verdict::kMalformed;
        dangerous = dangerous || v == pickle::Verdict::kDangerous;
        suspicious = suspicious || v == pickle::Verdict::kSuspicious;
        if (v == pickle::Verdict::kOverLimit && t.why_unreadable.empty()) {
          over_limit = true;
          t.report.error = fmt::format("exceeded the memory limit of {} (--max-memory)",
                                       format_size(limits->memory_bytes()));
        }
        if (*json) {
          reports.push_back(scan_json(t));
        } else {
          print_scan_text(t);
        }
      }
    }
    if (*json) fmt::print("{}\n", reports.dump(1));
    finish_stdout();
    if (dangerous) exit_with(kExitDangerous);
    if (suspicious) exit_with(kExitSuspicious);
    if (unreadable) exit_with(kExitUnreadable);
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
    const Value value = load_or_exit(
        *file, [&] { return pickle::loads(data, flags->options()); }, flags.get());
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
      "--max-output) stopped the command. scan has its own (`ouro pickle scan --help`).\n"
      "Details: docs/pickle.md, \"Limits of the command line\".");
  add_dis(*pickle);
  add_show(*pickle);
  add_convert(*pickle);
  add_scan(*pickle);
  add_stats(*pickle);
}

}  // namespace ouro::cli
