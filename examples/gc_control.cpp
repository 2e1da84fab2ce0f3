// Allocation and deallocation (SCENARIOS.md 3): reference counts going up and down, an
// object freed the moment its last reference is rebound, a cycle that counting cannot free,
// and gc.disable()/gc.collect() taking manual control, with statistics before and after.
#include <fmt/format.h>

#include <string>

#include "ouro/core/format.h"
#include "ouro/core/gc.h"

// A node of a linked structure; it may point back at itself through others.
class Node : public ouro::Object {
 public:
  explicit Node(std::string node_name) : name(std::move(node_name)) {}
  std::string name;
  ouro::Ref<Node> next;
  void traverse(ouro::Visitor& visit) override { visit(next); }
  void clear() override { next = nullptr; }
  void finalize() override { fmt::print("   {} freed\n", name); }
  std::string py_repr() const override { return fmt::format("Node('{}')", name); }

 protected:
  ~Node() override = default;
};

int main() {
  ouro::Heap heap;
  ouro::HeapScope scope(heap);

  fmt::print("1. Counts (sys.getrefcount without its temporary).\n");
  auto a = ouro::make<Node>("a");
  fmt::print("   a = {}: count {}\n", a, ouro::getrefcount(a));
  {
    auto alias = a;
    fmt::print("   alias = a: count {}\n", ouro::getrefcount(a));
  }
  fmt::print("   alias gone: count {}\n", ouro::getrefcount(a));
  fmt::print("   rebinding a:\n");
  a = ouro::make<Node>("a2");  // the old a is freed here, deterministically

  fmt::print("2. A cycle: refcounting alone cannot free it.\n");
  ouro::gc::disable();  // manual control, as gc.disable()
  const auto before = ouro::gc::get_stats();
  auto b = ouro::make<Node>("b");
  auto c = ouro::make<Node>("c");
  b->next = c;
  c->next = b;
  fmt::print("   b -> c -> b; counts {} and {}\n", ouro::getrefcount(b), ouro::getrefcount(c));
  b = nullptr;
  c = nullptr;
  fmt::print("   names dropped: nothing freed, {} bytes still in use\n", heap.stats().bytes_in_use);

  fmt::print("3. gc.collect() finds them.\n");
  const std::size_t found = ouro::gc::collect();
  fmt::print("   gc.collect() -> {}\n", found);
  fmt::print("   stats before: {}\n", before);
  fmt::print("   stats after:  {}\n", ouro::gc::get_stats());
  ouro::gc::enable();
  fmt::print("   heap: {}\n", heap.stats());
  return found == 2 ? 0 : 1;
}
