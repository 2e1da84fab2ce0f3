// Printing the object core's types with {fmt} and iostreams: Ref<T> (its object's
// py_repr(), so a Ref<List> prints [1, 2] and a user type its own hook), HeapStats (one
// line of the figures that matter), and the gc module's GenerationStats and CollectionInfo
// (as Python prints gc.get_stats()'s dicts and a gc callback's info). Only the core is
// needed; ouro/value/format.h adds Value.
//
//     fmt::print("{}\n", node);                      // <Node object at 0x...> or its py_repr()
//     std::cout << heap.stats() << '\n';             // HeapStats(bytes_in_use=..., ...)
//     fmt::print("{}\n", ouro::gc::get_stats());     // [{'collections': 3, ...}, ...]
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <ostream>
#include <string>

#include "ouro/core/gc.h"
#include "ouro/core/heap.h"
#include "ouro/core/ref.h"

namespace ouro {

/// The text `{}` gives for a Ref: the object's py_repr(), or None for an empty Ref.
template <class T>
std::string to_display(const Ref<T>& ref) {
  return ref ? static_cast<const Object&>(*ref).py_repr() : std::string("None");
}

template <class T>
std::ostream& operator<<(std::ostream& out, const Ref<T>& ref) {
  return out << to_display(ref);
}
}  // namespace ouro

template <class T>
struct fmt::formatter<ouro::Ref<T>> : fmt::formatter<fmt::string_view> {
  template <class Context>
  auto format(const ouro::Ref<T>& ref, Context& ctx) const {
    const std::string text = ouro::to_display(ref);
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(text), ctx);
  }
};

template <>
struct fmt::formatter<ouro::HeapStats> : fmt::formatter<fmt::string_view> {
  template <class Context>
  auto format(const ouro::HeapStats& s, Context& ctx) const {
    return fmt::format_to(
        ctx.out(),
        "HeapStats(bytes_in_use={}, bytes_reserved={}, peak_bytes_in_use={}, limit_bytes={}, "
        "arenas={}, pools_used={}, large_blocks={}, memory_errors={}, fragmentation={:.3f})",
        s.bytes_in_use, s.bytes_reserved, s.peak_bytes_in_use, s.limit_bytes, s.arenas,
        s.pools_used, s.large_blocks, s.memory_errors, s.fragmentation());
  }
};

/// As Python prints one entry of gc.get_stats().
template <>
struct fmt::formatter<ouro::gc::GenerationStats> : fmt::formatter<fmt::string_view> {
  template <class Context>
  auto format(const ouro::gc::GenerationStats& s, Context& ctx) const {
    return fmt::format_to(ctx.out(), "{{'collections': {}, 'collected': {}, 'uncollectable': {}}}",
                          s.collections, s.collected, s.uncollectable);
  }
};

/// As Python prints the `info` dict a gc callback receives.
template <>
struct fmt::formatter<ouro::gc::CollectionInfo> : fmt::formatter<fmt::string_view> {
  template <class Context>
  auto format(const ouro::gc::CollectionInfo& i, Context& ctx) const {
    return fmt::format_to(ctx.out(), "{{'generation': {}, 'collected': {}, 'uncollectable': {}}}",
                          i.generation, i.collected, i.uncollectable);
  }
};

namespace ouro {

inline std::ostream& operator<<(std::ostream& out, const HeapStats& stats) {
  return out << fmt::format("{}", stats);
}

namespace gc {
inline std::ostream& operator<<(std::ostream& out, const GenerationStats& stats) {
  return out << fmt::format("{}", stats);
}
inline std::ostream& operator<<(std::ostream& out, const CollectionInfo& info) {
  return out << fmt::format("{}", info);
}
}  // namespace gc

}  // namespace ouro
