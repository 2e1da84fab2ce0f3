// pickletools.dis, ported: formats each instruction from OpcodeReader and emulates the
// unpickler's stack and memo just far enough to indent MARK blocks and to make the same
// sanity checks, raising at the same points with the same messages. The order of steps in
// Disassembler::step mirrors pickletools so that partial output before an error matches.
//
// Output streams as pickletools' does: each line goes to the stream as soon as it is made
// (nothing collects the disassembly), every write is checked (a full disk or a closed pipe
// ends dis with std::ios_base::failure instead of a silently short listing), and
// DisOptions::max_output caps the text, which can be quadratic in the input: each open MARK
// indents every later line, so 100 KB of nested MARKs disassemble to about 20 GB.
//
// Input streams too (dis(istream&)): the pickle is read one instruction at a time, as
// pickletools reads a file, and a bytes or bytearray argument of more than kBigPayload is
// never held whole, neither as input nor as its repr: it is written piece by piece (from a
// seekable stream it is read twice, once for the quote its repr takes, once to write it), so
// dis of a 100 MiB array takes a few MiB whatever the file holds.
//
// The emulation's own memory (stack, mark stack, memo) comes from an allocator limited by
// DisOptions::limit_bytes, so a hostile file (ten million MEMOIZEs, a MARK per byte) ends
// in MemoryError instead of growing the process; the memo takes one byte per MEMOIZE.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <istream>
#include <iterator>
#include <optional>
#include <ostream>
#include <string_view>

#include "ouro/alloc/allocator.h"
#include "ouro/alloc/std_allocator.h"
#include "ouro/pickle/pickletools.h"
#include "ouro/value/value.h"
#include "pickle/heap_map.h"
#include "pickle/opcodes.h"
#include "pickle/pyrepr.h"
#include "pickle/stream_read.h"

namespace ouro::pickle {
namespace {

bool is_memo_put(Op code) {
  return code == Op::kPut || code == Op::kBinPut || code == Op::kLongBinPut || code == Op::kMemoize;
}

bool is_memo_get(Op code) {
  return code == Op::kGet || code == Op::kBinGet || code == Op::kLongBinGet;
}

bool contains_mark(std::span<const StackKind> kinds) {
  return std::find(kinds.begin(), kinds.end(), StackKind::kMark) != kinds.end();
}

// repr(opcode.code)[1:-1]: the code character as Python's str repr shows it.
std::string code_text(Op code) {
  const std::string quoted = detail::repr_str(std::u32string(1, static_cast<char32_t>(code)));
  return quoted.substr(1, quoted.size() - 2);
}

// pickletools' memo: index -> what was stored. Indices as MEMOIZE makes them (0, 1, 2, ...)
// and PUTs near them go to a dense array of one byte each; any other (negative, huge, far)
// to a table keyed by the index's canonical decimal text, as the unpickler's memo does.
class DisMemo {
 public:
  explicit DisMemo(Allocator& allocator)
      : dense_(StdAllocator<StackKind>(allocator)), sparse_(StdAllocator<char>(allocator)) {}

  std::size_t size() const noexcept { return count_; }

  /// What was stored under `key` (canonical decimal), or nullptr.
  const StackKind* find(std::string_view key) const {
    if (const auto index = dense_index(key); index && *index < dense_.size()) {
      if (dense_[*index] != kAbsent) return &dense_[*index];
    }
    if (sparse_.empty()) return nullptr;
    const auto it = sparse_.find(key);  // transparent: no key string made
    return it == sparse_.end() ? nullptr : &it->second;
  }

  /// Stores `kind` under `key`, which is not stored yet.
  void insert(std::string_view key, StackKind kind) {
    const auto index = dense_index(key);
    if (index && *index <= 2 * count_ + kSlack) {
      if (*index >= dense_.size()) dense_.resize(*index + 1, kAbsent);
      dense_[*index] = kind;
    } else {
      sparse_.emplace(HeapString(key, sparse_.get_allocator()), kind);
    }
    ++count_;
  }

 private:
  static constexpr StackKind kAbsent = static_cast<StackKind>(0xFF);
  static constexpr std::size_t kSlack = 1024;  // a PUT may go this far past 2 * size()

