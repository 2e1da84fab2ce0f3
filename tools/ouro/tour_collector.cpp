// Tour chapter: reference counting and the cycle collector (scenario 3: allocation and
// deallocation, getrefcount, rebinding, a cycle that needs the collector, gc.disable/collect).
#include <fmt/format.h>

#include "ouro/core/gc.h"
#include "ouro/core/ref.h"
#include "ouro/core/runtime.h"
#include "tour.h"

namespace ouro::tour {

namespace {

class Node : public Object {
 public:
  static constexpr std::string_view kTypeName = "Node";
  explicit Node(std::string node_name) : name(std::move(node_name)) {}
  std::string name;
  Ref<Node> partner;
  void traverse(Visitor& visit) override { visit(partner); }
  void clear() override { partner = nullptr; }
  void finalize() override { show(fmt::format("finalizer of {} runs (once)", name)); }

 protected:
  ~Node() override = default;
};

}  // namespace

void collector_chapter() {
  Heap heap;
  HeapScope scope(heap);
  say("Every object carries a reference count. Objects are freed the moment their count "
      "reaches zero, as in CPython.");
  Ref<Node> a = make<Node>("a");
  show(fmt::format("a = Node('a'): getrefcount(a) = {}", getrefcount(a)));
  Ref<Node> b = a;
  show(fmt::format("b = a:         getrefcount(a) = {}", getrefcount(a)));
  b = make<Node>("b");
  show(fmt::format("b = Node('b'): getrefcount(a) = {} (rebinding b dropped a reference)",
                   getrefcount(a)));
  show(
      fmt::format("live objects: {}; a takes {} bytes in the heap (16 header + 16 collector "
                  "links + fields)",
                  heap.live_objects(), getsizeof(a)));

  say("Now a and b point at each other, and we drop our own references. Each still holds "
      "the other, so reference counting alone can never free them: a cycle.");
  gc::disable();
  a->partner = b;
  b->partner = a;
  a.reset();
  b.reset();
  show(fmt::format("after dropping both: live objects = {} (the cycle is garbage, but alive)",
                   heap.live_objects()));

  say("The cycle collector finds it: it subtracts the references that objects inside the "
      "heap hold to each other; whatever has none left from outside is unreachable. "
      "gc::collect() runs it now (automatic collection is disabled, as with gc.disable()).");
  const auto before = gc::get_stats()[2];
  const std::size_t found = gc::collect();
  const auto after = gc::get_stats()[2];
  show(fmt::format("gc::collect() returned {}; live objects = {}", found, heap.live_objects()));
  show(fmt::format("generation 2 statistics: collections {} -> {}, collected {} -> {}",
                   before.collections, after.collections, before.collected, after.collected));
  gc::enable();
  auto [t0, t1, t2] = gc::get_threshold();
  say("With automatic collection enabled, a young-generation collection runs whenever "
      "container allocations exceed deallocations by the first threshold.");
  show(fmt::format("thresholds ({}, {}, {}), CPython 3.11's defaults", t0, t1, t2));
}

}  // namespace ouro::tour
