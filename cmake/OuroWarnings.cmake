# A curated warning list (Lua's makefile, fmt's FMT_WERROR): on for our own targets only.
# Not on the list: -Wnull-dereference, whose GCC 12 false positives inside libstdc++
# (std::istreambuf_iterator at -O2) would fail -Werror builds on code that is correct.
add_library(ouro_warnings INTERFACE)
target_compile_options(ouro_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wimplicit-fallthrough -Wformat=2
  $<$<BOOL:${OURO_WERROR}>:-Werror>)

add_library(ouro_sanitize INTERFACE)
if(OURO_SANITIZE)
  # -Wno-maybe-uninitialized: at -O1 with the sanitizers GCC 12 warns inside libstdc++
  # (std::function moved within <regex>'s automaton), code that is correct.
  target_compile_options(ouro_sanitize INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
    -Wno-maybe-uninitialized)
  target_link_options(ouro_sanitize INTERFACE -fsanitize=address,undefined)
endif()
