#!/usr/bin/env python3
"""mutants.py — does the test suite notice a small bug in the mechanism code?

Every tests/mutants/NN-name.patch is one plausible bug: a unified diff
(-p1, small context) after three header lines

    # mutant: <name>
    # models: <what bug this is>
    # catch:  <scenarios (globs) about that mechanism, expected to catch it>

and optional lines: `# note:` (free text: what caught it, how often) and
`# equivalent: <why>` (such mutants live in tests/mutants/equivalent/, out
of the suite proper) — the mutant cannot be caught on this architecture
because the code it leaves computes the same thing (for example a fence
followed by an instruction that is itself a full barrier on x86). Such a
mutant is listed as "equivalent" with its reason and not run (unless
--run-equivalent); it counts neither as caught nor as missed. Claim it
only with the evidence in the line (a test that shows the neighbouring,
non-equivalent mutant is caught, or the instruction that makes it so).

For each mutant (in a scratch copy of the working tree, build/mutants/src):
apply it (a patch that no longer applies — the code it targets has moved —
is reported as "does not apply", not an error of this tool), build, run the
expected catchers one at a time, then the rest of the quick set, and stop at
the first item that fails. Then revert it. Prints one line per mutant:

    caught   NN-name   by <item> (expected catcher | NOT an expected catcher)
    MISSED   NN-name   <N> items passed
    equivalent NN-name <why> (not run, not counted)
    does not apply / build broken (not counted)

and a total. Exit status: 0 when every mutant that applied and built was
caught. A mutant that breaks the build does not count either way.

Usage:
    tools/mutants.py [--catchers-only] [--build-dir build] [GLOB ...]
    make mutants [MUTANTS='NN-* ...'] [MUTANTS_ARGS=--catchers-only]
Environment: ACCEL, CC as for make; the runner's own rules apply to each item.
"""

import argparse
import fnmatch
import glob
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_header(path):
    """(models, [catch globs], equivalent-or-None) from a mutant's header;
    ValueError if malformed."""
    models, catch, name, equivalent = None, None, None, None
    with open(path) as f:
        for line in f:
            if not line.startswith("#"):
                break
            key, _, val = line[1:].strip().partition(":")
            key = key.strip()
            if key == "mutant":
                name = val.strip()
            elif key == "models":
                models = val.strip()
            elif key == "catch":
                catch = val.split()
            elif key == "equivalent":
                equivalent = val.strip() or None
    if not name or not models or catch is None:
        raise ValueError("needs '# mutant:', '# models:' and '# catch:' header lines")
    return models, catch, equivalent


def run(cmd, cwd, log=None, timeout=None):
    """Run cmd; returns (rc, output). Output also goes to `log` when given."""
    try:
        p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=timeout)
        out, rc = p.stdout, p.returncode
    except subprocess.TimeoutExpired as e:
        out, rc = (e.stdout or "") if isinstance(e.stdout, str) else "", 124
    if log:
        with open(log, "a") as f:
            f.write("$ %s\n%s\n" % (" ".join(cmd), out))
    return rc, out


def touched_files(patch):
    """Paths (relative, -p1) that a unified diff writes to."""
    out = []
    with open(patch) as f:
        for line in f:
            if line.startswith("+++ "):
                path = line[4:].split("\t")[0].strip()
                out.append(path.split("/", 1)[1] if "/" in path else path)
    return out


def make_scratch(src):
    """A fresh copy of the working tree's tracked and untracked (not ignored) files."""
    if os.path.exists(src):
        shutil.rmtree(src)
    os.makedirs(src)
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                           stdout=subprocess.PIPE, check=True).stdout.split(b"\0")
    for rel in files:
        if not rel:
            continue
        rel = rel.decode()
        a = os.path.join(ROOT, rel)
        if not os.path.isfile(a):
            continue   # deleted in the working tree
        b = os.path.join(src, rel)
        os.makedirs(os.path.dirname(b), exist_ok=True)
        shutil.copy2(a, b)


