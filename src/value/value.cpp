// ouro::Value's out-of-line parts and the operations every value supports: Python's
// equality and hash rules across types, truth value, type names, checked conversions,
// sizes (getsizeof, deep_sizeof), the literal builders, and the recursion guard.
//
// Invariants kept here (DESIGN.md):
//   I2  values die by refcount; nothing here keeps a reference longer than a call.
//   I3  deep_sizeof walks containers only through their traverse(), the collector's view.
// Equality and hash agree: equals(a, b) implies hash(a) == hash(b) for hashable values,
// because numbers hash by value (numeric_hash.h) whatever their type, and a Global hashes
// by its names. Recursion is bounded by RecursionGuard (RecursionError, never a crash).
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <unordered_set>
#include <vector>

#include "value/bigint.h"
#include "value/internal.h"
#include "value/numeric_hash.h"

namespace ouro {

namespace vd = value::detail;

namespace value::detail {

namespace {
OURO_THREAD_LOCAL std::size_t recursion_limit_value = 1000;  // CPython's sys.getrecursionlimit()
OURO_THREAD_LOCAL std::size_t recursion_depth = 0;

std::uint64_t load_word(const std::byte* p, std::size_t n) noexcept {
  std::uint64_t w = 0;
  std::memcpy(&w, p, n);
  return w;
}

/// The low and high halves of the 128-bit product a * b, folded by xor (wyhash's mix).
#if defined(__SIZEOF_INT128__)
__extension__ typedef unsigned __int128 Uint128;  // GCC/Clang on 64-bit targets

std::uint64_t mix(std::uint64_t a, std::uint64_t b) noexcept {
  const Uint128 r = static_cast<Uint128>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}
#else
// 32-bit targets have no 128-bit type: the same product from four 32x32->64 ones, so a
// string hashes to the same value on the board as on the host.
std::uint64_t mix(std::uint64_t a, std::uint64_t b) noexcept {
  constexpr std::uint64_t kLow = 0xFFFFFFFF;
  const std::uint64_t a0 = a & kLow, a1 = a >> 32, b0 = b & kLow, b1 = b >> 32;
  const std::uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const std::uint64_t middle = (p00 >> 32) + (p01 & kLow) + (p10 & kLow);
  const std::uint64_t low = (p00 & kLow) | (middle << 32);
  const std::uint64_t high = p11 + (p01 >> 32) + (p10 >> 32) + (middle >> 32);
  return low ^ high;
}
#endif
}  // namespace

std::size_t& RecursionGuard::depth() noexcept { return recursion_depth; }

RecursionGuard::RecursionGuard(const char* context) {
  if (++recursion_depth > recursion_limit_value) {
    --recursion_depth;
    throw RecursionError(std::string("maximum recursion depth exceeded") + context);
  }
}

std::int64_t hash_bytes(std::span<const std::byte> data) noexcept {
  constexpr std::uint64_t kSeed = 0x9E3779B97F4A7C15ULL;
  constexpr std::uint64_t kMul1 = 0xA0761D6478BD642FULL;
  constexpr std::uint64_t kMul2 = 0xE7037ED1A0B428DBULL;
  std::uint64_t h = kSeed ^ (data.size() * kMul2);
  const std::byte* p = data.data();
  std::size_t n = data.size();
  for (; n >= 8; p += 8, n -= 8) h = mix(h ^ load_word(p, 8), kMul1);
  h = mix(h ^ load_word(p, n) ^ (std::uint64_t{n} << 59), kMul2);
  h = mix(h, kMul1);
  const auto out = static_cast<std::int64_t>(h);
  return out == -1 ? -2 : out;
}

Heap& current_heap() {
  Heap* heap = Heap::current();
  if (heap == nullptr) ouro::detail::throw_no_current_heap("ouro: creating a value");
  return *heap;
}

}  // namespace value::detail

std::size_t recursion_limit() noexcept { return vd::recursion_limit_value; }
void set_recursion_limit(std::size_t limit) noexcept { vd::recursion_limit_value = limit; }

// --- Value ------------------------------------------------------------------------------

bool Value::is_int() const noexcept { return is_small_int() || is<Int>(); }

std::string_view Value::type_name() const noexcept {
  if (is_none()) return "NoneType";
  if (is_bool()) return "bool";
  if (is_small_int()) return "int";
  return object()->type_name();
}

bool operator==(const Value& a, const Value& b) { return equals(a, b); }

namespace detail {

Object* make_big_int(std::int64_t n) {
  std::array<vd::Limb, vd::kInt64Limbs> limbs{};
  const vd::LimbsResult r = vd::from_int64(n, limbs);
  Value v = Int::from_limbs(vd::current_heap(), {limbs.data(), r.size}, r.negative);
  return reinterpret_cast<Object*>(ValueAccess::release(v));
}

Object* make_big_uint(std::uint64_t n) {
  const vd::Limb limb = n;
  Value v = Int::from_limbs(vd::current_heap(), {&limb, 1}, false);
  return reinterpret_cast<Object*>(ValueAccess::release(v));
}

Object* make_float_object(double x) { return Float::make(vd::current_heap(), x).release(); }

Object* make_str_object(std::string_view utf8) {
  return Str::make(vd::current_heap(), utf8).release();
}

Heap& current_heap_for(std::string_view call) {
  Heap* heap = Heap::current();
  if (heap == nullptr) {
    throw std::logic_error(std::string(call) +
                           ": no current heap on this thread; create an ouro::HeapScope "
                           "(or pass the Heap& explicitly)");
  }
  return *heap;
}

void throw_wrong_type(std::string_view wanted, const Value& v) {
  throw TypeError("expected " + std::string(wanted) + ", got " + std::string(v.type_name()));
}

void throw_int_overflow(std::string_view c_type) {
  throw OverflowError("Python int too large to convert to C " + std::string(c_type));
}

std::int64_t value_to_int64(const Value& v) {
  if (v.is_small_int()) return v.small_value();
  if (v.is_bool()) return v.as<bool>() ? 1 : 0;
  const Int* big = v.get_if<Int>();
  if (big == nullptr) throw_wrong_type("int", v);
  const auto n = vd::to_int64({big->limbs(), big->negative()});
  if (!n) throw_int_overflow("signed integer");
  return *n;
}

std::uint64_t value_to_uint64(const Value& v) {
  if (const Int* big = v.get_if<Int>()) {
    if (big->negative()) throw OverflowError("can't convert negative int to unsigned");
    if (big->limbs().size() > 1) throw_int_overflow("unsigned integer");
    return big->limbs()[0];
  }
  const std::int64_t n = value_to_int64(v);
  if (n < 0) throw OverflowError("can't convert negative int to unsigned");
  return static_cast<std::uint64_t>(n);
}

double value_to_double(const Value& v) {
  if (const Float* f = v.get_if<Float>()) return f->value();
  if (const Int* big = v.get_if<Int>()) return vd::to_double({big->limbs(), big->negative()});
  if (v.is_small_int() || v.is_bool()) return static_cast<double>(value_to_int64(v));
  throw_wrong_type("float", v);
}

std::string_view value_to_string_view(const Value& v) {
  const Str* s = v.get_if<Str>();
  if (s == nullptr) throw_wrong_type("str", v);
  return s->utf8();
}

}  // namespace detail

// --- equality ---------------------------------------------------------------------------

namespace {

enum class NumberKind { kNone, kInt, kFloat };

NumberKind number_kind(const Value& v) noexcept {
  if (v.is_small_int() || v.is_bool() || v.is<Int>()) return NumberKind::kInt;
  if (v.is<Float>()) return NumberKind::kFloat;
  return NumberKind::kNone;
}

// An int (small, bool or Int) as sign and limbs in caller storage.
vd::LimbsView int_view(const Value& v, std::array<vd::Limb, 1>& storage) noexcept {
  if (const Int* big = v.get_if<Int>()) return {big->limbs(), big->negative()};
  const std::int64_t n = v.is_bool() ? (v.is_same(Value(true)) ? 1 : 0) : v.small_value();
  const vd::LimbsResult r = vd::from_int64(n, storage);
  return {{storage.data(), r.size}, r.negative};
}

// int == float exactly, as CPython's float_richcompare: only an integral float can equal.
bool int_equals_float(const Value& i, double x) {
  if (!std::isfinite(x) || std::trunc(x) != x) return false;
  std::array<vd::Limb, 1> small{};
  std::array<vd::Limb, vd::kDoubleLimbs> limbs{};
  const vd::LimbsResult r = vd::from_double(x, limbs);
  return vd::compare(int_view(i, small), {{limbs.data(), r.size}, r.negative}) == 0;
}

bool numbers_equal(const Value& a, NumberKind ka, const Value& b, NumberKind kb) {
  if (ka == NumberKind::kFloat && kb == NumberKind::kFloat) {
    return vd::float_of(a) == vd::float_of(b);
  }
  if (ka == NumberKind::kFloat) return int_equals_float(b, vd::float_of(a));
  if (kb == NumberKind::kFloat) return int_equals_float(a, vd::float_of(b));
  std::array<vd::Limb, 1> sa{}, sb{};
  return vd::compare(int_view(a, sa), int_view(b, sb)) == 0;
}

// PyObject_RichCompareBool: identity implies equality for items inside containers.
bool items_equal(const Value& a, const Value& b) { return a.is_same(b) || equals(a, b); }

bool sequences_equal(std::span<const Value> a, std::span<const Value> b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!items_equal(a[i], b[i])) return false;
  }
  return true;
}

