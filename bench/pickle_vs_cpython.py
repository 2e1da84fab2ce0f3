#!/usr/bin/env python3
"""ouro's pickle vs CPython 3.11's, same datasets, same run (GitHub issue 6).

Runs `pickle_bench --report N --write DIR` (one JSON row per dataset and operation), times
the same operations in this CPython (best of N, time.perf_counter, protocol 5), checks that
ouro's pickles equal CPython's byte for byte, and prints one table.

    python3 bench/pickle_vs_cpython.py build/release/bench/pickle_bench [runs]

Rows are matched by (dataset, op). An op that the ouro binary reports and that appears in
CPYTHON_OPS below gets a CPython column: adding "loads" rows to pickle_bench needs only a
"loads" entry here (already present), nothing else.
"""
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time

PROTOCOL = 5


class Record:
    def __init__(self, i):
        self.a = i
        self.b = i * 0.5
        self.c = 'r%d' % i


DATASETS = {
    'ints': lambda: list(range(1_000_000)),
    'records': lambda: [{'id': i, 'name': 'user%d' % i, 'score': i * 0.5, 'tags': ['a', 'b']}
                        for i in range(100_000)],
    'bytes': lambda: b'\xab' * (100 << 20),
    'instances': lambda: [Record(i) for i in range(200_000)],
}

# CPython's side of each op: (setup(value) -> arg, op(arg)).
CPYTHON_OPS = {
    'dumps': (lambda v: v, lambda v: pickle.dumps(v, PROTOCOL)),
    'loads': (lambda v: pickle.dumps(v, PROTOCOL), pickle.loads),
}


def best_of(runs, f, arg):
    best = float('inf')
    for _ in range(runs):
        start = time.perf_counter()
        f(arg)
        best = min(best, time.perf_counter() - start)
    return best


def main():
    binary = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([binary, '--report', str(runs), '--write', tmp], check=True,
                             capture_output=True, text=True).stdout
        rows = [json.loads(line) for line in out.splitlines() if line.startswith('{')]
        same = {}
        for name, build in DATASETS.items():
            path = os.path.join(tmp, name + '.pickle')
            if os.path.exists(path):
                with open(path, 'rb') as f:
                    same[name] = f.read() == pickle.dumps(build(), PROTOCOL)
    print('%-10s %-7s %12s %12s %9s  %s' % ('dataset', 'op', 'ouro ms', 'CPython ms',
                                           'speed-up', 'same bytes'))
    memcpy = {r['dataset']: r['seconds'] for r in rows if r['op'] == 'memcpy'}
    for r in rows:
        cp = ''
        ratio = ''
        if r['op'] in CPYTHON_OPS:
            setup, op = CPYTHON_OPS[r['op']]
            arg = setup(DATASETS[r['dataset']]())
            seconds = best_of(runs, op, arg)
            cp = '%.1f' % (seconds * 1e3)
            ratio = '%.1fx' % (seconds / r['seconds'])
        elif r['op'] == 'memcpy':
            ratio = ''
        note = {True: 'yes', False: 'NO'}.get(same.get(r['dataset'])) if r['op'] == 'dumps' else ''
        if r['op'] == 'dumps' and r['dataset'] in memcpy:
            note += '  (%.2fx memcpy)' % (r['seconds'] / memcpy[r['dataset']])
        print('%-10s %-7s %12.1f %12s %9s  %s' % (r['dataset'], r['op'], r['seconds'] * 1e3, cp,
                                                 ratio, note))


if __name__ == '__main__':
    main()
