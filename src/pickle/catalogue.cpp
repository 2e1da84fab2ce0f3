// The catalogue of standard data-only globals (see catalogue.h): the table, and CPython's
// repr() of each, checked against python3 in tests/pickle/catalogue_test.cpp. Printers take
// only the exact shapes CPython's own reducers produce; any other call of a catalogued
// global keeps ouro's generic <reduce ...> text.
#include "pickle/catalogue.h"

#include <fmt/format.h>

#include <array>
#include <cmath>

#if !OURO_BARE_METAL
#include "ouro/pickle/numpy.h"
#endif
#include "value/float_format.h"

namespace ouro::pickle {
namespace detail {
namespace {

using enum CatalogueRole;

constexpr std::array kCatalogue = {
    CatalogueEntry{"builtins", "complex", kComplex},
    CatalogueEntry{"builtins", "range", kRange},
    CatalogueEntry{"builtins", "slice", kSlice},
    CatalogueEntry{"collections", "OrderedDict", kOrderedDict},
    CatalogueEntry{"builtins", "type", kTypeOf},
    CatalogueEntry{"builtins", "Ellipsis", kSingleton},
    CatalogueEntry{"builtins", "NotImplemented", kSingleton},
    // Builtin types CPython pickles by name (save_global), e.g. pickle.dumps(int).
    CatalogueEntry{"builtins", "object", kType},
    CatalogueEntry{"builtins", "int", kType},
    CatalogueEntry{"builtins", "float", kType},
    CatalogueEntry{"builtins", "bool", kType},
    CatalogueEntry{"builtins", "str", kType},
    CatalogueEntry{"builtins", "bytes", kType},
    CatalogueEntry{"builtins", "bytearray", kType},
    CatalogueEntry{"builtins", "list", kType},
    CatalogueEntry{"builtins", "tuple", kType},
    CatalogueEntry{"builtins", "dict", kType},
    CatalogueEntry{"builtins", "set", kType},
    CatalogueEntry{"builtins", "frozenset", kType},
    CatalogueEntry{"builtins", "memoryview", kType},
#if !OURO_BARE_METAL  // numpy.h is host-only: a board has no room for it (docs/embedded.md)
    // numpy arrays, dtypes and scalars (numpy.h decodes them; numpy._core is numpy 2's).
    CatalogueEntry{"numpy", "ndarray", kNumpy},
    CatalogueEntry{"numpy", "dtype", kNumpy},
    CatalogueEntry{"numpy.core.multiarray", "_reconstruct", kNumpy},
    CatalogueEntry{"numpy.core.multiarray", "scalar", kNumpy},
    CatalogueEntry{"numpy.core.numeric", "_frombuffer", kNumpy},
    CatalogueEntry{"numpy._core.multiarray", "_reconstruct", kNumpy},
    CatalogueEntry{"numpy._core.multiarray", "scalar", kNumpy},
    CatalogueEntry{"numpy._core.numeric", "_frombuffer", kNumpy},
    // The standard library's data types (catalogue_stdlib.cpp).
    CatalogueEntry{"collections", "defaultdict", kDefaultDict},
    CatalogueEntry{"collections", "Counter", kCounter},
    CatalogueEntry{"collections", "deque", kDeque},
    CatalogueEntry{"datetime", "date", kDate},
    CatalogueEntry{"datetime", "time", kTime},
    CatalogueEntry{"datetime", "datetime", kDateTime},
    CatalogueEntry{"datetime", "timedelta", kTimeDelta},
    CatalogueEntry{"datetime", "timezone", kTimeZone},
    CatalogueEntry{"decimal", "Decimal", kDecimal},
    CatalogueEntry{"fractions", "Fraction", kFraction},
    CatalogueEntry{"uuid", "UUID", kUuid},
    CatalogueEntry{"uuid", "SafeUUID", kSafeUuid},
#endif
};

}  // namespace

const CatalogueEntry* find_catalogued(std::string_view module, std::string_view name) noexcept {
  for (const CatalogueEntry& e : kCatalogue) {
    if (e.module == module && e.name == name) return &e;
  }
  return nullptr;
}

std::span<const CatalogueEntry> catalogue_entries() noexcept { return kCatalogue; }

}  // namespace detail

namespace {

using detail::CatalogueRole;

/// PyOS_double_to_string(x, 'r', 0, flags): repr(float) without the ".0" repr adds, with a
/// leading '+' when `sign` (Py_DTSF_SIGN), as complex_repr formats its parts.
std::string complex_part(double x, bool sign) {
  std::string text = value::detail::float_repr(x);
  if (text.ends_with(".0")) text.resize(text.size() - 2);
  if (sign && text[0] != '-') text.insert(text.begin(), '+');
  return text;
}

/// The catalogued role of a Global value, or nullopt.
const detail::CatalogueEntry* entry_of(const Value& v) {
  const Global* g = v.get_if<Global>();
  return g == nullptr ? nullptr : detail::find_catalogued(g->module(), g->qualname());
}

class CatalogueReprExtension final : public ReprExtension {
 public:
  bool write(const Value& v, std::string& out,
             const std::function<void(const Value&)>& item) const override {
    if (const detail::CatalogueEntry* e = entry_of(v)) return write_global(*e, out);
    if (const Instance* inst = v.get_if<Instance>()) {
#if !OURO_BARE_METAL
      // uuid.UUID is the one row restored by BUILD on an instance (its __setstate__).
      if (const detail::CatalogueEntry* e = entry_of(inst->cls());
          e != nullptr && e->role == CatalogueRole::kUuid) {
        return detail::write_stdlib_repr(e->role, v, out, item);
      }
#else
      (void)inst;  // the firmware catalogues no instance
#endif
      return false;
    }
    const Reduce* r = v.get_if<Reduce>();
    if (r == nullptr) return false;
    const detail::CatalogueEntry* e = entry_of(r->callable);
    const Tuple* args = r->args.get_if<Tuple>();
    if (e == nullptr || args == nullptr) return false;
    switch (e->role) {
      case CatalogueRole::kComplex:
        return write_complex(*args, out);
      case CatalogueRole::kRange:
      case CatalogueRole::kSlice:
        return write_call(e->name, *args, e->role == CatalogueRole::kRange, out, item);
      case CatalogueRole::kOrderedDict:
        return write_ordered_dict(*r, *args, out, item);
      case CatalogueRole::kTypeOf:
        return write_type_of(*args, out);
      case CatalogueRole::kNumpy:
        return write_numpy(v, out);
      case CatalogueRole::kType:
      case CatalogueRole::kSingleton:
        return false;
      default:
#if OURO_BARE_METAL
        return false;
#else
        return detail::write_stdlib_repr(e->role, v, out, item);
#endif
    }
  }

