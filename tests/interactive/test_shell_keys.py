#!/usr/bin/env python3
"""test_shell_keys.py — drive the shell like a person would, over COM1 and the
PS/2 keyboard, and check what comes back.

Usage (from the repository root, after `make`):
    python3 tests/interactive/test_shell_keys.py [--uefi] [--iso build/grace.iso]
            [--screenshot out.png]

Boots QEMU with the serial port on a pipe and the monitor on a unix socket,
then: types command lines with editing keys (backspace, delete, arrows,
Home/End, ctrl-a/e/u/k/c, history), checks each command's output line, types
one line through the emulated keyboard (`sendkey`), optionally saves a
screenshot of the screen console (`screendump`, converted by tools/ppm2png.py),
and ends with `poweroff` (QEMU must exit with status 33).
Prints "FAIL ..." lines and exits 1 on any failure.
"""
import argparse
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import ppm2png  # noqa: E402

UP, DOWN, RIGHT, LEFT = "\x1b[A", "\x1b[B", "\x1b[C", "\x1b[D"
HOME, END, DELETE = "\x1b[H", "\x1b[F", "\x1b[3~"
BS = "\x7f"


def ctrl(c):
    return chr(ord(c) & 0x1f)


class Machine:
    def __init__(self, iso, uefi, tmp):
        self.tmp = tmp
        self.mon_path = os.path.join(tmp, "mon.sock")
        argv = ["qemu-system-x86_64", "-M", "q35", "-m", "256", "-smp", "2",
                "-cdrom", iso, "-serial", "stdio", "-display", "none", "-no-reboot",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                "-monitor", "unix:%s,server,nowait" % self.mon_path]
        if uefi:
            vars_copy = os.path.join(tmp, "vars.fd")
            shutil.copy("/usr/share/OVMF/OVMF_VARS_4M.fd", vars_copy)
            argv += ["-drive", "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
                     "-drive", "if=pflash,format=raw,file=" + vars_copy]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.out = b""
        self.mon = None

    def read_some(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if r:
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            self.out += chunk
            return bool(chunk)
        return False

    def wait_for(self, pattern, timeout=30, start=0):
        """Wait until `pattern` (bytes regex) appears in the output after `start`."""
        rx = re.compile(pattern)
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = rx.search(self.out, start)
            if m:
                return m
            if not self.read_some(0.1) and self.proc.poll() is not None:
                break
        return None

    def send(self, text, delay=0.0):
        for ch in text:
            self.proc.stdin.write(ch.encode("latin-1"))
            self.proc.stdin.flush()
            if delay:
                time.sleep(delay)

    def monitor(self, cmd):
        if self.mon is None:
            for _ in range(50):
                try:
                    self.mon = socket.socket(socket.AF_UNIX)
                    self.mon.connect(self.mon_path)
                    break
                except OSError:
                    time.sleep(0.1)
            self.mon.settimeout(5)
        self.mon.sendall((cmd + "\n").encode())
        time.sleep(0.3)
        try:
            return self.mon.recv(65536).decode("latin-1", "replace")
        except socket.timeout:
            return ""

    def finish(self, timeout=30):
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # our own child, by its handle
            self.proc.wait()
        while self.read_some(0):
            pass
        return self.proc.returncode


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--iso", default=os.path.join(ROOT, "build/grace.iso"))
    p.add_argument("--uefi", action="store_true")
    p.add_argument("--screenshot", help="save the screen as PNG before powering off")
    p.add_argument("--log", help="save the raw serial output here")
    ns = p.parse_args()

    failures = []
    tmp = tempfile.mkdtemp(prefix="grace-keys-")
    m = Machine(ns.iso, ns.uefi, tmp)
    try:
        if not m.wait_for(rb"grace> ", timeout=120):
            print("FAIL no prompt; output:\n" + m.out.decode("latin-1")[-2000:])
            m.proc.kill()
            return 1

        def check(keys, expect, what, forbid=None, via_keyboard=None):
            start = len(m.out)
            if via_keyboard:
                for k in via_keyboard:
                    m.monitor("sendkey " + k)
            else:
                m.send(keys, delay=0.002)
            mt = m.wait_for(expect, timeout=20, start=start)
            ok = mt is not None
            if ok and not m.wait_for(rb"grace> $", timeout=20, start=mt.end()):
                ok = False
            if ok and forbid and re.search(forbid, m.out[start:]):
                ok = False
            print("%s %s" % ("ok  " if ok else "FAIL", what))
            if not ok:
                failures.append(what)
                print("     output: %r" % m.out[start:][-400:])

        check("echo hellx" + BS + "o\r", rb"\] hello\r?\n", "backspace")
        check("echo wrld" + LEFT * 3 + "o\r", rb"\] world\r?\n", "left arrow + insert")
        check("cho xy" + HOME + "e" + END + "z\r", rb"\] xyz\r?\n", "home/end (ESC[H, ESC[F)")
        check("cho 1" + ctrl("a") + "e" + ctrl("e") + "2\r", rb"\] 12\r?\n", "ctrl-a / ctrl-e")
        check("cho 3" + "\x1b[1~" + "e" + "\x1b[4~" + "4\r", rb"\] 34\r?\n", "home/end (ESC[1~, ESC[4~)")
        check("echo abXc" + LEFT * 2 + DELETE + "\r", rb"\] abc\r?\n", "delete key")
        check("echo abc" + LEFT + LEFT + RIGHT + "X\r", rb"\] abXc\r?\n", "right arrow")
        check("garbage words" + ctrl("u") + "echo after-kill\r", rb"\] after-kill\r?\n",
              "ctrl-u kills the line", forbid=rb"unknown command 'garbage")
        check("echo keep-cut" + LEFT * 4 + ctrl("k") + "\r", rb"\] keep\r?\n", "ctrl-k kills to end")
        check("echo never" + ctrl("c"), rb"\^C\r?\n", "ctrl-c cancels", forbid=rb"\] never")
        check(UP + "\r", rb"\] keep\r?\n", "up: previous command")
        # History now ends: ... "echo abXc", "echo after-kill", "echo keep" (the
        # repeated "echo keep" is stored once; the cancelled line not at all).
        check(UP + UP + "\r", rb"\] after-kill\r?\n", "up x2: older command")
        check(UP + UP + UP + UP + DOWN + "\r", rb"\] after-kill\r?\n", "up x4, down")
        check("echo partial" + UP + DOWN + "\r", rb"\] partial\r?\n", "down restores the line being typed")
        check("\x1bOH" + "echo ss3" + "\x1bOF" + "\r", rb"\] ss3\r?\n", "SS3 home/end (ESC O H/F)")
        check("echo crlf\r\n", rb"\] crlf\r?\n", "CR LF is one Enter")
        check("echo \"two  spaces\" x\r", rb"\] two  spaces x\r?\n", "quotes group words")
        check("foo\r", rb"shell: unknown command 'foo' \(try 'help'\)", "unknown command")
        check("help a b\r", rb"usage: help \[CMD\]", "non-zero return prints usage")
        check("help echo\r", rb"print the words", "help CMD")
        check("x" * 300 + ctrl("u") + "echo long-ok\r", rb"\] long-ok\r?\n", "overlong line is bounded")
        check("", rb"\] kbd-Ok!\r?\n", "PS/2 keyboard (sendkey): letters, shift, backspace",
              via_keyboard=["e", "c", "h", "o", "spc", "k", "b", "d", "minus", "shift-o", "x",
                            "backspace", "k", "shift-1", "ret"])
        check("", rb"\] Ab\r?\n", "PS/2 keyboard: arrows and caps lock",
              via_keyboard=["e", "c", "h", "o", "spc", "b", "left", "caps_lock", "a",
                            "caps_lock", "end", "kp_enter"])
        check("", rb"\] Ab\r?\n", "PS/2 keyboard: up arrow recalls history",
              via_keyboard=["up", "ret"])
        check("", rb"\] hi\r?\n", "PS/2 keyboard: ctrl-u",
              via_keyboard=["x", "ctrl-u", "e", "c", "h", "o", "spc", "h", "i", "ret"])

        if ns.screenshot:
            ppm = os.path.join(tmp, "screen.ppm")
            m.monitor("screendump " + ppm)
            for _ in range(50):
                if os.path.exists(ppm) and os.path.getsize(ppm) > 0:
                    break
                time.sleep(0.1)
            time.sleep(0.5)
            ppm2png.write_png(ns.screenshot, *ppm2png.read_ppm(ppm))
            print("screenshot: %s" % ns.screenshot)

        m.send("poweroff\r")
        status = m.finish()
        if status != 33:
            failures.append("poweroff exit status %s (want 33)" % status)
            print("FAIL poweroff: QEMU exit status %s (want 33)" % status)
        else:
            print("ok   poweroff (exit 33)")
    finally:
        if m.proc.poll() is None:
            m.proc.kill()
            m.proc.wait()
        if ns.log:
            open(ns.log, "wb").write(m.out)
        if m.mon:
            m.mon.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
