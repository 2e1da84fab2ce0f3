// ouro::pickle: Python's pickle, protocols 0-5, writing exactly CPython 3.11's bytes and
// reading every opcode, safely: loading never executes or imports anything (DESIGN.md I8).
//
// Dumping: ouro::pickle::dumps(value, {.protocol = 5}) -> the bytes CPython's
// pickle.dumps(x, 5) gives for an equal value. Loading: ouro::pickle::loads(bytes) -> a Value
// in the current heap; globals resolve only through an allow-list (the built-ins standard
// data needs, copyreg._reconstructor for plain instances, _codecs.encode for old bytes,
// registered C++ types, and the caller's additions). Unknown globals are refused (strict,
// the default) or kept as inert Global/Reduce/Instance values that dump back to the same
// bytes (inspect). Every allocation is in the heap, so the heap's limit bounds any input.
// dumps_bytes and try_loads are the forms that stay entirely in the heap: the pickle as a
// Bytes, and a failed load as a LoadError instead of an exception.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ouro/config.h"
#include "ouro/value/value.h"

namespace ouro::pickle {

/// The protocol pickle.dumps uses by default in CPython 3.11.
inline constexpr int kDefaultProtocol = 4;
/// pickle.HIGHEST_PROTOCOL.
inline constexpr int kHighestProtocol = 5;

/// Base of pickle's errors (pickle.PickleError).
class PickleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// pickle.PicklingError: a value cannot be pickled (e.g. an object of an unregistered C++
/// type, a protocol out of range). The message is CPython's where CPython has one.
class PicklingError : public PickleError {
 public:
  using PickleError::PickleError;
};

/// pickle.UnpicklingError and the other errors CPython raises while loading (ValueError,
/// EOFError, KeyError, TypeError, ...), with where it happened. `what()` is
/// "<python_type>: <CPython's message> (at offset N, opcode NAME)"; `message()` is CPython's
/// message alone.
class UnpicklingError : public PickleError {
 public:
  UnpicklingError(std::string python_type, std::string message, std::int64_t offset,
                  std::string opcode);
  const std::string& python_type() const noexcept { return python_type_; }  ///< e.g. "EOFError"
  const std::string& message() const noexcept { return message_; }
  std::int64_t offset() const noexcept { return offset_; }        ///< byte offset, -1 if none
  const std::string& opcode() const noexcept { return opcode_; }  ///< opcode name, "" if none

 private:
  std::string python_type_;
  std::string message_;
  std::int64_t offset_;
  std::string opcode_;
};

/// A failed load as try_loads reports it: the python_type, message, offset and opcode that
/// loads' UnpicklingError (or MemoryError) carries, held in fixed storage so that reporting
/// the unpickler's own findings allocates nothing. A message longer than kMessageCapacity
/// is cut (message_cut()); loads' exception has the whole text.
class LoadError {
 public:
  static constexpr std::size_t kMessageCapacity = 240;
  bool failed() const noexcept { return type_size_ != 0; }
  /// "UnpicklingError", "EOFError", "ValueError", "MemoryError", ...; "" when nothing failed.
  std::string_view python_type() const noexcept { return {type_, type_size_}; }
  std::string_view message() const noexcept { return {message_, message_size_}; }
  std::int64_t offset() const noexcept { return offset_; }  ///< byte offset, -1 if none
  std::string_view opcode() const noexcept { return {opcode_, opcode_size_}; }  ///< "" if none
  bool message_cut() const noexcept { return message_cut_; }
  /// Records an error, copying what fits (the unpickler's; a caller has no need to).
  void set(std::string_view python_type, std::string_view message, std::int64_t offset,
           std::string_view opcode) noexcept;

