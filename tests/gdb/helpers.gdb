# helpers.gdb — the grace-* GDB commands (tools/gdb/grace.py) on a kernel
# stopped in a known state.
#
# Run by tests/gdb/run_gdb_test.sh for scenario gdb-helpers, with locktorture
# running at -smp 2. A hardware breakpoint on nest_nmi stops the machine with
# CPU B inside the torture's nesting chain: its task and three interrupts
# queued on MCS nodes 0-3 of nest_lock[0..3], an NMI on top. Checks:
#   grace-cpus      one line per possible CPU; B shows 4 nodes in use and
#                   NMI depth 1; every CPU is online/active
#   grace-hotplug   the table lists cpu:bringup and online, with both CPUs at
#                   online; a PREPARE state shows its startup function
#   grace-lock      nest_lock[0] decodes as locked (1, or 3 when its PV head
#                   sleeps) with tail (B, node 0), and
#                   the queue walk names B node 0 as the head; nest_lock[3]
#                   has tail (B, node 3)
#   grace-tasks     lists cpuhp/0 and the torture's writers
#   grace-dmesg     the log ring holds the boot banner and the torture start
#   $grace_cpu_state(0) equals CPUHP_ONLINE
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


def val(expr):
    return int(gdb.parse_and_eval(expr))


def session():
    run("file " + os.environ.get("GRACE_ELF", "build/grace.elf"))
    run("set architecture i386:x86-64")
    run("source tools/gdb/grace.py")
    run("target remote :" + os.environ["GDB_PORT"])
    run("hbreak nest_nmi")
    run("continue")
    if gdb.selected_frame().name() != "nest_nmi":
        return "stopped in %s, not nest_nmi" % gdb.selected_frame().name()
    b = (val("nest_lock[0].q.val") >> 18) - 1
    ncpu = int(os.environ.get("GRACE_SMP", "2"))

    out = run("grace-cpus")
    rows = [l for l in out.splitlines() if re.match(r"^\d+\s", l)]
    if len(rows) != ncpu:
        return "grace-cpus printed %d CPU lines, expected %d" % (len(rows), ncpu)
    rowb = next(l for l in rows if l.split()[0] == str(b)).split()
    # cpu state target online active current idle preempt irq nmi nodes
    if rowb[-1] != "4" or rowb[-2] != "1":
        return "grace-cpus: CPU %d shows nodes %s nmi %s, expected 4 and 1" % (b, rowb[-1], rowb[-2])
    if any(r.split()[1] != "online" or r.split()[3] != "yes" for r in rows):
        return "grace-cpus: not every CPU is online"
    if "!!" in out:
        return "grace-cpus: a per-CPU area belongs to another CPU (per-CPU offsets misread)"

    out = run("grace-hotplug")
    online = [l for l in out.splitlines() if re.search(r"\bonline\s", l) and "cpu0" in l]
    if not online or "cpu%d" % (ncpu - 1) not in online[0]:
        return "grace-hotplug: the online row does not list every CPU"
    if not re.search(r"smpcfd:prepare\s+smpcfd_prepare_cpu", out):
        return "grace-hotplug: smpcfd:prepare does not show its startup function"
    if "cpu:bringup" not in out:
        return "grace-hotplug: no cpu:bringup row"

    out = run("grace-lock nest_lock[0]")
    if "tail=cpu %d node 0" % b not in out or not re.search(r"locked=[13] ", out):
        return "grace-lock nest_lock[0]: expected locked, tail cpu %d node 0" % b
    if not re.search(r"head cpu %d node 0\b" % b, out):
        return "grace-lock nest_lock[0]: the queue walk does not name cpu %d node 0 as head" % b
    out = run("grace-lock &nest_lock[3]")
    if "tail=cpu %d node 3" % b not in out:
        return "grace-lock &nest_lock[3]: expected tail cpu %d node 3" % b

    out = run("grace-tasks")
    if "cpuhp/0" not in out or "lt-writer" not in out:
        return "grace-tasks: cpuhp/0 or the torture writers missing"

    out = run("grace-dmesg")
    if "Grace: booting" not in out or "locktorture" not in out:
        return "grace-dmesg: the boot banner or the torture start is missing"
    out = run("grace-dmesg 3")
    if len(out.strip().splitlines()) != 3:
        return "grace-dmesg 3 printed %d lines" % len(out.strip().splitlines())

    if val("$grace_cpu_state(0)") != val("CPUHP_ONLINE"):
        return "$grace_cpu_state(0) is not CPUHP_ONLINE"
    return None


try:
    why = session()
except (gdb.error, StopIteration) as e:
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
