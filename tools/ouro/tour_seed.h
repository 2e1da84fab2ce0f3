// The seed program's ComplexDataObject (SCENARIOS.md, scenario 1) as ouro values, shared by
// the tour's values and pickling chapters: no C++ class, an Instance of the Global
// __main__.ComplexDataObject whose state dict is the object's __dict__, as pickle stores it.
#pragma once

#include "ouro/core/heap.h"
#include "ouro/value/value.h"

namespace ouro::tour {

/// ComplexDataObject(): integer 1024, string 'Sample Text', list
/// [1, 2, 3, {'nested': 'dict'}, ('tuple', 42)] and nested, a NestedClass whose message is
/// 'I am nested'. Both classes are in __main__, as in the seed program.
inline Value complex_data_object(Heap& heap) {
  Value nested = Instance::make(heap, Global::make(heap, "__main__", "NestedClass"));
  nested.as<Instance>().set_attr("message", "I am nested");
  // One str for both uses of 'nested', as in CPython, where the module's identical string
  // constants are one interned object: pickle then writes it once and refers back to it.
  const Value nested_key("nested");
  Ref<Dict> state = Dict::make(heap);
  state->set("integer", 1024);
  state->set("string", "Sample Text");
  state->set("list", list({1, 2, 3, dict({{nested_key, "dict"}}), tuple({"tuple", 42})}));
  state->set(nested_key, nested);
  return Instance::make(heap, Global::make(heap, "__main__", "ComplexDataObject"), Value(state));
}

}  // namespace ouro::tour
