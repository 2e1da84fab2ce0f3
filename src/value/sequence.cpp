// Slicing, repetition and join (include/ouro/value/sequence.h). The index arithmetic is
// CPython's PySlice_Unpack + PySlice_AdjustIndices; str slices count code points (an
// all-ASCII str, the common case, slices its bytes directly).
//
// Invariants kept here (DESIGN.md): I7 — every result is sized first and then built in
// place in the operand's heap (Str/Bytes::make_filled, List::make with its size); the only
// other allocation is a str's code-point offset table for a strided slice of non-ASCII text,
// which is a heap block too.
#include "ouro/value/sequence.h"

#include <fmt/format.h>

#include <cstring>
#include <limits>

#include "value/internal.h"
#include "value/unicode.h"

namespace ouro {

namespace vd = value::detail;

namespace {

constexpr std::int64_t kMaxIndex = std::numeric_limits<std::int64_t>::max();

/// A slice resolved against a length: the first index, the step and the number of items.
struct SliceIndices {
  std::int64_t start;
  std::int64_t step;
  std::size_t count;
};

// PySlice_Unpack + PySlice_AdjustIndices.
SliceIndices adjust(const Slice& range, std::size_t size) {
  std::int64_t step = range.step.value_or(1);
  if (step == 0) throw ValueError("slice step cannot be zero");
  if (step < -kMaxIndex) step = -kMaxIndex;  // so that -step cannot overflow
  const auto length = static_cast<std::int64_t>(size);
  auto clamp = [&](std::optional<std::int64_t> bound, std::int64_t if_absent) {
    if (!bound) return if_absent;
    std::int64_t i = *bound;
    if (i < 0) {
      i += length;
      if (i < 0) i = step < 0 ? -1 : 0;
    } else if (i >= length) {
      i = step < 0 ? length - 1 : length;
    }
    return i;
  };
  const std::int64_t start = clamp(range.start, step < 0 ? length - 1 : 0);
  const std::int64_t stop = clamp(range.stop, step < 0 ? -1 : length);
  std::size_t count = 0;
  if (step < 0) {
    if (stop < start) count = static_cast<std::size_t>((start - stop - 1) / (-step) + 1);
  } else if (start < stop) {
    count = static_cast<std::size_t>((stop - start - 1) / step + 1);
  }
  return {start, step, count};
}

/// A heap block that is given back when the scope ends (a temporary table).
class ScratchBlock {
 public:
  ScratchBlock(Heap& heap, std::size_t bytes) : heap_(heap), bytes_(bytes) {
    if (bytes_ != 0) data_ = heap.allocate(bytes_);
  }
  ~ScratchBlock() {
    if (data_ != nullptr) heap_.deallocate(data_, bytes_);
  }
  ScratchBlock(const ScratchBlock&) = delete;
  ScratchBlock& operator=(const ScratchBlock&) = delete;
  template <class T>
  T* as() const noexcept {
    return static_cast<T*>(data_);
  }

