#!/usr/bin/env python3
"""Values in ouro vs CPython 3.11, same data, same run (GitHub issue 5).

Builds the issue's two structures in this CPython (bytes from tracemalloc, build time with
time.perf_counter, best of N) and runs `value_bench --report N` for ouro's figures (bytes in
live heap blocks, best build time of N), then prints one table of ratios.

    python3 bench/value_vs_cpython.py build/release/bench/value/value_bench [runs]
"""
import gc
import subprocess
import sys
import time
import tracemalloc

N_INTS = 1_000_000
N_RECORDS = 100_000


def build_ints():
    return list(range(N_INTS))


def build_records():
    return [{'id': i, 'name': 'user%d' % i, 'score': i * 0.5, 'tags': ['a', 'b']}
            for i in range(N_RECORDS)]


def measure(build, runs):
    """(tracemalloc bytes, best wall-clock seconds): what bench/ratios.py compares."""
    size, best, _ = measure_with_cpu(build, runs)
    return size, best


def measure_with_cpu(build, runs):
    """(tracemalloc bytes, best wall-clock seconds, best CPU seconds) of `runs` builds."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    data = build()
    size = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del data
    best = best_cpu = float('inf')
    for _ in range(runs):
        gc.collect()
        cpu_start = time.process_time()
        start = time.perf_counter()
        data = build()
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - cpu_start)
        del data  # freeing is outside the timing, as in value_bench
    return size, best, best_cpu


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    out = subprocess.run([sys.argv[1], '--report', str(runs)], check=True,
                         capture_output=True, text=True).stdout
    ouro = {k: float(v) for k, v in (line.split() for line in out.splitlines())}
    rows = []
    for name, build in (('ints', build_ints), ('records', build_records)):
        size, seconds, cpu = measure_with_cpu(build, runs)
        rows.append((name, size, ouro[name + '_bytes'], seconds, ouro[name + '_seconds'], cpu,
                     ouro[name + '_cpu_seconds']))
    print(f'CPython {sys.version.split()[0]}, best of {runs} builds (wall clock; CPU time, which '
          'a loaded machine disturbs less, in the last columns)')
    print(f"{'workload':<10}{'CPython bytes':>15}{'ouro bytes':>13}{'ratio':>8}"
          f"{'CPython ms':>12}{'ouro ms':>10}{'speedup':>9}{'CPU: CPython':>14}{'ouro':>7}"
          f"{'speedup':>9}")
    for name, py_bytes, o_bytes, py_s, o_s, py_cpu, o_cpu in rows:
        print(f'{name:<10}{py_bytes:>15,}{int(o_bytes):>13,}{o_bytes / py_bytes:>8.2f}'
              f'{py_s * 1e3:>12.1f}{o_s * 1e3:>10.1f}{py_s / o_s:>8.1f}x'
              f'{py_cpu * 1e3:>14.1f}{o_cpu * 1e3:>7.1f}{py_cpu / max(o_cpu, 1e-6):>8.1f}x')
    print('goals: bytes ratio <= 0.50, speedup >= 5x')


if __name__ == '__main__':
    main()
