// expect: conversion from .*Ref<ouro::Object>.* to non-scalar type .*Ref<Good>
#include "common.h"
ouro::Ref<Good> f(ouro::Ref<ouro::Object> o) {
  ouro::Ref<Good> g = o;
  return g;
}
