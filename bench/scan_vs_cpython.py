#!/usr/bin/env python3
"""`ouro pickle scan` against CPython's pickle.loads on the same big files (issue 12).

The goal: scan, an opcode walk that builds no value, at least 5x faster than CPython loads
the file. Two files are made at benchmark time in a temporary directory by /usr/bin/python3
(Debian's, which has numpy): a 50 MB float64 numpy array (protocol 4) and a list of 400,000
small records (dicts of an int, a str, a float, a tuple and a bool; protocol 4, 17 MB).

Each side is timed as CPU time (user + system), which a loaded shared machine disturbs far
less than wall time: ouro as the whole `ouro pickle scan FILE` process (start-up, mapping
the file and printing included: the figure a user sees), CPython as pickle.loads of the
file's bytes already in memory, in a fresh interpreter (so ouro's figure carries its
process start-up, about 2 ms, and CPython's does not). Best of INNER_RUNS each; the script
repeats that RUNS times and prints every ratio and their median.

    python3 bench/scan_vs_cpython.py BUILD_DIR [--runs 3]
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile

PYTHON_WITH_NUMPY = '/usr/bin/python3'
INNER_RUNS = 3

MAKE_FILES = r'''
import pickle, sys
import numpy as np
directory = sys.argv[1]
array = np.random.default_rng(0).random(50 * 1024 * 1024 // 8)
with open(directory + '/array.pkl', 'wb') as f:
    pickle.dump(array, f, protocol=4)
records = [{'id': i, 'name': 'user%d' % i, 'score': i * 0.5, 'tags': ('a', 'b'),
            'ok': i % 2 == 0} for i in range(400_000)]
with open(directory + '/records.pkl', 'wb') as f:
    pickle.dump(records, f, protocol=4)
'''

CPYTHON_LOADS = r'''
import pickle, sys, time
data = open(sys.argv[1], 'rb').read()
best = float('inf')
for _ in range(int(sys.argv[2])):
    start = time.process_time()
    value = pickle.loads(data)
    best = min(best, time.process_time() - start)
    del value
print(best)
'''

FILES = {'scan_array': 'array.pkl', 'scan_records': 'records.pkl'}


def make_files(directory):
    subprocess.run([PYTHON_WITH_NUMPY, '-c', MAKE_FILES, directory], check=True)


def child_cpu_seconds(cmd):
    """CPU time (user + system) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def ouro_scan_seconds(ouro, path):
    status = subprocess.run([ouro, 'pickle', 'scan', path], stdout=subprocess.DEVNULL).returncode
    if status != 0:
        raise SystemExit(f'ouro pickle scan {path} exited {status}: expected a safe verdict')
    return min(child_cpu_seconds([ouro, 'pickle', 'scan', path]) for _ in range(INNER_RUNS))


def cpython_loads_seconds(path):
    out = subprocess.run([PYTHON_WITH_NUMPY, '-c', CPYTHON_LOADS, path, str(INNER_RUNS)],
                         check=True, capture_output=True, text=True).stdout
    return float(out)


def measure(build_dir, directory):
    """key -> (ouro seconds, CPython seconds) for the files made in `directory`."""
    ouro = os.path.join(build_dir, 'tools', 'ouro', 'ouro')
    out = {}
    for key, name in FILES.items():
        path = os.path.join(directory, name)
        out[key] = (ouro_scan_seconds(ouro, path), cpython_loads_seconds(path))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('build_dir')
    parser.add_argument('--runs', type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        make_files(directory)
        runs = [measure(args.build_dir, directory) for _ in range(args.runs)]
    print('| file | CPython loads | ouro scan | CPython / ouro, per run | median | goal |')
    print('|---|---:|---:|---|---:|---|')
    for key, name in FILES.items():
        ratios = [theirs / ours for ours, theirs in (run[key] for run in runs)]
        ours = statistics.median(run[key][0] for run in runs)
        theirs = statistics.median(run[key][1] for run in runs)
        median = statistics.median(ratios)
        print(f'| {name} | {theirs * 1e3:.1f} ms | {ours * 1e3:.1f} ms | '
              f'{" / ".join(f"{r:.1f}" for r in ratios)} | {median:.1f}x | '
              f'≥ 5 {"met" if median >= 5 else "NOT met"} |')
    print(json.dumps({'runs': runs}), file=sys.stderr)


if __name__ == '__main__':
    main()
