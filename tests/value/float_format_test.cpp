// float_format: repr(float) and the FLOAT-opcode parser against python3 as the oracle.
#include "value/float_format.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "value_oracle.h"

namespace ouro::value::detail {
namespace {

using ouro::value::testing::python_lines;
using ouro::value::testing::rng;
using ouro::value::testing::to_hex;
using ouro::value::testing::uniform;

std::string bits_hex(double x) { return fmt::format("{:016x}", std::bit_cast<std::uint64_t>(x)); }

/// Edge values: zeros, infinities, NaN, subnormal and normal limits, the switch points of
/// the exponent layout (1e16, 1e-4) with their neighbours, and every power of ten.
std::vector<double> edge_doubles() {
  using Limits = std::numeric_limits<double>;
  std::vector<double> v = {0.0,
                           -0.0,
                           Limits::infinity(),
                           -Limits::infinity(),
                           Limits::quiet_NaN(),
                           -Limits::quiet_NaN(),
                           Limits::denorm_min(),
                           -Limits::denorm_min(),
                           Limits::min(),
                           Limits::max(),
                           -Limits::max(),
                           Limits::epsilon(),
                           std::nextafter(Limits::min(), 0.0),
                           0.1,
                           0.2,
                           0.3,
                           1.0 / 3,
                           2.0 / 3,
                           123.0,
                           1e15,
                           9999999999999998.0,
                           1e16,
                           1.5e300,
                           5e-324,
                           1e-5,
                           1e-4,
                           0.0001,
                           0.00012,
                           1e22,
                           1e23,
                           9007199254740992.0,
                           9007199254740993.0};
  for (int k = -325; k <= 309; ++k) {
    double p = std::pow(10.0, k);
    for (double x : {p, std::nextafter(p, 0.0), std::nextafter(p, Limits::infinity())}) {
      v.push_back(x);
      v.push_back(-x);
      v.push_back(x * 1.5);
      v.push_back(x * 9.999999999999999);
    }
  }
  for (int e = -1074; e <= 1023; ++e) v.push_back(std::ldexp(1.0, e));
  return v;
}

/// Random doubles: raw bit patterns, subnormals, integers and short decimal fractions.
std::vector<double> random_doubles(std::size_t count) {
  std::vector<double> v;
  for (std::size_t i = 0; i < count; ++i) {
    switch (i % 5) {
      case 0:
        v.push_back(std::bit_cast<double>(rng()()));
        break;
      case 1:
        v.push_back(std::bit_cast<double>(uniform(0, (std::uint64_t{1} << 52) - 1)));
        break;
      case 2:
        v.push_back(static_cast<double>(static_cast<std::int64_t>(rng()()) >> uniform(0, 63)));
        break;
      case 3:
        v.push_back(static_cast<double>(uniform(0, 999999)) / std::pow(10.0, uniform(0, 25)));
        break;
      default:
        v.push_back(static_cast<double>(uniform(1, 99999)) * std::pow(10.0, uniform(0, 30)));
        break;
    }
  }
  return v;
}

TEST(FloatRepr, MatchesPythonOnEdgeAndRandomValues) {
  OURO_REQUIRE_PYTHON();
  std::vector<double> values = edge_doubles();
  auto random = random_doubles(30000);
  values.insert(values.end(), random.begin(), random.end());
  std::string input;
  for (double x : values) input += bits_hex(x) + "\n";
  auto lines = python_lines(
      "import sys, struct\n"
      "for line in sys.stdin:\n"
      "    print(repr(struct.unpack('>d', bytes.fromhex(line.strip()))[0]))\n",
      input);
  ASSERT_EQ(lines.size(), values.size());
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (float_repr(values[i]) != lines[i] && ++mismatches <= 20) {
      ADD_FAILURE() << "bits " << bits_hex(values[i]) << ": ours " << float_repr(values[i])
                    << ", python " << lines[i];
    }
  }
  EXPECT_EQ(mismatches, 0u) << "of " << values.size();
}

TEST(FloatRepr, WriteFormMatchesStringFormAndLayoutRules) {
  std::array<char, kFloatReprCapacity> buffer{};
  EXPECT_EQ(std::string_view(buffer.data(), write_float_repr(-2.2250738585072014e-308, buffer)),
            "-2.2250738585072014e-308");
  EXPECT_EQ(float_repr(1e16), "1e+16");
  EXPECT_EQ(float_repr(1e-5), "1e-05");
  EXPECT_EQ(float_repr(1.5e300), "1.5e+300");
  EXPECT_EQ(float_repr(123.0), "123.0");
  EXPECT_EQ(float_repr(-0.0), "-0.0");
  EXPECT_EQ(float_repr(-std::numeric_limits<double>::quiet_NaN()), "nan");
  EXPECT_EQ(float_repr(-std::numeric_limits<double>::infinity()), "-inf");
}

TEST(FloatParse, ReadsBackEveryReprExactly) {
  for (double x : random_doubles(50000)) {
    auto parsed = parse_float(float_repr(x));
    ASSERT_TRUE(parsed.has_value()) << float_repr(x);
    if (std::isnan(x)) {
      EXPECT_TRUE(std::isnan(*parsed));
    } else {
      EXPECT_EQ(bits_hex(*parsed), bits_hex(x)) << float_repr(x);
    }
  }
}

/// A random decimal literal, then sometimes damaged, to probe the grammar's edges.
std::string random_float_text() {
  static const std::vector<std::string> kFixed = {"inf",
                                                  "-inf",
                                                  "+inf",
                                                  "Infinity",
                                                  "-iNfInItY",
                                                  "nan",
                                                  "-nan",
                                                  "+NaN",
                                                  "infinit",
                                                  "in",
                                                  "na",
                                                  "nann",
                                                  "1e",
                                                  "1e+",
                                                  "1e-",
                                                  ".e1",
                                                  ".",
                                                  "+",
                                                  "-",
                                                  "+-1",
                                                  "--1",
                                                  "-.5",
                                                  "5.",
                                                  ".5",
                                                  "5.e3",
                                                  "1e5000",
                                                  "-1e5000",
                                                  "1e-5000",
                                                  "-1e-5000",
                                                  "0e999999999999999999999",
                                                  "1e309",
                                                  "1.8e308",
                                                  "1.7976931348623157e308",
                                                  "1.7976931348623158e308",
                                                  "1.7976931348623159e308",
                                                  "2e-324",
                                                  "3e-324",
                                                  "2.4703282292062327e-324",
                                                  "2.4703282292062328e-324",
                                                  "4.9e-324",
                                                  " 1.5",
                                                  "1.5 ",
                                                  "1_0",
                                                  "0x10",
                                                  "1,5",
                                                  "1.5.5",
                                                  "1e5.5",
                                                  "١",
                                                  "1e+0010",
                                                  "00000.00001",
                                                  "1E5",
                                                  "1d5",
                                                  "e5"};
  std::size_t pick = uniform(0, 9);
  if (pick == 0) return kFixed[uniform(0, kFixed.size() - 1)];
  std::string s;
  if (uniform(0, 2) == 0) s += "+-"[uniform(0, 1)];
  for (std::uint64_t n = uniform(0, pick == 1 ? 800 : 25); n > 0; --n)
    s += static_cast<char>('0' + uniform(0, 9));
  if (uniform(0, 1) == 0) {
    s += '.';
    for (std::uint64_t n = uniform(0, 25); n > 0; --n) s += static_cast<char>('0' + uniform(0, 9));
  }
  if (uniform(0, 1) == 0)
    s += fmt::format("{}{}", "eE"[uniform(0, 1)], static_cast<std::int64_t>(uniform(0, 800)) - 400);
  if (pick == 2 && !s.empty()) s[uniform(0, s.size() - 1)] = " _x.e+-"[uniform(0, 6)];
  return s;
}

TEST(FloatParse, MatchesPickleFloatOpcode) {
  OURO_REQUIRE_PYTHON();
  std::vector<std::string> texts;
  for (int i = 0; i < 20000; ++i) {
    std::string t = random_float_text();
    if (!t.empty()) texts.push_back(t);  // b'F\n' is "truncated", not a float error
  }
  std::string input;
  for (const auto& t : texts) input += to_hex(t) + "\n";
  auto lines = python_lines(
      "import sys, struct, pickle\n"
      "for line in sys.stdin:\n"
      "    try:\n"
      "        x = pickle.loads(b'F' + bytes.fromhex(line.strip()) + b'\\n.')\n"
      "        print('ok', struct.pack('>d', x).hex())\n"
      "    except OverflowError:\n"
      "        print('overflow')\n"
      "    except ValueError:\n"
      "        print('syntax')\n",
      input);
  ASSERT_EQ(lines.size(), texts.size());
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    FloatParse parsed = parse_float_checked(texts[i]);
    std::string ours = parsed.status == FloatParseStatus::kSyntax ? "syntax"
                       : parsed.status == FloatParseStatus::kOverflow
                           ? "overflow"
                           : "ok " + bits_hex(parsed.value);
    if (ours != lines[i] && ++mismatches <= 20) {
      ADD_FAILURE() << "text '" << texts[i] << "': ours " << ours << ", python " << lines[i];
    }
  }
  EXPECT_EQ(mismatches, 0u) << "of " << texts.size();
}

