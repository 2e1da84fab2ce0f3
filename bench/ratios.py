#!/usr/bin/env python3
"""Every comparison of GitHub issue 13 in one table: `make bench` ends here.

Runs each comparison RUNS times as a whole run (default 3: heap, weak references, collector,
values, pickle, one after the other, then again), and prints one markdown table: per row the
median ratio, the ratios of all runs, the goal and whether the median meets it. Each ratio
compares ouro with its peer measured in the same run, one right after the other (DESIGN.md
"Measuring": absolute times on a shared machine are noise, ratios much less so). The load
average (/proc/loadavg) is recorded before and after every run and printed under the table.

    python3 bench/ratios.py BUILD_DIR [--runs N] [--json FILE]
    python3 bench/ratios.py build/release --runs 3 --json /tmp/bench.json
    python3 bench/ratios.py --compare BEFORE.json AFTER.json   # two builds' --json files

Issue 12's big files: bench/pickle_big_files.py (ouro pickle dis against python3 -m
pickletools on a 50 MB numpy array and 100 MiB of bytes, whole commands; loads against memcpy),
once per whole run; its files are made once, in a temporary directory, by /usr/bin/python3.

Peers: heap_bench (ouro vs glibc malloc, make<T> vs std::make_shared, memory), and
heap_bench_mimalloc (ouro vs mimalloc: one binary per peer, see bench/CMakeLists.txt);
weakref_bench (Weak vs std::weak_ptr); CPython 3.11 for the collector, values and pickle, each
CPython side in a fresh interpreter (`python3 bench/ratios.py --cpython NAME`) so that one
measurement's leftovers (a million tracked objects) cannot slow the next one down. The CPython
side reuses the shapes and timers of bench/gc_vs_cpython.py, bench/value_vs_cpython.py and
bench/pickle_vs_cpython.py, which still print their own fuller tables.

A ratio row is "higher is better" (a speed-up or throughput ratio, goal ≥) or "lower is
better" (bytes or time against a floor, goal ≤); the goal column says which.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
INNER_RUNS = 3  # best of INNER_RUNS inside one whole run for the best-of style measurements

# (key, measure, goal operator, goal). Order is the table's order.
ROWS = [
    ('churn_glibc', 'small-object churn: ouro / glibc throughput', '>=', 2.0),
    ('churn_mimalloc', 'small-object churn: ouro / mimalloc throughput', '>=', 1.0),
    ('memory_churn_glibc', 'memory reserved per requested byte after churn: ouro / glibc', '<=',
     1.0),
    ('make_copies', 'make + 4 copies + drop: make_shared time / ouro time', '>=', 3.0),
    ('weak_first', 'weak ref create + lock, first: weak_ptr time / ouro time', '>=', 2.0),
    ('weak_shared', 'weak ref create + lock, already referenced: weak_ptr time / ouro time', '>=',
     2.0),
    ('gc_cycles', 'collector, 1M objects of cyclic garbage: CPython time / ouro time', '>=', 4.0),
    ('gc_live', 'collector, full collection of 1M live containers: CPython / ouro', '>=', 4.0),
    ('values_bytes', 'values, 100k records: ouro bytes / CPython bytes', '<=', 0.5),
    ('values_build', 'values, 100k records: CPython build time / ouro', '>=', 5.0),
] + [
    # Pickle against CPython: loads goal 3x, dumps goal 4x, on datasets (a), (b), (d).
    (f'{op}_{name}', f'pickle {op} {label}: CPython time / ouro time', '>=', goal)
    for op, goal in (('loads', 3.0), ('dumps', 4.0))
    for name, label in (('ints', '(a) 1M ints'), ('records', '(b) 100k records'),
                        ('instances', '(d) 200k instances'))
] + [
    ('dumps_bytes', 'pickle dumps (c) 100 MiB bytes: ouro time / memcpy time', '<=', 1.2),
    ('loads_bytes', 'pickle loads (c) 100 MiB bytes: ouro time / memcpy time', '<=', 1.2),
    # ouro pickle scan (the whole process) against CPython's loads: bench/scan_vs_cpython.py.
    ('scan_array', 'pickle scan 50 MB float64 array: CPython loads / ouro scan CPU time', '>=',
     5.0),
    ('scan_records', 'pickle scan 400k records: CPython loads / ouro scan CPU time', '>=', 5.0),
] + [
    # The tracer (issue 11, bench/trace_bench.cpp): traced with one frame / untraced, CPU time.
    (f'trace_{name}', f'tracing on, one frame: {label}: traced time / untraced time', '<=', 1.3)
    for name, label in (('ints', 'values (a) 1M small ints'), ('records', 'values 100k dicts'),
                        ('dumps', 'pickle dumps (b)'), ('loads', 'pickle loads (b)'))
] + [
    ('trace_make_off', 'tracing off: make<T> / make_in<T> time (line recording)', '<=', 1.01),
] + [
    # Issue 12, big files (bench/pickle_big_files.py): whole commands, dis output identical.
    row
    for name, label in (('array50', '50 MB float64 array'), ('bytes100', '100 MiB bytes'))
    for row in (
        (f'dis_{name}_speed', f'ouro pickle dis, {label}: pickletools time / ouro time', '>=',
         1.0),
        (f'dis_{name}_rss', f'ouro pickle dis, {label}: peak RSS, MiB', '<=', 64.0),
        (f'dis_{name}_same', f'ouro pickle dis, {label}: output identical to pickletools (1 = yes)',
         '>=', 1.0),
        (f'load_{name}_memcpy', f'pickle loads, {label} file: ouro time / memcpy time', '<=',
         1.2),
    )
]


# --- CPython sides (run in a fresh interpreter each) -----------------------------------------

def cpython_gc():
    sys.path.insert(0, BENCH_DIR)
    import gc_vs_cpython
    cycles = gc_vs_cpython.measure_cycles(INNER_RUNS)
    return {'cycles': cycles}


def cpython_gc_live():
    sys.path.insert(0, BENCH_DIR)
    import gc_vs_cpython
    return {'live': gc_vs_cpython.measure_live(INNER_RUNS)}


def cpython_values():
    sys.path.insert(0, BENCH_DIR)
    import value_vs_cpython
    size, seconds = value_vs_cpython.measure(value_vs_cpython.build_records, INNER_RUNS)
    return {'records_bytes': size, 'records_seconds': seconds}


def cpython_pickle():
    sys.path.insert(0, BENCH_DIR)
    import pickle_vs_cpython as p
    out = {}
    for name in ('ints', 'records', 'instances'):
        value = p.DATASETS[name]()
        for op in ('dumps', 'loads'):
            setup, run = p.CPYTHON_OPS[op]
            out[f'{op}_{name}'] = p.best_of(INNER_RUNS, run, setup(value))
        del value
    return out


CPYTHON_SIDES = {'gc': cpython_gc, 'gc_live': cpython_gc_live, 'values': cpython_values,
                 'pickle': cpython_pickle}


def run_cpython(name):
    out = subprocess.run([sys.executable, os.path.abspath(__file__), '--cpython', name],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


# --- ouro sides --------------------------------------------------------------------------------

def google_benchmark(binary, bench_filter, repetitions=1):
    """name -> run (the median aggregate when repeated, else the single run)."""
    with tempfile.NamedTemporaryFile(suffix='.json') as out:
        subprocess.run([binary, f'--benchmark_filter={bench_filter}',
                        f'--benchmark_repetitions={repetitions}',
                        '--benchmark_report_aggregates_only=true',
                        '--benchmark_enable_random_interleaving=true',
                        f'--benchmark_out={out.name}', '--benchmark_out_format=json'],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        runs = {}
        for b in json.load(open(out.name))['benchmarks']:
            name = b['run_name'].split('/iterations:')[0].split('/repeats:')[0]
            if b.get('error_occurred'):
                continue
            if b['run_type'] == 'aggregate' and b.get('aggregate_name') == 'median':
                runs[name] = b
            elif b['run_type'] == 'iteration' and name not in runs:
                runs[name] = b
        return runs


def lines_of(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()


def one_run(build_dir):
    """Every comparison once; returns key -> ratio and key -> (ouro, peer) raw figures."""
    bench = os.path.join(build_dir, 'bench')
    ratio, raw = {}, {}

    def put(key, value, ours, theirs):
        ratio[key] = value
        raw[key] = (ours, theirs)

    glibc = google_benchmark(os.path.join(bench, 'heap_bench'), '.', repetitions=3)
    o, g = glibc['churn/ouro'], glibc['churn/glibc']
    put('churn_glibc', o['items_per_second'] / g['items_per_second'], o['items_per_second'],
        g['items_per_second'])
    o, s = glibc['refs/ouro_make'], glibc['refs/std_make_shared']
    put('make_copies', s['cpu_time'] / o['cpu_time'], o['cpu_time'], s['cpu_time'])
    o, g = glibc['memory_churn/ouro'], glibc['memory_churn/glibc']
    put('memory_churn_glibc', o['reserved_per_requested'] / g['reserved_per_requested'],
        o['reserved_per_requested'], g['reserved_per_requested'])
    mimalloc = os.path.join(bench, 'heap_bench_mimalloc')
    if os.path.exists(mimalloc):
        m = google_benchmark(mimalloc, 'churn', repetitions=3)
        o, p = m['churn/ouro'], m['churn/mimalloc']
        put('churn_mimalloc', o['items_per_second'] / p['items_per_second'],
            o['items_per_second'], p['items_per_second'])

    w = google_benchmark(os.path.join(bench, 'weakref_bench'), 'weak/', repetitions=3)
    std = w['weak/std_weak_ptr_lock']['cpu_time']
    put('weak_first', std / w['weak/ouro_create_lock']['cpu_time'],
        w['weak/ouro_create_lock']['cpu_time'], std)
    put('weak_shared', std / w['weak/ouro_shared_lock']['cpu_time'],
        w['weak/ouro_shared_lock']['cpu_time'], std)

    gc_bench = os.path.join(bench, 'gc_bench')
    for key, only, side, field in (('gc_cycles', 'cycles', 'gc', 'cycles'),
                                   ('gc_live', 'live', 'gc_live', 'live')):
        ours = json.loads(lines_of([gc_bench, '--runs', str(INNER_RUNS), '--only', only])[0])
        theirs = run_cpython(side)[field]
        put(key, theirs / ours['best'], ours['best'], theirs)

    value_bench = os.path.join(bench, 'value_bench')
    ours = {k: float(v) for k, v in (line.split() for line in
                                      lines_of([value_bench, '--report', str(INNER_RUNS)]))}
    theirs = run_cpython('values')
    put('values_bytes', ours['records_bytes'] / theirs['records_bytes'], ours['records_bytes'],
        theirs['records_bytes'])
    put('values_build', theirs['records_seconds'] / ours['records_seconds'],
        ours['records_seconds'], theirs['records_seconds'])

    rows = [json.loads(line) for line in
            lines_of([os.path.join(bench, 'pickle_bench'), '--report', str(INNER_RUNS)])
            if line.startswith('{')]
    ours = {f"{r['op']}_{r['dataset']}": r['seconds'] for r in rows}
    theirs = run_cpython('pickle')
    for key, seconds in theirs.items():
        put(key, seconds / ours[key], ours[key], seconds)
    memcpy = ours['memcpy_bytes']
    for op in ('dumps', 'loads'):
        put(f'{op}_bytes', ours[f'{op}_bytes'] / memcpy, ours[f'{op}_bytes'], memcpy)

    sys.path.insert(0, BENCH_DIR)
    import scan_vs_cpython
    with tempfile.TemporaryDirectory() as directory:
        scan_vs_cpython.make_files(directory)
        for key, (ours, theirs) in scan_vs_cpython.measure(build_dir, directory).items():
            put(key, theirs / ours, ours, theirs)

    # "NAME cpu off X s on|located Y s ratio R ..." per workload (bench/trace_bench.cpp).
    keys = {'values.ints': 'trace_ints', 'values.records': 'trace_records',
            'pickle.dumps': 'trace_dumps', 'pickle.loads': 'trace_loads',
            'make.site': 'trace_make_off'}
    for line in lines_of([os.path.join(bench, 'trace_bench'), str(INNER_RUNS)]):
        words = line.split()
        if words and words[0] in keys and words[1] == 'cpu':
            off, on = float(words[3]), float(words[6])
            put(keys[words[0]], on / off, on, off)
    import pickle_big_files
    figures = pickle_big_files.measure(build_dir, big_files_dir(), runs=1)
    for key, (value, ours, theirs) in pickle_big_files.ratios(figures).items():
        put(key, value, ours, theirs)
    return ratio, raw


_big_files = None


def big_files_dir():
    """One temporary directory for bench/pickle_big_files.py's files, made on first use."""
    global _big_files
    if _big_files is None:
        _big_files = tempfile.TemporaryDirectory()
    return _big_files.name


