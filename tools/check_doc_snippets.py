#!/usr/bin/env python3
"""Compiles every C++ code block of the documentation against the built library.

A documentation example that does not compile is worse than none: a newcomer copies it
first. This script extracts each ```cpp (or ```c++) block from the Markdown files it is
given, compiles it with the project's compiler, links it against the built ouro library
and runs it (exit status 0 expected) when it is a program. ctest runs it as
`docs.snippets` over README.md and docs/*.md.

What a block is decides how it is checked; a marker in an HTML comment on the line just
before the opening fence (invisible on GitHub) changes that:

  (no marker)                          A whole translation unit. With `int main(` it is
                                       compiled, linked and run; without, only compiled.
  <!-- snippet: fragment -->           Statements: wrapped in `int main()` after every
                                       public header, with `ouro::Heap heap;` and
                                       `ouro::HeapScope scope(heap);` in front; then
                                       compiled, linked and run.
  <!-- snippet: skip: <reason> -->     Not compiled. The reason is required; keep these
                                       rare (e.g. a block that shows what does NOT compile).

Exit status: 0 when every block passes, 1 when any fails (each failure printed with its
file, line and the compiler's or program's output), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

FENCE_OPEN = re.compile(r"^```(cpp|c\+\+)\s*$")
MARKER = re.compile(r"^<!--\s*snippet:\s*(fragment|skip)\s*(?::\s*(.*?))?\s*-->\s*$")

# The prelude of a fragment: every public header, so that fragments need no includes.
FRAGMENT_PRELUDE = """\
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <ouro/core/format.h>
#include <ouro/core/gc.h>
#include <ouro/core/heap.h>
#include <ouro/core/ref.h>
#include <ouro/core/weakref.h>
#include <ouro/pickle/pickle.h>
#include <ouro/value/format.h>
#include <ouro/value/value.h>
#include <ouro/weak/containers.h>
#include <ouro/weak/finalize.h>

int main() {
  ouro::Heap heap;
  ouro::HeapScope scope(heap);
"""


@dataclass
class Snippet:
    path: Path
    line: int  # line of the opening fence, 1-based
    kind: str  # "program", "unit", "fragment" or "skip"
    code: str
    reason: str = ""

    @property
    def name(self) -> str:
        return f"{self.path}:{self.line}"


def extract(path: Path) -> list[Snippet]:
    """The C++ blocks of one Markdown file, with the marker that precedes each."""
    lines = path.read_text(encoding="utf-8").splitlines()
    snippets = []
    i = 0
    while i < len(lines):
        if not FENCE_OPEN.match(lines[i].strip()):
            i += 1
            continue
        start = i
        marker = MARKER.match(lines[i - 1].strip()) if i > 0 else None
        body = []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise SystemExit(f"{path}:{start + 1}: code block is never closed")
        i += 1
        code = "\n".join(body) + "\n"
        if marker and marker.group(1) == "skip":
            if not marker.group(2):
                raise SystemExit(f"{path}:{start}: 'snippet: skip' needs a reason after a colon")
            snippets.append(Snippet(path, start + 1, "skip", code, marker.group(2)))
        elif marker:
            snippets.append(Snippet(path, start + 1, "fragment", code))
        elif re.search(r"\bint\s+main\s*\(", code):
            snippets.append(Snippet(path, start + 1, "program", code))
        else:
            snippets.append(Snippet(path, start + 1, "unit", code))
    return snippets


def source_of(snippet: Snippet) -> str:
    # #line makes the compiler's messages point into the Markdown file itself.
    directive = f'#line {snippet.line + 1} "{snippet.path}"\n'
    if snippet.kind == "fragment":
        return FRAGMENT_PRELUDE + directive + snippet.code + "}\n"
    return directive + snippet.code


def check(snippet: Snippet, args: argparse.Namespace, work: Path, index: int) -> str | None:
    """None when the snippet passes, else a report of what failed."""
    source = work / f"snippet{index}.cpp"
    source.write_text(source_of(snippet), encoding="utf-8")
    compiler = shlex.split(args.compiler)
    flags = shlex.split(args.cxxflags)
    if snippet.kind == "unit":
        command = compiler + flags + ["-c", str(source), "-o", str(work / f"snippet{index}.o")]
    else:
        binary = work / f"snippet{index}"
        command = compiler + flags + [str(source), "-o", str(binary)] + shlex.split(args.ldflags)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return f"{snippet.name}: does not compile\n{result.stderr}"
    if snippet.kind == "unit":
        return None
    run = subprocess.run([str(binary)], capture_output=True, text=True, cwd=work,
                         timeout=args.timeout, check=False)
    if run.returncode != 0:
        return (f"{snippet.name}: the program exits with status {run.returncode}\n"
                f"{run.stdout}{run.stderr}")
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path, help="Markdown files")
    parser.add_argument("--compiler", default=os.environ.get("CXX", "c++"),
                        help="compiler command, e.g. 'ccache g++'")
    parser.add_argument("--cxxflags", default="-std=c++20", help="compile flags")
    parser.add_argument("--ldflags", default="", help="link flags and libraries")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=60, help="seconds a program may run")
    parser.add_argument("--list", action="store_true", help="list the blocks and exit")
    args = parser.parse_args()

    snippets = [s for path in args.files for s in extract(path)]
    if args.list:
        for s in snippets:
            print(f"{s.name}: {s.kind}" + (f" ({s.reason})" if s.reason else ""))
        return 0
    to_check = [s for s in snippets if s.kind != "skip"]
    with tempfile.TemporaryDirectory(prefix="ouro-doc-snippets-") as tmp:
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(lambda p: check(p[1], args, Path(tmp), p[0]),
                                    enumerate(to_check)))
    failures = [r for r in results if r is not None]
    for report in failures:
        print(report, file=sys.stderr)
    skipped = len(snippets) - len(to_check)
    print(f"{len(to_check) - len(failures)} of {len(to_check)} C++ blocks pass"
          f" ({skipped} skipped by marker)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