  // The index of a canonical non-negative decimal of at most 18 digits.
  static std::optional<std::size_t> dense_index(std::string_view key) {
    if (key.empty() || key.size() > 18 || (key.size() > 1 && key[0] == '0')) return std::nullopt;
    std::size_t n = 0;
    for (char c : key) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + static_cast<std::size_t>(c - '0');
    }
    return n;
  }

  HeapVector<StackKind> dense_;
  detail::HeapMap<HeapString, StackKind, detail::TextHash> sparse_;
  std::size_t count_ = 0;
};

// A bytes or bytearray argument longer than this is written piece by piece (see the top).
constexpr std::uint64_t kBigPayload = std::uint64_t{1} << 20;
// Bytes per piece of such a payload, read or written.
constexpr std::size_t kPiece = std::size_t{1} << 20;

bool is_bytes_payload(ArgKind kind) {
  return kind == ArgKind::kBytes4 || kind == ArgKind::kBytes8 || kind == ArgKind::kBytearray8;
}

// An argument that dis writes piece by piece (kBigPayload).
struct BigPayload {
  std::size_t offset = 0;            // of the opcode, in the whole input
  const OpcodeInfo* info = nullptr;  // BINBYTES, BINBYTES8 or BYTEARRAY8
  std::uint64_t size = 0;            // of the payload, which is all present
  char quote = '\'';                 // the quote its repr takes
};

// Where dis reads the pickle from: all of it in memory, or a stream read as pickletools
// reads a file, one instruction at a time (the window then holds that instruction only).
// Offsets in instructions and errors are those of the whole input.
class DisInput {
 public:
  explicit DisInput(std::span<const std::byte> data) : data_(data), reader_(data) {}
  explicit DisInput(std::istream& in)
      : stream_(in.rdbuf()), owner_(&in), reader_(std::span<const std::byte>()) {
    start_ = stream_->pubseekoff(0, std::ios::cur, std::ios::in);
  }

  /// Reads the next instruction: into `ins`, or into `big` for a big bytes argument (then
  /// for_each_piece must write it before the next call). False after STOP. Throws
  /// OpcodeError as OpcodeReader::next does.
  bool next(std::optional<Instruction>& ins, BigPayload& big) {
    big.info = nullptr;
    if (stopped_) return false;
    if (stream_ != nullptr) {
      fetch(big);
    } else {
      find_big_in_memory(big);
    }
    if (big.info != nullptr) return true;
    ins = reader_.next();
    stopped_ = ins && ins->info->code == Op::kStop;
    return ins.has_value();
  }

  /// Calls f(std::string_view piece) on big's payload, piece after piece, and moves past it.
  template <class F>
  void for_each_piece(const BigPayload& big, F&& f) {
    const std::size_t header = 1 + framing_of(big.info->arg).width;
    const std::size_t payload_end = big.offset + header + static_cast<std::size_t>(big.size);
    if (stream_ == nullptr) {
      const auto* p = reinterpret_cast<const char*>(data_.data()) + big.offset + header;
      for (std::uint64_t done = 0; done < big.size;) {
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(kPiece, big.size - done));
        f(std::string_view(p + done, n));
        done += n;
      }
      base_ = payload_end;
      reader_ = OpcodeReader(data_.subspan(payload_end), payload_end);
      return;
    }
    std::string piece;
    for (std::uint64_t done = 0; done < big.size;) {
      piece.resize(static_cast<std::size_t>(std::min<std::uint64_t>(kPiece, big.size - done)));
      // fetch checked that the whole payload is there.
      const auto got = static_cast<std::size_t>(
          stream_->sgetn(piece.data(), static_cast<std::streamsize>(piece.size())));
      piece.resize(got);
      if (got == 0) throw std::ios_base::failure("the pickle changed while dis read it");
      f(std::string_view(piece));
      done += got;
    }
    base_ = payload_end;
    buffer_.clear();
    reader_ = OpcodeReader(std::span<const std::byte>(), base_);
  }

