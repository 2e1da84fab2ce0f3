// The tour's narration helpers and its chapters. Each chapter retells one scenario of
// ../shared/SCENARIOS.md with ouro, printing what it does in plain words.
#pragma once

#include <fmt/format.h>

#include <functional>
#include <string>
#include <vector>

namespace ouro::tour {

/// A chapter heading: "== 1. The private heap ==".
void heading(int number, const std::string& title);
/// A paragraph of narration, wrapped at 88 columns.
void say(const std::string& text);
/// One result line, indented: "    -> <text>".
void show(const std::string& text);

struct Chapter {
  std::string title;
  std::function<void()> run;
};

/// Every chapter, in order.
std::vector<Chapter> chapters();

void heap_chapter();
void collector_chapter();
void values_chapter();
void weakref_chapter();
void pickle_chapter();
void profile_chapter();

}  // namespace ouro::tour
