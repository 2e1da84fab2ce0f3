// expect: declare T's destructor protected or private
#include "common.h"
ouro::Ref<PublicDestructor> f(ouro::Heap& heap) { return heap.make<PublicDestructor>(); }
