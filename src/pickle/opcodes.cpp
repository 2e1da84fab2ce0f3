// The opcode table and OpcodeReader (see opcodes.h). The table's stack pictures and
// one-line summaries are data taken from pickletools' documentation; dis prints them.
#include "pickle/opcodes.h"

#include <fmt/format.h>

#include <array>
#include <cstring>
#include <limits>

#include "ouro/config.h"
#include "pickle/pydecode.h"
#include "pickle/pyrepr.h"

namespace ouro::pickle {
namespace {

using K = StackKind;

// Stack pictures shared by several opcodes (pickletools' stack_before / stack_after).
constexpr StackKind kIntS[] = {K::kInt};
constexpr StackKind kIntOrBoolS[] = {K::kIntOrBool};
constexpr StackKind kBoolS[] = {K::kBool};
constexpr StackKind kFloatS[] = {K::kFloat};
constexpr StackKind kBytesOrStrS[] = {K::kBytesOrStr};
constexpr StackKind kBytesS[] = {K::kBytes};
constexpr StackKind kByteArrayS[] = {K::kByteArray};
constexpr StackKind kStrS[] = {K::kStr};
constexpr StackKind kNoneS[] = {K::kNone};
constexpr StackKind kTupleS[] = {K::kTuple};
constexpr StackKind kListS[] = {K::kList};
constexpr StackKind kDictS[] = {K::kDict};
constexpr StackKind kSetS[] = {K::kSet};
constexpr StackKind kFrozenSetS[] = {K::kFrozenSet};
constexpr StackKind kBufferS[] = {K::kBuffer};
constexpr StackKind kAnyS[] = {K::kAny};
constexpr StackKind kAny2S[] = {K::kAny, K::kAny};
constexpr StackKind kAny3S[] = {K::kAny, K::kAny, K::kAny};
constexpr StackKind kMarkS[] = {K::kMark};
constexpr StackKind kSliceS[] = {K::kMark, K::kStackSlice};
constexpr StackKind kListAnyS[] = {K::kList, K::kAny};
constexpr StackKind kListSliceS[] = {K::kList, K::kMark, K::kStackSlice};
constexpr StackKind kDictAny2S[] = {K::kDict, K::kAny, K::kAny};
constexpr StackKind kDictSliceS[] = {K::kDict, K::kMark, K::kStackSlice};
constexpr StackKind kSetSliceS[] = {K::kSet, K::kMark, K::kStackSlice};
constexpr StackKind kStr2S[] = {K::kStr, K::kStr};
constexpr StackKind kObjS[] = {K::kMark, K::kAny, K::kStackSlice};
constexpr std::span<const StackKind> kEmpty{};

constexpr const char* kPushStr = "Push a Python string object.";
constexpr const char* kPushBytes = "Push a Python bytes object.";
constexpr const char* kPushUnicode = "Push a Python Unicode string object.";
constexpr const char* kMemoGet = "Read an object from the memo and push it on the stack.";
constexpr const char* kMemoPut = "Store the stack top into the memo.  The stack is not popped.";
constexpr const char* kGlobalDoc = "Push a global object (module.attr) on the stack.";
constexpr const char* kPersIdDoc = "Push an object identified by a persistent ID.";

struct Row {
  Op code;
  const char* name;
  ArgKind arg;
  int proto;
  std::span<const StackKind> before;
  std::span<const StackKind> after;
  bool calls_code;
  const char* summary;
};

// Order and contents follow pickletools.opcodes.
constexpr Row kRows[] = {
    {Op::kInt, "INT", ArgKind::kDecimalNlShort, 0, kEmpty, kIntOrBoolS, false,
     "Push an integer or bool."},
    {Op::kBinInt, "BININT", ArgKind::kInt4, 1, kEmpty, kIntS, false,
     "Push a four-byte signed integer."},
    {Op::kBinInt1, "BININT1", ArgKind::kUint1, 1, kEmpty, kIntS, false,
     "Push a one-byte unsigned integer."},
    {Op::kBinInt2, "BININT2", ArgKind::kUint2, 1, kEmpty, kIntS, false,
     "Push a two-byte unsigned integer."},
    {Op::kLong, "LONG", ArgKind::kDecimalNlLong, 0, kEmpty, kIntS, false, "Push a long integer."},
    {Op::kLong1, "LONG1", ArgKind::kLong1, 2, kEmpty, kIntS, false,
     "Long integer using one-byte length."},
    {Op::kLong4, "LONG4", ArgKind::kLong4, 2, kEmpty, kIntS, false,
     "Long integer using found-byte length."},
    {Op::kString, "STRING", ArgKind::kStringNl, 0, kEmpty, kBytesOrStrS, false, kPushStr},
    {Op::kBinString, "BINSTRING", ArgKind::kString4, 1, kEmpty, kBytesOrStrS, false, kPushStr},
    {Op::kShortBinString, "SHORT_BINSTRING", ArgKind::kString1, 1, kEmpty, kBytesOrStrS, false,
     kPushStr},
    {Op::kBinBytes, "BINBYTES", ArgKind::kBytes4, 3, kEmpty, kBytesS, false, kPushBytes},
    {Op::kShortBinBytes, "SHORT_BINBYTES", ArgKind::kBytes1, 3, kEmpty, kBytesS, false, kPushBytes},
    {Op::kBinBytes8, "BINBYTES8", ArgKind::kBytes8, 4, kEmpty, kBytesS, false, kPushBytes},
    {Op::kByteArray8, "BYTEARRAY8", ArgKind::kBytearray8, 5, kEmpty, kByteArrayS, false,
     "Push a Python bytearray object."},
    {Op::kNextBuffer, "NEXT_BUFFER", ArgKind::kNone, 5, kEmpty, kBufferS, false,
     "Push an out-of-band buffer object."},
    {Op::kReadonlyBuffer, "READONLY_BUFFER", ArgKind::kNone, 5, kBufferS, kBufferS, false,
     "Make an out-of-band buffer object read-only."},
    {Op::kNone, "NONE", ArgKind::kNone, 0, kEmpty, kNoneS, false, "Push None on the stack."},
    {Op::kNewTrue, "NEWTRUE", ArgKind::kNone, 2, kEmpty, kBoolS, false,
     "Push True onto the stack."},
    {Op::kNewFalse, "NEWFALSE", ArgKind::kNone, 2, kEmpty, kBoolS, false,
     "Push False onto the stack."},
    {Op::kUnicode, "UNICODE", ArgKind::kUnicodeStringNl, 0, kEmpty, kStrS, false, kPushUnicode},
    {Op::kShortBinUnicode, "SHORT_BINUNICODE", ArgKind::kUnicodeString1, 4, kEmpty, kStrS, false,
     kPushUnicode},
    {Op::kBinUnicode, "BINUNICODE", ArgKind::kUnicodeString4, 1, kEmpty, kStrS, false,
     kPushUnicode},
    {Op::kBinUnicode8, "BINUNICODE8", ArgKind::kUnicodeString8, 4, kEmpty, kStrS, false,
     kPushUnicode},
    {Op::kFloat, "FLOAT", ArgKind::kFloatNl, 0, kEmpty, kFloatS, false,
     "Newline-terminated decimal float literal."},
    {Op::kBinFloat, "BINFLOAT", ArgKind::kFloat8, 1, kEmpty, kFloatS, false,
     "Float stored in binary form, with 8 bytes of data."},
    {Op::kEmptyList, "EMPTY_LIST", ArgKind::kNone, 1, kEmpty, kListS, false, "Push an empty list."},
    {Op::kAppend, "APPEND", ArgKind::kNone, 0, kListAnyS, kListS, false,
     "Append an object to a list."},
    {Op::kAppends, "APPENDS", ArgKind::kNone, 1, kListSliceS, kListS, false,
     "Extend a list by a slice of stack objects."},
    {Op::kList, "LIST", ArgKind::kNone, 0, kSliceS, kListS, false,
     "Build a list out of the topmost stack slice, after markobject."},
    {Op::kEmptyTuple, "EMPTY_TUPLE", ArgKind::kNone, 1, kEmpty, kTupleS, false,
     "Push an empty tuple."},
    {Op::kTuple, "TUPLE", ArgKind::kNone, 0, kSliceS, kTupleS, false,
     "Build a tuple out of the topmost stack slice, after markobject."},
    {Op::kTuple1, "TUPLE1", ArgKind::kNone, 2, kAnyS, kTupleS, false,
     "Build a one-tuple out of the topmost item on the stack."},
    {Op::kTuple2, "TUPLE2", ArgKind::kNone, 2, kAny2S, kTupleS, false,
     "Build a two-tuple out of the top two items on the stack."},
    {Op::kTuple3, "TUPLE3", ArgKind::kNone, 2, kAny3S, kTupleS, false,
     "Build a three-tuple out of the top three items on the stack."},
    {Op::kEmptyDict, "EMPTY_DICT", ArgKind::kNone, 1, kEmpty, kDictS, false, "Push an empty dict."},
    {Op::kDict, "DICT", ArgKind::kNone, 0, kSliceS, kDictS, false,
     "Build a dict out of the topmost stack slice, after markobject."},
    {Op::kSetItem, "SETITEM", ArgKind::kNone, 0, kDictAny2S, kDictS, false,
     "Add a key+value pair to an existing dict."},
    {Op::kSetItems, "SETITEMS", ArgKind::kNone, 1, kDictSliceS, kDictS, false,
     "Add an arbitrary number of key+value pairs to an existing dict."},
    {Op::kEmptySet, "EMPTY_SET", ArgKind::kNone, 4, kEmpty, kSetS, false, "Push an empty set."},
    {Op::kAddItems, "ADDITEMS", ArgKind::kNone, 4, kSetSliceS, kSetS, false,
     "Add an arbitrary number of items to an existing set."},
    {Op::kFrozenSet, "FROZENSET", ArgKind::kNone, 4, kSliceS, kFrozenSetS, false,
     "Build a frozenset out of the topmost slice, after markobject."},
    {Op::kPop, "POP", ArgKind::kNone, 0, kAnyS, kEmpty, false,
     "Discard the top stack item, shrinking the stack by one item."},
    {Op::kDup, "DUP", ArgKind::kNone, 0, kAnyS, kAny2S, false,
     "Push the top stack item onto the stack again, duplicating it."},
    {Op::kMark, "MARK", ArgKind::kNone, 0, kEmpty, kMarkS, false,
     "Push markobject onto the stack."},
    {Op::kPopMark, "POP_MARK", ArgKind::kNone, 1, kSliceS, kEmpty, false,
     "Pop all the stack objects at and above the topmost markobject."},
    {Op::kGet, "GET", ArgKind::kDecimalNlShort, 0, kEmpty, kAnyS, false, kMemoGet},
    {Op::kBinGet, "BINGET", ArgKind::kUint1, 1, kEmpty, kAnyS, false, kMemoGet},
    {Op::kLongBinGet, "LONG_BINGET", ArgKind::kUint4, 1, kEmpty, kAnyS, false, kMemoGet},
    {Op::kPut, "PUT", ArgKind::kDecimalNlShort, 0, kEmpty, kEmpty, false, kMemoPut},
    {Op::kBinPut, "BINPUT", ArgKind::kUint1, 1, kEmpty, kEmpty, false, kMemoPut},
    {Op::kLongBinPut, "LONG_BINPUT", ArgKind::kUint4, 1, kEmpty, kEmpty, false, kMemoPut},
    {Op::kMemoize, "MEMOIZE", ArgKind::kNone, 4, kAnyS, kAnyS, false, kMemoPut},
    {Op::kExt1, "EXT1", ArgKind::kUint1, 2, kEmpty, kAnyS, true, "Extension code."},
    {Op::kExt2, "EXT2", ArgKind::kUint2, 2, kEmpty, kAnyS, true, "Extension code."},
    {Op::kExt4, "EXT4", ArgKind::kInt4, 2, kEmpty, kAnyS, true, "Extension code."},
    {Op::kGlobal, "GLOBAL", ArgKind::kStringNlNoescapePair, 0, kEmpty, kAnyS, true, kGlobalDoc},
    {Op::kStackGlobal, "STACK_GLOBAL", ArgKind::kNone, 4, kStr2S, kAnyS, true, kGlobalDoc},
    {Op::kReduce, "REDUCE", ArgKind::kNone, 0, kAny2S, kAnyS, true,
     "Push an object built from a callable and an argument tuple."},
    {Op::kBuild, "BUILD", ArgKind::kNone, 0, kAny2S, kAnyS, true,
     "Finish building an object, via __setstate__ or dict update."},
    {Op::kInst, "INST", ArgKind::kStringNlNoescapePair, 0, kSliceS, kAnyS, true,
     "Build a class instance."},
    {Op::kObj, "OBJ", ArgKind::kNone, 1, kObjS, kAnyS, true, "Build a class instance."},
    {Op::kNewObj, "NEWOBJ", ArgKind::kNone, 2, kAny2S, kAnyS, true, "Build an object instance."},
    {Op::kNewObjEx, "NEWOBJ_EX", ArgKind::kNone, 4, kAny3S, kAnyS, true,
     "Build an object instance."},
    {Op::kProto, "PROTO", ArgKind::kUint1, 2, kEmpty, kEmpty, false, "Protocol version indicator."},
    {Op::kStop, "STOP", ArgKind::kNone, 0, kAnyS, kEmpty, false, "Stop the unpickling machine."},
    {Op::kFrame, "FRAME", ArgKind::kUint8, 4, kEmpty, kEmpty, false,
     "Indicate the beginning of a new frame."},
    {Op::kPersId, "PERSID", ArgKind::kStringNlNoescape, 0, kEmpty, kAnyS, true, kPersIdDoc},
    {Op::kBinPersId, "BINPERSID", ArgKind::kNone, 1, kAnyS, kAnyS, true, kPersIdDoc},
};

constexpr std::size_t kOpcodeCount = std::size(kRows);

std::array<OpcodeInfo, kOpcodeCount> build_table() {
  std::array<OpcodeInfo, kOpcodeCount> table{};
  for (std::size_t i = 0; i < kOpcodeCount; ++i) {
    const Row& r = kRows[i];
    table[i] = {r.code, r.name, r.arg, r.proto, r.before, r.after, r.calls_code, r.summary};
  }
  return table;
}

const std::array<OpcodeInfo, kOpcodeCount> kTable = build_table();

std::array<const OpcodeInfo*, 256> build_index() {
  std::array<const OpcodeInfo*, 256> index{};
  for (const OpcodeInfo& info : kTable) index[static_cast<std::uint8_t>(info.code)] = &info;
  return index;
}

// ---------------------------------------------------------------------------------------
// Argument decoding. `Cursor` is the file-like object pickletools reads from: every read
// names what it wanted so that a short read produces pickletools' own message.

class Cursor {
 public:
  Cursor(std::span<const std::byte> data, std::size_t pos) : data_(data), pos_(pos) {}
  std::size_t position() const { return pos_; }
  std::size_t remaining() const { return data_.size() - pos_; }

