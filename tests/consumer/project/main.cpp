// A program outside the ouro tree, built against an installed ouro.
#include <ouro/core/gc.h>
#include <ouro/core/ref.h>

#include <cstdio>

class Pair : public ouro::Object {
 public:
  ouro::Ref<Pair> other;
  void traverse(ouro::Visitor& visit) override { visit(other); }
  void clear() override { other = nullptr; }

 protected:
  ~Pair() override = default;
};

int main() {
  ouro::Heap heap;
  ouro::HeapScope scope(heap);
  {
    auto a = ouro::make<Pair>();
    auto b = ouro::make<Pair>();
    a->other = b;
    b->other = a;
  }
  const std::size_t collected = ouro::gc::collect();
  std::printf("consumer: collected %zu, live %zu\n", collected, heap.live_objects());
}
