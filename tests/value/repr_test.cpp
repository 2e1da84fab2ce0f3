// repr() against python3 as the oracle: thousands of generated values — every scalar type
// (random float bit patterns, big ints, strs with surrogates and non-printables, bytes),
// nested containers, shared objects and recursive structures — are built in ouro and, from
// the same random choices, as Python source; python3 prints each repr and the two texts
// must be identical byte for byte.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cctype>
#include <cstring>
#include <map>
#include <sstream>
#include <vector>

#include "ouro/value/value.h"
#include "support/heap_fixture.h"
#include "value/value_oracle.h"

namespace ouro {
namespace {

using value::testing::python_lines;
using value::testing::to_hex;
using value::testing::uniform;

// Builds one random value in ouro and the Python statements that build the same value.
// Containers are bound to Python names (v0, v1, ...) so that they can be shared and made
// recursive after creation.
class Generator {
 public:
  explicit Generator(Heap& heap) : heap_(heap) {}
  std::string script;  // Python statements defining the values so far

  struct Made {
    Value value;
    std::string python;  // an expression or a name
  };

  Made any(int depth) {
    const auto kind = uniform(0, depth > 0 ? 12 : 6);
    switch (kind) {
      case 0:
        return scalar_simple();
      case 1:
        return small_or_big_int();
      case 2:
        return float_value();
      case 3:
      case 4:
        return str_value();
      case 5:
        return bytes_value(uniform(0, 3) == 0);
      case 6:
        return shared_or_scalar();
      case 7:
      case 8:
        return list_value(depth);
      case 9:
        return tuple_value(depth, false);
      case 10:
      case 11:
        return dict_value(depth);
      default:
        return set_value();
    }
  }

 private:
  Heap& heap_;
  std::vector<Made> named_;  // earlier containers, for sharing
  int names_ = 0;

  std::string bind(const std::string& expr) {
    std::string name = fmt::format("v{}", names_++);
    script += name + " = " + expr + "\n";
    return name;
  }

  Made scalar_simple() {
    switch (uniform(0, 2)) {
      case 0:
        return {Value(), "None"};
      case 1:
        return {Value(true), "True"};
      default:
        return {Value(false), "False"};
    }
  }

  Made small_or_big_int() {
    if (uniform(0, 1) == 0) {
      const auto n = static_cast<std::int64_t>(uniform(0, 2000)) - 1000;
      return {Value(n), std::to_string(n)};
    }
    std::vector<std::uint64_t> limbs(uniform(1, 4));
    std::string hex;
    for (auto& l : limbs) l = uniform(0, UINT64_MAX) >> uniform(0, 63);
    for (auto it = limbs.rbegin(); it != limbs.rend(); ++it) hex += fmt::format("{:016x}", *it);
    const bool negative = uniform(0, 1) == 1;
    return {Int::from_limbs(heap_, limbs, negative),
            fmt::format("{}0x{}", negative ? "-" : "", hex)};
  }

  Made float_value() {
    double x = 0;
    switch (uniform(0, 3)) {
      case 0: {
        const std::uint64_t bits = uniform(0, UINT64_MAX);
        std::memcpy(&x, &bits, sizeof x);
        break;
      }
      case 1:
        x = static_cast<double>(static_cast<std::int64_t>(uniform(0, 2000000)) - 1000000) / 1000.0;
        break;
      case 2:
        x = std::ldexp(1.0, static_cast<int>(uniform(0, 2100)) - 1075);
        break;
      default: {
        const double special[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, 1e16, 1e-5, 1e22, 0.1};
        x = special[uniform(0, 8)];
      }
    }
    std::uint64_t bits;
    std::memcpy(&bits, &x, sizeof x);
    return {Float::make(heap_, x), fmt::format("f(0x{:016x})", bits)};
  }

  Made str_value() {
    std::string utf8, python = "'";
    const std::size_t n = uniform(0, 8);
    for (std::size_t i = 0; i < n; ++i) {
      char32_t cp;
      switch (uniform(0, 5)) {
        case 0:
          cp = static_cast<char32_t>(uniform(0, 0x7f));
          break;
        case 1:
          cp = static_cast<char32_t>(uniform(0x80, 0x2ff));
          break;
        case 2:
          cp = static_cast<char32_t>(uniform(0xd800, 0xdfff));
          break;  // lone surrogates
        case 3:
          cp = static_cast<char32_t>(uniform(0, 0x10ffff));
          break;
        case 4:
          cp = U"'\"\\\n\t\r \x7f"[uniform(0, 8)];
          break;
        default:
          cp = static_cast<char32_t>(uniform('a', 'z'));
      }
      append_utf8(utf8, cp);
      python += fmt::format("\\U{:08x}", static_cast<std::uint32_t>(cp));
    }
    return {Str::make(heap_, utf8), python + "'"};
  }