  // Consumes `n` bytes; the caller has checked remaining() >= n.
  std::string_view take(std::size_t n) {
    std::string_view out(reinterpret_cast<const char*>(data_.data()) + pos_, n);
    pos_ += n;
    return out;
  }

  std::string_view take_fixed(std::size_t n, std::string_view what) {
    if (remaining() < n) fail_truncated(fmt::format("not enough data in stream to read {}", what));
    return take(n);
  }

  // f.readline() minus the newline, which must be present.
  std::string_view take_line(std::string_view what) {
    const std::string_view rest = peek_rest();
    const std::size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) {
      fail_truncated(fmt::format("no newline found when trying to read {}", what));
    }
    return take(nl + 1).substr(0, nl);
  }

  [[noreturn]] static void fail(const std::string& message) {
    throw OpcodeError("ValueError", message);
  }
  // The input ended inside an argument (the unpickler reports these as truncation).
  [[noreturn]] static void fail_truncated(const std::string& message) {
    throw OpcodeError("ValueError", message, std::nullopt, /*truncated=*/true);
  }

 private:
  std::string_view peek_rest() const {
    return {reinterpret_cast<const char*>(data_.data()) + pos_, remaining()};
  }

  std::span<const std::byte> data_;
  std::size_t pos_;
};

std::uint64_t little_endian(std::string_view bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = bytes.size(); i-- > 0;) {
    value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  }
  return value;
}

