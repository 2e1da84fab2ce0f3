// Printing Values with {fmt} and iostreams. `{}` and operator<< give Python's repr(), as
// the interactive prompt echoes a value ('text' with its quotes); `{:s}` gives Python's
// str() (a str's text without quotes; the repr for every other type), as print() does.
// Refs, heap and gc statistics come from ouro/core/format.h, included here.
//
//     fmt::print("{}\n", ouro::list({1, "a"}));   // [1, 'a']
//     fmt::print("{:s}\n", ouro::Value("a"));     // a
//     std::cout << ouro::dict({{"k", 2.5}});      // {'k': 2.5}
#pragma once

#include <fmt/format.h>

#include <ostream>
#include <string>

#include "ouro/core/format.h"
#include "ouro/value/value.h"

namespace ouro {

/// Python's str(v): the text of a str, repr(v) for anything else.
std::string str(const Value& v);

inline std::ostream& operator<<(std::ostream& out, const Value& v) { return out << repr(v); }

}  // namespace ouro

template <>
struct fmt::formatter<ouro::Value> {
  bool as_str = false;  // `{:s}`: Python's str() instead of repr()

  constexpr auto parse(fmt::format_parse_context& ctx) {
    auto it = ctx.begin();
    if (it != ctx.end() && *it == 's') {
      as_str = true;
      ++it;
    } else if (it != ctx.end() && *it == 'r') {
      ++it;
    }
    if (it != ctx.end() && *it != '}')
      throw fmt::format_error("ouro::Value takes {}, {:r} or {:s}");
    return it;
  }
  template <class Context>
  auto format(const ouro::Value& v, Context& ctx) const {
    const std::string text = as_str ? ouro::str(v) : ouro::repr(v);
    return std::copy(text.begin(), text.end(), ctx.out());
  }
};
