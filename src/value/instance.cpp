// ouro::Global, ouro::Instance and ouro::Reduce: Python objects kept by name and state,
// never executed (DESIGN.md I8). A Global's two names are inline text in its block; an
// Instance holds its class and BUILD state; a Reduce holds the five parts of __reduce__.
//
// Invariants kept here (DESIGN.md): I3 — Instance and Reduce visit each Value once and
// clear() drops them (the Value is None before the old object dies).
#include <cstring>

#include "value/internal.h"
#include "value/unicode.h"

namespace ouro {

namespace vd = value::detail;

Ref<Global> Global::make(Heap& heap, std::string_view module, std::string_view qualname) {
  if (!vd::scan_utf8(module).valid || !vd::scan_utf8(qualname).valid) {
    throw UnicodeDecodeError("'utf-8' codec can't decode a global's name", 0);
  }
  Ref<Global> g =
      make_in<Global>(heap, module.size() + qualname.size(), module.size(), qualname.size());
  std::memcpy(g->chars(), module.data(), module.size());
  std::memcpy(g->chars() + module.size(), qualname.data(), qualname.size());
  return g;
}

std::string_view Global::name() const noexcept {
  const std::string_view q = qualname();
  const std::size_t dot = q.rfind('.');
  return dot == std::string_view::npos ? q : q.substr(dot + 1);
}

Ref<Instance> Instance::make(Heap& heap, Value cls, Value state) {
  vd::check_same_heap(heap, cls);
  vd::check_same_heap(heap, state);
  return make_in<Instance>(heap, 0, std::move(cls), std::move(state));
}

Dict* Instance::dict() const noexcept {
  if (Dict* d = state_.get_if<Dict>()) return d;
  if (const Tuple* t = state_.get_if<Tuple>(); t != nullptr && t->size() == 2) {
    return (*t)[0].get_if<Dict>();
  }
  return nullptr;
}

Dict* Instance::slots() const noexcept {
  if (const Tuple* t = state_.get_if<Tuple>(); t != nullptr && t->size() == 2) {
    return (*t)[1].get_if<Dict>();
  }
  return nullptr;
}

const Value* Instance::get_attr(std::string_view name) const {
  Heap& heap = vd::heap_of(*this);
  const Value key = Str::make(heap, name);
  if (const Dict* d = dict()) {
    if (const Value* v = d->find(key)) return v;
  }
  if (const Dict* s = slots()) return s->find(key);
  return nullptr;
}

void Instance::set_attr(std::string_view name, Value value) {
  Heap& heap = vd::heap_of(*this);
  Value key = Str::make(heap, name);
  Dict* d = dict();
  if (d == nullptr) {
    if (!state_.is_none()) {
      throw TypeError("instance state is a '" + std::string(state_.type_name()) + "', not a dict");
    }
    Ref<Dict> fresh = Dict::make(heap);
    fresh->set(std::move(key), std::move(value));
    state_ = Value(std::move(fresh));
    return;
  }
  d->set(std::move(key), std::move(value));
}

std::string_view Instance::type_name() const noexcept {
  if (const Global* g = cls_.get_if<Global>()) return g->name();
  return kTypeName;
}

void Instance::traverse(Visitor& visit) {
  cls_.visit(visit);
  state_.visit(visit);
}

void Instance::clear() {
  Value cls = std::move(cls_);
  Value state = std::move(state_);
}

Ref<Reduce> Reduce::make(Heap& heap, Value callable, Value args) {
  vd::check_same_heap(heap, callable);
  vd::check_same_heap(heap, args);
  return make_in<Reduce>(heap, 0, std::move(callable), std::move(args));
}

void Reduce::traverse(Visitor& visit) {
  for (const Value* v : {&callable, &args, &state, &listitems, &dictitems}) v->visit(visit);
}

void Reduce::clear() {
  Value parts[] = {std::move(callable), std::move(args), std::move(state), std::move(listitems),
                   std::move(dictitems)};
}

}  // namespace ouro
