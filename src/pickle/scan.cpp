// The safety scanner behind `ouro pickle scan`: an opcode walk that builds no value.
//   The walk (Walker) reads instructions with the loader's own OpcodeReader (opcodes.h),
//   so malformed instructions are found exactly where pickletools and the unpickler find
//   them, and runs the pickle machine on 8-byte tokens instead of values: a token is
//   "some value", a global the pickle named, or a string constant (a view of the input).
//   The memo keeps tokens too. That is all it takes to resolve every STACK_GLOBAL exactly
//   (its operands may come from the memo or from earlier opcodes) and to see a BUILD
//   applied to a global itself (the module-override attack), at the speed of the reader:
//   a 50 MB array is a few instructions and one skipped payload.
//   Each global is classified by the policy's allow-list (policy.h, one source of truth
//   with the loader and the catalogue) and by the table of dangerous globals (verdicts.cpp).
// Two cases go to the loader itself (unpickler.h, Policy::kInspect, Build::kForScan, in a
// private heap with the limit): a malformed pickle, for the loader's exact message, and a
// STACK_GLOBAL whose operand is a string the walk does not decode (protocol 0's escaped
// text, Python 2 strings), for the exact name. Nothing is imported or called (DESIGN.md I8).
// The report is bounded: at most max_listed globals and calls are listed (and as many
// unsafe globals again), the rest only counted.
// The verdict is the most serious finding: one dangerous global makes the pickle dangerous
// even when it is malformed later, because CPython would have imported it before failing.
#include "ouro/pickle/scan.h"

#include <algorithm>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <unordered_map>

#include "ouro/core/heap.h"
#include "ouro/errors.h"
#include "ouro/pickle/numpy.h"
#include "ouro/pickle/pickle.h"
#include "ouro/pickle/torch.h"
#include "pickle/opcodes.h"
#include "pickle/policy.h"
#include "pickle/unpickler.h"