Argument int_argument(std::int64_t value) {
  Argument arg;
  arg.type = ArgType::kInt;
  arg.int_value = value;
  return arg;
}

// A canonical decimal becomes kInt when it fits in 64 bits, else kLong.
Argument decimal_argument(const std::string& canonical) {
  if (canonical.size() <= 18) return int_argument(std::stoll(canonical));
  Argument arg;
  arg.type = ArgType::kLong;
  arg.long_form = Argument::LongForm::kDecimal;
  arg.long_data = canonical;
  return arg;
}

Argument str_argument(std::u32string text) {
  Argument arg;
  arg.type = ArgType::kStr;
  arg.str_value = std::move(text);
  return arg;
}

Argument bytes_argument(ArgType type, std::string_view bytes) {
  Argument arg;
  arg.type = type;
  arg.bytes_value.assign(bytes);
  return arg;
}

// read_stringnl: optional quote stripping, then escape_decode and ASCII decoding.
std::u32string read_stringnl(Cursor& in, bool strip_quotes) {
  std::string_view line = in.take_line("stringnl");
  if (strip_quotes) {
    const char quote = !line.empty() && (line[0] == '"' || line[0] == '\'') ? line[0] : '\0';
    if (quote == '\0') Cursor::fail("no string quotes around " + detail::repr_bytes(line));
    if (line.back() != quote) {
      Cursor::fail(fmt::format("strinq quote {} not found at both ends of {}",
                               detail::repr_bytes(std::string_view(&quote, 1)),
                               detail::repr_bytes(line)));
    }
    line = line.substr(1, line.size() >= 2 ? line.size() - 2 : 0);
  }
  return detail::decode_ascii(detail::escape_decode(line));
}

