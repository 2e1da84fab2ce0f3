// The standard library's data types in the catalogue (catalogue.h), host-only: collections'
// defaultdict, Counter and deque, the datetime family, decimal.Decimal, fractions.Fraction
// and uuid.UUID / SafeUUID. Each is decoded from the exact shape its CPython 3.11 reducer
// writes (checked against python3 at every protocol in tests/pickle/catalogue_test.cpp)
// and printed as its repr(); nothing is called (DESIGN.md I8). A shape a reducer never
// writes, or one CPython would refuse (a month of 13, a zero denominator, an invalid
// Decimal), returns false, and the value keeps ouro's generic <reduce ...> text.
//
// The datetime states are _datetimemodule.c's: date is 4 bytes (year high, year low, month,
// day); time 6 (hour, minute, second, microsecond in 3 big-endian bytes), with bit 7 of the
// hour set for fold=1 (protocol 4+); datetime 10 (the date's 4 and the time's 6), fold in
// bit 7 of the month. Below protocol 3 the bytes arrive through _codecs.encode (evaluated
// by the loader to bytes); a Python 2 pickle loaded with encoding='latin1' gives a str of
// the same code points, which CPython's constructors accept too.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pickle/catalogue.h"
#include "value/internal.h"

namespace ouro::pickle::detail {
namespace {

using Item = std::function<void(const Value&)>;

std::optional<std::int64_t> small_int(const Value& v) {
  if (!v.is_small_int()) return std::nullopt;
  return v.small_value();
}

/// The role of a catalogued Global, or nullopt.
std::optional<CatalogueRole> role_of(const Value& v) {
  const Global* g = v.get_if<Global>();
  if (g == nullptr) return std::nullopt;
  const CatalogueEntry* e = find_catalogued(g->module(), g->qualname());
  if (e == nullptr) return std::nullopt;
  return e->role;
}

/// A pickled byte state: bytes, or a str of code points below 256 (latin-1).
std::optional<std::vector<std::uint8_t>> state_bytes(const Value& v) {
  std::vector<std::uint8_t> out;
  if (const Bytes* b = v.get_if<Bytes>()) {
    for (std::byte x : b->data()) out.push_back(static_cast<std::uint8_t>(x));
    return out;
  }
  const Str* s = v.get_if<Str>();
  if (s == nullptr) return std::nullopt;
  const std::string_view u = s->utf8();
  for (std::size_t k = 0; k < u.size(); ++k) {
    const auto c = static_cast<unsigned char>(u[k]);
    if (c < 0x80) {
      out.push_back(c);
    } else if ((c == 0xc2 || c == 0xc3) && k + 1 < u.size()) {
      out.push_back(static_cast<std::uint8_t>(((c & 0x1f) << 6) | (u[++k] & 0x3f)));
    } else {
      return std::nullopt;  // a code point above U+00FF: CPython's latin-1 encode fails
    }
  }
  return out;
}

// --- collections -----------------------------------------------------------------------

// defaultdict.__reduce__: (defaultdict, (factory,) or () for None, None, iter(items)).
// repr: defaultdict(<factory repr>, {items}); the factory is printed only when its repr is
// known exactly (None or a catalogued class), not an address-bearing function.
bool write_defaultdict(const Reduce& r, const Tuple& args, std::string& out, const Item& item) {
  if (args.size() > 1 || !r.state.is_none() || !r.listitems.is_none()) return false;
  if (!r.dictitems.is_none() && !r.dictitems.is<Dict>()) return false;
  if (args.size() == 1 && !args[0].is_none()) {
    const auto role = role_of(args[0]);
    if (!role || *role == CatalogueRole::kNumpy || *role == CatalogueRole::kSingleton) return false;
  }
  out += "defaultdict(";
  if (args.size() == 1) {
    item(args[0]);
  } else {
    out += "None";
  }
  out += ", ";
  if (r.dictitems.is_none()) {
    out += "{}";
  } else {
    item(r.dictitems);
  }
  out += ')';
  return true;
}

/// A Counter value as most_common() sorts it: numbers only (ints, floats but NaN, bools),
/// compared exactly; nullopt for anything else.
std::optional<long double> count_of(const Value& v) {
  if (v.is_bool()) return v.as<bool>() ? 1.0L : 0.0L;
  if (v.is_small_int()) return static_cast<long double>(v.small_value());  // exact: 64-bit mantissa
  if (const Float* f = v.get_if<Float>(); f != nullptr && f->value() == f->value()) {
    return f->value();
  }
  return std::nullopt;
}

// Counter.__reduce__: (Counter, (dict(self),)). repr: Counter() when empty, else
// Counter({...}) in most_common() order: descending count, ties in insertion order (a
// stable sort; sorted(reverse=True) keeps equal items in order).
bool write_counter(const Reduce& r, const Tuple& args, std::string& out, const Item& item) {
  if (!r.state.is_none() || !r.listitems.is_none() || !r.dictitems.is_none()) return false;
  if (args.size() > 1) return false;
  const Dict* d = args.size() == 1 ? args[0].get_if<Dict>() : nullptr;
  if (args.size() == 1 && d == nullptr) return false;
  if (d == nullptr || d->empty()) {
    out += "Counter()";
    return true;
  }
  struct Counted {
    const DictEntry* entry;
    long double count;
  };
  std::vector<Counted> items;
  for (const DictEntry& e : *d) {
    const auto count = count_of(e.value);
    if (!count) return false;  // not sortable as CPython would: keep the generic text
    items.push_back({&e, *count});
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const Counted& a, const Counted& b) { return a.count > b.count; });
  out += "Counter({";
  for (std::size_t k = 0; k < items.size(); ++k) {
    if (k != 0) out += ", ";
    item(items[k].entry->key);
    out += ": ";
    item(items[k].entry->value);
  }
  out += "})";
  return true;
}

// deque.__reduce__ (3.11): (deque, () or ((), maxlen), None, iter(items)); older Pythons
// wrote (deque, (list, maxlen)). With a maxlen, only the last maxlen items stay.
bool write_deque(const Reduce& r, const Tuple& args, std::string& out, const Item& item) {
  if (args.size() > 2 || !r.state.is_none() || !r.dictitems.is_none()) return false;
  std::vector<const Value*> items;
  if (args.size() != 0) {
    if (const Tuple* t = args[0].get_if<Tuple>()) {
      for (const Value& v : *t) items.push_back(&v);
    } else if (const List* l = args[0].get_if<List>()) {
      for (std::size_t k = 0; k < l->size(); ++k) items.push_back(&(*l)[k]);
    } else {
      return false;
    }
  }
  if (const List* l = r.listitems.get_if<List>()) {
    for (std::size_t k = 0; k < l->size(); ++k) items.push_back(&(*l)[k]);
  } else if (!r.listitems.is_none()) {
    return false;
  }
  std::optional<std::int64_t> maxlen;
  if (args.size() == 2 && !args[1].is_none()) {
    maxlen = small_int(args[1]);
    if (!maxlen || *maxlen < 0) return false;  // ValueError: maxlen must be non-negative
  }
  std::size_t first = 0;
  if (maxlen && items.size() > static_cast<std::uint64_t>(*maxlen)) {
    first = items.size() - static_cast<std::size_t>(*maxlen);
  }
  out += "deque([";
  for (std::size_t k = first; k < items.size(); ++k) {
    if (k != first) out += ", ";
    item(*items[k]);
  }
  out += ']';
  if (maxlen) out += fmt::format(", maxlen={}", *maxlen);
  out += ')';
  return true;
}

// --- datetime --------------------------------------------------------------------------

constexpr bool month_is_sane(unsigned month) { return month - 1 < 12; }

/// What follows a time's or datetime's fields: `, tzinfo=...` when the state has one. A
/// tzinfo must be a tzinfo object (CPython: "bad tzinfo state arg"): a catalogued timezone
/// or, in inspect mode, another inert object.
bool tzinfo_of(const Tuple& args, const Value*& tzinfo) {
  tzinfo = nullptr;
  if (args.size() == 1 || args[1].is_none()) return true;
  if (!args[1].is<Reduce>() && !args[1].is<Instance>()) return false;
  tzinfo = &args[1];
  return true;
}

bool write_date(const Tuple& args, std::string& out) {
  if (args.size() != 1) return false;
  const auto b = state_bytes(args[0]);
  if (!b || b->size() != 4 || !month_is_sane((*b)[2])) return false;
  out += fmt::format("datetime.date({}, {}, {})", ((*b)[0] << 8) | (*b)[1], (*b)[2], (*b)[3]);
  return true;
}

/// hour, minute, second, microsecond as time_repr / datetime_repr print them: the
/// microseconds only when non-zero, the seconds only when they or the microseconds are.
std::string time_fields(unsigned hour, unsigned minute, unsigned second, unsigned us) {
  if (us != 0) return fmt::format("{}, {}, {}, {}", hour, minute, second, us);
  if (second != 0) return fmt::format("{}, {}, {}", hour, minute, second);
  return fmt::format("{}, {}", hour, minute);
}

bool write_time(const Tuple& args, std::string& out, const Item& item) {
  if (args.size() == 0 || args.size() > 2) return false;
  const auto b = state_bytes(args[0]);
  const Value* tzinfo = nullptr;
  if (!b || b->size() != 6 || ((*b)[0] & 0x7f) >= 24 || !tzinfo_of(args, tzinfo)) return false;
  const bool fold = ((*b)[0] & 0x80) != 0;
  const unsigned us = ((*b)[3] << 16) | ((*b)[4] << 8) | (*b)[5];
  out += "datetime.time(" + time_fields((*b)[0] & 0x7f, (*b)[1], (*b)[2], us);
  if (tzinfo != nullptr) {  // time_repr: tzinfo, then fold
    out += ", tzinfo=";
    item(*tzinfo);
  }
  if (fold) out += ", fold=1";
  out += ')';
  return true;
}

bool write_datetime(const Tuple& args, std::string& out, const Item& item) {
  if (args.size() == 0 || args.size() > 2) return false;
  const auto b = state_bytes(args[0]);
  const Value* tzinfo = nullptr;
  if (!b || b->size() != 10 || !month_is_sane((*b)[2] & 0x7f) || !tzinfo_of(args, tzinfo)) {
    return false;
  }
  const bool fold = ((*b)[2] & 0x80) != 0;
  const unsigned us = ((*b)[7] << 16) | ((*b)[8] << 8) | (*b)[9];
  out += fmt::format("datetime.datetime({}, {}, {}, ", ((*b)[0] << 8) | (*b)[1], (*b)[2] & 0x7f,
                     (*b)[3]);
  out += time_fields((*b)[4], (*b)[5], (*b)[6], us);
  if (fold) out += ", fold=1";  // datetime_repr: fold, then tzinfo
  if (tzinfo != nullptr) {
    out += ", tzinfo=";
    item(*tzinfo);
  }
  out += ')';
  return true;
}

/// A timedelta normalized as CPython's constructor does: 0 <= seconds < 86400,
/// 0 <= microseconds < 10**6, |days| <= 999999999.
struct TimeDelta {
  std::int64_t days = 0, seconds = 0, microseconds = 0;
};

// timedelta(days, seconds, microseconds, milliseconds, minutes, hours, weeks) with int
// arguments (timedelta.__reduce__ writes the first three, normalized). Each argument is
// split exactly into whole days and microseconds below a day, so no sum can overflow.
std::optional<TimeDelta> decode_timedelta(const Tuple& args) {
  constexpr std::int64_t kDay = 86'400'000'000;  // microseconds
  struct Unit {
    std::int64_t days, microseconds;  // one unit of the argument
  };
  constexpr std::array<Unit, 7> kUnits = {
      Unit{1, 0},          Unit{0, 1'000'000},     Unit{0, 1}, Unit{0, 1'000},
      Unit{0, 60'000'000}, Unit{0, 3'600'000'000}, Unit{7, 0}};
  constexpr std::int64_t kMaxDays = 999'999'999;
  if (args.size() > kUnits.size()) return std::nullopt;
  std::int64_t days = 0, microseconds = 0;  // microseconds stays within (-7 days, 7 days)
  for (std::size_t k = 0; k < args.size(); ++k) {
    const auto n = small_int(args[k]);
    if (!n) return std::nullopt;  // a float or a big int: not decoded
    const Unit u = kUnits[k];
    if (u.microseconds == 0) {
      if (*n > 8 * kMaxDays || *n < -8 * kMaxDays) return std::nullopt;  // OverflowError
      days += *n * u.days;
      continue;
    }
    const std::int64_t per_day = kDay / u.microseconds;
    days += *n / per_day;
    microseconds += (*n % per_day) * u.microseconds;
    if (days > 16 * kMaxDays || days < -16 * kMaxDays) return std::nullopt;
  }
  days += microseconds / kDay;
  microseconds %= kDay;
  if (microseconds < 0) {
    microseconds += kDay;
    --days;
  }
  if (days > kMaxDays || days < -kMaxDays) return std::nullopt;  // OverflowError
  return TimeDelta{days, microseconds / 1'000'000, microseconds % 1'000'000};
}

// delta_repr: the non-zero fields by keyword, or 0.
std::string timedelta_repr(const TimeDelta& t) {
  std::string fields;
  if (t.days != 0) fields = fmt::format("days={}", t.days);
  if (t.seconds != 0) fields += fmt::format("{}seconds={}", fields.empty() ? "" : ", ", t.seconds);
  if (t.microseconds != 0) {
    fields += fmt::format("{}microseconds={}", fields.empty() ? "" : ", ", t.microseconds);
  }
  return fmt::format("datetime.timedelta({})", fields.empty() ? "0" : fields);
}

bool write_timedelta(const Tuple& args, std::string& out) {
  const auto t = decode_timedelta(args);
  if (!t) return false;
  out += timedelta_repr(*t);
  return true;
}

// timezone(offset) / timezone(offset, name): offset a timedelta strictly within a day;
// no name and a zero offset is the timezone.utc singleton.
bool write_timezone(const Tuple& args, std::string& out, const Item& item) {
  if (args.size() == 0 || args.size() > 2) return false;
  const Reduce* offset = args[0].get_if<Reduce>();
  const Tuple* offset_args = offset == nullptr ? nullptr : offset->args.get_if<Tuple>();
  if (offset_args == nullptr || role_of(offset->callable) != CatalogueRole::kTimeDelta ||
      !offset->state.is_none()) {
    return false;
  }
  const auto t = decode_timedelta(*offset_args);
  if (!t || t->days < -1 || t->days > 0 ||
      (t->days == -1 && t->seconds == 0 && t->microseconds == 0)) {
    return false;  // ValueError: must be strictly between -timedelta(hours=24) and +24h
  }
  if (args.size() == 2 && !args[1].is<Str>()) return false;
  if (args.size() == 1 && t->days == 0 && t->seconds == 0 && t->microseconds == 0) {
    out += "datetime.timezone.utc";
    return true;
  }
  out += "datetime.timezone(" + timedelta_repr(*t);
  if (args.size() == 2) {
    out += ", ";
    item(args[1]);
  }
  out += ')';
  return true;
}

// --- decimal ---------------------------------------------------------------------------

constexpr std::int64_t kDecimalMaxEmax = 999'999'999'999'999'999;      // decimal.MAX_EMAX
constexpr std::int64_t kDecimalMinEtiny = -1'999'999'999'999'999'997;  // decimal.MIN_ETINY

bool equals_ignoring_case(std::string_view text, std::string_view lower) {
  return text.size() == lower.size() &&
         std::equal(text.begin(), text.end(), lower.begin(),
                    [](char a, char b) { return (a >= 'A' && a <= 'Z' ? a + 32 : a) == b; });
}

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view strip_leading_zeros(std::string_view digits) {
  const std::size_t first = digits.find_first_not_of('0');
  return first == std::string_view::npos ? std::string_view() : digits.substr(first);
}

}  // namespace

// str(Decimal(text)) as _decimal parses it with its exact (maximum) context and prints it
// (to-scientific-string): whitespace stripped, underscores ignored, Inf / Infinity / NaN /
// sNaN in any case, NaN payloads without leading zeros. ASCII only: a text with other
// digits or spaces keeps the generic repr. nullopt where CPython raises InvalidOperation.
std::optional<std::string> decimal_str(std::string_view text) {
  constexpr std::string_view kSpace = " \t\n\v\f\r";
  const std::size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return std::nullopt;
  text = text.substr(begin, text.find_last_not_of(kSpace) - begin + 1);
  std::string s;
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return std::nullopt;
    if (c != '_') s += c;
  }
  std::string_view rest = s;
  std::string sign;
  if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) {
    if (rest[0] == '-') sign = "-";
    rest.remove_prefix(1);
  }
  if (equals_ignoring_case(rest, "inf") || equals_ignoring_case(rest, "infinity")) {
    return sign + "Infinity";
  }
  for (const auto& [prefix, name] :
       {std::pair{std::string_view("snan"), "sNaN"}, std::pair{std::string_view("nan"), "NaN"}}) {
    if (rest.size() >= prefix.size() &&
        equals_ignoring_case(rest.substr(0, prefix.size()), prefix)) {
      const std::string_view payload = rest.substr(prefix.size());
      if (!all_digits(payload)) return std::nullopt;
      return sign + name + std::string(strip_leading_zeros(payload));
    }
  }
  // [digits][.digits][e[+-]digits], at least one digit in the coefficient.
  const std::size_t e = rest.find_first_of("eE");
  const std::string_view mantissa = rest.substr(0, e);
  std::int64_t exponent = 0;
  if (e != std::string_view::npos) {
    std::string_view exp_text = rest.substr(e + 1);
    bool negative = false;
    if (!exp_text.empty() && (exp_text[0] == '+' || exp_text[0] == '-')) {
      negative = exp_text[0] == '-';
      exp_text.remove_prefix(1);
    }
    if (exp_text.empty() || !all_digits(exp_text)) return std::nullopt;
    exp_text = strip_leading_zeros(exp_text);
    if (exp_text.size() > 19) return std::nullopt;  // beyond any valid exponent
    std::uint64_t magnitude = 0;
    for (char c : exp_text) magnitude = magnitude * 10 + static_cast<std::uint64_t>(c - '0');
    if (magnitude > 4'000'000'000'000'000'000ULL) return std::nullopt;
    exponent =
        negative ? -static_cast<std::int64_t>(magnitude) : static_cast<std::int64_t>(magnitude);
  }
  const std::size_t dot = mantissa.find('.');
  const std::string_view int_part = mantissa.substr(0, dot);
  const std::string_view frac_part =
      dot == std::string_view::npos ? std::string_view() : mantissa.substr(dot + 1);
  if (!all_digits(int_part) || !all_digits(frac_part) || int_part.size() + frac_part.size() == 0) {
    return std::nullopt;
  }
  std::string digits(strip_leading_zeros(std::string(int_part) + std::string(frac_part)));
  if (digits.empty()) digits = "0";
  exponent -= static_cast<std::int64_t>(frac_part.size());
  const std::int64_t ndigits = static_cast<std::int64_t>(digits.size());
  if (exponent < kDecimalMinEtiny || exponent + ndigits - 1 > kDecimalMaxEmax) return std::nullopt;
  // to-scientific-string: plain notation when the exponent is <= 0 and the adjusted
  // exponent >= -6, else one digit before the point and E+n.
  const std::int64_t leftdigits = exponent + ndigits;
  const std::int64_t dotplace = exponent <= 0 && leftdigits > -6 ? leftdigits : 1;
  std::string result = sign;
  if (dotplace <= 0) {
    result += "0." + std::string(static_cast<std::size_t>(-dotplace), '0') + digits;
  } else if (dotplace >= ndigits) {
    result += digits + std::string(static_cast<std::size_t>(dotplace - ndigits), '0');
  } else {
    result += digits.substr(0, static_cast<std::size_t>(dotplace)) + "." +
              digits.substr(static_cast<std::size_t>(dotplace));
  }
  if (leftdigits != dotplace) result += fmt::format("E{:+}", leftdigits - dotplace);
  return result;
}

namespace {

// Decimal.__reduce__: (Decimal, (str(self),)). repr: Decimal('<str>').
bool write_decimal(const Tuple& args, std::string& out) {
  if (args.size() != 1) return false;
  std::optional<std::string> text;
  if (const Str* s = args[0].get_if<Str>()) {
    text = decimal_str(s->utf8());
  } else if (const auto n = small_int(args[0])) {
    text = std::to_string(*n);
  }
  if (!text) return false;
  out += "Decimal('" + *text + "')";
  return true;
}

// --- fractions -------------------------------------------------------------------------

bool is_negative(const Value& v) {
  return v.is_small_int() ? v.small_value() < 0 : v.as<Int>().negative();
}

/// |v| as 64-bit limbs, least significant first; empty for 0.
std::vector<std::uint64_t> magnitude(const Value& v) {
  if (v.is_small_int()) {
    const std::int64_t n = v.small_value();
    if (n == 0) return {};
    return {n < 0 ? 0 - static_cast<std::uint64_t>(n) : static_cast<std::uint64_t>(n)};
  }
  const auto limbs = v.as<Int>().limbs();
  return {limbs.begin(), limbs.end()};
}

// Binary GCD (Stein) on limb vectors, enough to ask "already in lowest terms?": the shifts
// and subtractions need no division, and a bound on the size keeps the work small.
constexpr std::size_t kMaxCoprimeLimbs = 64;  // 4096 bits: any real fraction's parts

void trim(std::vector<std::uint64_t>& m) {
  while (!m.empty() && m.back() == 0) m.pop_back();
}

void shift_right(std::vector<std::uint64_t>& m, unsigned bits) {  // bits < 64
  if (bits == 0) return;
  for (std::size_t k = 0; k < m.size(); ++k) {
    m[k] = (m[k] >> bits) | (k + 1 < m.size() ? m[k + 1] << (64 - bits) : 0);
  }
  trim(m);
}

void strip_twos(std::vector<std::uint64_t>& m) {
  while (!m.empty() && m[0] == 0) m.erase(m.begin());
  if (!m.empty()) shift_right(m, static_cast<unsigned>(std::countr_zero(m[0])));
}

bool less(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b) {
  if (a.size() != b.size()) return a.size() < b.size();
  return std::lexicographical_compare(a.rbegin(), a.rend(), b.rbegin(), b.rend());
}

void subtract(std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b) {  // a >= b
  std::uint64_t borrow = 0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    const std::uint64_t sub = k < b.size() ? b[k] : 0;
    const std::uint64_t next = a[k] < sub || (a[k] - sub) < borrow ? 1 : 0;
    a[k] = a[k] - sub - borrow;
    borrow = next;
  }
  trim(a);
}

/// gcd(|a|, |b|) == 1, for nonzero magnitudes.
bool coprime(std::vector<std::uint64_t> a, std::vector<std::uint64_t> b) {
  trim(a);
  trim(b);
  if ((a[0] & 1) == 0 && (b[0] & 1) == 0) return false;  // both even
  strip_twos(a);
  while (!b.empty()) {
    strip_twos(b);
    if (less(b, a)) std::swap(a, b);
    subtract(b, a);
  }
  return a.size() == 1 && a[0] == 1;
}

// Fraction.__reduce__ (3.11): (Fraction, (numerator, denominator)), already in lowest
// terms with a positive denominator; Fraction(n, d) reduces any other pair. The pair is
// reduced here when both fit in 62 bits; with a big part it is printed when already in
// lowest terms (ouro has no big-int division) and otherwise keeps the generic text.
bool write_fraction(const Tuple& args, std::string& out, const Item& item) {
  if (args.size() == 0 || args.size() > 2) return false;
  for (const Value& a : args) {
    if (!a.is_int() || a.is_bool()) return false;
  }
  if (args.size() == 1) {
    out += "Fraction(";
    item(args[0]);
    out += ", 1)";
    return true;
  }
  const Value& n = args[0];
  const Value& d = args[1];
  if (n.is_small_int() && d.is_small_int()) {
    std::int64_t num = n.small_value(), den = d.small_value();
    if (den == 0) return false;  // ZeroDivisionError
    std::int64_t g = std::gcd(num, den);
    if (den < 0) g = -g;
    out += fmt::format("Fraction({}, {})", num / g, den / g);
    return true;
  }
  const auto num = magnitude(n), den = magnitude(d);
  if (is_negative(d) || num.empty() || num.size() > kMaxCoprimeLimbs ||
      den.size() > kMaxCoprimeLimbs || !coprime(num, den)) {
    return false;
  }
  out += "Fraction(";
  item(n);
  out += ", ";
  item(d);
  out += ')';
  return true;
}

// --- uuid ------------------------------------------------------------------------------

/// SafeUUID(value): safe 0, unsafe -1, unknown None; nullptr for any other value.
const char* safe_uuid_member(const Value& v) {
  if (v.is_none()) return "unknown";
  if (const auto n = small_int(v)) {
    if (*n == 0) return "safe";
    if (*n == -1) return "unsafe";
  }
  return nullptr;
}

bool write_safe_uuid(const Tuple& args, std::string& out, const Item& item) {
  if (args.size() != 1 || safe_uuid_member(args[0]) == nullptr) return false;
  out += fmt::format("<SafeUUID.{}: ", safe_uuid_member(args[0]));
  item(args[0]);
  out += '>';
  return true;
}

// UUID.__getstate__: {'int': int} plus 'is_safe': SafeUUID's value when known; restored by
// __setstate__ (NEWOBJ or copyreg._reconstructor, then BUILD). repr: UUID('8-4-4-4-12').
bool write_uuid(const Instance& inst, std::string& out) {
  const Dict* state = inst.state().get_if<Dict>();
  if (state == nullptr) return false;
  const Value* number = nullptr;
  for (const DictEntry& e : *state) {
    const Str* key = e.key.get_if<Str>();
    if (key == nullptr) continue;
    if (key->utf8() == "int") number = &e.value;
    if (key->utf8() == "is_safe" && safe_uuid_member(e.value) == nullptr) return false;
  }
  if (number == nullptr || !number->is_int() || number->is_bool() || is_negative(*number)) {
    return false;
  }
  std::array<std::uint64_t, 2> halves{};  // low, high 64 bits
  if (number->is_small_int()) {
    halves[0] = static_cast<std::uint64_t>(number->small_value());
  } else {
    const auto limbs = number->as<Int>().limbs();
    if (limbs.size() > 2) return false;  // >= 2**128: not a UUID's int
    for (std::size_t k = 0; k < limbs.size(); ++k) halves[k] = limbs[k];
  }
  const std::string hex = fmt::format("{:016x}{:016x}", halves[1], halves[0]);
  out += fmt::format("UUID('{}-{}-{}-{}-{}')", hex.substr(0, 8), hex.substr(8, 4),
                     hex.substr(12, 4), hex.substr(16, 4), hex.substr(20));
  return true;
}

}  // namespace