bool dicts_equal(const Dict& a, const Dict& b) {
  if (a.size() != b.size()) return false;
  for (const DictEntry& e : a) {
    const Value* other = b.find(e.key);
    if (other == nullptr || !items_equal(e.value, *other)) return false;
  }
  return true;
}

bool sets_equal(const AnySet& a, const AnySet& b) {
  if (a.size() != b.size()) return false;
  for (const SetEntry& e : a) {
    if (!b.contains(e.key)) return false;
  }
  return true;
}

std::span<const std::byte> byte_content(const Value& v) {
  if (const Bytes* b = v.get_if<Bytes>()) return b->data();
  return v.get_if<ByteArray>()->data();
}

bool is_bytes_like(const Value& v) noexcept { return v.is<Bytes>() || v.is<ByteArray>(); }

bool objects_equal(const Value& a, const Value& b) {
  if (is_bytes_like(a) && is_bytes_like(b)) {
    const auto x = byte_content(a), y = byte_content(b);
    return x.size() == y.size() && (x.empty() || std::memcmp(x.data(), y.data(), x.size()) == 0);
  }
  const AnySet* sa = a.get_if<AnySet>();
  const AnySet* sb = b.get_if<AnySet>();
  if (sa != nullptr && sb != nullptr) return sets_equal(*sa, *sb);
  if (a.object()->type_id() != b.object()->type_id()) return false;
  if (const Str* s = a.get_if<Str>()) {
    const Str* t = b.get_if<Str>();
    return s->size() == t->size() && s->utf8() == t->utf8();
  }
  if (const Tuple* t = a.get_if<Tuple>()) {
    return sequences_equal(t->items_span(), b.get_if<Tuple>()->items_span());
  }
  if (const List* l = a.get_if<List>()) {
    return sequences_equal(l->items_span(), b.get_if<List>()->items_span());
  }
  if (const Dict* d = a.get_if<Dict>()) return dicts_equal(*d, *b.get_if<Dict>());
  if (const Global* g = a.get_if<Global>()) {
    const Global* h = b.get_if<Global>();
    return g->module() == h->module() && g->qualname() == h->qualname();
  }
  return false;  // instances, reduces and other objects: identity only
}

}  // namespace

