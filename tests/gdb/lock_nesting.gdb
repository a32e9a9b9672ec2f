# lock_nesting.gdb — watch one CPU use all four MCS nodes, in GDB.
#
# Run by tests/gdb/run_gdb_test.sh for scenario gdb-lock-nesting, with
# locktorture running (torture.lock=1). Once a second the torture's nesting
# chain drives one CPU (B) through task -> irq -> irq -> irq -> NMI, each
# waiting for a lock the coordinator holds (kernel/torture/locktorture.c).
# A hardware breakpoint on nest_nmi stops the machine with B inside the NMI,
# its four outer contexts queued. Checks:
#   1. nest_lock[k]'s tail names (B, k) for k = 0..3: B's task, irq, irq,
#      irq contexts sit on its nodes 0, 1, 2, 3;
#   2. qnodes[B].nesting is 4 (all nodes in use) and chain_target is B;
#   3. `bt` on B shows nest_nmi;
#   4. `next` over the spin_lock in nest_nmi (the coordinator releases Ln)
#      comes back with the NMI's nest_ovf counted: it had no node left and
#      took the lock by trylock spinning.
# Prints "GDB-TEST: PASS" or "GDB-TEST: FAIL <why>" and exits 0 or 1.

set pagination off
set confirm off
set width 0

python
import os
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
    run("target remote :" + os.environ["GDB_PORT"])
    # Hardware: a software breakpoint written before GRUB loads the kernel
    # would be overwritten.
    run("hbreak nest_nmi")
    run("continue")
    if gdb.selected_frame().name() != "nest_nmi":
        return "stopped in %s, not nest_nmi" % gdb.selected_frame().name()

    tail0 = val("nest_lock[0].q.val") >> 16
    if tail0 == 0:
        return "nest_lock[0] has no queue"
    b = (tail0 >> 2) - 1
    print("GDB: CPU %d is in nest_nmi" % b)
    for k in range(4):
        t = val("nest_lock[%d].q.val" % k) >> 16
        cpu, idx = (t >> 2) - 1, t & 3
        print("GDB: nest_lock[%d] tail = (CPU %d, node %d)" % (k, cpu, idx))
        if (cpu, idx) != (b, k):
            return "nest_lock[%d]'s tail is (CPU %d, node %d), expected (%d, %d)" % (k, cpu, idx, b, k)
    nesting = val("qnodes[%d].nesting" % b)
    run("print qnodes[%d].nesting" % b)
    if nesting != 4:
        return "qnodes[%d].nesting is %d, expected 4" % (b, nesting)
    if val("chain_target") != b:
        return "chain_target is %d, expected %d" % (val("chain_target"), b)

    bt = run("bt 3")
    if "nest_nmi" not in bt:
        return "bt does not show nest_nmi"

    cls = val("lockstat_qspin_class")
    ovf = "lockstat_cpu[%d].n[%d][%d]" % (b, cls, val("LS_NEST_OVERFLOW"))
    before = val(ovf)
    run("delete")
    # `next` over spin_lock(&nest_nmi_lock), the fifth nested slow path (the
    # first steps are the inlined preempt_disable and the call's line).
    for _ in range(8):
        run("next")
        if val(ovf) != before or gdb.selected_frame().name() != "nest_nmi":
            break
    after = val(ovf)
    run("print %s" % ovf)
    if gdb.selected_frame().name() != "nest_nmi":
        return "after `next` we are in %s, not nest_nmi" % gdb.selected_frame().name()
    if after != before + 1:
        return "nest_ovf on CPU %d went %d -> %d, expected one more" % (b, before, after)
    print("GDB: the NMI found no free node and spun on trylock (nest_ovf %d -> %d)" % (before, after))
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