 private:
  char type_[31] = {};
  std::uint8_t type_size_ = 0;
  char opcode_[23] = {};
  std::uint8_t opcode_size_ = 0;
  bool message_cut_ = false;
  std::uint16_t message_size_ = 0;
  std::int64_t offset_ = -1;
  char message_[kMessageCapacity] = {};
};

/// pickle.PickleBuffer: a bytes-like value (a Bytes or ByteArray) offered to protocol 5's
/// out-of-band channel. Pickled in band it is written as the bytes (readonly) or bytearray
/// it views; out of band as NEXT_BUFFER (+ READONLY_BUFFER), its data left to the caller.
/// Below protocol 5 pickling one is a PicklingError, as in CPython.
///
///     ouro::Value buf = ouro::pickle::Buffer::make(heap, ouro::bytes("payload"));
///     std::vector<ouro::Value> out_of_band;
///     auto data = ouro::pickle::dumps(buf, {.protocol = 5, .buffer_callback =
///         [&](const ouro::pickle::Buffer& b) { out_of_band.push_back(b.target()); return false;
///         }});
class Buffer final : public Object {
 public:
  static constexpr std::string_view kTypeName = "pickle.PickleBuffer";
  /// A view of `target` (a Bytes: readonly; a ByteArray: writable). TypeError otherwise.
  [[nodiscard]] static Ref<Buffer> make(Heap& heap, Value target);
  const Value& target() const noexcept { return target_; }  ///< the Bytes or ByteArray
  bool readonly() const noexcept { return readonly_; }
  std::span<const std::byte> data() const noexcept;  ///< the bytes viewed
  void traverse(Visitor& visit) override { target_.visit(visit); }
  void clear() override { target_ = Value(); }

  Buffer(Value target, bool readonly) noexcept : target_(std::move(target)), readonly_(readonly) {}

