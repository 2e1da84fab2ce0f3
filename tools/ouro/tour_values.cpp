// Tour chapter: Python values in ouro's heap (scenario 1, "pickling from a memory
// perspective", seen from the values' side): the seed's ComplexDataObject built without a
// C++ class, what each value costs in ouro's heap, and what the same value costs in
// CPython 3.11 (sys.getsizeof figures ouro knows for 64-bit CPython 3.11).
#include <fmt/format.h>

#include "ouro/core/gc.h"
#include "ouro/value/value.h"
#include "tour.h"
#include "tour_seed.h"

namespace ouro::tour {

namespace {

struct SizeRow {
  const char* python;   // the Python expression
  Value value;          // the same value in ouro
  std::size_t cpython;  // sys.getsizeof in CPython 3.11 (64-bit), items' own objects excluded
};

void show_sizes(std::vector<SizeRow>& rows) {
  show(fmt::format("{:<34}{:>8}{:>10}", "value", "ouro", "CPython"));
  for (const SizeRow& r : rows) {
    show(fmt::format("{:<34}{:>8}{:>10}", r.python, getsizeof(r.value), r.cpython));
  }
}

}  // namespace

void values_chapter() {
  Heap heap;
  HeapScope scope(heap);
  say("Python values live in the heap as managed objects. None, True, False and ints up to "
      "2^62 need no object at all: they are stored inside the 8-byte Value itself. Everything "
      "else is an object with a 16-byte header (+16 collector links for containers).");
  std::vector<SizeRow> rows;
  rows.push_back({"42 (also None, True)", Value(42), 28});
  rows.push_back({"2**70", Int::from_decimal("1180591620717411303424"), 36});
  rows.push_back({"0.5", Value(0.5), 24});
  rows.push_back({"'Sample Text'", Value("Sample Text"), 60});
  rows.push_back({"b'abc'", bytes("abc"), 36});
  rows.push_back({"[1, 2, 3]", list({1, 2, 3}), 88});
  rows.push_back({"('tuple', 42)", tuple({"tuple", 42}), 56});
  rows.push_back({"{'nested': 'dict'}", dict({{"nested", "dict"}}), 184});
  rows.push_back({"{1, 2, 3}", set({1, 2, 3}), 216});
  show_sizes(rows);
  say("(CPython's figure for 42 is an int object's; ouro's 0 means no object exists. CPython "
      "also rounds every block up to 16 bytes, which sys.getsizeof does not show.)");

  say("The seed's ComplexDataObject needs no C++ class: an Instance holds its class (a Global, "
      "module and qualified name) and its state dict, exactly what pickle stores.");
  Value obj = complex_data_object(heap);
  const Instance& o = obj.as<Instance>();
  show(fmt::format("obj.integer = {}, obj.string = {}", repr(*o.get_attr("integer")),
                   repr(*o.get_attr("string"))));
  show(fmt::format("obj.list = {}", repr(*o.get_attr("list"))));
  show(fmt::format("obj.nested.message = {}",
                   repr(*o.get_attr("nested")->as<Instance>().get_attr("message"))));
  show(fmt::format("the whole object graph: deep_sizeof(obj) = {} bytes in ouro's heap",
                   deep_sizeof(obj)));

  say("Equality and hashing follow Python: 1, 1.0 and True are one dict key; lists are "
      "unhashable; a list may contain itself and still prints, compares and dies cleanly.");
  Value d = dict({{1, "int"}, {1.0, "float"}, {true, "bool"}});
  show(fmt::format("{{1: 'int', 1.0: 'float', True: 'bool'}} -> {}", repr(d)));
  Value l = list({1, 2});
  l.as<List>().append(l);
  show(fmt::format("l = [1, 2]; l.append(l) -> {}", repr(l)));
  try {
    (void)hash(l);
  } catch (const TypeError& e) {
    show(fmt::format("hash(l) -> TypeError: {}", e.what()));
  }
  l = nullptr;
  show(
      fmt::format("after dropping l, gc::collect() finds {} unreachable container", gc::collect()));

  say("A million small ints in a list cost ouro 8 bytes each (the Values in the list's "
      "array); CPython spends 8 bytes for the pointer plus a 28-byte int object (32 with "
      "rounding) for each int above 256.");
  const std::size_t before = heap.stats().bytes_in_use;
  Ref<List> ints = List::make(heap, 1'000'000);
  for (int i = 0; i < 1'000'000; ++i) ints->append(i);
  show(fmt::format("ouro: {} bytes; CPython 3.11 (tracemalloc): about 40,000,000 bytes",
                   heap.stats().bytes_in_use - before));
}

}  // namespace ouro::tour
