# The documentation's C++ blocks compile, link and run (tools/check_doc_snippets.py says how
# blocks are marked). `docs.snippets` checks README.md and docs/*.md against the library just
# built; `docs.snippets_checker` proves the checker fails on a broken block (so a checker
# that silently checks nothing cannot pass).
if(NOT Python3_EXECUTABLE)
  message(WARNING "python3 not found: the documentation snippets are not checked")
  return()
endif()
file(GLOB OURO_DOC_FILES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
set(OURO_SNIPPET_COMPILER "${CMAKE_CXX_COMPILER}")
if(CMAKE_CXX_COMPILER_LAUNCHER)
  set(OURO_SNIPPET_COMPILER "${CMAKE_CXX_COMPILER_LAUNCHER} ${CMAKE_CXX_COMPILER}")
endif()
set(OURO_SNIPPET_SANITIZE "")
if(OURO_SANITIZE)
  set(OURO_SNIPPET_SANITIZE "-fsanitize=address,undefined")
endif()
# The libraries in link order (static: users before what they use).
set(OURO_SNIPPET_LIBS "$<TARGET_FILE:ouro>")
if(TARGET ouro_alloc)
  string(APPEND OURO_SNIPPET_LIBS " $<TARGET_FILE:ouro_alloc>")
endif()
set(OURO_SNIPPET_ARGS
  --compiler "${OURO_SNIPPET_COMPILER}"
  --cxxflags "-std=c++20 -Wall -Wextra -I${PROJECT_SOURCE_DIR}/include -DOURO_DEBUG=${OURO_DEBUG} -I$<JOIN:$<TARGET_PROPERTY:fmt::fmt,INTERFACE_INCLUDE_DIRECTORIES>, -I> ${OURO_SNIPPET_SANITIZE}"
  --ldflags "${OURO_SNIPPET_LIBS} $<TARGET_LINKER_FILE:fmt::fmt> ${OURO_GMP_LIBRARY} ${OURO_DW_LIBRARY} ${OURO_ELF_LIBRARY} -pthread ${OURO_SNIPPET_SANITIZE}")
add_test(NAME docs.snippets
         COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tools/check_doc_snippets.py
                 ${OURO_SNIPPET_ARGS} ${PROJECT_SOURCE_DIR}/README.md ${OURO_DOC_FILES})
set_tests_properties(docs.snippets PROPERTIES LABELS docs TIMEOUT 900)
add_test(NAME docs.snippets_checker
         COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tools/check_doc_snippets.py
                 ${OURO_SNIPPET_ARGS} ${CMAKE_CURRENT_LIST_DIR}/fixtures/checker.md)
# The fixture holds one good program, one good fragment, one skipped block and two broken
# blocks (one that does not compile, one that fails when run): exactly those two must fail.
set_tests_properties(docs.snippets_checker PROPERTIES LABELS docs TIMEOUT 300
  PASS_REGULAR_EXPRESSION "2 of 4 C\\+\\+ blocks pass \\(1 skipped by marker\\)"
  FAIL_REGULAR_EXPRESSION "checker.md:(7|18): ")
