// ouro::pickle::torch: PyTorch checkpoints (torch.save's zip format, PyTorch >= 1.6) read
// without Python or libtorch. The file is memory-mapped; its `<name>/data.pkl` is loaded with
// a safe allow-list like torch.load(weights_only=True) (collections.OrderedDict,
// torch._utils._rebuild_tensor_v2 / _rebuild_tensor / _rebuild_parameter(_with_state), the
// torch.*Storage types), each persistent id ('storage', storage_type, key, location, numel) names
// the member `<name>/data/<key>`, and every tensor found becomes a Tensor: name, dtype, shape,
// strides, storage offset and a zero-copy view of its bytes in the mapping, in the byte
// order the `<name>/byteorder` record gives (little when absent, as torch < 2.1 wrote).
//
//     auto ckpt = ouro::pickle::torch::Checkpoint::open("model.pt");
//     for (const auto& t : ckpt.tensors()) fmt::print("{} {} {}\n", t.name, t.dtype, t.shape);
//     std::vector<double> w = ckpt.find("0.weight")->values();
//
// The legacy format (torch.save(..., _use_new_zipfile_serialization=False) or PyTorch < 1.6:
// a bare stream of pickles then raw storages) and the older tar format are recognised and
// refused with a CheckpointError that names them and says how to convert.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ouro/pickle/numpy.h"  // ElementType, strided_values
#include "ouro/pickle/pickle.h"

namespace ouro::pickle {

/// A file that is not a readable checkpoint: not found, not a zip, a damaged or hostile zip
/// (the message names the member and the offsets), a compressed member, the legacy format,
/// a tensor whose view lies outside its storage.
class CheckpointError : public PickleError {
 public:
  using PickleError::PickleError;
};

namespace detail {
class MappedFile;
class ZipArchive;
}  // namespace detail

namespace torch {

/// One tensor of a checkpoint. Strides and the storage offset count elements, as torch's.
struct Tensor {
  std::string name;                    ///< dotted path: "0.weight", "optimizer.state.0.exp_avg"
  std::string dtype;                   ///< torch's name without "torch.": "float32", "int64"
  ElementType element;                 ///< kind, size and the file's byte order
  std::vector<std::int64_t> shape;     ///< () for a 0-d tensor
  std::vector<std::int64_t> strides;   ///< in elements
  std::int64_t storage_offset = 0;     ///< in elements
  std::string storage_key;             ///< the member `<archive>/data/<key>`
  std::string device;                  ///< the location saved: "cpu", "cuda:0"
  bool requires_grad = false;          ///< a torch.nn.Parameter with requires_grad
  std::span<const std::byte> storage;  ///< the whole storage, in the mapped file

  std::int64_t numel() const noexcept;
  /// The bytes the tensor spans: from its first element to its last, within `storage`
  /// (exactly its data when contiguous). Empty for a tensor without elements.
  std::span<const std::byte> bytes() const noexcept;
  /// Every element as a double, in C order (bool as 0/1, complex as the real part).
  std::vector<double> values() const;
};

/// The globals a checkpoint's data.pkl may name (LoadOptions::allow), after
/// torch.load(weights_only=True)'s allow-list.
const std::vector<std::string>& safe_globals();

/// An open checkpoint: the mapping, its zip directory and the tensors found in data.pkl.
/// Movable; tensors' spans stay valid while the Checkpoint lives.
class Checkpoint {
 public:
  /// Maps `path` and reads its tensors (in a private heap: the caller needs none). Throws
  /// CheckpointError (file, zip and tensor problems) or UnpicklingError (data.pkl names a
  /// global outside safe_globals(), or is damaged: CPython's message and offset).
  static Checkpoint open(const std::filesystem::path& path);

  Checkpoint(Checkpoint&&) noexcept;
  Checkpoint& operator=(Checkpoint&&) noexcept;
  ~Checkpoint();

  const std::filesystem::path& path() const noexcept;
  /// The folder every member sits in ("archive" for torch >= 2.1, else the file's stem).
  const std::string& archive_name() const noexcept { return archive_name_; }
  std::endian byte_order() const noexcept { return byte_order_; }
  /// The tensors in the order data.pkl gives them.
  const std::vector<Tensor>& tensors() const noexcept { return tensors_; }
  /// The tensor called `name`, or nullptr.
  const Tensor* find(std::string_view name) const noexcept;
  /// The names of the zip's members, in directory order.
  std::vector<std::string> members() const;
  /// The bytes of `<archive>/data.pkl`.
  std::span<const std::byte> data_pickle() const noexcept { return data_pickle_; }
  /// Loads data.pkl into the current heap with `options` (their persistent_load replaced
  /// by one that returns each storage's persistent id tuple unchanged: an inert reference),
  /// e.g. in inspect mode to see everything the checkpoint holds.
  Value load(LoadOptions options = {}) const;

 private:
  Checkpoint();
  std::unique_ptr<detail::MappedFile> file_;
  std::unique_ptr<detail::ZipArchive> zip_;
  std::string archive_name_;
  std::endian byte_order_ = std::endian::little;
  std::span<const std::byte> data_pickle_;
  std::vector<Tensor> tensors_;
};

/// A checkpoint's pickle: the member's name and its bytes (a span of the input).
struct DataPickle {
  std::string member;  ///< "archive/data.pkl"
  std::span<const std::byte> data;
};
/// When `bytes` (a whole file, named `what` in errors) is a zip: its `<name>/data.pkl`
/// member, the one pickle of a torch.save checkpoint (the others are raw storages and
/// text records); nullopt when `bytes` is not a zip. Throws CheckpointError for a damaged
/// zip or one without data.pkl. For tools that take "a pickle or a checkpoint".
std::optional<DataPickle> find_data_pickle(std::span<const std::byte> bytes,
                                           const std::string& what);

/// What kind of file `bytes` (a file's start) is, when it is not a zip checkpoint: a
/// sentence naming the legacy torch format or the tar format, or "" when neither.
std::string describe_legacy_format(std::span<const std::byte> bytes);

}  // namespace torch
}  // namespace ouro::pickle