 private:
  Heap& heap_;
  std::size_t bytes_;
  void* data_ = nullptr;
};

Value slice_str(const Str& s, const Slice& range) {
  Heap& heap = vd::heap_of(s);
  const SliceIndices at = adjust(range, s.size());
  const std::string_view text = s.utf8();
  if (s.is_ascii()) {
    return Str::make_filled(heap, at.count, at.count, [&](char* out) {
      for (std::size_t k = 0; k < at.count; ++k) {
        out[k] = text[static_cast<std::size_t>(at.start + static_cast<std::int64_t>(k) * at.step)];
      }
    });
  }
  // Byte offsets of every code point, plus the end: one walk, then any step is direct.
  ScratchBlock offsets_block(heap, (s.size() + 1) * sizeof(std::uint32_t));
  auto* offsets = offsets_block.as<std::uint32_t>();
  std::size_t pos = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    offsets[i] = static_cast<std::uint32_t>(pos);
    vd::decode_code_point(text, pos);
  }
  offsets[s.size()] = static_cast<std::uint32_t>(text.size());
  auto index_of = [&](std::size_t k) {
    return static_cast<std::size_t>(at.start + static_cast<std::int64_t>(k) * at.step);
  };
  std::size_t bytes = 0;
  for (std::size_t k = 0; k < at.count; ++k)
    bytes += offsets[index_of(k) + 1] - offsets[index_of(k)];
  return Str::make_filled(heap, bytes, at.count, [&](char* out) {
    for (std::size_t k = 0; k < at.count; ++k) {
      const std::size_t i = index_of(k);
      const std::size_t n = offsets[i + 1] - offsets[i];
      std::memcpy(out, text.data() + offsets[i], n);
      out += n;
    }
  });
}

// Copies the sliced bytes of `data` to `out`.
void copy_sliced(std::span<const std::byte> data, const SliceIndices& at, std::byte* out) {
  for (std::size_t k = 0; k < at.count; ++k) {
    out[k] = data[static_cast<std::size_t>(at.start + static_cast<std::int64_t>(k) * at.step)];
  }
}

Value slice_items(Heap& heap, std::span<const Value> items, const Slice& range, bool as_tuple) {
  const SliceIndices at = adjust(range, items.size());
  if (at.step == 1) {
    const auto part = items.subspan(static_cast<std::size_t>(at.start), at.count);
    if (as_tuple) return Tuple::make(heap, part);
    return List::make(heap, part);
  }
  Ref<List> picked = List::make(heap, at.count);
  for (std::size_t k = 0; k < at.count; ++k) {
    picked->append(
        items[static_cast<std::size_t>(at.start + static_cast<std::int64_t>(k) * at.step)]);
  }
  if (as_tuple) return Tuple::make(heap, picked->items_span());
  return picked;
}

// len * n, or OverflowError when it does not fit (CPython's "repeated string is too long").
std::size_t repeated_size(std::size_t len, std::int64_t n, const char* message) {
  const auto times = static_cast<std::size_t>(n);
  if (len != 0 && times > std::numeric_limits<std::uint32_t>::max() / len) {
    throw OverflowError(message);
  }
  return len * times;
}

void fill_repeated(std::byte* out, std::span<const std::byte> unit, std::size_t total) {
  if (total == 0) return;
  std::memcpy(out, unit.data(), unit.size());
  // Doubling copies, as CPython's _PyBytes_Repeat: log2(n) memcpy calls.
  std::size_t done = unit.size();
  while (done < total) {
    const std::size_t n = std::min(done, total - done);
    std::memcpy(out + done, out, n);
    done += n;
  }
}

[[noreturn]] void throw_join_item(std::size_t i, const Value& item, bool text) {
  if (text) {
    throw TypeError(
        fmt::format("sequence item {}: expected str instance, {} found", i, item.type_name()));
  }
  throw TypeError(
      fmt::format("sequence item {}: expected a bytes-like object, {} found", i, item.type_name()));
}

std::span<const std::byte> bytes_of(const Value& v) {
  if (const Bytes* b = v.get_if<Bytes>()) return b->data();
  return v.as<ByteArray>().data();
}

bool is_bytes_like(const Value& v) { return v.is<Bytes>() || v.is<ByteArray>(); }

// Calls fn(item) for each element of a list, tuple, set, frozenset or dict's keys; false for
// anything else (not iterable as far as the value layer knows).
template <class Fn>
bool for_each_item(const Value& items, Fn&& fn) {
  if (const List* l = items.get_if<List>()) {
    for (const Value& v : *l) fn(v);
  } else if (const Tuple* t = items.get_if<Tuple>()) {
    for (const Value& v : *t) fn(v);
  } else if (const AnySet* s = items.get_if<AnySet>()) {
    for (const SetEntry& e : *s) fn(e.key);
  } else if (const Dict* d = items.get_if<Dict>()) {
    for (const DictEntry& e : *d) fn(e.key);
  } else {
    return false;
  }
  return true;
}

}  // namespace

Value slice(const Value& seq, const Slice& range) {
  if (const Str* s = seq.get_if<Str>()) return slice_str(*s, range);
  if (const List* l = seq.get_if<List>()) {
    return slice_items(vd::heap_of(*l), l->items_span(), range, false);
  }
  if (const Tuple* t = seq.get_if<Tuple>()) {
    return slice_items(vd::heap_of(*t), t->items_span(), range, true);
  }
  if (is_bytes_like(seq)) {
    const std::span<const std::byte> data = bytes_of(seq);
    Heap& heap = vd::heap_of(*seq.object());
    const SliceIndices at = adjust(range, data.size());
    if (seq.is<Bytes>()) {
      return Bytes::make_filled(heap, at.count,
                                [&](std::byte* out) { copy_sliced(data, at, out); });
    }
    Ref<ByteArray> a = ByteArray::make(heap);
    a->reserve(at.count);
    for (std::size_t k = 0; k < at.count; ++k) {
      a->append(data[static_cast<std::size_t>(at.start + static_cast<std::int64_t>(k) * at.step)]);
    }
    return a;
  }
  throw TypeError(fmt::format("'{}' object is not subscriptable", seq.type_name()));
}

