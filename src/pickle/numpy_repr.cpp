// numpy's repr() of arrays and scalars (ouro/pickle/numpy.h), after numpy 1.24's
// arrayprint: every element formatted alone (shortest round-trip digits for floats, as
// dragon4 in "unique" mode), then padded to a common width (integers right-aligned; floats
// aligned on the point and padded right to the longest fraction; complex parts each so),
// nested brackets with one blank line per extra dimension, and ", dtype=..." unless the
// dtype is one numpy leaves implicit. Not covered: line wrapping at 75 columns, scientific
// notation, summarising arrays over 1000 elements.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "ouro/pickle/numpy.h"

namespace ouro::pickle::numpy {
namespace {

using Kind = ElementType::Kind;

// The shortest round-trip digits of a float element, at its own precision.
std::string shortest(double x, std::size_t width) {
  char buf[64];
  const auto result = width == 8 ? std::to_chars(buf, buf + sizeof buf, x)
                                 : std::to_chars(buf, buf + sizeof buf, static_cast<float>(x));
  return {buf, result.ptr};
}

// A float split at its point: "-2.5" -> {"-2", "5"}; "nan"/"inf" stay whole in `whole`.
struct FloatText {
  std::string integer, fraction;
  bool special = false;
};
FloatText split_float(double x, std::size_t width) {
  if (!std::isfinite(x)) return {std::isnan(x) ? "nan" : (x < 0 ? "-inf" : "inf"), "", true};
  std::string s = shortest(x, width);
  const std::size_t point = s.find('.');
  if (point == std::string::npos) return {s, ""};
  return {s.substr(0, point), s.substr(point + 1)};
}

// Pads a column of floats to numpy's alignment.
class FloatColumn {
 public:
  void add(const FloatText& t) {
    if (!t.special) {
      left_ = std::max(left_, t.integer.size());
      right_ = std::max(right_, t.fraction.size());
    }
    special_ = std::max(special_, t.integer.size());
  }
  std::string integer_part(const FloatText& t) const {
    const std::size_t left = std::max(left_, special_ > right_ + 1 ? special_ - right_ - 1 : 0);
    if (t.special) {
      std::string s = t.integer;
      return std::string(left + 1 + right_ > s.size() ? left + 1 + right_ - s.size() : 0, ' ') + s;
    }
    return std::string(left - t.integer.size(), ' ') + t.integer + ".";
  }
  std::string fraction_part(const FloatText& t) const { return t.special ? "" : t.fraction; }
  std::string right_pad(const FloatText& t) const {
    return t.special ? "" : std::string(right_ - t.fraction.size(), ' ');
  }

