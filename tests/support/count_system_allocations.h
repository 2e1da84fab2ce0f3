// Counts calls to the system allocator: this header replaces the global operator new (and,
// outside sanitizer builds, malloc) with counting versions, so it is included by exactly one
// file of a test binary (the "every byte in the heap" tests: tests/core/buffer_heap_test.cpp,
// tests/pickle/buffer_heap_test.cpp).
//
//     CountSystemAllocations counter;  // counts from here...
//     ...
//     EXPECT_EQ(counter.count(), 0u);  // ...to here
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

namespace count_system_allocations_detail {
inline std::size_t allocations = 0;
inline bool counting = false;
}  // namespace count_system_allocations_detail

// The replacements pair malloc with free on purpose; GCC cannot see that operator new here
// is ours and warns that free() does not match it.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t n) {
  if (count_system_allocations_detail::counting) ++count_system_allocations_detail::allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

#if !defined(__SANITIZE_ADDRESS__)
// Every exception object (__cxa_allocate_exception) and every std::string or container
// outside the heap comes through here.
extern "C" void* __libc_malloc(std::size_t);
extern "C" void* malloc(std::size_t n) {
  if (count_system_allocations_detail::counting) ++count_system_allocations_detail::allocations;
  return __libc_malloc(n);
}
#endif

/// Counting scope: system allocations made between its construction and count().
struct CountSystemAllocations {
  CountSystemAllocations() {
    count_system_allocations_detail::allocations = 0;
    count_system_allocations_detail::counting = true;
  }
  ~CountSystemAllocations() { count_system_allocations_detail::counting = false; }
  CountSystemAllocations(const CountSystemAllocations&) = delete;
  CountSystemAllocations& operator=(const CountSystemAllocations&) = delete;
  std::size_t count() const { return count_system_allocations_detail::allocations; }
};
