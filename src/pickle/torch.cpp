// PyTorch checkpoints (ouro/pickle/torch.h): the zip members torch.save writes
// (torch/serialization.py: _save, _load; caffe2/serialize/inline_container.cc), data.pkl
// loaded with torch.load(weights_only=True)'s allow-list, and the tensors found in the loaded
// value decoded natively from the calls torch's reducers write (torch/_tensor.py
// __reduce_ex__, torch/_utils.py _rebuild_tensor_v2, _rebuild_parameter).
#include "ouro/pickle/torch.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <optional>
#include <unordered_set>
#include <utility>

#include "ouro/core/heap.h"
#include "pickle/archive.h"

namespace ouro::pickle::torch {
namespace {

using Kind = ElementType::Kind;

struct StorageType {
  std::string_view storage;  // torch.<storage>
  std::string_view dtype;    // str(torch.dtype) without "torch."
  Kind kind;
  std::size_t size;
};

constexpr std::array kStorageTypes = {
    StorageType{"FloatStorage", "float32", Kind::kFloat, 4},
    StorageType{"DoubleStorage", "float64", Kind::kFloat, 8},
    StorageType{"HalfStorage", "float16", Kind::kFloat, 2},
    StorageType{"BFloat16Storage", "bfloat16", Kind::kBFloat16, 2},
    StorageType{"LongStorage", "int64", Kind::kSigned, 8},
    StorageType{"IntStorage", "int32", Kind::kSigned, 4},
    StorageType{"ShortStorage", "int16", Kind::kSigned, 2},
    StorageType{"CharStorage", "int8", Kind::kSigned, 1},
    StorageType{"ByteStorage", "uint8", Kind::kUnsigned, 1},
    StorageType{"BoolStorage", "bool", Kind::kBool, 1},
    StorageType{"ComplexFloatStorage", "complex64", Kind::kComplex, 8},
    StorageType{"ComplexDoubleStorage", "complex128", Kind::kComplex, 16},
};

// torch.save's legacy stream starts with pickle.dump(MAGIC_NUMBER, protocol 2):
// PROTO 2, LONG1 of 10 bytes, 0x1950a86a20f9469cfc6c little-endian.
constexpr std::array<unsigned char, 14> kLegacyMagic = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c,
                                                        0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

bool is_global(const Value& v, std::string_view module, std::string_view name) {
  const Global* g = v.get_if<Global>();
  return g != nullptr && g->module() == module && g->qualname() == name;
}
const Reduce* call_of(const Value& v, std::string_view module, std::string_view name) {
  const Reduce* r = v.get_if<Reduce>();
  return r != nullptr && is_global(r->callable, module, name) ? r : nullptr;
}

std::vector<std::int64_t> ints_of(const Value& v, const std::string& tensor,
                                  std::string_view what) {
  const Tuple* t = v.get_if<Tuple>();
  if (t == nullptr) {
    throw CheckpointError(
        fmt::format("tensor '{}': its {} is a {}, not a tuple", tensor, what, v.type_name()));
  }
  std::vector<std::int64_t> out;
  for (const Value& n : *t) {
    if (!n.is_int() || n.as<std::int64_t>() < 0) {
      throw CheckpointError(
          fmt::format("tensor '{}': its {} holds a negative or non-int item", tensor, what));
    }
    out.push_back(n.as<std::int64_t>());
  }
  return out;
}

// Reads the tensors out of a loaded data.pkl.
class TensorFinder {
 public:
  TensorFinder(const detail::ZipArchive& zip, std::string archive, std::endian order,
               std::vector<Tensor>& out)
      : zip_(zip), archive_(std::move(archive)), order_(order), out_(out) {}

