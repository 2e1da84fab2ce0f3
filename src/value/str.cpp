// ouro::Str, ouro::Bytes and ouro::ByteArray: text and bytes. Str and Bytes keep their
// bytes inline in one heap block (make_in) with the length and hash cached; ByteArray owns
// a separately allocated buffer that grows geometrically.
//
// Invariants kept here (DESIGN.md): I7 — the bytes are heap blocks counted against the
// limit and reported by getsizeof; ByteArray allocates its new buffer before releasing the
// old one, so a MemoryError leaves it unchanged. A Str's bytes are always valid UTF-8 with
// surrogates allowed (value/unicode.h), checked once at creation.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "value/internal.h"
#include "value/numeric_hash.h"
#include "value/unicode.h"

namespace ouro {

namespace vd = value::detail;

namespace {
constexpr std::size_t kMaxStrBytes = 0xFFFFFFFFu;  // byte_size_ is 32 bits
}  // namespace

Ref<Str> Str::make(Heap& heap, std::string_view utf8) {
  const vd::Utf8Scan scan = vd::scan_utf8(utf8);
  if (!scan.valid) {
    throw UnicodeDecodeError(
        fmt::format("'utf-8' codec can't decode byte 0x{:02x} in position {}: invalid utf-8",
                    static_cast<unsigned char>(utf8[scan.error_offset]), scan.error_offset),
        scan.error_offset);
  }
  return make_valid(heap, utf8, scan.code_points);
}

void Str::check_size(std::size_t bytes) {
  if (bytes > kMaxStrBytes) throw OverflowError("string longer than 4 GiB");
}

Ref<Str> Str::make_valid(Heap& heap, std::string_view utf8, std::size_t code_points) {
  check_size(utf8.size());
  Ref<Str> s = make_in<Str>(heap, utf8.size(), utf8.size(), code_points);
  if (!utf8.empty()) std::memcpy(s->chars(), utf8.data(), utf8.size());
  return s;
}

// CPython's hash under PYTHONHASHSEED=0 (value/numeric_hash.h): sets then iterate in
// CPython's order.
std::int64_t Str::hash() const noexcept {
  if (hash_ == -1) hash_ = vd::hash_str_seed0(utf8(), is_ascii());
  return hash_;
}

Ref<Bytes> Bytes::make(Heap& heap, std::span<const std::byte> data) {
  Ref<Bytes> b = make_in<Bytes>(heap, data.size(), data.size());
  if (!data.empty()) std::memcpy(static_cast<void*>(b.get() + 1), data.data(), data.size());
  return b;
}

std::int64_t Bytes::hash() const noexcept {
  if (hash_ == -1) hash_ = vd::hash_bytes_seed0(data());
  return hash_;
}

Ref<ByteArray> ByteArray::make(Heap& heap, std::span<const std::byte> data) {
  Ref<ByteArray> a = make_in<ByteArray>(heap, 0);
  a->extend(data);
  return a;
}

void ByteArray::extend(std::span<const std::byte> more) {
  if (more.empty()) return;
  const std::size_t needed = size_ + more.size();
  if (needed > capacity_) {
    // Same over-allocation as CPython's bytearray (about 1/8 extra).
    const std::size_t capacity = std::max(needed, needed + (needed >> 3) + 8);
    Heap& heap = vd::heap_of(*this);
    auto* fresh = static_cast<std::byte*>(heap.allocate(capacity));
    if (size_ != 0) std::memcpy(fresh, data_, size_);
    std::memcpy(fresh + size_, more.data(), more.size());  // before `more` may be freed
    if (data_ != nullptr) heap.deallocate(data_, capacity_);
    data_ = fresh;
    capacity_ = capacity;
  } else {
    std::memmove(data_ + size_, more.data(), more.size());
  }
  size_ = needed;
}

void ByteArray::extend(const Value& more) {
  if (more.is<Bytes>() || more.is<ByteArray>()) {
    const auto data = more.is<Bytes>() ? more.as<Bytes>().data() : more.as<ByteArray>().data();
    extend(data);  // extend(self) works: the span is copied before the old buffer goes
    return;
  }
  std::span<const Value> items;
  if (const List* l = more.get_if<List>()) {
    items = l->items_span();
  } else if (const Tuple* t = more.get_if<Tuple>()) {
    items = t->items_span();
  } else {
    throw TypeError(fmt::format("can't extend bytearray with {}", more.type_name()));
  }
  // Every item is checked before anything changes, so an error leaves the bytearray as it was.
  for (const Value& item : items) {
    if (!item.is_int() && !item.is_bool()) {
      throw TypeError(
          fmt::format("'{}' object cannot be interpreted as an integer", item.type_name()));
    }
    if (!item.is_small_int() || item.small_value() < 0 || item.small_value() > 255) {
      if (item.is_bool()) continue;
      throw ValueError("byte must be in range(0, 256)");
    }
  }
  reserve(size_ + items.size());
  for (const Value& item : items) {
    data_[size_++] =
        static_cast<std::byte>(item.is_bool() ? (item.as<bool>() ? 1 : 0) : item.small_value());
  }
}

void ByteArray::reserve(std::size_t capacity) {
  if (capacity <= capacity_) return;
  Heap& heap = vd::heap_of(*this);
  auto* fresh = static_cast<std::byte*>(heap.allocate(capacity));
  if (size_ != 0) std::memcpy(fresh, data_, size_);
  if (data_ != nullptr) heap.deallocate(data_, capacity_);
  data_ = fresh;
  capacity_ = capacity;
}

std::size_t ByteArray::owned_bytes() const noexcept {
  return data_ != nullptr ? Heap::block_size_for(capacity_) : 0;
}

ByteArray::~ByteArray() {
  if (data_ != nullptr) vd::heap_of(*this).deallocate(data_, capacity_);
}

}  // namespace ouro