def list_items(src, which):
    rc, out = run([sys.executable, "tests/run_scenarios.py", "--list", "--set", which], src)
    if rc:
        sys.exit("mutants: cannot list the %s set:\n" % which + out)
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def quick_items(src):
    return list_items(src, "quick")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("names", nargs="*", help="globs of mutant names (NN-name), default all")
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--catchers-only", action="store_true",
                    help="run only the expected catchers (faster; a miss then means 'not by them')")
    ap.add_argument("--run-equivalent", action="store_true",
                    help="run mutants marked '# equivalent:' too (to re-check the claim)")
    args = ap.parse_args()

    # The suite proper; mutants shown equivalent live in tests/mutants/equivalent/
    # with their evidence, are listed, and run only with --run-equivalent.
    patches = sorted(glob.glob(os.path.join(ROOT, "tests/mutants/*.patch")))
    patches += sorted(glob.glob(os.path.join(ROOT, "tests/mutants/equivalent/*.patch")))
    if args.names:
        patches = [p for p in patches
                   if any(fnmatch.fnmatch(os.path.basename(p)[:-6], g) for g in args.names)]
    if not patches:
        sys.exit("mutants: no mutant matches %s" % (" ".join(args.names) or "tests/mutants/*.patch"))
    work = os.path.join(os.path.abspath(args.build_dir), "mutants")
    src = os.path.join(work, "src")
    os.makedirs(work, exist_ok=True)
    print("mutants: %d mutants; scratch copy %s" % (len(patches), src), flush=True)
    make_scratch(src)
    items = quick_items(src)
    every_item = list_items(src, "all")
    results = []
    for patch in patches:
        name = os.path.basename(patch)[:-6]
        log = os.path.join(work, name + ".log")
        open(log, "w").close()
        t0 = time.time()
        try:
            models, catch, equivalent = read_header(patch)
        except (OSError, ValueError) as e:
            print("%-10s %-32s bad mutant file: %s" % ("invalid", name, e), flush=True)
            results.append((name, "invalid", None, False))
            continue
        if equivalent and not args.run_equivalent:
            print("%-10s %-32s %s (not run, not counted)" % ("equivalent", name, equivalent), flush=True)
            results.append((name, "equivalent", None, False))
            continue
        # A catcher that names no item would "fail" as an unknown name: a
        # false catch. Refuse the mutant instead.
        unknown = [g for g in catch if not any(fnmatch.fnmatch(i, g) for i in every_item)]
        if unknown:
            print("%-10s %-32s catch: names no scenario or unit test: %s"
                  % ("invalid", name, " ".join(unknown)), flush=True)
            results.append((name, "invalid", None, False))
            continue
        # --fuzz=0: a hunk whose context moved must not land somewhere else.
        rc, out = run(["patch", "-p1", "--dry-run", "--fuzz=0", "-s", "-f", "-i", patch], src, log)
        if rc:
            lines = out.strip().splitlines() or ["?"]
            telling = [l for l in lines if any(k in l for k in ("can't find file", "FAILED", "malformed",
                                                                 "No file", "Only garbage", "Reversed"))]
            first = (telling or lines)[0].strip()
            print("%-10s %-32s the code it targets changed (%s)" % ("no-apply", name, first), flush=True)
            results.append((name, "no-apply", None, False))
            continue
        saved = {}
        for rel in touched_files(patch):
            with open(os.path.join(src, rel), "rb") as f:
                saved[rel] = f.read()
        run(["patch", "-p1", "--fuzz=0", "-s", "-f", "--no-backup-if-mismatch", "-i", patch], src, log)
        try:
            rc, out = run(["make", "-s", "all"], src, log, timeout=900)
            if rc:
                print("%-10s %-32s build broken, does not count (log %s)" % ("no-build", name, log),
                      flush=True)
                results.append((name, "no-build", None, False))
                continue
            expected = [i for i in items if any(fnmatch.fnmatch(i, g) for g in catch)]
            # Expected catchers may be outside the quick set (long scenarios).
            for g in catch:
                if not any(fnmatch.fnmatch(i, g) for i in items):
                    expected += [i for i in every_item if fnmatch.fnmatch(i, g) and i not in expected]
            order = expected + ([] if args.catchers_only else [i for i in items if i not in expected])
            caught_by = None
            ran = 0
            for item in order:
                ran += 1
                rc, out = run([sys.executable, "tests/run_scenarios.py", "--build-dir", "build",
                               "--no-build", "-j", "1", item], src, log, timeout=1800)
                if rc:
                    caught_by = item
                    break
            dt = time.time() - t0
            if caught_by:
                how = "expected catcher" if caught_by in expected else "NOT an expected catcher"
                print("%-10s %-32s by %s (%s, %d items, %.0f s)" % ("caught", name, caught_by, how, ran, dt),
                      flush=True)
                results.append((name, "caught", caught_by, caught_by in expected))
            else:
                print("%-10s %-32s %d items passed (%.0f s): %s" % ("MISSED", name, ran, dt, models),
                      flush=True)
                results.append((name, "MISSED", None, False))
        finally:
            # Put the touched files back byte for byte (and keep their old
            # mtime out of it: the next build must see them as changed).
            for rel, data in saved.items():
                with open(os.path.join(src, rel), "wb") as f:
                    f.write(data)
    n = {k: sum(1 for r in results if r[1] == k)
         for k in ("caught", "MISSED", "equivalent", "no-apply", "no-build", "invalid")}
    direct = sum(1 for r in results if r[1] == "caught" and r[3])
    print("mutants: %d caught (%d by an expected catcher), %d MISSED, %d equivalent (not run), "
          "%d do not apply, %d break the build (not counted), %d invalid; %d in all"
          % (n["caught"], direct, n["MISSED"], n["equivalent"], n["no-apply"], n["no-build"],
             n["invalid"], len(results)))
    return 1 if n["MISSED"] or n["no-apply"] or n["invalid"] else 0


if __name__ == "__main__":
    sys.exit(main())