 private:
  // The payload count of a bytes opcode at window position `at` whose count is in `window`,
  // if the opcode is one (is_bytes_payload).
  static std::optional<std::uint64_t> payload_count(std::span<const std::byte> window,
                                                    std::size_t at, const OpcodeInfo*& info) {
    info = at < window.size() ? find_opcode(static_cast<std::uint8_t>(window[at])) : nullptr;
    if (info == nullptr || !is_bytes_payload(info->arg)) return std::nullopt;
    const std::size_t width = framing_of(info->arg).width;
    if (window.size() - at < 1 + width) return std::nullopt;
    std::uint64_t count = 0;
    for (std::size_t k = width; k > 0; --k) {
      count = (count << 8) | static_cast<std::uint8_t>(window[at + k]);
    }
    return count;
  }

  void find_big_in_memory(BigPayload& big) {
    const std::size_t at = base_ + reader_.position();
    const OpcodeInfo* info = nullptr;
    const auto count = payload_count(data_, at, info);
    if (!count || *count <= kBigPayload) return;
    const std::size_t start = at + 1 + framing_of(info->arg).width;
    if (*count > data_.size() - start) return;  // the reader reports the short payload
    const std::string_view payload(reinterpret_cast<const char*>(data_.data()) + start,
                                   static_cast<std::size_t>(*count));
    big = {at, info, *count, detail::repr_quote(payload)};
  }
  // Reads until the window holds `end` bytes or the stream ends.
  void fill(std::size_t end) {
    if (!ended_ && !detail::read_into(buffer_, end, *stream_, *owner_, kPiece)) ended_ = true;
  }
  // Reads through the next newline (or to the end of the stream).
  void fill_line() {
    while (!ended_) {
      fill(buffer_.size() + 1);
      if (buffer_.back() == '\n') return;
    }
  }

  // Drops the last instruction and reads the next one whole, except a big payload's bytes
  // (from a seekable stream), which stay in the stream for for_each_piece.
  void fetch(BigPayload& big) {
    base_ += reader_.position();
    buffer_.clear();
    fill(1);
    const OpcodeInfo* info =
        buffer_.empty() ? nullptr : find_opcode(static_cast<std::uint8_t>(buffer_[0]));
    if (info != nullptr) {
      const ArgFraming framing = framing_of(info->arg);
      if (framing.lines > 0) {
        for (int line = 0; line < framing.lines; ++line) fill_line();
      } else {
        fill(1 + framing.width);
        const auto window = std::as_bytes(std::span(buffer_.data(), buffer_.size()));
        const OpcodeInfo* bytes_info = nullptr;
        if (const auto count = payload_count(window, 0, bytes_info);
            count && *count > kBigPayload && start_ != std::streampos(-1) &&
            scan_payload(*count, big)) {
          big.offset = base_;
          big.info = bytes_info;
          big.size = *count;
          return;
        }
        if (framing.counted && buffer_.size() == 1 + framing.width) {
          std::uint64_t count = 0;
          for (std::size_t k = framing.width; k > 0; --k) {
            count = (count << 8) | static_cast<std::uint8_t>(buffer_[k]);
          }
          if (!framing.signed_count || (count & 0x80000000U) == 0) {
            fill(count > SIZE_MAX - buffer_.size()
                     ? SIZE_MAX
                     : buffer_.size() + static_cast<std::size_t>(count));
          }
        }
      }
    }
    reader_ = OpcodeReader(std::as_bytes(std::span(buffer_.data(), buffer_.size())), base_);
  }

  // Reads a big payload once for its quote and seeks back to its start; false (stream put
  // back) when the stream ends inside it or cannot seek, so that it is read whole and the
  // reader reports the short payload as pickletools does.
  bool scan_payload(std::uint64_t count, BigPayload& big) {
    const std::streampos at = start_ + static_cast<std::streamoff>(base_ + buffer_.size());
    bool single = false, dbl = false;
    std::string piece;
    std::uint64_t done = 0;
    while (done < count) {
      piece.resize(static_cast<std::size_t>(std::min<std::uint64_t>(kPiece, count - done)));
      const auto got = static_cast<std::size_t>(
          stream_->sgetn(piece.data(), static_cast<std::streamsize>(piece.size())));
      single = single || std::memchr(piece.data(), '\'', got) != nullptr;
      dbl = dbl || std::memchr(piece.data(), '"', got) != nullptr;
      done += got;
      if (got < piece.size()) break;
    }
    if (stream_->pubseekpos(at, std::ios::in) != at) {
      throw std::ios_base::failure("seeking back in the pickle failed");
    }
    if (done < count) return false;
    big.quote = single && !dbl ? '"' : '\'';
    return true;
  }

