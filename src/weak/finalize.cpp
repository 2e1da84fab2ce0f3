// ouro::finalize (Python's weakref.finalize) and the per-heap registry of alive finalizers.
//
// The registry (WeakState::finalizers) is a list of the alive finalizers, oldest first. It
// owns them (FinalizerRecord::self) until they are called or detached, so a finalizer
// whose handles are gone still runs. Each record holds one weak reference to its object,
// whose callback calls the record; a record that leaves the registry disarms that callback
// first, so an armed callback always finds its record alive. At heap shutdown
// (the registry is the core's ShutdownParticipant, called first by ~Heap), the atexit
// finalizers run newest first, and the others let go of their objects and functions
// without running, as CPython's finalize._exitfunc followed by finalize._shutdown.
//
// Records are managed objects in the heap (so they count against its limit); the registry
// holds one reference to each alive record, the Finalizer handles one each.
#include "ouro/weak/finalize.h"

#include <new>

#include "core/weak_table.h"

namespace ouro {

namespace detail {

class FinalizerRecord final : public Object {
 public:
  static constexpr std::string_view kTypeName = "weakref.finalize";

  Ref<WeakRef> weakref;      // to the object, with the callback calling this record
  std::function<void()> fn;  // empty once dead
  bool atexit = true;
  bool registered = false;           // alive: the registry holds a reference to it
  FinalizerRecord* older = nullptr;  // registry list links; valid while registered
  FinalizerRecord* newer = nullptr;

  bool alive() const noexcept { return registered; }
  void traverse(Visitor& visit) override { visit(weakref); }

 protected:
  ~FinalizerRecord() override = default;
};

namespace {

struct FinalizerRegistry final : ShutdownParticipant {
  FinalizerRecord* oldest = nullptr;
  FinalizerRecord* newest = nullptr;
  bool shutdown = false;  // the shutdown run is over: nothing is called any more

  void on_heap_shutdown(Heap& heap) noexcept override;
};

FinalizerRegistry& registry_of(Heap& heap) noexcept {
  return *static_cast<FinalizerRegistry*>(weak_state_if_any(heap)->finalizers);
}

// Takes an alive record out of the registry: disarmed, dead. Returns the registry's
// reference and the function; the caller lets them go (or calls the function).
std::pair<Ref<FinalizerRecord>, std::function<void()>> unregister(
    FinalizerRecord& record) noexcept {
  FinalizerRegistry& registry = registry_of(record.heap());
  (record.older != nullptr ? record.older->newer : registry.oldest) = record.newer;
  (record.newer != nullptr ? record.newer->older : registry.newest) = record.older;
  record.older = record.newer = nullptr;
  clear_callback(*record.weakref);
  record.weakref.reset();  // its object may be alive: nothing runs
  record.registered = false;
  return {Ref<FinalizerRecord>::adopt(&record), std::move(record.fn)};
}

// Python's finalize.__call__: unregister, then call unless the shutdown run is over.
bool call(FinalizerRecord& record, bool report) {
  if (!record.alive()) return false;
  Heap& heap = record.heap();
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

// Shutdown step 1 (Python's finalize._exitfunc). The newest atexit finalizer is
// looked for afresh after each call, since a function may create finalizers (they run
// too, newest first) or end others. The heap's automatic collection is already off.
void FinalizerRegistry::on_heap_shutdown(Heap&) noexcept {
  FinalizerRegistry& registry = *this;
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
  }
  return *static_cast<FinalizerRegistry*>(state.finalizers);
}

}  // namespace

}  // namespace detail

Finalizer finalize(const Ref<Object>& object, std::function<void()> fn) {
  if (!object) throw TypeError("cannot create weak reference to 'NoneType' object");
  Heap& heap = object->heap();
  detail::FinalizerRegistry& registry = detail::registry(heap);
  Ref<detail::FinalizerRecord> record = heap.make<detail::FinalizerRecord>();
  if (registry.shutdown) return Finalizer(std::move(record));  // born dead
  record->fn = std::move(fn);
  detail::FinalizerRecord* raw = record.get();
  // Armed only while `raw` is registered (unregister disarms it): never dangles.
  record->weakref = detail::make_weakref(
      object.get(), [raw](const Ref<WeakRef>&) { (void)detail::call(*raw, /*report=*/true); });
  raw->older = registry.newest;
  (registry.newest != nullptr ? registry.newest->newer : registry.oldest) = raw;
  registry.newest = raw;
  raw->registered = true;
  (void)Ref<detail::FinalizerRecord>(record).release();  // the registry's reference
  return Finalizer(std::move(record));
}

detail::FinalizerRecord* Finalizer::record() const noexcept {
  return static_cast<detail::FinalizerRecord*>(record_.get());
}

bool Finalizer::alive() const noexcept { return record_ && record()->alive(); }

bool Finalizer::atexit() const noexcept { return alive() && record()->atexit; }

void Finalizer::set_atexit(bool value) noexcept {
  if (alive()) record()->atexit = value;
}

bool Finalizer::operator()() {
  if (!record_) return false;
  detail::FinalizerRecord* record = this->record();
  Ref<Object> keep = record_;  // `this` may go with the call
  return detail::call(*record, /*report=*/false);
}

std::optional<FinalizerInfo> Finalizer::peek() const {
  if (!alive()) return std::nullopt;
  Ref<Object> object = record()->weakref->lock();
  if (!object) return std::nullopt;
  return FinalizerInfo{std::move(object), record()->fn};
}

std::optional<FinalizerInfo> Finalizer::detach() {
  if (!alive()) return std::nullopt;
  Ref<Object> object = record()->weakref->lock();
  if (!object) return std::nullopt;
  auto [keep, fn] = detail::unregister(*record());
  return FinalizerInfo{std::move(object), std::move(fn)};
}

}  // namespace ouro
