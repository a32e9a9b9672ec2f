# step_slowpath.gdb — step the qspinlock slow path line by line on one vCPU
# while the others contend, as a student would, on the stepping image
# (make STEP=1: -Og; `make debug` boots it).
#
# Run by tests/gdb/run_gdb_test.sh for scenario gdb-step-slowpath, with
# locktorture running. Hardware breakpoints on the two builds of the slow
# path (native_ and pv_queued_spin_lock_slowpath, which the lock-op patch
# sites call; their body is __queued_spin_lock_slowpath, inlined) stop the
# first vCPU that enters one; with `set scheduler-locking step` the
# other vCPUs stay stopped while this one steps, so `next` is never cut short
# by another thread hitting the breakpoint. Checks:
#   1. every `next` stops on the same thread, in the slow path, at a new
#      line, until the line that publishes the tail (xchg_tail) is reached
#      (an attempt that leaves the function early, e.g. by stealing the
#      lock, is retried at the next hit);
#   2. `info locals` there shows cpu, idx and tail, not <optimized out>,
#      and tail is the MCS encoding of (this CPU, idx):
#      (cpu + 1) << 18 | idx << 16;
#   3. qnodes[cpu].nesting > idx (the node is in use), and `node`, when GDB
#      can read it, is &qnodes[cpu].node[idx].
# Prints "GDB-TEST: PASS" or "GDB-TEST: FAIL <why>" and exits 0 or 1.

set pagination off
set confirm off
set width 0

python
import os
import re
import gdb


def run(cmd):
    out = gdb.execute(cmd, to_string=True)
    print("(gdb) %s\n%s" % (cmd, out.rstrip()))
    return out


def here():
    f = gdb.selected_frame()
    sal = f.find_sal()
    text = ""
    if sal.symtab is not None:
        try:
            with open(sal.symtab.fullname()) as src:
                text = src.read().splitlines()[sal.line - 1]
        except (OSError, IndexError):
            pass
    return f.name(), sal.line, text


# The slow path's frames: the entry points and the inlined body.
SLOWPATH = ("native_queued_spin_lock_slowpath", "pv_queued_spin_lock_slowpath",
            "__queued_spin_lock_slowpath", "queued_spin_lock_slowpath")


def attempt():
    """One stop in the slow path, stepped to the tail's publication.
    Returns (None, locals text) on success, ("retry", why) or ("fail", why)."""
    run("continue")
    thread = gdb.selected_thread().num
    name, line, text = here()
    if name not in SLOWPATH:
        return "fail", "stopped in %s" % name
    lines = [line]
    for _ in range(60):
        # The entry points call the inlined body: `step` into it (a `next`
        # would run the whole slow path with the other vCPUs stopped, and
        # wait forever for a lock one of them holds).
        out = run("step" if "__queued_spin_lock_slowpath(" in text else "next")
        if gdb.selected_thread().num != thread:
            return "fail", "`next` stopped on thread %d, not %d: another vCPU cut the step short" % (
                gdb.selected_thread().num, thread)
        if "Breakpoint" in out and "hit" in out:
            return "fail", "a breakpoint hit interrupted the step: " + out.strip().splitlines()[0]
        name, line, text = here()
        if name not in SLOWPATH:
            return "retry", "left the slow path (lock taken early) at %s" % name
        lines.append(line)
        if "xchg_tail(lock, tail)" in text:
            print("GDB: stepped lines %s on thread %d" % (" -> ".join(map(str, lines)), thread))
            return None, run("info locals")
    return "fail", "60 `next`s without reaching xchg_tail"


def session():
    run("file " + os.environ.get("GRACE_ELF", "build/step/grace.elf"))
    run("set architecture i386:x86-64")
    run("target remote :" + os.environ["GDB_PORT"])
    run("hbreak native_queued_spin_lock_slowpath")
    run("hbreak pv_queued_spin_lock_slowpath")
    run("set scheduler-locking step")
    for _ in range(10):
        status, info = attempt()
        if status == "fail":
            return info
        if status is None:
            break
        print("GDB: " + info + "; next hit")
    else:
        return "ten stops in the slow path all left it before queueing"
    # Locals assigned by now must be readable; prev/next/old are assigned
    # later and may still be <optimized out>.
    loc = dict(re.findall(r"^(\w+) = (\d+)$", info, re.M))
    for v in ("idx", "tail", "cpu"):
        if v not in loc:
            return "info locals has no numeric %s: %s" % (v, info.replace("\n", "; "))

    cpu, idx, tail = int(loc["cpu"]), int(loc["idx"]), int(loc["tail"])
    want = (cpu + 1) << 18 | idx << 16
    print("GDB: cpu %d took MCS node %d, tail %#x" % (cpu, idx, tail))
    if tail != want:
        return "tail %#x is not the encoding of (cpu %d, idx %d) = %#x" % (tail, cpu, idx, want)
    nesting = int(gdb.parse_and_eval("qnodes[%d].nesting" % cpu))
    if nesting <= idx:
        return "qnodes[%d].nesting is %d: node %d is not in use" % (cpu, nesting, idx)
    # `node` itself may be <optimized out> in the inlined body; when GDB
    # has it, it must be that CPU's node idx.
    if not re.search(r"^node = <optimized out>", info, re.M):
        node = int(gdb.parse_and_eval("node"))
        mine = int(gdb.parse_and_eval("&qnodes[%d].node[%d]" % (cpu, idx)))
        if node != mine:
            return "node %#x is not qnodes[%d].node[%d] (%#x)" % (node, cpu, idx, mine)
    return None


try:
    why = session()
except gdb.error as e:
    why = "gdb error: %s" % e
if why:
    print("GDB-TEST: FAIL " + why)
else:
    print("GDB-TEST: PASS")
try:
    gdb.execute("kill")
except gdb.error:
    pass
gdb.execute("quit %d" % (1 if why else 0))
end
