// Everything ouro offers, layer by layer (docs/architecture.md): include this one header, or
// the layer headers below for faster builds.
#pragma once

#include "ouro/config.h"  // IWYU pragma: export
#include "ouro/errors.h"  // IWYU pragma: export

// allocator
#include "ouro/alloc/allocator.h"      // IWYU pragma: export
#include "ouro/alloc/std_allocator.h"  // IWYU pragma: export

// object core: heap, objects, references, the collector, weak references
#include "ouro/core/gc.h"       // IWYU pragma: export
#include "ouro/core/heap.h"     // IWYU pragma: export
#include "ouro/core/object.h"   // IWYU pragma: export
#include "ouro/core/ref.h"      // IWYU pragma: export
#include "ouro/core/runtime.h"  // IWYU pragma: export
#include "ouro/core/weakref.h"  // IWYU pragma: export

// weak containers and finalize
#include "ouro/weak/containers.h"  // IWYU pragma: export
#include "ouro/weak/finalize.h"    // IWYU pragma: export

// values
#include "ouro/value/value.h"  // IWYU pragma: export

// pickle
#include "ouro/pickle/pickle.h"       // IWYU pragma: export
#include "ouro/pickle/pickletools.h"  // IWYU pragma: export
#include "ouro/pickle/scan.h"         // IWYU pragma: export
