#!/usr/bin/env bash
# Usage: run.sh BUILD_DIR PROJECT_DIR WORK_DIR CXX "CXXFLAGS"
# Installs BUILD_DIR into WORK_DIR/prefix and builds PROJECT_DIR against it with find_package.
set -euo pipefail
build_dir=$1 project=$2 work=$3 cxx=$4 flags=${5:-}
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build_dir" --prefix "$work/prefix" > "$work/install.log"
cmake -S "$project" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" \
      -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" \
      > "$work/configure.log"
cmake --build "$work/build" > "$work/build.log"
output=$("$work/build/consumer")
echo "$output"
[ "$output" = "consumer: collected 2, live 0" ]
