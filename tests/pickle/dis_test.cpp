// Differential tests of ouro::pickle::dis against CPython's pickletools.dis (the oracle):
// a corpus of several thousand pickles (every kind of value at protocols 0-5, every prefix
// of some pickles, random garbage, hand-made malformed protocol-0 text) is disassembled by
// both and the outputs and error messages must be identical, with and without annotations.
// Also: pickletester.py's DATA0-DATA4 disassemblies, the hostile pickles in
// tests/data/hostile-pickles, and run_dis_command against `python3 -m pickletools FILE`.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ouro/errors.h"
#include "ouro/pickle/pickletools.h"
#include "ouro/value/value.h"
#include "pickle/blob_io.h"
#include "pickle/pickletester_data.h"
#include "support/python_oracle.h"

namespace ouro::pickle {
namespace {

using testing::as_byte_span;
using testing::BlobReader;

/// What one disassembly printed and the "Type: message" it ended with ("" on success).
struct Outcome {
  std::string out;
  std::string error;
};

Outcome disassemble(std::string_view data, const DisOptions& options = {}) {
  Outcome result;
  std::ostringstream out;
  try {
    dis(as_byte_span(data), out, options);
  } catch (const DisError& e) {
    result.error = e.python_type() + ": " + e.what();
  }
  result.out = out.str();
  return result;
}

std::string hex_preview(std::string_view data) {
  std::string out;
  for (std::size_t i = 0; i < data.size() && i < 48; ++i) {
    out += fmt::format("{:02x}", static_cast<unsigned char>(data[i]));
  }
  return data.size() > 48 ? out + "..." : out;
}

// The corpus generator and pickletools.dis wrapper, run by python3 (see the file comment).
constexpr std::string_view kCorpusPython = R"PY(
import io, math, pickle, pickletools, random, struct

class Plain:
    def __init__(self, a=1, b='x'):
        self.a, self.b = a, b

class WithState:
    def __reduce__(self):
        return (WithState, (), {'k': [1, 2]})

def ints():
    vals = [0, 1, -1, 255, 256, -255, -256, 65535, 65536, -65536, 2**31 - 1, -2**31, 2**31,
            2**63 - 1, -2**63, 2**63, 2**64, -2**64 - 1, 10**100, -10**100, 2**1000 + 7,
            10**4300 - 1, -(10**4300 - 1), 10**4300, -(10**4300), 2**14300, 2**20000]
    for k in range(0, 80, 3):
        vals += [2**k - 1, 2**k, -2**k, -2**k - 1]
    return vals

def floats(rng):
    vals = [0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 2.5, 1 / 3, 123.0, 1e15, 1e16, 1e17, 9.999e15,
            1e-4, 1e-5, 1.5e-5, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
            math.inf, -math.inf, math.nan, 1e22, 1e23, 9007199254740993.0, 123456789.125,
            0.001, 0.0001, 100.0, 1e100, 12345678901234567.0]
    for _ in range(150):
        (x,) = struct.unpack('<d', rng.getrandbits(64).to_bytes(8, 'little'))
        vals.append(x)
    return vals

def strings(rng):
    vals = ['', 'abc', "it's", 'say "hi"', 'both \' and "', '\\', '\n\t\r\x00\x7f',
            ''.join(map(chr, range(128))), ''.join(map(chr, range(128, 512))),
            '\xa0\xad\u2028\u2029\ue000\uffff\U0010ffff\U000e0001\u0378', '\ud800', '\udfff',
            'a\ud800b\udc00', '\ud83d\ude00', '😀 emoji', 'x' * 300, 'é' * 200]
    for start in range(0, 0x110000, 0x800):
        vals.append(''.join(chr(rng.randrange(start, start + 0x800)) for _ in range(6)))
    return vals

def byte_values():
    return [b'', b'abc', bytes(range(256)), b"'", b'"', b'\'"', b'\\', b'x' * 300]

def containers():
    shared = [1, 2]
    rec = []
    rec.append(rec)
    drec = {}
    drec['self'] = drec
    inst = Plain(3, 'y')
    inst.me = inst
    return [[], (), {}, set(), frozenset(), [1, [2, [3, (4,)]]], (1,), (1, 2), (1, 2, 3),
            (1, 2, 3, 4), {'a': 1, 'b': [2, 3]}, {1, 2, 3}, frozenset({'x'}), [shared, shared],
            rec, drec, list(range(1500)), {i: str(i) for i in range(1100)}, set(range(1100)),
            Plain(), inst, [Plain(i) for i in range(3)], WithState(), bytearray(b'ab\x00'),
            bytearray(), (shared, [shared]), 'y' * 70000, [None, True, False, 1.5, 'z']]

def dis_result(data, annotate):
    out = io.StringIO()
    try:
        pickletools.dis(data, out, annotate=annotate)
        err = ''
    except Exception as e:
        err = '%s: %s' % (type(e).__name__, e)
    return out.getvalue(), err

def value_pickles(rng):
    values = [None, True, False] + ints() + floats(rng) + strings(rng) + byte_values() + containers()
    out = []
    for v in values:
        for proto in range(6):
            try:
                out.append(pickle.dumps(v, proto))
            except Exception:
                pass  # e.g. protocol 0 cannot write ints over 4300 digits
    for v in containers()[:12]:
        out.append(pickletools.optimize(pickle.dumps(v, 4)))
    return out

def prefixes():
    out = []
    for v in [[1, 'ab', (2.5, None)], {'k': b'v', 'n': [True]}, Plain()]:
        for proto in (0, 2, 4, 5):
            p = pickle.dumps(v, proto)
            out += [p[:i] for i in range(len(p))]
    return out

OPCODE_BYTES = bytes(sorted(ord(o.code) for o in pickletools.opcodes))

def garbage(rng):
    out = []
    for _ in range(400):
        out.append(bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 40))))
    pool = OPCODE_BYTES + b'\x00\x01\x02\n01-'
    for _ in range(2000):
        out.append(bytes(rng.choice(pool) for _ in range(rng.randrange(1, 30))) + b'.')
    return out

