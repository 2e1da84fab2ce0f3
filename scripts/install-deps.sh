#!/usr/bin/env bash
# Installs the Debian packages that building, testing, benchmarking and fuzzing ouro need.
# Does nothing when they are all present; works as root on a fresh Debian 12 (or with sudo).
set -euo pipefail

packages=(
  g++ cmake ninja-build make pkg-config       # toolchain (CMake >= 3.25 on Debian 12)
  libfmt-dev libcli11-dev nlohmann-json3-dev  # formatting, CLI, JSON
  libgmp-dev                                  # big integers (GMP's mpn layer)
  libgtest-dev libgmock-dev libbenchmark-dev  # tests and benchmarks
  python3                                     # the test oracle (pickle, gc, weakref, repr)
  libmimalloc-dev libjemalloc-dev libgc-dev   # peers measured in the benchmarks
  clang libclang-rt-14-dev                    # libFuzzer targets (fuzz/)
  chromium                                    # opens the trace report in tests (headless)
)

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
