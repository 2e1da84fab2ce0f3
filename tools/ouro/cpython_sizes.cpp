// CPython 3.11's sys.getsizeof formulas (Objects/*.c, 64-bit): header sizes plus payload,
// checked against the interpreter (tests/cli and the tour's figures).
#include "cpython_sizes.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "pickle/catalogue.h"
#include "pickle/opcodes.h"

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

// PySetObject keeps 8 slots inline; added one by one (as every unpickled set is), the
// table is rebuilt when fill * 5 >= mask * 3, for the smallest power of two above 4x the
// keys (setobject.c, the rule src/value/table.h reproduces); a separate table adds 16
// bytes a slot.
std::size_t set_size(std::size_t n) {
  std::size_t slots = 8;
  for (std::size_t fill = 1; fill <= n; ++fill) {
    if (fill * 5 >= (slots - 1) * 3) {
      slots = 8;
      while (slots <= fill * 4) slots <<= 1;
    }
  }
  return 200 + kGcHead + (slots == 8 ? 0 : 16 * slots);
}

// list_resize(newsize) from `allocated` slots holding `size` items (Objects/listobject.c).
std::size_t list_resize(std::size_t size, std::size_t allocated, std::size_t newsize) {
  if (allocated >= newsize && newsize >= allocated / 2) return allocated;
  std::size_t grown = (newsize + (newsize >> 3) + 6) & ~std::size_t{3};
  if (newsize - size > grown - newsize) grown = (newsize + 3) & ~std::size_t{3};
  return grown;
}

// A list's item slots after unpickling: APPENDS in batches of 1000 (a last batch of one
// written as APPEND), or one APPEND per item at protocol 0; each grows the array by
// list_resize's rule.
std::size_t unpickled_list_capacity(std::size_t n, bool single_appends) {
  std::size_t size = 0, allocated = 0;
  const std::size_t batch = single_appends ? 1 : 1000;
  while (size < n) {
    const std::size_t newsize = size + std::min<std::size_t>(batch, n - size);
    allocated = list_resize(size, allocated, newsize);
    size = newsize;
  }
  return allocated;
}

/// The catalogue role of a Reduce's callable (complex, range, ...), or nullptr.
const pickle::detail::CatalogueEntry* catalogued_call(const Reduce& r) {
  const Global* g = r.callable.get_if<Global>();
  return g == nullptr ? nullptr : pickle::detail::find_catalogued(g->module(), g->qualname());
}

/// A uuid.UUID restored by its __setstate__ from the {'int': ...} dict it pickles.
bool is_uuid(const Instance& i) {
  const Global* g = i.cls().get_if<Global>();
  const pickle::detail::CatalogueEntry* e =
      g == nullptr ? nullptr : pickle::detail::find_catalogued(g->module(), g->qualname());
  return e != nullptr && e->role == pickle::detail::CatalogueRole::kUuid && i.state().is<Dict>();
}

/// The name of a callable or class for the caveat.
std::string name_of(const Value& v) {
  if (const Global* g = v.get_if<Global>()) return fmt::format("{}.{}", g->module(), g->qualname());
  return std::string(v.type_name());
}

/// Items of a catalogued call that CPython keeps (and which ouro holds in its arguments
/// or items): pushed on `todo` by catalogue_contents below.
struct DequeShape {
  std::vector<Value> kept;  // the items the deque holds, after maxlen dropped the first
  std::size_t left_index;   // where the first item sits in the first block
};

/// deque(iterable or (), maxlen) + APPENDS as CPython's unpickler builds it: every batch
/// through extend(), the first of which, on an empty deque, starts filling at index 1 of
/// its block (a fresh deque starts at the centre, 32); items beyond maxlen drop from the
/// left, freeing a block each 64 (Modules/_collectionsmodule.c).
DequeShape deque_shape(const Reduce& r) {
  const Tuple& args = r.args.as<Tuple>();
  std::vector<Value> items;
  if (args.size() >= 1) {
    if (const Tuple* t = args[0].get_if<Tuple>()) items.assign(t->begin(), t->end());
    if (const List* l = args[0].get_if<List>()) items.assign(l->begin(), l->end());
  }
  if (const List* l = r.listitems.get_if<List>()) items.insert(items.end(), l->begin(), l->end());
  std::size_t maxlen = items.size();
  if (args.size() == 2 && args[1].is_small_int())
    maxlen = static_cast<std::size_t>(args[1].small_value());
  if (items.empty() || maxlen == 0) return {{}, 32};
  const std::size_t dropped = items.size() > maxlen ? items.size() - maxlen : 0;
  items.erase(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(dropped));
  return {std::move(items), (1 + dropped) % 64};
}

/// A Decimal's coefficient (or NaN payload) digits from its canonical string.
std::size_t decimal_digits(std::string_view text) {
  std::size_t digits = 0;
  bool leading = true;
  for (char c : text.substr(0, text.find('E'))) {
    if (c < '0' || c > '9') continue;
    if (c == '0' && leading) continue;
    leading = false;
    ++digits;
  }
  return digits;
}

