// ouro::repr: Python's repr() of every value-layer type, byte for byte as CPython 3.11
// prints it (float_format.h and unicode.h supply the scalar forms). Recursive structures
// print as CPython's Py_ReprEnter makes them: [...], {...}, (...), set(...), frozenset(...).
//
// Invariants kept here: no recursion past recursion_limit() (RecursionError "maximum
// recursion depth exceeded while getting the repr of an object", as CPython), so the C++
// stack is never at risk; repr reads values and never changes them.
//
// One writer serves both entry points. repr() keeps the whole text in a string;
// write_repr() streams it: the pending text is handed to the stream whenever it reaches
// kSpillBytes, and long str/bytes values are escaped in pieces, so the memory used outside
// the heap stays bounded however long the text is (a 332-byte pickle that shares one list
// a billion times has a repr of gigabytes), and an optional cap stops the text early.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#if !OURO_BARE_METAL  // no streams on bare metal: <ostream> alone links 250 KB of locales
#include <ostream>
#endif
#include <vector>

#include "ouro/value/format.h"
#include "value/float_format.h"
#include "value/internal.h"
#include "value/unicode.h"

namespace ouro {

namespace vd = value::detail;

namespace {

// Pending text a streaming writer holds before handing it to the stream; also the size of
// the pieces long str/bytes values are escaped in.
constexpr std::size_t kSpillBytes = std::size_t{64} << 10;

// The end of the longest prefix of `text` (at most `limit` bytes) that does not cut a UTF-8
// sequence.
std::size_t utf8_boundary(std::string_view text, std::size_t limit) {
  if (limit >= text.size()) return text.size();
  while (limit > 0 && (static_cast<unsigned char>(text[limit]) & 0xC0) == 0x80) --limit;
  return limit;
}

// The containers being printed on this thread, outermost first: CPython's Py_ReprEnter
// list. Per thread rather than per call, so that a user type's py_repr() that prints a
// container holding itself again sees the recursion and prints [...], as in Python.
OURO_THREAD_LOCAL std::vector<const Object*> active_reprs;

class ReprWriter {
 public:
  explicit ReprWriter(const ReprExtension* extension = nullptr) : extension_(extension) {}
  ReprWriter(std::ostream& sink, std::size_t max_bytes, const ReprExtension* extension)
      : sink_(&sink), max_bytes_(max_bytes), extension_(extension) {}

  std::string out;  // pending text: all of it for repr(), at most about kSpillBytes when streaming

  // Hands the pending text to the stream (write_repr's last step).
  void finish() {
    spill();
    flush(out.size());
  }

  void write(const Value& v) {
    if (v.is_none()) {
      out += "None";
    } else if (v.is_bool()) {
      out += v.as<bool>() ? "True" : "False";
    } else if (v.is_small_int()) {
      char buf[24];
      const auto r = std::to_chars(buf, buf + sizeof buf, v.small_value());
      out.append(buf, r.ptr);
    } else {
      write_object(v);
    }
    spill();
  }

 private:
  std::ostream* sink_ = nullptr;    // write_repr's stream; null for repr()
  std::size_t max_bytes_ = 0;       // cap on the text written (0: none)
  std::size_t written_ = 0;         // bytes already handed to the stream
  const ReprExtension* extension_;  // asked first for Global, Reduce and Instance values

  static bool is_active(const Object* o) {
    return std::find(active_reprs.begin(), active_reprs.end(), o) != active_reprs.end();
  }

  // Runs `fn` with `o` on the list of objects being printed (and one recursion level).
  template <class Fn>
  static void while_active(const Object* o, Fn&& fn) {
    vd::RecursionGuard guard(" while getting the repr of an object");
    active_reprs.push_back(o);
    try {
      fn();
    } catch (...) {
      active_reprs.pop_back();
      throw;
    }
    active_reprs.pop_back();
  }

