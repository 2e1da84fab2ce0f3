// The pickle opcode table (protocols 0-5) and the streaming opcode reader.
//
// This file owns the single description of the pickle instruction set that the pickler,
// the unpickler, the safety scanner and `dis` share: code byte, name, argument encoding,
// protocol of introduction, the stack picture pickletools documents, and whether CPython
// would call or import something when it executes the opcode (`calls_code`, the scanner's
// input; keeps DESIGN invariant 8 "loading never executes" auditable in one place).
//
// OpcodeReader is the C++ analogue of pickletools.genops: it yields one instruction at a time
// and decodes arguments exactly as pickletools does, raising the same errors with the same
// messages. Every length read from the input is checked against the bytes that remain before
// anything is allocated, so a hostile length costs nothing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ouro::pickle {

/// Every pickle opcode byte, named as in pickletools / Modules/_pickle.c.
enum class Op : std::uint8_t {
  kInt = 'I',
  kBinInt = 'J',
  kBinInt1 = 'K',
  kBinInt2 = 'M',
  kLong = 'L',
  kLong1 = 0x8a,
  kLong4 = 0x8b,
  kString = 'S',
  kBinString = 'T',
  kShortBinString = 'U',
  kBinBytes = 'B',
  kShortBinBytes = 'C',
  kBinBytes8 = 0x8e,
  kByteArray8 = 0x96,
  kNextBuffer = 0x97,
  kReadonlyBuffer = 0x98,
  kNone = 'N',
  kNewTrue = 0x88,
  kNewFalse = 0x89,
  kUnicode = 'V',
  kShortBinUnicode = 0x8c,
  kBinUnicode = 'X',
  kBinUnicode8 = 0x8d,
  kFloat = 'F',
  kBinFloat = 'G',
  kEmptyList = ']',
  kAppend = 'a',
  kAppends = 'e',
  kList = 'l',
  kEmptyTuple = ')',
  kTuple = 't',
  kTuple1 = 0x85,
  kTuple2 = 0x86,
  kTuple3 = 0x87,
  kEmptyDict = '}',
  kDict = 'd',
  kSetItem = 's',
  kSetItems = 'u',
  kEmptySet = 0x8f,
  kAddItems = 0x90,
  kFrozenSet = 0x91,
  kPop = '0',
  kDup = '2',
  kMark = '(',
  kPopMark = '1',
  kGet = 'g',
  kBinGet = 'h',
  kLongBinGet = 'j',
  kPut = 'p',
  kBinPut = 'q',
  kLongBinPut = 'r',
  kMemoize = 0x94,
  kExt1 = 0x82,
  kExt2 = 0x83,
  kExt4 = 0x84,
  kGlobal = 'c',
  kStackGlobal = 0x93,
  kReduce = 'R',
  kBuild = 'b',
  kInst = 'i',
  kObj = 'o',
  kNewObj = 0x81,
  kNewObjEx = 0x92,
  kProto = 0x80,
  kStop = '.',
  kFrame = 0x95,
  kPersId = 'P',
  kBinPersId = 'Q',
};

/// How an opcode's inline argument is encoded (pickletools' ArgumentDescriptor names).
enum class ArgKind : std::uint8_t {
  kNone,  // no inline argument
  kUint1,
  kUint2,
  kInt4,
  kUint4,
  kUint8,
  kDecimalNlShort,  // "123\n" (also "00"/"01" for False/True)
  kDecimalNlLong,   // "123L\n"
  kLong1,
  kLong4,                 // counted little-endian two's complement
  kStringNl,              // quoted, escaped repr-style text line
  kStringNlNoescape,      // unquoted text line
  kStringNlNoescapePair,  // two unquoted text lines, joined by one blank
  kString1,
  kString4,  // counted latin-1 text
  kBytes1,
  kBytes4,
  kBytes8,
  kBytearray8,
  kUnicodeStringNl,  // raw-unicode-escape text line
  kUnicodeString1,
  kUnicodeString4,
  kUnicodeString8,  // counted UTF-8 (surrogatepass)
  kFloatNl,
  kFloat8,
};

