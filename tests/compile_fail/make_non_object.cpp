// expect: T must derive from ouro::Object
#include "common.h"
struct Plain {};
void f(ouro::Heap& heap) { (void)ouro::make_in<Plain>(heap, 0); }
