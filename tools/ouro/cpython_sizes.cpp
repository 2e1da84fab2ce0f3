// CPython 3.11's sys.getsizeof formulas (Objects/*.c, 64-bit): header sizes plus payload,
// checked against the interpreter (tests/cli and the tour's figures).
#include "cpython_sizes.h"

#include <algorithm>
#include <bit>
#include <string>
#include <unordered_set>
#include <vector>

namespace ouro::cli {
namespace {

constexpr std::size_t kGcHead = 16;  // PyGC_Head in front of every container

// PyLong: 24-byte header with one 30-bit digit slot; 0 has no digit.
std::size_t int_size(const Value& v) {
  if (v.is_small_int()) {
    std::uint64_t magnitude =
        static_cast<std::uint64_t>(v.small_value() < 0 ? -v.small_value() : v.small_value());
    const std::size_t bits = static_cast<std::size_t>(std::bit_width(magnitude));
    return 24 + 4 * ((bits + 29) / 30);
  }
  const Int& i = v.as<Int>();
  std::size_t bits = 0;
  const auto limbs = i.limbs();
  for (std::size_t k = limbs.size(); k-- > 0;) {
    if (limbs[k] != 0) {
      bits =
          k * 64 + static_cast<std::size_t>(std::bit_width(static_cast<std::uint64_t>(limbs[k])));
      break;
    }
  }
  return 24 + 4 * ((bits + 29) / 30);
}

// Compact str: 40-byte ASCII header (48 with the utf8 fields for other kinds), the code
// units at 1, 2 or 4 bytes, and a terminating unit.
std::size_t str_size(const Str& s) {
  char32_t widest = 0;
  const std::string_view u = s.utf8();
  for (std::size_t k = 0; k < u.size();) {
    const auto b = static_cast<unsigned char>(u[k]);
    const std::size_t n = b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
    char32_t cp = n == 1 ? b : b & (0x7f >> n);
    for (std::size_t j = 1; j < n && k + j < u.size(); ++j) {
      cp = (cp << 6) | (static_cast<unsigned char>(u[k + j]) & 0x3f);
    }
    widest = std::max(widest, cp);
    k += n;
  }
  const std::size_t n = s.size();
  if (widest < 0x80) return 48 + n + 1;
  if (widest < 0x100) return 72 + n + 1;
  if (widest < 0x10000) return 72 + 2 * (n + 1);
  return 72 + 4 * (n + 1);
}

// Dict built by insertion: 8 index slots at first, usable 2/3 of them; entries of 16 bytes
// when every key is a str (the unicode-keys layout), else 24.
std::size_t dict_size(const Dict& d) {
  if (d.size() == 0) return 64;
  bool all_str = true;
  for (const DictEntry& e : d) all_str = all_str && e.key.is<Str>();
  std::size_t slots = 8;
  while (slots * 2 / 3 < d.size()) slots *= 2;
  const std::size_t index_bytes = slots <= 128          ? 1
                                  : slots <= 0xffff     ? 2
                                  : slots <= 0xffffffff ? 4
                                                        : 8;
  return 48 + kGcHead + 32 + slots * index_bytes + (slots * 2 / 3) * (all_str ? 16 : 24);
}

// An instance's __dict__ after unpickling (BUILD): a split dict sharing its class's keys,
// so only the 29-slot values array counts, up to 29 str attributes; past that CPython
// combines it (estimated here as a plain dict).
std::size_t instance_dict_size(const Dict& d) {
  bool all_str = true;
  for (const DictEntry& e : d) all_str = all_str && e.key.is<Str>();
  if (all_str && d.size() <= 29) return 48 + kGcHead + 29 * 8;
  return dict_size(d);
}

// PySetObject keeps 8 entries inline; filled past 3/5 it moves to a table of 4x its size.
std::size_t set_size(std::size_t n) {
  if (n <= 4) return 200 + kGcHead;
  const std::size_t table = std::bit_ceil(n * 4 + 1);
  return 200 + kGcHead + 16 * table;
}

// A list's item slots after unpickling (protocol >= 1): APPENDS in batches of 1000, a
// last batch of one written as APPEND, each growing the array by list_resize's rule.
std::size_t unpickled_list_capacity(std::size_t n) {
  std::size_t size = 0, allocated = 0;
  while (size < n) {
    const std::size_t newsize = size + std::min<std::size_t>(1000, n - size);
    if (allocated < newsize || newsize < allocated / 2) {
      std::size_t grown = (newsize + (newsize >> 3) + 6) & ~std::size_t{3};
      if (newsize - size > grown - newsize) grown = (newsize + 3) & ~std::size_t{3};
      allocated = grown;
    }
    size = newsize;
  }
  return allocated;
}

}  // namespace

std::size_t cpython_sizeof(const Value& v) {
  if (v.is_none() || v.is_bool()) return v.is_none() ? 16 : 28;
  if (v.is_int()) return int_size(v);
  if (v.is<Float>()) return 24;
  if (const Str* s = v.get_if<Str>()) return str_size(*s);
  if (const Bytes* b = v.get_if<Bytes>()) return 33 + b->size();
  if (const ByteArray* b = v.get_if<ByteArray>()) return 56 + (b->size() == 0 ? 0 : b->size() + 1);
  if (const Tuple* t = v.get_if<Tuple>()) return 24 + kGcHead + 8 * t->size();
  if (const List* l = v.get_if<List>())
    return 40 + kGcHead + 8 * unpickled_list_capacity(l->size());
  if (const Dict* d = v.get_if<Dict>()) return dict_size(*d);
  if (const Set* s = v.get_if<Set>()) return set_size(s->size());
  if (const FrozenSet* s = v.get_if<FrozenSet>()) return set_size(s->size());
  if (v.is<Instance>()) return 56;
  return 0;  // Global, Reduce and other inert references: no data of their own
}

std::size_t cpython_deep_sizeof(const Value& root) {
  std::unordered_set<const Object*> seen;
  std::vector<Value> todo{root};
  std::size_t total = 0;
  while (!todo.empty()) {
    Value v = std::move(todo.back());
    todo.pop_back();
    if (v.is_none() || v.is_bool()) continue;
    if (v.is_small_int() && v.small_value() >= -5 && v.small_value() <= 256) continue;
    if (v.is_object() && !seen.insert(v.object()).second) continue;
    if (const Str* s = v.get_if<Str>()) {
      if (s->size() == 0 || (s->size() == 1 && static_cast<unsigned char>(s->utf8()[0]) < 0xc4))
        continue;
    }
    if (const Bytes* b = v.get_if<Bytes>(); b != nullptr && b->size() == 0) continue;
    if (const Tuple* t = v.get_if<Tuple>(); t != nullptr && t->size() == 0) continue;
    total += cpython_sizeof(v);
    if (const Tuple* t = v.get_if<Tuple>()) todo.insert(todo.end(), t->begin(), t->end());
    if (const List* l = v.get_if<List>()) {
      for (std::size_t k = 0; k < l->size(); ++k) todo.push_back((*l)[k]);
    }
    if (const Dict* d = v.get_if<Dict>()) {
      for (const DictEntry& e : *d) {
        todo.push_back(e.key);
        todo.push_back(e.value);
      }
    }
    if (const Set* s = v.get_if<Set>()) {
      for (const SetEntry& e : *s) todo.push_back(e.key);
    }
    if (const FrozenSet* s = v.get_if<FrozenSet>()) {
      for (const SetEntry& e : *s) todo.push_back(e.key);
    }
    if (const Instance* i = v.get_if<Instance>()) {
      const Dict* d = i->state().get_if<Dict>();
      if (d == nullptr) {
        todo.push_back(i->state());
      } else if (seen.insert(d).second) {
        total += instance_dict_size(*d);
        for (const DictEntry& e : *d) {
          todo.push_back(e.key);
          todo.push_back(e.value);
        }
      }
    }
  }
  return total;
}

}  // namespace ouro::cli
