// A well-formed managed type for the compile-fail snippets.
#pragma once
#include "ouro/core/ref.h"

class Good : public ouro::Object {
 public:
  int value = 0;

 protected:
  ~Good() override = default;
};

class PublicDestructor : public ouro::Object {
 public:
  ~PublicDestructor() override = default;
};
