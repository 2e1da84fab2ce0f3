// bigint: conversions, comparison and pickle's LONG encoding of big ints, each checked
// against python3's int on thousands of values (random widths up to beyond the 4300-digit
// limit, powers of 256 and 2^64, rounding boundaries of float(), the limit's edge).
#include "value/bigint.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>

#include "value_oracle.h"

namespace ouro::value::detail {
namespace {

using ouro::value::testing::from_hex;
using ouro::value::testing::python_lines;
using ouro::value::testing::rng;
using ouro::value::testing::to_hex;
using ouro::value::testing::uniform;

/// A test-owned integer: the limbs a LimbsView points into.
struct Int {
  std::vector<Limb> limbs;
  bool negative = false;
  LimbsView view() const { return {limbs, negative}; }
};

Int normalized(std::vector<Limb> limbs, bool negative) {
  limbs.resize(normalized_size(limbs));
  return {limbs, negative && !limbs.empty()};
}

/// limbs = limbs * factor + addend, factor and addend below 2^32 (schoolbook, 32-bit halves).
void multiply_add(std::vector<Limb>& limbs, std::uint32_t factor, std::uint32_t addend) {
  std::uint64_t carry = addend;
  for (Limb& limb : limbs) {
    std::uint64_t low = (limb & 0xFFFFFFFF) * factor + carry;
    std::uint64_t high = (limb >> 32) * factor + (low >> 32);
    limb = (low & 0xFFFFFFFF) | (high << 32);
    carry = high >> 32;
  }
  if (carry != 0) limbs.push_back(carry);
}

Int power_of_ten(int k, int offset, bool negative) {
  std::vector<Limb> limbs = {1};
  for (int i = 0; i < k; ++i) multiply_add(limbs, 10, 0);
  if (offset > 0) multiply_add(limbs, 1, static_cast<std::uint32_t>(offset));
  if (offset < 0) limbs[0] -= static_cast<Limb>(-offset);  // 10^k with k >= 1 ends in ...0 bits
  return normalized(limbs, negative);
}

/// 2^bits + delta (delta in {-1, 0, 1}) as magnitude.
Int power_of_two(std::size_t bits, int delta, bool negative) {
  std::vector<Limb> limbs(bits / 64 + 1, 0);
  limbs[bits / 64] = Limb{1} << (bits % 64);
  if (delta > 0) limbs[0] += 1;
  if (delta < 0) {
    for (Limb& l : limbs) {
      if (l-- != 0) break;  // borrow through the zero limbs
    }
  }
  return normalized(limbs, negative);
}

/// `top` shifted left by `shift` bits, plus 1 when `sticky`: probes float() rounding.
Int shifted(std::uint64_t top, std::size_t shift, bool sticky, bool negative) {
  std::vector<Limb> limbs(shift / 64 + 2, 0);
  limbs[shift / 64] = top << (shift % 64);
  if (shift % 64 != 0) limbs[shift / 64 + 1] = top >> (64 - shift % 64);
  if (sticky) limbs[0] |= 1;
  return normalized(limbs, negative);
}

Int random_int(std::size_t max_limbs) {
  std::vector<Limb> limbs(uniform(0, max_limbs));
  for (Limb& l : limbs) l = rng()();
  if (!limbs.empty()) limbs.back() >>= uniform(0, 63);
  return normalized(limbs, uniform(0, 1) == 1);
}

std::vector<Int> probe_ints() {
  std::vector<Int> v;
  for (bool neg : {false, true}) {
    for (std::size_t k = 0; k <= 48; ++k) {
      for (int d : {-1, 0, 1}) {
        v.push_back(power_of_two(8 * k, d, neg));                 // powers of 256
        if (k > 0) v.push_back(power_of_two(8 * k - 1, d, neg));  // sign-bit boundaries
      }
    }
    for (std::size_t bits : {61u, 62u, 63u, 64u, 122u, 127u, 128u, 1023u, 1024u, 1025u}) {
      for (int d : {-1, 0, 1}) v.push_back(power_of_two(bits, d, neg));
    }
    // 9, 18, 27 and 36: the portable backend's 9-digit group boundaries (inner zeros).
    for (int k : {0, 1, 9, 18, 19, 20, 27, 36, 4298, 4299, 4300, 4301}) {
      for (int d : {-1, 0, 1}) v.push_back(power_of_ten(k, d, neg));
    }
    // Around the largest double: (2^53 - 1) * 2^971 rounds down, 2^1024 - 2^970 overflows.
    v.push_back(shifted((Limb{1} << 54) - 1, 970, false, neg));
    v.push_back(shifted((Limb{1} << 54) - 1, 970, true, neg));
    v.push_back(shifted((Limb{1} << 54) - 2, 970, true, neg));
  }
  for (int i = 0; i < 3000; ++i) {
    // Top 55 bits random, then nothing, a lone half bit, or a sticky bit further down.
    Limb top = (rng()() >> 9) | (Limb{1} << 54);
    if (uniform(0, 1) == 0) top &= ~Limb{1};
    v.push_back(shifted(top, uniform(0, 1000), uniform(0, 1) == 1, uniform(0, 1) == 1));
  }
  for (int i = 0; i < 3000; ++i) v.push_back(random_int(3));
  for (int i = 0; i < 1500; ++i) v.push_back(random_int(40));
  for (int i = 0; i < 300; ++i) v.push_back(random_int(260));
  return v;
}

std::string to_hex_literal(const Int& x) {
  if (x.limbs.empty()) return "0";
  std::string s = x.negative ? "-" : "";
  s += fmt::format("{:x}", x.limbs.back());
  for (std::size_t i = x.limbs.size() - 1; i-- > 0;) s += fmt::format("{:016x}", x.limbs[i]);
  return s;
}

std::string double_bits(double d) {
  return fmt::format("{:016x}", std::bit_cast<std::uint64_t>(d));
}

/// Python prints, per int: pickle bytes | str or LIMIT | float bits or OVF | bit_length |
/// int64 or NONE | |n| mod 2^61-1 | |n| mod 1000003 | |n| mod 2^64-59 | cmp(n, previous).
/// (The three moduli take the three paths of the portable backend's remainder: above
/// 2^32, below it, and above 2^63 where doubling the remainder overflows 64 bits.)
constexpr const char* kIntScript = R"(import sys, struct, pickle
prev = 0
for line in sys.stdin:
    n = int(line, 16)
    f = []
    f.append(pickle.encode_long(n).hex())
    try:
        f.append(str(n))
    except ValueError as e:
        f.append('LIMIT ' + str(e))
    try:
        f.append(struct.pack('>d', float(n)).hex())
    except OverflowError as e:
        f.append('OVF ' + str(e))
    f.append(str(n.bit_length()))
    f.append(str(n) if -2**63 <= n < 2**63 else 'NONE')
    f.append(str(abs(n) % (2**61 - 1)))
    f.append(str(abs(n) % 1000003))
    f.append(str(abs(n) % (2**64 - 59)))
    f.append(str((n > prev) - (n < prev)))
    prev = n
    print('|'.join(f))
)";

/// Our answers in the oracle's format, checking the round trips on the way.
std::string our_fields(const Int& x, const Int& previous) {
  std::vector<std::byte> encoded(twos_complement_size(x.view()));
  to_twos_complement(x.view(), encoded);
  std::string_view raw(reinterpret_cast<const char*>(encoded.data()), encoded.size());
  std::string out = to_hex(raw);
  std::string decimal;
  try {
    decimal = to_decimal(x.view());
  } catch (const ValueError& e) {
    decimal = std::string("LIMIT ") + e.what();
  }
  out += "|" + decimal;
  try {
    out += "|" + double_bits(to_double(x.view()));
  } catch (const OverflowError& e) {
    out += std::string("|OVF ") + e.what();
  }
  auto small = to_int64(x.view());
  out += fmt::format("|{}|{}|{}|{}|{}|{}", bit_length(x.view()),
                     small ? std::to_string(*small) : "NONE",
                     magnitude_mod(x.view(), (Limb{1} << 61) - 1), magnitude_mod(x.view(), 1000003),
                     magnitude_mod(x.view(), ~Limb{0} - 58), compare(x.view(), previous.view()));
  return out;
}

TEST(BigInt, ConversionsMatchPythonInt) {
  OURO_REQUIRE_PYTHON();
  auto values = probe_ints();
  std::string input;
  for (const auto& x : values) input += to_hex_literal(x) + "\n";
  auto lines = python_lines(kIntScript, input);
  ASSERT_EQ(lines.size(), values.size());
  std::size_t mismatches = 0, limit_errors = 0, overflows = 0;
  Int previous;
  for (std::size_t i = 0; i < values.size(); ++i) {
    ASSERT_TRUE(is_normalized(values[i].view()));
    std::string ours = our_fields(values[i], previous);
    if (ours != lines[i] && ++mismatches <= 10) {
      ADD_FAILURE() << "int 0x" << to_hex_literal(values[i]) << "\nours   " << ours.substr(0, 400)
                    << "\npython " << lines[i].substr(0, 400);
    }
    previous = values[i];
    limit_errors += lines[i].find("|LIMIT ") != std::string::npos;
    overflows += lines[i].find("|OVF ") != std::string::npos;
  }
  EXPECT_EQ(mismatches, 0u) << "of " << values.size();
  EXPECT_GT(limit_errors, 50u) << "the probe must reach past the 4300-digit limit";
  EXPECT_GT(overflows, 50u) << "the probe must reach past the double range";
}

/// Reads `text` back with from_decimal() and from_twos_complement() and expects `x`.
void expect_round_trips(const Int& x) {
  std::vector<std::byte> encoded(twos_complement_size(x.view()));
  to_twos_complement(x.view(), encoded);
  // pickle accepts non-minimal encodings: pad with sign bytes.
  encoded.push_back(x.negative ? std::byte{0xFF} : std::byte{0});
  std::vector<Limb> limbs(twos_complement_limbs(encoded.size()));
  LimbsResult r = from_twos_complement(encoded, limbs);
  EXPECT_EQ(compare({std::span(limbs).first(r.size), r.negative}, x.view()), 0)
      << to_hex_literal(x);
  if (bit_length(x.view()) > 14000) return;  // beyond the decimal limit
  std::string text = to_decimal(x.view());
  std::vector<Limb> parsed(decimal_limbs(text));
  auto p = from_decimal(text, parsed);
  ASSERT_TRUE(p.has_value()) << text;
  EXPECT_EQ(compare({std::span(parsed).first(p->size), p->negative}, x.view()), 0) << text;
}

TEST(BigInt, BytesAndDecimalRoundTrip) {
  for (const Int& x : probe_ints()) expect_round_trips(x);
}

TEST(BigInt, DocumentedPickleEncodings) {
  auto encode = [](std::int64_t v) {
    std::array<Limb, kInt64Limbs> limbs{};
    LimbsResult r = from_int64(v, limbs);
    LimbsView view{std::span(limbs).first(r.size), r.negative};
    std::vector<std::byte> out(twos_complement_size(view));
    to_twos_complement(view, out);
    return to_hex(std::string_view(reinterpret_cast<const char*>(out.data()), out.size()));
  };
  EXPECT_EQ(encode(0), "");
  EXPECT_EQ(encode(255), "ff00");
  EXPECT_EQ(encode(-256), "00ff");
  EXPECT_EQ(encode(-128), "80");
  EXPECT_EQ(encode(std::numeric_limits<std::int64_t>::min()), "0000000000000080");
}

/// Literals for int(): spacing, signs, underscores, junk, and digit counts at the limit.
std::vector<std::string> decimal_texts() {
  std::vector<std::string> v = {"",
                                " ",
                                "0",
                                "-0",
                                "+0",
                                "00",
                                "_1",
                                "1_",
                                "1__0",
                                "1_0",
                                "+ 1",
                                "--1",
                                "+-1",
                                " \t\n\v\f\r12 \r\n",
                                "1\x1c",
                                "\x1c"
                                "1",
                                "1 2",
                                "0x10",
                                "١",
                                "1.0",
                                "1e3",
                                "-",
                                "+",
                                "9223372036854775808",
                                "-9223372036854775809",
                                std::string(4300, '9'),
                                "-" + std::string(4300, '9'),
                                std::string(4301, '1'),
                                std::string(4301, '0'),
                                "-" + std::string(4301, '0'),
                                std::string(5000, '1') + "x",
                                "x" + std::string(5000, '1'),
                                std::string(5000, '1') + "__1",
                                std::string(4300, '1') + "_1",
                                " " + std::string(5000, '7') + " ",
                                "1" + std::string(4299, '0') + "_"};
  for (int i = 0; i < 6000; ++i) {
    std::string s;
    if (uniform(0, 3) == 0) s += " \t"[uniform(0, 1)];
    if (uniform(0, 2) == 0) s += "+-"[uniform(0, 1)];
    std::uint64_t digits = uniform(0, 3) == 0 ? uniform(4290, 4310) : uniform(1, 60);
    for (std::uint64_t d = 0; d < digits; ++d) {
      s += static_cast<char>('0' + uniform(0, 9));
      if (uniform(0, 40) == 0) s += '_';
    }
    if (uniform(0, 5) == 0) s.insert(uniform(0, s.size()), 1, " _x-"[uniform(0, 3)]);
    if (uniform(0, 3) == 0) s += " \n"[uniform(0, 1)];
    v.push_back(s);
  }
  return v;
}

TEST(BigInt, FromDecimalMatchesPythonIntOfBytes) {
  OURO_REQUIRE_PYTHON();
  auto texts = decimal_texts();
  std::string input;
  for (const auto& t : texts) input += to_hex(t) + "\n";
  auto lines = python_lines(R"(import sys
for line in sys.stdin:
    try:
        n = int(bytes.fromhex(line.strip()))
        print(('-' if n < 0 else '') + hex(abs(n))[2:])
    except ValueError as e:
        print('LIMIT ' + str(e) if 'Exceeds' in str(e) else 'INVALID')
)",
                            input);
  ASSERT_EQ(lines.size(), texts.size());
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    std::vector<Limb> limbs(decimal_limbs(texts[i]));
    std::string ours;
    try {
      auto r = from_decimal(texts[i], limbs);
      ours = r ? to_hex_literal(
                     Int{{limbs.begin(), limbs.begin() + static_cast<std::ptrdiff_t>(r->size)},
                         r->negative})
               : "INVALID";
    } catch (const ValueError& e) {
      ours = std::string("LIMIT ") + e.what();
    }
    if (ours != lines[i] && ++mismatches <= 10) {
      ADD_FAILURE() << "text '" << texts[i].substr(0, 80) << "': ours " << ours.substr(0, 200)
                    << ", python " << lines[i].substr(0, 200);
    }
  }
  EXPECT_EQ(mismatches, 0u) << "of " << texts.size();
}

