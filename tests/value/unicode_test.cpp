// unicode: UTF-8-with-surrogates scanning, code point walking, isprintable() and the
// reprs of str and bytes, against python3 ('surrogatepass' decoding, repr()).
#include "value/unicode.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>
#include <cstring>

#include "value_oracle.h"

namespace ouro::value::detail {
namespace {

using ouro::value::testing::from_hex;
using ouro::value::testing::python_lines;
using ouro::value::testing::to_hex;
using ouro::value::testing::uniform;

constexpr std::size_t kCodePointCount = kMaxCodePoint + 1;

std::string encode(char32_t cp) {
  std::array<char, kMaxUtf8Length> buffer{};
  return std::string(buffer.data(), encode_code_point(cp, buffer));
}

/// Python reads records as hex lines and decodes them with 'surrogatepass'.
constexpr const char* kReprScript =
    "import sys\n"
    "out = sys.stdout.buffer\n"
    "for line in sys.stdin:\n"
    "    s = bytes.fromhex(line.strip()).decode('utf-8', 'surrogatepass')\n"
    "    out.write(repr(s).encode('utf-8') + b'\\n')\n";

/// Compares str_repr() with Python's repr() for each string (UTF-8 with surrogates).
void expect_str_reprs_match(const std::vector<std::string>& strings) {
  std::string input;
  for (const auto& s : strings) input += to_hex(s) + "\n";
  auto lines = python_lines(kReprScript, input);
  ASSERT_EQ(lines.size(), strings.size());
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < strings.size(); ++i) {
    if (str_repr(strings[i]) != lines[i] && ++mismatches <= 20) {
      ADD_FAILURE() << "input " << to_hex(strings[i]) << ": ours " << str_repr(strings[i])
                    << ", python " << lines[i];
    }
  }
  EXPECT_EQ(mismatches, 0u) << "of " << strings.size();
}

TEST(Unicode, IsPrintableMatchesPythonForEveryCodePoint) {
  OURO_REQUIRE_PYTHON();
  auto lines = python_lines(
      "import sys, unicodedata\n"
      "print(unicodedata.unidata_version)\n"
      "print(''.join('1' if chr(c).isprintable() else '0' for c in range(sys.maxunicode + 1)))\n",
      "");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], kUnicodeVersion) << "regenerate with tools/gen/gen_unicode_tables.py";
  ASSERT_EQ(lines[1].size(), kCodePointCount);
  std::size_t mismatches = 0;
  for (char32_t cp = 0; cp <= kMaxCodePoint; ++cp) {
    if ((lines[1][cp] == '1') != is_printable(cp) && ++mismatches <= 20) {
      ADD_FAILURE() << "U+" << std::hex << static_cast<std::uint32_t>(cp);
    }
  }
  EXPECT_EQ(mismatches, 0u);
}

TEST(Unicode, EncodeDecodeAndCountMatchPythonForEveryCodePoint) {
  OURO_REQUIRE_PYTHON();
  std::string all;
  for (char32_t cp = 0; cp <= kMaxCodePoint; ++cp) {
    std::string bytes = encode(cp);
    ASSERT_EQ(bytes.size(), encoded_length(cp));
    all += bytes;
  }
  auto lines = python_lines(
      "import sys\n"
      "data = ''.join(map(chr, range(sys.maxunicode + 1))).encode('utf-8', 'surrogatepass')\n"
      "print(data.hex())\n",
      "");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(to_hex(all) == lines[0]) << "UTF-8 of some code point differs from Python's";
  Utf8Scan scan = scan_utf8(all);
  EXPECT_TRUE(scan.valid) << scan.error_offset;
  EXPECT_EQ(scan.code_points, kCodePointCount);
  EXPECT_EQ(count_code_points(all), kCodePointCount);
  std::size_t pos = 0;
  for (char32_t cp = 0; cp <= kMaxCodePoint; ++cp) {
    ASSERT_EQ(decode_code_point(all, pos), cp);
  }
  EXPECT_EQ(pos, all.size());
}

/// Byte strings around every kind of UTF-8 error: exhaustive short sequences over the
/// bytes where the rules change, plus mutated valid text.
std::vector<std::string> utf8_probe_strings() {
  static const unsigned char kPivots[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF,
                                          0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE,
                                          0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xF8, 0xFF};
  std::vector<std::string> out;
  for (int b = 0; b < 256 * 256; ++b)
    out.push_back({static_cast<char>(b >> 8), static_cast<char>(b)});
  for (unsigned char a : kPivots)
    for (unsigned char b : kPivots)
      for (unsigned char c : kPivots) {
        out.push_back({'x', static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)});
        for (unsigned char d : {0x41, 0x80, 0xBF, 0xC0}) {
          out.push_back({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c),
                         static_cast<char>(d)});
        }
      }
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    for (std::uint64_t n = uniform(0, 40); n > 0; --n) {
      s += encode(
          static_cast<char32_t>(uniform(0, 3) == 0 ? uniform(0, 0x7F) : uniform(0, kMaxCodePoint)));
    }
    for (std::uint64_t n = uniform(0, 2); n > 0 && !s.empty(); --n) {
      s[uniform(0, s.size() - 1)] = static_cast<char>(uniform(0x80, 0xFF));
    }
    if (uniform(0, 3) == 0 && !s.empty()) s.resize(uniform(0, s.size() - 1));
    out.push_back(s);
  }
  return out;
}