  static void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  Made bytes_value(bool mutable_bytes) {
    std::string raw;
    const std::size_t n = uniform(0, 6);
    for (std::size_t i = 0; i < n; ++i) raw += static_cast<char>(uniform(0, 255));
    if (uniform(0, 3) == 0) raw += "'";
    if (uniform(0, 3) == 0) raw += "\"";
    const std::string py = fmt::format("bytes.fromhex('{}')", to_hex(raw));
    if (mutable_bytes) return {ByteArray::make(heap_, as_bytes(raw)), "bytearray(" + py + ")"};
    return {Bytes::make(heap_, as_bytes(raw)), py};
  }

  Made shared_or_scalar() {
    if (named_.empty() || uniform(0, 1) == 0) return scalar_simple();
    return named_[uniform(0, named_.size() - 1)];
  }

  // A hashable value for dict keys: scalars, strs, floats (NaN included), tuples of them.
  Made key(int depth) {
    switch (uniform(0, depth > 0 ? 5 : 4)) {
      case 0:
        return small_or_big_int();
      case 1:
        return float_value();
      case 2:
      case 3:
        return str_value();
      case 4:
        return uniform(0, 1) ? scalar_simple() : bytes_value(false);
      default:
        return tuple_value(depth - 1, true);
    }
  }

  std::vector<Made> items(int depth, std::size_t max) {
    std::vector<Made> out(uniform(0, max));
    for (Made& m : out) m = any(depth - 1);
    return out;
  }

  static std::string joined(const std::vector<Made>& parts) {
    std::string s;
    for (const Made& m : parts) s += m.python + ", ";
    return s;
  }

  Made remember(Made m) {
    named_.push_back(m);
    return m;
  }

  Made list_value(int depth) {
    std::vector<Made> parts = items(depth, 5);
    Ref<List> l = List::make(heap_);
    for (const Made& m : parts) l->append(m.value);
    Made made{Value(l), bind("[" + joined(parts) + "]")};
    if (uniform(0, 4) == 0) {  // recursive: l.append(l)
      l->append(made.value);
      script += made.python + ".append(" + made.python + ")\n";
    }
    return remember(made);
  }

  Made tuple_value(int depth, bool hashable) {
    std::vector<Made> parts(uniform(0, 4));
    for (Made& m : parts) m = hashable ? key(depth) : any(depth - 1);
    std::vector<Value> values;
    for (const Made& m : parts) values.push_back(m.value);
    return remember({Tuple::make(heap_, values), bind("(" + joined(parts) + ")")});
  }

  Made dict_value(int depth) {
    Ref<Dict> d = Dict::make(heap_);
    std::string py = "dict([";
    const std::size_t n = uniform(0, 5);
    for (std::size_t i = 0; i < n; ++i) {
      Made k = key(depth), v = any(depth - 1);
      d->set(k.value, v.value);
      py += "(" + k.python + ", " + v.python + "), ";
    }
    Made made{Value(d), bind(py + "])")};
    if (uniform(0, 4) == 0) {  // recursive: d['self'] = d
      d->set(Str::make(heap_, "self"), made.value);
      script += made.python + "['self'] = " + made.python + "\n";
    }
    return remember(made);
  }

