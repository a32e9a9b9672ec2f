#!/usr/bin/env python3
"""test_rcu_model.py — model-check RCU's books against CPU hotplug with spin.

tests/model/rcu_hotplug.pml models grace-period init (from qsmaskinitnext
under ofl_lock) against a CPU going offline and online mid-grace-period,
with readers in its last gasps. Exhaustive search must find no too-short
grace period; with -DBUG=1 (init from the online mask, the injected bug
rcu.bug_gp_init_online_mask) it must find one, and its trail is printed.
Needs spin (Debian package `spin`; tools/setup-deps.sh installs it).
Run by `make unit` / `make test` as unit:test_rcu_model; exit 0 = pass.
"""
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "tests", "model", "rcu_hotplug.pml")


def check(defines):
    d = tempfile.mkdtemp(prefix="rcu-model-")
    try:
        shutil.copy(MODEL, d)   # spin -t looks for the trail next to the model
        subprocess.run(["spin"] + defines + ["-a", "rcu_hotplug.pml"], cwd=d, check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        subprocess.run([os.environ.get("HOSTCC", "cc"), "-O1", "-o", "pan", "pan.c"], cwd=d,
                       check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = subprocess.run(["./pan", "-m100000"], cwd=d, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, timeout=120).stdout
        trail = ""
        if os.path.exists(os.path.join(d, "rcu_hotplug.pml.trail")):
            trail = subprocess.run(["spin"] + defines + ["-t", "-p", "-g", "rcu_hotplug.pml"], cwd=d,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, timeout=60).stdout
        return out, trail
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    if not shutil.which("spin"):
        print("FAIL spin is not installed (Debian package spin; tools/setup-deps.sh installs it)")
        return 1
    failed = 0
    out, _ = check([])
    if "errors: 0" not in out:
        print("FAIL the correct model has a violation:\n" + out)
        failed += 1
    else:
        states = next((ln.strip() for ln in out.splitlines() if "states, stored" in ln), "")
        print("correct model: no too-short grace period (%s)" % states)
    out, trail = check(["-DBUG=1"])
    if "assertion violated" not in out:
        print("FAIL spin did not find the too-short grace period of the online-mask bug:\n" + out)
        failed += 1
    else:
        print("BUG=1 (GP init from the online mask): spin finds a too-short grace period; trail:")
        for ln in trail.splitlines():
            if ln.strip().startswith(tuple("0123456789")) or "assert" in ln:
                print("   " + ln.strip())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
