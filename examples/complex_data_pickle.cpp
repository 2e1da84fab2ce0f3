// Pickling from a memory perspective (SCENARIOS.md 1): the seed's ComplexDataObject as a C++
// class registered by its fields, pickled to complex_data.pkl with each protocol, loaded
// back, and what loading costs in the heap. python3, given two classes of the same names in
// its __main__, loads the file into matching objects.
#include <fmt/format.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "ouro/pickle/pickle.h"
#include "ouro/value/format.h"

class NestedClass final : public ouro::Object {
 public:
  std::string message;

 private:
  ~NestedClass() override = default;
};

class ComplexDataObject final : public ouro::Object {
 public:
  std::int64_t integer = 1024;
  std::string string = "Sample Text";
  ouro::Value list;
  ouro::Ref<NestedClass> nested;
  void traverse(ouro::Visitor& visit) override {
    list.visit(visit);
    visit(nested);
  }
  void clear() override {
    list = nullptr;
    nested = nullptr;
  }

 private:
  ~ComplexDataObject() override = default;
};

int main() {
  ouro::pickle::register_fields<NestedClass>("__main__", "NestedClass",
                                             {{"message", &NestedClass::message}});
  ouro::pickle::register_fields<ComplexDataObject>("__main__", "ComplexDataObject",
                                                   {{"integer", &ComplexDataObject::integer},
                                                    {"string", &ComplexDataObject::string},
                                                    {"list", &ComplexDataObject::list},
                                                    {"nested", &ComplexDataObject::nested}});
  ouro::Heap heap;
  ouro::HeapScope scope(heap);
  auto obj = ouro::make<ComplexDataObject>();
  obj->list = ouro::list({1, 2, 3, ouro::dict({{"nested", "dict"}}), ouro::tuple({"tuple", 42})});
  obj->nested = ouro::make<NestedClass>();
  obj->nested->message = "I am nested";

  for (int protocol = 0; protocol <= ouro::pickle::kHighestProtocol; ++protocol) {
    fmt::print("protocol {}: {} bytes\n", protocol,
               ouro::pickle::dumps(obj, {.protocol = protocol}).size());
  }
  const std::filesystem::path file = "complex_data.pkl";
  {
    std::ofstream out(file, std::ios::binary);
    ouro::pickle::dump(obj, out);
  }
  fmt::print("pickle.dump -> {}: {} bytes\n", file.string(), std::filesystem::file_size(file));
  obj = nullptr;

  const std::size_t before = heap.stats().bytes_in_use;
  heap.reset_peak();
  std::ifstream in(file, std::ios::binary);
  const ouro::Value loaded = ouro::pickle::load(in);  // registered types: no allow-list
  const auto& back = loaded.as<ComplexDataObject>();
  fmt::print("integer = {}, string = {}\n", back.integer, ouro::Value(back.string));
  fmt::print("list = {}\n", back.list);
  fmt::print("nested.message = {}\n", ouro::Value(back.nested->message));
  fmt::print("loading took {} bytes of heap (peak {})\n", heap.stats().bytes_in_use - before,
             heap.stats().peak_bytes_in_use - before);
  std::filesystem::remove(file);
  return back.nested->message == "I am nested" ? 0 : 1;
}