INT_TEXTS = [b'0', b'-0', b'+5', b' 12 ', b'1_000', b'1__0', b'_1', b'1_', b'0x10', b'12L',
             b'', b'-', b'\t7\x0b', b'1\x002', b'\xd9\xa1', b'9' * 4300, b'9' * 4301,
             b'9' * 4301 + b'x', b'1' * 500 + b'x', b'00', b'01', b'000', b'-1',
             b'9223372036854775807', b'-9223372036854775808', b'18446744073709551616',
             b'\xff', b'- 1', b'1 2', b'1_2_3', b'0_0', b'\x0c3\r', b'1L', b'LL', b"'" * 300]
FLOAT_TEXTS = [b'1.5', b'1e5', b'1E-5', b'.5', b'5.', b'.', b'1e', b'1e+', b'inf', b'-Infinity',
               b'nan', b'+nan', b'-nan', b'iNf', b'infinit', b'infinityx', b'1_0.5', b'1._5',
               b'1e1_0', b'  2.5  ', b'0x1p3', b'1e400', b'-1e400', b'1e-400', b'2.4e-324',
               b'2.5e-324', b'4.9e-324', b'1' * 400, b'0.' + b'0' * 400 + b'1e400',
               b'1e99999999999999999999', b'0e999999', b'1.7976931348623159e308', b'\xff',
               b'', b' ', b'1.5_', b'_1.5', b'1__5', b'+.5e-3', b'1.0\x00', b'-0.0', b'1e-7',
               b'1234567890123456789', b'0.000001', b'123e-310']
STRING_TEXTS = [b"'abc'", b'"abc"', b"'abc", b'abc', b"'", b'"', b"''", b"'a\\x41'", b"'\\x4'",
                b"'\\xzz'", b"'\\'", b"'a\\'", b"'\\777'", b"'\\101\\0'", b"'\\q'", b"'\\\\'",
                b"'\xe9'", b"'\\xe9'", b"'\\n\\t\\a\\b\\f\\v\\r\\'\\\"'", b'"it\'s"', b"'a\\\n",
                b"\"abc'", b"'\\x4g'", b"'\\18'"]
UNICODE_TEXTS = [b'abc', b'\\u00e9', b'\\u', b'\\u12', b'\\U0001F600', b'\\U00110000',
                 b'\\UFFFFFFFF', b'a\\', b'\\x41', b'\\ud800', b'\xe9\xff', b'\\\\u0041',
                 b'\\u12G4', b'\\U000d800', b'\\U0000004']
