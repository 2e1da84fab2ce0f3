// ouro: Python's memory model as a C++ library — the command-line tool.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "commands.h"
#include "ouro/config.h"

int main(int argc, char** argv) {
  CLI::App app{
      "ouro: Python's memory model in C++ (private heap, reference counting, cycle collector, "
      "weak references, pickle, tracing)",
      "ouro"};
  app.set_version_flag("--version", std::string("ouro ") + OURO_VERSION_STRING);
  app.require_subcommand(1);
  ouro::cli::add_tour_command(app);
  ouro::cli::add_pickle_command(app);
  ouro::cli::add_trace_command(app);
  ouro::cli::add_pickle_trace_option(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // a command's own status, its message already printed
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2, the common convention.
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ouro: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
