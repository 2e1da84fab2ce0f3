// Tests of src/pickle/torch and src/pickle/archive: the golden checkpoints of
// tests/data/realworld (written by torch itself, tools/gen/make_realworld_pickles.py) read
// tensor by tensor against the facts torch printed into expected.json, big-endian storages,
// the legacy format recognised, and hostile zips refused with errors naming the problem.
#include "ouro/pickle/torch.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>

#include "ouro/value/value.h"
#include "pickle/catalogue.h"

namespace ouro::pickle::torch {
namespace {

const std::filesystem::path kData = std::filesystem::path(OURO_SOURCE_DIR) / "tests/data/realworld";

nlohmann::json expected() {
  std::ifstream in(kData / "expected.json");
  return nlohmann::json::parse(in);
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Writes `bytes` to a scratch file and returns its path.
std::filesystem::path scratch(const std::string& name, const std::string& bytes) {
  const auto p = std::filesystem::temp_directory_path() /
                 fmt::format("ouro_torch_test_{}_{}", ::getpid(), name);
  std::ofstream(p, std::ios::binary) << bytes;
  return p;
}

void expect_matches_torch(const Checkpoint& ckpt, const nlohmann::json& facts) {
  ASSERT_EQ(ckpt.tensors().size(), facts.size());
  for (std::size_t i = 0; i < facts.size(); ++i) {
    const nlohmann::json& f = facts[i];
    const Tensor& t = ckpt.tensors()[i];
    SCOPED_TRACE(t.name);
    EXPECT_EQ(t.name, f["name"]);
    EXPECT_EQ(t.dtype, f["dtype"]);
    EXPECT_EQ(t.shape, f["shape"].get<std::vector<std::int64_t>>());
    EXPECT_EQ(t.strides, f["stride"].get<std::vector<std::int64_t>>());
    EXPECT_EQ(t.storage_offset, f["storage_offset"]);
    EXPECT_EQ(t.numel(), f["numel"]);
    EXPECT_EQ(t.device, "cpu");
    EXPECT_EQ(t.requires_grad, f["requires_grad"]);
    const std::vector<double> values = t.values();
    ASSERT_EQ(static_cast<std::int64_t>(values.size()), t.numel());
    const auto first = f["first"].get<std::vector<double>>();
    for (std::size_t k = 0; k < first.size(); ++k) EXPECT_EQ(values[k], first[k]) << k;
    // torch summed in float64 in the same C order: equal up to rounding of the last bits.
    EXPECT_NEAR(std::accumulate(values.begin(), values.end(), 0.0), f["sum"].get<double>(), 1e-12);
  }
}

TEST(TorchCheckpoint, StateDictMatchesTorch) {
  const Checkpoint ckpt = Checkpoint::open(kData / "tiny_state_dict.pt");
  EXPECT_EQ(ckpt.archive_name(), "tiny_state_dict");
  EXPECT_EQ(ckpt.byte_order(), std::endian::little);
  expect_matches_torch(ckpt, expected()["tiny_state_dict.pt"]);
  const Tensor* w = ckpt.find("0.weight");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->bytes().size(), 12u * 4);
  // Zero copy: the view is inside the file's bytes, at the stored member's offset.
  const std::string file = read_file(kData / "tiny_state_dict.pt");
  const auto at = file.find(std::string(reinterpret_cast<const char*>(w->bytes().data()), 48));
  EXPECT_NE(at, std::string::npos);
  EXPECT_EQ(at % 64, 0u) << "torch aligns storages to 64 bytes";
  EXPECT_EQ(ckpt.find("nothing"), nullptr);
}

TEST(TorchCheckpoint, ViewsDtypesAndOffsetsMatchTorch) {
  const Checkpoint ckpt = Checkpoint::open(kData / "views.pt");
  expect_matches_torch(ckpt, expected()["views.pt"]);
  // The views share one storage; bytes() spans exactly from first to last element.
  const Tensor* column = ckpt.find("column2");
  ASSERT_NE(column, nullptr);
  EXPECT_EQ(column->storage.size(), 12u * 8);
  EXPECT_EQ(column->bytes().size(), (2u * 4 + 1) * 8);
  EXPECT_EQ(column->bytes().data(), column->storage.data() + 2 * 8);
}

TEST(TorchCheckpoint, ParametersInNestedContainersMatchTorch) {
  expect_matches_torch(Checkpoint::open(kData / "params.pt"), expected()["params.pt"]);
}

TEST(TorchCheckpoint, BigEndianStoragesAreSwapped) {
  const Checkpoint ckpt = Checkpoint::open(kData / "big_endian_state_dict.pt");
  EXPECT_EQ(ckpt.byte_order(), std::endian::big);
  EXPECT_EQ(ckpt.tensors().front().element.order, std::endian::big);
  expect_matches_torch(ckpt, expected()["big_endian_state_dict.pt"]);
}

TEST(TorchCheckpoint, InspectLoadKeepsStorageReferencesInert) {
  Heap heap;
  HeapScope scope(heap);
  const Checkpoint ckpt = Checkpoint::open(kData / "tiny_state_dict.pt");
  LoadOptions options;
  options.policy = Policy::kInspect;
  const Value root = ckpt.load(options);
  const std::string text = catalogue_repr(root);
  EXPECT_NE(text.find("('storage', <class 'torch.FloatStorage'>, '0', 'cpu', 12)"),
            std::string::npos)
      << text;
  // Strict without the allow-list refuses the torch globals, naming the first.
  try {
    (void)ckpt.load();
    FAIL() << "strict load without the allow-list succeeded";
  } catch (const UnpicklingError& e) {
    EXPECT_NE(std::string(e.what()).find("torch._utils._rebuild_tensor_v2"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(ckpt.members().back(), "tiny_state_dict/version");
}

TEST(TorchCheckpoint, FindDataPickleForPickleTools) {
  const std::string file = read_file(kData / "views.pt");
  const std::optional<DataPickle> pkl = find_data_pickle(as_bytes(file), "views.pt");
  ASSERT_TRUE(pkl.has_value());
  EXPECT_EQ(pkl->member, "views/data.pkl");
  EXPECT_EQ(pkl->data.size(), 825u);         // zipfile's listing of the member
  EXPECT_EQ(pkl->data[0], std::byte{0x80});  // PROTO
  EXPECT_FALSE(find_data_pickle(as_bytes(std::string("\x80\x04N.")), "p").has_value());
  try {
    (void)find_data_pickle(as_bytes(file.substr(0, 100)), "cut.pt");
    FAIL();
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("cut.pt: no end-of-central-directory"), std::string::npos);
  }
}

TEST(TorchCheckpoint, LegacyFormatIsNamed) {
  try {
    (void)Checkpoint::open(kData / "legacy.pt");
    FAIL() << "legacy file opened";
  } catch (const CheckpointError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("legacy torch.save file"), std::string::npos) << what;
    EXPECT_NE(what.find("_use_new_zipfile_serialization=False"), std::string::npos) << what;
  }
  std::string tar(600, '\0');
  std::memcpy(tar.data() + 257, "ustar", 5);
  EXPECT_NE(describe_legacy_format(as_bytes(tar)).find("tar archive"), std::string::npos);
  EXPECT_EQ(describe_legacy_format(as_bytes("plain text")), "");
}

// Opens `bytes` as a checkpoint and returns the error's message ("" when it opened).
std::string open_error(const std::string& name, const std::string& bytes) {
  const auto path = scratch(name, bytes);
  std::string message;
  try {
    (void)Checkpoint::open(path);
  } catch (const CheckpointError& e) {
    message = e.what();
  }
  std::filesystem::remove(path);
  return message;
}

void put_le(std::string& s, std::size_t at, std::uint64_t v, int width) {
  for (int i = 0; i < width; ++i) s[at + i] = static_cast<char>(v >> (8 * i));
}

TEST(TorchCheckpoint, HostileZipsGiveClearErrors) {
  const std::string good = read_file(kData / "tiny_state_dict.pt");
  const std::size_t eocd = good.rfind("PK\x05\x06");
  ASSERT_NE(eocd, std::string::npos);
  const std::size_t directory = good.find("PK\x01\x02");

  // Truncated inside the central directory: no end record left.
  EXPECT_NE(open_error("cut", good.substr(0, directory + 10)).find("no end-of-central-directory"),
            std::string::npos);
  // The end record points the directory past the end of the file.
  // torch writes both the classic end record and the zip64 one (which a reader must prefer):
  // hostile edits patch both.
  const std::size_t zip64 = good.rfind("PK\x06\x06");
  ASSERT_NE(zip64, std::string::npos);
  std::string moved = good;
  put_le(moved, eocd + 16, good.size() + 100, 4);
  put_le(moved, zip64 + 48, good.size() + 100, 8);
  EXPECT_NE(open_error("moved", moved).find("runs past the end of the file"), std::string::npos);
  // A member whose size runs past the end of the file (central size of data/0 inflated).
  std::string long_member = good;
  const std::size_t entry = good.find("tiny_state_dict/data/0", directory) - 46;
  put_le(long_member, entry + 20, 1u << 30, 4);
  put_le(long_member, entry + 24, 1u << 30, 4);
  const std::string long_error = open_error("long", long_member);
  EXPECT_NE(long_error.find("member 'tiny_state_dict/data/0'"), std::string::npos) << long_error;
  EXPECT_NE(long_error.find("runs past the end of the file"), std::string::npos) << long_error;
  // A compressed member (deflate) is refused by name.
  std::string deflated = good;
  put_le(deflated, directory + 10, 8, 2);
  const std::string deflate_error = open_error("deflate", deflated);
  EXPECT_NE(deflate_error.find("member 'tiny_state_dict/data.pkl' is compressed (method 8)"),
            std::string::npos)
      << deflate_error;
  // An encrypted one too.
  std::string encrypted = good;
  put_le(encrypted, directory + 8, 1, 2);
  EXPECT_NE(open_error("encrypted", encrypted).find("is encrypted"), std::string::npos);
  // A directory that claims more entries than it can hold.
  std::string many = good;
  put_le(many, eocd + 10, 0xffff, 2);
  put_le(many, zip64 + 32, 0xffff, 8);
  EXPECT_NE(open_error("many", many).find("claims 65535 entries"), std::string::npos);
  // A zip64 locator pointing past the end of the file.
  std::string lost = good;
  put_le(lost, good.rfind("PK\x06\x07") + 8, good.size() * 2, 8);
  EXPECT_NE(open_error("lost", lost).find("zip64 end-of-central-directory record is missing"),
            std::string::npos);
  // Not a zip at all, and a missing file.
  EXPECT_NE(open_error("text", "hello").find("not a torch.save checkpoint"), std::string::npos);
  EXPECT_NE(open_error("empty", "").find("not a torch.save checkpoint"), std::string::npos);
  try {
    (void)Checkpoint::open(kData / "no such file.pt");
    FAIL();
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open"), std::string::npos);
  }
}

// The golden state dict with `from` replaced by `to` (same length) inside data.pkl; the
// zip's CRCs are not checked, as torch's reader does not check them either.
std::string patched_checkpoint(const std::string& from, const std::string& to) {
  std::string file = read_file(kData / "tiny_state_dict.pt");
  const std::size_t at = file.find(from);
  EXPECT_NE(at, std::string::npos);
  file.replace(at, from.size(), to);
  return file;
}

TEST(TorchCheckpoint, TensorsBeyondTheirStorageAreRefused) {
  // Storage '0' (0.weight) claims 13 elements where its member holds 12 float32s.
  const std::string longer = open_error(
      "numel",
      patched_checkpoint(std::string("cpuq\x07K\x0c", 7), std::string("cpuq\x07K\x0d", 7)));
  EXPECT_NE(longer.find("tensor '0.weight': storage 'tiny_state_dict/data/0' should hold 13 "
                        "elements of 4 bytes but has 48 bytes"),
            std::string::npos)
      << longer;
  // 0.weight's shape (4, 3) made (5, 3): its view reaches past the 12-element storage.
  const std::string wider = open_error(
      "shape",
      patched_checkpoint(std::string("K\x04K\x03\x86", 5), std::string("K\x05K\x03\x86", 5)));
  EXPECT_NE(wider.find("tensor '0.weight': shape (5, 3) with strides (3, 1) at offset 0 "
                       "reaches past its storage of 12 elements"),
            std::string::npos)
      << wider;
}

TEST(TorchCheckpoint, EveryTruncationFailsCleanly) {
  // Any prefix of a checkpoint either opens (never: the end record is last) or throws a
  // CheckpointError / UnpicklingError: no crash, no other exception.
  const std::string good = read_file(kData / "tiny_state_dict.pt");
  for (std::size_t n = 0; n < good.size(); n += 7) {
    const auto path = scratch("prefix", good.substr(0, n));
    EXPECT_THROW((void)Checkpoint::open(path), PickleError) << n;
    std::filesystem::remove(path);
  }
}

}  // namespace
}  // namespace ouro::pickle::torch