namespace ouro::pickle {
namespace {

/// The walk's stand-in for a value: kSomething (any value), a global (index into the
/// report's globals, or kUnlisted), or a string constant as offset and length in the input
/// (kText: UTF-8 the walk can use as a name; kEncodedText: escaped or Python 2 text that
/// only the loader decodes). The low 2 bits are the kind.
using Token = std::uint64_t;
constexpr Token kSomething = 0;
constexpr Token kGlobalTag = 1, kTextTag = 2, kEncodedTextTag = 3;
constexpr unsigned kLengthBits = 20;  // text longer than 1 MiB is no name: kSomething
constexpr Token kNoMemo = ~Token{0};  // a memo slot never set

Token text_token(std::size_t offset, std::size_t length, Token tag) {
  if (length >= (std::size_t{1} << kLengthBits)) return kSomething;
  return (Token{offset} << (kLengthBits + 2)) | (Token{length} << 2) | tag;
}
std::string_view token_text(Token t, std::span<const std::byte> data) {
  const std::size_t offset = t >> (kLengthBits + 2);
  const std::size_t length = (t >> 2) & ((std::size_t{1} << kLengthBits) - 1);
  return {reinterpret_cast<const char*>(data.data()) + offset, length};
}

/// Why a walk stopped early.
enum class WalkEnd {
  kStop,         // STOP reached
  kMalformed,    // CPython's loader would fail here (walk.error says why)
  kNeedsLoader,  // a name only the loader can decode: run it
  kOverLimit,    // the walk's stack and memo passed ScanOptions::limit_bytes
};

/// Lists a global unless the caps say otherwise (see ScanOptions::max_listed); returns its
/// index in report.globals, or SIZE_MAX.
std::size_t add_global(ScanGlobal global, const ScanOptions& options, ScanReport& report) {
  const std::size_t cap = options.max_listed;
  const std::size_t listed = report.globals.size();
  if (cap == 0 || listed < cap || (!global.allowed && listed < 2 * cap)) {
    report.globals.push_back(std::move(global));
    return listed;
  }
  ++report.globals_not_listed;
  if (!global.allowed) ++report.unsafe_not_listed;
  if (global.tier == Tier::kDangerous) ++report.dangerous_not_listed;
  return SIZE_MAX;
}

/// numpy's and torch's rebuild functions and types: the catalogue's array rows, which their
/// own loaders allow (numpy::safe_globals(), torch::safe_globals(): the same lists).
bool in_array_catalogue(const std::string& full) {
  for (const auto* names : {&numpy::safe_globals(), &torch::safe_globals()}) {
    if (std::find(names->begin(), names->end(), full) != names->end()) return true;
  }
  return false;
}

/// The tier of `module.name` (already mapped): the loader's allow-list first (one source
/// of truth: policy.h's table, the catalogue, registrations) and the array rows, then the
/// dangerous table,
/// which only an exact --allow overrides, then the caller's wildcards.
ScanGlobal classify(std::string module, std::string name, std::int64_t offset,
                    std::string_view opcode, const ScanOptions& options) {
  ScanGlobal g{std::move(module), std::move(name), offset, std::string(opcode), true};
  const detail::GlobalKind kind = detail::classify_global(g.module, g.name, {});
  if (kind != detail::GlobalKind::kUnknown) return g;
  const std::string full = g.module + "." + g.name;
  if (in_array_catalogue(full)) return g;
  const bool exact =
      std::find(options.allow.begin(), options.allow.end(), full) != options.allow.end();
  if (const std::string_view why = dangerous_reason(g.module, g.name); !why.empty() && !exact) {
    g.allowed = false;
    g.tier = Tier::kDangerous;
    g.reason = std::string(why);
    return g;
  }
  const bool wildcard =
      std::any_of(options.allow.begin(), options.allow.end(), [&](const std::string& pattern) {
        return detail::global_matches(pattern, g.module, g.name);
      });
  if (!exact && !wildcard) {
    g.allowed = false;
    g.tier = Tier::kSuspicious;
  }
  return g;
}

/// The walk's memo: tokens in fixed chunks, so that growing never copies (a memo of
/// millions of entries would otherwise be copied and its pages touched twice at every
/// doubling). Grows only.
class MemoTokens {
 public:
  static constexpr std::size_t kChunk = 4096;  // tokens: 32 KiB
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return chunks_.size() * kChunk; }
  Token operator[](std::size_t i) const noexcept { return chunks_[i / kChunk][i % kChunk]; }
  Token& operator[](std::size_t i) noexcept { return chunks_[i / kChunk][i % kChunk]; }
  void push_back(Token t) {
    if (size_ == capacity()) chunks_.push_back(std::make_unique_for_overwrite<Token[]>(kChunk));
    (*this)[size_++] = t;
  }
  void grow_to(std::size_t n, Token fill) {
    while (size_ < n) push_back(fill);
  }

 private:
  std::vector<std::unique_ptr<Token[]>> chunks_;
  std::size_t size_ = 0;
};

/// One pickle's opcode walk (see the file comment).
class Walker {
 public:
  Walker(std::span<const std::byte> data, std::size_t base, const ScanOptions& options,
         ScanReport& report)
      : data_(data),
        base_(base),
        options_(options),
        report_(report),
        max_tokens_(options.limit_bytes / sizeof(Token)) {}

  /// Walks to STOP; `consumed` gets the bytes the pickle took.
  WalkEnd run(std::size_t& consumed) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(data_.data());
    std::size_t pos = 0;
    // After a name only the loader decodes, the rest is read for its calls only.
    bool names_to_loader = false;
    RawInstruction ins;
    try {
      while (true) {
        // The opcodes of bulk data, decoded here (the reader's general decoder costs more
        // than the whole step); anything unusual, and every error, takes the general path.
        if (!names_to_loader && pos + 9 <= data_.size()) {
          const std::size_t length = fast_step(bytes + pos, data_.size() - pos, pos);
          if (length == kOverLimitStep) return WalkEnd::kOverLimit;
          if (length != 0) {
            pos += length;
            continue;
          }
        }
        OpcodeReader reader(data_.subspan(pos));
        reader.next_raw(ins);
        ins.offset += pos;
        ins.end += pos;
        pos = ins.end;
        if (ins.info->calls_code) add_call(ins);
        if (!names_to_loader) {
          const WalkEnd end = step(ins);
          if (end == WalkEnd::kNeedsLoader) {
            names_to_loader = true;
          } else if (end != WalkEnd::kStop) {
            return end;
          }
        }
        if (ins.info->code == Op::kStop) break;
      }
    } catch (const OpcodeError& e) {
      error = e.python_type() + ": " + e.what();
      return WalkEnd::kMalformed;
    }
    consumed = pos;
    return names_to_loader ? WalkEnd::kNeedsLoader : WalkEnd::kStop;
  }

