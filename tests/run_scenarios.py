#!/usr/bin/env python3
"""run_scenarios.py — run Grace's tests and give one verdict.

Items it runs (all in parallel, -j N, default: the number of CPUs):
  unit:<test>   every tests/unit/test_*.c, compiled for the host with
                ASan+UBSan and run (exit 0 = pass); tests/unit/test_*.py run
                with python3
  unit:fuzz_<t> every libFuzzer target tests/unit/fuzz_<t>.c, built with
                ASan+UBSan and tests/unit/fuzz_replay.c's main() (no libFuzzer
                needed) and run over its seed corpus and kept crash inputs
                (fuzz_input_dirs()): a deterministic replay, exit 0 = pass
  <scenario>    every tests/scenarios/<scenario>.scn: boot the ISO in QEMU
                with the scenario's machine, firmware, -smp, memory and kernel
                arguments, then judge the serial log (docs/testing.md has the
                format and the exact pass rules); `type: gdb` scenarios run a
                scripted GDB session against QEMU's gdbstub instead

Usage:
  tests/run_scenarios.py                 quick set (what `make test` runs)
  tests/run_scenarios.py --set all       everything (`make test-all`)
  tests/run_scenarios.py 'boot-*' unit:test_kstrtox     only these (globs)
  tests/run_scenarios.py --unit-only | --no-unit
  tests/run_scenarios.py --list          show what would run

Every item leaves build/test-logs/<name>.log (serial console or compiler +
test output) and, for QEMU, <name>.cmd (the exact command) and
<name>.qemu.log (QEMU's own messages). The last line printed is always
`N passed, N failed` (preceded by `N skipped` when any were skipped and by `failed: NAME ...`
when anything failed); the exit status is
non-zero when anything failed.

Standard library only; the verdict logic (judge()) is pure and is tested by
tests/unit/test_runner.py.
"""

import argparse
import concurrent.futures
import fnmatch
import glob
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import qemu  # noqa: E402  (tools/qemu.py)

# ---------------------------------------------------------------------------
# Verdicts: what a line of console output means.
# ---------------------------------------------------------------------------

# Lines that prove a test actually ran and passed.
VERDICT_PASS = re.compile(r"TEST .*: PASS|End of test: SUCCESS|BENCH ")
# Lines where the kernel says a test failed.
VERDICT_FAIL = re.compile(r"TEST .*: FAIL|End of test: FAILURE")
# Lines that mean something went wrong, whatever a test said.
BADNESS = [
    ("panic", re.compile(r"Kernel panic")),
    ("warning", re.compile(r"WARNING:")),
    ("!!!", re.compile(r"!!!")),
    ("exception", re.compile(r"EXCEPTION")),
    ("BUG", re.compile(r"BUG at")),
    ("UBSAN", re.compile(r"UBSAN")),
    # A word start, so "install" never counts; not after "." so a parameter
    # name in a listing (`params`: rcu.stall_timeout, locktorture.stall_s) is
    # not a report either.
    ("stall", re.compile(r"(?<![.\w])stall")),
]

# ANSI/VT100 escape sequences (OVMF and GRUB paint the screen on the serial
# port) and other control characters, removed before matching.
_ESCAPES = re.compile(r"\x1b\[[0-9;=?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1b.|[\x00-\x08\x0b-\x1f\x7f]")

QEMU_SUCCESS = qemu.EXIT_SUCCESS_STATUS  # 33


def clean_lines(text):
    """Console bytes (already decoded) → lines without escapes or CRs."""
    return [_ESCAPES.sub("", line) for line in text.replace("\r\n", "\n").split("\n")]


def short(line, n=160):
    line = line.strip()
    return line if len(line) <= n else line[:n - 3] + "..."


def explain_status(status, success):
    """A human sentence for a process exit status."""
    if status is None:
        return "no exit status"
    if status < 0:
        return "killed by signal %d" % -status
    if status == success:
        return "exit status %d (success)" % status
    if success == QEMU_SUCCESS:
        if status == 0:
            return ("QEMU exit status 0: a triple fault (QEMU stops on reset with -no-reboot) "
                    "or a power-off that did not use isa-debug-exit")
        if status == 1:
            return "QEMU exit status 1: QEMU itself failed (see the .qemu.log)"
        if status & 1:
            return ("QEMU exit status %d: the kernel powered off with code %#x (0x10 = success)"
                    % (status, status >> 1))
    return "exit status %d (expected %d)" % (status, success)


def exempt(line, allow_rx, args):
    """May this line mention badness without reporting it? Yes when an
    allow_output regex matches it, or when it contains the whole kernel
    argument string (the kernel echoing its command line): `args:
    rcu.stall_timeout=3` must not count as a stall."""
    return any(rx.search(line) for rx in allow_rx) or bool(args) and args in line


def first_line(lines, what_of):
    """(line number, what, text) of the first line for which what_of(line)
    is not None, or None."""
    for no, line in enumerate(lines, 1):
        what = what_of(line)
        if what:
            return no, what, line
    return None


