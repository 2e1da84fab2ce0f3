// gc::find_unvisited_references: the check for I3's "visiting too little" (a field forgotten
// in traverse()), which the collector itself cannot see: a reference it does not find looks
// like one from outside the heap, so the cycle through it simply never dies.
//
// The check is conservative, as a debugging aid should be: for every tracked container it
// compares what traverse() visits with the words of the object's own bytes that hold the
// address of a tracked container (a Ref member is exactly such a word, and so is a Value
// holding an object). A word found more often than it is visited is reported. References
// kept outside the object (a std::vector's buffer) are not seen; borrowed pointers that are
// not references by design (a weak reference's referent) are left out.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "core/internal.h"
#include "ouro/core/gc.h"
#include "ouro/core/weakref.h"

namespace ouro::gc {

namespace {

using detail::GcLinks;
using detail::GcList;

struct CountVisits final : Visitor {
  std::unordered_map<const Object*, std::size_t> counts;
  void visit(Object* object) override { ++counts[object]; }
};

template <class Fn>
void for_each_tracked(detail::CoreState& rt, Fn&& fn) {
  auto walk = [&](GcList& list) {
    for (GcLinks* l = list.head.next; l != &list.head; l = l->next) fn(detail::object_of(l));
  };
  for (detail::Generation& g : rt.generations) walk(g.list);
  walk(rt.permanent);
}

}  // namespace

std::vector<UnvisitedReference> find_unvisited_references(Heap& heap) {
  heap.check_thread();
  detail::CoreState& rt = detail::core_state(heap);
  std::unordered_set<std::uintptr_t> tracked;
  for_each_tracked(rt, [&](Object* o) { tracked.insert(reinterpret_cast<std::uintptr_t>(o)); });
  std::vector<UnvisitedReference> found;
  for_each_tracked(rt, [&](Object* container) {
    if (dynamic_cast<WeakRef*>(container) != nullptr) return;  // its referent is borrowed
    CountVisits visits;
    container->traverse(visits);
    const auto* bytes = reinterpret_cast<const unsigned char*>(container);
    // The object's own bytes: its block less the GC links in front of it.
    const std::size_t size =
        getsizeof(*container) - container->owned_bytes() - sizeof(detail::GcLinks);
    for (std::size_t offset = sizeof(Object); offset + sizeof(std::uintptr_t) <= size;
         offset += sizeof(std::uintptr_t)) {
      std::uintptr_t word;
      std::memcpy(&word, bytes + offset, sizeof word);
      if (tracked.count(word) == 0) continue;
      auto* referent = reinterpret_cast<Object*>(word);
      auto visited = visits.counts.find(referent);
      if (visited != visits.counts.end() && visited->second > 0) {
        --visited->second;  // this word is one of the visited references
        continue;
      }
      found.push_back({Ref<Object>::borrow(container), Ref<Object>::borrow(referent), offset});
    }
  });
  return found;
}

}  // namespace ouro::gc
