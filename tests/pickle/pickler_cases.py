# The oracle side of tests/pickle/pickler_test.cpp: generates random Python values from a
# fixed seed, each with a construction description that the C++ test parses to build the
# equal ouro value (same sharing, same recursion), and CPython's pickles of it.
#
#   python3 pickler_cases.py gen SEED COUNT     -> records: description, set flag, pickles 0..5
#   python3 pickler_cases.py check SEED COUNT   <- records: case index, protocol, ouro's bytes
#                                               -> one line per mismatch, then "checked N"
#
# Description tokens (space separated; every object node has an id that r<id> refers to):
#   N T F            None True False
#   i<decimal>       int
#   f<16 hex>        float, by its IEEE bits
#   s<id>:<hex>      a new str (UTF-8, lone surrogates as 3 bytes)
#   b<id>:<hex>      a new bytes          y<id>:<hex>  a new bytearray
#   l<id>:<n> ...    list of n items      t<id>:<n> ...  tuple
#   d<id>:<n> ...    dict, n key/value pairs in insertion order
#   e<id>:<n> ...    set                  z<id>:<n> ...  frozenset
#   o<id>:<k> ...    instance of CLASSES[k] then its attributes: <n> then n name/value pairs
#   g<id>:<module hex>:<qualname hex>   a global (class or function)
#   r<id>            the object made earlier with that id; inside a list, a tuple still
#                    being built (the list is patched once the tuple exists)
# CPython singletons: '' and 1-character latin-1 strs, b'' and 1-byte bytes are one object
# per value in CPython; the generator makes them the usual way and ouro's pickler keys them
# by value, so sharing of those needs no description.
import builtins
import collections
import copyreg
import codecs
import math
import pickle
import random
import struct
import sys

exec(BLOB_PYTHON)  # noqa: F821 - read_blobs/put, pasted in by the C++ test


class C:
    pass


class Point:
    pass


class Outer:
    class Inner:
        pass


# (class, its attribute names: interned, so every instance shares the key objects)
CLASSES = [(C, ['alpha', 'beta', 'gamma']), (Point, ['px', 'py']), (Outer.Inner, ['value'])]
GLOBALS = [C, Point, Outer.Inner, int, len, set, frozenset, bytearray, bytes, object,
           Exception, getattr, collections.OrderedDict, collections.defaultdict,
           copyreg._reconstructor, codecs.encode, math.floor, struct.pack]

FLOAT_EDGES = [0.0, -0.0, float('inf'), float('-inf'), float('nan'), 5e-324, -5e-324,
               1.7976931348623157e308, 2.2250738585072014e-308, 1e16, 1e-5, 0.1, 1.5,
               123456789.0, 1e22, -1e-7, 9007199254740993.0]
INT_EDGES = [0, 1, -1, 255, 256, 65535, 65536, 2**31 - 1, 2**31, -2**31, -2**31 - 1,
             2**32, 2**62 - 1, 2**62, -2**62, -2**62 - 1, 2**63, -2**63, 2**64, 2**1000,
             -2**1000, 10**400, -(10**300) + 7, 127, 128, -128, -129, 2**2040]
CODEPOINT_POOLS = [(0x20, 0x7e), (0, 0x1f), (0x80, 0xff), (0x100, 0x7ff), (0x800, 0xffff),
                   (0xd800, 0xdfff), (0x10000, 0x10ffff)]