  std::string error;  // why the walk found the pickle malformed (the loader's message wins)

 private:
  void add_call(const RawInstruction& ins) {
    if (options_.max_listed != 0 && report_.calls.size() >= options_.max_listed) {
      ++report_.calls_not_listed;
    } else {
      report_.calls.push_back(
          {std::string(ins.info->name), static_cast<std::int64_t>(base_ + ins.offset)});
    }
  }

  WalkEnd fail(std::string message) {
    error = std::move(message);
    return WalkEnd::kMalformed;
  }
  std::size_t fence() const { return marks_.empty() ? 0 : marks_.back(); }
  // The walk's memory is its buffers' capacity (a sparse memo node counts 4 tokens). A
  // buffer grows by doubling, and the old one lives while it copies: growth is allowed
  // only when both fit in the limit with everything else, so the peak stays within it.
  std::size_t tokens_reserved() const {
    return stack_.capacity() + marks_.capacity() + memo_.capacity() + 4 * sparse_memo_.size();
  }
  bool can_grow(const std::vector<Token>& v, std::size_t to_size) const {
    if (to_size <= v.capacity()) return true;
    return tokens_reserved() + std::max(to_size, 2 * v.capacity()) <= max_tokens_;
  }
  bool can_grow(const MemoTokens& memo, std::size_t to_size) const {
    if (to_size <= memo.capacity()) return true;
    return tokens_reserved() + (to_size - memo.capacity()) + MemoTokens::kChunk <= max_tokens_;
  }
  [[gnu::always_inline]] WalkEnd push(Token t) {
    if (stack_.size() == stack_.capacity() && !can_grow(stack_, stack_.size() + 1)) {
      return WalkEnd::kOverLimit;
    }
    stack_.push_back(t);
    return WalkEnd::kStop;
  }
  WalkEnd mark() {
    if (!can_grow(marks_, marks_.size() + 1)) return WalkEnd::kOverLimit;
    marks_.push_back(stack_.size());
    return WalkEnd::kStop;
  }
  // Pops n tokens above the innermost mark; false on underflow.
  bool pop(std::size_t n) {
    if (stack_.size() - fence() < n) return false;
    stack_.resize(stack_.size() - n);
    return true;
  }
  bool pop_mark() {
    if (marks_.empty()) return false;
    stack_.resize(marks_.back());
    marks_.pop_back();
    return true;
  }
  WalkEnd underflow() {
    return fail(marks_.empty() ? "unpickling stack underflow" : "unexpected MARK found");
  }