NAME_TEXTS = [b'os\nsystem', b'os', b'a b\nc', b'\\x41\nb', b'\xe9\nb', b'mod\\\nname',
              b'builtins\neval', b'\\xzz\nb', b'a\nb\\']
UTF8_TEXTS = [b'\xff', b'\x80', b'\xc3', b'\xc3\x28', b'\xe0\x80\x80', b'\xed\xa0\x80',
              b'\xed\xa0', b'\xed\xbf\xbf', b'\xf0\x90\x80', b'\xf0\x90\x28\x80', b'\xf4\x90\x80\x80',
              b'\xf5', b'a\xed\xa0\x80b\xed\xb0\x80', b'\xe2\x82', b'\xe2\x82\xac', b'\xf0\x9f\x98\x80',
              b'\xe0\xa0', b'\xe0\x9f\x80', b'\xf0\x80\x80\x80', b'\xf0\x90', b'\xc1\xbf', b'ok\xc2']

def crafted():
    out = []
    for t in INT_TEXTS:
        out += [b'I' + t + b'\n.', b'L' + t + b'\n.', b'Np' + t + b'\n0.', b'Np0\ng' + t + b'\n0.']
    for t in FLOAT_TEXTS:
        out.append(b'F' + t + b'\n.')
    for t in STRING_TEXTS:
        out.append(b'S' + t + b'\n.')
    for t in UNICODE_TEXTS:
        out.append(b'V' + t + b'\n.')
    for t in NAME_TEXTS:
        out += [b'c' + t + b'\n.', b'(i' + t + b'\n.', b'P' + t.split(b'\n')[0] + b'\n.']
    for t in UTF8_TEXTS:
        out += [b'X' + struct.pack('<I', len(t)) + t + b'.', b'\x8c' + bytes([len(t)]) + t + b'.',
                b'\x8d' + struct.pack('<Q', len(t)) + t + b'.']
    for op in b'ILFSVcigpP':
        out += [bytes([op]), bytes([op]) + b'12', bytes([op]) + b'a\nb']
    out += [
        b'', b'.', b'N', b'(.', b't.', b'(2t.', b'N(0.', b'(1.', b'(N1N.', b'N(a.', b']N(Na.',
        b'(N2t.', b'((t.', b'(((ttt.', b'(Nt(Nt.', b'0.', b'2.', b'NN.', b'(N.', b'N\x85\x85.',
        b'Np0\np0\n.', b'g0\n.', b'(p0\n.', b'p0\n.', b'\x80\x04N\x94N\x94.', b'\x80\x04Nq\x01\x94.',
        b'Np00\ng0\n.', b'Np01\nh\x01.', b'Np0\ng00\n.', b'Nq\x05h\x05h\x06.', b'Nr\x00\x00\x00\x01j\x00\x00\x00\x01.',
        b'\x94.', b'\x80\x05\x97\x98.', b'\x98.', b'J\x01\x02\x03', b'T\xff\xff\xff\xff.',
        b'T\xff\xff\xff\x7f.', b'\x8b\xff\xff\xff\xff.', b'\x8a\x05abc.', b'\x8a\x00.',
        b'\x8a\x01\x80.', b'\x8b\x02\x00\x00\x00\xff\x7f.', b'\x8e' + struct.pack('<Q', 2**63) + b'.',
        b'\x8e' + struct.pack('<Q', 2**63 - 1) + b'.', b'\x96' + struct.pack('<Q', 2**64 - 1) + b'.',
        b'\x8d' + struct.pack('<Q', 2**63) + b'.', b'B\xff\xff\xff\xff.', b'C\x05ab.', b'U\x03ab',
        b'\x80\x04\x95' + struct.pack('<Q', 2**64 - 1) + b'N.', b'\x80\x02', b'\x80', b'\x80\x07N.',
        b'G\x7f\xf8\x00\x00\x00\x00\x00\x01.', b'G\xff\xf8\x00\x00\x00\x00\x00\x00.', b'G\x00\x00.',
        b'N.trailing garbage', b'\xff', b'\x00', b'z', b"'", b'"', b'\\', b'\x99.', b'\xa0',
        b'\x80\x02}(K\x01K\x02u.', b'\x80\x02}(K\x01u.', b'\x80\x02](e.', b'\x8f(\x90.', b'(\x91.',
        b'c\n\n.', b'\x93.', b'NN\x93.', b'NNN\x92.', b'N(Nb.', b'(N(o.', b'(No.', b'(NN2o.',
        b'N' * 10 + b'.', b'(' * 20 + b'N' + b't' * 20 + b'.', b'N2222222.', b'(N0000.',
    ]
    for x in (math.nan, -math.nan, 5e-324, -5e-324, 1e308):
        out.append(b'G' + struct.pack('>d', x) + b'.')
    return out

