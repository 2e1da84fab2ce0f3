// Tests of the opcode table, OpcodeReader and the Python decoders and repr helpers behind
// them, each compared with python3 (pickletools.opcodes, pickletools.genops, int(), float(),
// codecs, repr()) as the oracle, in a handful of batched interpreter runs.
#include "pickle/opcodes.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "pickle/blob_io.h"
#include "pickle/pydecode.h"
#include "pickle/pyrepr.h"
#include "support/python_oracle.h"

namespace ouro::pickle {
namespace {

using testing::as_byte_span;
using testing::BlobReader;

std::string join_kinds(std::span<const StackKind> kinds) {
  std::string out;
  for (StackKind kind : kinds) {
    if (!out.empty()) out += ',';
    out += stack_kind_name(kind);
  }
  return out;
}

std::string python(const std::string& body, const std::string& input = "") {
  const auto result = testing::run_python(std::string(testing::kBlobPython) + body, input);
  EXPECT_EQ(result.status, 0) << result.err;
  return result.out;
}

TEST(OpcodesTest, TableMatchesPickletools) {
  OURO_REQUIRE_PYTHON();
  const std::string out = python(R"PY(
import pickletools
put(str(len(pickletools.opcodes)))
for op in pickletools.opcodes:
    put(op.code.encode('latin-1'))
    put(op.name)
    put(op.arg.name if op.arg else 'none')
    put(str(op.proto))
    put(','.join(map(repr, op.stack_before)))
    put(','.join(map(repr, op.stack_after)))
    put(op.doc.split('\n', 1)[0])
put(bytes(b for b in range(256) if chr(b) in pickletools.code2op))
)PY");
  BlobReader in(out);
  const auto table = all_opcodes();
  ASSERT_EQ(std::stoul(std::string(in.next())), table.size());
  for (const OpcodeInfo& op : table) {
    EXPECT_EQ(static_cast<unsigned char>(in.next().at(0)), static_cast<unsigned char>(op.code))
        << op.name;
    EXPECT_EQ(in.next(), op.name);
    EXPECT_EQ(in.next(), arg_kind_name(op.arg)) << op.name;
    EXPECT_EQ(in.next(), std::to_string(op.proto)) << op.name;
    EXPECT_EQ(in.next(), join_kinds(op.stack_before)) << op.name;
    EXPECT_EQ(in.next(), join_kinds(op.stack_after)) << op.name;
    EXPECT_EQ(in.next(), op.summary) << op.name;
    EXPECT_EQ(&opcode_info(op.code), &op);
  }
  const std::string_view known = in.next();
  for (int b = 0; b < 256; ++b) {
    const bool python_knows = known.find(static_cast<char>(b)) != std::string_view::npos;
    EXPECT_EQ(find_opcode(static_cast<std::uint8_t>(b)) != nullptr, python_knows) << b;
  }
}

TEST(OpcodesTest, CallsCodeMarksExactlyTheOpcodesThatImportOrCall) {
  const std::set<Op> expected = {Op::kGlobal,   Op::kStackGlobal, Op::kReduce, Op::kBuild,
                                 Op::kInst,     Op::kObj,         Op::kNewObj, Op::kNewObjEx,
                                 Op::kExt1,     Op::kExt2,        Op::kExt4,   Op::kPersId,
                                 Op::kBinPersId};
  std::size_t marked = 0;
  for (const OpcodeInfo& op : all_opcodes()) {
    EXPECT_EQ(op.calls_code, expected.count(op.code) == 1) << op.name;
    marked += op.calls_code;
  }
  EXPECT_EQ(marked, expected.size());
}

// ---------------------------------------------------------------------------------------
// OpcodeReader against pickletools.genops: offsets, names, argument types and reprs, errors.

constexpr std::string_view kGenopsPython = R"PY(
import pickle, pickletools, struct
class Plain:
    def __init__(self):
        self.x = [1, 'two', 3.0]
values = [None, True, False, 0, -1, 255, 65535, 2**31 - 1, -2**31, 2**64, -10**30,
          10**4300 - 1, 10**4300, 2**14400, 1.5, -0.0, float('inf'), 1e-7, '', 'abc',
          '\ud800\U0010ffff\xe9', 'x' * 300, b'', b'\x00\xff' * 200, bytearray(b'ab'),
          [1, (2,), {3: {4}}], frozenset([1]), Plain(), 'y' * 70000]
cases = []
for v in values:
    for proto in range(6):
        try:
            cases.append(pickle.dumps(v, proto))
        except Exception:
            pass
cases += read_blobs(sys.stdin.buffer.read())
put(str(len(cases)))
for data in cases:
    put(data)
    records = []
    try:
        for op, arg, pos, end in pickletools._genops(data, yield_end_pos=True):
            try:
                shown = repr(arg)
            except ValueError as e:
                shown = 'ValueError: %s' % e
            records.append('%d %d %s %s %s' % (pos, end, op.name, type(arg).__name__, shown))
    except Exception as e:
        records.append('%s: %s' % (type(e).__name__, e))
    put('\n'.join(records))
)PY";

std::string_view type_name(const Argument& arg) {
  switch (arg.type) {
    case ArgType::kNone:
      return "NoneType";
    case ArgType::kInt:
    case ArgType::kUint:
    case ArgType::kLong:
      return "int";
    case ArgType::kBool:
      return "bool";
    case ArgType::kFloat:
      return "float";
    case ArgType::kStr:
      return "str";
    case ArgType::kBytes:
      return "bytes";
    case ArgType::kByteArray:
      return "bytearray";
  }
  return "?";
}

std::string read_all(std::string_view data) {
  std::vector<std::string> records;
  OpcodeReader reader(as_byte_span(data));
  try {
    while (auto ins = reader.next()) {
      std::string shown;
      try {
        shown = ins->arg.repr();
      } catch (const OpcodeError& e) {
        shown = e.python_type() + ": " + e.what();
      }
      records.push_back(fmt::format("{} {} {} {} {}", ins->offset, ins->end, ins->info->name,
                                    type_name(ins->arg), shown));
    }
  } catch (const OpcodeError& e) {
    records.push_back(e.python_type() + ": " + e.what());
  }
  return fmt::format("{}", fmt::join(records, "\n"));
}

// Malformed inputs: every opcode byte alone, truncated counts, hostile lengths.
std::string malformed_inputs() {
  using namespace std::string_literals;
  std::string blobs;
  for (const OpcodeInfo& op : all_opcodes()) {
    const char code = static_cast<char>(op.code);
    testing::put_blob(blobs, std::string(1, code));
    testing::put_blob(blobs, std::string(1, code) + "\x01");
    testing::put_blob(blobs, std::string(1, code) + "\xff\xff\xff\xff\xff\xff\xff\x7f" + ".");
    testing::put_blob(blobs, std::string(1, code) + "1\n.");
  }
  for (const std::string& s :
       {"\x8e\xff\xff\xff\xff\xff\xff\xff\xff."s, "T\x00\x00\x00\x80."s, "\x8b\x00\x00\x00\x80."s,
        "X\xff\xff\xff\xff."s, "\xfe"s, ""s, "N.extra"s, "I1\nI2\n."s,
        "\x80\x05\x95\x00\x00\x00\x00\x00\x00\x00\x00."s}) {
    testing::put_blob(blobs, s);
  }
  return blobs;
}

TEST(OpcodesTest, ReaderMatchesGenops) {
  OURO_REQUIRE_PYTHON();
  const std::string out = python(std::string(kGenopsPython), malformed_inputs());
  BlobReader in(out);
  const std::size_t count = std::stoul(std::string(in.next()));
  ASSERT_GT(count, 400u);
  for (std::size_t i = 0; i < count; ++i) {
    const std::string_view data = in.next();
    EXPECT_EQ(read_all(data), in.next()) << "case " << i;
  }
}

TEST(OpcodesTest, ReaderYieldsInstructionsAndStopsAtStop) {
  using namespace std::string_literals;
  const std::string data = "\x80\x04\x8c\x02hi\x94.trailing"s;
  OpcodeReader reader(as_byte_span(data));
  auto proto = reader.next();
  ASSERT_TRUE(proto);
  EXPECT_EQ(proto->info->code, Op::kProto);
  EXPECT_EQ(proto->arg.type, ArgType::kInt);
  EXPECT_EQ(proto->arg.int_value, 4);
  EXPECT_EQ(proto->end, 2u);
  auto text = reader.next();
  ASSERT_TRUE(text);
  EXPECT_EQ(text->offset, 2u);
  EXPECT_EQ(text->arg.str_value, U"hi");
  EXPECT_EQ(reader.next()->info->code, Op::kMemoize);
  EXPECT_EQ(reader.next()->info->code, Op::kStop);
  EXPECT_EQ(reader.position(), 8u);  // just past STOP; the trailing bytes are never read
  EXPECT_FALSE(reader.next());
}

TEST(OpcodesTest, HugeLengthsFailBeforeAllocating) {
  using namespace std::string_literals;
  // Each declares (nearly) 2**62 or 4 GiB of payload that is not there.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"\x8e\x00\x00\x00\x00\x00\x00\x00\x40"s,
       "expected 4611686018427387904 bytes in a bytes8, but only 0 remain"},
      {"\x96\x00\x00\x00\x00\x00\x00\x00\x40"s,
       "expected 4611686018427387904 bytes in a bytearray8, but only 0 remain"},
      {"\x8d\x00\x00\x00\x00\x00\x00\x00\x40"s,
       "expected 4611686018427387904 bytes in a unicodestring8, but only 0 remain"},
      {"X\xff\xff\xff\xff"s, "expected 4294967295 bytes in a unicodestring4, but only 0 remain"},
      {"\x8b\xff\xff\xff\x7f"s, "not enough data in stream to read long4"},
  };
  for (const auto& [data, message] : cases) {
    OpcodeReader reader(as_byte_span(data));
    try {
      reader.next();
      ADD_FAILURE() << message;
    } catch (const OpcodeError& e) {
      EXPECT_EQ(e.what(), message);
      EXPECT_EQ(e.python_type(), "ValueError");
      EXPECT_EQ(e.offset(), std::optional<std::size_t>(0));
    }
  }
}

