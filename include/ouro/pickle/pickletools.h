// Pickle disassembly: the C++ counterpart of CPython's `pickletools.dis` and of
// `python -m pickletools FILE`. Output is byte for byte what CPython 3.11 prints, including
// MARK indentation, the memo and stack checks, and the partial output before an error.
// Disassembly never builds or imports anything, so it is safe on hostile pickles.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>

namespace ouro::pickle {

/// Options of dis(), named after pickletools.dis's parameters.
struct DisOptions {
  bool annotate = false;  ///< append each opcode's one-line description
  int indentlevel = 4;    ///< blanks per open MARK
  /// Column hint for annotations: 30 is what `python -m pickletools -a` passes; use 1 to
  /// match `pickletools.dis(data, annotate=True)`.
  int annotate_column = 30;
  /// Most bytes of text to write (0: no cap). The text can be quadratic in the input (each
  /// open MARK indents every later line); past the cap dis throws ouro::OutputLimitError.
  std::size_t max_output = 0;
  /// Most bytes the emulated stack, mark stack and memo may take (0: no limit); past it
  /// dis throws ouro::MemoryError. About a byte per stack entry or memo entry, 8 per MARK.
  std::size_t limit_bytes = 0;
};

/// Thrown where pickletools.dis raises. `what()` is exactly Python's exception message and
/// `python_type()` its class ("ValueError", "UnicodeDecodeError", "IndexError").
class DisError : public std::runtime_error {
 public:
  DisError(std::string python_type, const std::string& message, std::optional<std::size_t> offset);
  /// Name of the Python exception class pickletools raises for this input.
  const std::string& python_type() const noexcept { return python_type_; }
  /// Offset of the offending opcode (or of the end of data), when known.
  std::optional<std::size_t> offset() const noexcept { return offset_; }

 private:
  std::string python_type_;
  std::optional<std::size_t> offset_;
};

/// Writes a symbolic disassembly of the pickle at the start of `data` to `out`, as
/// pickletools.dis does: one line per opcode through the first STOP (bytes after it are
/// ignored), then "highest protocol among opcodes = N". Output is UTF-8.
/// Throws DisError after writing the lines pickletools prints before the same error.
/// Each line is written as soon as it is made; a failed write throws
/// std::ios_base::failure, passing `max_output` throws ouro::OutputLimitError, passing
/// `limit_bytes` ouro::MemoryError. A stack of more than 10,000 items left after STOP is
/// named by its first 10,000 and a count (pickletools lists them all).
///
///     std::ostringstream out;
///     ouro::pickle::dis(std::as_bytes(std::span(bytes)), out);
///     // "    0: \x80 PROTO      4\n ..."
void dis(std::span<const std::byte> data, std::ostream& out, const DisOptions& options = {});

/// dis() of the pickle read from `in`, one instruction at a time as pickletools reads a file:
/// only the current instruction is held, and a big bytes or bytearray argument is read in
/// pieces when `in` can seek (twice: once for its repr's quote), so memory stays bounded
/// whatever the file. Reads nothing after STOP. Same output and errors as the span form.
void dis(std::istream& in, std::ostream& out, const DisOptions& options = {});

/// `python -m pickletools FILE` with FILE's bytes on `in`: disassembles to `out`, and on
/// error writes the last line of Python's traceback ("ValueError: <message>") to `err` and
/// returns 1; returns 0 on success.
int run_dis_command(std::istream& in, std::ostream& out, std::ostream& err,
                    const DisOptions& options = {});

}  // namespace ouro::pickle