def corpus(rng):
    return value_pickles(rng) + prefixes() + garbage(rng) + crafted()

)PY";

constexpr std::string_view kCorpusMain = R"PY(
import random
cases = read_blobs(sys.stdin.buffer.read()) + corpus(random.Random(20240601))
put(str(len(cases)))
for i, data in enumerate(cases):
    column = 1 if i % 2 == 0 else 30   # annotate=True, and what `python -m pickletools -a` uses
    put(data)
    put(str(column))
    for annotate in (0, column):
        out, err = dis_result(data, annotate)
        put(out)
        put(err)
)PY";

std::string corpus_script() {
  return std::string(testing::kBlobPython) + std::string(kCorpusPython) + std::string(kCorpusMain);
}

// Compares our outcome with Python's for one case; returns false (and reports) on mismatch.
bool same_outcome(std::size_t index, std::string_view data, std::string_view mode,
                  const Outcome& ours, std::string_view py_out, std::string_view py_err) {
  if (ours.out == py_out && ours.error == py_err) return true;
  ADD_FAILURE() << "case " << index << " (" << mode << ") pickle " << hex_preview(data)
                << "\n--- python:\n"
                << py_out << py_err << "\n--- ouro:\n"
                << ours.out << ours.error;
  return false;
}

TEST(DisTest, PickletesterDisassemblies) {
  int compared = 0;
  for (const auto& c : testdata::kPickletesterCases) {
    if (c.dis.empty()) continue;
    const Outcome got = disassemble(c.data);
    EXPECT_EQ(got.error, "") << c.name;
    EXPECT_EQ(got.out, c.dis) << c.name;
    ++compared;
  }
  EXPECT_EQ(compared, 5);
}

TEST(DisTest, MatchesPickletoolsOnCorpus) {
  OURO_REQUIRE_PYTHON();
  std::string extra;
  for (const auto& c : testdata::kPickletesterCases) testing::put_blob(extra, c.data);
  const auto py = testing::run_python(corpus_script(), extra);
  ASSERT_EQ(py.status, 0) << py.err;
  BlobReader in(py.out);
  const std::size_t count = std::stoul(std::string(in.next()));
  ASSERT_GT(count, 8000u);
  std::size_t failures = 0;
  for (std::size_t i = 0; i < count && failures < 10; ++i) {
    const std::string_view data = in.next();
    const int column = std::stoi(std::string(in.next()));
    const std::string_view plain_out = in.next(), plain_err = in.next();
    const std::string_view anno_out = in.next(), anno_err = in.next();
    failures += !same_outcome(i, data, "plain", disassemble(data), plain_out, plain_err);
    const DisOptions annotated{true, 4, column};
    failures +=
        !same_outcome(i, data, "annotate", disassemble(data, annotated), anno_out, anno_err);
  }
  EXPECT_EQ(failures, 0u);
  EXPECT_TRUE(in.done());
}

TEST(DisTest, IndentLevelMatchesPickletools) {
  OURO_REQUIRE_PYTHON();
  const std::string script = std::string(testing::kBlobPython) + R"PY(
import io, pickle, pickletools
data = pickle.dumps([[1, (2, [3])], {'a': {4}}], 1)
for level in (0, 1, 2, 7):
    out = io.StringIO()
    pickletools.dis(data, out, indentlevel=level)
    put(data)
    put(out.getvalue())
)PY";
  const auto py = testing::run_python(script);
  ASSERT_EQ(py.status, 0) << py.err;
  BlobReader in(py.out);
  for (int level : {0, 1, 2, 7}) {
    const std::string_view data = in.next();
    EXPECT_EQ(disassemble(data, DisOptions{false, level, 30}).out, in.next()) << level;
  }
}

