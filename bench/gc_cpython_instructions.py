"""CPython's instruction count for one gc.collect() of bench/gc_bench.cpp's shapes.

Run it twice under callgrind, with and without the collection; the difference of the two
totals is the collection (docs/benchmarks.md, "Goals not met"):

    valgrind --tool=callgrind python3 bench/gc_cpython_instructions.py cycles collect
    valgrind --tool=callgrind python3 bench/gc_cpython_instructions.py cycles skip

Shapes (as gc_bench and bench/gc_vs_cpython.py): `cycles` is 500,000 two-object cycles of
Node with every outside reference dropped; `live` is a list of 1,000 lists of 999 Nodes,
collected once beforehand so that everything is in the oldest generation. os._exit skips
the interpreter's teardown, which would otherwise free the objects in both runs.
"""
import gc
import os
import sys


class Node:
    __slots__ = ('next',)


def main():
    shape, mode = sys.argv[1], sys.argv[2]
    gc.collect()
    gc.disable()
    if shape == 'cycles':
        for _ in range(500_000):
            a = Node()
            b = Node()
            a.next = b
            b.next = a
        del a, b
    elif shape == 'live':
        root = [[Node() for _ in range(999)] for _ in range(1000)]
        gc.collect()
    else:
        sys.exit(f'unknown shape {shape!r}: cycles or live')
    if mode == 'collect':
        gc.collect()
    elif mode != 'skip':
        sys.exit(f'unknown mode {mode!r}: collect or skip')
    os._exit(0)


if __name__ == '__main__':
    main()