Argument read_decimal_short(Cursor& in) {
  const std::string_view line = in.take_line("stringnl");
  if (line == "00" || line == "01") {
    Argument arg;
    arg.type = ArgType::kBool;
    arg.int_value = line == "01" ? 1 : 0;
    return arg;
  }
  return decimal_argument(detail::parse_python_int(line));
}

Argument read_decimal_long(Cursor& in) {
  std::string_view line = in.take_line("stringnl");
  if (!line.empty() && line.back() == 'L') line.remove_suffix(1);
  return decimal_argument(detail::parse_python_int(line));
}

// The count that prefixes counted arguments, checked the way each reader checks it.
std::uint64_t read_count(Cursor& in, ArgKind count_kind, std::string_view name) {
  switch (count_kind) {
    case ArgKind::kUint1:
      return little_endian(in.take_fixed(1, "uint1"));
    case ArgKind::kUint4:
      return little_endian(in.take_fixed(4, "uint4"));
    case ArgKind::kInt4: {
      const auto n = static_cast<std::int32_t>(little_endian(in.take_fixed(4, "int4")));
      if (n < 0) Cursor::fail(fmt::format("{} byte count < 0: {}", name, n));
      return static_cast<std::uint64_t>(n);
    }
    default: {
      const std::uint64_t n = little_endian(in.take_fixed(8, "uint8"));
      if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        Cursor::fail(fmt::format("{} byte count > sys.maxsize: {}", name, n));
      }
      return n;
    }
  }
}

