// Managed types and a fixture shared by the collector's tests (tests/core/): nodes with N
// references, a finalizer that counts, a finalizer that resurrects, types whose
// finalize() or clear() throw, a traverse() that visits too much, and a non-container.
//
// Every type counts its finalize(), clear() and destructor calls in gc_counters(), so a
// test can say exactly how many objects the collector finalized, cleared and freed.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ouro/core/gc.h"
#include "ouro/core/heap.h"
#include "ouro/core/ref.h"
#include "ouro/core/runtime.h"

namespace ouro::testing {

/// Calls counted across every type of this file; reset by GcTest for each test.
struct GcCounters {
  std::size_t finalized = 0;           ///< finalize() calls
  std::size_t cleared = 0;             ///< clear() calls
  std::size_t destroyed = 0;           ///< destructor calls
  std::size_t finalize_anomalies = 0;  ///< Finalized objects dying with finalize() calls != 1
};

inline GcCounters& gc_counters() {
  static GcCounters counters;
  return counters;
}

/// A container with N owned references (Python's `self.a, self.b, ...`).
template <std::size_t N>
class NodeN : public Object {
 public:
  static constexpr std::string_view kTypeName = N == 1 ? "Node" : N == 2 ? "Pair" : "NodeN";

  std::array<Ref<Object>, N> refs;

  Ref<Object>& next() { return refs[0]; }
  void traverse(Visitor& visit) override {
    for (const Ref<Object>& r : refs) visit(r);
  }
  void clear() override {
    ++gc_counters().cleared;
    for (Ref<Object>& r : refs) r = nullptr;
  }

 protected:
  ~NodeN() override { ++gc_counters().destroyed; }
};

using Node = NodeN<1>;
using Pair = NodeN<2>;

/// A container with any number of references (Python's list).
class Bin : public Object {
 public:
  static constexpr std::string_view kTypeName = "Bin";

  std::vector<Ref<Object>> items;

  void traverse(Visitor& visit) override {
    for (const Ref<Object>& r : items) visit(r);
  }
  void clear() override {
    ++gc_counters().cleared;
    // Moved out first: destroying an item may reach this Bin again.
    std::vector<Ref<Object>> dropped = std::move(items);
    items.clear();
  }

 protected:
  ~Bin() override { ++gc_counters().destroyed; }
};

/// Owns no references: not a container, never tracked (Python's int or str).
class Leaf : public Object {
 public:
  static constexpr std::string_view kTypeName = "Leaf";
  explicit Leaf(int v = 0) : value(v) {}
  int value;

 protected:
  ~Leaf() override { ++gc_counters().destroyed; }
};

/// A node whose finalizer (Python's __del__) counts its calls, per object and in total.
class Finalized : public Node {
 public:
  static constexpr std::string_view kTypeName = "Finalized";
  int finalize_calls = 0;
  void finalize() override {
    ++finalize_calls;
    ++gc_counters().finalized;
  }

 protected:
  // PEP 442: whether it dies by refcount or as cyclic garbage, finalize() ran exactly once.
  ~Finalized() override {
    if (finalize_calls != 1) ++gc_counters().finalize_anomalies;
  }
};

/// Resurrects itself from its finalizer (test_gc.py's Lazarus): appends a reference to
/// itself to `bin` if set (a managed list, as `storage.append(self)`), else to graveyard().
class Lazarus : public Node {
 public:
  static constexpr std::string_view kTypeName = "Lazarus";
  Ref<Bin> bin;

  /// Where Lazarus objects without a bin go. Must be emptied before the heap dies.
  static std::vector<Ref<Object>>& graveyard() {
    static std::vector<Ref<Object>> saved;
    return saved;
  }
  void traverse(Visitor& visit) override {
    Node::traverse(visit);
    visit(bin);
  }
  void clear() override {
    Node::clear();
    bin = nullptr;
  }
  void finalize() override {
    ++gc_counters().finalized;
    if (bin) {
      bin->items.push_back(Ref<Object>::borrow(this));
    } else {
      graveyard().push_back(Ref<Object>::borrow(this));
    }
  }

 protected:
  ~Lazarus() override = default;
};

/// A node whose finalize() and/or clear() throw, a given number of times.
class Thrower : public Node {
 public:
  static constexpr std::string_view kTypeName = "Thrower";
  int finalize_throws = 0;  ///< finalize() calls that still throw
  int clear_throws = 0;     ///< clear() calls that still throw (without clearing)
  void finalize() override {
    ++gc_counters().finalized;
    if (finalize_throws > 0) {
      --finalize_throws;
      throw std::runtime_error("finalize failed");
    }
  }
  void clear() override {
    if (clear_throws > 0) {
      --clear_throws;
      ++gc_counters().cleared;
      throw std::runtime_error("clear failed");
    }
    Node::clear();
  }

 protected:
  ~Thrower() override = default;
};

/// Breaks I3: owns one reference but visits it twice.
class DoubleVisit : public Node {
 public:
  static constexpr std::string_view kTypeName = "DoubleVisit";
  void traverse(Visitor& visit) override {
    visit(next());
    visit(next());
  }

 protected:
  ~DoubleVisit() override = default;
};

/// A fresh heap per test, current on this thread. Automatic collection stays on (the
/// default thresholds never fire in small tests, and OURO_GC_STRESS=1 collects at every
/// allocation); tests whose exact counts depend on when collections happen call
/// disable_automatic().
class GcTest : public ::testing::Test {
 protected:
  GcTest() : scope_(heap_) { gc_counters() = {}; }
  ~GcTest() override { Lazarus::graveyard().clear(); }

  /// No automatic collection (gc.disable()): only explicit ones, so counts are exact.
  void disable_automatic() { gc::disable(heap_); }

  std::size_t live() const { return heap_.live_objects(); }
  /// Live objects of the type registered as `type` (0 if none).
  std::size_t live_of(std::string_view type) const {
    for (const TypeCount& row : live_objects_by_type(heap_)) {
      if (row.type == type) return row.count;
    }
    return 0;
  }
  /// True if `object` is among `objects` (Python's `any(o is x for x in objects)`).
  static bool contains(const std::vector<Ref<Object>>& objects, const Object* object) {
    for (const Ref<Object>& o : objects) {
      if (o.get() == object) return true;
    }
    return false;
  }

  Heap heap_;
  HeapScope scope_;
};

/// A ring of n nodes (n >= 1); the caller holds the first. n == 1 is a self-cycle.
template <class T = Node>
Ref<T> make_ring(std::size_t n) {
  Ref<T> first = make<T>();
  Ref<Object> last = first;
  for (std::size_t i = 1; i < n; ++i) {
    Ref<T> node = make<T>();
    static_cast<T&>(*last).next() = node;
    last = node;
  }
  static_cast<T&>(*last).next() = first;
  return first;
}

}  // namespace ouro::testing
