// The CPython side of `ouro pickle stats`' estimate, shared by the tests that check it:
// Python source defining deep_size(v), CPython 3.11's bytes for the graph of v by the rule
// tools/ouro/cpython_sizes.h states (every distinct object once, by sys.getsizeof, minus
// the objects CPython shares process-wide). Paste it into an oracle script.
#pragma once

#include <string_view>

namespace ouro::testing {

inline constexpr std::string_view kDeepSizePython = R"PY(
import collections, datetime, fractions, pickle, sys, uuid
def deep_size(v):
    seen, total, todo = set(), 0, [v]
    while todo:
        o = todo.pop()
        if id(o) in seen: continue
        seen.add(id(o))
        if o is None or o is True or o is False or o == () or o == '' or o == b'': continue
        if o is datetime.timezone.utc or isinstance(o, uuid.SafeUUID): continue
        if type(o) is int and -5 <= o <= 256: continue
        if type(o) is str and len(o) == 1 and ord(o) < 256: continue
        total += sys.getsizeof(o)
        if isinstance(o, (list, tuple, set, frozenset)): todo.extend(o)
        if isinstance(o, dict): todo.extend(o.keys()); todo.extend(o.values())
        # The catalogue's objects hold these apart (timezone.utc and Enum members are shared).
        if isinstance(o, collections.deque): todo.extend(o)
        if isinstance(o, fractions.Fraction): todo += [o.numerator, o.denominator]
        if isinstance(o, uuid.UUID): todo.append(o.int)
        if isinstance(o, datetime.timezone): todo.extend(o.__getinitargs__())
        if isinstance(o, (datetime.time, datetime.datetime)) and o.tzinfo is not None:
            todo.append(o.tzinfo)
    return total
)PY";

}  // namespace ouro::testing
