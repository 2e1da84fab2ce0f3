// ouro::pickle::scan: what a pickle would import and call if CPython loaded it, found by
// ouro's own loader (the OpcodeReader that `dis` and the unpickler share, and the
// unpickler itself run in inspect mode), so the list is exact where pattern-matching
// scanners (picklescan, fickling) guess: a STACK_GLOBAL whose names come from the memo is
// reported with the names it really resolves to. Nothing is imported or called (DESIGN.md
// I8); the scan's values live in a private heap whose limit bounds any input (I7).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ouro::pickle {

/// A scan's conclusion, most serious last.
enum class Verdict : std::uint8_t {
  kSafe,       ///< every global is on the loader's allow-list and the pickle is well formed
  kOverLimit,  ///< loading it passed ScanOptions::limit_bytes before any finding: not proven safe
  kMalformed,  ///< ouro's loader (or CPython's) would fail on it; no unknown global before that
  kUnsafe,     ///< names at least one global outside the allow-list: CPython would import it
};

/// "safe", "over-limit", "malformed" or "unsafe".
std::string_view verdict_name(Verdict verdict) noexcept;

/// One global the pickle names (GLOBAL, STACK_GLOBAL or INST), after the Python 2 mapping.
struct ScanGlobal {
  std::string module;   // e.g. "os"
  std::string name;     // qualified name, e.g. "system"
  std::int64_t offset;  // byte offset of the opcode that names it
  std::string opcode;   // "GLOBAL", "STACK_GLOBAL" or "INST"
  bool allowed;         // on the allow-list (built-in, registered or ScanOptions::allow)
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
  std::size_t unsafe_not_listed = 0;   // of which outside the allow-list
  std::size_t calls_not_listed = 0;    // calling opcodes beyond the cap
};

/// How scan() reads.
struct ScanOptions {
  std::vector<std::string> allow{};  ///< extra "module.qualname" globals to count as safe
  /// Heap limit for the inspect load (which does not build lists' items, floats, big ints
  /// or bytes: they cannot name a global). A pickle that needs more is Verdict::kOverLimit
  /// (or unsafe, if a global outside the allow-list came first); its globals up to that
  /// point are still listed.
  std::size_t limit_bytes = std::size_t{256} << 20;
  /// Most globals and most calls listed; beyond them only the globals outside the
  /// allow-list are listed (up to as many again), so that a flood of harmless ones cannot
  /// push an unsafe one out of the report. 0: no cap.
  std::size_t max_listed = 1000;
};

/// Scans every pickle in `data`, one after another as repeated pickle.load calls on a file
/// would read them (a file may hide a second pickle after the first STOP), up to the end or
/// the first malformed one. Offsets are from the start of `data`. Never throws for bad
/// input: errors become Verdict::kMalformed. Throws only std::bad_alloc of the C++ heap.
///
///     auto report = ouro::pickle::scan(std::as_bytes(std::span(bytes)));
///     if (report.verdict == ouro::pickle::Verdict::kUnsafe)
///       for (auto& g : report.globals) if (!g.allowed) std::cerr << g.module << '.' << g.name;
ScanReport scan(std::span<const std::byte> data, const ScanOptions& options = {});
/// scan() of a string's bytes.
ScanReport scan(std::string_view data, const ScanOptions& options = {});

}  // namespace ouro::pickle
