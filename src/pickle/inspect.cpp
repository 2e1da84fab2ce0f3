// The object tree of `ouro pickle show --inspect` (see ouro/pickle/inspect.h). One walk
// (TreeBuilder) turns a value into bounded nodes; two printers render them, as indented text
// and as JSON, so both forms always show the same tree. Leaves are the catalogue's repr()
// (pickle/catalogue.h: complex, range, datetime... print as CPython does), cut at max_text.
// numpy arrays use numpy.h's typed view; torch tensors of an inspect load are inert calls of
// torch._utils._rebuild_tensor_v2 whose storage is a persistent id: shown as that reference
// with dtype, shape and strides (the data is in the zip, not in the pickle).
#include "ouro/pickle/inspect.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "ouro/pickle/numpy.h"
#include "pickle/catalogue.h"

namespace ouro::pickle {
namespace {

using Json = nlohmann::ordered_json;

/// One node of the tree. `label` is how its parent reaches it ("[0]", ".attr", "'key'",
/// "args"); `head` the text after the label; `json` its JSON fields except the children.
struct Node {
  std::string label;
  std::string head;
  Json json;
  std::vector<std::size_t> children;  // indices into TreeBuilder::nodes
  std::string children_key;           // the JSON field holding the children ("items", ...)
  std::size_t more = 0;               // children not shown (max_items or max_nodes)
  std::size_t id = 0;                 // its number when shown again elsewhere (#n), else 0
};

std::string join_ints(const std::vector<std::int64_t>& values) {
  std::string out = "(";
  for (std::size_t i = 0; i < values.size(); ++i) {
    out += (i == 0 ? "" : ", ") + std::to_string(values[i]);
  }
  return out + (values.size() == 1 ? ",)" : ")");
}

std::string global_name(const Value& v) {
  const Global* g = v.get_if<Global>();
  return g == nullptr ? "" : fmt::format("{}.{}", g->module(), g->qualname());
}

class TreeBuilder {
 public:
  explicit TreeBuilder(const InspectOptions& options) : options_(options) {}

  std::vector<Node> nodes;

  std::size_t add(const Value& v, std::string label, std::size_t depth) {
    const std::size_t index = nodes.size();
    nodes.push_back({std::move(label), "", Json::object(), {}, "", 0, 0});
    fill(index, v, depth);
    return index;
  }

 private:
  // The catalogue's repr, cut at max_text characters (streamed: a huge str is not copied).
  std::string leaf_repr(const Value& v) const {
    std::ostringstream out;
    bool cut = false;
    try {
      write_catalogue_repr(out, v, options_.max_text);
    } catch (const OutputLimitError&) {
      cut = true;
    }
    std::string text = out.str();
    if (cut || text.size() > options_.max_text) {
      text.resize(std::min(text.size(), options_.max_text));
      while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80) {
        text.pop_back();  // not inside a UTF-8 sequence
      }
      if (!text.empty() && static_cast<unsigned char>(text.back()) >= 0xC0) text.pop_back();
      text += "…";
    }
    return text;
  }

  void leaf(std::size_t index, std::string_view kind, std::string text) {
    Node& n = nodes[index];
    n.head = text;
    n.json["kind"] = kind;
    n.json["repr"] = std::move(text);
  }

  bool budget_left() const { return nodes.size() < options_.max_nodes; }

  // Children of a container, up to max_items and the node budget; the rest is counted.
  template <class Range, class AddItem>
  void items(std::size_t index, const Range& range, std::size_t size, std::size_t depth,
             AddItem add_item) {
    std::size_t shown = 0;
    for (const auto& item : range) {
      if (shown == options_.max_items || !budget_left()) break;
      const std::size_t child = add_item(item, shown, depth + 1);
      nodes[index].children.push_back(child);
      ++shown;
    }
    nodes[index].more = size - shown;
  }