  // Far entries the dense memo has grown over move into it (memo_get looks there first).
  void absorb_sparse() {
    for (auto it = sparse_memo_.begin(); it != sparse_memo_.end();) {
      if (it->first < memo_.size()) {
        memo_[it->first] = it->second;
        it = sparse_memo_.erase(it);
      } else {
        ++it;
      }
    }
  }
  Token memo_get(std::uint64_t index) const {
    if (index < memo_.size()) return memo_[index];
    const auto it = sparse_memo_.find(index);
    return it == sparse_memo_.end() ? kNoMemo : it->second;
  }
  [[gnu::always_inline]] WalkEnd memo_put(std::uint64_t index) {
    if (stack_.size() <= fence()) return underflow();
    const Token t = stack_.back();
    // Dense indices (MEMOIZE, BINPUT from 0) in chunks; a far index in a map, so that a
    // hostile LONG_BINPUT 4000000000 costs one entry, not gigabytes.
    if (index == memo_.size() &&
        sparse_memo_.empty()) {  // the common case: MEMOIZE, PUTs 0, 1, ...
      if (memo_.size() == memo_.capacity() && !can_grow(memo_, memo_.size() + 1)) {
        return WalkEnd::kOverLimit;
      }
      memo_.push_back(t);
      ++memo_len_;
      return WalkEnd::kStop;
    }
    if (index < memo_.size() + 65536) {
      if (!can_grow(memo_, index + 1)) return WalkEnd::kOverLimit;
      if (index >= memo_.size()) {
        memo_.grow_to(index + 1, kNoMemo);
        absorb_sparse();
      }
      if (memo_[index] == kNoMemo) ++memo_len_;
      memo_[index] = t;
    } else {
      if (tokens_reserved() + 4 > max_tokens_) return WalkEnd::kOverLimit;
      if (sparse_memo_.insert_or_assign(index, t).second) ++memo_len_;
    }
    return WalkEnd::kStop;
  }

  // Reports a global and pushes its token.
  WalkEnd global(std::string_view module, std::string_view name, const RawInstruction& ins) {
    const std::pair<std::string_view, std::string_view> python3_name =
        proto_ < 3 ? detail::map_python2_name(module, name) : std::pair{module, name};
    std::pair<std::string, std::string> mapped{std::string(python3_name.first),
                                               std::string(python3_name.second)};
    const std::size_t index = add_global(
        classify(std::move(mapped.first), std::move(mapped.second),
                 static_cast<std::int64_t>(base_ + ins.offset), ins.info->name, options_),
        options_, report_);
    return push(index == SIZE_MAX ? kSomething : (Token{index} << 2) | kGlobalTag);
  }

  // STACK_GLOBAL: both operands must be str. Constants give the exact name; a value made
  // while loading (a call's result, or a global: a module attribute may be a str, set by
  // an earlier BUILD on the module) may be a str only CPython would know: listed as a
  // computed global, dangerous.
  WalkEnd stack_global(const RawInstruction& ins) {
    if (stack_.size() - fence() < 2) return underflow();
    const Token name = stack_[stack_.size() - 1], module = stack_[stack_.size() - 2];
    pop(2);
    if ((name & 3) == kEncodedTextTag || (module & 3) == kEncodedTextTag) {
      return WalkEnd::kNeedsLoader;
    }
    if ((name & 3) == kTextTag && (module & 3) == kTextTag) {
      return global(token_text(module, data_), token_text(name, data_), ins);
    }
    ScanGlobal g{"<computed>",
                 "<computed>",
                 static_cast<std::int64_t>(base_ + ins.offset),
                 std::string(ins.info->name),
                 false,
                 Tier::kDangerous,
                 "STACK_GLOBAL's names are computed while loading, not string constants: only "
                 "running the pickle would tell which global it imports"};
    add_global(std::move(g), options_, report_);
    return push(kSomething);
  }

  // BUILD on a global itself (not on an instance made from it) sets attributes of a class
  // or module in the loading process: the module-override attack.
  void build_on_global(Token target) {
    if ((target & 3) != kGlobalTag) return;
    ScanGlobal& g = report_.globals[target >> 2];
    g.allowed = false;
    g.tier = Tier::kDangerous;
    g.reason =
        "BUILD sets attributes on the global itself: it rewrites a class or module of "
        "the loading process";
  }

  Token text(const RawInstruction& ins, bool utf8) {
    const auto offset = static_cast<std::size_t>(
        reinterpret_cast<const std::byte*>(ins.text.data()) - data_.data());
    // UTF-8 (BINUNICODE*) is the name's exact bytes; latin-1 and ASCII-decoded Python 2
    // text is too when it is ASCII; anything else only the loader decodes.
    bool ascii = true;
    if (!utf8) {
      for (const char c : ins.text) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
    }
    return text_token(offset, ins.text.size(), ascii ? kTextTag : kEncodedTextTag);
  }

  static constexpr std::size_t kOverLimitStep = SIZE_MAX;

