#!/usr/bin/env python3
"""`ouro pickle dis` against `python3 -m pickletools`, and loading, on big files (issue 12).

Two files, made at run time in a temporary directory (never committed, never needed by the
tests): a 50 MB float64 numpy array pickled at protocol 5 by Debian's /usr/bin/python3 with
numpy (one BYTEARRAY8 argument of 50 MB), and one 100 MiB bytes object (BINBYTES8).

For each file, RUNS times (default 3, interleaved), whole commands with stdout to /dev/null:

    ouro pickle dis FILE            python3 -m pickletools FILE

timed by wall clock, peak RSS from the child's rusage (ru_maxrss). Then both once more with
their output hashed as it comes (SHA-256), which must be identical byte for byte; the longest
output line is reported too (issue 12's memory goal: within 64 MiB beyond one output line).
Loading: `pickle_bench --load FILE RUNS` times ouro::pickle::loads of the file's bytes and a
memcpy of as many bytes, best of RUNS, in one process.

    python3 bench/pickle_big_files.py BUILD_DIR [--runs N] [--json FILE]

Prints one markdown table of medians with every run; bench/ratios.py (`make bench`) takes
its rows from measure().
"""
import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

NUMPY_PYTHON = '/usr/bin/python3'  # Debian's python3, which has numpy
ARRAY_BYTES = 50_000_000
BYTES_SIZE = 100 << 20

# Each file is made in its own interpreter: a parent holding 200 MiB would be counted in
# every child's peak RSS (fork copies its page tables before exec).
MAKE_BYTES = f'''
import pickle, sys
open(sys.argv[1], 'wb').write(pickle.dumps(b'\\xab' * {BYTES_SIZE}, protocol=5))
'''
MAKE_ARRAY = f'''
import pickle, sys, numpy
a = numpy.arange({ARRAY_BYTES} // 8, dtype=numpy.float64) * 0.5
open(sys.argv[1], 'wb').write(pickle.dumps(a, protocol=5))
'''


def make_files(directory):
    """name -> path of the two benchmark files (made once per directory)."""
    files = {'array50': os.path.join(directory, 'array50.pkl'),
             'bytes100': os.path.join(directory, 'bytes100.pkl')}
    if not os.path.exists(files['array50']):
        subprocess.run([NUMPY_PYTHON, '-c', MAKE_ARRAY, files['array50']], check=True)
    if not os.path.exists(files['bytes100']):
        subprocess.run([sys.executable, '-c', MAKE_BYTES, files['bytes100']], check=True)
    return files


def timed(cmd):
    """(wall seconds, peak RSS in MiB) of one run of cmd, stdout to /dev/null."""
    with open(os.devnull, 'wb') as null:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=null)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f'{cmd} failed')
    return seconds, usage.ru_maxrss / 1024


def output_digest(cmd):
    """(SHA-256 of cmd's stdout, longest line in bytes), read as it comes."""
    digest = hashlib.sha256()
    longest = line = 0
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    while True:
        piece = proc.stdout.read(1 << 20)
        if not piece:
            break
        digest.update(piece)
        start = 0
        while True:
            newline = piece.find(b'\n', start)
            if newline < 0:
                line += len(piece) - start
                break
            longest = max(longest, line + newline - start)
            line = 0
            start = newline + 1
    if proc.wait() != 0:
        raise RuntimeError(f'{cmd} failed')
    return digest.hexdigest(), max(longest, line)


def measure(build_dir, directory, runs=3):
    """Every figure of the big-file comparison: name -> {'ouro': [...], 'peer': [...], ...}."""
    files = make_files(directory)
    ouro = os.path.join(build_dir, 'tools', 'ouro', 'ouro')
    bench = os.path.join(build_dir, 'bench', 'pickle_bench')
    out = {}
    for name, path in files.items():
        ours, theirs = [], []
        for _ in range(runs):
            ours.append(timed([ouro, 'pickle', 'dis', path]))
            theirs.append(timed([sys.executable, '-m', 'pickletools', path]))
        ouro_digest, longest = output_digest([ouro, 'pickle', 'dis', path])
        python_digest, _ = output_digest([sys.executable, '-m', 'pickletools', path])
        load = []
        for _ in range(runs):
            rows = [json.loads(line) for line in subprocess.run(
                [bench, '--load', path, '1'], check=True, capture_output=True,
                text=True).stdout.splitlines()]
            by_op = {r['op']: r['seconds'] for r in rows}
            load.append((by_op['load_file'], by_op['memcpy']))
        out[name] = {'dis_ouro': ours, 'dis_pickletools': theirs, 'same_output':
                     ouro_digest == python_digest, 'longest_line_mib': longest / 2**20,
                     'load': load}
    return out


def ratios(figures):
    """Rows for bench/ratios.py: key -> (ratio, ouro figure, peer figure), medians of runs."""
    rows = {}
    for name, f in figures.items():
        ours = statistics.median(s for s, _ in f['dis_ouro'])
        theirs = statistics.median(s for s, _ in f['dis_pickletools'])
        rows[f'dis_{name}_speed'] = (theirs / ours, ours, theirs)
        rss = statistics.median(m for _, m in f['dis_ouro'])
        rows[f'dis_{name}_rss'] = (rss, rss, f['longest_line_mib'])
        rows[f'dis_{name}_same'] = (1.0 if f['same_output'] else 0.0, 0, 0)
        load = statistics.median(l / m for l, m in f['load'])
        rows[f'load_{name}_memcpy'] = (load, statistics.median(l for l, _ in f['load']),
                                       statistics.median(m for _, m in f['load']))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('build_dir')
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--json', help='also write every run\'s figures to this file')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        figures = measure(args.build_dir, directory, args.runs)
    print('| file | measure | median | runs | goal |')
    print('|---|---|---:|---|---|')
    for name, f in figures.items():
        def cell(values, fmt='{:.2f}'):
            return fmt.format(statistics.median(values)), ' / '.join(fmt.format(v) for v in values)
        for label, values, goal in (
                ('ouro pickle dis, s', [s for s, _ in f['dis_ouro']], ''),
                ('python3 -m pickletools, s', [s for s, _ in f['dis_pickletools']], ''),
                ('dis: pickletools time / ouro time', [t[0] / o[0] for o, t in
                                                       zip(f['dis_ouro'], f['dis_pickletools'])],
                 '≥ 1'),
                ('ouro pickle dis peak RSS, MiB', [m for _, m in f['dis_ouro']],
                 f'≤ 64 + longest line ({f["longest_line_mib"]:.0f} MiB)'),
                ('pickletools peak RSS, MiB', [m for _, m in f['dis_pickletools']], ''),
                ('loads: ouro time / memcpy time', [l / m for l, m in f['load']], '≤ 1.2')):
            median, runs = cell(values)
            print(f'| {name} | {label} | {median} | {runs} | {goal} |')
        print(f'| {name} | dis output identical to pickletools\' | '
              f'{"yes" if f["same_output"] else "**NO**"} | | byte for byte |')
    if args.json:
        with open(args.json, 'w') as out:
            json.dump(figures, out, indent=1)


if __name__ == '__main__':
    main()