  std::span<const std::byte> data_;   // memory: the whole input
  std::streambuf* stream_ = nullptr;  // stream: the input, read as it goes
  std::istream* owner_ = nullptr;     // gets eofbit when the stream ends
  std::streampos start_ = -1;         // stream position of offset 0 (-1: cannot seek)
  std::string buffer_;                // stream: the current instruction
  std::size_t base_ = 0;              // offset where the reader's window starts
  bool ended_ = false;
  bool stopped_ = false;
  OpcodeReader reader_;
};

std::string spaces(long count) {
  return std::string(count > 0 ? static_cast<std::size_t>(count) : 0, ' ');
}

class Disassembler {
 public:
  Disassembler(std::ostream& out, const DisOptions& options)
      : out_(out),
        options_(options),
        allocator_({.limit_bytes = options.limit_bytes}),
        stack_(StdAllocator<StackKind>(allocator_)),
        markstack_(StdAllocator<std::size_t>(allocator_)),
        memo_(allocator_),
        annocol_(options.annotate_column) {}

  void run(DisInput& input);

 private:
  struct Checks {          // what one opcode's bookkeeping decided before its line is printed
    std::string markmsg;   // "(MARK at N)", "(as N)" or the no-MARK complaint
    std::string errormsg;  // raised after the line is printed
    std::size_t numtopop;  // items still to pop after the MARK slice went
    std::span<const StackKind> after;  // what the opcode pushes
    StackKind got{};                   // a memo GET's better guess, when `after` points here
  };

  void step(const Instruction& ins);
  void step_big(const BigPayload& big, DisInput& input);
  std::string annotation(std::size_t columns, std::string_view summary);
  void pop_mark(const Instruction& ins, Checks& checks);
  void check_memo(const Instruction& ins, Checks& checks);
  std::string line_head(const Instruction& ins) const;
  std::string format_line(const Instruction& ins, const Checks& checks, std::string line);
  void apply_stack_effect(const Instruction& ins, const Checks& checks);
  [[noreturn]] void fail(const std::string& message, std::size_t offset,
                         const char* python_type = "ValueError");

  void emit(std::string_view text);

  std::ostream& out_;
  const DisOptions& options_;
  std::size_t written_ = 0;            // bytes written to out_
  Allocator allocator_;                // the emulation's memory, limited (limit_bytes)
  HeapVector<StackKind> stack_;        // crude emulation of the unpickler stack
  HeapVector<std::size_t> markstack_;  // offsets of the open MARK opcodes
  DisMemo memo_;
  int maxproto_ = -1;
  long annocol_;
};

// Writes `text`, or its part below the output cap and then throws OutputLimitError; a
// failed write throws std::ios_base::failure.
void Disassembler::emit(std::string_view text) {
  const std::size_t cap = options_.max_output;
  const bool over = cap != 0 && text.size() > cap - written_;
  if (over) text = text.substr(0, cap - written_);
  out_.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out_) throw std::ios_base::failure("writing the disassembly failed");
  written_ += text.size();
  if (over) throw OutputLimitError(cap);
}

void Disassembler::fail(const std::string& message, std::size_t offset, const char* python_type) {
  throw DisError(python_type, message, offset);
}