def judge(expect, status, timed_out, lines, timeout, expect_output=(), forbid_output=(),
          allow_output=(), args="", success_status=QEMU_SUCCESS):
    """Decide a scenario from its exit status and console lines.

    Returns (ok, reason); reason is "" when ok. Pure: tested with fake logs.

    A report is a FAIL verdict line, or a badness line that is not exempt().
    expect "pass": status == success_status, no timeout, no report, no
    forbid_output line, every expect_output matched, and some verdict (a
    VERDICT_PASS line or an expect_output match).
    expect "fail": the kernel itself reported failure — a report, or a
    status other than success that is not the harness's trouble (QEMU's own
    error status 1, a signal) — and every expect_output matched, no
    forbid_output; a timeout is a failure even here (the fault must be
    caught promptly).
    """
    expect_rx = [re.compile(r) for r in expect_output]
    forbid_rx = [re.compile(r) for r in forbid_output]
    allow_rx = [re.compile(r) for r in allow_output]
    args = (args or "").strip()

    def report(line):
        if VERDICT_FAIL.search(line):
            return "test failure"
        if exempt(line, allow_rx, args):
            return None
        return next((name for name, rx in BADNESS if rx.search(line)), None)

    first_report = first_line(lines, report)
    first_forbidden = first_line(
        lines, lambda ln: "forbidden output" if any(rx.search(ln) for rx in forbid_rx) else None)
    first_bad = min((b for b in (first_report, first_forbidden) if b), default=None)
    missing = [rx.pattern for rx in expect_rx if not any(rx.search(ln) for ln in lines)]
    has_verdict = len(missing) < len(expect_rx) or any(VERDICT_PASS.search(ln) for ln in lines)
    last = next((ln for ln in reversed(lines) if ln.strip()), "")

    def bad_text(bad):
        no, what, text = bad
        return "%s, line %d: %s" % (what, no, short(text))

    if timed_out:
        reason = "timeout after %g s" % timeout
        if first_bad:
            reason += "; " + bad_text(first_bad)
        elif expect == "fail":
            reason += " (a failure must be reported promptly, not hang)"
        elif last:
            reason += "; last line: " + short(last, 100)
        return False, reason
    if expect == "fail":
        harness_trouble = status is None or status < 0 or (
            success_status == QEMU_SUCCESS and status == 1)
        if first_forbidden:
            return False, bad_text(first_forbidden)
        if not first_report and (status == success_status or harness_trouble):
            return False, ("expected the kernel to report a failure, but the run ended with %s "
                           "and no FAIL/badness line" % explain_status(status, success_status))
    else:
        if first_bad:
            return False, bad_text(first_bad)
        if status != success_status:
            reason = explain_status(status, success_status)
            return False, reason + ("; last line: " + short(last, 100) if last else "")
    if missing:
        return False, "missing expected output /%s/" % missing[0]
    if expect == "pass" and not has_verdict:
        return False, ("no verdict line (TEST ...: PASS, End of test: SUCCESS, BENCH ..., "
                       "or an expect_output match)")
    return True, ""


# ---------------------------------------------------------------------------
# Scenario files.
# ---------------------------------------------------------------------------

# Keys whose value is the rest of the line, verbatim ('#' included).
VERBATIM_KEYS = {"args", "expect_output", "forbid_output", "allow_output", "qemu_args",
                 "host_load"}
REPEAT_KEYS = {"expect_output", "forbid_output", "allow_output"}
SIMPLE_KEYS = {"machine", "firmware", "smp", "memory", "timeout", "expect", "set",
               "requires", "type", "gdb_script", "cpu", "build", "accel", "points", "lab",
               "selftest"}
REQUIREMENTS = {"kvm", "kvm-fast"}
# Kernel images a scenario can boot: build subdirectory and make variables.
#   release  what `make` builds (-O2)
#   debug    make DEBUG=1: -Og, debug checks, UBSan
#   step     make STEP=1: -Og only, the image `make debug` boots for GDB stepping
IMAGES = {"release": ("", []), "debug": ("debug", ["DEBUG=1"]), "step": ("step", ["STEP=1"])}


class Item:
    """One thing to run: a scenario or a unit test."""

    def __init__(self, name, kind, path):
        self.name = name
        self.kind = kind          # "qemu", "gdb", "unit-c", "unit-py"
        self.path = path
        self.desc = ""
        self.error = None         # a problem with the scenario file itself
        self.machine = "q35"
        self.firmware = "bios"
        self.smp = "2"
        self.memory = "256M"
        self.args = ""
        self.timeout = 60.0
        self.expect = "pass"
        self.expect_output = []
        self.forbid_output = []
        self.allow_output = []
        self.set = "quick"
        self.requires = []
        self.gdb_script = None
        self.lab = None           # type: lab: the lab whose grader is proven (tools/lab.py selftest)
        self.cpu = None
        self.qemu_args = []
        self.build = "release"    # a key of IMAGES: release | debug | step
        self.matrix = {}          # the matrix binding this item was expanded from
        self.accel = None         # None: the machine's choice; "tcg": a TCG-only behaviour
        self.host_load = None     # HostLoadSpec: CPU-bound host processes during the run

    @property
    def log_base(self):
        return self.name.replace(":", "-")


# A key, optionally with a matrix condition: `expect_output[smp=2,4]`.
_KEY = re.compile(r"^([a-z_]+)(?:\[([A-Za-z_]\w*)=([^\]]*)\])?$")
_VAR = re.compile(r"\{([A-Za-z_]\w*)\}")


