// Runs the built `ouro` tool (OURO_CLI_PATH, set for the CLI tests by tools/ouro's
// CMakeLists.txt) with arguments and standard input, capturing its exit status and output:
// shared by the tests that check the command line end to end.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "support/python_oracle.h"

#ifndef OURO_CLI_PATH
#define OURO_CLI_PATH ""  // tools not built: every test fails on its SetUp assertion
#endif

namespace ouro::testing {

/// What one run of the tool did.
struct CliResult {
  int status = -1;
  std::string out;
  std::string err;
};

/// `s` single-quoted for the shell (test paths hold no quote).
inline std::string quote(const std::string& s) { return "'" + s + "'"; }

/// Runs `ouro ARGS` with `input` on stdin.
inline CliResult run_ouro(const std::string& args, const std::string& input = "") {
  TempFile in(".in"), out(".out"), err(".err");
  in.write(input);
  const std::string command = quote(OURO_CLI_PATH) + " " + args + " < " + quote(in.path()) + " > " +
                              quote(out.path()) + " 2> " + quote(err.path());
  const int raw = std::system(command.c_str());
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, out.read(), err.read()};
}

}  // namespace ouro::testing
