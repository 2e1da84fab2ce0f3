// expect: use of deleted function.*operator new
#include "common.h"
Good* f() { return new Good; }