  // Sets of distinct ints 0..7 in ascending order, at most 4: for those CPython's
  // hash-table order is ascending too, equal to ouro's insertion order.
  Made set_value() {
    std::vector<Value> values;
    std::string elems;
    for (int i = 0; i < 8; ++i) {
      if (values.size() < 4 && uniform(0, 2) == 0) {
        values.emplace_back(i);
        elems += std::to_string(i) + ", ";
      }
    }
    if (uniform(0, 1) == 0) {
      return {FrozenSet::make(heap_, values), bind("frozenset([" + elems + "])")};
    }
    Ref<Set> s = Set::make(heap_);
    for (const Value& v : values) s->add(v);
    return {Value(s), bind("set([" + elems + "])")};
  }
};

class ReprTest : public testing::HeapTest {};

TEST_F(ReprTest, GeneratedValuesPrintExactlyAsCPython) {
  OURO_REQUIRE_PYTHON();
  constexpr int kValues = 3000;
  Generator gen(heap());
  std::vector<Value> values;
  std::string script =
      "import struct, sys\n"
      "def f(bits): return struct.unpack('<d', bits.to_bytes(8, 'little'))[0]\n"
      "def out(v): sys.stdout.write(repr(v).encode('utf-8', 'surrogatepass').hex() + '\\n')\n";
  for (int i = 0; i < kValues; ++i) {
    Generator::Made m = gen.any(static_cast<int>(uniform(0, 4)));
    gen.script += "out(" + m.python + ")\n";
    values.push_back(std::move(m.value));
  }
  const std::vector<std::string> lines = python_lines(script + gen.script, "");
  ASSERT_EQ(lines.size(), values.size());
  int mismatches = 0;
  std::map<std::string, int> seen;  // the generator really covers the interesting forms
  for (std::size_t i = 0; i < values.size() && mismatches < 10; ++i) {
    const std::string mine = repr(values[i]);
    std::ostringstream streamed;
    write_repr(streamed, values[i]);
    EXPECT_EQ(streamed.str(), mine) << "write_repr differs from repr for value " << i;
    for (const char* form : {"[...]", "{...}", "\\ud", "e+", "e-", "nan", "inf", "b'", "bytearray(",
                             "frozenset(", "set(", "(", "{"}) {
      if (mine.find(form) != std::string::npos) ++seen[form];
    }
    std::size_t run = 0, longest = 0;
    for (char c : mine)
      longest = std::max(longest, run = std::isdigit(static_cast<unsigned char>(c)) ? run + 1 : 0);
    if (longest >= 20) ++seen["big int"];
    if (to_hex(mine) != lines[i]) {
      ++mismatches;
      ADD_FAILURE() << "value " << i << ": ouro " << mine << "\npython "
                    << value::testing::from_hex(lines[i]);
    }
  }
  for (const char* form : {"[...]", "{...}", "\\ud", "e+", "e-", "nan", "inf", "b'", "bytearray(",
                           "frozenset(", "set(", "(", "{", "big int"}) {
    EXPECT_GE(seen[form], 5) << form;
  }
  // Break the recursive structures so that the heap dies without needing the collector.
  for (const Value& v : values) {
    if (List* l = v.get_if<List>()) l->clear();
    if (Dict* d = v.get_if<Dict>()) d->clear();
  }
}

TEST_F(ReprTest, FixedFormsOfEveryType) {
  EXPECT_EQ(repr(Value()), "None");
  EXPECT_EQ(repr(true), "True");
  EXPECT_EQ(repr(-42), "-42");
  EXPECT_EQ(repr(1e16), "1e+16");
  EXPECT_EQ(repr(tuple({})), "()");
  EXPECT_EQ(repr(tuple({1})), "(1,)");
  EXPECT_EQ(repr(set({})), "set()");
  EXPECT_EQ(repr(frozenset({})), "frozenset()");
  EXPECT_EQ(repr(frozenset({1, 2})), "frozenset({1, 2})");
  EXPECT_EQ(repr(bytearray("a'")), "bytearray(b\"a\\'\")");
  EXPECT_EQ(repr(dict({{"a", list({1, 2.5})}, {tuple({1, 2}), Value()}})),
            "{'a': [1, 2.5], (1, 2): None}");
  EXPECT_EQ(repr(Global::make(heap(), "__main__", "Point")), "<class '__main__.Point'>");
  Value obj = Instance::make(heap(), Global::make(heap(), "__main__", "Point"));
  EXPECT_TRUE(repr(obj).starts_with("<__main__.Point object at 0x")) << repr(obj);
  EXPECT_EQ(
      repr(Reduce::make(heap(), Global::make(heap(), "builtins", "complex"), tuple({1.0, 2.0}))),
      "<reduce builtins.complex(1.0, 2.0)>");
}

TEST_F(ReprTest, RecursiveStructuresUseCPythonsMarkers) {
  Value l = list({1});
  l.as<List>().append(l);
  EXPECT_EQ(repr(l), "[1, [...]]");
  Value d = dict({{"k", 1}});
  d.as<Dict>().set("self", d);
  EXPECT_EQ(repr(d), "{'k': 1, 'self': {...}}");
  Value inner = list({});
  Value t = tuple({inner});
  inner.as<List>().append(t);
  EXPECT_EQ(repr(t), "([(...)],)");
  Value s = set({});
  Value holder = Instance::make(heap(), Global::make(heap(), "m", "C"), s);
  s.as<Set>().add(holder);
  EXPECT_TRUE(repr(s).starts_with("{<m.C object at 0x"));
  l.as<List>().clear();
  d.as<Dict>().clear();
  inner.as<List>().clear();
  s.as<Set>().clear();
}

TEST_F(ReprTest, IntsBeyond4300DigitsRaiseAsInCPython) {
  Value big = Int::from_decimal(std::string(4300, '9'));
  EXPECT_EQ(repr(big).size(), 4300u);
  std::vector<std::byte> b(1790, std::byte{0xff});
  b.back() = std::byte{0x7f};  // ~2^14319: about 4311 digits
  Value huge = Int::from_bytes(b);
  try {
    (void)repr(huge);
    FAIL() << "no ValueError";
  } catch (const ValueError& e) {
    EXPECT_TRUE(std::string(e.what()).starts_with("Exceeds the limit (4300 digits)")) << e.what();
  }
}

// write_repr streams long str and bytes values in pieces with the quote chosen once: texts of
// 200,000 code points that mix quotes, escapes, multi-byte and non-printable characters
// (so that pieces end inside and around every kind) print exactly as python3's repr.
TEST_F(ReprTest, StreamedLongTextsPrintExactlyAsCPython) {
  OURO_REQUIRE_PYTHON();
  const std::vector<std::string> lines = python_lines(R"PY(
import sys
alphabet = ['a', "'", '"', '\\', '\n', '\t', '\x00', '\x7f', '\xe9', '\xa0', '\u20ac', '\u2028',
            '\U0001f600', '\ud800', '\U000e0001', ' ']
def text(seed, quotes):
    out, x = [], seed
    for _ in range(200000):
        x = (x * 1103515245 + 12345) % 2**31
        c = alphabet[x % len(alphabet)]
        if c in quotes: c = 'q'
        out.append(c)
    return ''.join(out)
def put(b): sys.stdout.write(b.hex() + '\n')
for seed, quotes in [(1, ''), (2, '"'), (3, "'")]:
    s = text(seed, quotes)
    put(s.encode('utf-8', 'surrogatepass')); put(repr(s).encode('utf-8', 'surrogatepass'))
    b = bytes((seed * 7 + i * i) % 256 for i in range(200000))
    if quotes: b = b.replace(quotes.encode(), b'q')
    put(b); put(repr(b).encode()); put(repr(bytearray(b)).encode())
)PY",
                                                      "");
  ASSERT_EQ(lines.size(), 15U);
  const auto streamed = [](const Value& v) {
    std::ostringstream out;
    write_repr(out, v);
    return out.str();
  };
  for (std::size_t i = 0; i < lines.size(); i += 5) {
    const std::string text = value::testing::from_hex(lines[i]);
    EXPECT_EQ(streamed(Value(Str::make(heap(), text))), value::testing::from_hex(lines[i + 1]));
    const std::string bytes = value::testing::from_hex(lines[i + 2]);
    const auto data = std::as_bytes(std::span(bytes.data(), bytes.size()));
    EXPECT_EQ(streamed(Value(Bytes::make(heap(), data))), value::testing::from_hex(lines[i + 3]));
    EXPECT_EQ(streamed(Value(ByteArray::make(heap(), data))),
              value::testing::from_hex(lines[i + 4]));
  }
}

// With a cap, write_repr writes the longest prefix of repr that fits without cutting a
// character, then throws OutputLimitError; a stream that fails stops it with
// std::ios_base::failure.
TEST_F(ReprTest, WriteReprStopsAtItsCapAndOnAFailedStream) {
  const Value inner = list({"\xc3\xa9t\xc3\xa9", 1.5, bytes("ab")});
  std::vector<Value> items(50000, inner);
  const Value v(List::make(heap(), items));
  const std::string whole = repr(v);
  for (std::size_t cap : {1, 2, 3, 7, 100, 65535, 65536, 65537, 300000}) {
    std::ostringstream out;
    try {
      write_repr(out, v, cap);
      ADD_FAILURE() << "no OutputLimitError at " << cap;
    } catch (const OutputLimitError& e) {
      EXPECT_EQ(e.limit(), cap);
    }
    const std::string got = out.str();
    EXPECT_LE(got.size(), cap);
    EXPECT_GE(got.size() + 1, cap) << "cut more than the 2-byte character it could not finish";
    EXPECT_EQ(got, whole.substr(0, got.size())) << cap;
  }
  std::ostringstream fits;
  write_repr(fits, v, whole.size());
  EXPECT_EQ(fits.str(), whole);
  std::ostringstream broken;
  broken.setstate(std::ios::badbit);
  EXPECT_THROW(write_repr(broken, v), std::ios_base::failure);
}

}  // namespace
}  // namespace ouro