// A MARK-consuming opcode (or POP on a MARK) removes everything down to the topmost mark.
void Disassembler::pop_mark(const Instruction& ins, Checks& checks) {
  const auto before = ins.info->stack_before;
  const bool uses_mark = contains_mark(before);
  const bool pops_mark =
      ins.info->code == Op::kPop && !stack_.empty() && stack_.back() == StackKind::kMark;
  if (!uses_mark && !pops_mark) return;
  if (markstack_.empty()) {
    checks.errormsg = checks.markmsg = "no MARK exists on stack";
    return;
  }
  checks.markmsg = fmt::format("(MARK at {})", markstack_.back());
  markstack_.pop_back();
  // The mark may have been popped as an ordinary item (e.g. by DUP); pickletools then runs
  // off the bottom of its list and raises IndexError before printing the line.
  while (!stack_.empty() && stack_.back() != StackKind::kMark) stack_.pop_back();
  if (stack_.empty()) fail("list index out of range", ins.offset, "IndexError");
  stack_.pop_back();
  checks.numtopop =
      uses_mark ? static_cast<std::size_t>(
                      std::find(before.begin(), before.end(), StackKind::kMark) - before.begin())
                : 0;
}

void Disassembler::check_memo(const Instruction& ins, Checks& checks) {
  const Op code = ins.info->code;
  if (is_memo_put(code)) {
    std::string key;
    if (code == Op::kMemoize) {
      key = std::to_string(memo_.size());
      checks.markmsg = "(as " + key + ")";
    } else {
      key = ins.arg.int_text();
    }
    if (memo_.find(key) != nullptr) {
      checks.errormsg = "memo key " + ins.arg.repr() + " already defined";
    } else if (stack_.empty()) {
      checks.errormsg = "stack is empty -- can't store into memo";
    } else if (stack_.back() == StackKind::kMark) {
      checks.errormsg = "can't store markobject in the memo";
    } else {
      memo_.insert(key, stack_.back());
    }
  } else if (is_memo_get(code)) {
    if (const StackKind* found = memo_.find(ins.arg.int_text())) {
      checks.got = *found;  // better stack emulation, as pickletools does
      checks.after = {&checks.got, 1};
    } else {
      checks.errormsg = "memo key " + ins.arg.repr() + " has never been stored into";
    }
  }
}

// Code, MARK indentation and name; taken before this opcode's own MARK is popped.
std::string Disassembler::line_head(const Instruction& ins) const {
  const long indent =
      static_cast<long>(options_.indentlevel) * static_cast<long>(markstack_.size());
  return fmt::format("{:<4} {}{}", code_text(ins.info->code), spaces(indent), ins.info->name);
}

std::string Disassembler::format_line(const Instruction& ins, const Checks& checks,
                                      std::string line) {
  const std::string_view name = ins.info->name;
  const bool has_arg = ins.info->arg != ArgKind::kNone;
  if (has_arg || !checks.markmsg.empty()) {
    line += spaces(10 - static_cast<long>(name.size()));  // a mild effort to align arguments
    if (has_arg) line += " " + ins.arg.repr();            // may throw for a huge int, mid-line
    if (!checks.markmsg.empty()) line += " " + checks.markmsg;
  }
  if (options_.annotate) line += annotation(detail::count_code_points(line), ins.info->summary);
  return line;
}

// dis -a's tail for a line of `columns` code points: blanks to the annotation column, which
// moves right past long lines (up to 50), then the opcode's summary.
std::string Disassembler::annotation(std::size_t columns, std::string_view summary) {
  std::string tail = spaces(annocol_ - static_cast<long>(columns));
  annocol_ = std::max(annocol_, static_cast<long>(columns));
  if (annocol_ > 50) annocol_ = options_.annotate_column;
  tail += ' ';
  tail += summary;
  return tail;
}

void Disassembler::apply_stack_effect(const Instruction& ins, const Checks& checks) {
  if (stack_.size() < checks.numtopop) {
    fail(fmt::format("tries to pop {} items from stack with only {} items", checks.numtopop,
                     stack_.size()),
         ins.offset);
  }
  stack_.resize(stack_.size() - checks.numtopop);
  if (contains_mark(checks.after)) markstack_.push_back(ins.offset);
  stack_.insert(stack_.end(), checks.after.begin(), checks.after.end());
}

