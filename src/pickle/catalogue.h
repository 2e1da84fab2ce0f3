// The catalogue: standard Python globals whose meaning is data, known to ouro by name so
// that loading them runs nothing (DESIGN.md I8) and printing them gives CPython's repr().
// The unpickler keeps them as inert Global / Reduce values (they dump back unchanged); the
// safety policy accepts them in strict mode; catalogue_repr() prints them as CPython does.
//
// | global                          | pickled as (protocols 0-5)            | repr |
// |---------------------------------|---------------------------------------|-----------------------|
// | builtins.complex                | complex(real, imag) REDUCE            | (1+2j), 2j,
// (nan+infj)| | builtins.range (__builtin__     | range(start, stop, step) REDUCE       | range(0,
// 5),          | |   .xrange below protocol 3)     |                                       |
// range(1, 9, 2)        | | builtins.slice                  | slice(start, stop, step) REDUCE |
// slice(1, None, 2)     | | collections.OrderedDict         | OrderedDict() REDUCE + SETITEMS |
// OrderedDict([(k, v)]) | | builtins.type                   | type(None / Ellipsis /
// NotImplemented)| <class 'NoneType'>    | | builtins int, float, str, ...   | the type by name
// (GLOBAL)             | <class 'int'>         | | builtins.Ellipsis, NotImplemented| the singleton
// by name                | Ellipsis              |
//
// A later step extends the table (datetime, Decimal, numpy, torch): one row and one
// printer each.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

#include "ouro/pickle/pickle.h"  // first: its templates name ouro::detail as detail::
#include "ouro/value/value.h"

namespace ouro::pickle {

/// repr(v) as CPython prints it, the catalogue's standard types included (complex, range,
/// slice, OrderedDict, builtin types and singletons); everything else as ouro::repr.
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
};

/// One row of the catalogue.
struct CatalogueEntry {
  std::string_view module;
  std::string_view name;
  CatalogueRole role;
};

/// The row for `module.name` (after the Python 2 mapping), or nullptr.
const CatalogueEntry* find_catalogued(std::string_view module, std::string_view name) noexcept;

}  // namespace detail
}  // namespace ouro::pickle