/// The kinds of stack entries pickletools uses to describe opcode stack effects.
enum class StackKind : std::uint8_t {
  kInt,
  kIntOrBool,
  kBool,
  kFloat,
  kBytesOrStr,
  kBytes,
  kByteArray,
  kStr,
  kNone,
  kTuple,
  kList,
  kDict,
  kSet,
  kFrozenSet,
  kBuffer,
  kAny,
  kMark,
  kStackSlice,
};

/// pickletools' name of an argument kind ("uint1", "stringnl_noescape_pair", ...).
std::string_view arg_kind_name(ArgKind kind) noexcept;
/// pickletools' name of a stack kind ("int_or_bool", "mark", ...): the repr dis prints.
std::string_view stack_kind_name(StackKind kind) noexcept;

/// One row of the opcode table. Rows live in static storage; pointers to them stay valid.
struct OpcodeInfo {
  Op code;                                  // the opcode byte
  std::string_view name;                    // "PROTO", "SHORT_BINUNICODE", ...
  ArgKind arg;                              // inline argument encoding
  int proto;                                // protocol that introduced it (0..5)
  std::span<const StackKind> stack_before;  // pickletools' stack picture, top last
  std::span<const StackKind> stack_after;
  bool calls_code;           // CPython calls or imports something here
  std::string_view summary;  // first line of pickletools' doc (dis -a)
};

/// All opcodes of protocols 0-5, in pickletools' documentation order.
std::span<const OpcodeInfo> all_opcodes() noexcept;
/// The row for `code`, or nullptr if no protocol defines that byte.
const OpcodeInfo* find_opcode(std::uint8_t code) noexcept;
/// The row for a known opcode.
const OpcodeInfo& opcode_info(Op code) noexcept;

/// Error while reading opcodes. `what()` is exactly the message CPython's pickletools puts in
/// its exception; `python_type()` names that exception's class ("ValueError",
/// "UnicodeDecodeError").
class OpcodeError : public std::runtime_error {
 public:
  OpcodeError(std::string python_type, const std::string& message,
              std::optional<std::size_t> offset = std::nullopt, bool truncated = false);
  const std::string& python_type() const noexcept { return python_type_; }
  /// True when the input ended inside the argument (or before STOP): the unpickler's
  /// "pickle data was truncated".
  bool truncated() const noexcept { return truncated_; }
  /// Offset of the opcode being read (the input size for "exhausted before STOP"); empty
  /// when the error comes from printing an argument outside a reader.
  std::optional<std::size_t> offset() const noexcept { return offset_; }

 private:
  std::string python_type_;
  std::optional<std::size_t> offset_;
  bool truncated_;
};

/// Type of a decoded inline argument, matching the Python object pickletools builds.
enum class ArgType : std::uint8_t {
  kNone,
  kInt,
  kUint,
  kBool,
  kLong,
  kFloat,
  kStr,
  kBytes,
  kByteArray,
};

/// A decoded opcode argument. Big integers keep their encoded form (see `long_form`) and are
/// converted only when printed, so reading a pickle never does big-number arithmetic.
struct Argument {
  /// Encoding held in `long_data` for ArgType::kLong.
  enum class LongForm : std::uint8_t { kDecimal, kTwosComplement };

  ArgType type = ArgType::kNone;
  std::int64_t int_value = 0;    // kInt (uint1/2/4, int4, small decimals); kBool 0 or 1
  std::uint64_t uint_value = 0;  // kUint (uint8, i.e. FRAME)
  LongForm long_form = LongForm::kDecimal;
  std::string long_data;     // kLong: canonical decimal ("-12") or raw LE bytes
  double float_value = 0.0;  // kFloat
  std::u32string str_value;  // kStr: code points (lone surrogates allowed)
  std::string bytes_value;   // kBytes, kByteArray

  /// Python's repr() of the argument, UTF-8 encoded ("'abc'", "b'\\x00'", "1e+16", ...).
  /// Throws OpcodeError (ValueError) for an int of more than 4300 decimal digits, as
  /// CPython's default int_max_str_digits does.
  std::string repr() const;
  /// The integer as canonical decimal text (kInt, kUint, kBool, kLong); used as memo key.
  std::string int_text() const;
};

/// One decoded instruction.
struct Instruction {
  std::size_t offset = 0;            // position of the opcode byte
  std::size_t end = 0;               // position just past its argument
  const OpcodeInfo* info = nullptr;  // never null
  Argument arg;
};

