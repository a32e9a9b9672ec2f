#!/usr/bin/env python3
"""lab.py — coursework labs: starting states, graders, and the proof they do not rot.

    tools/lab.py list                     the labs
    tools/lab.py start NAME               put the tree into lab NAME's starting state
    tools/lab.py restore                  put the reference implementation back (LAB=none)
    tools/lab.py grade NAME               build, run the lab's checks, print the score
    tools/lab.py selftest NAME            the grader fails on the starting state and
                                          passes on the reference (run by make test)

(`make lab LAB=NAME`, `make lab LAB=none`, `make grade LAB=NAME` call these.)

A lab is a directory docs/labs/NAME/ with
  README.md    the handout: what to read, what to write, how to test, questions
  start.c      what replaces the exercise region in the starting state: a
               commented stub that still builds; or, for a bug hunt,
  start.subst  the small change that plants the bug in the reference region
  checks/*.scn the grader's checks: scenario files (docs/testing.md) with a
               `points: N` line each
and one region of kernel source between two marker comments:

    /* >>> LAB NAME (docs/labs/NAME/README.md) */
    ... the reference implementation: what the student writes ...
    /* <<< LAB NAME */

A lab whose exercise spans files has several regions, each with a part name
(`>>> LAB NAME:PART ...`, `<<< LAB NAME:PART`) and its own start-PART.c or
start-PART.subst.

A check with `selftest: no` counts in `make grade` but is not run by the
selftest (an exhaustive check too slow for `make test`); the selftest
says how many points it left out.

The reference implementation is the kernel itself: `start` saves the region in
.lab/ and puts start.c in its place, `restore` puts it back, so no second copy
of the kernel exists to rot. The grader runs every check (QEMU under TCG,
whatever the machine has: graders never need KVM), prints each with its
points, and for a failed one the evidence from its serial log: GOOD for an
expected line that was there, MISSING for one that was not, BAD for a failure
or badness line. It judges verdict lines and counts, never timings; timeouts
scale with GRACE_TIMEOUT_SCALE. Exit status 0 only with full marks.

selftest builds the starting state in a scratch copy (build/lab-selftest/NAME,
seeded with the reference build's objects so only what the stub touches is
compiled again) and proves: full marks on the reference, fewer on the start
(there it stops at the first failing check: that is the proof).
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import run_scenarios as rs  # noqa: E402

LABS = os.path.join(ROOT, "docs", "labs")
STATE = os.path.join(ROOT, ".lab")
SOURCE_DIRS = ("arch", "kernel", "mm", "drivers", "lib", "include", "boot")


def begin_marker(name, part=None):
    """The begin marker of NAME's region PART; with part None, of any part:
    group 1 is the part name (None for a lab with a single region)."""
    tag = re.escape(name) + (":" + re.escape(part) if part else r"(?::([\w-]+))?" if part is None else "")
    return re.compile(r"^[ \t]*/\* >>> LAB %s(?=[ \t]|\*/).*\*/[ \t]*\n" % tag, re.M)


def end_marker(name, part=None):
    tag = re.escape(name) + (":" + re.escape(part) if part else "")
    return re.compile(r"^[ \t]*/\* <<< LAB %s \*/[ \t]*\n" % tag, re.M)


def labs():
    return sorted(d for d in os.listdir(LABS) if os.path.isdir(os.path.join(LABS, d)))


def source_files(tree):
    for top in SOURCE_DIRS:
        for dirpath, _, files in os.walk(os.path.join(tree, top)):
            for f in sorted(files):
                if f.endswith((".c", ".h", ".asm")):
                    yield os.path.join(dirpath, f)


def find_regions(tree, name):
    """[(path, part)]: every marked region of lab NAME, part None for a lab
    with one unnamed region. Each part exactly once, every begin with its end."""
    found = []
    for path in source_files(tree):
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        for b in begin_marker(name).finditer(text):
            part = b.group(1)
            if not end_marker(name, part or "").search(text, b.end()):
                raise SystemExit("lab: %s: LAB %s has no end marker"
                                 % (path, name + (":" + part if part else "")))
            found.append((path, part))
    parts = [p for _, p in found]
    if not found or len(set(parts)) != len(parts) or (None in parts and len(parts) > 1):
        raise SystemExit("lab: LAB %s: %d marked regions in the tree (%s), expected one, "
                         "or parts with distinct names" % (name, len(found),
                                                           ", ".join(p or "unnamed" for p in parts)))
    return found


def locate(path, name, part):
    """(text, start, end): region PART's interior is text[start:end]."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    b = begin_marker(name, part or "").search(text)
    e = end_marker(name, part or "").search(text, b.end())
    return text, b.end(), e.start()