  // A composite already shown: a reference to its number.
  bool shown_before(std::size_t index, const Object* object) {
    const auto [it, first] = seen_.try_emplace(object, index);
    if (first) return false;
    Node& original = nodes[it->second];
    if (original.id == 0) {
      original.id = ++ids_;
      original.json["id"] = original.id;
    }
    nodes[index].head = fmt::format("↑ #{} (shown above)", original.id);
    nodes[index].json["kind"] = "ref";
    nodes[index].json["ref"] = original.id;
    return true;
  }

  // Depth exhausted: the node says what it is and how big, without its children.
  bool elided(std::size_t index, std::size_t depth, std::size_t size) {
    if (depth < options_.max_depth) return false;
    nodes[index].head += fmt::format(" … (below --depth {})", options_.max_depth);
    nodes[index].json["elided"] = true;
    nodes[index].more = size;
    return true;
  }

  void fill(std::size_t index, const Value& v, std::size_t depth) {
    if (!v.is_object()) return leaf(index, v.type_name(), leaf_repr(v));
    if (fill_array(index, v) || fill_tensor(index, v)) return;
    if (const Global* g = v.get_if<Global>()) {
      return leaf(index, "global", fmt::format("{}.{}", g->module(), g->qualname()));
    }
    const Object* object = v.object();
    const List* list = v.get_if<List>();
    const Tuple* tuple = v.get_if<Tuple>();
    const Dict* dict = v.get_if<Dict>();
    const AnySet* set = v.get_if<Set>() != nullptr ? static_cast<const AnySet*>(v.get_if<Set>())
                                                   : v.get_if<FrozenSet>();
    const Instance* instance = v.get_if<Instance>();
    const Reduce* reduce = v.get_if<Reduce>();
    if (reduce != nullptr && is_catalogued_leaf(*reduce)) {
      return leaf(index, "reduce", leaf_repr(v));
    }
    if (list == nullptr && tuple == nullptr && dict == nullptr && set == nullptr &&
        instance == nullptr && reduce == nullptr) {
      return leaf(index, v.type_name(), leaf_repr(v));
    }
    // The empty tuple is one object in CPython: numbering it would only add noise.
    const bool singleton = tuple != nullptr && tuple->size() == 0;
    if (!singleton && shown_before(index, object)) return;
    Node& n = nodes[index];
    if (list != nullptr || tuple != nullptr || set != nullptr) {
      const std::size_t size = list != nullptr    ? list->size()
                               : tuple != nullptr ? tuple->size()
                                                  : set->size();
      n.json["kind"] = std::string(v.type_name());
      n.json["length"] = size;
      n.head = fmt::format("{}, {} item{}", v.type_name(), size, size == 1 ? "" : "s");
      n.children_key = "items";
      if (elided(index, depth, size)) return;
      const auto add_value = [&](const Value& item, std::size_t i, std::size_t d) {
        return add(item, set != nullptr ? "-" : fmt::format("[{}]", i), d);
      };
      if (list != nullptr) items(index, *list, size, depth, add_value);
      if (tuple != nullptr) items(index, *tuple, size, depth, add_value);
      if (set != nullptr) {
        items(index, *set, size, depth, [&](const SetEntry& e, std::size_t i, std::size_t d) {
          return add_value(e.key, i, d);
        });
      }
      return;
    }
    if (dict != nullptr) {
      n.json["kind"] = "dict";
      n.json["length"] = dict->size();
      n.head = fmt::format("dict, {} item{}", dict->size(), dict->size() == 1 ? "" : "s");
      n.children_key = "items";
      if (elided(index, depth, dict->size())) return;
      items(index, *dict, dict->size(), depth, [&](const DictEntry& e, std::size_t, std::size_t d) {
        const std::size_t child = add(e.value, leaf_repr(e.key), d);
        nodes[child].json["key"] = leaf_repr(e.key);
        return child;
      });
      return;
    }
    if (instance != nullptr) {
      const std::string cls = global_name(instance->cls());
      n.json["kind"] = "instance";
      n.json["class"] = cls.empty() ? leaf_repr(instance->cls()) : cls;
      n.head = fmt::format("{} instance", n.json["class"].get<std::string>());
      return fill_state(index, instance->state(), depth);
    }
    // A reduce call: callable(args), then its BUILD state and appended/set items.
    const std::string callable = global_name(reduce->callable);
    n.json["kind"] = "reduce";
    n.json["callable"] = callable.empty() ? leaf_repr(reduce->callable) : callable;
    n.head = fmt::format("{}(…) call", n.json["callable"].get<std::string>());
    n.children_key = "parts";
    if (elided(index, depth, 1)) return;
    const std::pair<const char*, const Value*> parts[] = {{"args", &reduce->args},
                                                          {"state", &reduce->state},
                                                          {"listitems", &reduce->listitems},
                                                          {"dictitems", &reduce->dictitems}};
    for (const auto& [name, part] : parts) {
      if (part->is_none() && std::string_view(name) != "args") continue;
      if (!budget_left()) {
        ++nodes[index].more;
        continue;
      }
      const std::size_t child = add(*part, name, depth + 1);
      nodes[index].children.push_back(child);
    }
  }

