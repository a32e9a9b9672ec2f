#!/usr/bin/env python3
"""qemu.py — the one place that builds a QEMU command line for Grace.

`make run`, `make debug`, the scenario runner (tests/run_scenarios.py) and the
GDB test (tests/gdb/run_gdb_test.sh) all boot Grace through this module, so a
change to how Grace is booted (a device, a firmware path, an accelerator
choice) is made here once.

What every command line has, and why:
  -M pc|q35                  the two chipsets Grace supports (i440FX and ICH9)
  -cdrom build/grace.iso     one ISO (GRUB + grace.elf) for BIOS and UEFI
  -fw_cfg name=opt/grace/cmdline,string=ARGS
                             kernel arguments without rebuilding the ISO; QEMU
                             splits option values at ',' so commas in ARGS are
                             doubled (",," is QEMU's escape for a literal comma)
  -device isa-debug-exit,iobase=0xf4,iosize=0x04
                             the kernel powers off by writing v to port 0xf4;
                             QEMU then exits with status (v << 1) | 1, so 0x10
                             gives 33 (success) and 0x11 gives 35 (failure)
  -no-reboot                 a triple fault ends QEMU (status 0) instead of
                             looping through the firmware forever
  -display none              unless a window is asked for
  accelerator                chosen by trying it (tools/accel.py): KVM with the
                             CPU model that starts there, only when KVM boots
                             Grace correctly and is not slower than TCG; else
                             `-accel tcg,thread=multi` (MTTCG: one host thread
                             per vCPU, so races between CPUs are real races).
                             ACCEL=auto|kvm|tcg overrides; one line says which
                             and why
  UEFI                       OVMF_CODE_4M.fd read-only + a private copy of
                             OVMF_VARS_4M.fd in a temporary directory, so runs
                             in parallel never share (or corrupt) one NVRAM

Use as a module:

    with QemuConfig(iso="build/grace.iso", smp="2", args="ktest=all") as q:
        argv = q.argv()          # the temporary OVMF vars live until __exit__

or from the shell (prints the accelerator line, then runs QEMU; --print only
prints the command). The exit status is 0 when the kernel powered off with
success (QEMU's 33) or QEMU was quit, else QEMU's status:

    tools/qemu.py --smp 4 --machine q35 --firmware uefi --args 'ktest=all'
    tools/qemu.py --gdb 1234 ...     # paused at reset, gdbstub on localhost:1234
    tools/qemu.py ... -- -d int      # anything after -- goes to QEMU verbatim

Standard library only.
"""

import argparse
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import accel  # noqa: E402  (tools/accel.py, next to this file)

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
DEBUG_EXIT_PORT = 0xf4
EXIT_SUCCESS_STATUS = 33   # (0x10 << 1) | 1, see kernel/reboot.c
MACHINES = ("pc", "q35")
FIRMWARES = ("bios", "uefi")


def qemu_escape(value):
    """Escape a value for a QEMU option list (commas are separators; ',,' is a comma)."""
    return str(value).replace(",", ",,")


def choose_accel(iso="build/grace.iso", mode=None, log=None):
    """The accelerator decision for this machine (tools/accel.py), cached in
    the build directory next to the ISO."""
    cache = os.path.join(os.path.dirname(os.path.abspath(iso)), "accel.json")
    return accel.choose(iso, cache, mode=mode, log=log)


TCG = accel.Choice("tcg", "asked for TCG")


