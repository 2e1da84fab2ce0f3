// ouro::Heap, the composition of the object core: an allocator, the core state, the
// pressure hook that ties them (I7), the owner-thread check (I1), the shutdown sequence in
// its documented order, and the object-world checker.
#include "ouro/core/heap.h"

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "core/internal.h"
#include "ouro/core/ref.h"

namespace ouro {

OURO_THREAD_LOCAL Heap* Heap::current_ = nullptr;

namespace detail {

void throw_no_current_heap(const char* call) {
  throw std::logic_error(std::string(call) +
                         ": no current heap on this thread; create an ouro::HeapScope "
                         "(or pass the heap explicitly)");
}

namespace {

// Stress mode for whole test suites (make stress-test): every heap created while
// OURO_GC_STRESS is set collects at every container allocation. The allocator never
// reads the environment; only the object core does, once per heap.
bool gc_stress_requested() noexcept {
#if OURO_HAVE_ENVIRONMENT
  const char* value = std::getenv("OURO_GC_STRESS");
  return value != nullptr && *value != '\0' && std::strcmp(value, "0") != 0;
#else
  return false;
#endif
}

}  // namespace
}  // namespace detail

Heap::Heap(HeapOptions options)
    : allocator_(options), state_(allocator_), owner_(detail::this_thread_token()) {
  allocator_.set_owner(this);
  // Heap::of relies on it (folded away when it holds, which the layout of Heap ensures).
  if (static_cast<void*>(&allocator_) != static_cast<void*>(this)) {
    detail::fatal("ouro::Heap: the allocator must be the heap's first member (Heap::of)");
  }
  allocator_.set_pressure_hook(&Heap::relieve_pressure, this);
  state_.stress = detail::gc_stress_requested();
  if (detail::heap_lifecycle_hooks.created != nullptr) detail::heap_lifecycle_hooks.created(*this);
}

Heap::~Heap() {
  if (detail::heap_lifecycle_hooks.destroying != nullptr) {
    detail::heap_lifecycle_hooks.destroying(*this);
  }
  OURO_ASSERT_EXPENSIVE(verify());  // OURO_DEBUG=3: a consistent world before shutdown
  detail::shutdown_object_world(*this);
  // Step 7: objects still referenced from outside keep their memory (reported in step 5).
  if (state_.live_objects != 0) allocator_.abandon();
  if (current_ == this) current_ = nullptr;
}

// I7: without a hook of the user's, pressure means one full collection.
void Heap::relieve_pressure(void* context, std::size_t requested) {
  Heap& heap = *static_cast<Heap*>(context);
  if (heap.pressure_hook_) {
    heap.pressure_hook_(heap, requested);
  } else {
    detail::collect_on_pressure(heap);
  }
}

void Heap::report_wrong_thread() const noexcept {
  detail::fatal(
      "heap used from a thread that does not own it (I1: one heap, one thread; call "
      "heap.bind_to_current_thread() to hand it over)");
}

bool Heap::verify() const {
  allocator_.verify();
  return detail::verify_object_world(*this);
}

}  // namespace ouro
