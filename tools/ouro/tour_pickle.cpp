// Tour chapter: pickling from a memory perspective (SCENARIOS.md, scenario 1). The seed's
// ComplexDataObject, built from ouro values (tour_seed.h), pickled with every protocol,
// written to complex_data.pkl, loaded back with its classes on the allow-list, its cost in
// ouro's heap against CPython's, and the same file loaded by python3 into matching classes.
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "cpython_sizes.h"
#include "ouro/pickle/pickle.h"
#include "ouro/core/runtime.h"
#include "ouro/value/value.h"
#include "tour.h"
#include "tour_seed.h"

namespace ouro::tour {
namespace {

namespace fs = std::filesystem;

// The seed program's classes, for python3: the pickle names __main__.ComplexDataObject and
// __main__.NestedClass, and pickle.load finds them in the running script.
constexpr const char* kPythonReader = R"PY(import pickle, sys
class NestedClass:
    pass
class ComplexDataObject:
    pass
with open(sys.argv[1], 'rb') as f:
    obj = pickle.load(f)
print(f'python3: obj.integer = {obj.integer!r}, obj.string = {obj.string!r}')
print(f'python3: obj.list = {obj.list!r}')
print(f'python3: obj.nested.message = {obj.nested.message!r}')
)PY";

// repr(obj.name), or a note when obj is no object or has no such attribute.
std::string attr_repr(const Value* obj, std::string_view name) {
  const Value* v =
      obj != nullptr && obj->is<Instance>() ? obj->as<Instance>().get_attr(name) : nullptr;
  return v != nullptr ? repr(*v) : "<missing>";
}

// Runs python3 on `file` with the reader script; its output lines, or why not.
void load_with_python(const fs::path& file) {
  if (std::system("command -v python3 > /dev/null 2>&1") != 0) {
    show("python3 is not installed: skipping CPython's side");
    return;
  }
  const fs::path script = fs::temp_directory_path() / "ouro-tour-read_complex_data.py";
  std::ofstream(script) << kPythonReader;
  const std::string command = fmt::format("python3 '{}' '{}' 2>&1", script.string(), file.string());
  std::FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    show("could not start python3");
    return;
  }
  char line[512];
  while (std::fgets(line, sizeof line, pipe) != nullptr) {
    std::string text(line);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    show(text);
  }
  const int status = pclose(pipe);
  if (status != 0) show(fmt::format("python3 exited with status {}", status));
  std::error_code ec;
  fs::remove(script, ec);
}

}  // namespace

void pickle_chapter() {
  Heap heap;
  HeapScope scope(heap);
  say("The seed program pickles a ComplexDataObject (an int, a str, a list with a dict and a "
      "tuple inside, and a nested object) to complex_data.pkl and loads it back. In ouro the "
      "object is an Instance of the Global __main__.ComplexDataObject; pickle writes it as "
      "CPython would, for each protocol:");
  Value obj = complex_data_object(heap);
  std::string line = "protocol";
  std::string sizes = "bytes   ";
  for (int protocol = 0; protocol <= pickle::kHighestProtocol; ++protocol) {
    line += fmt::format("{:>6}", protocol);
    sizes += fmt::format("{:>6}", pickle::dumps(obj, {.protocol = protocol}).size());
  }
  show(line);
  show(sizes);

  const fs::path file = fs::temp_directory_path() / "complex_data.pkl";
  const std::string data = pickle::dumps(obj, {.protocol = pickle::kDefaultProtocol});
  std::ofstream(file, std::ios::binary)
      .write(data.data(), static_cast<std::streamsize>(data.size()));
  show(fmt::format("pickle.dump(obj, f) -> {} is {} bytes (protocol {})", file.string(),
                   fs::file_size(file), pickle::kDefaultProtocol));
  obj = nullptr;

  say("Loading is where memory is spent: the bytes become a whole object graph again. The "
      "loader imports nothing; the two classes must be on the allow-list, else strict "
      "loading refuses them (nothing is ever run).");
  const std::size_t before = heap.stats().bytes_in_use;
  heap.reset_peak();
  std::string bytes;
  {
    std::ifstream in(file, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  pickle::LoadOptions options;
  options.allow = {"__main__.ComplexDataObject", "__main__.NestedClass"};
  Value loaded = pickle::loads(bytes, options);
  const HeapStats after = heap.stats();
  show(fmt::format("obj.integer = {}, obj.string = {}", attr_repr(&loaded, "integer"),
                   attr_repr(&loaded, "string")));
  show(fmt::format("obj.list = {}", attr_repr(&loaded, "list")));
  const Value* nested = loaded.as<Instance>().get_attr("nested");
  show(fmt::format("obj.nested.message = {}", attr_repr(nested, "message")));
  show(fmt::format("{} pickled bytes became {} bytes in ouro's heap (peak {} while loading)",
                   bytes.size(), after.bytes_in_use - before, after.peak_bytes_in_use - before));
  show(fmt::format("the same objects in CPython 3.11: about {} bytes (sys.getsizeof of each)",
                   cli::cpython_deep_sizeof(loaded)));

  say("The file is a real pickle: python3, with two empty classes of the same names, loads it "
      "into matching objects.");
  load_with_python(file);
  loaded = nullptr;
  std::error_code ec;
  fs::remove(file, ec);
}

}  // namespace ouro::tour
