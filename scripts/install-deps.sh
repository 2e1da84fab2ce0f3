#!/usr/bin/env bash
# Installs the Debian packages that building, testing, benchmarking and fuzzing ouro need.
# Does nothing when they are all present; works as root on a fresh Debian 12 (or with sudo).
#
#   scripts/install-deps.sh            the host build, tests, benchmarks and fuzzers
#   scripts/install-deps.sh embedded   the Cortex-M firmware (make embedded, embedded-test):
#                                      the ARM cross toolchain and QEMU, about 600 MB
set -euo pipefail

embedded_packages=(
  cmake ninja-build make libfmt-dev python3   # build; {fmt} headers are used header-only
  gcc-arm-none-eabi libnewlib-arm-none-eabi   # cross compiler and C library (12.2, newlib)
  libstdc++-arm-none-eabi-newlib              # C++ library with exceptions
  qemu-system-arm                             # runs the firmware (lm3s6965evb, mps2-an385)
)

host_packages=(
  g++ cmake ninja-build make pkg-config       # toolchain (CMake >= 3.25 on Debian 12)
  libfmt-dev libcli11-dev nlohmann-json3-dev  # formatting, CLI, JSON
  libgmp-dev                                  # big integers (GMP's mpn layer)
  libgtest-dev libgmock-dev libbenchmark-dev  # tests and benchmarks
  python3                                     # the test oracle (pickle, gc, weakref, repr)
  libmimalloc-dev libjemalloc-dev libgc-dev   # peers measured in the benchmarks
  clang libclang-rt-14-dev                    # libFuzzer targets (fuzz/)
  chromium                                    # opens the trace report in tests (headless)
  libdw-dev                                   # the tracer's native frames (elfutils' libdw)
)

case "${1:-host}" in
  host) packages=("${host_packages[@]}") ;;
  embedded) packages=("${embedded_packages[@]}") ;;
  *) echo "install-deps: unknown package set '$1' (host or embedded)" >&2; exit 2 ;;
esac

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