def read_scenario(path):
    """A scenario file → (description, entries, error). An entry is
    (line number, key, condition, value); condition is None or
    (variable, allowed values)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        return "", [], str(e)
    desc, entries = "", []
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            desc = desc or line.lstrip("#").strip()
            continue
        key, sep, value = line.partition(":")
        m = _KEY.match(key.strip())
        if not sep or not m:
            return desc, entries, "line %d: expected 'key: value', got %r" % (no, line)
        key = m.group(1)
        cond = (m.group(2), m.group(3).split(",")) if m.group(2) else None
        if key in VERBATIM_KEYS:
            value = value.strip()
        elif key in SIMPLE_KEYS or key in ("matrix", "name"):
            value = re.sub(r"\s+#.*$", "", value).strip()
        else:
            return desc, entries, "line %d: unknown key %r" % (no, key)
        entries.append((no, key, cond, value))
    return desc, entries, None


def expand_matrix(entries):
    """The bindings ({variable: value}) that the `matrix:` lines spell: each
    line is `var=v1,v2 other=w ...` and stands for the product of its
    variables' values; the file's items are the union over its lines, in
    order. Every line must bind the same variables. Returns (bindings,
    error); no matrix line → ([{}], None)."""
    bindings, names = [], None
    for no, key, cond, value in entries:
        if key != "matrix":
            continue
        if cond:
            return [], "line %d: matrix: takes no condition" % no
        try:
            words = shlex.split(value)
        except ValueError as e:
            return [], "line %d: matrix: %s" % (no, e)
        axes = []
        for w in words:
            var, eq, vals = w.partition("=")
            if not eq or not re.match(r"^[A-Za-z_]\w*$", var) or var in dict(axes):
                return [], "line %d: matrix: expected distinct var=v1,v2 words, got %r" % (no, w)
            axes.append((var, vals.split(",")))
        if not axes:
            return [], "line %d: matrix: no variables" % no
        if names is not None and set(dict(axes)) != names:
            return [], "line %d: matrix: binds %s, but an earlier line binds %s" % (
                no, ", ".join(sorted(dict(axes))), ", ".join(sorted(names)))
        names = set(dict(axes))
        combos = [{}]
        for var, vals in axes:
            combos = [dict(c, **{var: v}) for c in combos for v in vals]
        bindings += combos
    return bindings or [{}], None


def substitute(text, binding):
    """{var} → its value; an unknown variable raises KeyError."""
    return _VAR.sub(lambda m: binding[m.group(1)], text) if binding else text


def parse_scenarios(path):
    """A scenario file → its items: one, or one per matrix binding."""
    stem = os.path.splitext(os.path.basename(path))[0]
    desc, entries, error = read_scenario(path)
    bindings, merror = expand_matrix(entries)
    error = error or merror
    pattern = next((v for no, k, c, v in entries if k == "name"), None)
    if not error and bindings != [{}] and pattern is None:
        error = "a matrix: file needs a name: pattern ({var} for each variable)"
    if not error and bindings == [{}] and pattern is not None:
        error = "name: is only for matrix: files (a scenario is named after its file)"
    if error:
        it = Item(stem, "qemu", path)
        it.desc, it.error = desc, error
        return [it]
    items = []
    for b in bindings:
        try:
            name = substitute(pattern, b) if b else stem
        except KeyError as e:
            it = Item(stem, "qemu", path)
            it.error = "name: {%s} is not a matrix variable" % e.args[0]
            return [it]
        it = Item(name, "qemu", path)
        it.matrix = b
        try:
            it.desc = substitute(desc, b)
        except KeyError:
            it.desc = desc
        it.error = apply_entries(it, entries, b)
        items.append(it)
    if len({it.name for it in items}) != len(items):
        items[0].error = "the matrix spells the same name twice (name: %s)" % pattern
        return items[:1]
    return items


def parse_scenario(path):
    """The item of a plain scenario file (the first, for a matrix file);
    tools/lab.py reads its graders' checks with it."""
    return parse_scenarios(path)[0]


def apply_entries(it, entries, binding):
    """Set the item's fields from the file's lines; an error message or None."""
    for no, key, cond, value in entries:
        if key in ("matrix", "name"):
            continue
        if cond:
            var, allowed = cond
            if var not in binding:
                return "line %d: %s[%s=...]: %s is not a matrix variable" % (no, key, var, var)
            if binding[var] not in allowed:
                continue
        try:
            value = substitute(value, binding)
        except KeyError as e:
            return "line %d: {%s} is not a matrix variable" % (no, e.args[0])
        try:
            if key in REPEAT_KEYS:
                re.compile(value)
                getattr(it, key).append(value)
            elif key == "machine":
                if value not in qemu.MACHINES:
                    raise ValueError("machine must be pc or q35")
                it.machine = value
            elif key == "firmware":
                if value not in qemu.FIRMWARES:
                    raise ValueError("firmware must be bios or uefi")
                it.firmware = value
            elif key == "timeout":
                it.timeout = float(value)
                if it.timeout <= 0:
                    raise ValueError("timeout must be positive")
            elif key == "expect":
                if value not in ("pass", "fail"):
                    raise ValueError("expect must be pass or fail")
                it.expect = value
            elif key == "set":
                if value not in ("quick", "long", "soak"):
                    raise ValueError("set must be quick, long or soak")
                it.set = value
            elif key == "requires":
                reqs = value.replace(",", " ").split()
                unknown = set(reqs) - REQUIREMENTS
                if unknown:
                    raise ValueError("unknown requirement %s" % ", ".join(sorted(unknown)))
                it.requires += reqs
            elif key == "type":
                if value not in ("qemu", "gdb", "lab"):
                    raise ValueError("type must be qemu, gdb or lab")
                it.kind = value
            elif key == "build":
                if value not in IMAGES:
                    raise ValueError("build must be one of %s" % ", ".join(IMAGES))
                it.build = value
            elif key == "accel":
                if value != "tcg":
                    raise ValueError("accel must be tcg (a TCG-only behaviour); "
                                     "for KVM write `requires: kvm`")
                it.accel = value
            elif key == "selftest":
                if value not in ("yes", "no"):
                    raise ValueError("selftest must be yes or no (a lab check `make test` skips)")
                it.selftest = value
            elif key == "qemu_args":
                it.qemu_args += shlex.split(value)
            elif key == "host_load":
                it.host_load = parse_host_load(value)
            else:
                setattr(it, key, value)
        except (ValueError, re.error) as e:
            return "line %d: %s: %s" % (no, key, e)
    if it.kind == "lab" and not os.path.isdir(os.path.join(ROOT, "docs", "labs", it.lab or "")):
        return "type: lab needs a `lab:` line naming a directory of docs/labs"
    if it.kind == "gdb":
        if not it.gdb_script:
            return "type: gdb needs a gdb_script: line"
        if not os.path.exists(os.path.join(ROOT, it.gdb_script)):
            return "gdb_script %s does not exist" % it.gdb_script
    return None


