#!/usr/bin/env python3
"""codestats: the longest source files and C functions of the tree.

A measuring stick for structural work (docs/hacking.md): a file or a function
a reader cannot hold in their head shows up at the top of these lists.

    tools/codestats.py            top 15 files and top 15 functions
    tools/codestats.py --most 30  more rows

Files: every *.c, *.h, *.asm and *.py tracked by git under the kernel and test
directories (generated and data files such as the font are left out), counted
in lines. Functions: a C function is a line at column 0 that ends in ')' or
contains '(' and is followed by a '{' at column 0; it ends at the next '}' at
column 0 (the kernel's style, which every file here follows). Its length is
the number of lines from its name to its closing brace.
"""

import argparse
import re
import subprocess
import sys

DIRS = ["arch", "boot", "kernel", "mm", "drivers", "lib", "include", "tests", "tools"]
SKIP = {"drivers/font8x16.c"}
EXTS = (".c", ".h", ".asm", ".py")


def tracked_files():
    out = subprocess.run(["git", "ls-files", "--"] + DIRS, capture_output=True,
                         text=True, check=True).stdout.split()
    return [f for f in out if f.endswith(EXTS) and f not in SKIP]


NAME = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def c_functions(path, lines):
    """Yield (length, 'path:line name') for each function definition."""
    i = 0
    while i < len(lines):
        if lines[i].startswith("{") and i > 0:
            # The signature: walk back over continuation lines to column-0 text.
            j = i - 1
            while j > 0 and lines[j][:1] in (" ", "\t"):
                j -= 1
            m = NAME.search(lines[j]) or NAME.search(" ".join(lines[j:i]))
            k = i + 1
            while k < len(lines) and not lines[k].startswith("}"):
                k += 1
            if m and "=" not in lines[j].split("(")[0]:
                yield (k - j + 1, f"{path}:{j + 1} {m.group(1)}")
            i = k
        i += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--most", type=int, default=15)
    a = ap.parse_args()
    files, funcs = [], []
    for f in tracked_files():
        try:
            with open(f, encoding="utf-8", errors="replace") as fh:
                lines = fh.read().split("\n")
        except OSError as e:
            print(f"codestats: {f}: {e}", file=sys.stderr)
            continue
        files.append((len(lines) - 1, f))
        if f.endswith((".c", ".h")):
            funcs.extend(c_functions(f, lines))
    files.sort(reverse=True)
    funcs.sort(reverse=True)
    print(f"files: {len(files)}, lines: {sum(n for n, _ in files)}")
    print("longest files:")
    for n, f in files[:a.most]:
        print(f"  {n:5d}  {f}")
    print(f"C functions: {len(funcs)}; longest:")
    for n, f in funcs[:a.most]:
        print(f"  {n:5d}  {f}")


if __name__ == "__main__":
    main()
