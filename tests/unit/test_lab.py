#!/usr/bin/env python3
"""test_lab.py — self-checks of tools/lab.py's region handling and check selection.

On a scratch tree (no QEMU): a lab with one unnamed region and a lab whose
exercise spans two files (parts `a` and `b`, two of them in one file) go
into their starting state and back byte for byte; broken markings are
refused with a message; a check with `selftest: no` is counted by the
grader but left out of the selftest.
Run by `make unit` / `make test` as unit:test_lab; exit 0 = pass.
"""
import io
import os
import sys
import tempfile
import unittest
from contextlib import redirect_stdout

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import lab  # noqa: E402

ONE = """int f(void)
{
	/* >>> LAB one (docs/labs/one/README.md) */
	return 42;
	/* <<< LAB one */
}
"""
TWO_A = """/* >>> LAB two:a (docs/labs/two/README.md) */
int a(void) { return 1; }
/* <<< LAB two:a */
int keep(void) { return 0; }
	/* >>> LAB two:c (docs/labs/two/README.md) */
int c(void) { return 3; }
	/* <<< LAB two:c */
"""
TWO_B = """/* >>> LAB two:b */
int b(void) { return 2; }
/* <<< LAB two:b */
"""
CHECK = """# a check
points: %d
machine: q35
firmware: bios
smp: 2
memory: 256M
args: console=serial
timeout: 10
expect: pass
%s"""


class Tree:
    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name
        self.saved = (lab.ROOT, lab.LABS, lab.STATE)
        lab.ROOT, lab.LABS, lab.STATE = (self.root, os.path.join(self.root, "docs", "labs"),
                                         os.path.join(self.root, ".lab"))

    def write(self, rel, text):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

    def read(self, rel):
        with open(os.path.join(self.root, rel)) as f:
            return f.read()

    def close(self):
        lab.ROOT, lab.LABS, lab.STATE = self.saved
        self.tmp.cleanup()


def quiet(fn, *a):
    with redirect_stdout(io.StringIO()):
        return fn(*a)


class Regions(unittest.TestCase):
    def setUp(self):
        self.t = Tree()
        self.t.write("kernel/one.c", ONE)
        self.t.write("docs/labs/one/start.c", "\treturn 0; /* stub */\n")
        self.t.write("kernel/two_a.c", TWO_A)
        self.t.write("lib/two_b.c", TWO_B)
        self.t.write("docs/labs/two/start-a.c", "int a(void) { return 0; }\n")
        self.t.write("docs/labs/two/start-b.c", "int b(void) { return 0; }\n")
        self.t.write("docs/labs/two/start-c.subst", "@@ old\nint c(void) { return 3; }\n@@ new\nint c(void) { return 4; }\n@@ end\n")

    def tearDown(self):
        self.t.close()

    def test_single_region_round_trip(self):
        quiet(lab.cmd_start, "one")
        self.assertIn("return 0; /* stub */", self.t.read("kernel/one.c"))
        self.assertNotIn("return 42", self.t.read("kernel/one.c"))
        self.assertEqual(lab.active_lab(), "one")
        quiet(lab.cmd_restore)
        self.assertEqual(self.t.read("kernel/one.c"), ONE)
        self.assertIsNone(lab.active_lab())
        self.assertIn("return 0", self.t.read(".lab/one-yours.c"))

    def test_parts_across_files_round_trip(self):
        regions = lab.find_regions(self.t.root, "two")
        self.assertEqual(sorted(p for _, p in regions), ["a", "b", "c"])
        quiet(lab.cmd_start, "two")
        a, b = self.t.read("kernel/two_a.c"), self.t.read("lib/two_b.c")
        self.assertIn("return 0", a)
        self.assertIn("return 4", a)          # part c: the substitution
        self.assertIn("int keep(void)", a)    # outside the regions: untouched
        self.assertIn("return 0", b)
        self.assertNotIn("return 1", a)
        quiet(lab.cmd_restore)
        self.assertEqual(self.t.read("kernel/two_a.c"), TWO_A)
        self.assertEqual(self.t.read("lib/two_b.c"), TWO_B)
        self.assertTrue(os.path.exists(os.path.join(self.t.root, ".lab", "two-a-yours.c")))

    def test_one_name_is_not_a_prefix_of_another(self):
        # `one` must not pick up a region of a lab called `one-more`.
        self.t.write("kernel/more.c", "/* >>> LAB one-more */\nx\n/* <<< LAB one-more */\n")
        self.assertEqual(len(lab.find_regions(self.t.root, "one")), 1)

    def test_missing_end_marker(self):
        self.t.write("kernel/bad.c", "/* >>> LAB three:x */\nint x;\n")
        with self.assertRaisesRegex(SystemExit, "no end marker"):
            lab.find_regions(self.t.root, "three")

    def test_duplicate_part_and_mixed_are_refused(self):
        self.t.write("kernel/dup.c", TWO_B)
        with self.assertRaisesRegex(SystemExit, "distinct names"):
            lab.find_regions(self.t.root, "two")
        self.t.write("kernel/dup.c", "/* >>> LAB one:p */\n/* <<< LAB one:p */\n")
        with self.assertRaisesRegex(SystemExit, "distinct names"):
            lab.find_regions(self.t.root, "one")

    def test_part_without_start_file(self):
        os.unlink(os.path.join(self.t.root, "docs/labs/two/start-b.c"))
        with self.assertRaisesRegex(SystemExit, "neither start-b.c nor start-b.subst"):
            lab.apply_start(self.t.root, "two")


class Selection(unittest.TestCase):
    def test_selftest_no_is_graded_but_not_selftested(self):
        t = Tree()
        try:
            t.write("docs/labs/one/checks/10-fast.scn", CHECK % (60, ""))
            t.write("docs/labs/one/checks/20-slow.scn", CHECK % (40, "selftest: no\n"))
            items = lab.checks("one")
            self.assertEqual([i.points for i in items], [60, 40])
            self.assertEqual([i.in_selftest for i in items], [True, False])
            t.write("docs/labs/one/checks/30-bad.scn", CHECK % (5, "selftest: maybe\n"))
            self.assertTrue(any(getattr(i, "error", None) for i in lab.checks("one")))
        finally:
            t.close()


if __name__ == "__main__":
    unittest.main()
