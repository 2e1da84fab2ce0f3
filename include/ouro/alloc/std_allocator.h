// ouro::StdAllocator<T>: a standard allocator over an ouro::Allocator, so that standard
// containers — the library's own (the unpickler's stack and memo, the weak containers'
// tables, the collector's lists) and a user's — take their memory from the heap, count
// against its limit and are served from its static buffer when it has one (DESIGN.md:
// "every byte the library uses at run time comes from its heap").
//
//     ouro::Heap heap({.limit_bytes = 8 << 20});
//     ouro::HeapVector<int> numbers{ouro::StdAllocator<int>(heap.allocator())};
//     numbers.push_back(1);  // MemoryError (a std::bad_alloc) past the limit
//
// Warning: a container using it must not outlive the allocator (the heap).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ouro/alloc/allocator.h"

namespace ouro {

template <class T>
class StdAllocator {
 public:
  using value_type = T;
  // Containers moved or swapped keep their allocator: blocks go back where they came from.
  using propagate_on_container_move_assignment = std::true_type;
  using propagate_on_container_swap = std::true_type;
  using propagate_on_container_copy_assignment = std::true_type;
  using is_always_equal = std::false_type;

  explicit StdAllocator(Allocator& allocator) noexcept : allocator_(&allocator) {}
  template <class U>
  StdAllocator(const StdAllocator<U>& other) noexcept : allocator_(&other.allocator()) {}

  /// Throws MemoryError (a std::bad_alloc) past the heap's limit.
  [[nodiscard]] T* allocate(std::size_t n) {
    static_assert(alignof(T) <= kAlignment,
                  "ouro::StdAllocator: T needs more than 16-byte alignment");
    if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(allocator_->allocate(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept { allocator_->deallocate(p, n * sizeof(T)); }

  Allocator& allocator() const noexcept { return *allocator_; }

  template <class U>
  friend bool operator==(const StdAllocator& a, const StdAllocator<U>& b) noexcept {
    return &a.allocator() == &b.allocator();
  }

 private:
  Allocator* allocator_;
};

/// A std::vector whose elements live in an ouro heap.
template <class T>
using HeapVector = std::vector<T, StdAllocator<T>>;
/// A std::string whose characters live in an ouro heap.
using HeapString = std::basic_string<char, std::char_traits<char>, StdAllocator<char>>;

}  // namespace ouro