def fuzz_input_dirs(unit_dir, target):
    """The committed inputs of fuzz target <target>, as `make fuzz` seeds
    it: the unit-test fixtures of the same name, the seed corpus, and every
    crash input kept as a regression fixture."""
    return [d for d in (os.path.join(unit_dir, "fixtures", target),
                        os.path.join(unit_dir, "fuzz", target, "seeds"),
                        os.path.join(unit_dir, "fuzz", target, "crashes"))
            if os.path.isdir(d)]


def discover(scenario_dir, unit_dir):
    items = []
    for path in sorted(glob.glob(os.path.join(unit_dir, "test_*.c"))):
        name = "unit:" + os.path.splitext(os.path.basename(path))[0]
        items.append(Item(name, "unit-c", path))
    for path in sorted(glob.glob(os.path.join(unit_dir, "test_*.py"))):
        name = "unit:" + os.path.splitext(os.path.basename(path))[0]
        items.append(Item(name, "unit-py", path))
    for path in sorted(glob.glob(os.path.join(unit_dir, "fuzz_*.c"))):
        base = os.path.splitext(os.path.basename(path))[0]
        if base == "fuzz_replay":
            continue
        it = Item("unit:" + base, "unit-fuzz", path)
        it.desc = "replay the %s fuzz corpus and kept crashes" % base[len("fuzz_"):]
        items.append(it)
    seen = {}
    for path in sorted(glob.glob(os.path.join(scenario_dir, "*.scn"))):
        for it in parse_scenarios(path):
            if it.name in seen and not it.error:
                it.error = "name %s is also spelled by %s" % (it.name, os.path.basename(seen[it.name]))
            seen.setdefault(it.name, path)
            items.append(it)
    return items


# ---------------------------------------------------------------------------
# Running.
# ---------------------------------------------------------------------------

class Result:
    def __init__(self, status, reason="", seconds=0.0):
        self.status = status      # "PASS", "FAIL", "SKIP"
        self.reason = reason
        self.seconds = seconds


# ---------------------------------------------------------------------------
# Host load: CPU-bound host processes during a run (`host_load:`).
# ---------------------------------------------------------------------------

class HostLoadSpec:
    def __init__(self, n, start_s=None, start_rx=None, for_s=None):
        self.n, self.start_s, self.start_rx, self.for_s = n, start_s, start_rx, for_s


def parse_host_load(value):
    """`N start=SECONDS|/REGEX/ [for=SECONDS]` → HostLoadSpec: N busy-loop host
    processes from SECONDS after QEMU starts (or from the first console line
    matching REGEX) for SECONDS (default: to the end of the run)."""
    m = re.fullmatch(r"\s*(\d+)\s+start=(?:(\d+(?:\.\d+)?)|/(.*)/)(?:\s+for=(\d+(?:\.\d+)?))?\s*",
                     value)
    if not m:
        raise ValueError("host_load must be `N start=SECONDS|/REGEX/ [for=SECONDS]`")
    n = int(m.group(1))
    if not 1 <= n <= 64:
        raise ValueError("host_load: N must be 1..64")
    rx = re.compile(m.group(3)) if m.group(3) is not None else None
    return HostLoadSpec(n, float(m.group(2)) if m.group(2) else None, rx,
                        float(m.group(4)) if m.group(4) else None)


class HostLoad:
    """Runs a HostLoadSpec next to one QEMU run: a thread that waits for the
    start (time or console line in `log`), starts the processes, and ends them
    by their PIDs after `for=` or at stop(), which the runner calls in a
    `finally` (so also on a timeout or a failure). Each start and stop is
    noted in `events` (seconds after the run started) for the .cmd file."""
    BUSY = [sys.executable, "-c", "while True: pass"]

    def __init__(self, spec, log):
        self.spec, self.log = spec, log
        self.procs, self.events = [], []
        self.done = threading.Event()
        self.t0 = time.monotonic()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _started(self):
        if self.spec.start_rx is None:
            return time.monotonic() - self.t0 >= self.spec.start_s
        return any(self.spec.start_rx.search(ln) for ln in clean_lines(read_text(self.log)))

    def _run(self):
        while not self._started():
            if self.done.wait(0.1):
                return
        if self.done.is_set():
            return
        self.procs = [_start(self.BUSY, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL) for _ in range(self.spec.n)]
        self.events.append("%.1f s: started %d busy host processes (pids %s)" % (
            time.monotonic() - self.t0, self.spec.n, " ".join(str(p.pid) for p in self.procs)))
        self.done.wait(self.spec.for_s)   # None: until stop()
        self._end()

    def _end(self):
        procs, self.procs = self.procs, []
        for p in procs:
            _kill(p, False)
            with _live_lock:
                _live.pop(p.pid, None)
        if procs:
            self.events.append("%.1f s: ended them" % (time.monotonic() - self.t0))

    def stop(self):
        self.done.set()
        self.thread.join(timeout=10)
        self._end()