def find_region(tree, name):
    """(path, text, start, end) of a lab with a single region."""
    regions = find_regions(tree, name)
    if len(regions) != 1:
        raise SystemExit("lab: LAB %s has %d regions, expected 1" % (name, len(regions)))
    path, part = regions[0]
    return (path,) + locate(path, name, part)


def suffix(part):
    return "-" + part if part else ""


def substitute(region, subst_path):
    """Apply start.subst to the region: blocks of
           @@ old          exact text to find (once) in the region
           @@ new          what it becomes
           @@ end
    For bug hunts, whose starting state is the reference with a small change
    nobody is told about: no copy of the region to go stale."""
    with open(subst_path, encoding="utf-8") as f:
        blocks = re.findall(r"^@@ old\n(.*?)^@@ new\n(.*?)^@@ end$", f.read(), re.M | re.S)
    if not blocks:
        raise SystemExit("lab: %s has no @@ old/@@ new/@@ end block" % subst_path)
    for old, new in blocks:
        if region.count(old) != 1:
            raise SystemExit("lab: %s: the text to replace occurs %d times in the region "
                             "(the reference changed?)" % (subst_path, region.count(old)))
        region = region.replace(old, new)
    return region


def apply_start(tree, name):
    """Put every region of NAME into its starting state; [(path, part, original)]."""
    done = []
    for path, part in find_regions(tree, name):
        text, s, e = locate(path, name, part)
        subst = os.path.join(LABS, name, "start%s.subst" % suffix(part))
        if os.path.exists(subst):
            stub = substitute(text[s:e], subst)
        else:
            start = os.path.join(LABS, name, "start%s.c" % suffix(part))
            if not os.path.exists(start):
                raise SystemExit("lab: %s: region %s has neither %s nor %s" % (
                    name, part or "(unnamed)", os.path.basename(start), os.path.basename(subst)))
            with open(start, encoding="utf-8") as f:
                stub = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text[:s] + stub + text[e:])
        done.append((path, part, text[s:e]))
    return done


def cmd_start(name):
    if name not in labs():
        raise SystemExit("lab: no lab %r (tools/lab.py list)" % name)
    active = active_lab()
    if active:
        raise SystemExit("lab: lab %s is active; `make lab LAB=none` first" % active)
    done = apply_start(ROOT, name)
    os.makedirs(STATE, exist_ok=True)
    for _, part, original in done:
        with open(os.path.join(STATE, "original%s.c" % suffix(part)), "w", encoding="utf-8") as f:
            f.write(original)
    paths = sorted({os.path.relpath(p, ROOT) for p, _, _ in done})
    with open(os.path.join(STATE, "active"), "w") as f:
        f.write("%s\n%s\n" % (name, "\n".join(paths)))
    print("lab: %s is ready in %s: read docs/labs/%s/README.md; `make grade LAB=%s` grades it; "
          "`make lab LAB=none` puts the reference back" % (name, ", ".join(paths), name, name))


def active_lab():
    try:
        with open(os.path.join(STATE, "active")) as f:
            return f.read().split()[0]
    except (OSError, IndexError):
        return None


