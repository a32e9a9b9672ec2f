#!/usr/bin/env python3
"""test_patchcheck.py — tools/patchcheck over small linked ELF files.

Builds the tool (the same sources the Makefile uses), assembles and links a
kernel-like ELF with a .text and a .patch_sites table between
__start_patch_sites and __stop_patch_sites, and checks that the tool accepts
the good table and refuses, naming the reason and the function, a site of
two instructions, a jump label whose jmp goes elsewhere, overlapping sites,
a site outside .text, a wrong length, a site listed twice (overlap), and a file that is not ELF.
Run by `make unit` / `make test` as unit:test_patchcheck; exit 0 = pass.
"""
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

HEAD = """
.text
.globl _start
_start:
  ret
.type f_nop, @function
f_nop:
1: .byte 0x0f, 0x1f, 0x44, 0x00, 0x00
  ret
.type f_call, @function
f_call:
2: call _start
  ret
f_target:
  ret
.type f_bad, @function
f_bad:
3: %(bad)s
  ret
.data
key: .long 0
outside: .byte 0x0f, 0x1f, 0x44, 0x00, 0x00
.section .patch_sites, "a"
.balign 4
.globl __start_patch_sites, __stop_patch_sites
__start_patch_sites:
.long 1b - .
.long f_target - .
.long key - .
.byte 5, 1
.short 0
.long 2b - .
.long 0
.long key - .
.byte 5, 3
.short 0
%(extra)s
__stop_patch_sites:
"""

ENTRY = """.long %s - .
.long %s - .
.long key - .
.byte %d, %d
.short 0
"""


class PatchCheck(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="patchcheck-")
        cls.tool = os.path.join(cls.tmp, "patchcheck")
        subprocess.run(["cc", "-std=c11", "-O1", "-Wall", "-Iinclude", "-Iarch/x86_64/include",
                        "tools/patchcheck.c", "arch/x86_64/patch_site_check.c",
                        "arch/x86_64/insn.c", "-o", cls.tool], cwd=ROOT, check=True)

    def elf(self, name, bad="nop", extra=""):
        s = os.path.join(self.tmp, name + ".s")
        o = os.path.join(self.tmp, name + ".o")
        e = os.path.join(self.tmp, name + ".elf")
        with open(s, "w") as f:
            f.write(HEAD % {"bad": bad, "extra": extra})
        subprocess.run(["as", "--64", "-o", o, s], check=True)
        subprocess.run(["ld", "-o", e, "-Ttext=0x401000", o], check=True)
        return e

    def run_tool(self, path):
        p = subprocess.run([self.tool, path], capture_output=True, text=True)
        return p.returncode, p.stdout + p.stderr

    def test_good(self):
        rc, out = self.run_tool(self.elf("good2"))
        self.assertEqual(rc, 0, out)
        self.assertIn("2 patch sites", out)

    def test_two_instructions(self):
        e = self.elf("two", bad=".byte 0x66, 0x90, 0x0f, 0x1f, 0x00",
                     extra=ENTRY % ("3b", "f_target", 5, 3))
        rc, out = self.run_tool(e)
        self.assertEqual(rc, 1, out)
        self.assertIn("not one instruction its kind allows", out)
        self.assertIn("f_bad", out)

    def test_jmp_elsewhere(self):
        e = self.elf("jmp", bad=".byte 0xe9\n.long _start - (. + 4)",
                     extra=ENTRY % ("3b", "f_target", 5, 1))
        rc, out = self.run_tool(e)
        self.assertEqual(rc, 1, out)
        self.assertIn("branch target is wrong", out)

    def test_overlap(self):
        rc, out = self.run_tool(self.elf("overlap", extra=ENTRY % ("1b", "f_target", 5, 1)))
        self.assertEqual(rc, 1, out)
        self.assertIn("overlaps", out)

    def test_outside_text(self):
        rc, out = self.run_tool(self.elf("outside", extra=ENTRY % ("outside", "f_target", 5, 3)))
        self.assertEqual(rc, 1, out)
        self.assertIn("not inside .text", out)

    def test_length(self):
        rc, out = self.run_tool(self.elf("len", extra=ENTRY % ("2b", "f_target", 4, 3)))
        self.assertEqual(rc, 1, out)

    def test_not_elf(self):
        p = os.path.join(self.tmp, "junk")
        with open(p, "w") as f:
            f.write("not an elf file at all, long enough to read a header from......")
        rc, out = self.run_tool(p)
        self.assertEqual(rc, 2, out)
        self.assertIn("not a readable ELF64", out)


if __name__ == "__main__":
    sys.exit(0 if unittest.main(exit=False).result.wasSuccessful() else 1)