// ---------------------------------------------------------------------------------------
// The decoders against int(), float(), codecs.escape_decode and the str codecs.

std::string random_text(std::mt19937& rng, std::string_view alphabet, std::size_t max_len) {
  std::string out(std::uniform_int_distribution<std::size_t>(0, max_len)(rng), ' ');
  for (char& c : out)
    c = alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(rng)];
  return out;
}

template <typename Fn>
std::string outcome(Fn&& fn) {
  try {
    return "OK " + fn();
  } catch (const OpcodeError& e) {
    return "ERR " + e.python_type() + ": " + e.what();
  }
}

TEST(OpcodesTest, DecodersMatchPython) {
  OURO_REQUIRE_PYTHON();
  using namespace std::string_literals;
  using namespace std::string_view_literals;
  struct Decoder {
    const char* name;
    std::string_view alphabet;
    std::function<std::string(std::string_view)> run;
  };
  const std::vector<Decoder> decoders = {
      {"int", " \t\v+-_0123456789aL\x00"sv,
       [](std::string_view s) { return detail::parse_python_int(s); }},
      {"float", " 0123456789.eE+-_infatyINFAN\x00"sv,
       [](std::string_view s) { return detail::repr_float(detail::parse_python_float(s)); }},
      {"escape", "\\\\\\x0a7'\"nqtv\xe9"sv,
       [](std::string_view s) { return detail::repr_bytes(detail::escape_decode(s)); }},
      {"ascii", "a\x7f\x80\xff"sv,
       [](std::string_view s) { return detail::repr_str(detail::decode_ascii(s)); }},
      {"raw", "\\\\\\uU0123456789abcdefABCDEFG\xe9"sv,
       [](std::string_view s) { return detail::repr_str(detail::decode_raw_unicode_escape(s)); }},
      {"utf8", "a\x80\x8f\x90\x9f\xa0\xbf\xc0\xc2\xdf\xe0\xed\xef\xf0\xf4\xf5\xff"sv,
       [](std::string_view s) { return detail::repr_str(detail::decode_utf8_surrogatepass(s)); }},
  };
  std::mt19937 rng(7);
  std::string input;
  std::vector<std::pair<const Decoder*, std::string>> cases;
  for (const Decoder& d : decoders) {
    for (int i = 0; i < 1500; ++i) cases.emplace_back(&d, random_text(rng, d.alphabet, 12));
  }
  cases.emplace_back(&decoders[0], std::string(4301, '7'));
  cases.emplace_back(&decoders[0], std::string(4300, '7') + "_");
  cases.emplace_back(&decoders[0], std::string(300, 'x'));
  cases.emplace_back(&decoders[1], "1e99999999999999999999");
  cases.emplace_back(&decoders[1], "0." + std::string(400, '0') + "1e400");
  for (const auto& [decoder, text] : cases) {
    testing::put_blob(input, decoder->name);
    testing::put_blob(input, text);
  }
  const std::string out = python(R"PY(
import codecs, warnings
warnings.simplefilter('ignore')
run = {'int': lambda b: str(int(b)), 'float': lambda b: repr(float(b)),
       'escape': lambda b: repr(codecs.escape_decode(b)[0]), 'ascii': lambda b: repr(b.decode('ascii')),
       'raw': lambda b: repr(str(b, 'raw-unicode-escape')),
       'utf8': lambda b: repr(str(b, 'utf-8', 'surrogatepass'))}
blobs = read_blobs(sys.stdin.buffer.read())
for name, text in zip(blobs[::2], blobs[1::2]):
    try:
        put('OK ' + run[name.decode()](text))
    except Exception as e:
        put('ERR %s: %s' % (type(e).__name__, e))
)PY",
                                 input);
  BlobReader in(out);
  int failures = 0;
  for (const auto& [decoder, text] : cases) {
    const std::string got = outcome([&] { return decoder->run(text); });
    const std::string_view want = in.next();
    if (got != want && ++failures <= 10) {
      ADD_FAILURE() << decoder->name << "(" << detail::repr_bytes(text) << "): " << got
                    << " != " << want;
    }
  }
  EXPECT_EQ(failures, 0);
}