_live = {}            # pid -> Popen, so Ctrl-C can end what we started
_live_lock = threading.Lock()


def _start(argv, **kw):
    proc = subprocess.Popen(argv, **kw)
    with _live_lock:
        _live[proc.pid] = proc
    return proc


def _finish(proc, timeout, group=False):
    """Wait for proc; on timeout end it (by its PID, or its own process
    group when we made one for it) and return (status, timed_out)."""
    try:
        return proc.wait(timeout=timeout), False
    except subprocess.TimeoutExpired:
        _kill(proc, group)
        return proc.wait(), True
    finally:
        with _live_lock:
            _live.pop(proc.pid, None)


def _kill(proc, group):
    try:
        if group:
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            proc.terminate()
        try:
            proc.wait(timeout=3)
            return
        except subprocess.TimeoutExpired:
            pass
        if group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except ProcessLookupError:
        pass


def kill_all_started():
    with _live_lock:
        procs = list(_live.values())
    for p in procs:
        _kill(p, group=(getattr(p, "grace_group", False)))


def read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


class Runner:
    def __init__(self, ns):
        self.build = os.path.abspath(ns.build_dir)
        self.iso = os.path.join(self.build, "grace.iso")
        self.elf = os.path.join(self.build, "grace.elf")
        self.logdir = os.path.join(self.build, "test-logs")
        self.unitdir = os.path.join(self.build, "unit")
        self.scale = ns.timeout_scale
        self.hostcc = os.environ.get("HOSTCC", "cc")
        self.accel = None            # tools/accel.py's Choice, once the ISO exists
        self._kvm_lock = threading.Lock()

    def choose_accel(self):
        self.accel = qemu.choose_accel(self.iso, log=lambda m: print(m, flush=True))
        return self.accel

    def kvm_for(self, it):
        """(Choice to run a `requires: kvm` item with, or None, and why not).
        When the machine runs TCG because KVM is slow, the first such item
        measures one whole KVM boot (once; cached) so the others know whether
        KVM works at all and how much longer a boot takes there."""
        c = self.accel
        if c.use_kvm:
            return c, ""
        if not c.kvm_cpu:
            return None, c.reason
        with self._kvm_lock:
            if c.kvm_works is None:
                c = self.accel = qemu.accel.measure_kvm(
                    c, self.iso, os.path.join(self.build, "accel.json"),
                    log=lambda m: print(m, flush=True))
        if not c.kvm_works:
            return None, "KVM (-cpu %s) does not boot Grace here: %s" % (
                c.kvm_cpu, c.kvm_fail or c.reason)
        return qemu.accel.Choice("kvm", "KVM for this scenario; machine choice TCG: " + c.reason,
                                 kvm_cpu=c.kvm_cpu, kvm_works=True, kvm_boot_s=c.kvm_boot_s,
                                 tcg_boot_s=c.tcg_boot_s), ""

    # -- unit tests --------------------------------------------------------

    def run_unit_c(self, it):
        src = os.path.relpath(it.path, ROOT)
        exe = os.path.join(self.unitdir, os.path.splitext(os.path.basename(src))[0])
        sources, cflags, timeout = [], [], 120.0
        with open(it.path, encoding="utf-8", errors="replace") as f:
            for line in f.read().splitlines()[:20]:
                m = re.match(r"\s*//\s*UNIT_(SOURCES|CFLAGS|TIMEOUT):(.*)", line)
                if m and m.group(1) == "SOURCES":
                    sources += m.group(2).split()
                elif m and m.group(1) == "CFLAGS":
                    cflags += shlex.split(m.group(2))
                elif m and m.group(1) == "TIMEOUT":
                    timeout = float(m.group(2))
        cmd = ([self.hostcc, "-std=c11", "-g", "-O1", "-fsanitize=address,undefined",
                "-fno-sanitize-recover=all", "-DHAVE_HOST_SHIM=1",
                "-Iinclude", "-Iarch/x86_64/include", "-Itests/unit"] + cflags +
               [src, "tests/unit/host_shim.c"] + sources + ["-o", exe])
        log = os.path.join(self.logdir, it.log_base + ".log")
        failed = self._compile(cmd, log)
        if failed:
            return False, failed
        return self._run_test_program([exe], log, timeout * self.scale)

    @staticmethod
    def _compile(cmd, log):
        """Run a host compile, its command and output in `log`; None if it
        worked, else a one-line reason."""
        with open(log, "w") as lf:
            lf.write("$ " + " ".join(shlex.quote(c) for c in cmd) + "\n")
            lf.flush()
            cc = subprocess.run(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=lf,
                                stderr=subprocess.STDOUT)
        if cc.returncode == 0:
            return None
        err = next((ln for ln in read_text(log).splitlines() if "error" in ln), "see log")
        return "compile failed: " + short(err)

    def run_unit_fuzz(self, it):
        """Build a fuzz target with fuzz_replay.c's main() and plain
        ASan/UBSan, and run it over every committed input of the target."""
        src = os.path.relpath(it.path, ROOT)
        base = os.path.splitext(os.path.basename(src))[0]
        exe = os.path.join(self.unitdir, base)
        with open(it.path, encoding="utf-8", errors="replace") as f:
            first = f.readline()
        m = re.match(r"\s*//\s*FUZZ_SOURCES:(.*)", first)
        if not m:
            return False, "first line must be // FUZZ_SOURCES: <kernel sources>"
        cmd = ([self.hostcc, "-std=c11", "-g", "-O1", "-fsanitize=address,undefined",
                "-fno-sanitize-recover=all", "-Iinclude", "-Iarch/x86_64/include",
                "-Itests/unit", src, "tests/unit/fuzz_replay.c"] + m.group(1).split() +
               ["-o", exe])
        log = os.path.join(self.logdir, it.log_base + ".log")
        failed = self._compile(cmd, log)
        if failed:
            return False, failed
        dirs = fuzz_input_dirs(os.path.dirname(it.path), base[len("fuzz_"):])
        if not dirs:
            return False, "no seed corpus (tests/unit/fuzz/%s/seeds/)" % base[len("fuzz_"):]
        return self._run_test_program([exe] + [os.path.relpath(d, ROOT) for d in dirs], log,
                                      60.0 * self.scale)

    def run_unit_py(self, it):
        log = os.path.join(self.logdir, it.log_base + ".log")
        open(log, "w").close()
        return self._run_test_program([sys.executable, it.path], log, 120.0 * self.scale)

    def _run_test_program(self, argv, log, timeout):
        env = dict(os.environ, UBSAN_OPTIONS="print_stacktrace=1",
                   ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "detect_leaks=1"))
        with open(log, "a") as lf:
            lf.write("$ " + " ".join(shlex.quote(a) for a in argv) + "\n")
            lf.flush()
            proc = _start(argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=lf,
                          stderr=subprocess.STDOUT, env=env)
            status, timed_out = _finish(proc, timeout)
        if timed_out:
            return False, "timeout after %g s" % timeout
        if status != 0:
            text = read_text(log).splitlines()
            why = next((ln for ln in text if ln.startswith("FAIL") or "ERROR:" in ln
                        or "runtime error" in ln or "Kernel panic" in ln), None)
            return False, "%s%s" % (explain_status(status, 0), ": " + short(why) if why else "")
        return True, ""

    # -- QEMU scenarios ----------------------------------------------------

    def run_qemu(self, it, choice):
        timeout = it.timeout * self.scale
        if choice.use_kvm and choice.kvm_factor and choice.kvm_factor > 1:
            # A slow KVM: most of the extra time is boot and firmware, which
            # the probe measured; guest durations are real time either way.
            timeout += 2 * choice.kvm_boot_s * self.scale
        log = os.path.join(self.logdir, it.log_base + ".log")
        qlog = os.path.join(self.logdir, it.log_base + ".qemu.log")
        for p in (log, qlog):
            if os.path.exists(p):
                os.unlink(p)
        iso = os.path.join(self.image_dir(it), "grace.iso")
        cfg = qemu.QemuConfig(iso=iso, machine=it.machine, firmware=it.firmware,
                              smp=it.smp, memory=it.memory, args=it.args, serial=log,
                              cpu=it.cpu, extra=it.qemu_args, accel_choice=choice)
        with cfg:
            argv = cfg.argv()
            with open(os.path.join(self.logdir, it.log_base + ".cmd"), "w") as f:
                f.write("# %s\n# %s\n%s\n" % (it.desc, cfg.accel_line(), cfg.shell_command()))
            with open(qlog, "w") as qf:
                proc = _start(argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=qf,
                              stderr=subprocess.STDOUT)
                load = HostLoad(it.host_load, log) if it.host_load else None
                try:
                    status, timed_out = _finish(proc, timeout)
                finally:
                    if load:
                        load.stop()
                        with open(os.path.join(self.logdir, it.log_base + ".cmd"), "a") as f:
                            f.write("".join("# host_load: %s\n" % e for e in load.events))
        lines = clean_lines(read_text(log))
        ok, reason = judge(it.expect, status, timed_out, lines, timeout, it.expect_output,
                           it.forbid_output, it.allow_output, it.args, QEMU_SUCCESS)
        if not ok and status == 1 and not timed_out:
            qerr = read_text(qlog).strip().splitlines()
            if qerr:
                reason = "QEMU failed: " + short(qerr[-1])
        return ok, reason

    def image_dir(self, it):
        return os.path.join(self.build, IMAGES[it.build][0]) if IMAGES[it.build][0] else self.build

    def run_gdb(self, it):
        """A GDB session (tests/gdb/run_gdb_test.sh) judged like a scenario
        whose success status is 0. The script gets the scenario through
        GRACE_* variables and runs in its own process group, so a timeout
        ends the script, its QEMU and its GDB together."""
        timeout = it.timeout * self.scale
        log = os.path.join(self.logdir, it.log_base + ".log")
        serial = os.path.join(self.logdir, it.log_base + ".serial.log")
        env = dict(os.environ, GRACE_ISO=os.path.join(self.image_dir(it), "grace.iso"),
                   GRACE_ELF=os.path.join(self.image_dir(it), "grace.elf"),
                   GRACE_MACHINE=it.machine, GRACE_FIRMWARE=it.firmware, GRACE_SMP=it.smp,
                   GRACE_MEMORY=it.memory, GRACE_ARGS=it.args, GRACE_SERIAL_LOG=serial,
                   GRACE_TIMEOUT=str(int(timeout)))
        argv = ["bash", os.path.join(ROOT, "tests/gdb/run_gdb_test.sh"),
                os.path.join(ROOT, it.gdb_script)]
        with open(os.path.join(self.logdir, it.log_base + ".cmd"), "w") as f:
            f.write("# %s\n%s\n" % (it.desc, " ".join(shlex.quote(a) for a in argv)))
        with open(log, "w") as lf:
            proc = _start(argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=lf,
                          stderr=subprocess.STDOUT, env=env, start_new_session=True)
            proc.grace_group = True
            status, timed_out = _finish(proc, timeout, group=True)
        lines = clean_lines(read_text(log))
        return judge(it.expect, status, timed_out, lines, timeout, it.expect_output,
                     it.forbid_output, it.allow_output, it.args, 0)

    def run_lab(self, it):
        """A lab's selftest: its grader fails on the starting state and passes
        on the reference (tools/lab.py). Judged by its TEST lab.NAME line."""
        timeout = it.timeout * self.scale
        log = os.path.join(self.logdir, it.log_base + ".log")
        with open(log, "w") as lf:
            proc = _start([sys.executable, os.path.join(ROOT, "tools/lab.py"), "selftest", it.lab],
                          cwd=ROOT, stdin=subprocess.DEVNULL, stdout=lf, stderr=subprocess.STDOUT,
                          start_new_session=True)
            proc.grace_group = True
            status, timed_out = _finish(proc, timeout, group=True)
        # Not judge(): the log quotes the starting state's failures as
        # evidence, on purpose. The verdict is the selftest's own line.
        lines = clean_lines(read_text(log))
        if timed_out:
            return False, "timeout after %g s" % timeout
        verdict = next((ln for ln in lines if ln.startswith("TEST lab.%s:" % it.lab)), None)
        if verdict is None:
            return False, "no TEST lab.%s line (exit status %s)" % (it.lab, status)
        missing = [rx for rx in it.expect_output if not any(re.search(rx, ln) for ln in lines)]
        if status != 0 or ": PASS" not in verdict or missing:
            return False, short(verdict) + ("; missing %s" % missing[0] if missing else "")
        return True, ""

    # -- dispatch ------------------------------------------------------------

    def run(self, it):
        t0 = time.monotonic()
        if it.error:
            return Result("FAIL", "bad scenario file: " + it.error, 0.0)
        try:
            if it.kind == "qemu":
                choice = self.accel
                if it.accel == "tcg":
                    choice = qemu.TCG
                elif "kvm-fast" in it.requires and not self.accel.use_kvm:
                    # Only where the machine itself runs on KVM: where KVM is
                    # slower than TCG, measuring it and booting under it cost
                    # minutes (a nested KVM here: 225 s of make test).
                    return Result("SKIP", "requires a fast KVM (the machine runs TCG: %s); the "
                                  "same scenario under any working KVM is in the long set"
                                  % self.accel.reason, time.monotonic() - t0)
                elif "kvm" in it.requires or "kvm-fast" in it.requires:
                    choice, why = self.kvm_for(it)
                    if choice is None:
                        return Result("SKIP", "requires KVM: " + why, time.monotonic() - t0)
                ok, reason = self.run_qemu(it, choice)
            else:
                fn = {"unit-c": self.run_unit_c, "unit-py": self.run_unit_py,
                      "unit-fuzz": self.run_unit_fuzz,
                      "gdb": self.run_gdb, "lab": self.run_lab}[it.kind]
                ok, reason = fn(it)
        except Exception as e:  # a harness bug must not hide the other results
            ok, reason = False, "harness error: %s: %s" % (type(e).__name__, e)
        return Result("PASS" if ok else "FAIL", reason, time.monotonic() - t0)