// The firmware reads decimal literals with strtod (from_chars' tables cost 17 KB of flash):
// the wrapper must agree with from_chars on every repr, on long literals past its stack
// copy, and on overflow and underflow (here through the host's strtod).
TEST(FloatParse, StrtodConversionAgreesWithFromChars) {
  std::vector<std::string> literals = {"1e400",
                                       "1e-400",
                                       "2.4703282292062328e-324",
                                       "4.9406564584124654e-324",
                                       "0." + std::string(300, '0') + "1",
                                       "1" + std::string(200, '0'),
                                       std::string(400, '9')};
  for (double x : edge_doubles()) {
    if (std::isfinite(x) && !std::signbit(x)) literals.push_back(float_repr(x));
  }
  for (double x : random_doubles(2000)) {
    if (std::isfinite(x) && !std::signbit(x)) literals.push_back(float_repr(x));
  }
  for (const std::string& literal : literals) {
    double from_chars_value = -1.0;
    double strtod_value = -1.0;
    const std::errc expected = decimal_to_double(literal, from_chars_value);
    ASSERT_EQ(decimal_to_double_strtod(literal, strtod_value), expected) << literal;
    EXPECT_EQ(bits_hex(strtod_value), bits_hex(from_chars_value)) << literal;
  }
  double untouched = -1.0;
  EXPECT_EQ(decimal_to_double_strtod("1e400", untouched), std::errc::result_out_of_range);
  EXPECT_EQ(untouched, -1.0);
  EXPECT_EQ(decimal_to_double_strtod("1x", untouched), std::errc::invalid_argument);
}

TEST(FloatParse, OverflowReadsAsInfinityLikeFloat) {
  EXPECT_EQ(parse_float("1e500"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(parse_float("-1e500"), -std::numeric_limits<double>::infinity());
  EXPECT_FALSE(parse_float("").has_value());
  EXPECT_FALSE(parse_float("1_0").has_value());
  EXPECT_TRUE(std::signbit(*parse_float("-1e-500")));
  EXPECT_TRUE(std::signbit(*parse_float("-nan")));
}

}  // namespace
}  // namespace ouro::value::detail