def cmd_restore():
    name = active_lab()
    if not name:
        print("lab: no lab is active; the tree holds the reference implementation")
        return
    for path, part in find_regions(ROOT, name):
        text, s, e = locate(path, name, part)
        with open(os.path.join(STATE, "original%s.c" % suffix(part)), encoding="utf-8") as f:
            original = f.read()
        keep = os.path.join(STATE, "%s%s-yours.c" % (name, suffix(part)))
        with open(keep, "w", encoding="utf-8") as f:
            f.write(text[s:e])   # the student's version, in case they want it back
        with open(path, "w", encoding="utf-8") as f:
            f.write(text[:s] + original + text[e:])
        os.unlink(os.path.join(STATE, "original%s.c" % suffix(part)))
        print("lab: %s restored to the reference in %s (your version is in %s)"
              % (name, os.path.relpath(path, ROOT), os.path.relpath(keep, ROOT)))
    os.unlink(os.path.join(STATE, "active"))


def checks(name):
    items = []
    for path in sorted(glob.glob(os.path.join(LABS, name, "checks", "*.scn"))):
        it = rs.parse_scenario(path)
        it.name = "%s:%s" % (name, it.name)
        it.points = int(getattr(it, "points", 0) or 0)
        it.in_selftest = getattr(it, "selftest", "yes") != "no"
        items.append(it)
    if not items:
        raise SystemExit("lab: %s has no checks" % name)
    return items


def evidence(it, logdir):
    """GOOD/MISSING/BAD lines from a check's serial log."""
    text = rs.read_text(os.path.join(logdir, it.log_base + ".log"))
    lines = rs.clean_lines(text)
    out = []
    for rx in it.expect_output:
        m = next((ln for ln in lines if re.search(rx, ln)), None)
        out.append("    GOOD    %s" % rs.short(m) if m else "    MISSING %s" % rx)
    forbid = [re.compile(rx) for rx in getattr(it, "forbid_output", [])]
    bad = [ln for ln in lines if rs.VERDICT_FAIL.search(ln) or any(rx.search(ln) for _, rx in rs.BADNESS)
           or any(rx.search(ln) for rx in forbid)]
    for ln in bad[:6]:
        out.append("    BAD     %s" % rs.short(ln))
    if not lines:
        out.append("    MISSING any console output")
    return out