  // An instance's BUILD state: a dict's entries as attributes (.name), else "state".
  void fill_state(std::size_t index, const Value& state, std::size_t depth) {
    nodes[index].children_key = "attributes";
    const Dict* attributes = state.get_if<Dict>();
    if (attributes == nullptr) {
      if (state.is_none()) return;
      if (elided(index, depth, 1)) return;
      nodes[index].children_key = "parts";
      nodes[index].children.push_back(add(state, "state", depth + 1));
      return;
    }
    if (elided(index, depth, attributes->size())) return;
    items(index, *attributes, attributes->size(), depth,
          [&](const DictEntry& e, std::size_t, std::size_t d) {
            const std::string name =
                e.key.is<Str>() ? std::string(e.key.as<std::string_view>()) : leaf_repr(e.key);
            const std::size_t child = add(e.value, "." + name, d);
            nodes[child].json["key"] = name;
            return child;
          });
  }

  // A numpy array or scalar: dtype, shape and the first values in C order.
  bool fill_array(std::size_t index, const Value& v) {
    try {
      if (const auto scalar = numpy::as_scalar(v)) {
        leaf(index, "numpy scalar", fmt::format("{} {}", scalar->dtype.name, numpy::repr(*scalar)));
        nodes[index].json["dtype"] = scalar->dtype.name;
        return true;
      }
      const auto array = numpy::as_array(v);
      if (!array) return false;
      const std::int64_t size = array->size();
      Json first = Json::array();
      std::string values;
      const std::size_t item = array->dtype.element.size;
      const std::size_t count = std::min<std::size_t>(options_.first_values, size);
      for (std::size_t flat = 0; flat < count; ++flat) {
        // The element's offset from its C-order index and the strides.
        std::int64_t offset = 0;
        std::size_t rest = flat;
        for (std::size_t d = array->shape.size(); d-- > 0;) {
          const auto extent = static_cast<std::size_t>(array->shape[d]);
          offset += static_cast<std::int64_t>(rest % extent) * array->strides[d];
          rest /= extent;
        }
        if (offset < 0 || static_cast<std::size_t>(offset) + item > array->data.size()) break;
        const double x = element_as_double(array->dtype.element, array->data.data() + offset);
        first.push_back(x);
        values += (flat == 0 ? "" : ", ") + fmt::format("{}", x);
      }
      if (static_cast<std::size_t>(size) > count) values += ", …";
      Node& n = nodes[index];
      n.json["kind"] = "ndarray";
      n.json["dtype"] = array->dtype.name;
      n.json["shape"] = array->shape;
      n.json["first"] = std::move(first);
      n.head =
          fmt::format("ndarray {} shape {}{}: [{}]", array->dtype.name, join_ints(array->shape),
                      array->fortran ? " (Fortran order)" : "", values);
      return true;
    } catch (const numpy::NumpyError&) {
      return false;  // object or structured dtype: its reduce call shows the items
    }
  }

