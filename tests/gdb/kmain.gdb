# kmain.gdb — a scripted GDB session against QEMU's gdbstub.
#
# Run by tests/gdb/run_gdb_test.sh (which starts QEMU paused with -S -gdb and
# sets GDB_PORT, GRACE_ELF and GRACE_SMP). Checks, in order:
#   1. the symbols load and the architecture is i386:x86-64 (see README:
#      "Remote 'g' packet reply is too long" is what happens otherwise);
#   2. a HARDWARE breakpoint on kmain is hit (a software breakpoint written
#      into memory before GRUB loads the kernel would be overwritten);
#   3. `next` twice moves to another source line;
#   4. `info threads` shows one thread per vCPU (QEMU presents each vCPU as
#      a thread, including CPUs still waiting for INIT-SIPI);
#   5. `bt` shows kmain;
#   6. globals read back: tsc_at_boot is set by kmain's first line, and
#      boot_info.nr_mem once the multiboot2 information is parsed.
# Prints "GDB-TEST: PASS" or "GDB-TEST: FAIL <why>" and exits 0 or 1.

set pagination off
set confirm off
set width 0
set print pretty off

python
import os
import re
import gdb


def run(cmd):
    out = gdb.execute(cmd, to_string=True)
    print("(gdb) %s\n%s" % (cmd, out.rstrip()))
    return out


def expected_vcpus():
    """Present vCPUs from a -smp string: "4", "2,maxcpus=8", "sockets=2,cores=2"."""
    smp = os.environ.get("GRACE_SMP", "2")
    m = re.match(r"^(\d+)", smp)
    if m:
        return int(m.group(1))
    n = 1
    for key in ("sockets", "dies", "clusters", "cores", "threads"):
        km = re.search(key + r"=(\d+)", smp)
        if km:
            n *= int(km.group(1))
    return n


def session():
    elf = os.environ.get("GRACE_ELF", "build/grace.elf")
    port = os.environ["GDB_PORT"]
    run("file " + elf)
    run("set architecture i386:x86-64")
    arch = gdb.selected_inferior().architecture().name() if hasattr(gdb.Inferior, "architecture") else ""
    run("target remote :" + port)
    if arch and arch != "i386:x86-64":
        return "architecture is %s, not i386:x86-64" % arch
    run("hbreak kmain")
    run("continue")

    frame = gdb.selected_frame()
    if frame.name() != "kmain":
        return "stopped in %s, not in kmain" % frame.name()
    # A source position is (file, line): kmain's first statement is the
    # inlined rdtsc() in asm/cpu.h, so the line number alone can repeat.
    def where():
        sal = gdb.selected_frame().find_sal()
        return "%s:%d" % (sal.symtab.filename if sal.symtab else "?", sal.line)

    pos0 = where()
    print("GDB: stopped in kmain at %s" % pos0)

    run("next")
    run("next")
    pos1 = where()
    if gdb.selected_frame().name() != "kmain":
        return "after two `next`s we are in %s, not kmain" % gdb.selected_frame().name()
    if pos1 == pos0:
        return "two `next`s did not leave %s" % pos0
    print("GDB: next, next: %s -> %s" % (pos0, pos1))

    threads = run("info threads")
    n = len(gdb.selected_inferior().threads())
    want = expected_vcpus()
    if n != want:
        return "info threads shows %d threads, expected %d (one per vCPU)" % (n, want)
    print("GDB: %d threads, one per vCPU" % n)

    bt = run("bt")
    if "kmain" not in bt:
        return "bt does not show kmain"

    tsc = int(gdb.parse_and_eval("tsc_at_boot"))
    run("print tsc_at_boot")
    if tsc == 0:
        return "tsc_at_boot is still 0 after kmain's first lines"

    # Step over kmain's calls until the boot information is parsed.
    for _ in range(40):
        if int(gdb.parse_and_eval("boot_info.nr_mem")) > 0:
            break
        if gdb.selected_frame().name() != "kmain":
            run("finish")
        run("next")
    nr_mem = int(gdb.parse_and_eval("boot_info.nr_mem"))
    run("print boot_info.nr_mem")
    run("print boot_info.mem[0]")
    if nr_mem == 0:
        return "boot_info.nr_mem is still 0 after 40 `next`s in kmain"
    print("GDB: boot_info.nr_mem = %d" % nr_mem)
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
    gdb.execute("kill")   # ends QEMU through the gdbstub
except gdb.error:
    pass
gdb.execute("quit %d" % (1 if why else 0))
end
