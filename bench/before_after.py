#!/usr/bin/env python3
"""ouro's own times, two builds side by side, alternating (issue 9's "no figure worse than
before by more than 5 %").

bench/ratios.py divides each ouro time by a peer's (CPython, glibc, make_shared) measured in
the same run, so comparing two of its tables compares two peers' noise as well: on this
machine CPython's collection of the same garbage varied 2.7-5.2x between runs of one
minute. This script leaves the peers out. It runs the same benchmark programs of two build
trees in turn, ROUNDS times (OLD, NEW, OLD, NEW, ...: drifts of the machine hit both), and
prints per measurement the median of each build's rounds, every round shown, and the change.
Each round's figure is the program's own best-of-N.

    python3 bench/before_after.py OLD_BUILD NEW_BUILD [ROUNDS]
    python3 bench/before_after.py /path/to/a4414af/build/release build/release 5

Both trees need bench/{value_bench,pickle_bench,gc_bench,heap_bench} (OURO_BUILD_BENCH=ON).
A lower time is better; "change" is old time / new time - 1 (positive: the new build is
faster).
"""
import json
import os
import statistics
import subprocess
import sys


def run_json(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         env=dict(os.environ, **(env or {}))).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith('{')]


def lines(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return out.split()


def measure(build):
    """One round: {measure name: seconds} for one build tree."""
    bench = os.path.join(build, 'bench')
    times = {}
    words = lines([os.path.join(bench, 'value_bench'), '--report', '5', 'records'])
    times['values: build 100k records'] = float(words[words.index('records_seconds') + 1])
    for dataset in ('records', 'instances'):
        rows = run_json([os.path.join(bench, 'pickle_bench'), '--report', '5', '--only', dataset],
                        env={'OURO_BENCH_ONLY': dataset})
        for row in rows:
            if row['dataset'] == dataset and row['op'] in ('loads', 'dumps'):
                times[f"pickle {row['op']}: {dataset}"] = row['seconds']
    for row in run_json([os.path.join(bench, 'gc_bench'), '--runs', '5',
                         '--pause-containers', '1000']):
        if row['measure'] in ('cycles', 'live'):
            label = {'cycles': 'collector: 1M objects of cyclic garbage',
                     'live': 'collector: full collection, 1M live'}[row['measure']]
            times[label] = row['best']
    return times


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    old, new = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    runs = {old: [], new: []}
    for r in range(rounds):
        for build in (old, new):
            runs[build].append(measure(build))
        print(f'round {r + 1}/{rounds} done', file=sys.stderr)
    print(f'| measure (seconds, lower is better) | old: median (rounds) | new: median (rounds) | change |')
    print('|---|---|---|---:|')
    for name in runs[new][0]:
        o = [t[name] for t in runs[old] if name in t]
        n = [t[name] for t in runs[new]]
        if not o:
            continue
        mo, mn = statistics.median(o), statistics.median(n)
        fmt = lambda xs: ' / '.join(f'{x * 1000:.1f}' for x in xs)
        print(f'| {name} | {mo * 1000:.1f} ms ({fmt(o)}) | {mn * 1000:.1f} ms ({fmt(n)}) | '
              f'{(mo / mn - 1) * 100:+.0f}% |')


if __name__ == '__main__':
    main()
