// Runs CPython as a test oracle: the tests compare ouro's behaviour with python3's.
// The interpreter is the one CMake found (OURO_PYTHON3); tests that need it call
// require_python() first, which fails the test (never skips) when python3 is missing,
// because the oracle is part of what the suite promises to check.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace ouro::testing {

/// Path of the python3 interpreter used as oracle ("" if CMake found none).
inline std::string python3_path() { return OURO_PYTHON3; }

/// Result of one python3 run: exit status, standard output and error as raw bytes.
struct PythonResult {
  int status = -1;
  std::string out;
  std::string err;
};

/// A fresh temporary file path that is removed when the object dies.
class TempFile {
 public:
  explicit TempFile(const std::string& suffix = "") {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("ouro-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + suffix);
  }
  ~TempFile() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::filesystem::path& path() const { return path_; }
  void write(const std::string& bytes) const { std::ofstream(path_, std::ios::binary) << bytes; }
  std::string read() const {
    std::ifstream in(path_, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  std::filesystem::path path_;
};

/// Runs `script` with python3, feeding `input` on stdin. Output is captured as bytes.
inline PythonResult run_python(const std::string& script, const std::string& input = "",
                               const std::string& args = "") {
  TempFile script_file(".py"), in_file(".in"), out_file(".out"), err_file(".err");
  script_file.write(script);
  in_file.write(input);
  std::string command = "PYTHONHASHSEED=0 PYTHONIOENCODING=utf-8 '" + python3_path() + "' '" +
                        script_file.path().string() + "' " + args + " < '" +
                        in_file.path().string() + "' > '" + out_file.path().string() + "' 2> '" +
                        err_file.path().string() + "'";
  PythonResult result;
  int raw = std::system(command.c_str());
  result.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  result.out = out_file.read();
  result.err = err_file.read();
  return result;
}

/// Fails the current test (fatally) unless python3 is available.
#define OURO_REQUIRE_PYTHON()                                                       \
  do {                                                                              \
    ASSERT_FALSE(::ouro::testing::python3_path().empty())                           \
        << "python3 is the test oracle; install it (scripts/install-deps.sh does)"; \
  } while (0)

}  // namespace ouro::testing
