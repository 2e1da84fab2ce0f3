// A fresh heap per test, current for the test's duration (cppgc's TestWithHeap).
#pragma once

#include <gtest/gtest.h>

#include <optional>

#include "ouro/core/gc.h"
#include "ouro/core/heap.h"
#include "ouro/core/ref.h"
#include "ouro/core/runtime.h"

namespace ouro::testing {

class HeapTest : public ::testing::Test {
 protected:
  explicit HeapTest(HeapOptions options = {}) : heap_(options), scope_(heap_) {}
  Heap& heap() { return heap_; }
  std::size_t live_objects() const { return heap_.live_objects(); }

 private:
  Heap heap_;
  HeapScope scope_;
};

}  // namespace ouro::testing