  // Depth-first over dicts, OrderedDicts, lists and tuples, naming by the keys on the path;
  // an explicit stack (any nesting depth) and a visited set (self-referencing containers).
  void find_all(const Value& root) {
    std::vector<std::pair<Value, std::string>> stack{{root, ""}};
    std::unordered_set<const void*> seen;
    while (!stack.empty()) {
      auto [v, name] = std::move(stack.back());
      stack.pop_back();
      if (v.is_object() && !seen.insert(v.object()).second) continue;
      // _rebuild_parameter(data, requires_grad, hooks) and, for parameters with attributes
      // (torch >= 2.0), _rebuild_parameter_with_state(data, requires_grad, hooks, state).
      const Reduce* param = call_of(v, "torch._utils", "_rebuild_parameter");
      if (param == nullptr) param = call_of(v, "torch._utils", "_rebuild_parameter_with_state");
      if (param != nullptr) {
        const Tuple* args = param->args.get_if<Tuple>();
        if (args == nullptr || args->size() < 2) bad_call(name, "_rebuild_parameter");
        add_tensor((*args)[0], name, ouro::truthy((*args)[1]));
        continue;
      }
      if (is_tensor_call(v)) {
        add_tensor(v, name, false);
        continue;
      }
      std::vector<std::pair<Value, std::string>> children;
      const Dict* items = v.get_if<Dict>();
      if (const Reduce* r = call_of(v, "collections", "OrderedDict"))
        items = r->dictitems.get_if<Dict>();
      if (items != nullptr) {
        for (const DictEntry& e : *items)
          children.emplace_back(e.value, join(name, key_text(e.key)));
      } else if (const List* l = v.get_if<List>()) {
        for (std::size_t i = 0; i < l->size(); ++i)
          children.emplace_back((*l)[i], join(name, std::to_string(i)));
      } else if (const Tuple* t = v.get_if<Tuple>()) {
        for (std::size_t i = 0; i < t->size(); ++i)
          children.emplace_back((*t)[i], join(name, std::to_string(i)));
      }
      // Pushed in reverse so that tensors come out in the pickle's order.
      for (auto it = children.rbegin(); it != children.rend(); ++it)
        stack.push_back(std::move(*it));
    }
  }

 private:
  static bool is_tensor_call(const Value& v) {
    return call_of(v, "torch._utils", "_rebuild_tensor_v2") != nullptr ||
           call_of(v, "torch._utils", "_rebuild_tensor") != nullptr;
  }
  static std::string join(const std::string& prefix, const std::string& key) {
    return prefix.empty() ? key : prefix + "." + key;
  }
  static std::string key_text(const Value& key) {
    return key.is<Str>() ? std::string(key.as<std::string_view>()) : repr(key);
  }
  [[noreturn]] static void bad_call(const std::string& name, std::string_view function) {
    throw CheckpointError(
        fmt::format("tensor '{}': {} called with arguments torch never writes", name, function));
  }

  void add_tensor(const Value& call, const std::string& name, bool requires_grad) {
    const Reduce* r = call.get_if<Reduce>();
    if (r == nullptr || !is_tensor_call(call)) {
      throw CheckpointError(fmt::format("tensor '{}': _rebuild_parameter of a {}, not a tensor",
                                        name, call.type_name()));
    }
    // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, hooks[, meta])
    const Tuple* args = r->args.get_if<Tuple>();
    if (args == nullptr || args->size() < 4 || !(*args)[1].is_int()) {
      bad_call(name, "_rebuild_tensor_v2");
    }
    Tensor t;
    t.name = name;
    read_storage((*args)[0], t);
    t.storage_offset = (*args)[1].as<std::int64_t>();
    t.shape = ints_of((*args)[2], name, "size");
    t.strides = ints_of((*args)[3], name, "stride");
    t.requires_grad = requires_grad || (args->size() > 4 && ouro::truthy((*args)[4]));
    if (t.shape.size() != t.strides.size()) {
      throw CheckpointError(fmt::format("tensor '{}': {} sizes but {} strides", name,
                                        t.shape.size(), t.strides.size()));
    }
    check_bounds(t);
    out_.push_back(std::move(t));
  }

