# {fmt} for a bare-metal build: there is no cross-compiled libfmt, so the host's headers
# (Debian's libfmt-dev) are used in header-only mode. Only the fmt/ folder is exposed to the
# cross compiler, through a link in the build tree, so that no host C library header leaks
# in. The static thousands separator keeps <locale> out of the image; ouro formats no float
# or long double (only double), so their writers are compiled out (about 3 KB of flash).
find_path(OURO_HOST_FMT_INCLUDE_DIR fmt/format.h PATHS /usr/include /usr/local/include
          NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH)
if(NOT OURO_HOST_FMT_INCLUDE_DIR)
  message(FATAL_ERROR "OURO_BARE_METAL needs {fmt}'s headers (Debian: libfmt-dev)")
endif()
set(OURO_FMT_LINK_DIR ${CMAKE_BINARY_DIR}/fmt-headers)
file(MAKE_DIRECTORY ${OURO_FMT_LINK_DIR})
file(CREATE_LINK ${OURO_HOST_FMT_INCLUDE_DIR}/fmt ${OURO_FMT_LINK_DIR}/fmt SYMBOLIC)
add_library(ouro_fmt_header_only INTERFACE)
target_include_directories(ouro_fmt_header_only SYSTEM INTERFACE ${OURO_FMT_LINK_DIR})
target_compile_definitions(ouro_fmt_header_only INTERFACE FMT_HEADER_ONLY=1
                           "FMT_STATIC_THOUSANDS_SEPARATOR=','" FMT_USE_FLOAT=0
                           FMT_USE_LONG_DOUBLE=0)
add_library(fmt::fmt ALIAS ouro_fmt_header_only)