  static std::uint32_t le32(const unsigned char* p) {
    return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
           (std::uint32_t{p[3]} << 24);
  }

  // One instruction of the common kinds at `p` (with at least 9 bytes, `left` in all, at
  // `pos` in the input), when it is well formed: its length, or 0 to leave it to step()
  // (which then finds the same state: nothing changes before the checks pass), or
  // kOverLimitStep. None of these opcodes calls code.
  std::size_t fast_step(const unsigned char* p, std::size_t left, std::size_t pos) {
    const auto above_fence = [this] { return stack_.size() - fence(); };
    std::size_t length = 0;
    Token pushed = kSomething;
    switch (p[0]) {
      case 'h':  // BINGET
      case 'j':  // LONG_BINGET
        length = p[0] == 'h' ? 2 : 5;
        pushed = memo_get(p[0] == 'h' ? p[1] : le32(p + 1));
        if (pushed == kNoMemo) return 0;
        break;
      case 'q':     // BINPUT
      case 'r':     // LONG_BINPUT
      case 0x94: {  // MEMOIZE
        if (above_fence() == 0) return 0;
        const std::uint64_t index = p[0] == 'q' ? p[1] : p[0] == 'r' ? le32(p + 1) : memo_len_;
        if (memo_put(index) != WalkEnd::kStop) return kOverLimitStep;
        return p[0] == 'q' ? 2 : p[0] == 'r' ? 5 : 1;
      }
      case 0x8c:   // SHORT_BINUNICODE
      case 'X': {  // BINUNICODE
        const std::size_t header = p[0] == 0x8c ? 2 : 5;
        const std::size_t size = p[0] == 0x8c ? p[1] : le32(p + 1);
        if (size > left - header) return 0;
        length = header + size;
        pushed = text_token(pos + header, size, kTextTag);
        break;
      }
      case 'C':  // SHORT_BINBYTES
        if (std::size_t{p[1]} > left - 2) return 0;
        length = 2 + p[1];
        break;
      case 'K':  // BININT1
        length = 2;
        break;
      case 'M':  // BININT2
        length = 3;
        break;
      case 'J':  // BININT
        length = 5;
        break;
      case 'G':  // BINFLOAT
        length = 9;
        break;
      case 'N':
      case 0x88:  // NEWTRUE
      case 0x89:  // NEWFALSE
      case ']':
      case ')':
      case '}':
      case 0x8f:  // EMPTY_SET
        length = 1;
        break;
      case '(':  // MARK
        return mark() == WalkEnd::kStop ? 1 : kOverLimitStep;
      case 'e':    // APPENDS
      case 'u': {  // SETITEMS: the container must sit above the enclosing mark
        if (marks_.empty()) return 0;
        const std::size_t outer = marks_.size() >= 2 ? marks_[marks_.size() - 2] : 0;
        if (marks_.back() <= outer) return 0;
        stack_.resize(marks_.back());
        marks_.pop_back();
        return 1;
      }
      case 'a':  // APPEND
        if (above_fence() < 2) return 0;
        stack_.pop_back();
        return 1;
      case 's':  // SETITEM
        if (above_fence() < 3) return 0;
        stack_.resize(stack_.size() - 2);
        return 1;
      case 0x85:    // TUPLE1
      case 0x86:    // TUPLE2
      case 0x87: {  // TUPLE3
        const std::size_t n = p[0] - 0x84u;
        if (above_fence() < n) return 0;
        stack_.resize(stack_.size() - n + 1);
        stack_.back() = kSomething;
        return 1;
      }
      case 0x95: {  // FRAME: only a length, checked against what follows
        std::uint64_t size = 0;
        for (int i = 8; i >= 1; --i) size = (size << 8) | p[i];
        if (size > left - 9) return 0;
        return 9;
      }
      default:
        return 0;
    }
    if (push(pushed) != WalkEnd::kStop) return kOverLimitStep;
    return length;
  }