  // A persistent id ('storage', torch.<Type>Storage, key, location, numel).
  void read_storage(const Value& pid, Tensor& t) {
    const Tuple* id = pid.get_if<Tuple>();
    if (id == nullptr || id->size() != 5 || !(*id)[0].is<Str>() ||
        (*id)[0].as<std::string_view>() != "storage" || !(*id)[2].is<Str>() || !(*id)[4].is_int()) {
      throw CheckpointError(fmt::format(
          "tensor '{}': its storage is not a ('storage', type, key, location, numel) persistent id",
          t.name));
    }
    const Global* type = (*id)[1].get_if<Global>();
    const auto known =
        std::find_if(kStorageTypes.begin(), kStorageTypes.end(), [&](const StorageType& s) {
          return type != nullptr && type->module() == "torch" && type->qualname() == s.storage;
        });
    if (known == kStorageTypes.end()) {
      throw CheckpointError(
          fmt::format("tensor '{}': storage type {} is not supported", t.name, repr((*id)[1])));
    }
    t.dtype = known->dtype;
    t.element = ElementType{known->kind, known->size, order_};
    t.storage_key = (*id)[2].as<std::string>();
    t.device = (*id)[3].is<Str>() ? (*id)[3].as<std::string>() : repr((*id)[3]);
    const std::string member = fmt::format("{}/data/{}", archive_, t.storage_key);
    const detail::ZipMember* m = zip_.find(member);
    if (m == nullptr) {
      throw CheckpointError(
          fmt::format("tensor '{}': its storage member '{}' is missing", t.name, member));
    }
    t.storage = zip_.data(*m);
    const std::int64_t numel = (*id)[4].as<std::int64_t>();
    if (numel < 0 || static_cast<std::uint64_t>(numel) > t.storage.size() / known->size) {
      throw CheckpointError(fmt::format(
          "tensor '{}': storage '{}' should hold {} elements of {} bytes but has {} bytes", t.name,
          member, numel, known->size, t.storage.size()));
    }
    t.storage = t.storage.first(static_cast<std::size_t>(numel) * known->size);
  }

  static void check_bounds(const Tensor& t) {
    if (element_count(t.shape) < 0) {
      throw CheckpointError(
          fmt::format("tensor '{}': shape ({}) is too large", t.name, fmt::join(t.shape, ", ")));
    }
    if (t.numel() == 0) return;
    const std::uint64_t elements = t.storage.size() / t.element.size;
    std::uint64_t last = static_cast<std::uint64_t>(t.storage_offset);
    for (std::size_t d = 0; d < t.shape.size(); ++d) {
      const std::uint64_t span = static_cast<std::uint64_t>(t.shape[d] - 1);
      const std::uint64_t stride = static_cast<std::uint64_t>(t.strides[d]);
      if (stride != 0 && span > (elements + 1) / stride)
        last = elements;  // overflow-safe
      else
        last += span * stride;
      if (last >= elements) break;
    }
    if (t.storage_offset < 0 || last >= elements) {
      throw CheckpointError(fmt::format(
          "tensor '{}': shape ({}) with strides ({}) at offset {} reaches past its storage of "
          "{} elements",
          t.name, fmt::join(t.shape, ", "), fmt::join(t.strides, ", "), t.storage_offset,
          elements));
    }
  }

  const detail::ZipArchive& zip_;
  std::string archive_;
  std::endian order_;
  std::vector<Tensor>& out_;
};

// The `<name>/data.pkl` member (in the one folder torch writes), or a CheckpointError.
const detail::ZipMember& data_pickle_member(const detail::ZipArchive& zip,
                                            const std::string& what) {
  const auto& members = zip.members();
  const auto pkl = std::find_if(members.begin(), members.end(), [](const detail::ZipMember& m) {
    return m.name.ends_with("/data.pkl") &&
           m.name.find('/') == m.name.size() - std::string_view("/data.pkl").size();
  });
  if (pkl == members.end()) {
    throw CheckpointError(fmt::format(
        "{}: a zip archive without a '<name>/data.pkl' member: not a torch.save checkpoint", what));
  }
  return *pkl;
}

}  // namespace

std::optional<DataPickle> find_data_pickle(std::span<const std::byte> bytes,
                                           const std::string& what) {
  if (!detail::looks_like_zip(bytes)) return std::nullopt;
  const detail::ZipArchive zip(bytes, what);
  const detail::ZipMember& pkl = data_pickle_member(zip, what);
  return DataPickle{pkl.name, zip.data(pkl)};
}

std::int64_t Tensor::numel() const noexcept { return element_count(shape); }

std::span<const std::byte> Tensor::bytes() const noexcept {
  if (numel() == 0) return {};
  std::int64_t last = storage_offset;
  for (std::size_t d = 0; d < shape.size(); ++d) last += (shape[d] - 1) * strides[d];
  const auto size = static_cast<std::size_t>(element.size);
  return storage.subspan(static_cast<std::size_t>(storage_offset) * size,
                         static_cast<std::size_t>(last - storage_offset + 1) * size);
}

std::vector<double> Tensor::values() const {
  std::vector<std::int64_t> byte_strides(strides);
  for (std::int64_t& s : byte_strides) s *= static_cast<std::int64_t>(element.size);
  return strided_values(element, storage, static_cast<std::size_t>(storage_offset) * element.size,
                        shape, byte_strides);
}

const std::vector<std::string>& safe_globals() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out = {"collections.OrderedDict", "torch._utils._rebuild_tensor",
                                    "torch._utils._rebuild_tensor_v2",
                                    "torch._utils._rebuild_parameter",
                                    "torch._utils._rebuild_parameter_with_state"};
    for (const StorageType& s : kStorageTypes) out.push_back(fmt::format("torch.{}", s.storage));
    return out;
  }();
  return names;
}

