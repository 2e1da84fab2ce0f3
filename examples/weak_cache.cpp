// A cache of large objects that frees them when nothing else holds them (SCENARIOS.md 2):
// a weak reference with a callback announcing finalization, then a weak-value cache under
// a heap limit, where the collection the limit forces empties the cache of what only it
// (weakly) still lists.
#include <cstdio>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "ouro/core/gc.h"
#include "ouro/weak/containers.h"
#include "ouro/weak/finalize.h"

// 100,000 ints stored in the object's own heap block, so they count against the limit.
class LargeObject : public ouro::Object {
 public:
  static constexpr std::size_t kInts = 100'000;
  explicit LargeObject(std::string object_name) : name(std::move(object_name)) {
    std::iota(ints().begin(), ints().end(), 0);
  }
  std::span<int> ints() { return {reinterpret_cast<int*>(this + 1), kInts}; }
  std::string name;
  ouro::Ref<LargeObject> self;  // a back-pointer: only the collector can free it
  void traverse(ouro::Visitor& visit) override { visit(self); }
  void clear() override { self = nullptr; }

 protected:
  ~LargeObject() override = default;
};

ouro::Ref<LargeObject> make_large(const std::string& name) {
  return ouro::make_in<LargeObject>(*ouro::Heap::current(), LargeObject::kInts * sizeof(int), name);
}

int main() {
  ouro::Heap heap({.arena_size = 64 << 10, .pool_size = 4 << 10, .limit_bytes = 2 << 20});
  ouro::HeapScope scope(heap);

  std::puts("1. A weak reference with a callback.");
  auto big = make_large("BigOne");
  ouro::Weak<LargeObject> weak(big, [](const ouro::Ref<ouro::WeakRef>&) {
    std::puts("   callback: BigOne has been finalized");
  });
  if (auto strong = weak.lock()) {
    std::printf("   through the weak reference: LargeObject('%s'), %zu ints\n",
                strong->name.c_str(), strong->ints().size());
  }
  std::puts("   deleting the only strong reference");
  big.reset();
  std::printf("   the weak reference now returns %s\n", weak.lock() ? "an object" : "None");

  std::puts("2. A weak-value cache under a 2 MiB heap limit (each object takes 400 KB).");
  ouro::gc::disable();  // so only the limit's emergency collection frees the cycles
  ouro::WeakValueDictionary<std::string, LargeObject> cache;
  auto load = [&](const std::string& name) {
    if (auto hit = cache.get(name)) return hit;
    auto object = make_large(name);  // may collect first, to stay under the limit
    object->self = object;
    (void)ouro::finalize(object, [name] { std::printf("   %s finalized\n", name.c_str()); });
    cache.set(name, object);
    return object;
  };
  for (int i = 0; i < 8; ++i) {
    auto object = load("image" + std::to_string(i));
    std::printf("   loaded %s: cache holds %zu, %zu KB in use\n", object->name.c_str(),
                cache.size(), heap.stats().bytes_in_use >> 10);
  }
  std::puts("   a cache hit needs no memory:");
  std::printf("   image7 is %s\n", cache.get("image7") ? "cached" : "gone");

  std::puts("3. Holding them all strongly instead: the limit holds.");
  std::vector<ouro::Ref<LargeObject>> held;
  try {
    for (int i = 0; i < 8; ++i) held.push_back(load("held" + std::to_string(i)));
  } catch (const ouro::MemoryError& e) {
    std::printf("   MemoryError after %zu objects: %s\n", held.size(), e.what());
  }
  for (auto& object : held) object->self = nullptr;
  held.clear();
  std::printf("   released: cache holds %zu\n", cache.size());
  return 0;
}
