// The commands of the `ouro` tool. Each adds itself to the CLI11 app; main() only wires them.
#pragma once

#include <CLI/CLI.hpp>

namespace ouro::cli {

/// `ouro tour [--chapter N]`: the guided demonstration.
void add_tour_command(CLI::App& app);
/// `ouro pickle dis|show|convert|scan|stats FILE`: pickle files from the command line.
void add_pickle_command(CLI::App& app);
/// `ouro trace run|top|diff|lines|report`: memory tracing (trace_command.cpp).
void add_trace_command(CLI::App& app);
/// Adds `--trace CAPTURE` to `ouro pickle stats` (call after add_pickle_command).
void add_pickle_trace_option(CLI::App& app);

}  // namespace ouro::cli
