# Proves packaging: installs this build into a temporary prefix, then configures, builds
# and runs a tiny project that uses find_package(ouro) and links ouro::ouro.
set(OURO_CONSUMER_FLAGS "")
if(OURO_SANITIZE)
  set(OURO_CONSUMER_FLAGS "-fsanitize=address,undefined")
endif()
add_test(NAME consumer.find_package
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/run.sh ${CMAKE_BINARY_DIR} ${CMAKE_CURRENT_LIST_DIR}/project
                 ${CMAKE_CURRENT_BINARY_DIR}/consumer-work ${CMAKE_CXX_COMPILER} "${OURO_CONSUMER_FLAGS}")
set_tests_properties(consumer.find_package PROPERTIES LABELS consumer TIMEOUT 300)
