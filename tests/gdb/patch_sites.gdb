# patch_sites.gdb — grace-patch-sites (tools/gdb/grace.py) on a kernel stopped
# in the middle of a text_poke_bp batch.
#
# Run by tests/gdb/run_gdb_test.sh for scenario gdb-patch-sites, with ktest
# patching.byte_trace at -smp 2: it rewrites tp_call_site (a lock-op kind
# site) from `call tp_target_a` to `call tp_target_b` and calls its trace hook
# after each step and each sync. A hardware breakpoint on that hook stops the
# kernel with the batch in flight. Checks:
#   1. one row per entry of the linked .patch_sites table (GDB's own count),
#      and the header reports a batch of one site in flight;
#   2. at the first stop (step 1: int3 written) tp_call_site's bytes start
#      with cc, it is shown as being patched, and its in-flight line shows the
#      old `call tp_target_a` and the new `call tp_target_b`;
#   3. every row's bytes are what GDB reads at that address, and no other
#      site is being patched;
#   4. at the sixth stop (step 3 synced) the site reads `call tp_target_b`;
#      once the batch is over (a later static-call ktest reaches tp_fn_b)
#      nothing is in flight;
#   5. `grace-patch-sites jump` lists only jump sites; a bad KIND is refused
#      with a message.
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


ROW = re.compile(r"^(0x[0-9a-f]{16}) (\w+)\s+(\S+)\s+(\S+)\s+([0-9a-f]{10})\s+(.*)$")


def rows(out):
    return [ROW.match(l) for l in out.splitlines() if ROW.match(l)]


def site_row(out, name):
    addr = val("(unsigned long)&%s" % name)
    for m in rows(out):
        if int(m.group(1), 16) == addr:
            return m
    return None


def check_bytes(out):
    for m in rows(out):
        b = bytes(gdb.selected_inferior().read_memory(int(m.group(1), 16), 5)).hex()
        if b != m.group(5):
            return "row %s shows bytes %s, memory holds %s" % (m.group(3), m.group(5), b)
    return None


def session():
    run("file " + os.environ.get("GRACE_ELF", "build/grace.elf"))
    run("set architecture i386:x86-64")
    run("source tools/gdb/grace.py")
    run("target remote :" + os.environ["GDB_PORT"])
    run("hbreak trace_hook")
    run("continue")
    if gdb.selected_frame().name() != "trace_hook":
        return "stopped in %s, not trace_hook" % gdb.selected_frame().name()
    out = run("grace-patch-sites")
    n = (val("(unsigned long)&__stop_patch_sites") - val("(unsigned long)&__start_patch_sites")) // \
        val("sizeof(struct patch_site)")
    if not out.startswith("%d patch sites; text_poke_bp batch in flight: 1 sites" % n):
        return "header is not '%d patch sites; ... in flight: 1 sites': %s" % (n, out.splitlines()[0])
    if len(rows(out)) != n:
        return "printed %d site rows, the table has %d" % (len(rows(out)), n)
    m = site_row(out, "tp_call_site")
    if m is None:
        return "no row for tp_call_site"
    if not m.group(5).startswith("cc") or "int3 (being patched)" not in m.group(6):
        return "tp_call_site at step 1 is not shown as int3: %s" % m.group(0)
    fl = re.search(r"in flight: old [0-9a-f]{10} \(call tp_target_a\) -> new [0-9a-f]{10} "
                   r"\(call tp_target_b\)", out)
    if not fl:
        return "no in-flight line 'old (call tp_target_a) -> new (call tp_target_b)'"
    why = check_bytes(out)
    if why:
        return why
    others = [r for r in rows(out) if r.group(1) != m.group(1) and r.group(5).startswith("cc")]
    if others:
        return "site %s is shown as int3 but is not in the batch" % others[0].group(3)
    kinds = {r.group(2) for r in rows(out)}
    if not {"jump", "call", "lockop"} <= kinds:
        return "expected sites of all three kinds, got %s" % sorted(kinds)
    for r in rows(out):
        if r.group(1) == m.group(1):
            continue
        if r.group(2) == "lockop" and not re.match(r"(call \S+|nop5|bytes [0-9a-f ]+)", r.group(6)):
            return "lock-op site %s decodes as '%s'" % (r.group(3), r.group(6))
        if r.group(2) == "jump" and not re.match(r"(nop5|jmp \S+)\s+\(branch", r.group(6)):
            return "jump site %s decodes as '%s'" % (r.group(3), r.group(6))
    for _ in range(5):
        run("continue")
    out = run("grace-patch-sites lockop")
    m = site_row(out, "tp_call_site")
    if m is None or m.group(6) != "call tp_target_b":
        return "after step 3 tp_call_site is not 'call tp_target_b': %s" % (m.group(0) if m else None)
    if any(r.group(2) != "lockop" for r in rows(out)):
        return "'grace-patch-sites lockop' listed a site of another kind"
    run("delete")
    run("hbreak tp_fn_b")     # the ktest's later static_call tests run after the batch
    run("continue")
    out = run("grace-patch-sites jump")
    if "batch in flight: none" not in out.splitlines()[0]:
        return "a batch is still shown in flight after text_poke_bp returned"
    if not rows(out) or any(r.group(2) != "jump" for r in rows(out)):
        return "'grace-patch-sites jump' did not list only jump sites"
    try:
        gdb.execute("grace-patch-sites bogus", to_string=True)
        return "'grace-patch-sites bogus' was accepted"
    except gdb.error as e:
        if "KIND is one of" not in str(e):
            return "bad KIND gave '%s'" % e
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
