// ouro::pickle::dumps against CPython 3.11's pickle.dumps: thousands of random values
// built alike on both sides (tests/pickle/pickler_cases.py describes each value; the test
// builds the equal ouro value), pickled with protocols 0-5, compared byte for byte — except
// values holding sets, which python3 loads back and compares by value (both use CPython's set
// table, but the test rebuilds a set by adding its elements in CPython's iteration order,
// while CPython's own table may have seen other insertions; roundtrip_test.cpp checks
// loaded sets byte for byte). Plus the 1,000,000-deep list, buffers,
// persistent ids, Reduce values and the errors.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "ouro/pickle/pickle.h"
#include "ouro/value/value.h"
#include "pickle/blob_io.h"
#include "pickle/opcodes.h"
#include "support/heap_fixture.h"
#include "support/python_oracle.h"

namespace ouro::pickle {
namespace {

using ouro::testing::BlobReader;
using ouro::testing::put_blob;
using ouro::testing::run_python;

constexpr int kSeed = 20261122;
constexpr int kRandomCases = 1500;

/// Seed and case count; OURO_PICKLE_SEED / OURO_PICKLE_CASES override them for longer runs.
int env_or(const char* name, int fallback) {
  const char* text = std::getenv(name);
  return text != nullptr ? std::atoi(text) : fallback;
}

std::string hex_decode(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

/// Builds the ouro value a pickler_cases.py description names (see the token list there).
class Builder {
 public:
  Builder(Heap& heap, std::string_view text) : heap_(heap) {
    std::istringstream in{std::string(text)};
    for (std::string token; in >> token;) tokens_.push_back(token);
  }
  Value build() {
    Value v = node(nullptr);
    EXPECT_EQ(pos_, tokens_.size()) << "description not fully used";
    return v;
  }

 private:
  static const char* class_qualname(int k) {
    static const char* const kNames[] = {"C", "Point", "Outer.Inner"};
    return kNames[k];
  }
  // The id and the text after the first ':' of a token such as "s12:6869".
  static std::pair<int, std::string_view> id_and_rest(std::string_view token) {
    const auto colon = token.find(':');
    return {std::stoi(std::string(token.substr(1, colon - 1))), token.substr(colon + 1)};
  }
  std::string_view next() { return tokens_.at(pos_++); }

  Value node(List* parent) {
    const std::string_view t = next();
    switch (t[0]) {
      case 'N':
        return Value();
      case 'T':
        return Value(true);
      case 'F':
        return Value(false);
      case 'i':
        return Int::from_decimal(heap_, t.substr(1));
      case 'f': {
        std::uint64_t bits = std::stoull(std::string(t.substr(1)), nullptr, 16);
        double x;
        std::memcpy(&x, &bits, sizeof x);
        return Value(x);
      }
      case 'r': {
        const int id = std::stoi(std::string(t.substr(1)));
        if (auto it = objects_.find(id); it != objects_.end()) return it->second;
        // A tuple still being built: patch the list once the tuple exists.
        EXPECT_NE(parent, nullptr) << "forward reference outside a list";
        fixups_[id].push_back({parent, parent->size()});
        return Value();
      }
      default:
        return container(t, parent);
    }
  }

  Value container(std::string_view t, List* /*parent*/) {
    const auto [id, rest] = id_and_rest(t);
    Value v;
    switch (t[0]) {
      case 's':
        v = Value(hex_decode(rest));
        break;
      case 'b':
        v = Value(Bytes::make(heap_, as_bytes(hex_decode(rest))));
        break;
      case 'y':
        v = Value(ByteArray::make(heap_, as_bytes(hex_decode(rest))));
        break;
      case 'g': {
        const auto colon = rest.find(':');
        v = Value(Global::make(heap_, hex_decode(rest.substr(0, colon)),
                               hex_decode(rest.substr(colon + 1))));
        break;
      }
      case 'l': {
        auto list = List::make(heap_);
        v = Value(list);
        objects_[id] = v;
        const int n = std::stoi(std::string(rest));
        for (int i = 0; i < n; ++i) list->append(node(list.get()));
        break;
      }
      case 'd': {
        auto dict = Dict::make(heap_);
        v = Value(dict);
        objects_[id] = v;
        const int n = std::stoi(std::string(rest));
        for (int i = 0; i < n; ++i) {
          Value key = node(nullptr);
          dict->set(std::move(key), node(nullptr));
        }
        break;
      }
      case 'o': {
        const int k = std::stoi(std::string(rest));
        auto obj = Instance::make(heap_, Global::make(heap_, "__main__", class_qualname(k)),
                                  Dict::make(heap_));
        v = Value(obj);
        objects_[id] = v;
        const int n = std::stoi(std::string(next()));
        for (int i = 0; i < n; ++i) {
          Value name = node(nullptr);
          obj->dict()->set(std::move(name), node(nullptr));
        }
        break;
      }
      case 't':
      case 'e':
      case 'z': {
        const int n = std::stoi(std::string(rest));
        std::vector<Value> items;
        for (int i = 0; i < n; ++i) items.push_back(node(nullptr));
        if (t[0] == 't') {
          v = Value(Tuple::make(heap_, items));
        } else if (t[0] == 'z') {
          v = Value(FrozenSet::make(heap_, items));
        } else {
          auto set = Set::make(heap_);
          for (Value& item : items) set->add(std::move(item));
          v = Value(set);
        }
        break;
      }
      default:
        ADD_FAILURE() << "bad token " << t;
        return Value();
    }
    objects_[id] = v;
    if (auto it = fixups_.find(id); it != fixups_.end()) {
      for (const auto& [list, index] : it->second) list->set(static_cast<std::int64_t>(index), v);
      fixups_.erase(it);
    }
    return v;
  }

  Heap& heap_;
  std::vector<std::string> tokens_;
  std::size_t pos_ = 0;
  std::unordered_map<int, Value> objects_;
  std::unordered_map<int, std::vector<std::pair<List*, std::size_t>>> fixups_;
};

std::string cases_script() {
  std::ifstream in(std::string(OURO_SOURCE_DIR) + "/tests/pickle/pickler_cases.py");
  std::stringstream text;
  text << in.rdbuf();
  return "BLOB_PYTHON = r'''" + std::string(ouro::testing::kBlobPython) + "'''\n" + text.str();
}

/// The first offset where two byte strings differ, with some context, for failure output.
std::string first_difference(const std::string& a, const std::string& b) {
  std::size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  const auto around = [&](const std::string& s) {
    const std::size_t from = i < 16 ? 0 : i - 16;
    std::string out;
    for (std::size_t j = from; j < std::min(s.size(), i + 16); ++j) {
      out += fmt::format("{:02x}{}", static_cast<unsigned char>(s[j]), j + 1 == i ? "|" : " ");
    }
    return out;
  };
  return fmt::format("sizes {} vs {}, first difference at {}\n  ouro:    {}\n  cpython: {}",
                     a.size(), b.size(), i, around(a), around(b));
}

class PicklerTest : public ouro::testing::HeapTest {};

// The differential test: every value of every case, protocols 0..5.
TEST_F(PicklerTest, MatchesCPythonByteForByte) {
  OURO_REQUIRE_PYTHON();
  const std::string script = cases_script();
  const int seed = env_or("OURO_PICKLE_SEED", kSeed);
  const int count = env_or("OURO_PICKLE_CASES", kRandomCases);
  const auto gen = run_python(script, "", fmt::format("gen {} {}", seed, count));
  ASSERT_EQ(gen.status, 0) << gen.err;
  BlobReader reader(gen.out);
  std::string set_cases;  // records for the by-value check
  int cases = 0, exact = 0, failures = 0;
  while (!reader.done()) {
    const std::string description(reader.next());
    const bool has_set = reader.next() == "1";
    Value v = Builder(heap(), description).build();
    for (int proto = 0; proto <= 5; ++proto) {
      const std::string expected(reader.next());
      const std::string ours = dumps(v, {.protocol = proto});
      if (has_set) {
        put_blob(set_cases, std::to_string(cases));
        put_blob(set_cases, std::to_string(proto));
        put_blob(set_cases, ours);
      } else if (ours != expected && ++failures <= 10) {
        ADD_FAILURE() << "case " << cases << " protocol " << proto << ": "
                      << first_difference(ours, expected)
                      << "\n  value: " << description.substr(0, 300);
      } else {
        ++exact;
      }
    }
    ++cases;
  }
  EXPECT_EQ(failures, 0);
  EXPECT_GT(cases, count);
  EXPECT_GT(exact, count * 4);
  const auto check = run_python(script, set_cases, fmt::format("check {} {}", seed, count));
  ASSERT_EQ(check.status, 0) << check.err;
  ASSERT_EQ(check.out.substr(0, 8), "checked ") << check.out.substr(0, 2000);
  EXPECT_GT(std::stoi(check.out.substr(8)), count / 3);
}

// A list nested 1,000,000 deep: CPython's pickler raises RecursionError; ouro's work stack
// does not recurse. python3 loads the result (its unpickler does not recurse either).
TEST_F(PicklerTest, MillionDeepListDumpsAndLoadsInPython) {
  OURO_REQUIRE_PYTHON();
  constexpr std::size_t kDepth = 1'000'000;
  Value root(List::make(heap()));
  {
    Value at = root;
    for (std::size_t i = 1; i < kDepth; ++i) {
      Value inner(List::make(heap()));
      at.as<List>().append(inner);
      at = std::move(inner);
    }
  }
  for (int proto : {0, 2, 5}) {
    const std::string data = dumps(root, {.protocol = proto});
    // Count the opcodes with ouro's own reader: one EMPTY_LIST/LIST and one memo store per
    // list, one APPEND per non-empty list.
    std::size_t lists = 0, appends = 0;
    OpcodeReader reader(as_bytes(data));
    while (auto ins = reader.next()) {
      if (ins->info->code == Op::kEmptyList || ins->info->code == Op::kList) ++lists;
      if (ins->info->code == Op::kAppend) ++appends;
    }
    EXPECT_EQ(lists, kDepth) << "protocol " << proto;
    EXPECT_EQ(appends, kDepth - 1) << "protocol " << proto;
    if (proto == 5) {
      const auto r = run_python(R"PY(
import pickle, sys
v = pickle.loads(sys.stdin.buffer.read())
depth = 0
while True:
    depth += 1
    if not v:
        break
    v = v[0]
print(depth)
)PY",
                                data);
      ASSERT_EQ(r.status, 0) << r.err;
      EXPECT_EQ(r.out, "1000000\n");
    }
  }
  // Tear down iteratively is the value layer's job (trashcan); nothing to do here.
}

TEST_F(PicklerTest, ProtocolAboveHighestIsAnError) {
  try {
    (void)dumps(Value(1), {.protocol = 6});
    FAIL() << "no error";
  } catch (const PicklingError& e) {
    EXPECT_STREQ(e.what(), "pickle protocol must be <= 5");
  }
  // Negative means the highest, as in Python.
  EXPECT_EQ(dumps(Value(), {.protocol = -1}), std::string("\x80\x05N.", 4));
}

class Unregistered final : public Object {
 public:
  static constexpr std::string_view kTypeName = "Unregistered";