bool equals(const Value& a, const Value& b) {
  const NumberKind ka = number_kind(a), kb = number_kind(b);
  if (ka != NumberKind::kNone || kb != NumberKind::kNone) {
    return ka != NumberKind::kNone && kb != NumberKind::kNone && numbers_equal(a, ka, b, kb);
  }
  if (a.is_same(b)) return true;  // None, and the same object (never a float here)
  if (!a.is_object() || !b.is_object()) return false;
  vd::RecursionGuard guard(" in comparison");
  return objects_equal(a, b);
}

// --- hash -------------------------------------------------------------------------------

namespace {

[[noreturn]] void throw_unhashable(const Value& v) {
  throw TypeError("unhashable type: '" + std::string(v.type_name()) + "'");
}

// CPython's _shuffle_bits from Objects/setobject.c (frozenset_hash).
std::uint64_t shuffle_bits(std::uint64_t h) noexcept {
  return ((h ^ 89869747ULL) ^ (h << 16)) * 3644798167ULL;
}

// CPython 3.11's frozenset_hash: the xor of shuffled entry hashes is order-independent;
// the terms for NULL and dummy slots of CPython's table cancel out in its final value.
std::int64_t frozenset_hash(const FrozenSet& s) {
  std::uint64_t h = 0;
  for (const SetEntry& e : s) h ^= shuffle_bits(static_cast<std::uint64_t>(hash(e.key)));
  h ^= (static_cast<std::uint64_t>(s.size()) + 1) * 1927868237ULL;
  h ^= (h >> 11) ^ (h >> 25);
  h = h * 69069U + 907133923ULL;
  if (h == static_cast<std::uint64_t>(-1)) h = 590923713ULL;
  return static_cast<std::int64_t>(h);
}

std::int64_t object_hash(const Value& v) {
  const Object* o = v.object();
  // str first, the usual dict key with its hash cached (not on bare metal: its code is
  // smaller with one str test, below).
  if (!OURO_BARE_METAL) {
    if (const Str* s = v.get_if<Str>()) return s->hash();
  }
  if (const Float* f = v.get_if<Float>()) {
    return vd::hash_double(f->value(), reinterpret_cast<std::uintptr_t>(o));
  }
  if (const Int* i = v.get_if<Int>()) return vd::hash_bigint({i->limbs(), i->negative()});
  if (const Str* s = v.get_if<Str>()) return s->hash();
  if (const Bytes* b = v.get_if<Bytes>()) return b->hash();
  if (const Tuple* t = v.get_if<Tuple>()) {
    vd::RecursionGuard guard(" while calling a Python object");
    vd::TupleHasher hasher;
    for (const Value& item : *t) hasher.add(hash(item));
    return hasher.finish();
  }
  if (const FrozenSet* s = v.get_if<FrozenSet>()) return frozenset_hash(*s);
  if (const Global* g = v.get_if<Global>()) {
    vd::TupleHasher hasher;
    hasher.add(vd::hash_bytes(as_bytes(g->module())));
    hasher.add(vd::hash_bytes(as_bytes(g->qualname())));
    return hasher.finish();
  }
  if (v.is<List>() || v.is<Dict>() || v.is<Set>() || v.is<ByteArray>()) throw_unhashable(v);
  return vd::hash_pointer(reinterpret_cast<std::uintptr_t>(o));  // object.__hash__
}

}  // namespace