class Gen:
    def __init__(self, rng, allow_sets):
        self.rng = rng
        self.allow_sets = allow_sets
        self.next_id = 0
        self.pool = []          # (id, object, hashable) of finished nodes
        self.open = {}          # id -> object for containers being filled (lists, dicts, instances)
        self.open_tuples = []   # ids of tuples being built
        self.fixups = []        # (list, index, tuple id)
        self.tuple_objs = {}
        self.attr_ids = {}      # attribute name -> id of its str node
        self.has_set = False
        self.size = 0

    def new_id(self):
        self.next_id += 1
        return self.next_id

    def text(self):
        r = self.rng
        n = r.choice([0, 1, 1, 2, 3, 5, 8, 20, 60, 300])
        cps = []
        for _ in range(n):
            lo, hi = r.choice(CODEPOINT_POOLS) if r.random() < 0.5 else (0x20, 0x7e)
            cps.append(r.randint(lo, hi))
        if r.random() < 0.1:
            cps += [ord(c) for c in r.choice(['\\', '\n', '\r', '\0', '\x1a', 'é', '\ud800'])]
        return ''.join(map(chr, cps))

    def raw(self):
        r = self.rng
        n = r.choice([0, 1, 1, 2, 7, 40, 255, 256, 1000])
        return bytes.fromhex(''.join('%02x' % r.randrange(256) for _ in range(n)))

    def atom(self, out):
        r = self.rng
        k = r.randrange(6)
        if k == 0:
            v = r.choice([None, True, False])
            out.append({None: 'N', True: 'T', False: 'F'}[v])
        elif k in (1, 2):
            v = r.choice(INT_EDGES) if r.random() < 0.4 else r.randint(-300, 70000)
            out.append('i%d' % v)
        else:
            v = r.choice(FLOAT_EDGES) if r.random() < 0.5 else r.uniform(-1e6, 1e6)
            bits = struct.pack('>d', v)
            v = struct.unpack('>d', bits)[0]  # a new float object, as the description makes
            out.append('f' + bits.hex())
        return v

    def leaf_object(self, out, kind):
        i = self.new_id()
        if kind == 's':
            v = self.text()
            out.append('s%d:%s' % (i, v.encode('utf-8', 'surrogatepass').hex()))
        elif kind == 'b':
            v = self.raw()
            out.append('b%d:%s' % (i, v.hex()))
        elif kind == 'y':
            v = bytearray(self.raw())
            out.append('y%d:%s' % (i, v.hex()))
        else:
            v = self.rng.choice(GLOBALS)
            out.append('g%d:%s:%s' % (i, v.__module__.encode().hex(), v.__qualname__.encode().hex()))
        self.pool.append((i, v, kind != 'y'))
        return v

    def value(self, out, depth, hashable=False, in_list=None):
        r = self.rng
        self.size += 1
        if self.pool and r.random() < 0.12:
            cands = [p for p in self.pool if p[2] or not hashable]
            if cands:
                i, v, _ = r.choice(cands)
                out.append('r%d' % i)
                return v
        if not hashable and r.random() < 0.04 and (self.open or (self.open_tuples and in_list is not None)):
            if self.open_tuples and in_list is not None and r.random() < 0.5:
                i = r.choice(self.open_tuples)
                self.fixups.append((in_list, len(in_list), i))
                out.append('r%d' % i)
                return None
            if self.open:
                i = r.choice(list(self.open))
                out.append('r%d' % i)
                return self.open[i]
        big = depth < 4 and self.size < 300
        choices = ['atom'] * 4 + ['s'] * 3 + ['b', 'g']
        if big:
            choices += ['t', 't'] + ([] if hashable else ['l', 'l', 'd', 'o', 'y'])
            if self.allow_sets:
                choices += ['z'] + ([] if hashable else ['e'])
        kind = r.choice(choices)
        if kind == 'atom':
            return self.atom(out)
        if kind in 'sbyg':
            return self.leaf_object(out, kind)
        n = r.choice([0, 1, 2, 3, 4, 5, 8])
        i = self.new_id()
        if kind == 't':
            out.append('t%d:%d' % (i, n))
            self.open_tuples.append(i)
            items = [self.value(out, depth + 1, hashable) for _ in range(n)]
            self.open_tuples.remove(i)
            v = tuple(items)
            self.tuple_objs[i] = v
            for lst, idx, tid in [f for f in self.fixups if f[2] == i]:
                lst[idx] = v
            self.fixups = [f for f in self.fixups if f[2] != i]
            self.pool.append((i, v, hashable))
            return v
        if kind == 'l':
            v = []
            out.append('l%d:%d' % (i, n))
            self.open[i] = v
            for _ in range(n):
                v.append(self.value(out, depth + 1, False, in_list=v))
        elif kind == 'd':
            v = {}
            out.append('d%d:%d' % (i, n))
            self.open[i] = v
            for _ in range(n):
                k = self.value(out, depth + 1, True)
                v[k] = self.value(out, depth + 1)
        elif kind in 'ez':
            self.has_set = True
            out.append('%s%d:%d' % (kind, i, n))
            items = [self.value(out, depth + 1, True) for _ in range(n)]
            v = set(items) if kind == 'e' else frozenset(items)
            self.pool.append((i, v, kind == 'z'))
            return v
        else:  # instance
            k = r.randrange(len(CLASSES))
            cls, names = CLASSES[k]
            v = cls.__new__(cls)
            n = r.randint(0, len(names))
            out.append('o%d:%d %d' % (i, k, n))
            self.open[i] = v
            for name in names[:n]:
                name = sys.intern(name)
                if name in self.attr_ids:
                    out.append('r%d' % self.attr_ids[name])
                else:
                    self.attr_ids[name] = self.new_id()
                    out.append('s%d:%s' % (self.attr_ids[name], name.encode().hex()))
                v.__dict__[name] = self.value(out, depth + 1)
        del self.open[i]
        self.pool.append((i, v, False))
        return v