 private:
  ~Unregistered() override = default;
};

TEST_F(PicklerTest, UnregisteredObjectIsAnErrorWithCPythonsMessage) {
  Value v(make<Unregistered>());
  try {
    (void)dumps(list({1, v}));
    FAIL() << "no error";
  } catch (const PicklingError& e) {
    EXPECT_STREQ(e.what(), "cannot pickle 'Unregistered' object");
  }
}

// The CPython script that makes the expected bytes for the remaining tests.
std::string python_dumps(const std::string& expression) {
  const auto r =
      run_python("import pickle, sys, collections\n" + std::string(ouro::testing::kBlobPython) +
                 "for proto in range(6):\n"
                 "    try:\n        put(" +
                 expression +
                 ")\n"
                 "    except Exception as e:\n        put('error: %s' % e)\n");
  EXPECT_EQ(r.status, 0) << r.err;
  return r.out;
}

TEST_F(PicklerTest, BuffersInBandAndOutOfBand) {
  OURO_REQUIRE_PYTHON();
  Value ro(Buffer::make(heap(), bytes("abc")));
  Value rw(Buffer::make(heap(), bytearray(std::string(70000, 'z'))));
  Value v = list({ro, rw, ro});
  // In band: what pickle.dumps writes with no buffer_callback.
  const std::string expected_in = python_dumps(
      "(lambda a, b: pickle.dumps([a, b, a], proto))(pickle.PickleBuffer(b'abc'), "
      "pickle.PickleBuffer(bytearray(b'z' * 70000)))");
  BlobReader in_band(expected_in);
  for (int proto = 0; proto <= 5; ++proto) {
    const std::string expected(in_band.next());
    if (proto < 5) {
      EXPECT_EQ(expected.rfind("error: ", 0), 0u);
      EXPECT_THROW((void)dumps(v, {.protocol = proto}), PicklingError);
    } else {
      EXPECT_EQ(dumps(v, {.protocol = 5}), expected);
    }
  }
  // Out of band: buffer_callback returning false, as list.append does.
  std::vector<Value> sent;
  const std::string ours = dumps(v, {.protocol = 5, .buffer_callback = [&](const Buffer& b) {
                                       sent.push_back(b.target());
                                       return false;
                                     }});
  const std::string expected_out = python_dumps(
      "pickle.dumps((lambda a, b: [a, b, a])(pickle.PickleBuffer(b'abc'), "
      "pickle.PickleBuffer(bytearray(b'z' * 70000))), 5, buffer_callback=lambda b: False)");
  EXPECT_EQ(ours, std::string(BlobReader(expected_out).next()));
  EXPECT_EQ(sent.size(), 3u);  // out of band is not memoized: the shared one goes twice
}

TEST_F(PicklerTest, PersistentIdsMatchCPython) {
  OURO_REQUIRE_PYTHON();
  // Strs starting with '@' are persistent: their id is the rest of the text.
  Value v = list({"@alpha", 1, dict({{"k", "@beta"}}), "plain"});
  const std::string expected = python_dumps(
      "(lambda P: (lambda f, o: (P(f, proto).dump(o), f.getvalue())[1])("
      "__import__('io').BytesIO(), ['@alpha', 1, {'k': '@beta'}, 'plain']))("
      "type('P', (pickle.Pickler,), {'persistent_id': lambda self, o: o[1:] "
      "if isinstance(o, str) and o.startswith('@') else None}))");
  BlobReader reader(expected);
  const auto pid = [](const Value& x) -> Value {
    if (const Str* s = x.get_if<Str>(); s != nullptr && s->utf8().starts_with("@")) {
      return Value(s->utf8().substr(1));
    }
    return Value();
  };
  for (int proto = 0; proto <= 5; ++proto) {
    EXPECT_EQ(dumps(v, {.protocol = proto, .persistent_id = pid}), std::string(reader.next()))
        << "protocol " << proto;
  }
}

TEST_F(PicklerTest, ReduceValuesMatchCPython) {
  OURO_REQUIRE_PYTHON();
  // collections.OrderedDict's reduce: (OrderedDict, (), None, None, iter(items)).
  auto r =
      Reduce::make(heap(), Value(Global::make(heap(), "collections", "OrderedDict")), tuple({}));
  auto items = Dict::make(heap());
  for (int i = 0; i < 1001; ++i) items->set(Value(i), Value(fmt::format("v{}", i)));
  r->dictitems = Value(items);
  const std::string expected = python_dumps(
      "pickle.dumps(collections.OrderedDict((i, 'v%d' % i) for i in range(1001)), proto)");
  BlobReader reader(expected);
  Value v(r);
  for (int proto = 0; proto <= 5; ++proto) {
    const std::string ours = dumps(v, {.protocol = proto}), theirs(reader.next());
    EXPECT_TRUE(ours == theirs) << "protocol " << proto << ": " << first_difference(ours, theirs);
  }
}

TEST_F(PicklerTest, FixImportsFalseKeepsPython3Names) {
  OURO_REQUIRE_PYTHON();
  Value v = list({bytes("ab"), bytearray(""), frozenset({}),
                  Value(Global::make(heap(), "builtins", "Exception"))});
  const std::string expected = python_dumps(
      "pickle.dumps([b'ab', bytearray(), frozenset(), Exception], proto, fix_imports=False)");
  BlobReader reader(expected);
  for (int proto = 0; proto <= 5; ++proto) {
    const std::string ours = dumps(v, {.protocol = proto, .fix_imports = false});
    const std::string theirs(reader.next());
    EXPECT_TRUE(ours == theirs) << "protocol " << proto << ": " << first_difference(ours, theirs);
  }
}

TEST_F(PicklerTest, DumpWritesToAStream) {
  std::ostringstream out;
  dump(list({1, 2}), out, {.protocol = 2});
  EXPECT_EQ(out.str(), std::string("\x80\x02]q\x00(K\x01K\x02"
                                   "e.",
                                   12));
}

}  // namespace
}  // namespace ouro::pickle
