// The catalogue: standard Python globals whose meaning is data, known to ouro by name so
// that loading them runs nothing (DESIGN.md I8) and printing them gives CPython's repr().
// The unpickler keeps them as inert Global / Reduce / Instance values (they dump back
// unchanged); the safety policy accepts them in strict mode; catalogue_repr() prints them
// as CPython does. docs/pickle.md ("The catalogue") has the table of every row: how each is
// pickled, decoded and printed, and whether convert gives CPython's bytes.
//
// One table (kCatalogue in catalogue.cpp) lists every row; catalogue_entries() hands it
// out for the tools that classify globals (scan's verdicts). The rows of numpy and of the
// standard library beyond builtins and OrderedDict (catalogue_stdlib.cpp) are host-only:
// a bare-metal build has no room for them (docs/embedded.md) and refuses those names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ouro/pickle/pickle.h"  // first: its templates name ouro::detail as detail::
#include "ouro/value/value.h"

namespace ouro::pickle {

/// repr(v) as CPython prints it, the catalogue's standard types included (complex, range,
/// slice, OrderedDict, builtin types and singletons, numpy; on hosts also defaultdict,
/// Counter, deque, the datetime family, Decimal, Fraction, UUID); everything else as
/// ouro::repr.
///
///     catalogue_repr(loads(python_pickle_of_complex_1_2)) == "(1+2j)"
std::string catalogue_repr(const Value& v);
#if !OURO_BARE_METAL
/// catalogue_repr streamed (ouro::write_repr): `ouro pickle show` under --max-output.
void write_catalogue_repr(std::ostream& out, const Value& v, std::size_t max_bytes);
#endif

namespace detail {

/// What a catalogued global is.
enum class CatalogueRole : std::uint8_t {
  kType,         // a builtin type named by GLOBAL: <class 'name'>
  kSingleton,    // a builtin constant named by GLOBAL: its name
  kComplex,      // complex(real, imag)
  kRange,        // range(start, stop, step)
  kSlice,        // slice(start, stop, step)
  kOrderedDict,  // OrderedDict() with dict items
  kTypeOf,       // type(x) for a builtin singleton x
  kNumpy,        // numpy's array/dtype/scalar reducers: numpy's repr (ouro/pickle/numpy.h)
  // Host-only rows, printed by catalogue_stdlib.cpp:
  kDefaultDict,  // collections.defaultdict(factory) with dict items
  kCounter,      // collections.Counter(dict)
  kDeque,        // collections.deque((), maxlen) with list items
  kDate,         // datetime.date(4-byte state)
  kTime,         // datetime.time(6-byte state[, tzinfo])
  kDateTime,     // datetime.datetime(10-byte state[, tzinfo])
  kTimeDelta,    // datetime.timedelta(days, seconds, microseconds)
  kTimeZone,     // datetime.timezone(timedelta[, name])
  kDecimal,      // decimal.Decimal(str)
  kFraction,     // fractions.Fraction(numerator, denominator)
  kUuid,         // uuid.UUID: NEWOBJ / _reconstructor, BUILD {'int': n[, 'is_safe': v]}
  kSafeUuid,     // uuid.SafeUUID(0 / -1 / None)
};

/// One row of the catalogue.
struct CatalogueEntry {
  std::string_view module;
  std::string_view name;
  CatalogueRole role;
};

/// The row for `module.name` (after the Python 2 mapping), or nullptr.
const CatalogueEntry* find_catalogued(std::string_view module, std::string_view name) noexcept;

/// Every row of the catalogue, in table order: the one list of (module, name) pairs that
/// loading treats as data. A bare-metal build has only its own rows.
///
///     for (const CatalogueEntry& e : catalogue_entries()) fmt::print("{}.{}\n", e.module, e.name);
std::span<const CatalogueEntry> catalogue_entries() noexcept;

#if !OURO_BARE_METAL
/// The repr of a Reduce (or, for kUuid, an Instance) of a host-only standard-library row
/// (kDefaultDict..kSafeUuid), with `item` printing nested values; false, writing nothing,
/// for a shape that row's CPython reducer never writes (catalogue_stdlib.cpp).
bool write_stdlib_repr(CatalogueRole role, const Value& v, std::string& out,
                       const std::function<void(const Value&)>& item);
/// str(Decimal(text)), CPython's canonical string (to-scientific-string) of a Decimal's
/// pickled argument; nullopt where CPython raises InvalidOperation or for non-ASCII text.
///
///     decimal_str(" 1_000.50 ") == "1000.50";  decimal_str("1e5") == "1E+5"
std::optional<std::string> decimal_str(std::string_view text);
/// The arguments CPython's datetime.time / datetime.datetime __reduce_ex__ gives below
/// protocol 4, where the fold bit is not written: `r`'s arguments with that bit cleared
/// from the byte state (a new tuple in `r`'s heap), or None when they are unchanged (no
/// fold, or not such a call). The pickler asks before writing a Reduce below protocol 4.
Value datetime_args_without_fold(const Reduce& r);
#endif

}  // namespace detail
}  // namespace ouro::pickle