Value datetime_args_without_fold(const Reduce& r) {
  const auto role = role_of(r.callable);
  const Tuple* args = r.args.get_if<Tuple>();
  if (!role || args == nullptr || args->size() == 0) return Value();
  // time: fold is bit 7 of the hour (byte 0); datetime: of the month (byte 2).
  std::size_t fold_byte = 0, size = 0;
  if (*role == CatalogueRole::kTime) {
    size = 6;
  } else if (*role == CatalogueRole::kDateTime) {
    fold_byte = 2;
    size = 10;
  } else {
    return Value();
  }
  const Bytes* state = (*args)[0].get_if<Bytes>();
  if (state == nullptr || state->size() != size ||
      (static_cast<std::uint8_t>(state->data()[fold_byte]) & 0x80) == 0) {
    return Value();
  }
  Heap& heap = value::detail::heap_of(r);
  std::vector<std::byte> bytes(state->data().begin(), state->data().end());
  bytes[fold_byte] &= std::byte{0x7f};
  std::vector<Value> items(args->begin(), args->end());
  items[0] = Value(Bytes::make(heap, bytes));
  return Value(Tuple::make(heap, std::span<const Value>(items)));
}

bool write_stdlib_repr(CatalogueRole role, const Value& v, std::string& out, const Item& item) {
  if (const Instance* inst = v.get_if<Instance>()) {
    return role == CatalogueRole::kUuid && write_uuid(*inst, out);
  }
  const Reduce* r = v.get_if<Reduce>();
  const Tuple* args = r == nullptr ? nullptr : r->args.get_if<Tuple>();
  if (args == nullptr) return false;
  // The types whose reducer passes only arguments: any state or items is another shape.
  const bool plain_call = r->state.is_none() && r->listitems.is_none() && r->dictitems.is_none();
  switch (role) {
    case CatalogueRole::kDefaultDict:
      return write_defaultdict(*r, *args, out, item);
    case CatalogueRole::kCounter:
      return write_counter(*r, *args, out, item);
    case CatalogueRole::kDeque:
      return write_deque(*r, *args, out, item);
    case CatalogueRole::kDate:
      return plain_call && write_date(*args, out);
    case CatalogueRole::kTime:
      return plain_call && write_time(*args, out, item);
    case CatalogueRole::kDateTime:
      return plain_call && write_datetime(*args, out, item);
    case CatalogueRole::kTimeDelta:
      return plain_call && write_timedelta(*args, out);
    case CatalogueRole::kTimeZone:
      return plain_call && write_timezone(*args, out, item);
    case CatalogueRole::kDecimal:
      return plain_call && write_decimal(*args, out);
    case CatalogueRole::kFraction:
      return plain_call && write_fraction(*args, out, item);
    case CatalogueRole::kSafeUuid:
      return plain_call && write_safe_uuid(*args, out, item);
    default:
      return false;
  }
}

}  // namespace ouro::pickle::detail