def build(build_dir, extra=()):
    """Build the ISO (make decides whether anything is out of date)."""
    rel = os.path.relpath(build_dir, ROOT)
    if not rel.startswith(".."):
        build_dir = rel   # the same spelling as a plain `make`, so its .d files apply
    extra = list(extra)
    print("run_scenarios: building (make BUILD=%s%s)" % (build_dir, "".join(" " + e for e in extra)),
          flush=True)
    proc = subprocess.run(["make", "-C", ROOT, "BUILD=" + build_dir] + extra + ["all"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    out = proc.stdout.decode("utf-8", "replace")
    if proc.returncode != 0:
        print(out[-4000:], end="")
        return False
    # Keep the output short when nothing was rebuilt.
    for line in out.splitlines():
        if not line.startswith("make"):
            print(line)
    return True


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Scenario format and pass rules: docs/testing.md")
    p.add_argument("names", nargs="*", help="glob patterns of items to run (default: all in the set)")
    p.add_argument("--set", default="quick", choices=("quick", "long", "all", "soak"),
                   help="quick (default, make test), long, all (make test-all: quick and long), "
                        "or soak (make soak: the hour-long runs, in no other set)")
    p.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    p.add_argument("--no-build", action="store_true", help="do not run make first")
    p.add_argument("--unit-only", action="store_true", help="only the host unit tests")
    p.add_argument("--no-unit", action="store_true", help="no host unit tests")
    p.add_argument("--list", action="store_true", help="list the selected items and exit")
    p.add_argument("--scenario-dir", default=os.path.join(ROOT, "tests/scenarios"))
    p.add_argument("--unit-dir", default=os.path.join(ROOT, "tests/unit"))
    p.add_argument("--append-args", default="",
                   help="kernel arguments added to every selected scenario (make trace: trace=1 ...)")
    p.add_argument("--timeout-scale", type=float,
                   default=float(os.environ.get("GRACE_TIMEOUT_SCALE", "1") or 1),
                   help="multiply every timeout (default: $GRACE_TIMEOUT_SCALE or 1)")
    ns = p.parse_args(argv)

    items = discover(ns.scenario_dir, ns.unit_dir)
    if ns.unit_only:
        items = [i for i in items if i.kind.startswith("unit")]
    if ns.no_unit:
        items = [i for i in items if not i.kind.startswith("unit")]
    # A name given exactly (no glob characters) selects its item whatever
    # its set: `make test TESTS=lab-tree-rcu` runs that long scenario.
    exact = {pat for pat in ns.names if not any(c in pat for c in "*?[")}
    if ns.set == "all":
        items = [i for i in items if i.set != "soak" or i.name in exact]
    else:
        items = [i for i in items if i.set == ns.set or i.kind.startswith("unit") or i.name in exact]
    if ns.names:
        items = [i for i in items
                 if any(fnmatch.fnmatchcase(i.name, pat) or
                        fnmatch.fnmatchcase(i.name.split(":", 1)[-1], pat) for pat in ns.names)]
    if ns.append_args:
        for it in items:
            it.args = (it.args + " " + ns.append_args).strip()
    if ns.list:
        for it in items:
            print("%-28s %-6s %-5s %s" % (it.name, it.kind, it.set, it.desc or it.error or ""))
        return 0
    if not items:
        print("run_scenarios: nothing selected")
        print("0 passed, 0 failed")
        return 1

    runner = Runner(ns)
    os.makedirs(runner.logdir, exist_ok=True)
    os.makedirs(runner.unitdir, exist_ok=True)
    needs_iso = any(i.kind in ("qemu", "gdb", "lab") for i in items)
    build_failed = False
    if needs_iso and not ns.no_build:
        build_failed = not build(runner.build)
    # The DEBUG=1 and STEP=1 images are not what `make all` builds: make each
    # whenever a selected scenario needs it, with --no-build too (`make test`
    # builds only the release image; make rebuilds what changed, so a stale
    # image never runs).
    for image, (sub, extra) in IMAGES.items():
        image_dir = os.path.join(runner.build, sub)
        if sub and any(i.build == image for i in items if i.kind in ("qemu", "gdb")):
            build_failed |= not build(image_dir, extra)
    if needs_iso and not os.path.exists(runner.iso):
        print("run_scenarios: %s does not exist (run make, or drop --no-build)" % runner.iso)
        build_failed = True
    if needs_iso and not build_failed:
        # One line: which accelerator and why (decided by trying, cached).
        choice = runner.choose_accel()
        print(choice.line(), flush=True)
        if choice.accel == "fail":
            build_failed = "no accelerator: " + choice.reason
    elif not needs_iso:
        print("run_scenarios: host unit tests only", flush=True)

    # Longest first, so the slowest scenario does not start last.
    order = sorted(items, key=lambda i: (i.kind.startswith("unit"), -i.timeout))
    results = {}
    lock = threading.Lock()
    done = [0]
    t_start = time.monotonic()

    def work(it):
        if build_failed and it.kind in ("qemu", "gdb", "lab"):
            res = Result("FAIL", build_failed if isinstance(build_failed, str) else "build failed")
        else:
            res = runner.run(it)
        with lock:
            done[0] += 1
            results[it.name] = res
            line = "[%d/%d] %s %s (%.1f s)" % (done[0], len(items), res.status, it.name, res.seconds)
            if res.status != "PASS" and res.reason:
                line += ": " + res.reason
            print(line, flush=True)

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, ns.jobs))
    try:
        futures = [pool.submit(work, it) for it in order]
        for f in futures:
            f.result()
    except KeyboardInterrupt:
        print("\nrun_scenarios: interrupted; stopping what was started", flush=True)
        for f in futures:
            f.cancel()
        kill_all_started()
        pool.shutdown(wait=True)
        raise
    pool.shutdown(wait=True)
    elapsed = time.monotonic() - t_start

    # Summary table, in name order.
    width = max(len(i.name) for i in items)
    print()
    print("%-*s  %-6s %7s  %s" % (width, "name", "result", "time", "reason"))
    for it in sorted(items, key=lambda i: (not i.kind.startswith("unit"), i.name)):
        r = results[it.name]
        reason = r.reason
        if r.status == "FAIL" and it.kind in ("qemu", "gdb", "unit-c", "unit-py", "unit-fuzz") \
                and not it.error:
            reason += "  [log: %s]" % os.path.relpath(
                os.path.join(runner.logdir, it.log_base + ".log"), ROOT)
        print("%-*s  %-6s %6.1fs  %s" % (width, it.name, r.status, r.seconds, reason))
    counts = {s: sum(1 for r in results.values() if r.status == s) for s in ("PASS", "FAIL", "SKIP")}
    print("(%d items in %.1f s, %d jobs, logs in %s)" % (
        len(items), elapsed, ns.jobs, os.path.relpath(runner.logdir, ROOT)))
    if counts["SKIP"]:
        print("%d skipped (reasons above)" % counts["SKIP"])
    failed = sorted(n for n, r in results.items() if r.status == "FAIL")
    if failed:
        # CI shows only the tail of the output: name what failed next to the count.
        print("failed: " + " ".join(failed))
    # The last line is exactly "N passed, N failed": CI and reviewers parse it.
    print("%d passed, %d failed" % (counts["PASS"], counts["FAIL"]), flush=True)
    return 1 if counts["FAIL"] or build_failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
