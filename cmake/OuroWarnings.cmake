# A curated warning list (Lua's makefile, fmt's FMT_WERROR): on for our own targets only.
add_library(ouro_warnings INTERFACE)
target_compile_options(ouro_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough -Wformat=2
  $<$<BOOL:${OURO_WERROR}>:-Werror>)

add_library(ouro_sanitize INTERFACE)
if(OURO_SANITIZE)
  target_compile_options(ouro_sanitize INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(ouro_sanitize INTERFACE -fsanitize=address,undefined)
endif()
