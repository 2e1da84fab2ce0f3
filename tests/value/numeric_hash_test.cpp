// numeric_hash: hash() of ints, big ints, floats (NaN by identity) and tuples of numbers,
// and of str and bytes under PYTHONHASHSEED=0 (the oracle runs python3 with it), compared
// with python3's values on a 64-bit build.
#include "value/numeric_hash.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <utility>

#include "value/unicode.h"
#include "value_oracle.h"

namespace ouro::value::detail {
namespace {

using ouro::value::testing::python_lines;
using ouro::value::testing::rng;
using ouro::value::testing::uniform;

/// Compares each of `ours` with the line Python prints for the matching input line.
void expect_lines_match(const std::string& script, const std::vector<std::string>& inputs,
                        const std::vector<HashValue>& ours) {
  std::string input;
  for (const auto& line : inputs) input += line + "\n";
  auto lines = python_lines(script, input);
  ASSERT_EQ(lines.size(), inputs.size());
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (std::to_string(ours[i]) != lines[i] && ++mismatches <= 20) {
      ADD_FAILURE() << "input " << inputs[i].substr(0, 200) << ": ours " << ours[i] << ", python "
                    << lines[i];
    }
  }
  EXPECT_EQ(mismatches, 0u) << "of " << inputs.size();
}

std::int64_t random_int64() { return static_cast<std::int64_t>(rng()()) >> uniform(0, 63); }

TEST(NumericHash, Int64MatchesPython) {
  OURO_REQUIRE_PYTHON();
  constexpr std::int64_t kP = static_cast<std::int64_t>(kHashModulus);
  std::vector<std::int64_t> values = {0,
                                      1,
                                      -1,
                                      -2,
                                      2,
                                      kP,
                                      kP - 1,
                                      kP + 1,
                                      -kP,
                                      2 * kP,
                                      -2 * kP - 1,
                                      std::numeric_limits<std::int64_t>::max(),
                                      std::numeric_limits<std::int64_t>::min()};
  for (int i = 0; i < 20000; ++i) values.push_back(random_int64());
  std::vector<std::string> inputs;
  std::vector<HashValue> ours;
  for (auto v : values) {
    inputs.push_back(std::to_string(v));
    ours.push_back(hash_int64(v));
  }
  expect_lines_match("import sys\nfor line in sys.stdin: print(hash(int(line)))\n", inputs, ours);
}

TEST(NumericHash, BigIntMatchesPython) {
  OURO_REQUIRE_PYTHON();
  std::vector<std::string> inputs;
  std::vector<HashValue> ours;
  for (int i = 0; i < 10000; ++i) {
    std::vector<Limb> limbs(uniform(0, i % 10 == 0 ? 200 : 4));
    for (Limb& l : limbs) l = i % 3 == 0 ? ~Limb{0} : rng()();  // all-ones stress the reduction
    limbs.resize(normalized_size(limbs));
    LimbsView view{limbs, !limbs.empty() && uniform(0, 1) == 1};
    std::string hex = view.negative ? "-0" : "0";
    for (std::size_t k = limbs.size(); k-- > 0;) hex += fmt::format("{:016x}", limbs[k]);
    inputs.push_back(hex);
    ours.push_back(hash_bigint(view));
  }
  expect_lines_match("import sys\nfor line in sys.stdin: print(hash(int(line, 16)))\n", inputs,
                     ours);
}

TEST(NumericHash, DoubleMatchesPython) {
  OURO_REQUIRE_PYTHON();
  using Limits = std::numeric_limits<double>;
  std::vector<double> values = {0.0,
                                -0.0,
                                1.0,
                                -1.0,
                                0.5,
                                -0.5,
                                1.5,
                                Limits::infinity(),
                                -Limits::infinity(),
                                Limits::max(),
                                Limits::min(),
                                Limits::denorm_min(),
                                std::ldexp(1.0, 61),
                                std::ldexp(1.0, -61),
                                std::ldexp(1.0, 122),
                                static_cast<double>(kHashModulus)};
  for (int i = 0; i < 20000; ++i) {
    double d = std::bit_cast<double>(rng()());
    if (i % 3 == 0) d = static_cast<double>(random_int64());
    if (std::isfinite(d)) values.push_back(d);
  }
  std::vector<std::string> inputs;
  std::vector<HashValue> ours;
  for (double d : values) {
    inputs.push_back(fmt::format("{:016x}", std::bit_cast<std::uint64_t>(d)));
    ours.push_back(hash_double(d, 0));
  }
  expect_lines_match(
      "import sys, struct\n"
      "for line in sys.stdin: print(hash(struct.unpack('>d', bytes.fromhex(line.strip()))[0]))\n",
      inputs, ours);
}

TEST(NumericHash, NanAndObjectsHashByIdentity) {
  OURO_REQUIRE_PYTHON();
  auto lines = python_lines(
      "objs = [float('nan') for _ in range(2000)] + [object() for _ in range(2000)]\n"
      "for o in objs: print(id(o), hash(o))\n",
      "");
  ASSERT_EQ(lines.size(), 4000u);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::uintptr_t id = std::stoull(lines[i].substr(0, lines[i].find(' ')));
    HashValue expected = std::stoll(lines[i].substr(lines[i].find(' ') + 1));
    HashValue ours =
        i < 2000 ? hash_double(std::numeric_limits<double>::quiet_NaN(), id) : hash_pointer(id);
    ASSERT_EQ(ours, expected) << lines[i];
  }
}