TEST(BigInt, FromDoubleMatchesPythonInt) {
  OURO_REQUIRE_PYTHON();
  std::vector<double> values = {0.0,
                                -0.0,
                                0.5,
                                -0.999,
                                1.0,
                                -1.0,
                                1e19,
                                18446744073709551615.0,
                                18446744073709551616.0,
                                -9223372036854775808.0,
                                std::numeric_limits<double>::max(),
                                -std::numeric_limits<double>::max(),
                                std::numeric_limits<double>::denorm_min()};
  for (int i = 0; i < 20000; ++i) {
    double d = std::bit_cast<double>(rng()());
    if (std::isfinite(d))
      values.push_back(i % 2 ? d
                             : std::ldexp(1.0 + std::ldexp(static_cast<double>(rng()() >> 12), -52),
                                          static_cast<int>(uniform(0, 140))));
  }
  std::string input;
  for (double d : values) input += double_bits(d) + "\n";
  auto lines = python_lines(R"(import sys, struct
for line in sys.stdin:
    n = int(struct.unpack('>d', bytes.fromhex(line.strip()))[0])
    print(('-' if n < 0 else '') + hex(abs(n))[2:])
)",
                            input);
  ASSERT_EQ(lines.size(), values.size());
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    std::vector<Limb> limbs(kDoubleLimbs);
    LimbsResult r = from_double(values[i], limbs);
    limbs.resize(r.size);
    Int x{limbs, r.negative};
    ASSERT_TRUE(is_normalized(x.view()));
    if (to_hex_literal(x) != lines[i] && ++mismatches <= 10) {
      ADD_FAILURE() << double_bits(values[i]) << ": ours " << to_hex_literal(x) << ", python "
                    << lines[i];
    }
  }
  EXPECT_EQ(mismatches, 0u) << "of " << values.size();
  EXPECT_EQ(from_hex(to_hex("\x7f")), "\x7f");
}

}  // namespace
}  // namespace ouro::value::detail
