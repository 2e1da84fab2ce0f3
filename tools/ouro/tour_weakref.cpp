// Tour chapter: weak references (scenario 2: a large object, a weak reference with a
// callback, the strong reference dropped, the callback announcing finalization, the weak
// reference returning None; then a weak-value cache that empties itself under a limit).
#include <fmt/format.h>

#include <numeric>
#include <span>

#include "ouro/core/gc.h"
#include "ouro/weak/containers.h"
#include "tour.h"

namespace ouro::tour {

namespace {

// 100,000 ints in the object's own block, so they count against the heap's limit.
class LargeObject : public Object {
 public:
  static constexpr std::string_view kTypeName = "LargeObject";
  static constexpr std::size_t kInts = 100'000;
  explicit LargeObject(std::string object_name) : name(std::move(object_name)) {
    std::iota(ints().begin(), ints().end(), 0);
  }
  std::span<int> ints() { return {reinterpret_cast<int*>(this + 1), kInts}; }
  std::string name;
  Ref<LargeObject> self;  // a back-pointer: a cycle only the collector frees
  void traverse(Visitor& visit) override { visit(self); }
  void clear() override { self = nullptr; }

 protected:
  ~LargeObject() override = default;
};

Ref<LargeObject> make_large(Heap& heap, const std::string& name) {
  return make_in<LargeObject>(heap, LargeObject::kInts * sizeof(int), name);
}

}  // namespace

void weakref_chapter() {
  Heap heap({.arena_size = 64 << 10, .pool_size = 4 << 10, .limit_bytes = 2 << 20});
  HeapScope scope(heap);
  say("A weak reference points at an object without keeping it alive. Here LargeObject "
      "('BigOne') holds 100,000 ints, and a weak reference to it has a callback that "
      "announces its finalization.");
  Ref<LargeObject> big = make_large(heap, "BigOne");
  Weak<LargeObject> weak(big,
                         [](const Ref<WeakRef>&) { show("callback: BigOne has been finalized"); });
  if (Ref<LargeObject> strong = weak.lock()) {
    show(fmt::format("weak.lock() -> LargeObject('{}') with {} ints", strong->name,
                     strong->ints().size()));
  }
  say("Deleting the only strong reference frees the object at once; its weak references "
      "are cleared first, then the callback runs.");
  big.reset();
  show(fmt::format("weak.lock() -> {}", weak.lock() ? "an object" : "None (empty Ref)"));

  say("A cache built on weak references never keeps its objects alive. The heap has a "
      "2 MiB limit, each object takes 400 KB, and each one points back at itself, so "
      "only the collector can free it (automatic collection is off here). When an "
      "allocation would pass the limit, the heap runs a full collection first: the "
      "objects that only the cache lists are freed, and their entries vanish.");
  gc::disable();
  WeakValueDictionary<std::string, LargeObject> cache;
  for (int i = 0; i < 7; ++i) {
    const std::string name = fmt::format("image{}", i);
    Ref<LargeObject> object = make_large(heap, name);
    object->self = object;
    cache.set(name, object);
    show(fmt::format("loaded {}: the cache lists {} objects, {} KB in use", name, cache.size(),
                     heap.stats().bytes_in_use >> 10));
  }
  show(fmt::format("collections forced by the limit: {}", heap.stats().pressure_calls));
  gc::collect();
  show(fmt::format("after gc::collect(): the cache lists {} objects", cache.size()));
}

}  // namespace ouro::tour
