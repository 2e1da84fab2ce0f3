// ouro::finalize (Python's weakref.finalize) and the per-heap registry of alive finalizers.
//
// The registry (WeakState::finalizers) is a list of the alive finalizers, oldest first. It
// owns them (FinalizerRecord::self) until they are called or detached, so a finalizer
// whose handles are gone still runs. Each record holds one weak reference to its object,
// whose callback calls the record; a record that leaves the registry disarms that callback
// first, so an armed callback always finds its record alive. At heap shutdown
// (WeakState::on_shutdown, from ~Heap), the atexit finalizers run newest first, and the
// others let go of their objects and functions without running, as CPython's
// finalize._exitfunc followed by finalize._shutdown.
#include "ouro/weak/finalize.h"

#include <new>

#include "core/weak_table.h"

namespace ouro {

namespace detail {

struct FinalizerRecord {
  Heap* heap = nullptr;      // the object's heap; used only while alive
  Ref<WeakRef> weakref;      // to the object, with the callback calling this record
  std::function<void()> fn;  // empty once dead
  bool atexit = true;
  FinalizerRecord* older = nullptr;  // registry list links; valid while alive
  FinalizerRecord* newer = nullptr;
  std::shared_ptr<FinalizerRecord> self;  // the registry's ownership; null once dead

  bool alive() const noexcept { return self != nullptr; }
};

namespace {

struct FinalizerRegistry {
  FinalizerRecord* oldest = nullptr;
  FinalizerRecord* newest = nullptr;
  bool shutdown = false;  // the shutdown run is over: nothing is called any more
};

FinalizerRegistry& registry_of(Heap& heap) noexcept {
  return *static_cast<FinalizerRegistry*>(weak_state_if_any(heap)->finalizers);
}

// Takes an alive record out of the registry: disarmed, dead. Returns what kept it alive and
// its function; the caller lets them go (or calls the function).
std::pair<std::shared_ptr<FinalizerRecord>, std::function<void()>> unregister(
    FinalizerRecord& record) noexcept {
  FinalizerRegistry& registry = registry_of(*record.heap);
  (record.older != nullptr ? record.older->newer : registry.oldest) = record.newer;
  (record.newer != nullptr ? record.newer->older : registry.newest) = record.older;
  record.older = record.newer = nullptr;
  clear_callback(*record.weakref);
  record.weakref.reset();  // its object may be alive: nothing runs
  return {std::move(record.self), std::move(record.fn)};
}

// Python's finalize.__call__: unregister, then call unless the shutdown run is over.
bool call(FinalizerRecord& record, bool report) {
  if (!record.alive()) return false;
  Heap& heap = *record.heap;
  auto [keep, fn] = unregister(record);
  if (registry_of(heap).shutdown) return false;
  if (!report) {
    fn();
    return true;
  }
  try {
    fn();
  } catch (...) {
    report_unraisable(heap, "finalize", nullptr);
  }
  return true;
}

// WeakState::on_shutdown (Python's finalize._exitfunc). The newest atexit finalizer is
// looked for afresh after each call, since a function may create finalizers (they run
// too, newest first) or end others. The heap's automatic collection is already off.
void run_atexit_finalizers(Heap& heap) noexcept {
  FinalizerRegistry& registry = registry_of(heap);
  for (;;) {
    FinalizerRecord* record = registry.newest;
    while (record != nullptr && !record->atexit) record = record->older;
    if (record == nullptr) break;
    (void)call(*record, /*report=*/true);
  }
  registry.shutdown = true;
  // The others never run; they let go of their objects and functions while the heap
  // exists (their functions' captures may hold Refs).
  while (registry.newest != nullptr) unregister(*registry.newest);
}

FinalizerRegistry& registry(Heap& heap) {
  WeakState& state = weak_state(heap);
  if (state.finalizers == nullptr) {
    // From the heap, like the rest of the weak state; trivially destructible, it goes with
    // the heap's memory.
    state.finalizers = ::new (heap.allocate(sizeof(FinalizerRegistry))) FinalizerRegistry();
    state.on_shutdown = run_atexit_finalizers;
  }
  return *static_cast<FinalizerRegistry*>(state.finalizers);
}

}  // namespace

}  // namespace detail

Finalizer finalize(const Ref<Object>& object, std::function<void()> fn) {
  if (!object) throw TypeError("cannot create weak reference to 'NoneType' object");
  Heap& heap = object->heap();
  detail::FinalizerRegistry& registry = detail::registry(heap);
  auto record = std::make_shared<detail::FinalizerRecord>();
  if (registry.shutdown) return Finalizer(std::move(record));  // born dead
  record->heap = &heap;
  record->fn = std::move(fn);
  detail::FinalizerRecord* raw = record.get();
  // Armed only while `raw` is registered (unregister disarms it): never dangles.
  record->weakref = detail::make_weakref(
      object.get(), [raw](const Ref<WeakRef>&) { (void)detail::call(*raw, /*report=*/true); });
  raw->older = registry.newest;
  (registry.newest != nullptr ? registry.newest->newer : registry.oldest) = raw;
  registry.newest = raw;
  raw->self = record;
  return Finalizer(std::move(record));
}

bool Finalizer::alive() const noexcept { return record_ && record_->alive(); }

bool Finalizer::atexit() const noexcept { return alive() && record_->atexit; }

void Finalizer::set_atexit(bool value) noexcept {
  if (alive()) record_->atexit = value;
}

bool Finalizer::operator()() {
  if (!record_) return false;
  std::shared_ptr<detail::FinalizerRecord> keep = record_;  // `this` may go with the call
  return detail::call(*keep, /*report=*/false);
}

std::optional<FinalizerInfo> Finalizer::peek() const {
  if (!alive()) return std::nullopt;
  Ref<Object> object = record_->weakref->lock();
  if (!object) return std::nullopt;
  return FinalizerInfo{std::move(object), record_->fn};
}

std::optional<FinalizerInfo> Finalizer::detach() {
  if (!alive()) return std::nullopt;
  Ref<Object> object = record_->weakref->lock();
  if (!object) return std::nullopt;
  auto [keep, fn] = detail::unregister(*record_);
  return FinalizerInfo{std::move(object), std::move(fn)};
}

}  // namespace ouro
