// str.encode / bytes.decode (src/value/codecs.cpp) against python3: hundreds of generated
// texts and byte strings through every codec and error handler, comparing the result bytes
// or the exception's type and message.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ouro/value/value.h"
#include "support/heap_fixture.h"
#include "value_oracle.h"

namespace ouro {
namespace {

using value::testing::from_hex;
using value::testing::python_lines;
using value::testing::rng;
using value::testing::to_hex;

class CodecsTest : public testing::HeapTest {};

const std::vector<std::string> kEncodings = {"utf-8", "latin-1", "ascii"};
const std::vector<std::string> kHandlers = {"strict",           "ignore",          "replace",
                                            "backslashreplace", "surrogateescape", "surrogatepass"};

// "ok <hex>" or "err <Type>: <message>", the format the python side prints.
template <class Fn>
std::string outcome(Fn&& fn) {
  try {
    return "ok " + to_hex(fn());
  } catch (const Error& e) {
    return std::string("err ") + e.python_type() + ": " + e.what();
  }
}

// Runs `script` over `input` (one case a line) and expects python's lines to equal `mine`.
void expect_python_agrees(const char* script, const std::string& input,
                          const std::vector<std::string>& mine) {
  const auto theirs = python_lines(script, input);
  ASSERT_EQ(theirs.size(), mine.size());
  for (std::size_t i = 0; i < mine.size(); ++i) EXPECT_EQ(mine[i], theirs[i]) << "case " << i;
}

TEST_F(CodecsTest, EncodeMatchesCPython) {
  // Code points chosen to hit every branch: ASCII, latin-1, BMP, astral, lone surrogates
  // (including the U+DC80..DCFF that surrogateescape maps back to bytes).
  const std::vector<std::string> pieces = {"a",
                                           "\xc3\xa9",
                                           "\xc3\xbf",
                                           "\xe2\x82\xac",
                                           "\xf0\x9d\x84\x9e",
                                           "\xed\xa0\x80",
                                           "\xed\xb2\x80",
                                           "\xed\xb3\xbf",
                                           "\xed\xbf\xbf",
                                           "z"};
  std::vector<std::string> texts = {""};
  for (int i = 0; i < 60; ++i) {
    std::string t;
    const std::size_t n = rng()() % 6;
    for (std::size_t k = 0; k < n; ++k) t += pieces[rng()() % pieces.size()];
    texts.push_back(t);
  }
  std::string input;
  std::vector<std::string> mine;
  for (const std::string& t : texts) {
    for (const std::string& enc : kEncodings) {
      for (const std::string& errors : kHandlers) {
        input += (t.empty() ? "-" : to_hex(t)) + " " + enc + " " + errors + "\n";
        mine.push_back(outcome([&] {
          const Value b = encode(Value(t), enc, errors);
          const auto data = b.as<Bytes>().data();
          return std::string(reinterpret_cast<const char*>(data.data()), data.size());
        }));
      }
    }
  }
  expect_python_agrees(R"PY(
import sys
for line in sys.stdin:
    h, enc, errors = line.split()
    s = '' if h == '-' else bytes.fromhex(h).decode('utf-8', 'surrogatepass')
    try:
        print('ok', s.encode(enc, errors).hex())
    except Exception as e:
        print('err', type(e).__name__ + ':', e)
)PY",
                       input, mine);
}

TEST_F(CodecsTest, DecodeMatchesCPython) {
  // Bytes chosen to hit every UTF-8 error: stray continuations, overlong leads, the E0/ED/
  // F0/F4 second-byte bounds, sequences cut short, and the end of the data.
  const std::vector<unsigned char> pool = {0x41, 0x80, 0xbf, 0xc2, 0xc0, 0xe0, 0xa0, 0xed, 0x9f,
                                           0xf0, 0x90, 0xf4, 0x8f, 0xff, 0xe2, 0x82, 0xac, 0xb0};
  std::vector<std::string> inputs = {"", "plain"};
  for (int i = 0; i < 120; ++i) {
    std::string b;
    const std::size_t n = rng()() % 7;
    for (std::size_t k = 0; k < n; ++k) b += static_cast<char>(pool[rng()() % pool.size()]);
    inputs.push_back(b);
  }
  std::string input;
  std::vector<std::string> mine;
  for (const std::string& b : inputs) {
    for (const std::string& enc : kEncodings) {
      for (const std::string& errors : kHandlers) {
        input += (b.empty() ? "-" : to_hex(b)) + " " + enc + " " + errors + "\n";
        mine.push_back(outcome(
            [&] { return std::string(decode(bytes(b), enc, errors).as<std::string_view>()); }));
      }
    }
  }
  expect_python_agrees(R"PY(
import sys
for line in sys.stdin:
    h, enc, errors = line.split()
    b = b'' if h == '-' else bytes.fromhex(h)
    try:
        print('ok', b.decode(enc, errors).encode('utf-8', 'surrogatepass').hex())
    except Exception as e:
        print('err', type(e).__name__ + ':', e)
)PY",
                       input, mine);
}

TEST_F(CodecsTest, NamesAndErrorsAsPython) {
  EXPECT_EQ(repr(encode("h\xc3\xa9", "Latin1")), "b'h\\xe9'");
  EXPECT_EQ(repr(encode("h\xc3\xa9", "ISO-8859-1")), "b'h\\xe9'");
  EXPECT_EQ(repr(encode("abc", "US-ASCII")), "b'abc'");
  EXPECT_EQ(repr(decode(bytearray("caf\xc3\xa9"), "UTF8")), "'caf\xc3\xa9'");
  try {
    (void)encode("abc", "bogus");
    FAIL();
  } catch (const LookupError& e) {
    EXPECT_STREQ(e.what(), "unknown encoding: bogus");
  }
  // As in Python, an unknown handler is only looked up when an error needs it.
  EXPECT_EQ(repr(encode("abc", "ascii", "bogus")), "b'abc'");
  try {
    (void)encode("\xc3\xa9", "ascii", "bogus");
    FAIL();
  } catch (const LookupError& e) {
    EXPECT_STREQ(e.what(), "unknown error handler name 'bogus'");
  }
  try {
    (void)encode("a\xc3\xa9\xc3\xa9", "ascii");
    FAIL();
  } catch (const UnicodeEncodeError& e) {
    EXPECT_EQ(e.start(), 1u);
    EXPECT_EQ(e.end(), 3u);
  }
  EXPECT_THROW((void)encode(bytes("x")), TypeError);
  EXPECT_THROW((void)decode(Value("x")), TypeError);
}

TEST_F(CodecsTest, ResultLivesInTheInputsHeap) {
  Heap other;
  Value text;
  {
    HeapScope scope(other);
    text = Value("sensor");
  }
  const Value b = encode(text);
  EXPECT_EQ(&b.object()->heap(), &other);
  EXPECT_EQ(&decode(b).object()->heap(), &other);
}

}  // namespace
}  // namespace ouro
