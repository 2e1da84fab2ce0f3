// ouro::to_json / ouro::from_json: the JSON mapping documented in ouro/value/json.h and
// docs/values.md. Both directions recurse with RecursionGuard (RecursionError past the
// limit); to_json also detects cycles (ValueError "Circular reference detected").
#include "ouro/value/json.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "value/internal.h"

namespace ouro {

namespace vd = value::detail;
using json = Json;

namespace {

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(std::span<const std::byte> data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < data.size(); i += 3) {
    std::uint32_t n = std::to_integer<std::uint32_t>(data[i]) << 16;
    if (i + 1 < data.size()) n |= std::to_integer<std::uint32_t>(data[i + 1]) << 8;
    if (i + 2 < data.size()) n |= std::to_integer<std::uint32_t>(data[i + 2]);
    out += kBase64[(n >> 18) & 63];
    out += kBase64[(n >> 12) & 63];
    out += i + 1 < data.size() ? kBase64[(n >> 6) & 63] : '=';
    out += i + 2 < data.size() ? kBase64[n & 63] : '=';
  }
  return out;
}

std::string base64_decode(const std::string& text) {
  std::string out;
  std::uint32_t n = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    const char* p = std::find(kBase64, kBase64 + 64, c);
    if (p == kBase64 + 64) throw ValueError("invalid base64 in JSON bytes");
    n = (n << 6) | static_cast<std::uint32_t>(p - kBase64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((n >> bits) & 0xFF);
    }
  }
  return out;
}

// True if the UTF-8 text encodes a surrogate (ED A0..BF xx), which JSON text cannot carry.
bool has_surrogates(std::string_view utf8) noexcept {
  for (std::size_t i = 0; i + 1 < utf8.size(); ++i) {
    if (static_cast<unsigned char>(utf8[i]) == 0xED &&
        static_cast<unsigned char>(utf8[i + 1]) >= 0xA0) {
      return true;
    }
  }
  return false;
}

class JsonWriter {
 public:
  json write(const Value& v) {
    if (v.is_none()) return nullptr;
    if (v.is_bool()) return v.as<bool>();
    if (v.is_small_int()) return v.small_value();
    if (const Float* f = v.get_if<Float>()) return write_float(f->value());
    if (const Int* i = v.get_if<Int>()) return write_big_int(v, *i);
    if (const Str* s = v.get_if<Str>()) {
      // JSON text must be UTF-8: a str with lone surrogates travels as its bytes.
      if (has_surrogates(s->utf8())) return tagged("$str", base64_encode(as_bytes(s->utf8())));
      return std::string(s->utf8());
    }
    if (const Bytes* b = v.get_if<Bytes>()) return tagged("$bytes", base64_encode(b->data()));
    if (const ByteArray* a = v.get_if<ByteArray>()) {
      return tagged("$bytearray", base64_encode(a->data()));
    }
    if (const Global* g = v.get_if<Global>()) {
      return tagged("$global", json::array({std::string(g->module()), std::string(g->qualname())}));
    }
    return write_container(v);
  }

 private:
  std::vector<const Object*> active_;

  static json tagged(const char* tag, json body) { return json{{tag, std::move(body)}}; }

  static json write_float(double x) {
    if (std::isnan(x)) return tagged("$float", "nan");
    if (std::isinf(x)) return tagged("$float", x > 0 ? "inf" : "-inf");
    return x;
  }

  static json write_big_int(const Value& v, const Int& i) {
    if (i.limbs().size() == 1 && !i.negative()) return i.limbs()[0];  // fits uint64
    if (i.limbs().size() == 1 && i.limbs()[0] <= (std::uint64_t{1} << 63) && i.negative()) {
      return static_cast<std::int64_t>(0 - i.limbs()[0]);
    }
    return tagged("$int", Int::to_decimal(v));
  }

  json write_container(const Value& v) {
    const Object* o = v.object();
    if (std::find(active_.begin(), active_.end(), o) != active_.end()) {
      throw ValueError("Circular reference detected");
    }
    vd::RecursionGuard guard(" while encoding a JSON object");
    active_.push_back(o);
    json out;
    try {
      out = write_contents(v);
    } catch (...) {
      active_.pop_back();
      throw;
    }
    active_.pop_back();
    return out;
  }

  json write_array(std::span<const Value> items) {
    json out = json::array();
    for (const Value& item : items) out.push_back(write(item));
    return out;
  }

  template <class S>
  json write_set(const S& s) {
    json out = json::array();
    for (const SetEntry& e : s) out.push_back(write(e.key));
    return out;
  }

  json write_dict(const Dict& d) {
    bool plain = true;
    for (const DictEntry& e : d) {
      const Str* k = e.key.get_if<Str>();
      plain = plain && k != nullptr && !k->utf8().starts_with('$') && !has_surrogates(k->utf8());
    }
    if (plain) {
      json out = json::object();
      for (const DictEntry& e : d) out[std::string(e.key.as<std::string_view>())] = write(e.value);
      return out;
    }
    json pairs = json::array();
    for (const DictEntry& e : d) pairs.push_back(json::array({write(e.key), write(e.value)}));
    return tagged("$dict", std::move(pairs));
  }

  json write_contents(const Value& v) {
    if (const List* l = v.get_if<List>()) return write_array(l->items_span());
    if (const Tuple* t = v.get_if<Tuple>()) return tagged("$tuple", write_array(t->items_span()));
    if (const Dict* d = v.get_if<Dict>()) return write_dict(*d);
    if (const Set* s = v.get_if<Set>()) return tagged("$set", write_set(*s));
    if (const FrozenSet* f = v.get_if<FrozenSet>()) return tagged("$frozenset", write_set(*f));
    if (const Instance* i = v.get_if<Instance>()) {
      return tagged("$instance", {{"class", write(i->cls())}, {"state", write(i->state())}});
    }
    if (const Reduce* r = v.get_if<Reduce>()) {
      return tagged("$reduce", {{"callable", write(r->callable)},
                                {"args", write(r->args)},
                                {"state", write(r->state)},
                                {"listitems", write(r->listitems)},
                                {"dictitems", write(r->dictitems)}});
    }
    throw TypeError("Object of type " + std::string(v.type_name()) + " is not JSON serializable");
  }
};

