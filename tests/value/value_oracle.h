// Shared plumbing for the value-layer tests that batch thousands of values through one
// python3 process: line splitting, hex text, and a seeded generator so runs repeat.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "support/python_oracle.h"

namespace ouro::value::testing {

/// Runs `script` with `input` on stdin and returns stdout split at '\n' (the last line,
/// if unterminated, included). Records a test failure with python's stderr if it failed.
inline std::vector<std::string> python_lines(const std::string& script, const std::string& input) {
  ::ouro::testing::PythonResult result = ::ouro::testing::run_python(script, input);
  EXPECT_EQ(result.status, 0) << result.err;
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < result.out.size()) {
    std::size_t end = result.out.find('\n', start);
    if (end == std::string::npos) end = result.out.size();
    lines.push_back(result.out.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

/// Lower-case hex of raw bytes, two digits a byte (Python's bytes.hex()).
inline std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    auto b = static_cast<unsigned char>(c);
    out += kDigits[b >> 4];
    out += kDigits[b & 0xF];
  }
  return out;
}

/// Inverse of to_hex() (bytes.fromhex() without spaces).
inline std::string from_hex(std::string_view hex) {
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1]));
  }
  return out;
}

/// The generator every value test draws from, seeded so that failures reproduce.
inline std::mt19937_64& rng() {
  static std::mt19937_64 engine(20231107);
  return engine;
}

/// A uniform integer in [lo, hi].
inline std::uint64_t uniform(std::uint64_t lo, std::uint64_t hi) {
  return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng());
}

}  // namespace ouro::value::testing
