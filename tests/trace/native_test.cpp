// Native frames (Tracer::start's native_frames): an allocation made through a known chain of
// C++ functions shows those functions, innermost first, with the file:line of each call, in
// the object's traceback and in the statistics grouped by traceback.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "ouro/core/ref.h"
#include "ouro/trace/tracer.h"
#include "support/heap_fixture.h"

// Outside namespace ouro on purpose: frames of functions in namespace ouro count as the
// library's own and are dropped from the top of a stack.
class NativeLeaf : public ouro::Object {
 public:
  std::uint64_t value = 7;

 protected:
  ~NativeLeaf() override = default;
};

// noinline, and the asm after each call keeps GCC from turning it into a tail jump (which
// would take the caller's frame off the stack).
constexpr std::uint32_t kMakeLine = __LINE__ + 2;
[[gnu::noinline]] ouro::Ref<NativeLeaf> native_inner() {
  ouro::Ref<NativeLeaf> leaf = ouro::make<NativeLeaf>();
  asm volatile("" : : "r"(leaf.get()) : "memory");
  return leaf;
}
constexpr std::uint32_t kInnerCallLine = __LINE__ + 2;
[[gnu::noinline]] ouro::Ref<NativeLeaf> native_middle() {
  ouro::Ref<NativeLeaf> leaf = native_inner();
  asm volatile("" : : "r"(leaf.get()) : "memory");
  return leaf;
}
constexpr std::uint32_t kMiddleCallLine = __LINE__ + 2;
[[gnu::noinline]] ouro::Ref<NativeLeaf> native_outer() {
  ouro::Ref<NativeLeaf> leaf = native_middle();
  asm volatile("" : : "r"(leaf.get()) : "memory");
  return leaf;
}

namespace ouro::trace {
namespace {

class NativeFramesTest : public ouro::testing::HeapTest {
 protected:
  Tracer tracer{heap()};
};

/// The frames one per line, for failure messages.
std::string frames_text(const Traceback& tb) {
  std::string text;
  for (const Frame& f : tb.frames)
    text += f.function + " at " + f.filename + ":" + std::to_string(f.lineno) + "\n";
  return text;
}

/// The index of the first frame whose function name contains `name`, or -1.
int frame_of(const Traceback& tb, const std::string& name) {
  for (std::size_t i = 0; i < tb.frames.size(); ++i) {
    if (tb.frames[i].function.find(name) != std::string::npos) return static_cast<int>(i);
  }
  return -1;
}

TEST_F(NativeFramesTest, AKnownCallChainShowsItsFunctionsAndLines) {
  tracer.start(1, 8);
  const Ref<NativeLeaf> leaf = native_outer();
  const auto tb = tracer.get_object_traceback(*leaf);
  ASSERT_TRUE(tb.has_value());
  // First the entry point: the line that called make<T>.
  ASSERT_GE(tb->frames.size(), 3u);
  EXPECT_EQ(tb->frames[0].lineno, kMakeLine);
  EXPECT_NE(tb->frames[0].filename.find("native_test.cpp"), std::string::npos);
  // Then the native callers, innermost first (native_inner's own frame is the make<T> line,
  // already shown, so it is not repeated); none of ouro's own frames.
  const int middle = frame_of(*tb, "native_middle()");
  const int outer = frame_of(*tb, "native_outer()");
  ASSERT_EQ(middle, 1) << frames_text(*tb);
  ASSERT_EQ(outer, middle + 1);
  EXPECT_EQ(tb->frames[middle].lineno, kInnerCallLine);
  EXPECT_EQ(tb->frames[outer].lineno, kMiddleCallLine);
  EXPECT_NE(tb->frames[middle].filename.find("native_test.cpp"), std::string::npos);
  for (const Frame& frame : tb->frames) {  // the tracer's, the allocator's, make<T>'s
    EXPECT_EQ(frame.function.find("Tracer::"), std::string::npos) << frame.function;
    EXPECT_EQ(frame.function.find("Allocator::"), std::string::npos) << frame.function;
    EXPECT_EQ(frame.function.find("make_observed"), std::string::npos) << frame.function;
  }
  EXPECT_LE(tb->frames.size(), 1u + 8u);

  // Grouped by traceback, the block's statistic carries the same frames.
  bool found = false;
  for (const Statistic& stat : tracer.take_snapshot().statistics(KeyType::kTraceback)) {
    if (frame_of(stat.traceback, "native_outer()") >= 0) {
      found = true;
      EXPECT_EQ(stat.count, 1u);
      EXPECT_EQ(stat.traceback.frames, tb->frames);
      const auto lines = stat.traceback.format();
      EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [](const std::string& line) {
        return line.find("in native_middle()") != std::string::npos;
      }));
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(NativeFramesTest, OffByDefaultAndCheckedArguments) {
  tracer.start();
  const Ref<NativeLeaf> leaf = native_outer();
  const auto tb = tracer.get_object_traceback(*leaf);
  ASSERT_TRUE(tb.has_value());
  EXPECT_EQ(tb->frames.size(), 1u);  // the entry point alone
  EXPECT_EQ(frame_of(*tb, "native_middle()"), -1);
  EXPECT_THROW(tracer.start(1, -1), std::invalid_argument);
  EXPECT_THROW(tracer.start(1, kMaxFrames + 1), std::invalid_argument);
}

}  // namespace
}  // namespace ouro::trace