def build(tree, build_dir, quiet=True):
    # BUILD relative to the tree when it is inside: the .d files name their
    # targets with the BUILD they were made with, and a header change only
    # rebuilds its users when those names match.
    rel = os.path.relpath(build_dir, tree)
    p = subprocess.run(["make", "-C", tree, "-s", "BUILD=" + (build_dir if rel.startswith("..") else rel),
                        "all"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        out = p.stdout.decode("utf-8", "replace")
        print("\n".join(l for l in out.splitlines() if "error" in l or "Error" in l)[-3000:])
    return p.returncode == 0


def grade(name, tree=ROOT, build_dir=None, jobs=2, label="", until_fail=False, selftest=False):
    """Build `tree`, run the checks; returns (score, total), score None if
    the tree does not build. selftest: only the checks make test runs."""
    build_dir = build_dir or os.path.join(tree, "build")
    items = checks(name)
    if selftest:
        items = [i for i in items if i.in_selftest]
    total = sum(i.points for i in items)
    print("== grade %s%s (%d checks, %d points)" % (name, label, len(items), total), flush=True)
    if not build(tree, build_dir):
        print("  build failed: 0/%d" % total)
        return None, total
    ns = types.SimpleNamespace(build_dir=build_dir, timeout_scale=float(
        os.environ.get("GRACE_TIMEOUT_SCALE", "1") or 1))
    runner = rs.Runner(ns)
    runner.logdir = os.path.join(build_dir, "lab-logs", name)
    os.makedirs(runner.logdir, exist_ok=True)
    runner.accel = rs.qemu.TCG           # graders never need KVM
    nr_checks = len(items)
    if until_fail:
        # selftest on a starting state: one failing check proves it is
        # below full marks; the rest would only cost time.
        results = []
        for it in items:
            results.append(runner.run(it))
            if results[-1].status != "PASS":
                break
        items = items[:len(results)]
    else:
        import concurrent.futures
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            results = list(pool.map(runner.run, items))
    score = 0
    for it, res in zip(items, results):
        ok = res.status == "PASS"
        score += it.points if ok else 0
        print("  %-40s %s  %2d/%-2d %s" % (it.name, "OK  " if ok else "FAIL", it.points if ok else 0,
                                          it.points, it.desc), flush=True)
        if not ok:
            print("    why: %s" % res.reason)
            for line in evidence(it, runner.logdir):
                print(line)
    if len(results) < nr_checks:
        print("  (stopped at the first failing check)")
    print("  Score: %d/%d" % (score, total), flush=True)
    return score, total


def selftest(name):
    # Reference: the tree as it is (no lab may be active).
    if active_lab():
        print("TEST lab.%s: FAIL lab %s is active in the tree; `make lab LAB=none` first"
              % (name, active_lab()))
        return 1
    ref_build = os.path.join(ROOT, "build")
    # One check at a time: selftest runs as one item among make test's jobs,
    # and must not double the machine's load.
    s_ref, total = grade(name, ROOT, ref_build, jobs=1, label=" on the reference", selftest=True)
    left_out = [i for i in checks(name) if not i.in_selftest]
    # Starting state: a scratch copy of the sources, seeded with the
    # reference objects so that make compiles only what start.c touches.
    scratch = os.path.join(ROOT, "build", "lab-selftest", name)
    shutil.rmtree(scratch, ignore_errors=True)
    files = subprocess.run(["git", "-C", ROOT, "ls-files", "-co", "--exclude-standard"],
                           stdout=subprocess.PIPE).stdout.decode().split("\n")
    for f in files:
        if not f or f.startswith("build/"):
            continue
        src = os.path.join(ROOT, f)
        if os.path.isfile(src):
            os.makedirs(os.path.dirname(os.path.join(scratch, f)), exist_ok=True)
            shutil.copy2(src, os.path.join(scratch, f))
    sb = os.path.join(scratch, "build")
    for sub in ("arch", "kernel", "mm", "drivers", "lib", "boot"):
        if os.path.isdir(os.path.join(ref_build, sub)):
            shutil.copytree(os.path.join(ref_build, sub), os.path.join(sb, sub), copy_function=shutil.copy2)
    for f in (".deps-ok",):
        if os.path.exists(os.path.join(ref_build, f)):
            shutil.copy2(os.path.join(ref_build, f), os.path.join(sb, f))
    apply_start(scratch, name)
    s_start, _ = grade(name, scratch, sb, jobs=1, label=" on the starting state (until a check fails)",
                       until_fail=True, selftest=True)
    if s_ref is None or s_start is None:
        print("TEST lab.%s: FAIL the %s does not build (a starting state must build: "
              "a commented stub)" % (name, "reference" if s_ref is None else "starting state"))
        return 1
    ok = s_ref == total and s_start < total
    print("TEST lab.%s: %s reference %d/%d, starting state %d/%d%s" % (
        name, "PASS" if ok else "FAIL", s_ref, total, s_start, total,
        " (%d more points in %d check(s) only `make grade` runs: %s)" % (
            sum(i.points for i in left_out), len(left_out), ", ".join(i.name for i in left_out))
        if left_out else ""))
    if ok:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0 if ok else 1


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("command", choices=("list", "start", "restore", "grade", "selftest"))
    p.add_argument("name", nargs="?")
    ns = p.parse_args(argv)
    if ns.command == "list":
        for n in labs():
            try:
                with open(os.path.join(LABS, n, "README.md"), encoding="utf-8") as f:
                    title = f.readline().lstrip("# ").strip()
            except OSError:
                title = "(no handout: docs/labs/%s/README.md is missing)" % n
            print("%-22s %s" % (n, title))
        return 0
    if ns.command == "restore" or (ns.command == "start" and ns.name == "none"):
        cmd_restore()
        return 0
    if not ns.name:
        p.error("which lab? (tools/lab.py list)")
    if ns.name not in labs():
        print("lab: no lab %r; the labs are: %s" % (ns.name, ", ".join(labs())))
        return 2
    if ns.command == "start":
        cmd_start(ns.name)
        return 0
    if ns.command == "grade":
        score, total = grade(ns.name)
        return 0 if score == total else 1   # None (no build) is not full marks
    return selftest(ns.name)


if __name__ == "__main__":
    sys.exit(main())
