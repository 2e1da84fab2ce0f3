// The zip reader of archive.h: PKWARE's APPNOTE layout (end of central directory, zip64
// locator and record, central directory entries, local headers), read with explicit
// little-endian loads and bounds checks, over a read-only mmap of the file.
#include "pickle/archive.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "ouro/pickle/torch.h"

namespace ouro::pickle::detail {
namespace {

constexpr std::uint32_t kLocalHeader = 0x04034b50;
constexpr std::uint32_t kCentralHeader = 0x02014b50;
constexpr std::uint32_t kEndOfDirectory = 0x06054b50;
constexpr std::uint32_t kZip64Locator = 0x07064b50;
constexpr std::uint32_t kZip64EndOfDirectory = 0x06064b50;
constexpr std::uint16_t kZip64ExtraId = 0x0001;
constexpr std::size_t kEndOfDirectorySize = 22;
constexpr std::size_t kCentralHeaderSize = 46;
constexpr std::size_t kLocalHeaderSize = 30;
constexpr std::size_t kZip64LocatorSize = 20;
constexpr std::size_t kZip64EndOfDirectorySize = 56;
constexpr std::size_t kMaxCommentSize = 0xffff;

std::uint64_t load_le(std::span<const std::byte> bytes, std::size_t at, std::size_t width) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < width; ++i) {
    v |= static_cast<std::uint64_t>(bytes[at + i]) << (8 * i);
  }
  return v;
}
std::uint16_t u16(std::span<const std::byte> b, std::size_t at) {
  return static_cast<std::uint16_t>(load_le(b, at, 2));
}
std::uint32_t u32(std::span<const std::byte> b, std::size_t at) {
  return static_cast<std::uint32_t>(load_le(b, at, 4));
}
std::uint64_t u64(std::span<const std::byte> b, std::size_t at) { return load_le(b, at, 8); }

// Whether [offset, offset + size) lies inside a buffer of `total` bytes, without overflow.
bool fits(std::uint64_t offset, std::uint64_t size, std::uint64_t total) {
  return offset <= total && size <= total - offset;
}

}  // namespace

MappedFile::MappedFile(const std::filesystem::path& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw CheckpointError(fmt::format("{}: cannot open: {}", path.string(), std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw CheckpointError(fmt::format("{}: not a regular file", path.string()));
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ != 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int error = errno;
      ::close(fd);
      throw CheckpointError(fmt::format("{}: cannot map: {}", path.string(), std::strerror(error)));
    }
    data_ = static_cast<const std::byte*>(p);
  }
  ::close(fd);  // the mapping keeps the file's pages
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
}

bool looks_like_zip(std::span<const std::byte> bytes) noexcept {
  return bytes.size() >= 4 && (u32(bytes, 0) == kLocalHeader || u32(bytes, 0) == kEndOfDirectory);
}

ZipArchive::ZipArchive(std::span<const std::byte> bytes, std::string what)
    : bytes_(bytes), what_(std::move(what)) {
  read_directory();
}

void ZipArchive::fail(const std::string& message) const {
  throw CheckpointError(fmt::format("{}: {}", what_, message));
}