def loadavg():
    with open('/proc/loadavg') as f:
        return ' '.join(f.read().split()[:3])


def met(op, goal, value):
    return value >= goal if op == '>=' else value <= goal


def compare(before_file, after_file):
    """Side by side: the medians (and runs) of two --json files, and the change of the ratio
    in the direction of its goal (positive: better)."""
    before, after = (json.load(open(f)) for f in (before_file, after_file))
    print(f'| measure | goal | {before_file} | {after_file} | change |')
    print('|---|---|---|---|---:|')
    for key, measure, op, goal in ROWS:
        cells = []
        medians = []
        for runs in (before, after):
            values = [r['ratio'][key] for r in runs if key in r['ratio']]
            if not values:
                cells.append('—')
                continue
            medians.append(statistics.median(values))
            cells.append(f'{medians[-1]:.2f} ({" / ".join(f"{v:.2f}" for v in values)})')
        change = ''
        if len(medians) == 2:
            better = medians[1] / medians[0] if op == '>=' else medians[0] / medians[1]
            change = f'{(better - 1) * 100:+.0f}%'
        print(f'| {measure} | {"≥" if op == ">=" else "≤"} {goal:g} | {cells[0]} | {cells[1]} | '
              f'{change} |')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('build_dir', nargs='?')
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--json', help='also write every run\'s figures to this file')
    parser.add_argument('--compare', nargs=2, metavar=('BEFORE_JSON', 'AFTER_JSON'),
                        help='compare two --json files instead of running')
    parser.add_argument('--cpython', choices=sorted(CPYTHON_SIDES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.compare:
        compare(*args.compare)
        return
    if args.cpython:
        print(json.dumps(CPYTHON_SIDES[args.cpython]()))
        return
    if not args.build_dir:
        parser.error('BUILD_DIR is required')

    runs = []
    for i in range(args.runs):
        before = loadavg()
        start = time.monotonic()
        ratio, raw = one_run(args.build_dir)
        runs.append({'ratio': ratio, 'raw': raw, 'load_before': before, 'load_after': loadavg(),
                     'seconds': time.monotonic() - start})
        print(f'run {i + 1}/{args.runs}: {runs[-1]["seconds"]:.0f} s, load {before} -> '
              f'{runs[-1]["load_after"]}', file=sys.stderr)

    print(f'| measure | median | runs | goal | met |')
    print('|---|---:|---|---|---|')
    for key, measure, op, goal in ROWS:
        values = [r['ratio'][key] for r in runs if key in r['ratio']]
        if not values:
            print(f'| {measure} | — | not measured (peer missing) | {op} {goal:g} | |')
            continue
        median = statistics.median(values)
        print(f'| {measure} | {median:.2f} | {" / ".join(f"{v:.2f}" for v in values)} | '
              f'{"≥" if op == ">=" else "≤"} {goal:g} | '
              f'{"yes" if met(op, goal, median) else "**no**"} |')
    print()
    print(f'{args.runs} whole runs of every comparison; median of the runs, each run shown. '
          f'Load average (1/5/15 min) before -> after each run: ' +
          '; '.join(f'{r["load_before"]} -> {r["load_after"]}' for r in runs) + '.')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(runs, f, indent=1)


if __name__ == '__main__':
    main()