// Counted payload: the length is checked against the remaining input before any copy.
std::string_view read_counted(Cursor& in, ArgKind count_kind, std::string_view name) {
  const std::uint64_t n = read_count(in, count_kind, name);
  if (in.remaining() < n) {
    Cursor::fail_truncated(
        fmt::format("expected {} bytes in a {}, but only {} remain", n, name, in.remaining()));
  }
  return in.take(static_cast<std::size_t>(n));
}

Argument read_long(Cursor& in, ArgKind count_kind, std::string_view name) {
  const std::uint64_t n = read_count(in, count_kind, name);
  if (in.remaining() < n) {
    Cursor::fail_truncated(fmt::format("not enough data in stream to read {}", name));
  }
  Argument arg;
  arg.type = ArgType::kLong;
  arg.long_form = Argument::LongForm::kTwosComplement;
  arg.long_data.assign(in.take(static_cast<std::size_t>(n)));
  return arg;
}

Argument read_float8(Cursor& in) {
  const std::string_view raw = in.take_fixed(8, "float8");
  std::uint64_t bits = 0;
  for (char c : raw) bits = (bits << 8) | static_cast<unsigned char>(c);  // big-endian
  Argument arg;
  arg.type = ArgType::kFloat;
  std::memcpy(&arg.float_value, &bits, sizeof bits);
  return arg;
}

Argument read_fixed_int(Cursor& in, ArgKind kind) {
  switch (kind) {
    case ArgKind::kUint1:
      return int_argument(static_cast<std::int64_t>(little_endian(in.take_fixed(1, "uint1"))));
    case ArgKind::kUint2:
      return int_argument(static_cast<std::int64_t>(little_endian(in.take_fixed(2, "uint2"))));
    case ArgKind::kInt4:
      return int_argument(static_cast<std::int32_t>(little_endian(in.take_fixed(4, "int4"))));
    case ArgKind::kUint4:
      return int_argument(static_cast<std::int64_t>(little_endian(in.take_fixed(4, "uint4"))));
    default: {
      Argument arg;
      arg.type = ArgType::kUint;
      arg.uint_value = little_endian(in.take_fixed(8, "uint8"));
      return arg;
    }
  }
}

Argument read_text_argument(Cursor& in, ArgKind kind) {
  switch (kind) {
    case ArgKind::kStringNl:
      return str_argument(read_stringnl(in, true));
    case ArgKind::kStringNlNoescape:
      return str_argument(read_stringnl(in, false));
    case ArgKind::kStringNlNoescapePair: {
      std::u32string text = read_stringnl(in, false);
      text += U' ';
      text += read_stringnl(in, false);
      return str_argument(std::move(text));
    }
    case ArgKind::kString1:
      return str_argument(detail::decode_latin1(read_counted(in, ArgKind::kUint1, "string1")));
    case ArgKind::kString4:
      return str_argument(detail::decode_latin1(read_counted(in, ArgKind::kInt4, "string4")));
    case ArgKind::kUnicodeStringNl:
      return str_argument(detail::decode_raw_unicode_escape(in.take_line("unicodestringnl")));
    case ArgKind::kUnicodeString1:
      return str_argument(
          detail::decode_utf8_surrogatepass(read_counted(in, ArgKind::kUint1, "unicodestring1")));
    case ArgKind::kUnicodeString4:
      return str_argument(
          detail::decode_utf8_surrogatepass(read_counted(in, ArgKind::kUint4, "unicodestring4")));
    default:
      return str_argument(
          detail::decode_utf8_surrogatepass(read_counted(in, ArgKind::kUint8, "unicodestring8")));
  }
}