/// timedelta(0) as pickled: a catalogued timedelta call whose arguments are all 0.
bool is_zero_timedelta(const Value& v) {
  const Reduce* d = v.get_if<Reduce>();
  const Tuple* args = d == nullptr ? nullptr : d->args.get_if<Tuple>();
  const pickle::detail::CatalogueEntry* e = d == nullptr ? nullptr : catalogued_call(*d);
  if (args == nullptr || e == nullptr || e->role != pickle::detail::CatalogueRole::kTimeDelta) {
    return false;
  }
  return std::all_of(args->begin(), args->end(),
                     [](const Value& a) { return a.is_small_int() && a.small_value() == 0; });
}

/// sys.getsizeof of a catalogued call's object: 0 for the module's shared singletons
/// (timezone.utc, SafeUUID members), nullopt for what is not sized here (another call, an
/// OrderedDict, a shape the catalogue does not decode).
std::optional<std::size_t> catalogued_size(const Reduce& r) {
  using Role = pickle::detail::CatalogueRole;
  const pickle::detail::CatalogueEntry* e = catalogued_call(r);
  const Tuple* args = r.args.get_if<Tuple>();
  if (e == nullptr || args == nullptr) return std::nullopt;
  switch (e->role) {
    case Role::kComplex:
      return 32;  // PyComplexObject: header and two doubles
    case Role::kRange:
      return 48;  // start, stop, step, length
    case Role::kSlice:
      return 40 + kGcHead;  // start, stop, step; a GC container
    case Role::kDate:
      return 32;  // header, hash, hastzinfo, 4 data bytes
    case Role::kTime:
      return 40;  // the same for naive and aware times (tp_basicsize)
    case Role::kDateTime:
      return 48;
    case Role::kTimeDelta:
      return 40;           // days, seconds, microseconds as C ints
    case Role::kTimeZone:  // timezone(timedelta(0)) is the timezone.utc singleton
      return args->size() == 1 && is_zero_timedelta((*args)[0]) ? 0 : 32;
    case Role::kDecimal: {
      // 104 bytes with four 19-digit words inline; a longer coefficient is allocated whole.
      const Str* text = args->size() == 1 ? (*args)[0].get_if<Str>() : nullptr;
      const auto canonical =
          text == nullptr ? std::nullopt : pickle::detail::decimal_str(text->utf8());
      if (!canonical) return std::nullopt;
      const std::size_t words = (decimal_digits(*canonical) + 18) / 19;
      return 104 + (words > 4 ? 8 * words : 0);
    }
    case Role::kFraction:
      return 48;  // __slots__ = ('_numerator', '_denominator')
    case Role::kSafeUuid:
      return 0;  // an Enum member: one object per process
    case Role::kCounter:
    case Role::kDefaultDict: {
      // A dict subclass: the dict table as CPython grew it, plus the subclass's slots.
      const Dict* d = e->role == Role::kCounter
                          ? (args->size() == 1 ? (*args)[0].get_if<Dict>() : nullptr)
                          : r.dictitems.get_if<Dict>();
      if (d == nullptr &&
          !(e->role == Role::kCounter ? args->size() == 0 : r.dictitems.is_none())) {
        return std::nullopt;
      }
      const std::size_t table = d == nullptr ? 64 : dict_size(*d);
      return table + (e->role == Role::kCounter ? 24 : 8);
    }
    case Role::kDeque: {
      const DequeShape shape = deque_shape(r);
      constexpr std::size_t kBlock = 64 * 8 + 16;  // 64 item slots and two links
      return 232 + kBlock * ((shape.left_index + shape.kept.size() + 63) / 64);
    }
    default:
      return std::nullopt;
  }
}

/// The objects a catalogued call's object holds that CPython allocates apart (a
/// Fraction's ints, a timezone's offset and name, an aware time's tzinfo, a container's
/// items), pushed on `todo`; the temporaries of the call (a date's byte state, a Decimal's
/// string, the dict given to Counter) are not.
void push_catalogue_contents(const Reduce& r, std::vector<Value>& todo) {
  using Role = pickle::detail::CatalogueRole;
  const pickle::detail::CatalogueEntry* e = catalogued_call(r);
  const Tuple& args = r.args.as<Tuple>();
  const auto push_entries = [&](const Value& v) {
    if (const Dict* d = v.get_if<Dict>()) {
      for (const DictEntry& entry : *d) {
        todo.push_back(entry.key);
        todo.push_back(entry.value);
      }
    }
  };
  switch (e->role) {
    case Role::kFraction:
    case Role::kTimeZone:
      todo.insert(todo.end(), args.begin(), args.end());
      break;
    case Role::kTime:
    case Role::kDateTime:
      if (args.size() == 2) todo.push_back(args[1]);
      break;
    case Role::kCounter:
      if (args.size() == 1) push_entries(args[0]);
      break;
    case Role::kDefaultDict:
      push_entries(r.dictitems);
      break;
    case Role::kDeque: {
      DequeShape shape = deque_shape(r);
      todo.insert(todo.end(), shape.kept.begin(), shape.kept.end());
      break;
    }
    default:
      break;
  }
}

}  // namespace

