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
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

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
  std::vector<std::string> allow;  ///< extra "module.qualname" globals to accept (as inert)
  bool fix_imports = true;         ///< map Python 2 names (_compat_pickle) when loading
  std::string encoding = "ASCII";  ///< for Python 2 str (STRING opcodes), as Python's loads
  std::string errors = "strict";
  /// persistent_load: required when the data holds persistent ids (else UnpicklingError).
  std::function<Value(const Value& pid)> persistent_load;
  /// Out-of-band buffers for NEXT_BUFFER, in order (protocol 5).
  std::vector<Value> buffers;
  bool buffers_given = false;  ///< Python's buffers=None vs buffers=[]: NEXT_BUFFER needs it
  /// Called for every global the pickle names (GLOBAL, STACK_GLOBAL, INST), after the
  /// Python 2 mapping, with its offset and whether the allow-list accepts it; before a
  /// strict refusal too. This is how inspect mode reports what a pickle references.
  std::function<void(std::string_view module, std::string_view qualname, std::int64_t offset,
                     bool allowed)>
      on_global;
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
std::string dumps(const Value& value, const DumpOptions& options = {});
/// Pickles `value` to a stream.
void dump(const Value& value, std::ostream& out, const DumpOptions& options = {});

/// Unpickles `data` into the current heap (HeapScope; std::logic_error without one).
/// Nothing is imported or called: globals go through the allow-list (docs/pickle.md).
/// Throws UnpicklingError (CPython's exception kind and message, with offset and opcode)
/// and MemoryError when the heap's limit is reached; either way everything built so far is
/// released (half-built cycles are collected), so the heap's live objects are as before.
///
///     ouro::Value v = ouro::pickle::loads(bytes);
///     ouro::Value p = ouro::pickle::loads(bytes, {.allow = {"__main__.Point"}});
Value loads(std::string_view data, const LoadOptions& options = {});
/// Unpickles one pickle from a stream. The stream is read to its end; a seekable stream is
/// positioned just after the pickle's STOP (so several pickles can be read in a row).
Value load(std::istream& in, const LoadOptions& options = {});

/// C++ types that pickle as a Python class `module.Name` (reduce to state, restore from
/// state), so that CPython loads them as instances of a matching Python class and ouro loads
/// them back into the C++ type. Registration is process-wide.
///
///     ouro::pickle::register_type<ComplexDataObject>(
///         "__main__", "ComplexDataObject",
///         [](const ComplexDataObject& o) { return ouro::dict({{"number", o.number}}); },
///         [](const ouro::Value& state) { ...; return ouro::make<ComplexDataObject>(...); });
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
/// The registration for a C++ type id, or for a module/qualname; nullptr if none.
const TypeRegistration* find_registration(std::uint16_t type_id) noexcept;
const TypeRegistration* find_registration(std::string_view module,
                                          std::string_view qualname) noexcept;

}  // namespace ouro::pickle