void ZipArchive::read_directory() {
  // The end-of-central-directory record: the last signature whose comment ends the file.
  if (bytes_.size() < kEndOfDirectorySize) fail("not a zip archive (too short)");
  const std::size_t lowest = bytes_.size() > kEndOfDirectorySize + kMaxCommentSize
                                 ? bytes_.size() - kEndOfDirectorySize - kMaxCommentSize
                                 : 0;
  std::size_t eocd = bytes_.size() - kEndOfDirectorySize;
  while (true) {
    if (u32(bytes_, eocd) == kEndOfDirectory &&
        eocd + kEndOfDirectorySize + u16(bytes_, eocd + 20) == bytes_.size()) {
      break;
    }
    if (eocd == lowest) fail("no end-of-central-directory record (truncated or not a zip)");
    --eocd;
  }
  if (u16(bytes_, eocd + 4) != 0 || u16(bytes_, eocd + 6) != 0) {
    fail("multi-disk zip archives are not supported");
  }
  std::uint64_t count = u16(bytes_, eocd + 10);
  std::uint64_t directory_size = u32(bytes_, eocd + 12);
  std::uint64_t directory_offset = u32(bytes_, eocd + 16);
  // Zip64: a locator just before the record points at the zip64 record with 64-bit fields.
  if (eocd >= kZip64LocatorSize && u32(bytes_, eocd - kZip64LocatorSize) == kZip64Locator) {
    const std::uint64_t record = u64(bytes_, eocd - kZip64LocatorSize + 8);
    if (!fits(record, kZip64EndOfDirectorySize, bytes_.size()) ||
        u32(bytes_, record) != kZip64EndOfDirectory) {
      fail("the zip64 end-of-central-directory record is missing or past the end of the file");
    }
    count = u64(bytes_, record + 32);
    directory_size = u64(bytes_, record + 40);
    directory_offset = u64(bytes_, record + 48);
  }
  if (!fits(directory_offset, directory_size, bytes_.size())) {
    fail(fmt::format(
        "the central directory ({} bytes at offset {}) runs past the end of the file ({} "
        "bytes): truncated",
        directory_size, directory_offset, bytes_.size()));
  }
  // Each entry takes at least kCentralHeaderSize bytes: a count beyond that is a lie.
  if (count > directory_size / kCentralHeaderSize) {
    fail(fmt::format("the central directory claims {} entries in {} bytes", count, directory_size));
  }
  members_.reserve(static_cast<std::size_t>(count));
  std::size_t at = static_cast<std::size_t>(directory_offset);
  const std::size_t end = at + static_cast<std::size_t>(directory_size);
  for (std::uint64_t i = 0; i < count; ++i) {
    if (at + kCentralHeaderSize > end || u32(bytes_, at) != kCentralHeader) {
      fail(fmt::format("central directory entry {} at offset {} is damaged", i, at));
    }
    const std::size_t name_size = u16(bytes_, at + 28), extra_size = u16(bytes_, at + 30),
                      comment_size = u16(bytes_, at + 32);
    const std::size_t next = at + kCentralHeaderSize + name_size + extra_size + comment_size;
    if (next > end) fail(fmt::format("central directory entry {} runs past the directory", i));
    ZipMember m;
    m.flags = u16(bytes_, at + 8);
    m.method = u16(bytes_, at + 10);
    m.compressed_size = u32(bytes_, at + 20);
    m.size = u32(bytes_, at + 24);
    m.local_header_offset = u32(bytes_, at + 42);
    m.name.assign(reinterpret_cast<const char*>(bytes_.data() + at + kCentralHeaderSize),
                  name_size);
    // The zip64 extra field holds, in this order, whichever fields were 0xffffffff.
    std::size_t extra = at + kCentralHeaderSize + name_size;
    const std::size_t extra_end = extra + extra_size;
    while (extra + 4 <= extra_end) {
      const std::uint16_t id = u16(bytes_, extra), size = u16(bytes_, extra + 2);
      if (extra + 4 + size > extra_end) break;
      if (id == kZip64ExtraId) {
        std::size_t field = extra + 4;
        const std::size_t field_end = field + size;
        for (std::uint64_t* target : {&m.size, &m.compressed_size, &m.local_header_offset}) {
          if (*target != 0xffffffff) continue;
          if (field + 8 > field_end) fail(fmt::format("member '{}': short zip64 field", m.name));
          *target = u64(bytes_, field);
          field += 8;
        }
      }
      extra += 4 + size;
    }
    members_.push_back(std::move(m));
    at = next;
  }
}

const ZipMember* ZipArchive::find(std::string_view name) const noexcept {
  const auto it = std::find_if(members_.begin(), members_.end(),
                               [&](const ZipMember& m) { return m.name == name; });
  return it == members_.end() ? nullptr : &*it;
}

std::span<const std::byte> ZipArchive::data(const ZipMember& m) const {
  if ((m.flags & 1) != 0) fail(fmt::format("member '{}' is encrypted: not supported", m.name));
  if (m.method != 0) {
    fail(fmt::format(
        "member '{}' is compressed (method {}): only stored members are read, as torch.save "
        "writes them",
        m.name, m.method));
  }
  if (m.compressed_size != m.size) {
    fail(fmt::format("member '{}': stored size {} differs from its size {}", m.name,
                     m.compressed_size, m.size));
  }
  const std::uint64_t header = m.local_header_offset;
  if (!fits(header, kLocalHeaderSize, bytes_.size()) || u32(bytes_, header) != kLocalHeader) {
    fail(fmt::format("member '{}': no local header at offset {}", m.name, header));
  }
  const std::uint64_t start =
      header + kLocalHeaderSize + u16(bytes_, header + 26) + u16(bytes_, header + 28);
  if (!fits(start, m.size, bytes_.size())) {
    fail(
        fmt::format("member '{}' ({} bytes at offset {}) runs past the end of the file ({} "
                    "bytes)",
                    m.name, m.size, start, bytes_.size()));
  }
  return bytes_.subspan(static_cast<std::size_t>(start), static_cast<std::size_t>(m.size));
}

}  // namespace ouro::pickle::detail
