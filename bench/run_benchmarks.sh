#!/usr/bin/env bash
# `make bench`'s runner: every comparison of GitHub issue 13 (heap churn against glibc and
# mimalloc, make<T> against make_shared, weak references against weak_ptr, memory against
# glibc, the collector, values and pickle against CPython 3.11) and issue 12's big files
# (`ouro pickle dis` against pickletools), each run three times as a whole, printed as one
# markdown table of median ratios with the goal and met/not met per row. bench/ratios.py does the work and says how each ratio is made; the table goes to
# stdout, progress and the load average of each run to stderr.
#
#   bench/run_benchmarks.sh BUILD_DIR [--runs N] [--json FILE]
#   bench/run_benchmarks.sh build/release
#
# bench/gc_vs_cpython.py, bench/pickle_vs_cpython.py and bench/value_vs_cpython.py still
# print their fuller single-run tables (pauses, header sizes, byte-identical pickles).
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 BUILD_DIR [--runs N] [--json FILE]" >&2
  exit 2
fi
build_dir=$1
shift
for binary in heap_bench gc_bench weakref_bench value_bench pickle_bench; do
  if [[ ! -x $build_dir/bench/$binary ]]; then
    echo "$0: $build_dir/bench/$binary not found: build the benchmarks first" \
      "(cmake --build --preset release --target benchmarks)" >&2
    exit 1
  fi
done
if [[ ! -x $build_dir/tools/ouro/ouro ]]; then
  echo "$0: $build_dir/tools/ouro/ouro not found: build the benchmarks first (OURO_BUILD_TOOLS=ON)" >&2
  exit 1
fi
exec python3 "$(dirname "$0")/ratios.py" "$build_dir" "$@"