def special_cases():
    """Sizes around the batch of 1000 and the 64 KiB frame, shared and deep values."""
    yield 'l1:0', []
    for n in (999, 1000, 1001, 2000, 2500):
        yield 'l1:%d ' % n + ' '.join('i%d' % j for j in range(n)), list(range(n))
        d = {j: j * 2 for j in range(n)}
        yield 'd1:%d ' % n + ' '.join('i%d i%d' % (j, j * 2) for j in range(n)), d
    for n in (65535, 65536, 65537, 200000):
        s = 'x' * n
        yield 's1:' + s.encode().hex(), s
        b = bytes.fromhex('ab' * n)
        yield 'b1:' + b.hex(), b
        yield 'y1:' + b.hex(), bytearray(b)
        yield 'l2:3 s3:%s i5 b4:%s' % (('y' * (n // 3)).encode().hex(), b.hex()), ['y' * (n // 3), 5, b]
    many = ['word%d' % j for j in range(20000)]
    yield 'l1:20000 ' + ' '.join('s%d:%s' % (j + 2, w.encode().hex()) for j, w in enumerate(many)), many
    rec = []
    rec.append(rec)
    yield 'l1:1 r1', rec
    t = ([],)
    t[0].append(t)
    yield 't1:1 l2:1 r1', t
    # Cycles through an instance, which is memoized before its state: a shared tuple and a
    # shared frozenset met again from inside themselves.
    o = C()
    o.alpha = (o, [o])
    yield 'o1:0 1 s2:%s t3:2 r1 l4:1 r1' % b'alpha'.hex(), o
    o = C()
    o.alpha = frozenset([o, 'x'])
    yield 'o1:0 1 s2:%s z3:2 r1 s4:78' % b'alpha'.hex(), o, True


def cases(seed, count):
    rng = random.Random(seed)
    for desc, v, *has_set in special_cases():
        yield desc, v, bool(has_set)
    for _ in range(count):
        g = Gen(rng, allow_sets=rng.random() < 0.3)
        out = []
        v = g.value(out, 0)
        yield ' '.join(out), v, g.has_set


def strict_equal(a, b, seen):
    """Equality that also checks types, instances by class and __dict__, sets by value."""
    if type(a) is not type(b):
        return False
    key = (id(a), id(b))
    if key in seen:
        return True
    seen.add(key)
    if isinstance(a, float):
        return struct.pack('>d', a) == struct.pack('>d', b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(strict_equal(x, y, seen) for x, y in zip(a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(strict_equal(x, y, seen) and strict_equal(a[x], b[y], seen)
                                        for x, y in zip(a, b))
    if isinstance(a, (set, frozenset)):
        return len(a) == len(b) and all(any(strict_equal(x, y, set(seen)) for y in b) for x in a)
    if type(a).__module__ == '__main__':
        return strict_equal(a.__dict__, b.__dict__, seen)
    return a == b


def main():
    mode, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    sys.setrecursionlimit(10000)
    if mode == 'gen':
        for desc, v, has_set in cases(seed, count):
            put(desc)
            put('1' if has_set else '0')
            for proto in range(6):
                put(pickle.dumps(v, proto))
        return
    blobs = read_blobs(sys.stdin.buffer.read())
    values = [v for _, v, _ in cases(seed, count)]
    checked = 0
    for j in range(0, len(blobs), 3):
        index, proto, data = int(blobs[j]), int(blobs[j + 1]), blobs[j + 2]
        try:
            ok = strict_equal(pickle.loads(data), values[index], set())
        except Exception as e:  # noqa: BLE001 - report any failure to load
            ok = False
            print('case %d proto %d: %r' % (index, proto, e))
        if not ok:
            print('case %d proto %d: loads(ouro) != value' % (index, proto))
        checked += 1
    print('checked %d' % checked)


main()