Argument read_argument(Cursor& in, ArgKind kind) {
  switch (kind) {
    case ArgKind::kNone:
      return {};
    case ArgKind::kUint1:
    case ArgKind::kUint2:
    case ArgKind::kInt4:
    case ArgKind::kUint4:
    case ArgKind::kUint8:
      return read_fixed_int(in, kind);
    case ArgKind::kDecimalNlShort:
      return read_decimal_short(in);
    case ArgKind::kDecimalNlLong:
      return read_decimal_long(in);
    case ArgKind::kLong1:
      return read_long(in, ArgKind::kUint1, "long1");
    case ArgKind::kLong4:
      return read_long(in, ArgKind::kInt4, "long4");
    case ArgKind::kBytes1:
      return bytes_argument(ArgType::kBytes, read_counted(in, ArgKind::kUint1, "bytes1"));
    case ArgKind::kBytes4:
      return bytes_argument(ArgType::kBytes, read_counted(in, ArgKind::kUint4, "bytes4"));
    case ArgKind::kBytes8:
      return bytes_argument(ArgType::kBytes, read_counted(in, ArgKind::kUint8, "bytes8"));
    case ArgKind::kBytearray8:
      return bytes_argument(ArgType::kByteArray, read_counted(in, ArgKind::kUint8, "bytearray8"));
    case ArgKind::kFloatNl: {
      Argument arg;
      arg.type = ArgType::kFloat;
      arg.float_value = detail::parse_python_float(in.take_line("stringnl"));
      return arg;
    }
    case ArgKind::kFloat8:
      return read_float8(in);
    default:
      return read_text_argument(in, kind);
  }
}

// The argument of one instruction left in the input (OpcodeReader::next_raw): the same
// cursor reads, count checks and messages as read_argument, without building values.
void read_raw_argument(Cursor& in, ArgKind kind, RawInstruction& out) {
  switch (kind) {
    case ArgKind::kNone:
      return;
    case ArgKind::kUint1:
      out.int_value = static_cast<std::int64_t>(little_endian(in.take_fixed(1, "uint1")));
      return;
    case ArgKind::kUint2:
      out.int_value = static_cast<std::int64_t>(little_endian(in.take_fixed(2, "uint2")));
      return;
    case ArgKind::kInt4:
      out.int_value = static_cast<std::int32_t>(little_endian(in.take_fixed(4, "int4")));
      return;
    case ArgKind::kUint4:
      out.int_value = static_cast<std::int64_t>(little_endian(in.take_fixed(4, "uint4")));
      return;
    case ArgKind::kUint8:
      out.uint_value = little_endian(in.take_fixed(8, "uint8"));
      return;
    case ArgKind::kStringNlNoescapePair:
      out.text = in.take_line("stringnl");
      out.text2 = in.take_line("stringnl");
      return;
    case ArgKind::kDecimalNlShort:
    case ArgKind::kDecimalNlLong:
    case ArgKind::kStringNl:
    case ArgKind::kStringNlNoescape:
    case ArgKind::kFloatNl:
      out.text = in.take_line("stringnl");
      return;
    case ArgKind::kUnicodeStringNl:
      out.text = in.take_line("unicodestringnl");
      return;
    case ArgKind::kLong1:
    case ArgKind::kLong4: {
      const bool one = kind == ArgKind::kLong1;
      const std::string_view name = one ? "long1" : "long4";
      const std::uint64_t n = read_count(in, one ? ArgKind::kUint1 : ArgKind::kInt4, name);
      if (in.remaining() < n) {
        Cursor::fail_truncated(fmt::format("not enough data in stream to read {}", name));
      }
      out.text = in.take(static_cast<std::size_t>(n));
      return;
    }
    case ArgKind::kString1:
      out.text = read_counted(in, ArgKind::kUint1, "string1");
      return;
    case ArgKind::kString4:
      out.text = read_counted(in, ArgKind::kInt4, "string4");
      return;
    case ArgKind::kBytes1:
      out.text = read_counted(in, ArgKind::kUint1, "bytes1");
      return;
    case ArgKind::kBytes4:
      out.text = read_counted(in, ArgKind::kUint4, "bytes4");
      return;
    case ArgKind::kBytes8:
      out.text = read_counted(in, ArgKind::kUint8, "bytes8");
      return;
    case ArgKind::kBytearray8:
      out.text = read_counted(in, ArgKind::kUint8, "bytearray8");
      return;
    case ArgKind::kUnicodeString1:
      out.text = read_counted(in, ArgKind::kUint1, "unicodestring1");
      return;
    case ArgKind::kUnicodeString4:
      out.text = read_counted(in, ArgKind::kUint4, "unicodestring4");
      return;
    case ArgKind::kUnicodeString8:
      out.text = read_counted(in, ArgKind::kUint8, "unicodestring8");
      return;
    case ArgKind::kFloat8:
      out.float_value = read_float8(in).float_value;
      return;
  }
}

}  // namespace

