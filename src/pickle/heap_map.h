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

/// std::unordered_map over an ouro allocator.
template <class Key, class T, class Hash = std::hash<Key>>
using HeapMap =
    std::unordered_map<Key, T, Hash, std::equal_to<Key>, StdAllocator<std::pair<const Key, T>>>;

/// Hash of any string type by its characters (HeapString has no std::hash of its own).
struct TextHash {
  std::size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};

}  // namespace ouro::pickle::detail