  bool write_extended(const Value& v) {
    if (extension_ == nullptr || !(v.is<Global>() || v.is<Reduce>() || v.is<Instance>())) {
      return false;
    }
    const Object* o = v.object();
    if (is_active(o)) return false;
    bool written = false;
    while_active(o, [&] {
      written = extension_->write(v, out, [this](const Value& item) { write(item); });
    });
    return written;
  }

  // Writes the first `n` pending bytes to the stream; a failed write ends the repr.
  void flush(std::size_t n) {
    if (sink_ == nullptr || n == 0) return;
#if !OURO_BARE_METAL
    sink_->write(out.data(), static_cast<std::streamsize>(n));
    if (!*sink_) throw std::ios_base::failure("writing the repr failed");
    written_ += n;
    out.erase(0, n);
#endif
  }

  // Streams the pending text once it is long enough, and enforces the cap: the text is cut
  // at the last whole character before max_bytes_, written, and the repr ends.
  void spill() {
    if (sink_ == nullptr) return;
    if (max_bytes_ != 0 && written_ + out.size() > max_bytes_) {
      flush(utf8_boundary(out, max_bytes_ - written_));
      throw OutputLimitError(max_bytes_);
    }
    if (out.size() >= kSpillBytes) flush(out.size());
  }

  void write_str(std::string_view utf8) {
    const char quote = vd::repr_quote(utf8);
    out += quote;
    while (!utf8.empty()) {
      const std::size_t piece = utf8_boundary(utf8, kSpillBytes);
      vd::append_str_repr_body(out, utf8.substr(0, piece), quote);
      utf8.remove_prefix(piece);
      spill();
    }
    out += quote;
  }

  void write_bytes(std::span<const std::byte> bytes, bool bytearray) {
    const char quote = vd::repr_quote({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
    out += bytearray ? "bytearray(b" : "b";
    out += quote;
    while (!bytes.empty()) {
      const std::size_t piece = std::min(bytes.size(), kSpillBytes);
      vd::append_bytes_repr_body(out, bytes.first(piece), quote, bytearray);
      bytes = bytes.subspan(piece);
      spill();
    }
    out += quote;
    if (bytearray) out += ')';
  }

  void write_object(const Value& v) {
    if (write_extended(v)) return;
    if (const Float* f = v.get_if<Float>()) {
      std::array<char, vd::kFloatReprCapacity> buf;
      out.append(buf.data(), vd::write_float_repr(f->value(), buf));
    } else if (v.is<Int>()) {
      out += Int::to_decimal(v);
    } else if (const Str* s = v.get_if<Str>()) {
      write_str(s->utf8());
    } else if (const Bytes* b = v.get_if<Bytes>()) {
      write_bytes(b->data(), false);
    } else if (const ByteArray* a = v.get_if<ByteArray>()) {
      write_bytes(a->data(), true);
    } else if (const Global* g = v.get_if<Global>()) {
      out += fmt::format("<class '{}.{}'>", g->module(), g->qualname());
    } else if (const Instance* i = v.get_if<Instance>()) {
      write_instance(*i);
    } else if (v.object()->is_container()) {
      write_container(v);
    } else {
      write_default(*v.object());
    }
  }

  // A type of another layer or of the user: its own hook (Object::py_repr).
  void write_default(const Object& o) { out += o.py_repr(); }

  void write_instance(const Instance& i) {
    if (const Global* g = i.cls().get_if<Global>()) {
      out += fmt::format("<{}.{} object at {}>", g->module(), g->qualname(),
                         static_cast<const void*>(&i));
    } else {
      out += fmt::format("<{} object at {}>", i.type_name(), static_cast<const void*>(&i));
    }
  }

  void write_container(const Value& v) {
    const Object* o = v.object();
    if (is_active(o)) {
      write_recursive_marker(v);
      return;
    }
    while_active(o, [&] { write_contents(v); });
  }

  void write_recursive_marker(const Value& v) {
    if (v.is<List>()) {
      out += "[...]";
    } else if (v.is<Dict>()) {
      out += "{...}";
    } else if (v.is<Tuple>()) {
      out += "(...)";
    } else {
      out += fmt::format("{}(...)", v.type_name());
    }
  }

  void write_items(std::span<const Value> items) {
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i != 0) out += ", ";
      write(items[i]);
    }
  }