  WalkEnd step(const RawInstruction& ins) {
    switch (ins.info->code) {
      case Op::kShortBinUnicode:
      case Op::kBinUnicode:
      case Op::kBinUnicode8:
        return push(text(ins, true));
      case Op::kShortBinString:
      case Op::kBinString:
        return push(text(ins, false));
      case Op::kUnicode:
        return push(ins.text.find('\\') == std::string_view::npos
                        ? text(ins, false)
                        : text_token(0, 0, kEncodedTextTag));
      case Op::kString:  // a quoted repr: only the loader unescapes it
        return push(text_token(0, 0, kEncodedTextTag));
      case Op::kInt:
      case Op::kBinInt:
      case Op::kBinInt1:
      case Op::kBinInt2:
      case Op::kLong:
      case Op::kLong1:
      case Op::kLong4:
      case Op::kBinBytes:
      case Op::kShortBinBytes:
      case Op::kBinBytes8:
      case Op::kByteArray8:
      case Op::kNone:
      case Op::kNewTrue:
      case Op::kNewFalse:
      case Op::kFloat:
      case Op::kBinFloat:
      case Op::kEmptyList:
      case Op::kEmptyTuple:
      case Op::kEmptyDict:
      case Op::kEmptySet:
      case Op::kPersId:
        return push(kSomething);
      case Op::kReadonlyBuffer:
      case Op::kFrame:
        return WalkEnd::kStop;
      case Op::kProto:
        proto_ = static_cast<int>(ins.int_value);
        return WalkEnd::kStop;
      case Op::kAppend:
      case Op::kBuild:
      case Op::kPop:
        if (ins.info->code == Op::kPop && stack_.size() == fence() && !marks_.empty()) {
          marks_.pop_back();  // POP right after MARK drops the mark, as _pickle.c does
          return WalkEnd::kStop;
        }
        if (!pop(1)) return underflow();
        if (ins.info->code == Op::kBuild) {
          if (stack_.size() == fence()) return underflow();
          build_on_global(stack_.back());
        }
        return WalkEnd::kStop;
      case Op::kSetItem:
        if (!pop(2)) return underflow();
        return stack_.size() == fence() ? underflow() : WalkEnd::kStop;
      case Op::kAppends:
      case Op::kSetItems:
      case Op::kAddItems:
      case Op::kPopMark:
        if (!pop_mark()) return fail("could not find MARK");
        if (ins.info->code != Op::kPopMark && stack_.size() == fence()) return underflow();
        return WalkEnd::kStop;
      case Op::kList:
      case Op::kTuple:
      case Op::kDict:
      case Op::kFrozenSet:
        if (!pop_mark()) return fail("could not find MARK");
        return push(kSomething);
      case Op::kObj: {
        if (marks_.empty()) return fail("could not find MARK");
        if (stack_.size() == marks_.back()) return underflow();
        pop_mark();
        return push(kSomething);
      }
      case Op::kTuple1:
      case Op::kTuple2:
      case Op::kTuple3:
      case Op::kBinPersId:
      case Op::kReduce:
      case Op::kNewObj:
      case Op::kNewObjEx: {
        const std::size_t n = ins.info->code == Op::kTuple2     ? 2
                              : ins.info->code == Op::kTuple3   ? 3
                              : ins.info->code == Op::kReduce   ? 2
                              : ins.info->code == Op::kNewObj   ? 2
                              : ins.info->code == Op::kNewObjEx ? 3
                                                                : 1;
        if (!pop(n)) return underflow();
        return push(kSomething);
      }
      case Op::kDup:
        if (stack_.size() == fence()) return underflow();
        return push(stack_.back());
      case Op::kMark:
        return mark();
      case Op::kGet:
      case Op::kBinGet:
      case Op::kLongBinGet: {
        std::uint64_t index = 0;
        if (ins.info->code == Op::kGet) {
          const auto parsed = parse_index(ins.text);
          if (!parsed) return WalkEnd::kNeedsLoader;
          index = *parsed;
        } else {
          index = static_cast<std::uint64_t>(ins.int_value);
        }
        const Token t = memo_get(index);
        if (t == kNoMemo) return fail(fmt_memo_missing(index));
        return push(t);
      }
      case Op::kPut: {
        const auto parsed = parse_index(ins.text);
        if (!parsed) return WalkEnd::kNeedsLoader;
        return memo_put(*parsed);
      }
      case Op::kBinPut:
      case Op::kLongBinPut:
        return memo_put(static_cast<std::uint64_t>(ins.int_value));
      case Op::kMemoize:
        return memo_put(memo_len_);
      case Op::kGlobal:
        return global(ins.text, ins.text2, ins);
      case Op::kInst:
        if (!pop_mark()) return fail("could not find MARK");
        return global(ins.text, ins.text2, ins);
      case Op::kStackGlobal:
        return stack_global(ins);
      case Op::kExt1:
      case Op::kExt2:
      case Op::kExt4:        // the extension registry is the loader's
      case Op::kNextBuffer:  // so are out-of-band buffers (scan has none: it fails)
        return WalkEnd::kNeedsLoader;
      case Op::kStop:
        if (!pop(1)) return underflow();
        return WalkEnd::kStop;
    }
    return WalkEnd::kNeedsLoader;
  }

