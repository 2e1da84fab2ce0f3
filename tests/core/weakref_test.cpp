// Weak references: sharing, clearing and callbacks on refcount death and on collection
// (CPython's handle_weakrefs rules), hashing and equality, opting out.
#include "ouro/core/weakref.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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

// Resurrects itself from its finalizer into `graveyard` (once: I6).
class Phoenix : public ouro::Object {
 public:
  explicit Phoenix(std::vector<Ref<Phoenix>>* graveyard) : graveyard_(graveyard) {}
  Ref<Phoenix> partner;
  void traverse(ouro::Visitor& visit) override { visit(partner); }
  void clear() override { partner = nullptr; }
  void finalize() override { graveyard_->push_back(Ref<Phoenix>::borrow(this)); }

 protected:
  ~Phoenix() override = default;

 private:
  std::vector<Ref<Phoenix>>* graveyard_;
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
  {
    Weak<Thing> gone(thing, [&](const Ref<WeakRef>&) { ++calls; });
  }
  thing.reset();
  EXPECT_EQ(calls, 0);
}

TEST_F(WeakrefTest, CallbackExceptionsGoToTheUnraisableHook) {
  std::vector<std::string> where;
  ouro::set_unraisable_hook(
      heap(), [&](const ouro::UnraisableInfo& info) { where.emplace_back(info.where); });
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

TEST_F(WeakrefTest, CollectionCallsBackNewestFirstWithTheDeadReference) {
  std::vector<std::pair<std::string, WeakRef*>> calls;
  Weak<Thing> basic, first, second;
  {
    Ref<Thing> a = ouro::make<Thing>();
    a->other = a;
    basic = Weak<Thing>(a);
    first = Weak<Thing>(a, [&](const Ref<WeakRef>& dead) {
      EXPECT_TRUE(basic.expired());  // all cleared before any callback (I5)
      calls.emplace_back("first", dead.get());
    });
    second = Weak<Thing>(a, [&](const Ref<WeakRef>& dead) {
      EXPECT_TRUE(first.expired());
      calls.emplace_back("second", dead.get());
    });
  }
  EXPECT_TRUE(calls.empty());
  EXPECT_EQ(ouro::gc::collect(), 1u);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0], std::make_pair(std::string("second"), second.ref().get()));
  EXPECT_EQ(calls[1], std::make_pair(std::string("first"), first.ref().get()));
}

TEST_F(WeakrefTest, AResurrectedObjectKeepsItsWeakrefsCleared) {
  std::vector<Ref<Phoenix>> graveyard;
  int calls = 0;
  Weak<Phoenix> basic, with_callback;
  {
    Ref<Phoenix> a = ouro::make<Phoenix>(&graveyard);
    Ref<Phoenix> b = ouro::make<Phoenix>(&graveyard);
    a->partner = b;
    b->partner = a;
    basic = Weak<Phoenix>(a);
    with_callback = Weak<Phoenix>(a, [&](const Ref<WeakRef>&) { ++calls; });
  }
  // The collector clears the weak references before the finalizers run; the finalizers
  // resurrect both objects, and the references stay cleared (CPython's rule).
  EXPECT_EQ(ouro::gc::collect(), 0u);
  ASSERT_EQ(graveyard.size(), 2u);
  EXPECT_TRUE(basic.expired());
  EXPECT_TRUE(with_callback.expired());
  EXPECT_EQ(calls, 1);
  Ref<Phoenix> a = graveyard[0]->partner ? graveyard[0] : graveyard[1];
  EXPECT_EQ(ouro::getweakrefcount(a), 0u);
  // New weak references work on the resurrected object, and follow it to its real death.
  Weak<Phoenix> again(a);
  EXPECT_EQ(again.lock(), a);
  a.reset();
  for (auto& p : graveyard) p->partner = nullptr;
  graveyard.clear();
  EXPECT_TRUE(again.expired());
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(heap().verify());
}

TEST_F(WeakrefTest, CallbacksThatMakeWeakrefsDuringStressCollections) {
  // In stress mode every new weak reference (a container) collects first; the callbacks
  // that collection runs make weak references to new referents of their own, taking room
  // in the side table between the outer reservation and its insert.
  ouro::gc::enable();
  ouro::testing::set_gc_stress(true);
  constexpr int kRounds = 400;
  std::vector<Ref<Thing>> kept, made_in_callbacks;
  std::vector<Weak<Thing>> weaks, weaks_in_callbacks;
  made_in_callbacks.reserve(3 * kRounds);  // no reallocation under the outer push_back
  weaks_in_callbacks.reserve(3 * kRounds);
  for (int i = 0; i < kRounds; ++i) {
    Ref<Thing> garbage = ouro::make<Thing>();
    garbage->other = garbage;
    weaks.emplace_back(garbage, [&](const Ref<WeakRef>&) {
      for (int j = 0; j < 3; ++j) {
        made_in_callbacks.push_back(ouro::make<Thing>());
        weaks_in_callbacks.emplace_back(made_in_callbacks.back());
      }
    });
    garbage.reset();
    kept.push_back(ouro::make<Thing>());
    Weak<Thing> w(kept.back());  // collects: the callback above runs in there
    weaks.push_back(std::move(w));
  }
  ouro::gc::collect();
  EXPECT_EQ(made_in_callbacks.size(), 3u * kRounds);
  for (std::size_t i = 0; i < weaks.size(); ++i) {
    EXPECT_EQ(weaks[i].expired(), i % 2 == 0) << i;  // the garbage ones are cleared
  }
  for (std::size_t i = 0; i < weaks_in_callbacks.size(); ++i) {
    EXPECT_EQ(weaks_in_callbacks[i].lock(), made_in_callbacks[i]);
  }
  EXPECT_TRUE(heap().verify());
  kept.clear();
  made_in_callbacks.clear();
  for (auto& w : weaks) EXPECT_TRUE(w.expired());
  for (auto& w : weaks_in_callbacks) EXPECT_TRUE(w.expired());
}

}  // namespace
