// Ref<T> arithmetic: copies, moves, self-assignment, comparisons, hashing, casts; make<T>
// and what it refuses; getrefcount and getsizeof.
#include <gtest/gtest.h>

#include <unordered_set>

#include "support/heap_fixture.h"

namespace {

using ouro::Ref;

int g_destroyed = 0;

class Leaf : public ouro::Object {
 public:
  explicit Leaf(int v = 0) : value(v) {}
  int value;

 protected:
  ~Leaf() override { ++g_destroyed; }
};

class Branch : public ouro::Object {
 public:
  Ref<ouro::Object> child;
  void traverse(ouro::Visitor& visit) override { visit(child); }
  void clear() override { child = nullptr; }

 protected:
  ~Branch() override { ++g_destroyed; }
};

class Throwing : public ouro::Object {
 public:
  Throwing() { throw std::runtime_error("constructor failed"); }

 protected:
  ~Throwing() override = default;
};

class Named : public ouro::Object {
 public:
  static constexpr std::string_view kTypeName = "Named";

 protected:
  ~Named() override = default;
};

class RefTest : public ouro::testing::HeapTest {
 protected:
  void SetUp() override { g_destroyed = 0; }
};

TEST_F(RefTest, CopiesAndMovesCount) {
  Ref<Leaf> a = ouro::make<Leaf>(1);
  EXPECT_EQ(ouro::getrefcount(a), 1u);
  Ref<Leaf> b = a;
  EXPECT_EQ(ouro::getrefcount(a), 2u);
  Ref<Leaf> c = std::move(b);
  EXPECT_FALSE(b);
  EXPECT_EQ(ouro::getrefcount(a), 2u);
  c = nullptr;
  EXPECT_EQ(ouro::getrefcount(a), 1u);
  EXPECT_EQ(g_destroyed, 0);
  a.reset();
  EXPECT_EQ(g_destroyed, 1);  // freed the moment the count reached zero
  EXPECT_EQ(live_objects(), 0u);
}

TEST_F(RefTest, SelfAssignmentKeepsTheObject) {
  Ref<Leaf> a = ouro::make<Leaf>(5);
  Ref<Leaf>& alias = a;
  a = alias;
  EXPECT_EQ(a->value, 5);
  EXPECT_EQ(ouro::getrefcount(a), 1u);
  a = std::move(alias);
  EXPECT_TRUE(a);
  EXPECT_EQ(ouro::getrefcount(a), 1u);
  EXPECT_EQ(g_destroyed, 0);
}

TEST_F(RefTest, AssignmentReleasesTheOldObjectAfterStoringTheNew) {
  // Branch -> child; assigning the branch's own child field a new value frees the old one.
  Ref<Branch> branch = ouro::make<Branch>();
  branch->child = ouro::make<Leaf>(1);
  branch->child = ouro::make<Leaf>(2);
  EXPECT_EQ(g_destroyed, 1);
  EXPECT_EQ(ouro::ref_cast<Leaf>(branch->child)->value, 2);
}

TEST_F(RefTest, ComparesAndHashesByIdentity) {
  Ref<Leaf> a = ouro::make<Leaf>(1);
  Ref<Leaf> b = ouro::make<Leaf>(1);
  Ref<ouro::Object> a_as_object = a;
  EXPECT_TRUE(a == a_as_object);
  EXPECT_FALSE(a == b);
  EXPECT_TRUE(Ref<Leaf>() == nullptr);
  EXPECT_NE(a <=> b, std::strong_ordering::equal);
  std::unordered_set<Ref<Leaf>> set{a, b, a};
  EXPECT_EQ(set.size(), 2u);
  EXPECT_EQ(ouro::getrefcount(a), 3u);  // a, a_as_object and the set's one copy
}

TEST_F(RefTest, UpcastAndCheckedDowncast) {
  Ref<ouro::Object> object = ouro::make<Leaf>(7);
  Ref<Leaf> leaf = ouro::ref_cast<Leaf>(object);
  ASSERT_TRUE(leaf);
  EXPECT_EQ(leaf->value, 7);
  EXPECT_FALSE(ouro::ref_cast<Branch>(object));
  EXPECT_THROW((void)ouro::checked_cast<Branch>(object), ouro::TypeError);
  try {
    (void)ouro::checked_cast<Branch>(object);
  } catch (const ouro::TypeError& e) {
    EXPECT_NE(std::string(e.what()).find("Leaf"), std::string::npos) << e.what();
  }
  Ref<ouro::Object> moved = std::move(leaf);
  EXPECT_EQ(ouro::getrefcount(moved), 2u);
}

TEST_F(RefTest, ReleaseAdoptAndBorrow) {
  Ref<Leaf> a = ouro::make<Leaf>(1);
  Leaf* raw = a.release();
  EXPECT_FALSE(a);
  Ref<Leaf> again = Ref<Leaf>::adopt(raw);
  EXPECT_EQ(ouro::getrefcount(again), 1u);
  Ref<Leaf> borrowed = Ref<Leaf>::borrow(raw);
  EXPECT_EQ(ouro::getrefcount(again), 2u);
}

TEST_F(RefTest, GetsizeofCountsTheBlockAndTheCollectorLinks) {
  Ref<Leaf> leaf = ouro::make<Leaf>();
  Ref<Branch> branch = ouro::make<Branch>();
  EXPECT_EQ(sizeof(ouro::Object), 16u);  // vtable pointer + 32-bit count + 32-bit flags
  EXPECT_EQ(ouro::getsizeof(leaf), ouro::Heap::block_size_for(sizeof(Leaf)));
  EXPECT_EQ(ouro::getsizeof(branch), ouro::Heap::block_size_for(16 + sizeof(Branch)));
  EXPECT_EQ(ouro::getsizeof(branch), 32u + 16u);  // 32-byte container header + one Ref
  EXPECT_EQ(ouro::getsizeof(Ref<Leaf>()), 0u);
}

TEST_F(RefTest, ContainersAreTrackedOthersAreNot) {
  Ref<Leaf> leaf = ouro::make<Leaf>();
  Ref<Branch> branch = ouro::make<Branch>();
  EXPECT_FALSE(leaf->is_container());
  EXPECT_FALSE(leaf->is_tracked());
  EXPECT_TRUE(branch->is_container());
  EXPECT_TRUE(branch->is_tracked());
  EXPECT_EQ(&leaf->heap(), &heap());
  EXPECT_EQ(&branch->heap(), &heap());
}

TEST_F(RefTest, TypeNamesComeFromTheRegistry) {
  EXPECT_EQ(ouro::make<Named>()->type_name(), "Named");
  EXPECT_NE(ouro::make<Leaf>()->type_name().find("Leaf"), std::string_view::npos);
}

TEST_F(RefTest, AThrowingConstructorLeavesNothingBehind) {
  const std::size_t in_use = heap().stats().bytes_in_use;
  EXPECT_THROW((void)ouro::make<Throwing>(), std::runtime_error);
  EXPECT_EQ(heap().stats().bytes_in_use, in_use);
  EXPECT_EQ(live_objects(), 0u);
  EXPECT_TRUE(heap().verify());
}

TEST_F(RefTest, MakeInAGivenHeap) {
  ouro::Heap other;
  Ref<Leaf> leaf = other.make<Leaf>(3);
  EXPECT_EQ(&leaf->heap(), &other);
  EXPECT_EQ(other.live_objects(), 1u);
  EXPECT_EQ(live_objects(), 0u);
  leaf.reset();  // freed into its own heap even though another one is current
  EXPECT_EQ(other.live_objects(), 0u);
  EXPECT_EQ(other.stats().bytes_in_use, 0u);
}

TEST(MakeWithoutHeap, ThrowsLogicError) {
  EXPECT_THROW((void)ouro::make<Leaf>(), std::logic_error);
}

TEST_F(RefTest, MakeUnderALimitThrowsMemoryError) {
  ouro::Heap small({.arena_size = 16 * 1024, .pool_size = 1024, .limit_bytes = 64 * 1024});
  std::vector<Ref<Leaf>> kept;
  EXPECT_THROW(
      {
        for (;;) kept.push_back(small.make<Leaf>(1));
      },
      ouro::MemoryError);
  EXPECT_TRUE(small.verify());
  kept.clear();
  EXPECT_EQ(small.live_objects(), 0u);
}

}  // namespace