std::size_t cpython_sizeof(const Value& v, const CPythonBuild& build) {
  if (v.is_none() || v.is_bool()) return v.is_none() ? 16 : 28;
  if (v.is_int()) return int_size(v);
  if (v.is<Float>()) return 24;
  if (const Str* s = v.get_if<Str>()) return str_size(*s);
  if (const Bytes* b = v.get_if<Bytes>()) return 33 + b->size();
  if (const ByteArray* b = v.get_if<ByteArray>()) return 56 + (b->size() == 0 ? 0 : b->size() + 1);
  if (const Tuple* t = v.get_if<Tuple>()) return 24 + kGcHead + 8 * t->size();
  if (const List* l = v.get_if<List>())
    return 40 + kGcHead + 8 * unpickled_list_capacity(l->size(), build.lists_by_single_appends);
  if (const Dict* d = v.get_if<Dict>()) return dict_size(*d);
  if (const Set* s = v.get_if<Set>()) return set_size(s->size());
  if (const FrozenSet* s = v.get_if<FrozenSet>()) return set_size(s->size());
  if (v.is<Instance>()) return 56;
  if (const Reduce* r = v.get_if<Reduce>()) return catalogued_size(*r).value_or(0);
  return 0;  // Global and other inert references: no data of their own
}

std::size_t cpython_deep_sizeof(const Value& v) { return estimate_cpython_size(v).bytes; }

CPythonEstimate estimate_cpython_size(const Value& root, const CPythonBuild& build) {
  std::unordered_set<const Object*> seen;
  std::map<std::string, std::size_t> not_sized;
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
    if (const Reduce* r = v.get_if<Reduce>()) {
      // The catalogue's objects are sized, with what they hold; other calls build objects
      // of their own library's making (a numpy array from its state's bytes): only it
      // knows their size.
      const std::optional<std::size_t> size = catalogued_size(*r);
      if (!size) {
        ++not_sized[name_of(r->callable)];
        continue;
      }
      total += *size;
      if (*size != 0) push_catalogue_contents(*r, todo);
      continue;
    }
    if (const Instance* i = v.get_if<Instance>(); i != nullptr && is_uuid(*i)) {
      total += 56;  // __slots__ = ('int', 'is_safe', '__weakref__'); is_safe is an Enum member
      for (const DictEntry& e : i->state().as<Dict>()) {
        if (const Str* key = e.key.get_if<Str>(); key != nullptr && key->utf8() == "int") {
          todo.push_back(e.value);
        }
      }
      continue;
    }
    if (const Instance* i = v.get_if<Instance>();
        i != nullptr && !i->state().is_none() && !i->state().is<Dict>()) {
      ++not_sized[name_of(i->cls())];  // restored by its own __setstate__
      continue;
    }
    total += cpython_sizeof(v, build);
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
      if (d != nullptr && seen.insert(d).second) {
        total += instance_dict_size(*d);
        for (const DictEntry& e : *d) {
          todo.push_back(e.key);
          todo.push_back(e.value);
        }
      }
    }
  }
  CPythonEstimate estimate{total, {}};
  estimate.not_sized.assign(not_sized.begin(), not_sized.end());
  return estimate;
}

CPythonBuild cpython_build_of(std::string_view pickle) {
  bool append = false, appends = false;
  try {
    pickle::OpcodeReader reader(std::as_bytes(std::span(pickle.data(), pickle.size())));
    pickle::RawInstruction ins;
    while (reader.next_raw(ins)) {
      append = append || ins.info->code == pickle::Op::kAppend;
      appends = appends || ins.info->code == pickle::Op::kAppends;
    }
  } catch (const std::exception&) {
    return {};  // the loader accepted it, so this is only a reader limit: keep the default
  }
  return {.lists_by_single_appends = append && !appends};
}

void print_cpython_estimate(const Value& value, std::string_view pickle) {
  const CPythonEstimate estimate = estimate_cpython_size(value, cpython_build_of(pickle));
  fmt::print("CPython 3.11 (estimated):    {:>12}\n", estimate.bytes);
  if (estimate.not_sized.empty()) return;
  std::string names;
  for (const auto& [name, n] : estimate.not_sized) {
    names +=
        fmt::format("{}{}{}", names.empty() ? "" : ", ", name, n > 1 ? fmt::format(" x{}", n) : "");
  }
  fmt::print(
      "  caveat: a lower bound; not counted, as only their own library knows their size: {}\n",
      names);
}

}  // namespace ouro::cli