class JsonReader {
 public:
  explicit JsonReader(Heap& heap) : heap_(heap) {}

  Value read(const json& j) {
    switch (j.type()) {
      case json::value_t::null:
        return {};
      case json::value_t::boolean:
        return Value(j.get<bool>());
      case json::value_t::number_integer:
        return read_int(j.get<std::int64_t>());
      case json::value_t::number_unsigned:
        return read_uint(j.get<std::uint64_t>());
      case json::value_t::number_float:
        return Float::make(heap_, j.get<double>());
      case json::value_t::string:
        return Str::make(heap_, j.get_ref<const std::string&>());
      case json::value_t::array:
        return read_list(j);
      case json::value_t::object:
        return read_object(j);
      default:
        throw ValueError("unsupported JSON value");
    }
  }

 private:
  Heap& heap_;

  Value read_int(std::int64_t n) {
    std::array<Int::Limb, 1> limb{n < 0 ? 0 - static_cast<std::uint64_t>(n)
                                        : static_cast<std::uint64_t>(n)};
    return Int::from_limbs(heap_, limb, n < 0);
  }
  Value read_uint(std::uint64_t n) {
    std::array<Int::Limb, 1> limb{n};
    return Int::from_limbs(heap_, limb, false);
  }

  std::vector<Value> read_items(const json& array) {
    if (!array.is_array()) throw ValueError("malformed '$' form in JSON: expected an array");
    vd::RecursionGuard guard(" while decoding a JSON array");
    std::vector<Value> items;
    items.reserve(array.size());
    for (const json& item : array) items.push_back(read(item));
    return items;
  }

  Value read_list(const json& j) {
    std::vector<Value> items = read_items(j);
    return List::make(heap_, items);
  }

  Value read_object(const json& j) {
    if (j.size() == 1 && j.begin().key().starts_with('$'))
      return read_tagged(j.begin().key(), j.begin().value());
    vd::RecursionGuard guard(" while decoding a JSON object");
    Ref<Dict> d = Dict::make(heap_, j.size());
    for (const auto& [key, value] : j.items()) d->set(Str::make(heap_, key), read(value));
    return d;
  }

  static const std::string& text(const json& j) {
    if (!j.is_string()) throw ValueError("malformed '$' form in JSON: expected a string");
    return j.get_ref<const std::string&>();
  }

  Value read_tagged(const std::string& tag, const json& body) {
    if (tag == "$int") return Int::from_decimal(heap_, text(body));
    if (tag == "$float") return read_special_float(text(body));
    if (tag == "$str") return Str::make(heap_, base64_decode(text(body)));
    if (tag == "$bytes") return Bytes::make(heap_, as_bytes(base64_decode(text(body))));
    if (tag == "$bytearray") return ByteArray::make(heap_, as_bytes(base64_decode(text(body))));
    if (tag == "$tuple") return Tuple::make(heap_, read_items(body));
    if (tag == "$frozenset") return FrozenSet::make(heap_, read_items(body));
    if (tag == "$set") {
      Ref<Set> s = Set::make(heap_);
      for (Value& item : read_items(body)) s->add(std::move(item));
      return s;
    }
    if (tag == "$dict") return read_pairs(body);
    if (tag == "$global" && body.is_array() && body.size() == 2) {
      return Global::make(heap_, text(body[0]), text(body[1]));
    }
    if (tag == "$instance" && body.is_object()) {
      return Instance::make(heap_, read(body.at("class")), read(body.at("state")));
    }
    if (tag == "$reduce" && body.is_object()) return read_reduce(body);
    throw ValueError("unknown '$' form in JSON: " + tag);
  }

  Value read_special_float(const std::string& s) {
    if (s == "nan") return Float::make(heap_, std::numeric_limits<double>::quiet_NaN());
    if (s == "inf") return Float::make(heap_, std::numeric_limits<double>::infinity());
    if (s == "-inf") return Float::make(heap_, -std::numeric_limits<double>::infinity());
    throw ValueError("malformed $float in JSON: " + s);
  }

  Value read_pairs(const json& body) {
    if (!body.is_array()) throw ValueError("malformed $dict in JSON");
    vd::RecursionGuard guard(" while decoding a JSON object");
    Ref<Dict> d = Dict::make(heap_, body.size());
    for (const json& pair : body) {
      if (!pair.is_array() || pair.size() != 2) throw ValueError("malformed $dict in JSON");
      d->set(read(pair[0]), read(pair[1]));
    }
    return d;
  }

  Value read_reduce(const json& body) {
    vd::RecursionGuard guard(" while decoding a JSON object");
    Ref<Reduce> r = Reduce::make(heap_, read(body.at("callable")), read(body.at("args")));
    r->state = read(body.value("state", json()));
    r->listitems = read(body.value("listitems", json()));
    r->dictitems = read(body.value("dictitems", json()));
    return r;
  }
};

}  // namespace

json to_json(const Value& v) { return JsonWriter().write(v); }

Value from_json(Heap& heap, const json& j) { return JsonReader(heap).read(j); }

Value from_json(Heap& heap, const nlohmann::json& j) {
  return JsonReader(heap).read(json::parse(j.dump()));
}

}  // namespace ouro
