// Weak references: sharing, clearing and callbacks on refcount death and on collection
// (CPython's handle_weakrefs rules), hashing and equality, opting out.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ouro/weakref.h"
#include "support/heap_fixture.h"

namespace {

using ouro::Ref;
using ouro::Weak;
using ouro::WeakRef;

class Thing : public ouro::Object {
 public:
  Ref<ouro::Object> other;
  std::vector<Weak<Thing>> weaks;  // weak references this object owns (not traversed: weak)
  void traverse(ouro::Visitor& visit) override {
    visit(other);
    for (auto& w : weaks) visit(w.ref());
  }
  void clear() override {
    other = nullptr;
    weaks.clear();
  }

 protected:
  ~Thing() override = default;
};

class Sealed : public ouro::Object {
 public:
  static constexpr bool kWeakReferenceable = false;
  static constexpr std::string_view kTypeName = "Sealed";

 protected:
  ~Sealed() override = default;
};

class WeakrefTest : public ouro::testing::HeapTest {
 protected:
  void SetUp() override { ouro::gc::disable(); }
};

TEST_F(WeakrefTest, LockReturnsTheReferentWhileAliveThenNull) {
  Ref<Thing> thing = ouro::make<Thing>();
  Weak<Thing> weak(thing);
  EXPECT_EQ(weak.lock(), thing);
  EXPECT_EQ(ouro::getrefcount(thing), 1u);  // weak references never keep anything alive
  thing.reset();
  EXPECT_FALSE(weak.lock());
  EXPECT_TRUE(weak.expired());
}

TEST_F(WeakrefTest, CallbackLessReferencesAreShared) {
  Ref<Thing> thing = ouro::make<Thing>();
  Weak<Thing> a(thing), b(thing);
  EXPECT_EQ(a.ref(), b.ref());
  EXPECT_EQ(ouro::getweakrefcount(thing), 1u);
  Weak<Thing> c(thing, [](const Ref<WeakRef>&) {});
  EXPECT_NE(c.ref(), a.ref());
  EXPECT_EQ(ouro::getweakrefcount(thing), 2u);
  {
    const auto refs = ouro::getweakrefs(thing);
    ASSERT_EQ(refs.size(), 2u);
    EXPECT_EQ(refs[0], a.ref());  // the shared basic reference comes first
  }
  a = Weak<Thing>();
  b = Weak<Thing>();
  EXPECT_EQ(ouro::getweakrefcount(thing), 1u);  // the basic ref died and left the list
}

TEST_F(WeakrefTest, CallbacksRunNewestFirstAfterAllAreCleared) {
  Ref<Thing> thing = ouro::make<Thing>();
  std::vector<std::string> calls;
  Weak<Thing> basic(thing);
  Weak<Thing> first(thing, [&](const Ref<WeakRef>& dead) {
    EXPECT_TRUE(dead->expired());
    EXPECT_TRUE(basic.expired());  // every weakref is cleared before any callback
    calls.push_back("first");
  });
  Weak<Thing> second(thing, [&](const Ref<WeakRef>& dead) {
    EXPECT_EQ(dead, second.ref());
    calls.push_back("second");
  });
  thing.reset();
  EXPECT_EQ(calls, (std::vector<std::string>{"second", "first"}));
}

TEST_F(WeakrefTest, CallbackOfADeadWeakrefDoesNotRun) {
  Ref<Thing> thing = ouro::make<Thing>();
  int calls = 0;
  { Weak<Thing> gone(thing, [&](const Ref<WeakRef>&) { ++calls; }); }
  thing.reset();
  EXPECT_EQ(calls, 0);
}

TEST_F(WeakrefTest, CallbackExceptionsGoToTheUnraisableHook) {
  std::vector<std::string> where;
  ouro::set_unraisable_hook(heap(), [&](const ouro::UnraisableInfo& info) {
    where.emplace_back(info.where);
  });
  Ref<Thing> thing = ouro::make<Thing>();
  int later = 0;
  Weak<Thing> w1(thing, [&](const Ref<WeakRef>&) { ++later; });
  Weak<Thing> w2(thing, [](const Ref<WeakRef>&) { throw std::runtime_error("boom"); });
  thing.reset();
  EXPECT_EQ(where, std::vector<std::string>{"weakref callback"});
  EXPECT_EQ(later, 1);  // the other callback still ran
}

TEST_F(WeakrefTest, CycleGarbageClearsWeakrefsAndCallsBackReachableOnes) {
  std::vector<std::string> calls;
  Weak<Thing> outside;
  {
    Ref<Thing> a = ouro::make<Thing>();
    Ref<Thing> b = ouro::make<Thing>();
    a->other = b;
    b->other = a;
    outside = Weak<Thing>(a, [&](const Ref<WeakRef>& dead) {
      EXPECT_TRUE(dead->expired());
      calls.push_back("outside");
    });
    // b holds a weakref to a with a callback: that weakref is garbage with the cycle.
    b->weaks.emplace_back(a, [&](const Ref<WeakRef>&) { calls.push_back("inside"); });
  }
  EXPECT_EQ(ouro::gc::collect(), 3u);  // a, b and the inner weakref
  EXPECT_EQ(calls, std::vector<std::string>{"outside"});
  EXPECT_TRUE(outside.expired());
  EXPECT_EQ(live_objects(), 1u);  // only the outside weakref remains
}

TEST_F(WeakrefTest, HashSurvivesTheReferentOnceTaken) {
  Ref<Thing> thing = ouro::make<Thing>();
  Ref<Thing> other = ouro::make<Thing>();
  Weak<Thing> hashed(thing), unhashed(other);
  const std::size_t h = hashed.hash();
  EXPECT_EQ(h, std::hash<const void*>{}(thing.get()));
  thing.reset();
  other.reset();
  EXPECT_EQ(hashed.hash(), h);
  EXPECT_THROW((void)unhashed.hash(), ouro::TypeError);
}

TEST_F(WeakrefTest, EqualityFollowsPython) {
  Ref<Thing> thing = ouro::make<Thing>();
  Weak<Thing> a(thing);
  Weak<Thing> b(thing, [](const Ref<WeakRef>&) {});
  EXPECT_TRUE(a == b);  // both alive, same referent
  thing.reset();
  EXPECT_FALSE(a == b);  // dead: identity of the weakrefs
  EXPECT_TRUE(a == a);
}

TEST_F(WeakrefTest, TypesCanOptOut) {
  Ref<Sealed> sealed = ouro::make<Sealed>();
  try {
    Weak<Sealed> w(sealed);
    FAIL() << "expected TypeError";
  } catch (const ouro::TypeError& e) {
    EXPECT_STREQ(e.what(), "cannot create weak reference to 'Sealed' object");
  }
}

TEST_F(WeakrefTest, ManyReferentsGrowTheSideTable) {
  std::vector<Ref<Thing>> things;
  std::vector<Weak<Thing>> weaks;
  for (int i = 0; i < 5000; ++i) {
    things.push_back(ouro::make<Thing>());
    weaks.emplace_back(things.back());
  }
  for (int i = 0; i < 5000; i += 2) things[static_cast<std::size_t>(i)].reset();
  for (int i = 0; i < 5000; ++i) {
    EXPECT_EQ(weaks[static_cast<std::size_t>(i)].expired(), i % 2 == 0) << i;
  }
  EXPECT_TRUE(heap().verify());
}

}  // namespace