std::vector<std::filesystem::path> hostile_files() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(OURO_HOSTILE_PICKLES_DIR)) {
    if (entry.path().extension() == ".pkl") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// pickletools.dis reading each file as `python -m pickletools` does (never pickle.load).
TEST(DisTest, HostilePicklesMatchPickletools) {
  OURO_REQUIRE_PYTHON();
  const auto files = hostile_files();
  ASSERT_GE(files.size(), 80u);
  std::string names;
  for (const auto& f : files) testing::put_blob(names, f.string());
  const std::string script = std::string(testing::kBlobPython) + R"PY(
import io, pickletools
for name in read_blobs(sys.stdin.buffer.read()):
    for annotate in (0, 30):
        out = io.StringIO()
        err = ''
        with open(name, 'rb') as f:
            try:
                pickletools.dis(f, out, None, 4, annotate)
            except Exception as e:
                err = '%s: %s\n' % (type(e).__name__, e)
        put(out.getvalue())
        put(err)
)PY";
  const auto py = testing::run_python(script, names);
  ASSERT_EQ(py.status, 0) << py.err;
  BlobReader in(py.out);
  int errors_seen = 0;
  for (const auto& f : files) {
    for (bool annotate : {false, true}) {
      std::ifstream file(f, std::ios::binary);
      std::ostringstream out, err;
      const int rc = run_dis_command(file, out, err, DisOptions{annotate, 4, 30});
      const std::string_view py_out = in.next(), py_err = in.next();
      EXPECT_EQ(out.str(), py_out) << f;
      EXPECT_EQ(err.str(), py_err) << f;
      EXPECT_EQ(rc, py_err.empty() ? 0 : 1) << f;
      errors_seen += rc;
    }
  }
  EXPECT_GT(errors_seen, 0);  // some files are malformed; their errors were compared too
}

// End to end against the real command line: stdout, last line of stderr, exit status.
TEST(DisTest, RunDisCommandMatchesPythonCli) {
  using namespace std::string_literals;
  OURO_REQUIRE_PYTHON();
  const std::string runner =
      "import runpy, sys\nrunpy.run_module('pickletools', run_name='__main__', alter_sys=True)\n";
  testing::TempFile empty(".pkl"), trailing(".pkl"), truncated(".pkl"), unknown(".pkl");
  empty.write("");
  trailing.write(
      "\x80\x02]q\x00(K\x01K\x02"
      "e.junk after STOP"s);
  truncated.write(
      "\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00X\x05\x00\x00\x00"
      "ab"s);
  unknown.write("(K\x01\xff");
  std::vector<std::filesystem::path> paths = {empty.path(), trailing.path(), truncated.path(),
                                              unknown.path()};
  for (const char* name : {"keyerror-exploit.pkl", "broken_model.pkl", "malicious0.pkl"}) {
    paths.push_back(std::filesystem::path(OURO_HOSTILE_PICKLES_DIR) / name);
  }
  for (const auto& path : paths) {
    const auto py = testing::run_python(runner, "", "'" + path.string() + "'");
    std::ifstream file(path, std::ios::binary);
    std::ostringstream out, err;
    const int rc = run_dis_command(file, out, err, {});
    EXPECT_EQ(out.str(), py.out) << path;
    std::string last_line = py.err;
    if (!last_line.empty() && last_line.back() == '\n') last_line.pop_back();
    last_line = last_line.substr(last_line.rfind('\n') + 1) + (py.err.empty() ? "" : "\n");
    EXPECT_EQ(err.str(), last_line) << path;
    EXPECT_EQ(rc, py.status) << path;
  }
}

// A stream that cannot seek (a pipe): dis must read a big payload whole instead of twice.
class UnseekableBuffer : public std::stringbuf {
 public:
  explicit UnseekableBuffer(const std::string& data) : std::stringbuf(data, std::ios::in) {}

 protected:
  pos_type seekoff(off_type, std::ios::seekdir, std::ios::openmode) override { return -1; }
  pos_type seekpos(pos_type, std::ios::openmode) override { return -1; }
};