  template <class Set>
  void write_set_items(const Set& s) {
    bool first = true;
    for (const SetEntry& e : s) {
      if (!first) out += ", ";
      first = false;
      write(e.key);
    }
  }

  void write_contents(const Value& v) {
    if (const List* l = v.get_if<List>()) {
      out += '[';
      write_items(l->items_span());
      out += ']';
    } else if (const Tuple* t = v.get_if<Tuple>()) {
      out += '(';
      write_items(t->items_span());
      out += t->size() == 1 ? ",)" : ")";
    } else if (const Dict* d = v.get_if<Dict>()) {
      write_dict(*d);
    } else if (const Set* s = v.get_if<Set>()) {
      if (s->empty()) {
        out += "set()";
        return;
      }
      out += '{';
      write_set_items(*s);
      out += '}';
    } else if (const FrozenSet* f = v.get_if<FrozenSet>()) {
      out += "frozenset(";
      if (!f->empty()) {
        out += '{';
        write_set_items(*f);
        out += '}';
      }
      out += ')';
    } else if (const Reduce* r = v.get_if<Reduce>()) {
      write_reduce(*r);
    } else {
      write_default(*v.object());
    }
  }

  void write_dict(const Dict& d) {
    out += '{';
    bool first = true;
    for (const DictEntry& e : d) {
      if (!first) out += ", ";
      first = false;
      write(e.key);
      out += ": ";
      write(e.value);
    }
    out += '}';
  }

  void write_reduce(const Reduce& r) {
    out += "<reduce ";
    if (const Global* g = r.callable.get_if<Global>()) {
      out += fmt::format("{}.{}", g->module(), g->qualname());
    } else {
      write(r.callable);
    }
    write(r.args);
    out += '>';
  }
};

}  // namespace

std::string repr(const Value& v) {
  ReprWriter writer;
  writer.write(v);
  return std::move(writer.out);
}

std::string str(const Value& v) {
  if (const Str* s = v.get_if<Str>()) return std::string(s->utf8());
  return repr(v);
}

// The value types' py_repr() is ouro::repr, so that printing a Ref<List> or a list inside
// a user type's own repr gives Python's text.
namespace {
std::string repr_of(const Object& o) { return repr(Value::borrow(const_cast<Object*>(&o))); }
}  // namespace

std::string Int::py_repr() const { return repr_of(*this); }
std::string Float::py_repr() const { return repr_of(*this); }
std::string Str::py_repr() const { return repr_of(*this); }
std::string Bytes::py_repr() const { return repr_of(*this); }
std::string ByteArray::py_repr() const { return repr_of(*this); }
std::string Tuple::py_repr() const { return repr_of(*this); }
std::string List::py_repr() const { return repr_of(*this); }
std::string Dict::py_repr() const { return repr_of(*this); }
std::string AnySet::py_repr() const { return repr_of(*this); }
std::string Global::py_repr() const { return repr_of(*this); }
std::string Instance::py_repr() const { return repr_of(*this); }
std::string Reduce::py_repr() const { return repr_of(*this); }

std::string repr(const Value& v, const ReprExtension& extension) {
  ReprWriter writer(&extension);
  writer.write(v);
  return std::move(writer.out);
}

#if !OURO_BARE_METAL
void write_repr(std::ostream& out, const Value& v, std::size_t max_bytes,
                const ReprExtension* extension) {
  ReprWriter writer(out, max_bytes, extension);
  writer.write(v);
  writer.finish();
}
#endif

}  // namespace ouro