TEST(Unicode, ScanMatchesPythonSurrogatepassDecoder) {
  OURO_REQUIRE_PYTHON();
  auto strings = utf8_probe_strings();
  std::string input;
  for (const auto& s : strings) input += to_hex(s) + "\n";
  auto lines = python_lines(
      "import sys\n"
      "for line in sys.stdin:\n"
      "    try:\n"
      "        print('ok', len(bytes.fromhex(line.strip()).decode('utf-8', 'surrogatepass')))\n"
      "    except UnicodeDecodeError as e:\n"
      "        print('error', e.start)\n",
      input);
  ASSERT_EQ(lines.size(), strings.size());
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < strings.size(); ++i) {
    Utf8Scan scan = scan_utf8(strings[i]);
    std::string ours = scan.valid ? fmt::format("ok {}", scan.code_points)
                                  : fmt::format("error {}", scan.error_offset);
    if (ours != lines[i] && ++mismatches <= 20) {
      ADD_FAILURE() << "bytes " << to_hex(strings[i]) << ": ours " << ours << ", python "
                    << lines[i];
    }
  }
  EXPECT_EQ(mismatches, 0u) << "of " << strings.size();
}

TEST(StrRepr, MatchesPythonForEveryCodePoint) {
  OURO_REQUIRE_PYTHON();
  std::vector<std::string> strings;
  for (char32_t start = 0; start <= kMaxCodePoint; start += 64) {
    std::string s;
    for (char32_t cp = start; cp < start + 64 && cp <= kMaxCodePoint; ++cp) s += encode(cp);
    strings.push_back(s);
  }
  expect_str_reprs_match(strings);
}

TEST(StrRepr, MatchesPythonOnQuotesEscapesAndSurrogates) {
  OURO_REQUIRE_PYTHON();
  static const char32_t kInteresting[] = {
      '\'',   '"',    '\\',   '\t',    '\n',    '\r',    0,       0x1F,    ' ',    '~',
      0x7F,   0x80,   0x9F,   0xA0,    0xAD,    0xE9,    0xFF,    0x100,   0x300,  0x85,
      0x2028, 0x2029, 0x200B, 0x3000,  0xD800,  0xDBFF,  0xDC00,  0xDFFF,  0xE000, 0xF8FF,
      0xFEFF, 0xFFFD, 0xFFFF, 0x10000, 0x1F600, 0xE0001, 0xF0000, 0x10FFFF};
  std::vector<std::string> strings = {"", "'", "\"", "'\"", "\"'", "it's", "say \"hi\"", "\\"};
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    for (std::uint64_t n = uniform(0, 12); n > 0; --n) {
      switch (uniform(0, 3)) {
        case 0:
          s += encode(kInteresting[uniform(0, std::size(kInteresting) - 1)]);
          break;
        case 1:
          s += encode(static_cast<char32_t>(uniform(0, 0x7F)));
          break;
        case 2:
          s += encode(static_cast<char32_t>(uniform(0xD800, 0xDFFF)));
          break;
        default:
          s += encode(static_cast<char32_t>(uniform(0, kMaxCodePoint)));
          break;
      }
    }
    strings.push_back(s);
  }
  expect_str_reprs_match(strings);
}

TEST(StrRepr, DocumentedExamples) {
  EXPECT_EQ(str_repr("it's\n"), "\"it's\\n\"");
  EXPECT_EQ(str_repr("\xed\xa0\x80"), "'\\ud800'");
  EXPECT_EQ(str_repr("'\""), "'\\'\"'");
  EXPECT_EQ(str_repr("caf\xc3\xa9"), "'caf\xc3\xa9'");
}

TEST(BytesRepr, MatchesPythonForBytesAndBytearray) {
  OURO_REQUIRE_PYTHON();
  std::vector<std::string> values = {"", "'", "\"", "'\"", "\"'"};
  for (int b = 0; b < 256; ++b) values.push_back(std::string(1, static_cast<char>(b)));
  for (int i = 0; i < 10000; ++i) {
    std::string s;
    for (std::uint64_t n = uniform(0, 30); n > 0; --n) {
      s += uniform(0, 3) == 0 ? "'\"\\\t\n\r\x7f"[uniform(0, 7)]
                              : static_cast<char>(uniform(0, 255));
    }
    values.push_back(s);
  }
  std::string input;
  for (const auto& v : values) input += to_hex(v) + "\n";
  auto lines = python_lines(
      "import sys\n"
      "for line in sys.stdin:\n"
      "    b = bytes.fromhex(line.strip())\n"
      "    print(repr(b))\n"
      "    print(repr(bytearray(b)))\n",
      input);
  ASSERT_EQ(lines.size(), 2 * values.size());
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    auto bytes = std::as_bytes(std::span(values[i].data(), values[i].size()));
    for (bool bytearray : {false, true}) {
      std::string ours = bytes_repr(bytes, bytearray);
      const std::string& expected = lines[2 * i + (bytearray ? 1 : 0)];
      if (ours != expected && ++mismatches <= 20)
        ADD_FAILURE() << "ours " << ours << ", python " << expected;
    }
  }
  EXPECT_EQ(mismatches, 0u) << "of " << 2 * values.size();
  EXPECT_EQ(from_hex(to_hex("\x01\xff")), "\x01\xff");
}

}  // namespace
}  // namespace ouro::value::detail