// Bytes and bytearray arguments of more than a MiB are written piece by piece, and read in
// pieces from a seekable stream (dis.cpp, kBigPayload): the text must stay pickletools',
// quotes, indentation, annotation columns and a payload cut short included, from memory,
// from a file and from an unseekable stream.
TEST(DisTest, BigPayloadsMatchPickletoolsFromMemoryFileAndPipe) {
  OURO_REQUIRE_PYTHON();
  const std::string script = std::string(testing::kBlobPython) + R"PY(
import io, pickle, pickletools, struct
big = bytes(range(256)) * 5000                      # 1.22 MiB, no quotes
cases = [
    pickle.dumps(big, 5),                           # BINBYTES
    pickle.dumps([big + b"'", bytearray(big + b"'\"")], 5),  # MARK, both quotes, BYTEARRAY8
    b'\x80\x05\x8e' + struct.pack('<Q', len(big)) + big + b'.',  # BINBYTES8
    b'\x80\x05(\x8e' + struct.pack('<Q', len(big) + 9) + big,    # cut short inside it
]
for data in cases:
    put(data)
    for annotate in (0, 30):
        out = io.StringIO()
        err = ''
        try:
            pickletools.dis(data, out, None, 4, annotate)
        except Exception as e:
            err = '%s: %s' % (type(e).__name__, e)
        put(out.getvalue())
        put(err)
)PY";
  const auto py = testing::run_python(script);
  ASSERT_EQ(py.status, 0) << py.err;
  BlobReader in(py.out);
  for (int i = 0; i < 4; ++i) {
    const std::string data(in.next());
    testing::TempFile file(".pkl");
    file.write(data);
    for (bool annotate : {false, true}) {
      const std::string expected_out(in.next()), expected_error(in.next());
      const DisOptions options{annotate, 4, 30};
      const Outcome memory = disassemble(data, options);
      EXPECT_EQ(memory.out, expected_out) << "case " << i;
      EXPECT_EQ(memory.error, expected_error) << "case " << i;
      for (bool seekable : {true, false}) {
        std::ifstream disk(file.path(), std::ios::binary);
        UnseekableBuffer pipe_buffer(data);
        std::istream pipe(&pipe_buffer);
        std::ostringstream out;
        std::string error;
        try {
          dis(seekable ? static_cast<std::istream&>(disk) : pipe, out, options);
        } catch (const DisError& e) {
          error = e.python_type() + ": " + e.what();
        }
        EXPECT_EQ(out.str(), expected_out) << "case " << i << " seekable " << seekable;
        EXPECT_EQ(error, expected_error) << "case " << i << " seekable " << seekable;
      }
    }
  }
}

TEST(DisTest, ErrorsCarryTypeAndOffset) {
  using namespace std::string_literals;
  struct Case {
    std::string data;
    const char* type;
    const char* message;
    std::size_t offset;
  };
  const std::vector<Case> cases = {
      {"", "ValueError", "pickle exhausted before seeing STOP", 0},
      {"NN\xfe", "ValueError", "at position 2, opcode b'\\xfe' unknown", 2},
      {"N(K", "ValueError", "not enough data in stream to read uint1", 2},
      {"(N.", "ValueError", "stack not empty after STOP: [mark]", 2},
      {"(2t.", "IndexError", "list index out of range", 2},
      {"g7\n.", "ValueError", "memo key 7 has never been stored into", 0},
      {"X\x01\x00\x00\x00\xff."s, "UnicodeDecodeError",
       "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte", 0},
      {"\x8e\x00\x00\x00\x00\x00\x00\x00\x40."s, "ValueError",
       "expected 4611686018427387904 bytes in a bytes8, but only 1 remain", 0},
  };
  for (const auto& c : cases) {
    std::ostringstream out;
    try {
      dis(as_byte_span(c.data), out);
      ADD_FAILURE() << "no error for " << hex_preview(c.data);
    } catch (const DisError& e) {
      EXPECT_EQ(e.python_type(), c.type) << hex_preview(c.data);
      EXPECT_STREQ(e.what(), c.message) << hex_preview(c.data);
      ASSERT_TRUE(e.offset().has_value()) << hex_preview(c.data);
      EXPECT_EQ(*e.offset(), c.offset) << hex_preview(c.data);
    }
  }
}