class QemuConfig:
    """Everything that varies between boots of Grace; argv() makes the command."""

    def __init__(self, iso="build/grace.iso", machine="q35", firmware="bios",
                 smp="2", memory="256M", args="", serial="stdio", display=False,
                 gdb_port=None, extra=None, accel_choice=None, use_kvm=None, cpu=None,
                 qemu="qemu-system-x86_64"):
        if machine not in MACHINES:
            raise ValueError("machine must be one of %s, not %r" % ("|".join(MACHINES), machine))
        if firmware not in FIRMWARES:
            raise ValueError("firmware must be one of %s, not %r" % ("|".join(FIRMWARES), firmware))
        self.iso = iso
        self.machine = machine
        self.firmware = firmware
        self.smp = str(smp)
        self.memory = str(memory)
        self.args = args or ""
        # "stdio", "mon:stdio" (Ctrl-A X quits, Ctrl-A C monitor), "none",
        # or a path: the serial output is written to that file.
        self.serial = serial
        self.display = display
        self.gdb_port = gdb_port
        self.extra = list(extra or [])
        if accel_choice is None:   # use_kvm: True/False decides without probing
            accel_choice = (choose_accel(iso) if use_kvm is None else
                            accel.Choice("kvm", "asked for KVM", kvm_cpu="host") if use_kvm
                            else TCG)
        self.accel = accel_choice
        self.use_kvm = accel_choice.use_kvm
        self.cpu = cpu
        self.qemu = qemu
        self._tmpdir = None

    # The private OVMF variable store lives in a temporary directory that
    # exists from __enter__ (or the first argv()) until cleanup().
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False

    def cleanup(self):
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def _ovmf_vars_copy(self):
        if not self._tmpdir:
            self._tmpdir = tempfile.mkdtemp(prefix="grace-ovmf-")
        path = os.path.join(self._tmpdir, "OVMF_VARS.fd")
        if not os.path.exists(path):
            shutil.copyfile(OVMF_VARS, path)
        return path

    def _cpu_model(self):
        """-cpu for this run. Under KVM the model is the one that starts here
        (host, or host,-arch-capabilities); a scenario's `cpu:` starting with
        "host" adds its flags to it (host,+kvm-pv-unhalt); any other `cpu:`
        is a TCG model, not used under KVM."""
        if not self.use_kvm:
            return self.cpu
        base = self.accel.kvm_cpu or "host"
        if self.cpu and self.cpu.startswith("host"):
            return base + self.cpu[len("host"):]
        return base

    def accel_line(self):
        line = self.accel.line()
        if self.use_kvm and self.cpu and not self.cpu.startswith("host"):
            line += " (-cpu %s ignored under KVM)" % self.cpu
        elif self.use_kvm:
            line += " -cpu %s" % self._cpu_model()
        return line

    def argv(self):
        a = [self.qemu, "-M", self.machine, "-m", self.memory, "-smp", self.smp]
        a += ["-accel", "kvm"] if self.use_kvm else list(accel.TCG_ACCEL)
        if self._cpu_model():
            a += ["-cpu", self._cpu_model()]
        if self.firmware == "uefi":
            a += ["-drive", "if=pflash,format=raw,readonly=on,file=" + qemu_escape(OVMF_CODE),
                  "-drive", "if=pflash,format=raw,file=" + qemu_escape(self._ovmf_vars_copy())]
        a += ["-cdrom", self.iso]
        if self.args:
            a += ["-fw_cfg", "name=opt/grace/cmdline,string=" + qemu_escape(self.args)]
        a += ["-device", "isa-debug-exit,iobase=%#x,iosize=0x04" % DEBUG_EXIT_PORT]
        a += ["-no-reboot"]
        if self.serial in ("stdio", "mon:stdio", "none"):
            a += ["-serial", self.serial]
        else:
            a += ["-serial", "file:" + qemu_escape(self.serial)]
        if not self.display:
            a += ["-display", "none"]
        if self.serial != "mon:stdio":
            # Without a window or a muxed console QEMU would put its monitor
            # on a VC; nobody reads it, so switch it off.
            a += ["-monitor", "none"]
        if self.gdb_port is not None:
            # Bound to localhost only: a gdbstub can read and write all guest
            # memory, so it must not listen on every interface.
            a += ["-S", "-gdb", "tcp:127.0.0.1:%d" % int(self.gdb_port)]
        a += self.extra
        return a

    def shell_command(self):
        return " ".join(shlex.quote(x) for x in self.argv())


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Boot Grace in QEMU (see the module docstring for what every option means).",
        epilog="Arguments after -- are passed to QEMU unchanged.")
    p.add_argument("--iso", default="build/grace.iso")
    p.add_argument("--machine", "-M", default="q35", choices=MACHINES)
    p.add_argument("--firmware", default="bios", choices=FIRMWARES)
    p.add_argument("--smp", default="2", help='anything -smp accepts, e.g. "2,maxcpus=8"')
    p.add_argument("--memory", "-m", default="256M")
    p.add_argument("--args", default="", help="kernel arguments (passed through fw_cfg)")
    p.add_argument("--serial", default="mon:stdio",
                   help="stdio, mon:stdio (default: Ctrl-A X quits), none, or a log file path")
    p.add_argument("--display", action="store_true", help="open a window (default: none)")
    p.add_argument("--gdb", type=int, metavar="PORT", help="start paused with a gdbstub on PORT")
    p.add_argument("--cpu", help="CPU model under TCG (default: QEMU's); under KVM, "
                   "host,+flag adds flags to the model that starts there")
    p.add_argument("--accel", choices=("auto", "kvm", "tcg"),
                   help="accelerator (default: $ACCEL, else auto: decided by trying KVM)")
    p.add_argument("--no-kvm", action="store_true", help="same as --accel tcg")
    p.add_argument("--print", action="store_true", help="print the command, do not run it")
    p.add_argument("--timeout", type=float, help="kill QEMU after this many seconds")
    ns, extra = p.parse_known_args(argv)
    if extra and extra[0] == "--":
        extra = extra[1:]
    elif extra:
        p.error("unknown arguments %s (put QEMU arguments after --)" % " ".join(extra))

    mode = "tcg" if ns.no_kvm else ns.accel
    try:
        choice = choose_accel(ns.iso, mode=mode,
                              log=lambda m: print(m, file=sys.stderr, flush=True))
    except ValueError as e:
        print("qemu.py: %s" % e, file=sys.stderr)
        return 2
    if choice.accel == "fail":
        print("qemu: %s" % choice.reason, file=sys.stderr)
        return 1
    cfg = QemuConfig(iso=ns.iso, machine=ns.machine, firmware=ns.firmware, smp=ns.smp,
                     memory=ns.memory, args=ns.args, serial=ns.serial, display=ns.display,
                     gdb_port=ns.gdb, extra=extra, cpu=ns.cpu, accel_choice=choice)
    with cfg:
        if ns.print:
            print(cfg.shell_command())
            return 0
        if not os.path.exists(ns.iso):
            print("qemu.py: %s does not exist; run make first" % ns.iso, file=sys.stderr)
            return 2
        print(cfg.accel_line(), file=sys.stderr)
        if ns.gdb is not None:
            print("qemu: paused at reset; gdbstub on localhost:%d — attach with `make gdb`"
                  " (GDB_PORT=%d) from another terminal" % (ns.gdb, ns.gdb), file=sys.stderr)
        if ns.serial == "mon:stdio":
            print("qemu: serial console here; Ctrl-A X quits QEMU, Ctrl-A C toggles its monitor",
                  file=sys.stderr)
        proc = subprocess.Popen(cfg.argv())

        # Whoever started us may end us by our PID (SIGTERM): take QEMU,
        # which we started, down with us, and remove the OVMF copy.
        def terminated(signum, frame):
            raise KeyboardInterrupt
        signal.signal(signal.SIGTERM, terminated)
        signal.signal(signal.SIGHUP, terminated)
        try:
            status = proc.wait(timeout=ns.timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            print("qemu.py: timeout after %g s; QEMU (pid %d) killed" % (ns.timeout, proc.pid),
                  file=sys.stderr)
            return 124
        except KeyboardInterrupt:
            proc.kill()
            proc.wait()
            return 130
    # For the shell (and make): 33 means success, so it becomes 0. 0 stays 0
    # (QEMU quit by Ctrl-A X, or an ACPI power-off); anything else is passed on.
    if status == EXIT_SUCCESS_STATUS:
        print("qemu: exit status 33: the kernel powered off with success", file=sys.stderr)
        return 0
    if status & 1 and status > 1:
        print("qemu: exit status %d: the kernel powered off with failure code %#x"
              % (status, status >> 1), file=sys.stderr)
    elif status != 0:
        print("qemu: exit status %d%s" % (status, " (QEMU failed under KVM; ACCEL=tcg uses TCG)"
                                          if cfg.use_kvm and status in (1, -6, 134) else ""),
              file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