/// One instruction whose argument is left undecoded in the input (OpcodeReader::next_raw):
/// what the unpickler executes. Fixed-size integers and float8 are decoded; everything else
/// is a view into the reader's data, valid as long as that data.
struct RawInstruction {
  std::size_t offset = 0;            // position of the opcode byte
  std::size_t end = 0;               // position just past its argument
  const OpcodeInfo* info = nullptr;  // never null after next_raw returned true
  std::int64_t int_value = 0;        // uint1, uint2, int4, uint4
  std::uint64_t uint_value = 0;      // uint8 (FRAME's length)
  double float_value = 0.0;          // float8
  std::string_view text;   // counted payload, or a line without its newline (first of a pair)
  std::string_view text2;  // second line of stringnl_noescape_pair
};

/// How an argument sits in the input: `width` bytes (the value, or a little-endian count of
/// the payload that follows), or newline-terminated lines. Enough to know where an
/// instruction ends without decoding it (a stream's reads, OpcodeReader::fault).
struct ArgFraming {
  std::size_t width = 0;
  bool counted = false;       // `width` bytes of count, then that many bytes
  bool signed_count = false;  // the count is an int4 (negative: the reader complains)
  int lines = 0;              // newline-terminated lines instead
};

constexpr ArgFraming framing_of(ArgKind kind) noexcept {
  switch (kind) {
    case ArgKind::kNone:
      return {};
    case ArgKind::kUint1:
      return {.width = 1};
    case ArgKind::kUint2:
      return {.width = 2};
    case ArgKind::kInt4:
    case ArgKind::kUint4:
      return {.width = 4};
    case ArgKind::kUint8:
    case ArgKind::kFloat8:
      return {.width = 8};
    case ArgKind::kLong1:
    case ArgKind::kString1:
    case ArgKind::kBytes1:
    case ArgKind::kUnicodeString1:
      return {.width = 1, .counted = true};
    case ArgKind::kLong4:
    case ArgKind::kString4:
      return {.width = 4, .counted = true, .signed_count = true};
    case ArgKind::kBytes4:
    case ArgKind::kUnicodeString4:
      return {.width = 4, .counted = true};
    case ArgKind::kBytes8:
    case ArgKind::kBytearray8:
    case ArgKind::kUnicodeString8:
      return {.width = 8, .counted = true};
    case ArgKind::kStringNlNoescapePair:
      return {.lines = 2};
    default:  // decimalnl, stringnl, unicodestringnl, floatnl
      return {.lines = 1};
  }
}

/// Why the next instruction cannot be read (OpcodeReader::fault), without an exception.
enum class ReadFault : std::uint8_t {
  kNone,
  kEnd,            // no byte left where an opcode should be
  kUnknownOpcode,  // the byte is no opcode
  kTruncated,      // the argument is cut short (a missing newline, too few bytes)
  kNegativeCount,  // an int4 count below 0
  kCountTooLarge,  // a uint8 count above sys.maxsize
};

