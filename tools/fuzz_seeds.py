#!/usr/bin/env python3
"""fuzz_seeds.py — write the seed corpora of the fuzz targets from real inputs.

    tools/fuzz_seeds.py            rewrite tests/unit/fuzz/<target>/seeds/ for
                                   cmdline, params, shell and fw_cfg
    tools/fuzz_seeds.py --check    only say whether the committed seeds are
                                   what this script would write (exit 1 if not)

Where each corpus comes from (the acpi and multiboot2 targets are seeded by
tests/unit/fixtures/, captured from QEMU by tools/acpi_capture.py):

  cmdline  each distinct `args:` line of tests/scenarios/*.scn, as the line
  params   GRUB's line (iso/grub.cfg passes none: empty), a NUL, then the
           args: line as the fw_cfg file — the input format of fuzz_params.c
  shell    every key sequence tests/interactive/test_shell_keys.py types
           (read from that file, so the two stay the same), one file each and
           one whole session; and each scenario's autorun commands typed as
           lines ending in CR
  fw_cfg   the fw_cfg file directory QEMU builds for q35 and for pc, taken
           from QEMU's own trace of fw_cfg_add_file (names and sizes; files
           are sorted by name with selectors from 0x20, as QEMU lays them
           out), with an args: line as opt/grace/cmdline, in the input format
           of fuzz_fw_cfg.c; the trace needs qemu-system-x86_64, so without
           it the fw_cfg seeds are left as they are

File names say where a seed came from (<scenario>.txt, keys-<n>.bin, ...).
Standard library only.
"""
import argparse
import ast
import glob
import os
import re
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUZZ = os.path.join(ROOT, "tests", "unit", "fuzz")


def scenario_args():
    """(scenario name, args line) for each distinct args: line, first file wins."""
    seen, out = set(), []
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "scenarios", "*.scn"))):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("args:"):
                    args = line[len("args:"):].strip()
                    if args and args not in seen:
                        seen.add(args)
                        out.append((os.path.splitext(os.path.basename(path))[0], args))
    return out


def autorun_commands(args):
    """The autorun="..." value of an args line (or autorun=word), or None."""
    m = re.search(r'autorun=("([^"]*)"?|(\S+))', args)
    if not m:
        return None
    return m.group(2) if m.group(2) is not None else m.group(3)


def key_sequences():
    """Every first argument of check(...) in test_shell_keys.py, evaluated
    with that file's key names."""
    path = os.path.join(ROOT, "tests", "interactive", "test_shell_keys.py")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    names = {"UP": "\x1b[A", "DOWN": "\x1b[B", "RIGHT": "\x1b[C", "LEFT": "\x1b[D",
             "HOME": "\x1b[H", "END": "\x1b[F", "DELETE": "\x1b[3~", "BS": "\x7f",
             "ctrl": lambda c: chr(ord(c) & 0x1f)}
    seqs = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "check" and node.args):
            expr = ast.Expression(node.args[0])
            seq = eval(compile(expr, path, "eval"), {"__builtins__": {}}, names)
            if seq:
                seqs.append((node.lineno, seq))
    return [s for _, s in sorted(seqs)]


def fw_cfg_files(machine):
    """[(name, size)] of QEMU's fw_cfg files on `machine`, from its trace,
    or None when QEMU cannot be run."""
    argv = ["qemu-system-x86_64", "-M", machine, "-accel", "tcg", "-display", "none",
            "-nodefaults", "-S", "-monitor", "none", "-serial", "none",
            "-fw_cfg", "name=opt/grace/cmdline,string=x", "-trace", "fw_cfg_add_file"]
    # QEMU adds the files while it builds the machine, before -S stops it;
    # two seconds later all are in the trace, and `timeout` ends QEMU.
    try:
        proc = subprocess.run(["timeout", "2"] + argv, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except OSError:
        return None
    files = {}
    for line in proc.stderr.decode("utf-8", "replace").splitlines():
        m = re.search(r"#\d+: (\S+) \((\d+) bytes\)", line)
        if m:
            files[m.group(1)] = int(m.group(2))
    return sorted(files.items()) if files else None


def fw_cfg_seed(files, cmdline, bufsel=0xFF, namesel=0):
    """fuzz_fw_cfg.c's input: buffer-size byte, name byte, the directory
    item (be32 count, 64-byte entries), then the file content."""
    body = struct.pack(">I", len(files))
    for i, (name, size) in enumerate(files):
        if name == "opt/grace/cmdline":
            size = len(cmdline)
        body += struct.pack(">IHH56s", size, 0x20 + i, 0, name.encode())
    return bytes([bufsel, namesel]) + body + cmdline


def corpora():
    """{target: {file name: bytes}}; fw_cfg missing when QEMU is not there."""
    args = scenario_args()
    out = {"cmdline": {}, "params": {}, "shell": {}}
    for name, a in args:
        out["cmdline"][name + ".txt"] = a.encode()
        out["params"][name + ".bin"] = b"\0" + a.encode()
        cmds = autorun_commands(a)
        if cmds:
            out["shell"]["autorun-" + name + ".bin"] = "".join(
                c.strip() + "\r" for c in cmds.split(";")).encode()
    seqs = key_sequences()
    for i, s in enumerate(seqs):
        out["shell"]["keys-%02d.bin" % i] = s.encode("latin-1")
    out["shell"]["keys-session.bin"] = "".join(seqs).encode("latin-1")
    fw = {}
    for machine in ("q35", "pc"):
        files = fw_cfg_files(machine)
        if files is None:
            return out
        for name, a in args[:8]:
            fw["%s-%s.bin" % (machine, name)] = fw_cfg_seed(files, a.encode())
        fw["%s-small-buffer.bin" % machine] = fw_cfg_seed(files, args[0][1].encode(), bufsel=5)
        # fuzz_fw_cfg.c: a name byte 0xc0..0xfe picks names[byte % 7]; 1 is etc/e820.
        fw["%s-find-e820.bin" % machine] = fw_cfg_seed(files, b"x" * 40, bufsel=64,
                                                       namesel=0xc0 + (1 - 0xc0 % 7) % 7)
    out["fw_cfg"] = fw
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--check", action="store_true", help="compare, do not write")
    ns = p.parse_args()
    differ = []
    for target, files in sorted(corpora().items()):
        d = os.path.join(FUZZ, target, "seeds")
        old = set(os.listdir(d)) if os.path.isdir(d) else set()
        for fname, data in sorted(files.items()):
            path = os.path.join(d, fname)
            cur = open(path, "rb").read() if os.path.exists(path) else None
            if cur != data:
                differ.append(os.path.relpath(path, ROOT))
                if not ns.check:
                    os.makedirs(d, exist_ok=True)
                    with open(path, "wb") as f:
                        f.write(data)
        for fname in sorted(old - set(files)):
            differ.append(os.path.relpath(os.path.join(d, fname), ROOT) + " (stale)")
            if not ns.check:
                os.unlink(os.path.join(d, fname))
        print("%-8s %3d seeds in %s" % (target, len(files), os.path.relpath(d, ROOT)))
    if ns.check and differ:
        print("fuzz_seeds: not up to date:\n  " + "\n  ".join(differ))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
