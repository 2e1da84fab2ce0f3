#!/usr/bin/env python3
"""Checks one run of the ouro firmware under QEMU and prints its size table.

Usage: check_firmware.py ELF OUTPUT STATUS [--size-tool arm-none-eabi-size]

ELF is the firmware image, OUTPUT what QEMU printed (semihosting), STATUS QEMU's exit
status. Checks: the run ended with status 0 and its "firmware: N checks, 0 failed" line;
every chapter ran; the pickle bytes printed for protocols 2 and 4 equal CPython's
pickle.dumps of the seed's ComplexDataObject; the image fits the board's flash and RAM.
Then prints the size table (flash, RAM, heap metadata) and the bytes-per-object table
against MicroPython. Exit status 0 when every check passed.
"""
import argparse
import pickle
import re
import subprocess
from pathlib import Path
import sys

CHAPTERS = [
    "Python values in a static buffer",
    "A reference cycle and gc::collect()",
    "A weak-reference cache",
    "Pickling ComplexDataObject",
    "Sensor data in chunks",
    "Past the limit: MemoryError",
    "Bytes per object",
]


# The seed program's classes, defined here in __main__ (see tools/ouro/seed_program.py).
SEED_PROGRAM = Path(__file__).resolve().parents[1] / "tools" / "ouro" / "seed_program.py"
exec(SEED_PROGRAM.read_text())


def section_sizes(elf, size_tool):
    """Section name -> bytes, from `size -A`."""
    out = subprocess.run([size_tool, "-A", elf], check=True, capture_output=True, text=True).stdout
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            sizes[parts[0]] = int(parts[1])
    return sizes


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("elf")
    parser.add_argument("output")
    parser.add_argument("status", type=int)
    parser.add_argument("--size-tool", default="arm-none-eabi-size")
    parser.add_argument("--flash-bytes", type=int, default=256 * 1024)
    parser.add_argument("--ram-bytes", type=int, default=64 * 1024)
    args = parser.parse_args()

    with open(args.output, encoding="utf-8", errors="replace") as f:
        text = f.read()
    failures = []

    def expect(ok, what):
        if not ok:
            failures.append(what)

    expect(args.status == 0, f"QEMU exit status {args.status} (expected 0)")
    result = re.search(r"^firmware: (\d+) checks, (\d+) failed$", text, re.M)
    expect(result is not None, "no 'firmware: N checks, M failed' line (the firmware did not finish)")
    if result:
        expect(result.group(2) == "0", f"firmware reports {result.group(2)} failed checks")
    for number, title in enumerate(CHAPTERS, 1):
        expect(f"== {number}. {title} ==" in text, f"chapter {number} ({title}) missing")

    obj = ComplexDataObject()
    for protocol in (2, 4):
        match = re.search(rf"^pickle protocol {protocol} hex: ([0-9a-f]+)$", text, re.M)
        expected = pickle.dumps(obj, protocol).hex()
        if match is None:
            failures.append(f"no pickle bytes printed for protocol {protocol}")
        elif match.group(1) != expected:
            failures.append(f"protocol {protocol} pickle differs from CPython's:\n"
                            f"  board   {match.group(1)}\n  CPython {expected}")
        else:
            print(f"pickle protocol {protocol}: {len(expected) // 2} bytes, equal to CPython's "
                  f"pickle.dumps")

    sizes = section_sizes(args.elf, args.size_tool)
    text_bytes = sizes.get(".text", 0)
    exception_tables = sizes.get(".ARM.extab", 0) + sizes.get(".ARM.exidx", 0)
    data_bytes = sizes.get(".data", 0)
    flash = text_bytes + exception_tables + data_bytes
    ram = re.search(r"^ram \| (.*)$", text, re.M)
    figures = {}
    if ram:
        for field in ram.group(1).split("|"):
            name, value = field.split()
            figures[name] = int(value)
    expect(bool(figures), "no 'ram |' line")

    print()
    print("size table (bytes)")
    print(f"  flash  code + constants (.text)     {text_bytes:>8}")
    print(f"         exception tables (.ARM.ex*)  {exception_tables:>8}")
    print(f"         .data image                  {data_bytes:>8}")
    print(f"         total                        {flash:>8}  of {args.flash_bytes}")
    if figures:
        bss_other = figures["bss"] - figures["heap-buffer"]
        ram_total = (figures["data"] + figures["bss"] + figures["malloc-region"] +
                     figures["stack"])
        print(f"  RAM    .data                        {figures['data']:>8}")
        print(f"         .bss without the heap buffer {bss_other:>8}")
        print(f"         ouro heap buffer (in .bss)   {figures['heap-buffer']:>8}"
              f"  (peak reserved {figures['heap-peak-reserved']})")
        print(f"         malloc region                {figures['malloc-region']:>8}"
              f"  (peak used {figures['malloc-peak']})")
        print(f"         stack                        {figures['stack']:>8}"
              f"  (peak used {figures['stack-peak']})")
        print(f"         total                        {ram_total:>8}  of {args.ram_bytes}")
        print(f"  heap metadata: {figures['heap-tables']} bytes of heap tables in the buffer, "
              f"{figures['heap-object']} bytes of Heap object (on the stack)")
        expect(ram_total <= args.ram_bytes, f"RAM {ram_total} > {args.ram_bytes}")
    expect(flash <= args.flash_bytes, f"flash {flash} > {args.flash_bytes}")

    rows = re.findall(r"^micropython-row \| (.*) \| (\d+) \| (\d+)$", text, re.M)
    if rows:
        print()
        print(f"  {'expression':<52}{'MicroPython':>12}{'ouro':>8}")
        for expression, micropython, ouro in rows:
            print(f"  {expression:<52}{micropython:>12}{ouro:>8}")
    expect(len(rows) == 5, f"{len(rows)} bytes-per-object rows (expected 5)")

    print()
    if failures:
        for f in failures:
            print(f"FAILED: {f}")
        return 1
    print("embedded-test: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
