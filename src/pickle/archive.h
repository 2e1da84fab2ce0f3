// A small reader of the zip archives torch.save writes (and any zip whose members are
// stored, not compressed), over a read-only memory mapping of the file: the central
// directory (zip64 included), each member's local header checked against it, and each
// member's bytes as a span of the mapping (zero copy). Compressed or encrypted members, and
// multi-disk archives, are refused with an error naming the member; nothing is inflated.
// Every offset and size is checked against the file's end before it is used.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ouro/pickle/pickle.h"  // first: its templates name ouro::detail as detail::

namespace ouro::pickle::detail {

/// A read-only memory mapping of a whole file (empty files map to an empty span).
/// Throws CheckpointError (ouro/pickle/torch.h) when the file cannot be opened or mapped.
class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::span<const std::byte> bytes() const noexcept { return {data_, size_}; }
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

/// One member of a zip archive, from its central directory entry.
struct ZipMember {
  std::string name;
  std::uint16_t method = 0;  // 0: stored
  std::uint16_t flags = 0;   // bit 0: encrypted
  std::uint64_t compressed_size = 0;
  std::uint64_t size = 0;
  std::uint64_t local_header_offset = 0;
};

/// Whether `bytes` starts like a zip archive (a local file header or an empty archive).
bool looks_like_zip(std::span<const std::byte> bytes) noexcept;

/// The members of the zip archive in `bytes` (a MappedFile's), by its central directory.
/// `what` names the archive in errors (its path). Throws CheckpointError naming the
/// problem: no end-of-central-directory record, a directory past the file's end, a bad
/// signature, multi-disk archives.
class ZipArchive {
 public:
  ZipArchive(std::span<const std::byte> bytes, std::string what);
  const std::vector<ZipMember>& members() const noexcept { return members_; }
  /// The member called `name`, or nullptr.
  const ZipMember* find(std::string_view name) const noexcept;
  /// The stored bytes of `member` (a span of the archive's bytes). Throws CheckpointError
  /// naming the member when it is compressed or encrypted, when its local header does not
  /// match, or when its data runs past the end of the file.
  std::span<const std::byte> data(const ZipMember& member) const;

 private:
  [[noreturn]] void fail(const std::string& message) const;
  void read_directory();
  std::span<const std::byte> bytes_;
  std::string what_;
  std::vector<ZipMember> members_;
};

}  // namespace ouro::pickle::detail
