# Snippets that must NOT compile ({fmt}'s compile-fail idea). Each file's first line is
# `// expect: <regex>`: the test compiles the file with the project's flags and passes only
# if the compiler's output matches (so an unrelated error does not count as success).
# must_compile.cpp is the control: it has to compile, proving the harness itself works.
file(GLOB OURO_COMPILE_FAIL_SNIPPETS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.cpp)
get_target_property(OURO_FMT_INCLUDES fmt::fmt INTERFACE_INCLUDE_DIRECTORIES)
foreach(snippet ${OURO_COMPILE_FAIL_SNIPPETS})
  get_filename_component(name ${snippet} NAME_WE)
  set(command ${CMAKE_CXX_COMPILER} -std=c++20 -fsyntax-only -I${PROJECT_SOURCE_DIR}/include
              ${snippet})
  add_test(NAME compile_fail.${name} COMMAND ${command})
  set_tests_properties(compile_fail.${name} PROPERTIES LABELS compile_fail)
  if(name STREQUAL "must_compile")
    continue()
  endif()
  file(STRINGS ${snippet} first_line LIMIT_COUNT 1)
  string(REGEX REPLACE "^// expect: " "" expected "${first_line}")
  set_tests_properties(compile_fail.${name} PROPERTIES PASS_REGULAR_EXPRESSION "${expected}")
endforeach()