 private:
  // A catalogued global by itself: a builtin type prints without its module (<class
  // 'int'>), a singleton as its name, an Enum as <enum 'Name'>; other classes keep the
  // generic <class 'module.name'>,
  // which is CPython's (<class 'collections.OrderedDict'>, <class 'datetime.date'>).
  static bool write_global(const detail::CatalogueEntry& e, std::string& out) {
    if (e.role == CatalogueRole::kSingleton) {
      out += e.name;
#if !OURO_BARE_METAL  // a host-only row
    } else if (e.role == CatalogueRole::kSafeUuid) {
      out += "<enum 'SafeUUID'>";  // EnumType.__repr__
#endif
    } else if (e.module == "builtins") {
      out += fmt::format("<class '{}'>", e.name);
    } else {
      return false;
    }
    return true;
  }

  // complex_repr: "(re+imj)", or "imj" alone when the real part is +0.0.
  static bool write_complex(const Tuple& args, std::string& out) {
    if (args.size() != 2 || !args[0].is<Float>() || !args[1].is<Float>()) return false;
    const double re = args[0].as<double>(), im = args[1].as<double>();
    if (re == 0.0 && !std::signbit(re)) {
      out += complex_part(im, false) + "j";
    } else {
      out += "(" + complex_part(re, false) + complex_part(im, true) + "j)";
    }
    return true;
  }

  // range_repr drops a step of 1; slice_repr always prints three.
  static bool write_call(std::string_view name, const Tuple& args, bool is_range, std::string& out,
                         const std::function<void(const Value&)>& item) {
    if (args.size() != 3) return false;
    if (is_range) {
      for (const Value& a : args) {
        if (!a.is_int()) return false;
      }
    }
    const bool unit_step = is_range && args[2].is_small_int() && args[2].small_value() == 1;
    out += name;
    out += '(';
    for (std::size_t i = 0; i < (unit_step ? 2 : 3); ++i) {
      if (i != 0) out += ", ";
      item(args[i]);
    }
    out += ')';
    return true;
  }

  // OrderedDict.__repr__ (3.11): OrderedDict() or OrderedDict([(k, v), ...]).
  static bool write_ordered_dict(const Reduce& r, const Tuple& args, std::string& out,
                                 const std::function<void(const Value&)>& item) {
    if (args.size() != 0 || !r.listitems.is_none()) return false;
    const Dict* items = r.dictitems.get_if<Dict>();
    if (items == nullptr && !r.dictitems.is_none()) return false;
    out += "OrderedDict(";
    if (items != nullptr && !items->empty()) {
      out += '[';
      bool first = true;
      for (const DictEntry& e : *items) {
        out += first ? "(" : ", (";
        first = false;
        item(e.key);
        out += ", ";
        item(e.value);
        out += ')';
      }
      out += ']';
    }
    out += ')';
    return true;
  }

  // numpy's repr of an array, scalar or dtype; the generic text for what has no typed view
  // (object and structured arrays: their items are printed there).
  static bool write_numpy(const Value& v, std::string& out) {
#if OURO_BARE_METAL
    (void)v;
    (void)out;
    return false;
#else
    try {
      if (const auto a = numpy::as_array(v)) {
        out += numpy::repr(*a);
      } else if (const auto s = numpy::as_scalar(v)) {
        out += numpy::repr(*s);
      } else if (const auto d = numpy::as_dtype(v)) {
        // dtype.__repr__: the name for native order, the str ('>i4') otherwise.
        out += fmt::format("dtype('{}')", d->str.starts_with('>') ? d->str : d->name);
      } else {
        return false;
      }
      return true;
    } catch (const numpy::NumpyError&) {
      return false;
    }
#endif
  }

  // type(x) of the builtin singletons CPython pickles this way (save_type).
  static bool write_type_of(const Tuple& args, std::string& out) {
    if (args.size() != 1) return false;
    std::string_view name;
    if (args[0].is_none()) {
      name = "NoneType";
    } else if (const detail::CatalogueEntry* e = entry_of(args[0]); e != nullptr) {
      if (e->name == "Ellipsis") name = "ellipsis";
      if (e->name == "NotImplemented") name = "NotImplementedType";
    }
    if (name.empty()) return false;
    out += fmt::format("<class '{}'>", name);
    return true;
  }
};

const CatalogueReprExtension kReprExtension;

}  // namespace

std::string catalogue_repr(const Value& v) { return repr(v, kReprExtension); }

#if !OURO_BARE_METAL
void write_catalogue_repr(std::ostream& out, const Value& v, std::size_t max_bytes) {
  write_repr(out, v, max_bytes, &kReprExtension);
}
#endif

}  // namespace ouro::pickle