 private:
  ~Buffer() override = default;
  Value target_;   // a Bytes or ByteArray (None once cleared)
  bool readonly_;  // true for Bytes
};

/// How dumps writes.
struct DumpOptions {
  int protocol = kDefaultProtocol;  ///< 0..5; negative means kHighestProtocol, as in Python
  bool fix_imports = true;          ///< write Python 2 names (__builtin__, ...) below protocol 3
  /// Protocol 5: called for each Buffer; return true to write it in band, false to send it
  /// out of band (CPython's convention: a false result means "out of band"). Unset: every
  /// buffer is written in band.
  std::function<bool(const Buffer&)> buffer_callback{};
  /// persistent_id: a non-None result is written as a persistent id instead of the value
  /// (below protocol 1 the id must be a str or an int; it is written as its text).
  std::function<Value(const Value&)> persistent_id{};
};

/// How loads reads.
enum class Policy {
  kStrict,   ///< unknown globals are an error naming the global and the offset (default)
  kInspect,  ///< unknown globals become inert Global/Reduce/Instance values
};

struct LoadOptions {
  Policy policy = Policy::kStrict;
  std::vector<std::string> allow{};  ///< extra "module.qualname" globals to accept (as inert)
  bool fix_imports = true;           ///< map Python 2 names (_compat_pickle) when loading
  std::string encoding = "ASCII";    ///< for Python 2 str (STRING opcodes), as Python's loads
  std::string errors = "strict";
  /// persistent_load: required when the data holds persistent ids (else UnpicklingError).
  std::function<Value(const Value& pid)> persistent_load{};
  /// Out-of-band buffers for NEXT_BUFFER, in order (protocol 5).
  std::vector<Value> buffers{};
  bool buffers_given = false;  ///< Python's buffers=None vs buffers=[]: NEXT_BUFFER needs it
  /// Called for every global the pickle names (GLOBAL, STACK_GLOBAL, INST), after the
  /// Python 2 mapping, with its offset and whether the allow-list accepts it; before a
  /// strict refusal too. This is how inspect mode reports what a pickle references.
  std::function<void(std::string_view module, std::string_view qualname, std::int64_t offset,
                     bool allowed)>
      on_global{};
};

/// Pickles `value`: CPython 3.11's pickle.dumps bytes for an equal value (memo numbering,
/// batches of 1000, 64 KiB frames, protocol 0-3 forms, fix_imports). Any nesting depth
/// works (no recursion). Sets and frozensets are written in their iteration order, which is
/// CPython's table order (byte for byte with CPython for a loaded set; see docs/values.md).
/// Identities follow CPython's: '' and one-character latin-1 strs, b'' and one-byte bytes
/// count as one object per value (CPython's singletons), a class (Global, registered type)
/// as one object per module.qualname, the str keys of an instance's state as interned names
/// (one object per text, distinct from the singletons). Throws PicklingError ("pickle protocol must
/// be <= 5", "cannot pickle 'X' object" for an unregistered C++ type, ...), MemoryError.
///
///     std::string bytes = ouro::pickle::dumps(ouro::list({1, "two", 3.0}), {.protocol = 5});
std::string dumps(const Value& value, const DumpOptions& options = {},
                  ouro::SiteLocation loc = ouro::SiteLocation::current());
/// The same pickle as a Bytes in the current heap (CPython's dumps returns bytes too): the
/// pickler's tables and its output are all in the heap, so with a static-buffer heap
/// nothing touches the system allocator, and the heap's limit bounds it all (MemoryError).
///
///     ouro::Ref<ouro::Bytes> b = ouro::pickle::dumps_bytes(value, {.protocol = 5});
///     ouro::Value back = ouro::pickle::loads(*b);
Ref<Bytes> dumps_bytes(const Value& value, const DumpOptions& options = {},
                       ouro::SiteLocation loc = ouro::SiteLocation::current());
#if !OURO_BARE_METAL  // no streams on bare metal: use dumps
/// Pickles `value` to a stream.
void dump(const Value& value, std::ostream& out, const DumpOptions& options = {});
#endif

/// Unpickles `data` into the current heap (HeapScope; std::logic_error without one).
/// Nothing is imported or called: globals go through the allow-list (docs/pickle.md).
/// Throws UnpicklingError (CPython's exception kind and message, with offset and opcode)
/// and MemoryError when the heap's limit is reached; either way everything built so far is
/// released (half-built cycles are collected), so the heap's live objects are as before.
///
///     ouro::Value v = ouro::pickle::loads(bytes);
///     ouro::Value p = ouro::pickle::loads(bytes, {.allow = {"__main__.Point"}});
Value loads(std::string_view data, const LoadOptions& options = {},
            ouro::SiteLocation loc = ouro::SiteLocation::current());
/// loads without exceptions for bad input: the value, or what went wrong. The unpickler's
/// own findings are reported without allocating outside the heap: the input ending early
/// (EOFError, "pickle data was truncated", frame errors), an unknown opcode, stack and MARK
/// underflow, a missing memo entry, a refused global, a hash bomb, a bad PROTO, EXT,
/// NEXT_BUFFER or STACK_GLOBAL argument, an odd DICT. Everything else that fails (the
/// heap's limit, and the errors docs/pickle.md lists) is caught and reported here too, but
/// its exception was allocated on the way. The heap is left as after a failed loads.
///
///     ouro::pickle::LoadResult r = ouro::pickle::try_loads(bytes);
///     if (!r) log(r.error.python_type(), r.error.message(), r.error.offset());
struct LoadResult {
  Value value;      ///< the loaded value; None when the load failed
  LoadError error;  ///< what failed; error.failed() is false on success
  explicit operator bool() const noexcept { return !error.failed(); }
};
LoadResult try_loads(std::string_view data, const LoadOptions& options = {},
                     ouro::SiteLocation loc = ouro::SiteLocation::current());
/// loads and try_loads of a Bytes (what dumps_bytes gives).
inline std::string_view bytes_text(const Bytes& data) noexcept {
  return {reinterpret_cast<const char*>(data.data().data()), data.size()};
}
inline Value loads(const Bytes& data, const LoadOptions& options = {},
                   ouro::SiteLocation loc = ouro::SiteLocation::current()) {
  return loads(bytes_text(data), options, loc);
}
inline LoadResult try_loads(const Bytes& data, const LoadOptions& options = {},
                            ouro::SiteLocation loc = ouro::SiteLocation::current()) {
  return try_loads(bytes_text(data), options, loc);
}
#if !OURO_BARE_METAL  // no streams on bare metal: use loads
/// Unpickles one pickle from a stream. The stream is read to its end; a seekable stream is
/// positioned just after the pickle's STOP (so several pickles can be read in a row).
Value load(std::istream& in, const LoadOptions& options = {});
#endif

/// C++ types that pickle as a Python class `module.Name` (reduce to state, restore from
/// state), so that CPython loads them as instances of a matching Python class and ouro loads
/// them back into the C++ type. Registration is process-wide; registering a type or a name
/// again replaces the earlier registration. For plain classes, register_fields (below)
/// writes both functions from a list of fields. docs/pickle.md has a complete example.
///
///     ouro::pickle::register_type<Point>(
///         "__main__", "Point",
///         [](const Point& p) { return ouro::dict({{"x", p.x}, {"y", p.y}}); },
///         [](const ouro::Value& state) {
///           const auto& d = state.as<ouro::Dict>();
///           return ouro::make<Point>(d.at("x").as<int>(), d.at("y").as<int>());
///         });
struct TypeRegistration {
  std::string module;
  std::string qualname;
  std::uint16_t type_id;                             ///< the C++ type's ouro type id
  std::function<Value(const Object&)> reduce;        ///< object -> state (a Dict usually)
  std::function<Value(const Value& state)> restore;  ///< state -> new object
};
void register_type(TypeRegistration registration);
template <class T>
void register_type(std::string module, std::string qualname, std::function<Value(const T&)> reduce,
                   std::function<Ref<T>(const Value& state)> restore) {
  register_type(TypeRegistration{
      std::move(module), std::move(qualname), detail::type_id_of<T>(),
      [reduce = std::move(reduce)](const Object& o) { return reduce(static_cast<const T&>(o)); },
      [restore = std::move(restore)](const Value& state) { return Value(restore(state)); }});
}

namespace field_detail {
template <class M>
inline constexpr bool is_ref_v = false;
template <class U>
inline constexpr bool is_ref_v<Ref<U>> = true;

/// A member's value from a pickle state entry: Value as is, Ref<U> from a U or None,
/// anything else through Value::as<M>() (TypeError when the type does not fit).
template <class M>
M field_from_value(const Value& v) {
  if constexpr (std::same_as<M, Value>) {
    return v;
  } else if constexpr (is_ref_v<M>) {
    return v.is_none() ? M() : v.template ref<typename M::element_type>();
  } else {
    return v.template as<M>();
  }
}

/// Throws TypeError "module.qualname: <what>" (register_fields' restore errors).
[[noreturn]] void throw_field_error(std::string_view module, std::string_view qualname,
                                    std::string_view what);
}  // namespace field_detail

/// One member of a plain class and the Python attribute it pickles as, for register_fields:
/// `{"x", &Point::x}`. The member may be bool, an integer, double, std::string, Value, or a
/// Ref<U> to another managed (usually registered) type; an empty Ref pickles as None.
template <class T>
struct Field {
  template <class M>
  Field(std::string attribute, M T::*member)  // NOLINT(google-explicit-constructor): {"x", &T::x}
      : name(std::move(attribute)),
        get([member](const T& object) { return Value(object.*member); }),
        set([member](T& object, const Value& v) {
          object.*member = field_detail::field_from_value<M>(v);
        }) {}
  std::string name;                           ///< the Python attribute
  std::function<Value(const T&)> get;         ///< member -> Value
  std::function<void(T&, const Value&)> set;  ///< Value -> member (TypeError if it does not fit)
};

/// Registers a plain class whose pickled state is its fields, as a Python object's __dict__:
/// dumping writes {name: value, ...} in the order given; loading makes a T with make<T>()
/// (so T needs a default constructor) and sets each field present in the state. A field
/// missing from the state keeps its default; a state entry with no field, or of the wrong
/// type, is a TypeError naming the class and the attribute ("__main__.Point.x: expected
/// int, got str"). A class holding Ref or Value fields still needs its own traverse().
///
///     ouro::pickle::register_fields<Point>("__main__", "Point",
///                                          {{"x", &Point::x}, {"y", &Point::y}});
template <class T>
void register_fields(std::string module, std::string qualname, std::vector<Field<T>> fields) {
  static_assert(
      requires { ::new (static_cast<void*>(nullptr)) T(); },
      "ouro::pickle::register_fields<T>: T needs a default constructor (loading "
      "makes a T, then sets its fields)");
  auto shared = std::make_shared<const std::vector<Field<T>>>(std::move(fields));
  auto reduce = [shared](const T& object) {
    Ref<Dict> state = Dict::make(shared->size());
    for (const Field<T>& f : *shared) state->set(f.name, f.get(object));
    return Value(std::move(state));
  };
  auto restore = [shared, module, qualname](const Value& state) {
    const Dict* d = state.get_if<Dict>();
    if (d == nullptr) {
      field_detail::throw_field_error(
          module, qualname, "expected a dict state, got " + std::string(state.type_name()));
    }
    Ref<T> object = make<T>();
    for (const DictEntry& e : *d) {
      const std::string_view key = e.key.is<Str>() ? e.key.as<std::string_view>() : "";
      const Field<T>* field = nullptr;
      for (const Field<T>& f : *shared) {
        if (f.name == key) field = &f;
      }
      if (field == nullptr) {
        field_detail::throw_field_error(module, qualname,
                                        "no registered field for attribute " + repr(e.key));
      }
      try {
        field->set(*object, e.value);
      } catch (const TypeError& error) {
        field_detail::throw_field_error(module, qualname, field->name + ": " + error.what());
      }
    }
    return object;
  };
  register_type<T>(std::move(module), std::move(qualname), std::move(reduce), std::move(restore));
}

/// The registration for a C++ type id, or for a module/qualname; nullptr if none.
const TypeRegistration* find_registration(std::uint16_t type_id) noexcept;
const TypeRegistration* find_registration(std::string_view module,
                                          std::string_view qualname) noexcept;

}  // namespace ouro::pickle
