// Hash tables whose memory is a heap's (StdAllocator), for the pickle layer's own
// bookkeeping: the unpickler's memo and tables, dis's memo. Keeps DESIGN.md I7 for them:
// their bytes count against the same limit as the values.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "ouro/alloc/std_allocator.h"

namespace ouro::pickle::detail {

/// std::unordered_map over an ouro allocator. The key comparison is transparent: with a
/// transparent hash (TextHash), a string-keyed map is searched by a std::string_view, with
/// no key string made (and so no allocation) for a look-up.
template <class Key, class T, class Hash = std::hash<Key>>
using HeapMap =
    std::unordered_map<Key, T, Hash, std::equal_to<>, StdAllocator<std::pair<const Key, T>>>;

/// Hash of any string type by its characters (HeapString has no std::hash of its own).
struct TextHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};

}  // namespace ouro::pickle::detail
