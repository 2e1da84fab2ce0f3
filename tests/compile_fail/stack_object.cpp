// expect: Good::~Good\(\).*protected
#include "common.h"
int f() {
  Good g;
  return g.value;
}
