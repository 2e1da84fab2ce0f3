// ouro::pickle::scan: what a pickle would import and call if CPython loaded it, and a
// verdict people can gate on (safe, suspicious, dangerous: docs/pickle.md, "Verdicts").
// An opcode walk over the loader's own OpcodeReader that builds no value, so the list is
// exact where pattern-matching scanners (picklescan, fickling) guess: a STACK_GLOBAL whose
// names come from the memo is reported with the names it really resolves to. Nothing is
// imported or called (DESIGN.md I8); the walk's memory has a limit that bounds any input
// (I7). Host-only: the firmware has no scanner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ouro::pickle {

/// A scan's conclusion, most serious last (docs/pickle.md, "Verdicts").
enum class Verdict : std::uint8_t {
  kSafe,        ///< every global is safe (catalogue, loader's own, registered or allowed)
  kOverLimit,   ///< the walk passed ScanOptions::limit_bytes before any finding: not proven safe
  kMalformed,   ///< CPython's loader would fail on it; no unsafe global before that
  kSuspicious,  ///< names a global outside the safe tiers that is not known to run code
  kDangerous,   ///< names a global known to run code (Tier::kDangerous) or rewrites a global
};

/// "safe", "over-limit", "malformed", "suspicious" or "dangerous".
std::string_view verdict_name(Verdict verdict) noexcept;

/// How far one global can be trusted.
enum class Tier : std::uint8_t {
  kSafe,        ///< the catalogue, the loader's own constructors, a registered type, or --allow
  kSuspicious,  ///< unknown: CPython would import it, and nothing says what it does
  kDangerous,   ///< known to run code, a shell, files or the network (dangerous_reason())
};

/// "safe", "suspicious" or "dangerous".
std::string_view tier_name(Tier tier) noexcept;

/// One global the pickle names (GLOBAL, STACK_GLOBAL or INST), after the Python 2 mapping.
/// A STACK_GLOBAL whose operands are not string constants (they are computed while
/// loading) is listed with module and name "<computed>", dangerous.
struct ScanGlobal {
  std::string module;   // e.g. "os"
  std::string name;     // qualified name, e.g. "system"
  std::int64_t offset;  // byte offset of the opcode that names it
  std::string opcode;   // "GLOBAL", "STACK_GLOBAL" or "INST"
  bool allowed;  // Tier::kSafe: on the allow-list (built-in, registered or ScanOptions::allow)
  Tier tier = Tier::kSafe;
  std::string reason{};  // why it is dangerous ("" unless Tier::kDangerous)
};

/// One opcode for which CPython would call or import something (OpcodeInfo::calls_code):
/// GLOBAL, STACK_GLOBAL, INST, OBJ, REDUCE, BUILD, NEWOBJ, NEWOBJ_EX, EXT*, PERSID, BINPERSID.
struct ScanCall {
  std::string opcode;   // its pickletools name
  std::int64_t offset;  // byte offset
};

/// The result of scan().
/// The lists are capped (ScanOptions::max_listed) so that a report stays small whatever
/// the input; what is not listed is counted.
struct ScanReport {
  std::vector<ScanGlobal> globals;  // in the order the loader met them
  std::vector<ScanCall> calls;      // in input order, up to the last STOP or first bad opcode
  Verdict verdict = Verdict::kSafe;
  std::string error;  // why the pickle is malformed or over the limit, "" if neither
  std::size_t globals_not_listed = 0;  // globals met beyond the caps
  std::size_t unsafe_not_listed = 0;   // of which outside the allow-list (suspicious or dangerous)
  std::size_t dangerous_not_listed = 0;  // of which dangerous
  std::size_t calls_not_listed = 0;      // calling opcodes beyond the cap
};

/// How scan() reads.
struct ScanOptions {
  /// Extra globals to count as safe: "module.qualname" exactly, or "module.*" for a module
  /// and its submodules (allow_pattern_error() says which forms are valid). A wildcard
  /// never makes a dangerous global safe; only its exact name does.
  std::vector<std::string> allow{};
  /// Memory limit of the walk (its stack and memo of string constants: 8 bytes an entry)
  /// and of the loader that a pickle with escaped-text global names falls back to. A
  /// pickle that needs more is Verdict::kOverLimit (or worse, if an unsafe global came
  /// first); its globals up to that point are still listed.
  std::size_t limit_bytes = std::size_t{256} << 20;
  /// Most globals and most calls listed; beyond them only the globals outside the
  /// allow-list are listed (up to as many again), so that a flood of harmless ones cannot
  /// push an unsafe one out of the report. 0: no cap.
  std::size_t max_listed = 1000;
};

/// Scans every pickle in `data`, one after another as repeated pickle.load calls on a file
/// would read them (a file may hide a second pickle after the first STOP), up to the end or
/// the first malformed one. Offsets are from the start of `data`. Never throws for bad
/// input: errors become Verdict::kMalformed. Throws std::invalid_argument for an invalid
/// ScanOptions::allow pattern, otherwise only std::bad_alloc of the C++ heap.
///
/// No value is built: an opcode walk keeps a stack and a memo of 8-byte tokens, with the
/// string constants as views of `data`, so a 50 MB array scans in a few pages.
///
///     auto report = ouro::pickle::scan(std::as_bytes(std::span(bytes)));
///     if (report.verdict == ouro::pickle::Verdict::kDangerous)
///       for (auto& g : report.globals)
///         if (g.tier == ouro::pickle::Tier::kDangerous) std::cerr << g.module << '.' << g.name;
ScanReport scan(std::span<const std::byte> data, const ScanOptions& options = {});
/// scan() of a string's bytes.
ScanReport scan(std::string_view data, const ScanOptions& options = {});

/// Why `module.name` (after the Python 2 mapping) is known to run code, or "" when it is
/// not in the table of dangerous globals (docs/pickle.md, "Verdicts"). A qualified name
/// matches its prefix too: "bdb.Bdb.run" is dangerous because the whole bdb module is.
std::string_view dangerous_reason(std::string_view module, std::string_view name) noexcept;

/// Why `pattern` is not a valid allow pattern, or "" when it is. Valid: "module.qualname"
/// (dotted Python identifiers, at least two parts) or "module.*" (a module and its
/// submodules). Nothing else: no "*" alone, no "*" inside a name, no blanks.
std::string allow_pattern_error(std::string_view pattern);

/// The patterns of a policy file's text: one allow pattern per line; blank lines and
/// everything from a '#' are ignored; blanks around a pattern are trimmed. Throws
/// std::invalid_argument "SOURCE:LINE: why" for an invalid line.
std::vector<std::string> parse_policy(std::string_view text, std::string_view source);

}  // namespace ouro::pickle
