#!/usr/bin/env python3
"""The cycle collector in ouro vs CPython 3.11, same shapes, same run (GitHub issue 3).

Runs bench/gc_bench (ouro's figures, one JSON line per measurement), then builds the same
shapes in this CPython and times them the same way, and prints one markdown table of ratios
(CPython time / ouro time: above 1 means ouro is faster).

The Python shape closest to gc_bench's Node (one Ref field, 48-byte block with its 32 bytes
of header) is `class Node: __slots__ = ('next',)`: 16 bytes of PyGC_Head, 16 of PyObject
and one 8-byte slot (40 requested, 48 from pymalloc), no instance dict. gc_bench's Bag (a
vector of Refs) stands for a list. The measurements, as bench/gc_bench.cpp describes them:

  cycles  500,000 two-object cycles built with gc.disable(), outside references dropped;
          gc.collect() timed alone (must return 1,000,000). Warm-up round, best of RUNS.
  live    a list of 1,000 lists of 999 Nodes (1,000,001 containers), no garbage;
          gc.collect() timed (must return 0). Warm-up collection, best of RUNS.
  pauses  10,000,000 Nodes allocated with automatic collection on (700, 10, 10), each into a
          1,000-slot sliding window, every 16th one in a cycle with a partner; every
          automatic collection is timed between its gc.callbacks "start" and "stop" calls.
          Warm-up round of 1/10 the size.
  header  bytes of header per container: PyGC_Head + PyObject (sys.getsizeof of an empty
          __slots__ instance) against ouro's GcLinks + Object.

    python3 bench/gc_vs_cpython.py [GC_BENCH] [RUNS] [PAUSE_CONTAINERS]
    python3 bench/gc_vs_cpython.py build/release/bench/gc_bench 5 10000000
"""
import gc
import json
import math
import statistics
import subprocess
import sys
import time
import tracemalloc

CYCLE_PAIRS = 500_000
BAGS = 1_000
NODES_PER_BAG = 999
WINDOW = 1_000
CYCLE_EVERY = 16


class Node:
    __slots__ = ('next',)


class Empty:
    __slots__ = ()


def collect_cycles():
    gc.collect()  # nothing else left for the timed collection to find
    gc.disable()
    for _ in range(CYCLE_PAIRS):
        a = Node()
        b = Node()
        a.next = b
        b.next = a
    del a, b
    start = time.perf_counter()
    found = gc.collect()
    elapsed = time.perf_counter() - start
    gc.enable()
    if found != 2 * CYCLE_PAIRS:
        sys.exit(f'cycles: gc.collect() found {found}, expected {2 * CYCLE_PAIRS}')
    return elapsed


def measure_cycles(runs):
    collect_cycles()  # warm-up
    return min(collect_cycles() for _ in range(runs))


def measure_live(runs):
    gc.disable()
    root = [[Node() for _ in range(NODES_PER_BAG)] for _ in range(BAGS)]
    gc.enable()
    gc.collect()  # warm-up: everything now in the oldest generation
    best = float('inf')
    for _ in range(runs):
        start = time.perf_counter()
        found = gc.collect()
        best = min(best, time.perf_counter() - start)
        if found != 0:
            sys.exit(f'live: gc.collect() found {found}, expected 0')
    del root
    return best


def run_pauses(containers):
    gc.collect()
    seconds = ([], [], [])
    started = 0.0

    def callback(phase, info):
        nonlocal started
        if phase == 'start':
            started = time.perf_counter()
        else:
            seconds[info['generation']].append(time.perf_counter() - started)

    gc.set_threshold(700, 10, 10)
    gc.callbacks.append(callback)
    window = [None] * WINDOW
    made = 0
    i = 0
    while made < containers:
        node = Node()
        made += 1
        if i % CYCLE_EVERY == 0:
            node.next = Node()
            node.next.next = node
            made += 1
        window[i % WINDOW] = node
        i += 1
    gc.callbacks.remove(callback)
    del window, node
    return seconds


def percentile(values, p):
    """Nearest rank, as gc_bench computes it."""
    if not values:
        return 0.0
    values = sorted(values)
    return values[max(math.ceil(p / 100 * len(values)), 1) - 1]


