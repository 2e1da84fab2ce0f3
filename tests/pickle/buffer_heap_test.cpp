// Pickle with a heap carved from a static buffer: after the heap is built, dumps_bytes and
// try_loads of every protocol, and try_loads of hostile inputs that fail, call the system
// allocator not once (support/count_system_allocations.h counts the calls), and the heap
// stays consistent and usable after each. tests/core/buffer_heap_test.cpp covers the layers
// below (values, collection, weak references, finalize, the heap's destruction).
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "ouro/core/gc.h"
#include "ouro/core/heap.h"
#include "ouro/pickle/pickle.h"
#include "ouro/value/value.h"
#include "support/count_system_allocations.h"

namespace {

namespace pickle = ouro::pickle;
using ouro::Value;

alignas(64) std::byte g_buffer[8 << 20];

// A static-buffer heap in scope for one test.
class PickleInBuffer : public ::testing::Test {
 protected:
  PickleInBuffer() : scope_(heap_) {}
  ouro::Heap heap_{ouro::HeapOptions{.buffer = g_buffer, .buffer_size = sizeof g_buffer}};
  ouro::HeapScope scope_;
};

// Standard data of every kind the pickler writes: containers, shared references, text
// with escapes and non-latin-1 code points, bytes short and long (a 70 KB payload goes
// outside protocol 5's frames), ints of every width, floats.
Value sample_data() {
  Value shared = ouro::list({1, 2, 3});
  Value records = ouro::list();
  for (int i = 0; i < 300; ++i) {
    records.as<ouro::List>().append(ouro::dict({{"id", i},
                                                {"name", "sensor_\u00e9\u20ac\U0001F600\\\n"},
                                                {"ratio", i / 7.0},
                                                {"tags", shared}}));
  }
  return ouro::list({records,
                     Value(),
                     true,
                     false,
                     0,
                     -1,
                     255,
                     65535,
                     -2147483648LL,
                     std::int64_t{1} << 40,
                     -(std::int64_t{1} << 62),
                     3.141592653589793,
                     -0.0,
                     "",
                     "a",
                     "text of some length",
                     ouro::bytes(""),
                     ouro::bytes("x"),
                     ouro::bytes(std::string(40, 'b')),
                     ouro::bytes(std::string(70000, 'p')),
                     ouro::bytearray("mutable bytes here"),
                     ouro::tuple({}),
                     ouro::tuple({1}),
                     ouro::tuple({1, "two", 3.0, shared}),
                     ouro::set({1, 2, 3}),
                     ouro::frozenset({"x", "y"}),
                     shared});
}

TEST_F(PickleInBuffer, DumpsAndLoadsOfEveryProtocolUseOnlyTheHeap) {
  const Value data = sample_data();
  for (int protocol = 0; protocol <= pickle::kHighestProtocol; ++protocol) {
    SCOPED_TRACE(protocol);
    ouro::Ref<ouro::Bytes> pickled;
    std::optional<pickle::LoadResult> loaded;
    std::size_t calls = 0;
    {
      CountSystemAllocations counter;
      pickled = pickle::dumps_bytes(data, {.protocol = protocol});
      loaded = pickle::try_loads(*pickled);
      calls = counter.count();
    }
    EXPECT_EQ(calls, 0u);
    // The same bytes as dumps (which the pickler tests compare with CPython's), and the
    // same value back.
    EXPECT_EQ(pickle::bytes_text(*pickled), pickle::dumps(data, {.protocol = protocol}));
    ASSERT_TRUE(*loaded) << loaded->error.message();
    EXPECT_EQ(loaded->value, data);
  }
  EXPECT_TRUE(heap_.verify());
}

struct Hostile {
  const char* what;
  std::string data;
};

// Inputs whose failure the unpickler finds itself: each must fail through try_loads with
// no system allocation and exactly loads' error (kind, message, offset, opcode).
std::vector<Hostile> hostile_inputs() {
  std::string deep_memo_text = "(";  // a protocol 0 GET of an index never PUT
  deep_memo_text += "g123456\n.";
  std::string cut = pickle::dumps(ouro::list({"truncated text"}), {.protocol = 2});
  cut.resize(cut.size() - 6);
  std::string huge_frame = std::string("\x80\x04\x95", 3) + std::string("\xff\xff\xff\x00", 4) +
                           std::string(4, '\0') + "N.";
  std::string hash_bomb = "\x80\x04N";  // a key tuple that nests the same tuple twice, 70 deep
  for (int i = 0; i < 70; ++i) hash_bomb += "\x94h" + std::string(1, static_cast<char>(i)) + "\x86";
  hash_bomb = "\x80\x04}" + hash_bomb.substr(2) + "Ns.";
  return {
      {"empty input", ""},
      {"unknown opcode", "\xff"},
      {"printable unknown opcode", "\x80\x02z."},
      {"argument cut short", std::string("X\x05\x00\x00\x00"
                                         "ab",
                                         7)},
      {"pickle cut short", cut},
      {"no newline", "I12"},
      {"negative LONG4 count", std::string("\x8b\xff\xff\xff\xff", 5)},
      {"stack underflow", "0"},
      {"MARK then STOP", "(."},
      {"TUPLE without MARK", "t."},
      {"APPEND on an empty stack", "a."},
      {"SETITEMS under a mark", "}(s."},
      {"missing memo entry", "h\x05."},
      {"missing text memo entry", deep_memo_text},
      {"invalid text memo index", "gxyz\n."},
      {"invalid INT", "Iabc\n."},
      {"invalid LONG", "L12x\n."},
      {"invalid LONG quoting 300 bytes (the message is cut)", "L" + std::string(300, '9') + "x\n."},
      {"invalid FLOAT", "Fone\n."},
      {"odd DICT", "(Nd."},
      {"unsupported protocol", "\x80\x09N."},
      {"frame longer than the input", huge_frame},
      {"argument across a frame's end", std::string("\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00"
                                                    "\x8c\x05hello.",
                                                    19)},
      {"EXT code", std::string("\x82\x07.", 3)},
      {"STACK_GLOBAL of ints", "\x80\x04K\x01K\x02\x93."},
      {"NEXT_BUFFER without buffers", "\x80\x05\x97."},
      {"refused global", "cos\nsystem\n(S'echo hi'\ntR."},
      {"refused STACK_GLOBAL", "\x80\x04\x8c\x02os\x8c\x06system\x93."},
      {"hash bomb", hash_bomb},
  };
}

TEST_F(PickleInBuffer, HostileInputsFailWithoutTheSystemAllocator) {
  for (const Hostile& input : hostile_inputs()) {
    SCOPED_TRACE(input.what);
    std::optional<pickle::LoadResult> result;
    std::size_t calls = 0;
    {
      CountSystemAllocations counter;
      result = pickle::try_loads(input.data);
      calls = counter.count();
    }
    EXPECT_EQ(calls, 0u);
    ASSERT_FALSE(*result);
    EXPECT_TRUE(result->value.is_none());
    // The no-throw report says exactly what loads throws.
    try {
      (void)pickle::loads(input.data);
      ADD_FAILURE() << "loads accepted it";
    } catch (const pickle::UnpicklingError& e) {
      EXPECT_EQ(result->error.python_type(), e.python_type());
      EXPECT_EQ(result->error.message(),
                std::string_view(e.message()).substr(0, pickle::LoadError::kMessageCapacity));
      EXPECT_EQ(result->error.message_cut(),
                e.message().size() > pickle::LoadError::kMessageCapacity);
      EXPECT_EQ(result->error.offset(), e.offset());
      EXPECT_EQ(result->error.opcode(), e.opcode());
    }
    EXPECT_TRUE(heap_.verify());
    EXPECT_EQ(pickle::loads(pickle::dumps(ouro::list({1, "ok"}))), ouro::list({1, "ok"}));
  }
}

std::string read_hostile_file(const char* name) {
  std::ifstream in(std::string(OURO_HOSTILE_PICKLES_DIR) + "/" + name, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Real malicious pickles (tests/data/hostile-pickles): strict mode refuses their globals
// without the system allocator.
TEST_F(PickleInBuffer, VendoredMaliciousPicklesAreRefusedWithoutTheSystemAllocator) {
  for (const char* name :
       {"malicious0.pkl", "malicious1_v3.pkl", "malicious1_v4.pkl", "malicious2_v0.pkl",
        "malicious3.pkl", "malicious13a.pkl", "malicious-invalid-bytes.pkl", "broken_model.pkl"}) {
    SCOPED_TRACE(name);
    const std::string data = read_hostile_file(name);
    ASSERT_FALSE(data.empty());
    std::optional<pickle::LoadResult> result;
    std::size_t calls = 0;
    {
      CountSystemAllocations counter;
      result = pickle::try_loads(data);
      calls = counter.count();
    }
    EXPECT_EQ(calls, 0u);
    ASSERT_FALSE(*result);
    EXPECT_TRUE(heap_.verify());
  }
}

// Errors found below the unpickler (here the value layer's unhashable key) still come as
// exceptions inside; try_loads reports them as loads throws them.
TEST_F(PickleInBuffer, TryLoadsReportsTheErrorsFoundDeeperAsLoadsThrowsThem) {
  const std::string unhashable_key = "\x80\x04}]Ns.";
  const pickle::LoadResult result = pickle::try_loads(unhashable_key);
  ASSERT_FALSE(result);
  try {
    (void)pickle::loads(unhashable_key);
    ADD_FAILURE() << "loads accepted it";
  } catch (const pickle::UnpicklingError& e) {
    EXPECT_EQ(e.python_type(), "TypeError");
    EXPECT_EQ(result.error.python_type(), e.python_type());
    EXPECT_EQ(result.error.message(), e.message());
    EXPECT_EQ(result.error.offset(), e.offset());
    EXPECT_EQ(result.error.opcode(), e.opcode());
  }
  EXPECT_TRUE(heap_.verify());
}

// The heap's limit still throws inside the unpickler (the allocator's MemoryError): try_loads
// reports it like the others, and the heap is usable afterwards. Not counted: the exception
// object itself comes from the system allocator (docs/architecture.md lists what still does).
TEST_F(PickleInBuffer, ExhaustingTheBufferIsReportedAndTheHeapRecovers) {
  const Value data = sample_data();
  const std::string dup_bomb = "\x80\x04N" + std::string(2'000'000, '2') + ".";
  const pickle::LoadResult result = pickle::try_loads(dup_bomb);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error.python_type(), "MemoryError");
  EXPECT_TRUE(heap_.verify());
  std::size_t calls = 0;
  {
    CountSystemAllocations counter;
    const ouro::Ref<ouro::Bytes> again = pickle::dumps_bytes(data, {.protocol = 5});
    EXPECT_TRUE(pickle::try_loads(*again));
    calls = counter.count();
  }
  EXPECT_EQ(calls, 0u);
}

}  // namespace