std::int64_t hash(const Value& v) {
  if (v.is_small_int()) return vd::hash_int64(v.small_value());
  if (v.is_bool()) return v.as<bool>() ? 1 : 0;
  if (v.is_none()) return vd::hash_pointer(0xFC3A0);  // a fixed identity for None
  return object_hash(v);
}

bool is_hashable(const Value& v) {
  try {
    (void)hash(v);
    return true;
  } catch (const TypeError&) {
    return false;
  }
}

bool truthy(const Value& v) {
  if (v.is_none()) return false;
  if (v.is_bool()) return v.as<bool>();
  if (v.is_small_int()) return v.small_value() != 0;
  if (const Float* f = v.get_if<Float>()) return f->value() != 0.0;
  if (const Str* s = v.get_if<Str>()) return s->size() != 0;
  if (const Bytes* b = v.get_if<Bytes>()) return b->size() != 0;
  if (const ByteArray* b = v.get_if<ByteArray>()) return b->size() != 0;
  if (const Tuple* t = v.get_if<Tuple>()) return t->size() != 0;
  if (const List* l = v.get_if<List>()) return l->size() != 0;
  if (const Dict* d = v.get_if<Dict>()) return d->size() != 0;
  if (const AnySet* s = v.get_if<AnySet>()) return s->size() != 0;
  return true;  // a big int is never zero; objects are true
}

// --- sizes ------------------------------------------------------------------------------

std::size_t getsizeof(const Value& v) noexcept {
  const Object* o = v.object();
  return o != nullptr ? getsizeof(*o) : 0;
}

namespace {
// Collects what traverse() reports, into the walk's to-do stack.
class PushVisitor final : public Visitor {
 public:
  explicit PushVisitor(std::vector<Object*>& todo) : todo_(todo) {}
  void visit(Object* object) override { todo_.push_back(object); }

 private:
  std::vector<Object*>& todo_;
};
}  // namespace

std::size_t deep_sizeof(const Value& v) {
  std::size_t total = 0;
  std::unordered_set<const Object*> seen;
  std::vector<Object*> todo;
  if (Object* o = v.object()) todo.push_back(o);
  PushVisitor push(todo);
  while (!todo.empty()) {
    Object* o = todo.back();
    todo.pop_back();
    if (!seen.insert(o).second) continue;
    total += getsizeof(*o);
    if (o->is_container()) o->traverse(push);
  }
  return total;
}

// --- builders ---------------------------------------------------------------------------

Value list(std::initializer_list<Value> items, ouro::SiteLocation loc) {
  SiteScope site(loc);
  return List::make(vd::current_heap(), std::span<const Value>(items.begin(), items.size()));
}

Value tuple(std::initializer_list<Value> items, ouro::SiteLocation loc) {
  SiteScope site(loc);
  return Tuple::make(vd::current_heap(), std::span<const Value>(items.begin(), items.size()));
}

Value dict(std::initializer_list<std::pair<Value, Value>> items, ouro::SiteLocation loc) {
  SiteScope site(loc);
  Ref<Dict> d = Dict::make(vd::current_heap(), items.size());
  for (const auto& [key, value] : items) d->set(key, value);
  return d;
}

Value set(std::initializer_list<Value> items, ouro::SiteLocation loc) {
  SiteScope site(loc);
  Ref<Set> s = Set::make(vd::current_heap());
  for (const Value& item : items) s->add(item);
  return s;
}

Value frozenset(std::initializer_list<Value> items) {
  return FrozenSet::make(vd::current_heap(), std::span<const Value>(items.begin(), items.size()));
}

Value bytes(std::string_view data, ouro::SiteLocation loc) {
  SiteScope site(loc);
  return Bytes::make(vd::current_heap(), as_bytes(data));
}

Value bytearray(std::string_view data) {
  return ByteArray::make(vd::current_heap(), as_bytes(data));
}

}  // namespace ouro
