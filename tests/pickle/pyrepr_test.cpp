// Tests of src/pickle/pyrepr: the repr() shapes pickletools prints, checked against python3.
// bytearray is the case that differs from bytes: CPython's bytearray repr escapes ' even
// inside "..." quotes, so `dis` of an in-band protocol-5 BYTEARRAY8 must do the same.
#include "pickle/pyrepr.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "ouro/pickle/pickletools.h"
#include "support/python_oracle.h"

namespace ouro::pickle {
namespace {

// Payloads with ' only, " only, both, neither, and escapes around them.
const std::vector<std::string> kQuotePayloads = {
    "'", "\"", "'\"", "abc", "it's", "say \"hi\"", "", "\\'\x00\xff", "a'b\"c'"};

std::string python_bytes_literal(const std::string& data) {
  std::string out = "bytes([";
  for (unsigned char c : data) out += std::to_string(c) + ",";
  return out + "])";
}

TEST(PyReprTest, ByteArrayAndBytesReprMatchPython) {
  OURO_REQUIRE_PYTHON();
  std::string script = "for b in [";
  for (const std::string& p : kQuotePayloads) script += python_bytes_literal(p) + ",";
  script += "]:\n    print(repr(bytearray(b)))\n    print(repr(b))\n";
  const auto py = testing::run_python(script);
  ASSERT_EQ(py.status, 0) << py.err;
  std::string mine;
  for (const std::string& p : kQuotePayloads) {
    mine += detail::repr_bytearray(p) + "\n" + detail::repr_bytes(p) + "\n";
  }
  EXPECT_EQ(mine, py.out);
}

// The defect as a user meets it: `dis` of a protocol-5 pickle holding a bytearray.
TEST(PyReprTest, DisOfInBandByteArrayMatchesPickletools) {
  OURO_REQUIRE_PYTHON();
  std::string script = "import pickle, pickletools, sys\nfor b in [";
  for (const std::string& p : kQuotePayloads) script += python_bytes_literal(p) + ",";
  script +=
      "]:\n    sys.stdout.buffer.write(pickle.dumps(bytearray(b), 5).hex().encode() + b'\\n')\n"
      "    pickletools.dis(pickle.dumps(bytearray(b), 5))\n    sys.stdout.flush()\n";
  const auto py = testing::run_python(script);
  ASSERT_EQ(py.status, 0) << py.err;
  std::istringstream lines(py.out);
  std::string expected_all, mine_all, line;
  while (std::getline(lines, line)) {
    // A hex line starts each case: disassemble it and append ouro's text.
    if (line.find(':') == std::string::npos && line.find(' ') == std::string::npos) {
      std::string data;
      for (std::size_t i = 0; i + 1 < line.size(); i += 2) {
        data += static_cast<char>(std::stoi(line.substr(i, 2), nullptr, 16));
      }
      std::ostringstream out;
      dis(std::as_bytes(std::span<const char>(data.data(), data.size())), out);
      mine_all += out.str();
      continue;
    }
    expected_all += line + "\n";
  }
  EXPECT_NE(expected_all.find("bytearray(b\"\\'\")"), std::string::npos);
  EXPECT_EQ(mine_all, expected_all);
}

}  // namespace
// dis writes a big payload's repr piece by piece (write_bytes_repr_body): every byte, both
// quotes, both types, split anywhere, must give repr_bytes / repr_bytearray's text.
TEST(PyReprTest, BytesReprBodyInPiecesEqualsWholeRepr) {
  std::string every_byte;
  for (int c = 0; c < 256; ++c) every_byte += static_cast<char>(c);
  for (const std::string& payload : {every_byte, every_byte + "'", every_byte + "\"'"}) {
    const char quote = detail::repr_quote(payload);
    for (bool bytearray : {false, true}) {
      for (std::size_t split : {std::size_t{0}, std::size_t{1}, std::size_t{39}, payload.size()}) {
        std::string body(detail::kMaxBytesReprPerByte * payload.size(), '\0');
        const std::string_view head = std::string_view(payload).substr(0, split);
        std::size_t n = detail::write_bytes_repr_body(body.data(), head, quote, bytearray);
        n += detail::write_bytes_repr_body(body.data() + n, std::string_view(payload).substr(split),
                                           quote, bytearray);
        body.resize(n);
        const std::string whole =
            bytearray ? detail::repr_bytearray(payload) : detail::repr_bytes(payload);
        const std::string prefix = std::string(bytearray ? "bytearray(b" : "b") + quote;
        EXPECT_EQ(prefix + body + quote + (bytearray ? ")" : ""), whole)
            << "bytearray " << bytearray << " split " << split;
      }
    }
  }
}

}  // namespace ouro::pickle