void Disassembler::step(const Instruction& ins) {
  emit(fmt::format("{:5d}: ", ins.offset));
  maxproto_ = std::max(maxproto_, ins.info->proto);
  Checks checks{{}, {}, ins.info->stack_before.size(), ins.info->stack_after};
  std::string line = line_head(ins);
  try {
    pop_mark(ins, checks);
    check_memo(ins, checks);
    line = format_line(ins, checks, std::move(line));
  } catch (const OpcodeError& e) {
    fail(e.what(), ins.offset, e.python_type().c_str());
  }
  line += '\n';
  emit(line);
  if (!checks.errormsg.empty()) fail(checks.errormsg, ins.offset);  // complain after printing
  apply_stack_effect(ins, checks);
}

// step for a big bytes argument: the same line, with the repr written as it is made.
void Disassembler::step_big(const BigPayload& big, DisInput& input) {
  emit(fmt::format("{:5d}: ", big.offset));
  maxproto_ = std::max(maxproto_, big.info->proto);
  Instruction ins;
  ins.offset = big.offset;
  ins.info = big.info;
  Checks checks{{}, {}, big.info->stack_before.size(), big.info->stack_after};
  std::string line = line_head(ins);
  pop_mark(ins, checks);  // neither applies to a bytes opcode: kept for step's order
  check_memo(ins, checks);
  const bool bytearray = big.info->arg == ArgKind::kBytearray8;
  line += spaces(10 - static_cast<long>(big.info->name.size()));
  line += bytearray ? " bytearray(b" : " b";
  line += big.quote;
  std::size_t columns = line.size();  // all ASCII, as the repr is
  emit(line);
  std::string text(detail::kMaxBytesReprPerByte * kPiece, '\0');
  input.for_each_piece(big, [&](std::string_view piece) {
    const std::size_t n = detail::write_bytes_repr_body(text.data(), piece, big.quote, bytearray);
    columns += n;
    emit(std::string_view(text.data(), n));
  });
  std::string tail(1, big.quote);
  if (bytearray) tail += ')';
  if (!checks.markmsg.empty()) tail += " " + checks.markmsg;
  columns += tail.size();
  if (options_.annotate) tail += annotation(columns, big.info->summary);
  tail += '\n';
  emit(tail);
  if (!checks.errormsg.empty()) fail(checks.errormsg, ins.offset);
  apply_stack_effect(ins, checks);
}

void Disassembler::run(DisInput& input) {
  std::size_t stop_offset = 0;
  for (;;) {
    std::optional<Instruction> ins;
    BigPayload big;
    try {
      if (!input.next(ins, big)) break;
    } catch (const OpcodeError& e) {
      throw DisError(e.python_type(), e.what(), e.offset());
    }
    if (big.info != nullptr) {
      step_big(big, input);
      continue;
    }
    stop_offset = ins->offset;
    step(*ins);
  }
  emit(fmt::format("highest protocol among opcodes = {}\n", maxproto_));
  if (!stack_.empty()) {
    // pickletools lists every leftover; past kMaxNamed (a DUP bomb leaves millions) the
    // message names the first ones and counts the rest, so that it stays small.
    constexpr std::size_t kMaxNamed = 10000;
    std::string names;
    for (std::size_t i = 0; i < std::min(stack_.size(), kMaxNamed); ++i) {
      if (i != 0) names += ", ";
      names += stack_kind_name(stack_[i]);
    }
    if (stack_.size() > kMaxNamed) {
      names += fmt::format(", ... ({} more)", stack_.size() - kMaxNamed);
    }
    fail(fmt::format("stack not empty after STOP: [{}]", names), stop_offset);
  }
}

}  // namespace

DisError::DisError(std::string python_type, const std::string& message,
                   std::optional<std::size_t> offset)
    : std::runtime_error(message), python_type_(std::move(python_type)), offset_(offset) {}

void dis(std::span<const std::byte> data, std::ostream& out, const DisOptions& options) {
  DisInput input(data);
  Disassembler(out, options).run(input);
}

void dis(std::istream& in, std::ostream& out, const DisOptions& options) {
  DisInput input(in);
  Disassembler(out, options).run(input);
}

int run_dis_command(std::istream& in, std::ostream& out, std::ostream& err,
                    const DisOptions& options) {
  try {
    dis(in, out, options);
  } catch (const DisError& e) {
    out.flush();
    err << e.python_type() << ": " << e.what() << '\n';
    return 1;
  }
  return 0;
}

}  // namespace ouro::pickle
