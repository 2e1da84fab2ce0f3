// Length-prefixed records for talking to the python3 oracle in one round trip: each record
// is a 4-byte little-endian length and that many bytes, on stdin and stdout alike. The
// Python side of the same format is kBlobPython, to paste at the top of oracle scripts.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/python_oracle.h"

namespace ouro::testing {

/// Python helpers: read_blobs(bytes) -> list of bytes, put(bytes) writes one record.
inline constexpr std::string_view kBlobPython = R"PY(
import sys, struct
def read_blobs(data):
    out, pos = [], 0
    while pos < len(data):
        (n,) = struct.unpack_from('<I', data, pos)
        out.append(data[pos + 4:pos + 4 + n])
        pos += 4 + n
    return out
_out = sys.stdout.buffer
def put(b):
    if isinstance(b, str):
        b = b.encode('utf-8', 'surrogatepass')
    _out.write(struct.pack('<I', len(b)))
    _out.write(b)
)PY";

/// Appends one record to `out`.
inline void put_blob(std::string& out, std::string_view bytes) {
  const auto n = static_cast<std::uint32_t>(bytes.size());
  for (int i = 0; i < 4; ++i) out += static_cast<char>((n >> (8 * i)) & 0xFF);
  out += bytes;
}

/// Reads records back, in order.
class BlobReader {
 public:
  explicit BlobReader(std::string_view data) : data_(data) {}
  bool done() const { return pos_ >= data_.size(); }
  /// The next record; an empty view (and a test failure) if the data is cut short.
  std::string_view next() {
    if (data_.size() - pos_ < 4) {
      ADD_FAILURE() << "oracle output truncated at " << pos_;
      pos_ = data_.size();
      return {};
    }
    std::uint32_t n = 0;
    for (int i = 0; i < 4; ++i)
      n |= static_cast<std::uint32_t>(static_cast<unsigned char>(data_[pos_ + i])) << (8 * i);
    pos_ += 4;
    if (data_.size() - pos_ < n) {
      ADD_FAILURE() << "oracle record truncated at " << pos_;
      pos_ = data_.size();
      return {};
    }
    const std::string_view out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

/// A byte span over a string's bytes, for ouro::pickle::dis and OpcodeReader.
inline std::span<const std::byte> as_byte_span(std::string_view bytes) {
  return std::as_bytes(std::span<const char>(bytes.data(), bytes.size()));
}

/// What CPython's C pickle.loads raises for each input, as (exception type, message); "OK"
/// and "" for an input that loads. One python3 run for all inputs.
inline std::vector<std::pair<std::string, std::string>> cpython_load_errors(
    std::span<const std::string_view> inputs) {
  std::string input;
  for (std::string_view c : inputs) put_blob(input, c);
  const std::string script = std::string(kBlobPython) + R"PY(
import pickle
for data in read_blobs(sys.stdin.buffer.read()):
    try:
        pickle.loads(data)
        put('OK'); put('')
    except BaseException as e:
        put(type(e).__name__); put(str(e))
)PY";
  const PythonResult r = run_python(script, input);
  EXPECT_EQ(r.status, 0) << r.err;
  BlobReader out(r.out);
  std::vector<std::pair<std::string, std::string>> result;
  for (std::size_t i = 0; i < inputs.size() && !out.done(); ++i) {
    std::string type(out.next());
    result.emplace_back(std::move(type), std::string(out.next()));
  }
  return result;
}

}  // namespace ouro::testing