std::string_view arg_kind_name(ArgKind kind) noexcept {
  static constexpr std::string_view kNames[] = {"none",
                                                "uint1",
                                                "uint2",
                                                "int4",
                                                "uint4",
                                                "uint8",
                                                "decimalnl_short",
                                                "decimalnl_long",
                                                "long1",
                                                "long4",
                                                "stringnl",
                                                "stringnl_noescape",
                                                "stringnl_noescape_pair",
                                                "string1",
                                                "string4",
                                                "bytes1",
                                                "bytes4",
                                                "bytes8",
                                                "bytearray8",
                                                "unicodestringnl",
                                                "unicodestring1",
                                                "unicodestring4",
                                                "unicodestring8",
                                                "floatnl",
                                                "float8"};
  return kNames[static_cast<std::size_t>(kind)];
}

std::string_view stack_kind_name(StackKind kind) noexcept {
  static constexpr std::string_view kNames[] = {
      "int",       "int_or_bool", "bool",   "float", "bytes_or_str", "bytes",
      "bytearray", "str",         "None",   "tuple", "list",         "dict",
      "set",       "frozenset",   "buffer", "any",   "mark",         "stackslice"};
  return kNames[static_cast<std::size_t>(kind)];
}

const std::array<const OpcodeInfo*, 256> OpcodeReader::kIndex = build_index();

const std::array<std::uint8_t, 256> OpcodeReader::kFastArgument = [] {
  std::array<std::uint8_t, 256> fast{};
  fast.fill(kSlow);
  for (const OpcodeInfo& info : kTable) {
    const auto byte = static_cast<std::uint8_t>(info.code);
    if (info.code == Op::kStop) continue;
    switch (info.arg) {
      case ArgKind::kNone:
        fast[byte] = kFastNone;
        break;
      case ArgKind::kUint1:
        fast[byte] = kFastUint1;
        break;
      case ArgKind::kUint2:
        fast[byte] = kFastUint2;
        break;
      case ArgKind::kInt4:
        fast[byte] = kFastInt4;
        break;
      case ArgKind::kUint4:
        fast[byte] = kFastUint4;
        break;
      case ArgKind::kString1:
      case ArgKind::kBytes1:
      case ArgKind::kUnicodeString1:
        fast[byte] = kFastCounted1;
        break;
      case ArgKind::kBytes4:
      case ArgKind::kUnicodeString4:
        fast[byte] = kFastCounted4;
        break;
      case ArgKind::kFloat8:
        fast[byte] = kFastFloat8;
        break;
      default:
        break;
    }
  }
  return fast;
}();

std::span<const OpcodeInfo> all_opcodes() noexcept { return kTable; }

const OpcodeInfo* find_opcode(std::uint8_t code) noexcept { return OpcodeReader::kIndex[code]; }

const OpcodeInfo& opcode_info(Op code) noexcept {
  return *OpcodeReader::kIndex[static_cast<std::uint8_t>(code)];
}

OpcodeError::OpcodeError(std::string python_type, const std::string& message,
                         std::optional<std::size_t> offset, bool truncated)
    : std::runtime_error(message),
      python_type_(std::move(python_type)),
      offset_(offset),
      truncated_(truncated) {}

std::string Argument::repr() const {
  switch (type) {
    case ArgType::kNone:
      return "None";
    case ArgType::kInt:
      return std::to_string(int_value);
    case ArgType::kUint:
      return std::to_string(uint_value);
    case ArgType::kBool:
      return int_value != 0 ? "True" : "False";
    case ArgType::kLong:
      return int_text();
    case ArgType::kFloat:
      return detail::repr_float(float_value);
    case ArgType::kStr:
      return detail::repr_str(str_value);
    case ArgType::kBytes:
      return detail::repr_bytes(bytes_value);
    case ArgType::kByteArray:
      return detail::repr_bytearray(bytes_value);
  }
  return "None";
}