  // torch._utils._rebuild_tensor_v2((pid), storage_offset, size, stride, ...) as an inspect
  // load leaves it: pid is ('storage', storage type, key, location, numel).
  bool fill_tensor(std::size_t index, const Value& v) {
    const Reduce* r = v.get_if<Reduce>();
    if (r == nullptr) return false;
    const std::string callable = global_name(r->callable);
    if (callable != "torch._utils._rebuild_tensor_v2" &&
        callable != "torch._utils._rebuild_tensor") {
      return false;
    }
    const Tuple* args = r->args.get_if<Tuple>();
    if (args == nullptr || args->size() < 4) return false;
    const Tuple* pid = (*args)[0].get_if<Tuple>();
    const Tuple* shape = (*args)[2].get_if<Tuple>();
    const Tuple* stride = (*args)[3].get_if<Tuple>();
    if (pid == nullptr || pid->size() < 4 || shape == nullptr || stride == nullptr) return false;
    const auto ints = [](const Tuple& t) {
      std::vector<std::int64_t> out;
      for (const Value& x : t) out.push_back(x.is_small_int() ? x.small_value() : -1);
      return out;
    };
    const std::string storage = global_name((*pid)[1]);
    const std::string key = leaf_repr((*pid)[2]);
    Node& n = nodes[index];
    n.json["kind"] = "tensor";
    n.json["storage"] = storage;
    n.json["key"] = key;
    n.json["device"] = leaf_repr((*pid)[3]);
    n.json["shape"] = ints(*shape);
    n.json["stride"] = ints(*stride);
    n.json["storage_offset"] = leaf_repr((*args)[1]);
    n.head =
        fmt::format("tensor {} shape {} stride {} offset {} (storage {} on {})",
                    storage.substr(storage.rfind('.') + 1), join_ints(ints(*shape)),
                    join_ints(ints(*stride)), leaf_repr((*args)[1]), key, leaf_repr((*pid)[3]));
    return true;
  }

  // complex(...), range(...), datetime(...): the catalogue prints them whole.
  static bool is_catalogued_leaf(const Reduce& r) {
    const Global* g = r.callable.get_if<Global>();
    if (g == nullptr) return false;
    const detail::CatalogueEntry* e = detail::find_catalogued(g->module(), g->qualname());
    return e != nullptr && e->role != detail::CatalogueRole::kOrderedDict &&
           e->role != detail::CatalogueRole::kNumpy;
  }

  const InspectOptions& options_;
  std::unordered_map<const Object*, std::size_t> seen_;
  std::size_t ids_ = 0;
};

void render_text(const std::vector<Node>& nodes, std::size_t index, std::size_t indent,
                 std::string& out) {
  const Node& n = nodes[index];
  out.append(indent * 2, ' ');
  if (!n.label.empty()) out += n.label + ": ";
  out += n.head;
  if (n.id != 0) out += fmt::format(" #{}", n.id);
  out += '\n';
  for (const std::size_t child : n.children) render_text(nodes, child, indent + 1, out);
  if (n.more != 0 && !n.json.contains("elided")) {
    out.append((indent + 1) * 2, ' ');
    out += fmt::format("… {} more\n", n.more);
  }
}

Json render_json(const std::vector<Node>& nodes, std::size_t index) {
  const Node& n = nodes[index];
  Json j = n.json;
  if (!n.children_key.empty() && !n.json.contains("elided")) {
    Json children = Json::array();
    for (const std::size_t child : n.children) children.push_back(render_json(nodes, child));
    if (n.children_key == "parts") {
      // A reduce's or a non-dict state's parts are named fields, not a list.
      for (std::size_t i = 0; i < n.children.size(); ++i) {
        j[nodes[n.children[i]].label] = std::move(children[i]);
      }
    } else {
      j[n.children_key] = std::move(children);
    }
  }
  if (n.more != 0) j["more"] = n.more;
  return j;
}

}  // namespace

std::string inspect_text(const Value& v, const InspectOptions& options) {
  TreeBuilder builder(options);
  builder.add(v, "", 0);
  std::string out;
  render_text(builder.nodes, 0, 0, out);
  return out;
}

std::string inspect_json(const Value& v, const InspectOptions& options, int indent) {
  TreeBuilder builder(options);
  builder.add(v, "", 0);
  return render_json(builder.nodes, 0).dump(indent);
}

}  // namespace ouro::pickle
