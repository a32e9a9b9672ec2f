# rcu.gdb — grace-rcu (tools/gdb/grace.py) on a kernel stopped mid-grace-period.
#
# Run by tests/gdb/run_gdb_test.sh for scenario gdb-rcu, with rcutorture at
# -smp 4 and a fanout of 2 (a deeper tree than the CPUs need). A hardware
# breakpoint on
# rcu_report_qs_rnp stops a CPU reporting a quiescent state, which happens
# only while a grace period runs. Checks:
#   1. the header says a GP is in progress (the low bits of gp_seq), and the
#      node count matches rcu_state.shape.nr_nodes;
#   2. one line per node, the root covering CPUs 0-3, each node's qsmask
#      within its (non-empty) qsmaskinit;
#   3. one line per CPU, each in RCU's books (all four CPUs are online);
#   4. the values printed are the ones GDB reads itself for the root.
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
    run("hbreak rcu_report_qs_rnp")
    run("continue")
    if gdb.selected_frame().name() != "rcu_report_qs_rnp":
        return "stopped in %s, not rcu_report_qs_rnp" % gdb.selected_frame().name()
    out = run("grace-rcu")
    if "(in progress)" not in out.splitlines()[0]:
        return "grace-rcu's header does not show a grace period in progress"
    nodes = val("rcu_state.shape.nr_nodes")
    rows = [l for l in out.splitlines() if re.match(r"^\s+\d+\s+\d+\s+\d+-\d+\s+0x", l)]
    if len(rows) != nodes:
        return "grace-rcu printed %d node lines, rcu_state has %d nodes" % (len(rows), nodes)
    root = rows[0].split()
    if root[2] != "0-3":
        return "the root covers %s, not CPUs 0-3" % root[2]
    qsmask, init, initnext = (int(x, 16) for x in root[3:6])
    if (qsmask, init, initnext) != (val("rcu_state.node[0].qsmask"), val("rcu_state.node[0].qsmaskinit"),
                                    val("rcu_state.node[0].qsmaskinitnext")):
        return "the root's masks differ from what GDB reads"
    for r in rows:
        f = r.split()
        q, i = int(f[3], 16), int(f[4], 16)
        if i == 0 or q & ~i:
            return "node %s: qsmask %#x not within qsmaskinit %#x" % (f[0], q, i)
    # cpu, noticed GP, owes, books, idle, dynticks, "len:", segments
    cpus = [l.split() for l in out.splitlines() if re.match(r"^\s+\d+\s+\d+\*?\s+(yes|no)\s+(yes|no)", l)]
    if len(cpus) != 4:
        return "grace-rcu printed %d CPU lines, expected 4" % len(cpus)
    for c in cpus:
        if c[3] != "yes":
            return "CPU %s is not in RCU's books although online" % c[0]
    return None


try:
    why = session()
except (gdb.error, StopIteration, ValueError) as e:
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