  // PUT and GET's decimal line; nullopt for anything unusual (the loader judges it).
  static std::optional<std::uint64_t> parse_index(std::string_view digits) {
    if (digits.empty() || digits.size() > 18) return std::nullopt;
    std::uint64_t value = 0;
    for (const char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return value;
  }
  static std::string fmt_memo_missing(std::uint64_t index) {
    return "Memo value not found at index " + std::to_string(index);
  }

  std::span<const std::byte> data_;
  std::size_t base_;
  const ScanOptions& options_;
  ScanReport& report_;
  std::size_t max_tokens_;
  int proto_ = 0;
  std::vector<Token> stack_;
  std::vector<Token> marks_;  // stack heights
  MemoTokens memo_;
  std::unordered_map<std::uint64_t, Token> sparse_memo_;
  std::uint64_t memo_len_ = 0;
};

std::string opcode_name_at(std::span<const std::byte> data, std::int64_t offset) {
  if (offset < 0 || static_cast<std::size_t>(offset) >= data.size()) return "";
  const OpcodeInfo* info =
      find_opcode(static_cast<std::uint8_t>(data[static_cast<std::size_t>(offset)]));
  return info != nullptr ? std::string(info->name) : "";
}

// How an inspect load ended.
enum class LoadEnd { kStop, kMalformed, kOverLimit };

// Loads the pickle at the start of `data` inertly in `heap` (the current one). With
// `report_globals`, reports its globals (the walk could not name them); else only its
// error is wanted. `consumed` gets the bytes it took; `error` why it failed.
LoadEnd inspect_load(Heap& heap, std::span<const std::byte> data, std::size_t base,
                     const ScanOptions& options, ScanReport& report, bool report_globals,
                     std::size_t& consumed, std::string& error) {
  LoadOptions load;
  load.policy = Policy::kInspect;
  // A persistent id is listed as a call; scanning goes on past it with the id itself.
  load.persistent_load = [](const Value& pid) { return pid; };
  if (report_globals) {
    load.on_global = [&](std::string_view module, std::string_view name, std::int64_t offset,
                         bool) {
      add_global(
          classify(std::string(module), std::string(name), static_cast<std::int64_t>(base) + offset,
                   opcode_name_at(data, offset), options),
          options, report);
    };
  }
  try {
    Value value = detail::unpickle(heap, data, load, &consumed, detail::Build::kForScan);
    return LoadEnd::kStop;
  } catch (const UnpicklingError& e) {
    error = e.what();
  } catch (const MemoryError& e) {
    error = "MemoryError: scanning needs more than the memory limit of " +
            std::to_string(e.limit()) + " bytes";
    return LoadEnd::kOverLimit;
  } catch (const Error& e) {
    error = std::string(e.python_type()) + ": " + e.what();
  } catch (const std::exception& e) {
    error = e.what();
  }
  return LoadEnd::kMalformed;
}

std::string walk_limit_message(const ScanOptions& options) {
  return "MemoryError: scanning needs more than the memory limit of " +
         std::to_string(options.limit_bytes) + " bytes";
}

}  // namespace

