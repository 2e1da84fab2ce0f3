// `ouro tour`: runs the chapters in order (or one, with --chapter), narrating each step.
#include "tour.h"

#include <fmt/format.h>

#include <cstdio>
#include <sstream>

#include "commands.h"

namespace ouro::tour {

void heading(int number, const std::string& title) {
  fmt::print("\n== {}. {} ==\n", number, title);
}

void say(const std::string& text) {
  fmt::print("\n");
  std::istringstream words(text);
  std::string word, line;
  while (words >> word) {
    if (!line.empty() && line.size() + 1 + word.size() > 88) {
      fmt::print("{}\n", line);
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) fmt::print("{}\n", line);
}

void show(const std::string& text) { fmt::print("    -> {}\n", text); }

std::vector<Chapter> chapters() {
  return {
      {"The private heap", heap_chapter},
      {"Reference counting and the cycle collector", collector_chapter},
      {"Weak references", weakref_chapter},
      {"Python values and what they cost", values_chapter},
      {"Pickling from a memory perspective", pickle_chapter},
      {"Profiling line by line", profile_chapter},
  };
}

}  // namespace ouro::tour

namespace ouro::cli {

void add_tour_command(CLI::App& app) {
  auto* tour = app.add_subcommand("tour", "A guided demonstration of ouro, chapter by chapter");
  auto chapter = std::make_shared<int>(0);
  tour->add_option("-c,--chapter", *chapter, "Run only this chapter (1-based)");
  tour->callback([chapter] {
    const auto all = ouro::tour::chapters();
    if (*chapter < 0 || *chapter > static_cast<int>(all.size())) {
      throw CLI::ValidationError("--chapter", fmt::format("there are {} chapters", all.size()));
    }
    fmt::print("ouro tour: Python's memory model, retold in C++.\n");
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (*chapter != 0 && static_cast<std::size_t>(*chapter) != i + 1) continue;
      ouro::tour::heading(static_cast<int>(i + 1), all[i].title);
      all[i].run();
    }
    std::fflush(stdout);
  });
}

}  // namespace ouro::cli
