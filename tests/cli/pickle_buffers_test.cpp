// `ouro pickle show|convert|stats --buffer FILE...`: protocol 5's out-of-band buffers from
// files, in order, checked against python3's pickle.loads(data, buffers=[open(f,
// 'rb').read() ...]) on the golden files of tests/data/realworld (written with
// pickle.dumps(..., protocol=5, buffer_callback=...) by tools/gen/make_realworld_pickles.py):
// show prints its repr, convert writes its pickle.dumps bytes, and a missing buffer is
// CPython's error. The numpy file's repr is numpy's own, recorded in expected.json.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/ouro_runner.h"
#include "support/python_oracle.h"

namespace ouro::testing {
namespace {

namespace fs = std::filesystem;

const fs::path kData = fs::path(OURO_SOURCE_DIR) / "tests/data/realworld";

std::string quote_path(const fs::path& p) { return quote(p.string()); }

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

class PickleBuffersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(std::string(OURO_CLI_PATH).empty()) << "built without tools/ouro";
    const nlohmann::json facts = nlohmann::json::parse(read_file(kData / "expected.json"));
    pickle_ = kData / facts["out_of_band_plain"]["file"].get<std::string>();
    for (const auto& name : facts["out_of_band_plain"]["buffers"]) {
      buffers_.push_back(kData / name.get<std::string>());
    }
    numpy_ = facts["out_of_band"];
  }

  /// " --buffer A --buffer B" for the plain file's buffers.
  std::string buffer_flags() const {
    std::string flags;
    for (const fs::path& b : buffers_) flags += " --buffer " + quote_path(b);
    return flags;
  }

  /// python3's answer for the plain file: `expression` of v = pickle.loads with its buffers.
  std::string python(const std::string& expression) const {
    std::string files;
    for (const fs::path& b : buffers_) files += quote_path(b) + ", ";
    const PythonResult r = run_python(
        "import pickle, sys\n"
        "bufs = [open(f, 'rb').read() for f in [" +
        files +
        "]]\n"
        "v = pickle.loads(open(" +
        quote_path(pickle_) +
        ", 'rb').read(), buffers=bufs)\n"
        "out = " +
        expression +
        "\n"
        "sys.stdout.buffer.write(out if isinstance(out, bytes) else out.encode())\n");
    EXPECT_EQ(r.status, 0) << r.err;
    return r.out;
  }

  fs::path pickle_;
  std::vector<fs::path> buffers_;
  nlohmann::json numpy_;
};

TEST_F(PickleBuffersTest, ShowPrintsCPythonsRepr) {
  OURO_REQUIRE_PYTHON();
  const CliResult r = run_ouro("pickle show" + buffer_flags() + " " + quote_path(pickle_));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, python("repr(v)") + "\n");
  EXPECT_NE(r.out.find("b'read-only'"), std::string::npos) << r.out;
}

TEST_F(PickleBuffersTest, ConvertWritesCPythonsBytes) {
  OURO_REQUIRE_PYTHON();
  for (int protocol = 0; protocol <= 5; ++protocol) {
    SCOPED_TRACE(protocol);
    const CliResult r = run_ouro("pickle convert -p " + std::to_string(protocol) + buffer_flags() +
                                 " " + quote_path(pickle_) + " -");
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(r.out == python("pickle.dumps(v, " + std::to_string(protocol) + ")"));
  }
}

TEST_F(PickleBuffersTest, StatsLoadsWithTheBuffers) {
  const CliResult r = run_ouro("pickle stats" + buffer_flags() + " " + quote_path(pickle_));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("pickled bytes:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bytes "), std::string::npos) << r.out;  // the two bytes objects
}

// Too few buffers, or none, is CPython's UnpicklingError; a missing file is named.
TEST_F(PickleBuffersTest, MissingBuffersAreCPythonsErrors) {
  OURO_REQUIRE_PYTHON();
  const PythonResult py = run_python(
      "import pickle\n"
      "data = open(" +
      quote_path(pickle_) +
      ", 'rb').read()\n"
      "for kwargs in ({}, {'buffers': [b'x']}):\n"
      "    try:\n"
      "        pickle.loads(data, **kwargs)\n"
      "    except pickle.UnpicklingError as e:\n"
      "        print(e)\n");
  ASSERT_EQ(py.status, 0) << py.err;
  const std::string none_given = py.out.substr(0, py.out.find('\n'));
  const std::string too_few = py.out.substr(py.out.find('\n') + 1);
  CliResult r = run_ouro("pickle show " + quote_path(pickle_));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find(none_given), std::string::npos) << r.err << " vs " << none_given;
  r = run_ouro("pickle show --buffer " + quote_path(buffers_[0]) + " " + quote_path(pickle_));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find(too_few.substr(0, too_few.size() - 1)), std::string::npos) << r.err;
  r = run_ouro("pickle show --buffer /nonexistent.buf " + quote_path(pickle_));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("/nonexistent.buf (--buffer)"), std::string::npos) << r.err;
}

// numpy's out-of-band array (numpy.core.numeric._frombuffer of NEXT_BUFFER) prints numpy's
// repr with its data from the buffer file.
TEST_F(PickleBuffersTest, NumpyArrayFromItsBufferFile) {
  const CliResult r =
      run_ouro("pickle show --buffer " + quote_path(kData / numpy_["buffer"].get<std::string>()) +
               " " + quote_path(kData / numpy_["file"].get<std::string>()));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, numpy_["repr"].get<std::string>() + "\n");
}

}  // namespace
}  // namespace ouro::testing