std::string Argument::int_text() const {
  switch (type) {
    case ArgType::kInt:
    case ArgType::kBool:
      return std::to_string(int_value);
    case ArgType::kUint:
      return std::to_string(uint_value);
    case ArgType::kLong:
      break;
    default:
      return {};
  }
  if (long_form == LongForm::kDecimal) return long_data;
  std::string text;
  if (!detail::repr_int_le(long_data, text)) {
    throw OpcodeError("ValueError", detail::int_to_str_limit_message());
  }
  return text;
}

std::optional<Instruction> OpcodeReader::next() {
  if (stopped_) return std::nullopt;
  const std::size_t offset = first_offset_ + pos_;
  if (pos_ >= data_.size()) {
    stopped_ = true;
    throw OpcodeError("ValueError", "pickle exhausted before seeing STOP", offset);
  }
  const auto byte = static_cast<std::uint8_t>(data_[pos_]);
  const OpcodeInfo* info = find_opcode(byte);
  if (info == nullptr) {
    stopped_ = true;
    const char code = static_cast<char>(byte);
    throw OpcodeError("ValueError",
                      fmt::format("at position {}, opcode {} unknown", offset,
                                  detail::repr_bytes(std::string_view(&code, 1))),
                      offset);
  }
  Cursor in(data_, pos_ + 1);
  Instruction ins;
  ins.offset = offset;
  ins.info = info;
  try {
    ins.arg = read_argument(in, info->arg);
  } catch (const OpcodeError& e) {
    stopped_ = true;
    throw OpcodeError(e.python_type(), e.what(), offset, e.truncated());
  }
  pos_ = in.position();
  ins.end = first_offset_ + pos_;
  stopped_ = info->code == Op::kStop;
  return ins;
}

ReadFault OpcodeReader::fault(std::uint64_t* count) const noexcept {
  if (pos_ >= data_.size()) return ReadFault::kEnd;
  const OpcodeInfo* info = find_opcode(static_cast<std::uint8_t>(data_[pos_]));
  if (info == nullptr) return ReadFault::kUnknownOpcode;
  const ArgFraming framing = framing_of(info->arg);
  const auto* arg = reinterpret_cast<const unsigned char*>(data_.data()) + pos_ + 1;
  const std::size_t rest = data_.size() - pos_ - 1;
  if (framing.lines > 0) {
    const void* end = arg + rest;
    const void* first = std::memchr(arg, '\n', rest);
    if (first == nullptr) return ReadFault::kTruncated;
    if (framing.lines == 2) {
      const auto* second = static_cast<const unsigned char*>(first) + 1;
      const auto left = static_cast<std::size_t>(static_cast<const unsigned char*>(end) - second);
      if (std::memchr(second, '\n', left) == nullptr) return ReadFault::kTruncated;
    }
    return ReadFault::kNone;
  }
  if (rest < framing.width) return ReadFault::kTruncated;
  if (!framing.counted) return ReadFault::kNone;
  std::uint64_t n = 0;
  for (std::size_t k = framing.width; k > 0; --k) n = (n << 8) | arg[k - 1];
  if (count != nullptr) *count = n;
  if (framing.signed_count && (n & 0x80000000U) != 0) return ReadFault::kNegativeCount;
  if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return ReadFault::kCountTooLarge;
  }
  return rest - framing.width < n ? ReadFault::kTruncated : ReadFault::kNone;
}

bool OpcodeReader::next_raw_slow(RawInstruction& out) {
  if (stopped_) return false;
  if (report_faults_ && OURO_UNLIKELY(fault() != ReadFault::kNone)) return false;
  const std::size_t offset = pos_;
  const OpcodeInfo* info =
      pos_ < data_.size() ? find_opcode(static_cast<std::uint8_t>(data_[pos_])) : nullptr;
  if (info == nullptr) {
    stopped_ = true;
    if (pos_ >= data_.size()) {
      throw OpcodeError("ValueError", "pickle exhausted before seeing STOP", offset, true);
    }
    const char code = static_cast<char>(data_[pos_]);
    throw OpcodeError("ValueError",
                      fmt::format("at position {}, opcode {} unknown", offset,
                                  detail::repr_bytes(std::string_view(&code, 1))),
                      offset);
  }
  Cursor in(data_, pos_ + 1);
  out.offset = offset;
  out.info = info;
  try {
    read_raw_argument(in, info->arg, out);
  } catch (const OpcodeError& e) {
    stopped_ = true;
    throw OpcodeError(e.python_type(), e.what(), offset, e.truncated());
  }
  pos_ = out.end = in.position();
  stopped_ = info->code == Op::kStop;
  return true;
}

}  // namespace ouro::pickle
