// expect: (protected|deleted)
#include "common.h"
void f(Good* g) { delete g; }
