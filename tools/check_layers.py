#!/usr/bin/env python3
"""Checks that ouro's layers depend only downwards (docs/architecture.md, "Layers").

The layer order, lowest first (a file may include files of its own layer and of lower ones):

    0 base     include/ouro/config.h, include/ouro/errors.h, src/base/
    1 alloc    include/ouro/alloc/, src/alloc/
    2 core     include/ouro/core/, include/ouro/detail/, src/core/
    3 weak     include/ouro/weak/, src/weak/
    4 value    include/ouro/value/, src/value/
    5 pickle   include/ouro/pickle/, src/pickle/
    6 trace    include/ouro/trace/, src/trace/
    7 top      include/ouro/ouro.h (the umbrella), tools/ouro/ (the CLI)

Two kinds of violation are reported, each with file and line:
  * an #include of a higher layer's header;
  * a function declared by hand in a .cpp file and defined in another .cpp file: the way the
    first wave hid upward calls from the include graph. A function meant to be shared is
    declared in a header of the layer that defines it.

Usage: check_layers.py [ROOT]        exit 0 when clean, 1 with a list of violations
       check_layers.py --self-test   proves on a made-up tree that both checks fire
"""
from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

LAYERS = ["base", "alloc", "core", "weak", "value", "pickle", "trace", "top"]

# (path prefix relative to the root, layer); the longest matching prefix wins.
PLACES = [
    ("include/ouro/config.h", "base"),
    ("include/ouro/errors.h", "base"),
    ("src/base/", "base"),
    ("include/ouro/alloc/", "alloc"),
    ("src/alloc/", "alloc"),
    ("include/ouro/core/", "core"),
    ("include/ouro/detail/", "core"),
    ("src/core/", "core"),
    ("include/ouro/weak/", "weak"),
    ("src/weak/", "weak"),
    ("include/ouro/value/", "value"),
    ("src/value/", "value"),
    ("include/ouro/pickle/", "pickle"),
    ("src/pickle/", "pickle"),
    ("include/ouro/trace/", "trace"),
    ("src/trace/", "trace"),
    ("include/ouro/ouro.h", "top"),
    ("tools/ouro/", "top"),
]

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
# A declaration at namespace scope (this code base does not indent namespaces): a return
# type, a name, a parameter list, then ';'. Lambdas, calls and members do not match.
PROTOTYPE = re.compile(
    r"^(?:\[\[[^\]]*\]\]\s*)?(?:inline\s+|static\s+|extern\s+)?"
    r"[A-Za-z_][\w:<>,\s\*&]*?[\s\*&]([A-Za-z_]\w*)\s*\([^;{}]*\)\s*(?:const\s*)?(?:noexcept\s*)?;"
)
DEFINITION = re.compile(
    r"^(?:\[\[[^\]]*\]\]\s*)?(?:inline\s+)?[A-Za-z_][\w:<>,\s\*&]*?[\s\*&:]([A-Za-z_]\w*)\s*\([^;]*\)"
    r"\s*(?:const\s*)?(?:noexcept\s*)?(?:->[^{;]*)?\{"
)


def layer_of(root: Path, path: Path) -> str | None:
    rel = path.relative_to(root).as_posix()
    best = None
    for prefix, layer in PLACES:
        if rel.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, layer)
    return best[1] if best else None


def resolve(root: Path, including: Path, name: str) -> Path | None:
    for base in (root / "include", root / "src", root / "tools", including.parent):
        candidate = base / name
        if candidate.is_file():
            return candidate
    return None


def sources(root: Path) -> list[Path]:
    files = []
    for top in ("include", "src", "tools/ouro"):
        for ext in ("*.h", "*.cpp", "*.inc"):
            files.extend((root / top).rglob(ext))
    return sorted(f for f in files if layer_of(root, f) is not None)


def check_includes(root: Path, files: list[Path]) -> list[str]:
    problems = []
    for f in files:
        mine = LAYERS.index(layer_of(root, f))
        for number, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            target = resolve(root, f, m.group(1))
            if target is None:
                continue
            theirs = layer_of(root, target)
            if theirs is not None and LAYERS.index(theirs) > mine:
                problems.append(
                    f"{f.relative_to(root)}:{number}: layer '{LAYERS[mine]}' includes "
                    f"'{m.group(1)}' of the higher layer '{theirs}'")
    return problems


def check_hand_declarations(root: Path, files: list[Path]) -> list[str]:
    definitions: dict[str, set[Path]] = {}
    cpp = [f for f in files if f.suffix == ".cpp"]
    for f in cpp:
        for line in f.read_text(errors="replace").splitlines():
            m = DEFINITION.match(line)
            if m:
                definitions.setdefault(m.group(1), set()).add(f)
    problems = []
    for f in cpp:
        for number, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
            m = PROTOTYPE.match(line)
            if not m or line.lstrip().startswith(("return", "using", "typedef", "friend")):
                continue
            elsewhere = definitions.get(m.group(1), set()) - {f}
            if elsewhere and f not in definitions.get(m.group(1), set()):
                where = ", ".join(sorted(str(p.relative_to(root)) for p in elsewhere))
                problems.append(
                    f"{f.relative_to(root)}:{number}: '{m.group(1)}' is declared by hand here "
                    f"but defined in {where}: declare it in a header of its layer")
    return problems


def check(root: Path) -> list[str]:
    files = sources(root)
    return check_includes(root, files) + check_hand_declarations(root, files)


def self_test() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for rel, text in {
            "include/ouro/alloc/allocator.h": '#include "ouro/core/heap.h"\n',
            "include/ouro/core/heap.h": '#include "ouro/alloc/allocator.h"\n',
            "src/alloc/allocator.cpp": "namespace ouro {\nvoid collect(int g) noexcept;\n}\n",
            "src/core/collector.cpp": "namespace ouro {\nvoid collect(int g) noexcept {\n}\n}\n",
        }.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        problems = check(root)
        upward = any("includes 'ouro/core/heap.h' of the higher layer 'core'" in p for p in problems)
        by_hand = any("'collect' is declared by hand" in p for p in problems)
        if len(problems) == 2 and upward and by_hand:
            print("check_layers self-test: both violations found")
            return 0
        print("check_layers self-test FAILED:", *problems, sep="\n  ")
        return 1


def main(argv: list[str]) -> int:
    if argv[1:] == ["--self-test"]:
        return self_test()
    root = Path(argv[1] if len(argv) > 1 else Path(__file__).resolve().parents[1])
    problems = check(root)
    for p in problems:
        print(p)
    if problems:
        print(f"check_layers: {len(problems)} violation(s) of the layer order")
        return 1
    print(f"check_layers: {len(sources(root))} files, layers depend only downwards")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