// A LONG4 too long to print stops after the offset column, as pickletools' print(end=' ') does.
TEST(DisTest, HugeIntStopsMidLine) {
  std::string data = "\x80\x02\x8b";
  const std::uint32_t n = 1800;  // 14400 bits: more than 4300 decimal digits
  for (int i = 0; i < 4; ++i) data += static_cast<char>((n >> (8 * i)) & 0xFF);
  data += std::string(n - 1, '\0') + "\x01.";
  const Outcome got = disassemble(data);
  EXPECT_EQ(got.out, "    0: \\x80 PROTO      2\n    2: ");
  EXPECT_EQ(got.error,
            "ValueError: Exceeds the limit (4300 digits) for integer string conversion; use "
            "sys.set_int_max_str_digits() to increase the limit");
}

// The memo emulation keeps pickletools' dict semantics with its dense array: MEMOIZE
// numbering, PUTs near and far, negative and zero-padded keys, redefinition and misses.
TEST(DisTest, MemoEdgeCasesMatchPickletools) {
  using namespace std::string_literals;
  OURO_REQUIRE_PYTHON();
  const std::vector<std::string> cases = {
      "\x80\x04]\x94]\x94h\x00h\x01j\x01\x00\x00\x00\x85\x85\x85\x85."s,
      "(Np5\nNp100000\nNp-1\nNp007\ng5\ng100000\ng-1\ng7\nl.",
      "(Np0\nN\x94N\x94g0\ng1\ng2\nl.",  // MEMOIZE numbers by count: 1 is defined twice
      "(Nr\xff\xff\xff\x7fj\xff\xff\xff\x7f\x94l.",
      "(Np3\ng4\nl.",
      "(Np18446744073709551616\ng18446744073709551616\nl.",
  };
  std::string input;
  for (const std::string& c : cases) testing::put_blob(input, c);
  const auto py = testing::run_python(std::string(testing::kBlobPython) + R"PY(
import io, pickletools
for data in read_blobs(sys.stdin.buffer.read()):
    out = io.StringIO()
    try:
        pickletools.dis(data, out)
        err = ''
    except Exception as e:
        err = type(e).__name__ + ': ' + str(e)
    put(out.getvalue()); put(err)
)PY",
                                      input);
  ASSERT_EQ(py.status, 0) << py.err;
  BlobReader in(py.out);
  for (const std::string& c : cases) {
    const Outcome got = disassemble(c);
    EXPECT_EQ(got.out, in.next()) << hex_preview(c);
    EXPECT_EQ(got.error, in.next()) << hex_preview(c);
  }
}

// Limits: the text stops at max_output (exactly that many bytes written), the emulation's
// memory at limit_bytes, and a stream that fails stops dis instead of losing lines.
TEST(DisTest, OutputCapMemoryLimitAndFailedWrites) {
  const std::string marks = std::string(100000, '(') + "N.";
  std::ostringstream capped;
  DisOptions options;
  options.max_output = 12345;
  EXPECT_THROW(dis(testing::as_byte_span(marks), capped, options), OutputLimitError);
  EXPECT_EQ(capped.str().size(), 12345U);
  EXPECT_EQ(capped.str().substr(0, 16), "    0: (    MARK");

  const std::string many_marks = std::string(4'000'000, '(') + "N.";
  std::ostringstream sink;
  DisOptions limited;
  limited.indentlevel = 0;
  limited.limit_bytes = std::size_t{16} << 20;  // 4M marks take 32 MB of offsets
  EXPECT_THROW(dis(testing::as_byte_span(many_marks), sink, limited), MemoryError);
  limited.limit_bytes = std::size_t{128} << 20;
  const Outcome fits = disassemble(many_marks, limited);
  EXPECT_EQ(fits.error.substr(0, 40), "ValueError: stack not empty after STOP: ");
  EXPECT_NE(fits.error.find(", ... (3990000 more)]"), std::string::npos)
      << fits.error.substr(fits.error.size() - 80);

  std::ostringstream broken;
  broken.setstate(std::ios::badbit);
  EXPECT_THROW(dis(testing::as_byte_span(marks), broken), std::ios_base::failure);
}

}  // namespace
}  // namespace ouro::pickle
