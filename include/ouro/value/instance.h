// Python objects without C++ classes: a Global names a module-level object (a class or a
// function) by module and qualified name; an Instance is an object of such a class with
// its state; a Reduce keeps a call (callable, arguments, state, list and dict items) that
// must be remembered but never executed — DESIGN.md I8, loading never executes.
//
// Invariants kept here (DESIGN.md): I3 — Instance and Reduce are containers that visit
// each Value they hold exactly once; Global holds only text and is a leaf.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ouro/value/containers.h"
#include "ouro/value/core.h"

namespace ouro {

/// A reference to a module-level Python object by name, as pickle's GLOBAL/STACK_GLOBAL
/// writes it. Two Globals with the same names are equal and hash alike (they name the same
/// object). repr: `<class 'module.qualname'>`, as for a Python class.
///
///     auto cls = ouro::Global::make(heap, "__main__", "ComplexDataObject");
class Global final : public Object {
 public:
  static constexpr std::string_view kTypeName = "global";
  /// Throws UnicodeDecodeError if a name is not UTF-8, MemoryError.
  [[nodiscard]] static Ref<Global> make(Heap& heap, std::string_view module,
                                        std::string_view qualname);
  [[nodiscard]] static Ref<Global> make(std::string_view module, std::string_view qualname) {
    return make(detail::current_heap_for("ouro::Global::make"), module, qualname);
  }
  std::string_view module() const noexcept { return {chars(), module_size_}; }
  std::string_view qualname() const noexcept { return {chars() + module_size_, qualname_size_}; }
  /// The last component of the qualified name (a class's __name__).
  std::string_view name() const noexcept;
  std::string py_repr() const override;  ///< Python's repr(), as ouro::repr gives it

  Global(std::size_t module_size, std::size_t qualname_size) noexcept
      : module_size_(static_cast<std::uint32_t>(module_size)),
        qualname_size_(static_cast<std::uint32_t>(qualname_size)) {}

 private:
  char* chars() noexcept { return reinterpret_cast<char*>(this + 1); }
  const char* chars() const noexcept { return reinterpret_cast<const char*>(this + 1); }
  ~Global() override = default;
  std::uint32_t module_size_;    // UTF-8 bytes of the module name, inline first
  std::uint32_t qualname_size_;  // UTF-8 bytes of the qualified name, inline after it
};

/// An instance of a Python class that has no C++ counterpart: its class (normally a Global)
/// and its state exactly as pickle's BUILD gives it — usually the instance's __dict__ (a
/// Dict), or a 2-tuple (dict or None, slot-state dict) for classes with __slots__, or
/// whatever a __setstate__ expects. Equality and hash are by identity (object's defaults);
/// type_name() is the class's name.
///
///     auto obj = ouro::Instance::make(heap, ouro::Global::make(heap, "__main__", "Point"));
///     obj->set_attr("x", 1);
///     obj->get_attr("x")->as<int>() == 1;
class Instance final : public Object {
 public:
  static constexpr std::string_view kTypeName = "instance";
  [[nodiscard]] static Ref<Instance> make(Heap& heap, Value cls, Value state = {});
  [[nodiscard]] static Ref<Instance> make(Value cls, Value state = {}) {
    return make(detail::current_heap_for("ouro::Instance::make"), std::move(cls), std::move(state));
  }

  const Value& cls() const noexcept { return cls_; }
  /// The state as stored (None until set).
  const Value& state() const noexcept { return state_; }
  void set_state(Value state) noexcept { state_ = std::move(state); }
  /// The instance dict: the state if it is a Dict, or the first item of a (dict, slots)
  /// tuple; nullptr when there is none.
  Dict* dict() const noexcept;
  /// The slot-state dict of a (dict, slots) state, or nullptr.
  Dict* slots() const noexcept;
  /// obj.name from the dict, then the slot state; nullptr when absent.
  const Value* get_attr(std::string_view name) const;
  /// obj.name = value in the instance dict (made when the state is None). Throws TypeError
  /// when the state is neither None, a Dict nor a (dict, slots) tuple.
  void set_attr(std::string_view name, Value value);

  std::string_view type_name() const noexcept override;
  void traverse(Visitor& visit) override;
  void clear() override;
  std::string py_repr() const override;  ///< Python's repr(), as ouro::repr gives it

  Instance(Value cls, Value state) noexcept : cls_(std::move(cls)), state_(std::move(state)) {}

 private:
  ~Instance() override = default;
  Value cls_;    // the class: a Global, or whatever pickle gave
  Value state_;  // BUILD's argument, unchanged; None until set
};

/// An inert call `callable(*args)` with the extras of pickle's __reduce__ protocol: state
/// (for BUILD), listitems (appended) and dictitems (set). Nothing is ever called: the
/// Reduce keeps the parts so that pickle can write them back byte for byte.
/// repr: `<reduce module.qualname(args...)>`.
///
///     auto r = ouro::Reduce::make(heap, ouro::Global::make(heap, "builtins", "complex"),
///                                 ouro::Tuple::make(heap, {1.0, 2.0}));
class Reduce final : public Object {
 public:
  static constexpr std::string_view kTypeName = "reduce";
  [[nodiscard]] static Ref<Reduce> make(Heap& heap, Value callable, Value args);
  [[nodiscard]] static Ref<Reduce> make(Value callable, Value args) {
    return make(detail::current_heap_for("ouro::Reduce::make"), std::move(callable),
                std::move(args));
  }

  Value callable;   ///< what would be called (normally a Global)
  Value args;       ///< its arguments (normally a Tuple)
  Value state;      ///< BUILD state, None if none
  Value listitems;  ///< a List of items to append, None if none
  Value dictitems;  ///< a Dict (or List of 2-tuples) of items to set, None if none

  void traverse(Visitor& visit) override;
  void clear() override;
  std::string py_repr() const override;  ///< Python's repr(), as ouro::repr gives it

  Reduce(Value c, Value a) noexcept : callable(std::move(c)), args(std::move(a)) {}

 private:
  ~Reduce() override = default;
};

}  // namespace ouro