std::string_view verdict_name(Verdict verdict) noexcept {
  switch (verdict) {
    case Verdict::kSafe:
      return "safe";
    case Verdict::kOverLimit:
      return "over-limit";
    case Verdict::kMalformed:
      return "malformed";
    case Verdict::kSuspicious:
      return "suspicious";
    case Verdict::kDangerous:
      return "dangerous";
  }
  return "dangerous";
}

std::string_view tier_name(Tier tier) noexcept {
  switch (tier) {
    case Tier::kSafe:
      return "safe";
    case Tier::kSuspicious:
      return "suspicious";
    case Tier::kDangerous:
      return "dangerous";
  }
  return "dangerous";
}

ScanReport scan(std::span<const std::byte> data, const ScanOptions& options) {
  for (const std::string& pattern : options.allow) {
    if (const std::string why = allow_pattern_error(pattern); !why.empty()) {
      throw std::invalid_argument("allow pattern '" + pattern + "': " + why);
    }
  }
  ScanReport report;
  std::unique_ptr<Heap> heap;  // only for the loader, when the walk needs it
  const auto loader_heap = [&]() -> Heap& {
    if (!heap) heap = std::make_unique<Heap>(HeapOptions{.limit_bytes = options.limit_bytes});
    return *heap;
  };
  // One pickle after another, as repeated pickle.load calls on the file would read them:
  // a file may hide a second pickle after the first STOP.
  std::size_t start = 0;
  Verdict ended = Verdict::kSafe;
  do {
    const std::span<const std::byte> rest = data.subspan(start);
    const std::size_t globals_before = report.globals.size();
    std::size_t consumed = 0;
    Walker walker(rest, start, options, report);
    WalkEnd end = walker.run(consumed);
    if (end == WalkEnd::kStop) {
      start += consumed;
      continue;
    }
    if (end == WalkEnd::kOverLimit) {
      report.error = walk_limit_message(options);
      ended = Verdict::kOverLimit;
      break;
    }
    // The loader, in a heap of its own: for the exact name the walk cannot decode (its
    // globals replace the walk's for this pickle), or for a malformed pickle's message.
    std::string error;
    const auto load = [&](bool report_globals) {
      HeapScope scope(loader_heap());
      return inspect_load(loader_heap(), rest, start, options, report, report_globals, consumed,
                          error);
    };
    LoadEnd loaded = LoadEnd::kStop;
    if (end == WalkEnd::kMalformed) {
      // The loader's message (CPython's, with offset and opcode) is the one loads gives.
      // Should the loader, which checks more, get past the walk's objection, it is the
      // reference: its globals replace the walk's.
      loaded = load(false);
      if (loaded == LoadEnd::kStop) end = WalkEnd::kNeedsLoader;
    }
    if (end == WalkEnd::kNeedsLoader) {
      report.globals.resize(globals_before);
      loaded = load(true);
      if (loaded == LoadEnd::kStop) {
        start += consumed;
        continue;
      }
    }
    ended = loaded == LoadEnd::kOverLimit ? Verdict::kOverLimit : Verdict::kMalformed;
    report.error = error.empty() ? walker.error : error;  // the loader's, CPython's words
    if (start > 0) {
      report.error += " (in the pickle starting at byte " + std::to_string(start) + ")";
    }
    break;
  } while (start < data.size());
  report.verdict = ended;
  bool suspicious = report.unsafe_not_listed > report.dangerous_not_listed;
  bool dangerous = report.dangerous_not_listed > 0;
  for (const ScanGlobal& g : report.globals) {
    suspicious = suspicious || g.tier == Tier::kSuspicious;
    dangerous = dangerous || g.tier == Tier::kDangerous;
  }
  if (suspicious) report.verdict = Verdict::kSuspicious;
  if (dangerous) report.verdict = Verdict::kDangerous;
  return report;
}

ScanReport scan(std::string_view data, const ScanOptions& options) {
  return scan(std::as_bytes(std::span(data.data(), data.size())), options);
}

}  // namespace ouro::pickle
