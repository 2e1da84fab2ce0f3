#!/usr/bin/env bash
# Runs the foundation benchmarks (bench/heap_bench.cpp) and prints one markdown table of
# ratios: ouro against each peer, both measured in the same process of the same run
# (DESIGN.md "Measuring": absolute times on shared machines are noise, ratios are not).
#
#   bench/run_benchmarks.sh BUILD_DIR [extra benchmark flags...]
#   bench/run_benchmarks.sh build/release
#
# Each binary runs with --benchmark_repetitions=5 --benchmark_report_aggregates_only=true and
# the medians are compared; repetitions of the benchmarks in one binary are interleaved in
# random order, so that a neighbour's load drifting during the run hits both sides alike
# instead of one. Times and rates are CPU time (Google Benchmark's default for
# items_per_second), which a busy neighbour on the machine disturbs less than wall time.
# heap_bench is ouro vs glibc malloc (+ make<T> vs make_shared, memory); heap_bench_mimalloc
# and heap_bench_jemalloc are ouro vs that peer (one binary per peer: linking a peer replaces
# the process's malloc; see bench/CMakeLists.txt). A missing peer binary is reported, not
# fatal. Console output of the runs goes to stderr; the table goes to stdout.
# Then, if gc_bench was built, bench/gc_vs_cpython.py prints the collector's table against
# this machine's python3 (docs/benchmarks.md, "Collector").
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 BUILD_DIR [benchmark flags...]" >&2
  exit 2
fi
build_dir=$1
shift
bench_dir=$build_dir/bench
if [[ ! -x $bench_dir/heap_bench ]]; then
  echo "$0: $bench_dir/heap_bench not found: build the bench targets first" >&2
  exit 1
fi

out_dir=$(mktemp -d "${TMPDIR:-/tmp}/ouro-bench.XXXXXX")
trap 'rm -rf "$out_dir"' EXIT

for binary in heap_bench heap_bench_mimalloc heap_bench_jemalloc; do
  if [[ ! -x $bench_dir/$binary ]]; then
    echo "$0: $binary not built (peer library missing?): its rows are left out" >&2
    continue
  fi
  echo "== $binary" >&2
  "$bench_dir/$binary" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    --benchmark_enable_random_interleaving=true \
    --benchmark_out="$out_dir/$binary.json" --benchmark_out_format=json "$@" >&2
done

python3 - "$out_dir" "$*" <<'PY'
import json, os, re, sys

out_dir, extra = sys.argv[1], sys.argv[2]

def load(binary):
    """name -> run (median aggregate, or the single run of a repeats:1 benchmark)."""
    path = os.path.join(out_dir, binary + ".json")
    if not os.path.exists(path):
        return None
    runs = {}
    for b in json.load(open(path))["benchmarks"]:
        name = re.sub(r"/(iterations|repeats):\d+", "", b["run_name"])
        if b.get("error_occurred"):
            continue
        if b["run_type"] == "aggregate" and b.get("aggregate_name") == "median":
            runs[name] = b
        elif b["run_type"] == "iteration" and name not in runs:
            runs[name] = b
    return runs

rows = []

def row(measure, ours, theirs, ratio, goal, met):
    rows.append((measure, ours, theirs, ratio, goal, met))

def churn(runs, peer, goal_text, goal_ok):
    o, p = runs.get("churn/ouro"), runs.get(f"churn/{peer}")
    if not (o and p):
        return
    r = o["items_per_second"] / p["items_per_second"]
    row(f"churn: ouro / {peer} throughput", f"{o['items_per_second']/1e6:.2f} M/s",
        f"{p['items_per_second']/1e6:.2f} M/s", f"{r:.2f}", goal_text,
        "" if goal_ok is None else ("yes" if goal_ok(r) else "**no**"))

def memory(runs, peer, goal):
    for phase in ("fill", "churn"):
        o, p = runs.get(f"memory_{phase}/ouro"), runs.get(f"memory_{phase}/{peer}")
        if not (o and p):
            continue
        a, b = o["reserved_per_requested"], p["reserved_per_requested"]
        r = a / b
        row(f"memory after {phase}: ouro / {peer} (reserved per requested byte)",
            f"{a:.3f}", f"{b:.3f}", f"{r:.3f}",
            f"≤ {goal}" if goal else "(info)",
            ("yes" if r <= goal else "**no**") if goal else "")

glibc = load("heap_bench")
mim = load("heap_bench_mimalloc")
je = load("heap_bench_jemalloc")

if glibc:
    churn(glibc, "glibc", "≥ 2.00", lambda r: r >= 2.0)
if mim:
    churn(mim, "mimalloc", "≥ 0.85", lambda r: r >= 0.85)
if je:
    churn(je, "jemalloc", "(info)", None)
if glibc:
    o, s = glibc.get("refs/ouro_make"), glibc.get("refs/std_make_shared")
    if o and s:
        r = s["cpu_time"] / o["cpu_time"]
        row("make + 4 copies + drop: make_shared time / ouro time",
            f"{o['cpu_time']:.1f} ns", f"{s['cpu_time']:.1f} ns", f"{r:.2f}", "≥ 3.00",
            "yes" if r >= 3.0 else "**no**")
    memory(glibc, "glibc", 1.15)
if mim:
    memory(mim, "mimalloc", None)
if je:
    memory(je, "jemalloc", None)

print()
print("| measure | ouro | peer | ratio | goal | met |")
print("|---|---:|---:|---:|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
print()
print("Medians of 5 repetitions, CPU time; each ratio compares two benchmarks of one process "
      "in this run. Memory rows are single deterministic runs." + (f" Extra flags: `{extra}`." if extra else ""))
PY

if [[ -x $bench_dir/gc_bench ]]; then
  echo "== gc_bench vs $(python3 --version)" >&2
  python3 "$(dirname "$0")/gc_vs_cpython.py" "$bench_dir/gc_bench"
else
  echo "$0: $bench_dir/gc_bench not built: the collector's table is left out" >&2
fi