Value repeat(const Value& seq, std::int64_t n) {
  if (n < 0) n = 0;
  if (const Str* s = seq.get_if<Str>()) {
    const std::size_t bytes = repeated_size(s->utf8().size(), n, "repeated string is too long");
    const std::size_t code_points = s->size() * static_cast<std::size_t>(n);
    return Str::make_filled(vd::heap_of(*s), bytes, code_points, [&](char* out) {
      fill_repeated(reinterpret_cast<std::byte*>(out), as_bytes(s->utf8()), bytes);
    });
  }
  if (is_bytes_like(seq)) {
    const std::span<const std::byte> unit = bytes_of(seq);
    Heap& heap = vd::heap_of(*seq.object());
    const std::size_t total = static_cast<std::size_t>(n) * unit.size();
    if (unit.size() != 0 && total / unit.size() != static_cast<std::size_t>(n)) {
      throw OverflowError("repeated bytes are too long");
    }
    if (seq.is<Bytes>()) {
      return Bytes::make_filled(heap, total,
                                [&](std::byte* out) { fill_repeated(out, unit, total); });
    }
    Ref<ByteArray> a = ByteArray::make(heap);
    a->reserve(total);
    if (total != 0) {  // an empty unit repeated 2**60 times must not loop 2**60 times
      for (std::int64_t i = 0; i < n; ++i) a->extend(unit);
    }
    return a;
  }
  const bool is_tuple = seq.is<Tuple>();
  if (is_tuple || seq.is<List>()) {
    const std::span<const Value> items =
        is_tuple ? seq.as<Tuple>().items_span() : seq.as<List>().items_span();
    Heap& heap = vd::heap_of(*seq.object());
    const std::size_t total = repeated_size(
        items.size(), n, is_tuple ? "repeated tuple is too long" : "repeated list is too long");
    Ref<List> l = List::make(heap, total);
    if (total != 0) {
      for (std::int64_t i = 0; i < n; ++i) l->extend(items);
    }
    if (is_tuple) return Tuple::make(heap, l->items_span());
    return l;
  }
  throw TypeError(
      fmt::format("unsupported operand type(s) for *: '{}' and 'int'", seq.type_name()));
}

Value join(const Value& sep, const Value& items) {
  const bool text = sep.is<Str>();
  if (!text && !is_bytes_like(sep)) {
    throw TypeError(fmt::format("join: the separator must be str, bytes or bytearray, not {}",
                                sep.type_name()));
  }
  // First pass: check every item and measure the result, as CPython does before copying.
  std::size_t count = 0, bytes = 0, code_points = 0;
  const std::span<const std::byte> separator =
      text ? as_bytes(sep.as<Str>().utf8()) : bytes_of(sep);
  const bool iterable = for_each_item(items, [&](const Value& item) {
    if (text ? !item.is<Str>() : !is_bytes_like(item)) throw_join_item(count, item, text);
    if (count != 0) bytes += separator.size();
    if (text) {
      bytes += item.as<Str>().utf8().size();
      code_points += item.as<Str>().size();
    } else {
      bytes += bytes_of(item).size();
    }
    ++count;
  });
  if (!iterable) throw TypeError("can only join an iterable");
  if (text && count > 1) code_points += (count - 1) * sep.as<Str>().size();
  auto fill = [&](std::byte* out) {
    std::size_t i = 0;
    for_each_item(items, [&](const Value& item) {
      if (i++ != 0 && !separator.empty()) {
        std::memcpy(out, separator.data(), separator.size());
        out += separator.size();
      }
      const std::span<const std::byte> part =
          text ? as_bytes(item.as<Str>().utf8()) : bytes_of(item);
      if (!part.empty()) std::memcpy(out, part.data(), part.size());
      out += part.size();
    });
  };
  Heap& heap = vd::heap_of(*sep.object());
  if (text) {
    return Str::make_filled(heap, bytes, code_points,
                            [&](char* out) { fill(reinterpret_cast<std::byte*>(out)); });
  }
  if (sep.is<Bytes>()) return Bytes::make_filled(heap, bytes, fill);
  Ref<ByteArray> a = ByteArray::make(heap);
  a->reserve(bytes);
  for_each_item(items, [&, i = std::size_t{0}](const Value& item) mutable {
    if (i++ != 0) a->extend(separator);
    a->extend(bytes_of(item));
  });
  return a;
}

}  // namespace ouro