def empty_full_collection(runs):
    """What a full collection costs this interpreter with no data of ours: its own objects
    (modules, functions, classes) are in the oldest generation, and a full collection also
    empties the free lists. Part of every CPython figure above; ouro's heap has none."""
    gc.collect()
    best = float('inf')
    for _ in range(runs):
        start = time.perf_counter()
        gc.collect()
        best = min(best, time.perf_counter() - start)
    return best, len(gc.get_objects())


def measure_pauses(containers):
    run_pauses(containers // 10)  # warm-up
    seconds = run_pauses(containers)
    young = seconds[0] + seconds[1]
    return {'count': [len(s) for s in seconds],
            'young_median': statistics.median(young) if young else 0.0,
            'young_p99': percentile(young, 99),
            'young_max': max(young, default=0.0),
            'full_median': statistics.median(seconds[2]) if seconds[2] else 0.0,
            'full_max': max(seconds[2], default=0.0)}


def node_bytes():
    """Bytes pymalloc hands out per Node (tracemalloc counts the requested 40)."""
    tracemalloc.start()
    nodes = [Node() for _ in range(100_000)]
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (size - sys.getsizeof(nodes)) / len(nodes)


def ms(seconds):
    return f'{seconds * 1e3:.1f} ms'


def us(seconds):
    return f'{seconds * 1e6:.0f} µs'


def main():
    if sys.version_info[:2] != (3, 11):
        print(f'gc_vs_cpython.py: this is CPython {sys.version.split()[0]}; the goals of issue 3 '
              'are stated against 3.11', file=sys.stderr)
    binary = sys.argv[1] if len(sys.argv) > 1 else 'build/release/bench/gc_bench'
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    containers = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000_000
    out = subprocess.run([binary, '--runs', str(runs), '--pause-containers', str(containers)],
                         check=True, capture_output=True, text=True).stdout
    ouro = {m['measure']: m for m in map(json.loads, out.splitlines())}

    cycles = measure_cycles(runs)
    live = measure_live(runs)
    pauses = measure_pauses(containers)
    empty, interpreter_objects = empty_full_collection(runs)
    header = sys.getsizeof(Empty())
    node = node_bytes()

    rows = []

    def speedup(measure, py, o, fmt, goal=None):
        ratio = py / o
        met = '' if goal is None else ('yes' if ratio >= goal else '**no**')
        rows.append((measure, fmt(py), fmt(o), f'{ratio:.2f}',
                     f'≥ {goal:.2f}' if goal else '(info)', met))

    speedup('collect 1,000,000 objects of cyclic garbage', cycles, ouro['cycles']['best'], ms, 3.0)
    speedup('full collection, 1,000,001 live containers, no garbage', live,
            ouro['live']['best'], ms, 3.0)
    p = ouro['pauses']
    speedup('automatic young collection (gen 0–1) pause, median', pauses['young_median'],
            p['young_median'], us)
    speedup('automatic young collection (gen 0–1) pause, 99th percentile',
            pauses['young_p99'], p['young_p99'], us)
    speedup('automatic young collection (gen 0–1) pause, max', pauses['young_max'],
            p['young_max'], us)
    speedup('automatic full collection (gen 2) pause, max', pauses['full_max'], p['full_max'], us)
    rows.append(('automatic collections, gen 0 / 1 / 2',
                 ' / '.join(map(str, pauses['count'])), ' / '.join(map(str, p['count'])),
                 '', '(info)', ''))
    h = ouro['header']
    rows.append(('header bytes per container (CPython / ouro)', str(header), str(h['header']),
                 f"{header / h['header']:.2f}", '(info)', ''))
    rows.append(('bytes per Node, header included', f'{node:.0f} requested, 48 in pymalloc',
                 str(h['node_getsizeof']), f"{48 / h['node_getsizeof']:.2f}", '(info)', ''))

    print(f'| measure (CPython {sys.version.split()[0]} vs ouro) | CPython | ouro '
          '| ratio CPython / ouro | goal | met |')
    print('|---|---:|---:|---:|---|---|')
    for r in rows:
        print('| ' + ' | '.join(r) + ' |')
    print()
    print(f'Times: best of {runs} runs after a warm-up (pauses: one run of {containers:,} '
          'containers after a warm-up of a tenth); CPython measured in this process, ouro by '
          f'`{binary}` in the same run. CPython\'s fixed cost: an empty full gc.collect() takes '
          f'{ms(empty)} here ({interpreter_objects:,} interpreter objects tracked).')


if __name__ == '__main__':
    main()