 private:
  std::size_t left_ = 0, right_ = 0, special_ = 0;
};

// Every element's text, in C order, padded to the common width.
std::vector<std::string> element_texts(const Array& a) {
  const ElementType& t = a.dtype.element;
  std::vector<const std::byte*> elements;
  for (std::size_t at : strided_offsets(t.size, a.data.size(), 0, a.shape, a.strides)) {
    elements.push_back(a.data.data() + at);
  }
  std::vector<std::string> out;
  if (t.kind == Kind::kFloat || t.kind == Kind::kComplex) {
    const std::size_t part = t.kind == Kind::kComplex ? t.size / 2 : t.size;
    ElementType part_type = t;
    part_type.kind = Kind::kFloat;
    part_type.size = part;
    std::vector<FloatText> real, imag;
    FloatColumn real_column, imag_column;
    for (const std::byte* p : elements) {
      real.push_back(split_float(element_as_double(part_type, p), part));
      real_column.add(real.back());
      if (t.kind == Kind::kComplex) {
        const double im = element_as_double(part_type, p + part);
        FloatText text = split_float(std::fabs(im), part);
        text.integer.insert(text.integer.begin(), std::signbit(im) ? '-' : '+');
        imag.push_back(text);
        imag_column.add(imag.back());
      }
    }
    for (std::size_t i = 0; i < elements.size(); ++i) {
      std::string s = real_column.integer_part(real[i]) + real_column.fraction_part(real[i]);
      if (t.kind == Kind::kComplex) {
        s += imag_column.integer_part(imag[i]) + imag_column.fraction_part(imag[i]) + "j" +
             imag_column.right_pad(imag[i]);
      } else {
        s += real_column.right_pad(real[i]);
      }
      out.push_back(std::move(s));
    }
    return out;
  }
  std::size_t width = 0;
  for (const std::byte* p : elements) {
    if (t.kind == Kind::kBool) {
      out.emplace_back(p[0] != std::byte{0} ? "True" : "False");
    } else {
      // Integers up to 64 bits print exactly, not through a double.
      const std::uint64_t bits = element_bits(t, p);
      if (t.kind == Kind::kSigned) {
        const unsigned shift = static_cast<unsigned>(64 - 8 * t.size);
        out.push_back(fmt::format("{}", static_cast<std::int64_t>(bits << shift) >> shift));
      } else {
        out.push_back(fmt::format("{}", bits));
      }
    }
    width = std::max(width, out.back().size());
  }
  for (std::string& s : out) s.insert(0, width - s.size(), ' ');
  return out;
}

// numpy leaves these dtypes out of repr (the defaults of Python's int, float, bool, complex).
bool implicit_dtype(const DType& d) {
  return d.name == "float64" || d.name == "int64" || d.name == "bool" || d.name == "complex128";
}

void write_nested(const Array& a, const std::vector<std::string>& texts, std::size_t axis,
                  std::size_t& next, std::string& out) {
  out += '[';
  for (std::int64_t i = 0; i < a.shape[axis]; ++i) {
    if (i != 0) {
      if (axis + 1 == a.shape.size()) {
        out += ", ";
      } else {
        out += ',';
        out.append(a.shape.size() - axis - 1, '\n');
        out.append(std::string_view("array(").size() + axis + 1, ' ');
      }
    }
    if (axis + 1 == a.shape.size()) {
      out += texts[next++];
    } else {
      write_nested(a, texts, axis + 1, next, out);
    }
  }
  out += ']';
}

}  // namespace

std::string repr(const Array& a) {
  std::string out = "array(";
  if (a.size() == 0) {
    out += "[]";
    if (a.shape.size() != 1)
      out +=
          fmt::format(", shape=({}{})", fmt::join(a.shape, ", "), a.shape.size() == 1 ? "," : "");
    return out + fmt::format(", dtype={})", a.dtype.name);
  }
  const std::vector<std::string> texts = element_texts(a);
  if (a.shape.empty()) {
    // A 0-d array prints its element without padding.
    std::string_view s = texts[0];
    s.remove_prefix(std::min(s.find_first_not_of(' '), s.size()));
    out += s;
  } else {
    std::size_t next = 0;
    write_nested(a, texts, 0, next, out);
  }
  if (!implicit_dtype(a.dtype)) out += fmt::format(", dtype={}", a.dtype.name);
  return out + ")";
}

std::string repr(const Scalar& s) {
  const ElementType& t = s.dtype.element;
  switch (t.kind) {
    case Kind::kBool:
      return s.data[0] != std::byte{0} ? "True" : "False";
    case Kind::kFloat: {
      // numpy 1.x scalars print as Python floats: shortest digits, ".0" when integral.
      const double x = s.value();
      if (!std::isfinite(x)) return std::isnan(x) ? "nan" : (x < 0 ? "-inf" : "inf");
      std::string text = shortest(x, t.size);
      if (text.find_first_of(".e") == std::string::npos) text += ".0";
      return text;
    }
    default: {
      Array one{s.dtype, {}, {}, false, s.data, s.owner};
      std::string text = repr(one);  // "array(X, dtype=...)" -> X
      text = text.substr(6);
      return text.substr(0, text.find_first_of(",)"));
    }
  }
}

}  // namespace ouro::pickle::numpy
