// The control: the right way compiles.
#include "common.h"
ouro::Ref<Good> f(ouro::Heap& heap) { return heap.make<Good>(); }