TEST(NumericHash, EqualNumbersHashEqualAcrossTypes) {
  for (int i = 0; i < 100000; ++i) {
    std::int64_t v = random_int64();
    auto d = static_cast<double>(v);
    if (d >= 0x1p63 || static_cast<std::int64_t>(d) != v) continue;  // not exactly equal
    ASSERT_EQ(hash_double(d, 0), hash_int64(v)) << v;
    std::array<Limb, kInt64Limbs> limbs{};
    LimbsResult r = from_int64(v, limbs);
    ASSERT_EQ(hash_bigint({std::span(limbs).first(r.size), r.negative}), hash_int64(v)) << v;
  }
  EXPECT_EQ(hash_int64(true), 1);
  EXPECT_EQ(hash_int64(-1), -2);
  EXPECT_EQ(hash_double(-1.0, 0), -2);
}

/// A random tuple: its Python source and the hash we compute for it.
std::pair<std::string, HashValue> random_tuple(int depth);

std::pair<std::string, HashValue> random_item(int depth) {
  switch (uniform(0, depth > 0 ? 5 : 4)) {
    case 0: {
      std::int64_t v = random_int64();
      return {std::to_string(v), hash_int64(v)};
    }
    case 1: {
      bool b = uniform(0, 1) == 1;
      return {b ? "True" : "False", hash_int64(b)};
    }
    case 2: {
      double d = uniform(0, 1) ? static_cast<double>(random_int64() >> 20)
                               : std::bit_cast<double>(rng()());
      if (std::isnan(d)) d = std::numeric_limits<double>::infinity();
      return {fmt::format("float.fromhex('{:a}')", d), hash_double(d, 0)};
    }
    case 3: {
      std::vector<Limb> limbs = {rng()(), rng()(), rng()() | 1};
      std::string text = fmt::format("-0x{:016x}{:016x}{:016x}", limbs[2], limbs[1], limbs[0]);
      return {text, hash_bigint({limbs, true})};
    }
    case 4:
      return {"-1", hash_int64(-1)};  // the -1 -> -2 rule inside tuples
    default:
      return random_tuple(depth - 1);
  }
}

std::pair<std::string, HashValue> random_tuple(int depth) {
  TupleHasher hasher;
  std::string text = "(";
  std::uint64_t n = uniform(0, 6);
  for (std::uint64_t i = 0; i < n; ++i) {
    auto [item_text, item_hash] = random_item(depth);
    text += item_text + ",";
    hasher.add(item_hash);
  }
  return {text + ")", hasher.finish()};
}

TEST(NumericHash, TupleHashMatchesPython) {
  OURO_REQUIRE_PYTHON();
  std::vector<std::string> inputs = {"()"};
  std::vector<HashValue> ours = {hash_tuple({})};
  for (int i = 0; i < 10000; ++i) {
    auto [text, hash] = random_tuple(3);
    inputs.push_back(text);
    ours.push_back(hash);
  }
  std::vector<HashValue> items = {hash_int64(1), hash_double(2.5, 0)};
  inputs.push_back("(1, 2.5)");
  ours.push_back(hash_tuple(items));
  expect_lines_match("import sys\nfor line in sys.stdin: print(hash(eval(line)))\n", inputs, ours);
}

std::string hex(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) out += fmt::format("{:02x}", c);
  return out;
}

/// A random str as UTF-8 whose widest code point is in `band` (0: ASCII, 1: latin-1,
/// 2: BMP with lone surrogates, 3: astral), so that every PEP 393 width is hashed.
std::string random_text(int band, std::size_t length) {
  static constexpr char32_t kTop[] = {0x7F, 0xFF, 0xFFFF, 0x10FFFF};
  std::string out;
  for (std::size_t i = 0; i < length; ++i) {
    auto cp = static_cast<char32_t>(uniform(0, static_cast<int>(kTop[band])));
    if (i == 0 && band > 0) cp = kTop[band];  // make the band's width certain
    char buffer[4];
    out.append(buffer, encode_code_point(cp, std::span<char, 4>(buffer)));
  }
  return out;
}

TEST(NumericHash, StrAndBytesMatchPythonWithHashSeedZero) {
  OURO_REQUIRE_PYTHON();
  std::vector<std::string> texts = {
      "",          "a",        "abc",      "abcdefg",          "abcdefgh",
      "abcdefghi", "\xc3\xa9", "\xc4\x95", "\xf0\x9f\x98\x80", "\xed\xa0\x80"};
  for (int i = 0; i < 2000; ++i) {
    texts.push_back(random_text(i % 4, static_cast<std::size_t>(uniform(0, 40))));
  }
  std::vector<std::string> inputs;
  std::vector<HashValue> ours;
  for (const std::string& t : texts) {
    bool ascii = std::all_of(t.begin(), t.end(), [](char c) { return (c & 0x80) == 0; });
    inputs.push_back("s " + hex(t));
    ours.push_back(hash_str_seed0(t, ascii));
    inputs.push_back("b " + hex(t));
    ours.push_back(hash_bytes_seed0(std::as_bytes(std::span(t.data(), t.size()))));
  }
  expect_lines_match(
      "import sys\n"
      "for line in sys.stdin:\n"
      "    kind, data = line.split(' ', 1)\n"
      "    b = bytes.fromhex(data.strip())\n"
      "    print(hash(b.decode('utf-8', 'surrogatepass') if kind == 's' else b))\n",
      inputs, ours);
}

}  // namespace
}  // namespace ouro::value::detail
