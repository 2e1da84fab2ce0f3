// Values and their heap's lifetime: a Value kept past its heap is reported when the heap is
// destroyed, and dropping it afterwards is harmless (the object core keeps and disowns its
// memory).
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "ouro/core/heap.h"
#include "ouro/value/value.h"

namespace {

TEST(ValueLifetime, AValueThatOutlivesItsHeapIsReportedAndDropsHarmlessly) {
  ouro::Value kept;  // declared before the heap: destroyed after it
  ::testing::internal::CaptureStderr();
  {
    ouro::Heap heap;
    ouro::HeapScope scope(heap);
    kept = ouro::list({ouro::Value("sensor_data"), ouro::Value(3.5)});
  }
  const std::string report = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(report.find("still referenced from outside it"), std::string::npos) << report;
  EXPECT_NE(report.find("list"), std::string::npos) << report;
  kept = ouro::Value();  // no heap to return to: nothing happens
}

}  // namespace
