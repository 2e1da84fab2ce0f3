// expect: (protected|is_destructible|static assertion failed)
#include <memory>

#include "common.h"
std::shared_ptr<Good> f() { return std::make_shared<Good>(); }
