// ouro::finalize, Python's weakref.finalize: call a function once when an object dies, or
// at heap shutdown.
//
// A finalizer is a weak reference with a callback, kept by its heap (not by the handle the
// caller gets) until it is called or detached: dropping every Finalizer handle does not
// cancel it. Its function runs at most once: when the object dies (by refcount or as cyclic
// garbage, then with DESIGN.md I5's rules for callbacks), when the handle is called, or at
// heap shutdown if `atexit` is set (the default), newest first, as Python's
// finalize._exitfunc. After that shutdown run no finalizer function is called any more.
// Exceptions from a function run by the heap go to the unraisable hook; from a direct
// call, they propagate.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "ouro/core/weakref.h"

namespace ouro {

namespace detail {
class FinalizerRecord;
}  // namespace detail

/// What Finalizer::peek() and detach() return.
struct FinalizerInfo {
  Ref<Object> object;        ///< the object, alive
  std::function<void()> fn;  ///< the function that was to be called
};

/// A handle to a finalizer made by ouro::finalize(). Copies refer to the same finalizer.
/// Warning: like a Ref, a handle must not outlive its heap (the heap reports one that
/// does, and the handle is then dead).
///
///     auto f = ouro::finalize(big, [] { std::puts("BigOne finalized"); });
///     assert(f.alive());
///     big.reset();          // prints "BigOne finalized"
///     assert(!f.alive());
///     f();                  // dead: does nothing
class Finalizer {
 public:
  /// A dead finalizer.
  Finalizer() noexcept = default;

  /// True until the function was called or the finalizer detached.
  bool alive() const noexcept;
  /// Whether the function runs at heap shutdown if still alive (false once dead).
  bool atexit() const noexcept;
  /// Sets `atexit` of an alive finalizer (no effect once dead).
  void set_atexit(bool value) noexcept;
  /// If alive: marks the finalizer dead, then calls the function (its exceptions propagate)
  /// and returns true. Dead: returns false.
  bool operator()();
  /// If alive and its object too: marks it dead without calling, and returns the object and
  /// the function. Otherwise nothing.
  std::optional<FinalizerInfo> detach();
  /// If alive and its object too: the object and (a copy of) the function.
  std::optional<FinalizerInfo> peek() const;

 private:
  friend Finalizer finalize(const Ref<Object>& object, std::function<void()> fn);
  explicit Finalizer(Ref<Object> record) noexcept : record_(std::move(record)) {}
  detail::FinalizerRecord* record() const noexcept;
  Ref<Object> record_;  // a detail::FinalizerRecord (a managed object in the heap)
};

/// Registers `fn` to be called once, when `object` dies or at heap shutdown (atexit). Throws
/// TypeError for an empty Ref or a type that opted out of weak references, MemoryError
/// under the heap's limit. Made once the heap's shutdown run is over, it is born dead.
///
///     auto f = ouro::finalize(node, [name = node->name] { log("freed", name); });
///     f.set_atexit(false);  // not at heap shutdown
///
/// Warning: a function that captures a strong Ref to the object keeps it alive forever;
/// then the function only runs at heap shutdown.
Finalizer finalize(const Ref<Object>& object, std::function<void()> fn);

}  // namespace ouro