/// Streams instructions from a pickle, like pickletools.genops: stops after STOP (later bytes
/// are not looked at), throws OpcodeError for an unknown opcode, a truncated or malformed
/// argument, or data that ends before STOP. The span must outlive the reader.
///
///     OpcodeReader reader(bytes);
///     while (auto ins = reader.next())
///       fmt::print("{} {}\n", ins->offset, ins->info->name);
class OpcodeReader {
 public:
  explicit OpcodeReader(std::span<const std::byte> data) noexcept : data_(data) {}
  /// A reader of a window of a longer input that starts at offset `first_offset` of it (a
  /// stream read piece by piece): next() reports offsets of the whole input, in its
  /// Instructions, errors and messages; position() and next_raw stay window-relative.
  OpcodeReader(std::span<const std::byte> data, std::size_t first_offset) noexcept
      : data_(data), first_offset_(first_offset) {}
  /// The next instruction, or nullopt once STOP has been returned.
  std::optional<Instruction> next();
  /// The next instruction with its argument as a view (no copy, no text decoding), or false
  /// once STOP has been returned. Same checks and errors as next(): counted lengths are
  /// compared with the remaining input before anything is read.
  ///
  /// Inline fast path for the opcodes that dominate real pickles (no argument, a 1-4 byte
  /// integer, a float8, or a payload counted by 1 or 4 unsigned bytes, all present): the
  /// unpickler's inner loop. Everything else, and every error, goes through next_raw_slow,
  /// the general decoder.
  bool next_raw(RawInstruction& out) {
    if (pos_ + 5 <= data_.size() && !stopped_) {
      const auto* p = reinterpret_cast<const unsigned char*>(data_.data()) + pos_;
      const std::uint8_t fast = kFastArgument[p[0]];  // no dependent load on the row
      if (fast != kSlow) {
        std::size_t width = 0;
        const std::size_t left = data_.size() - pos_ - 1;  // bytes after the opcode
        switch (fast) {
          case kFastUint1:
            out.int_value = p[1];
            width = 1;
            break;
          case kFastUint2:
            out.int_value = p[1] | (p[2] << 8);
            width = 2;
            break;
          case kFastInt4:
          case kFastUint4: {
            const std::uint32_t v = load_le32(p + 1);
            out.int_value =
                fast == kFastInt4 ? std::int64_t{static_cast<std::int32_t>(v)} : std::int64_t{v};
            width = 4;
            break;
          }
          case kFastCounted1:
            if (p[1] > left - 1) return next_raw_slow(out);  // the general path says why
            out.text = {reinterpret_cast<const char*>(p + 2), p[1]};
            width = 1 + std::size_t{p[1]};
            break;
          case kFastCounted4: {
            const std::uint32_t n = load_le32(p + 1);
            if (n > left - 4) return next_raw_slow(out);
            out.text = {reinterpret_cast<const char*>(p + 5), n};
            width = 4 + std::size_t{n};
            break;
          }
          case kFastFloat8: {
            if (left < 8) return next_raw_slow(out);
            std::uint64_t bits = 0;
            for (int i = 1; i <= 8; ++i) bits = (bits << 8) | p[i];  // big-endian
            std::memcpy(&out.float_value, &bits, sizeof bits);
            width = 8;
            break;
          }
          default:  // kFastNone
            break;
        }
        out.offset = pos_;
        out.info = kIndex[p[0]];
        pos_ += 1 + width;
        out.end = pos_;
        return true;
      }
    }
    return next_raw_slow(out);
  }
  /// next_raw for any instruction (the general decoder; also reports every error).
  bool next_raw_slow(RawInstruction& out);
  /// From now on next_raw does not throw: where it would, it returns false and fault()
  /// says why (the unpickler's error path, which must not allocate). Only the slow path
  /// looks, so the fast path costs nothing more.
  void report_faults() noexcept { report_faults_ = true; }
  /// What keeps the next instruction from being read (kNone: nothing), and for a bad count
  /// the count read.
  ReadFault fault(std::uint64_t* count = nullptr) const noexcept;
  /// Offset of the next byte to read.
  std::size_t position() const noexcept { return pos_; }

 private:
  friend const OpcodeInfo* find_opcode(std::uint8_t code) noexcept;
  friend const OpcodeInfo& opcode_info(Op code) noexcept;
  /// find_opcode's table, indexed by the opcode byte (for the inline fast path).
  static const std::array<const OpcodeInfo*, 256> kIndex;
  /// Per opcode byte: how next_raw's fast path decodes its argument, or kSlow (unknown
  /// byte, STOP, lines, and the rarer counted forms).
  enum : std::uint8_t {
    kFastNone,
    kFastUint1,
    kFastUint2,
    kFastInt4,
    kFastUint4,
    kFastCounted1,  // string1, bytes1, unicodestring1
    kFastCounted4,  // bytes4, unicodestring4 (string4's count is signed: slow path)
    kFastFloat8,
    kSlow
  };
  static std::uint32_t load_le32(const unsigned char* p) noexcept {
    return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
           (std::uint32_t{p[3]} << 24);
  }
  static const std::array<std::uint8_t, 256> kFastArgument;

  std::span<const std::byte> data_;
  std::size_t pos_ = 0;
  std::size_t first_offset_ = 0;  // offset of data_[0] in the whole input (next() only)
  bool stopped_ = false;
  bool report_faults_ = false;
};

}  // namespace ouro::pickle