// ---------------------------------------------------------------------------------------
// repr() helpers against Python's.

TEST(OpcodesTest, PrintableTableMatchesPython) {
  OURO_REQUIRE_PYTHON();
  const std::string out = python(R"PY(
import unicodedata
put(unicodedata.unidata_version)
put(bytes(chr(c).isprintable() for c in range(sys.maxunicode + 1)))
)PY");
  BlobReader in(out);
  EXPECT_EQ(in.next(), detail::printable_table_unicode_version());
  const std::string_view flags = in.next();
  ASSERT_EQ(flags.size(), 0x110000u);
  int mismatches = 0;
  for (char32_t cp = 0; cp < 0x110000; ++cp) {
    mismatches += detail::is_printable(cp) != (flags[cp] != 0);
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(OpcodesTest, StrReprMatchesPythonForEveryCodePoint) {
  OURO_REQUIRE_PYTHON();
  const std::string out = python(R"PY(
for start in range(0, sys.maxunicode + 1, 128):
    put(repr(''.join(map(chr, range(start, start + 128)))))
for s in ["'", '"', '\'"', "a'b", 'a"b', '\\']:
    put(repr(s))
)PY");
  BlobReader in(out);
  for (char32_t start = 0; start < 0x110000; start += 128) {
    std::u32string chunk;
    for (char32_t cp = start; cp < start + 128; ++cp) chunk += cp;
    ASSERT_EQ(detail::repr_str(chunk), in.next())
        << "chunk at " << static_cast<std::uint32_t>(start);
  }
  for (std::u32string_view s : {U"'", U"\"", U"'\"", U"a'b", U"a\"b", U"\\"}) {
    EXPECT_EQ(detail::repr_str(s), in.next());
  }
}

TEST(OpcodesTest, FloatAndIntReprMatchPython) {
  OURO_REQUIRE_PYTHON();
  std::mt19937_64 rng(11);
  std::vector<double> doubles = {0.0, -0.0, 1e16, 1e-5, 123.0, 5e-324, 1e22, 0.1, 1e15, 1e-4};
  for (int i = 0; i < 4000; ++i) {
    const std::uint64_t bits = rng();
    double d = 0;
    std::memcpy(&d, &bits, sizeof d);
    doubles.push_back(d);
    doubles.push_back(static_cast<double>(bits % 100000) / 1000.0);
  }
  std::vector<std::string> ints;  // little-endian two's complement, as LONG1/LONG4 carry
  for (int i = 0; i < 500; ++i) {
    std::string bytes(rng() % 40, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    ints.push_back(bytes);
  }
  for (std::size_t n : {1785u, 1786u, 1790u, 1800u}) ints.push_back(std::string(n, '\x7f'));
  for (std::size_t n : {1785u, 1786u, 1790u, 1800u}) ints.push_back(std::string(n, '\x80'));
  std::string input;
  for (double d : doubles) {
    testing::put_blob(input, std::string_view(reinterpret_cast<const char*>(&d), sizeof d));
  }
  for (const auto& bytes : ints) testing::put_blob(input, bytes);
  const std::string out = python(fmt::format(R"PY(
blobs = read_blobs(sys.stdin.buffer.read())
for b in blobs[:{}]:
    put(repr(struct.unpack('<d', b)[0]))
for b in blobs[{}:]:
    try:
        put(repr(int.from_bytes(b, 'little', signed=True)))
    except ValueError:
        put('too long')
)PY",
                                             doubles.size(), doubles.size()),
                                 input);
  BlobReader in(out);
  for (double d : doubles) ASSERT_EQ(detail::repr_float(d), in.next()) << fmt::format("{:a}", d);
  int too_long = 0;
  for (const auto& bytes : ints) {
    std::string text;
    const std::string got = detail::repr_int_le(bytes, text) ? text : "too long";
    too_long += got == "too long";
    EXPECT_EQ(got, in.next()) << bytes.size();
  }
  EXPECT_GT(too_long, 0);
}

}  // namespace
}  // namespace ouro::pickle