std::string describe_legacy_format(std::span<const std::byte> bytes) {
  if (bytes.size() >= kLegacyMagic.size() &&
      std::equal(kLegacyMagic.begin(), kLegacyMagic.end(), bytes.begin(),
                 [](unsigned char a, std::byte b) { return std::byte{a} == b; })) {
    return "a legacy torch.save file (PyTorch < 1.6, or _use_new_zipfile_serialization=False): "
           "a stream of pickles (magic number, protocol, system info, the object, storage "
           "keys) followed by raw storages. ouro reads the zip format only: re-save it with "
           "torch.save(torch.load(path), path) on PyTorch >= 1.6";
  }
  constexpr std::string_view kUstar = "ustar";
  if (bytes.size() >= 262 && std::equal(kUstar.begin(), kUstar.end(), bytes.begin() + 257,
                                        [](char a, std::byte b) { return std::byte(a) == b; })) {
    return "a tar archive: the torch.save format of PyTorch < 0.4 (a tar of pickles) or "
           "another tar; ouro reads the zip format only: re-save it with PyTorch >= 1.6";
  }
  return {};
}

Checkpoint::Checkpoint() = default;
Checkpoint::Checkpoint(Checkpoint&&) noexcept = default;
Checkpoint& Checkpoint::operator=(Checkpoint&&) noexcept = default;
Checkpoint::~Checkpoint() = default;

const std::filesystem::path& Checkpoint::path() const noexcept { return file_->path(); }

Checkpoint Checkpoint::open(const std::filesystem::path& path) {
  Checkpoint c;
  c.file_ = std::make_unique<detail::MappedFile>(path);
  const std::span<const std::byte> bytes = c.file_->bytes();
  if (!detail::looks_like_zip(bytes)) {
    const std::string legacy = describe_legacy_format(bytes);
    throw CheckpointError(fmt::format("{}: {}", path.string(),
                                      legacy.empty() ? "not a torch.save checkpoint (not a zip "
                                                       "archive)"
                                                     : "is " + legacy));
  }
  c.zip_ = std::make_unique<detail::ZipArchive>(bytes, path.string());
  const detail::ZipMember& pkl = data_pickle_member(*c.zip_, path.string());
  c.archive_name_ = pkl.name.substr(0, pkl.name.find('/'));
  c.data_pickle_ = c.zip_->data(pkl);
  if (const detail::ZipMember* order = c.zip_->find(c.archive_name_ + "/byteorder")) {
    const std::span<const std::byte> text = c.zip_->data(*order);
    const std::string_view s(reinterpret_cast<const char*>(text.data()), text.size());
    if (s == "big") {
      c.byte_order_ = std::endian::big;
    } else if (s != "little") {
      throw CheckpointError(fmt::format("{}: member '{}' says '{}', not 'little' or 'big'",
                                        path.string(), order->name, s.substr(0, 32)));
    }
  }
  // data.pkl is loaded in a heap of its own, freed once the tensors are read.
  Heap heap;
  {
    HeapScope scope(heap);
    LoadOptions options;
    options.allow = safe_globals();
    const Value root = c.load(std::move(options));
    TensorFinder(*c.zip_, c.archive_name_, c.byte_order_, c.tensors_).find_all(root);
  }
  return c;
}

const Tensor* Checkpoint::find(std::string_view name) const noexcept {
  const auto it = std::find_if(tensors_.begin(), tensors_.end(),
                               [&](const Tensor& t) { return t.name == name; });
  return it == tensors_.end() ? nullptr : &*it;
}

std::vector<std::string> Checkpoint::members() const {
  std::vector<std::string> names;
  for (const detail::ZipMember& m : zip_->members()) names.push_back(m.name);
  return names;
}

Value Checkpoint::load(LoadOptions options) const {
  options.persistent_load = [](const Value& pid) { return pid; };
  const std::string_view text(reinterpret_cast<const char*>(data_pickle_.data()),
                              data_pickle_.size());
  return loads(text, options);
}

}  // namespace ouro::pickle::torch
