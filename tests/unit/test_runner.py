#!/usr/bin/env python3
"""test_runner.py — self-checks of the scenario runner's verdict logic.

The runner decides pass/fail from an exit status and console lines
(tests/run_scenarios.py: judge()); these fake logs pin down every rule in
docs/testing.md, so a change to the rules shows up here first. Also checks
the scenario-file parser (matrix: expansion included) and the QEMU command
line builder (tools/qemu.py).
Run by `make unit` / `make test` as unit:test_runner; exit 0 = pass.
"""
import os
import sys
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import qemu  # noqa: E402
import run_scenarios as rs  # noqa: E402

BOOT = ["[    0.000000 C0] Grace: booting", "[    0.100000 C0] TEST printk.basic: PASS"]


def judge(lines, expect="pass", status=33, timed_out=False, **kw):
    return rs.judge(expect, status, timed_out, lines, 60, **kw)


class PassRules(unittest.TestCase):
    def test_clean_run_passes(self):
        self.assertEqual(judge(BOOT), (True, ""))

    def test_expect_output_is_a_verdict(self):
        self.assertEqual(judge(["Grace: booting"], expect_output=["Grace: booting"]), (True, ""))

    def test_end_of_test_and_bench_are_verdicts(self):
        self.assertTrue(judge(["End of test: SUCCESS"])[0])
        self.assertTrue(judge(["BENCH qspinlock.uncontended 12 ns"])[0])

    def test_no_verdict_fails(self):
        ok, why = judge(["Grace: booting"])
        self.assertFalse(ok)
        self.assertIn("no verdict", why)

    def test_missing_expected_output(self):
        ok, why = judge(BOOT, expect_output=["Grace: booting", "CPU 3 online"])
        self.assertFalse(ok)
        self.assertIn("missing expected output /CPU 3 online/", why)

    def test_wrong_exit_status(self):
        ok, why = judge(BOOT, status=35)
        self.assertFalse(ok)
        self.assertIn("code 0x11", why)
        ok, why = judge(BOOT, status=0)
        self.assertIn("triple fault", why)

    def test_timeout(self):
        ok, why = judge(BOOT, timed_out=True, status=-9)
        self.assertFalse(ok)
        self.assertTrue(why.startswith("timeout after 60 s"), why)

    def test_fail_line(self):
        ok, why = judge(BOOT + ["TEST rcu.torture: FAIL reader saw stale element"])
        self.assertFalse(ok)
        self.assertIn("line 3", why)
        self.assertIn("FAIL reader saw stale", why)
        self.assertFalse(judge(BOOT + ["End of test: FAILURE"])[0])

    def test_badness_lines(self):
        for bad in ("Kernel panic - not syncing: oops", "WARNING: kernel/cpu.c:12: x",
                    "!!! lock held", "EXCEPTION #PF at 0x0", "BUG at mm/page.c:3",
                    "UBSAN: shift out of bounds", "rcu: INFO: stall on CPU 1",
                    "rcu: stalled grace period"):
            ok, why = judge(BOOT + [bad])
            self.assertFalse(ok, bad)
            self.assertIn(bad[:10], why)

    def test_first_offending_line_is_reported(self):
        ok, why = judge(BOOT + ["WARNING: first", "Kernel panic - second"])
        self.assertIn("WARNING: first", why)

    def test_not_a_stall(self):
        self.assertTrue(judge(BOOT + ["installing handlers", "Installed 3 consoles"])[0])
        # a parameter listing names stall parameters without reporting one
        self.assertTrue(judge(BOOT + ["locktorture.stall_s      5   int [1..3600]"])[0])
        self.assertFalse(judge(BOOT + ["locktorture: FAIL writer 1 made no progress (stall)"])[0])

    def test_args_echo_is_not_badness(self):
        args = "rcu.stall_timeout=3 lab.bug=stall ktest=all"
        line = 'boot: cmdline "%s"' % args
        self.assertTrue(judge(BOOT + [line], args=args)[0])
        self.assertFalse(judge(BOOT + [line])[0])

    def test_exempt(self):
        allow = [rs.re.compile("injecting")]
        self.assertTrue(rs.exempt("lab: injecting a stall", allow, ""))
        self.assertTrue(rs.exempt('cmdline "a=stall b"', [], "a=stall b"))
        self.assertFalse(rs.exempt('cmdline "a=stall"', [], "a=stall b"))
        self.assertFalse(rs.exempt("rcu: stall", [], ""))

    def test_allow_output(self):
        self.assertTrue(judge(BOOT + ["lab: now injecting a stall"],
                              allow_output=["injecting a stall"])[0])

    def test_forbid_output(self):
        ok, why = judge(BOOT + ["falling back to PIT"], forbid_output=["PIT"])
        self.assertFalse(ok)
        self.assertIn("forbidden output", why)

    def test_escapes_are_removed(self):
        lines = rs.clean_lines("\x1b[2J\x1b[01;01HGrace: booting\r\nTEST a: PASS\r\n")
        self.assertEqual(lines[:2], ["Grace: booting", "TEST a: PASS"])

    def test_command_success_status(self):
        self.assertTrue(judge(["GDB-TEST: PASS"], status=0, success_status=0,
                              expect_output=["GDB-TEST: PASS"])[0])
        self.assertFalse(judge(["GDB-TEST: PASS"], status=1, success_status=0,
                               expect_output=["GDB-TEST: PASS"])[0])


class FailRules(unittest.TestCase):
    def test_failure_exit_status_counts(self):
        self.assertEqual(judge(["Grace: booting"], expect="fail", status=35), (True, ""))

    def test_fail_line_counts(self):
        self.assertTrue(judge(BOOT + ["End of test: FAILURE"], expect="fail")[0])

    def test_badness_counts(self):
        self.assertTrue(judge(["Kernel panic - not syncing: x"], expect="fail", status=35)[0])

    def test_clean_success_is_not_a_failure(self):
        ok, why = judge(BOOT, expect="fail")
        self.assertFalse(ok)
        self.assertIn("expected the kernel to report a failure", why)

    def test_timeout_is_still_a_failure(self):
        ok, why = judge(["TEST x: FAIL y"], expect="fail", timed_out=True)
        self.assertFalse(ok)
        self.assertIn("timeout after 60 s", why)

    def test_qemu_error_is_not_a_kernel_report(self):
        self.assertFalse(judge([], expect="fail", status=1)[0])

    def test_expected_output_still_required(self):
        ok, why = judge(["End of test: FAILURE"], expect="fail",
                        expect_output=["rcutorture: reader saw"])
        self.assertFalse(ok)
        self.assertIn("missing expected output", why)


class ScenarioFiles(unittest.TestCase):
    def parse_all(self, text):
        """Every item of a scenario file with this text."""
        with tempfile.NamedTemporaryFile("w", suffix=".scn", delete=False) as f:
            f.write(text)
        try:
            return rs.parse_scenarios(f.name)
        finally:
            os.unlink(f.name)

    def parse(self, text):
        return self.parse_all(text)[0]

    def test_full_file(self):
        it = self.parse("# A test\n# more words\nmachine: pc   # comment\nfirmware: uefi\n"
                        "smp: 2,maxcpus=8\nmemory: 64M\n"
                        'args: ktest=all autorun="echo #1; poweroff"\n'
                        "timeout: 30\nexpect: fail\nexpect_output: a#b\nexpect_output: c\n"
                        "forbid_output: d\nset: long\nrequires: kvm\n")
        self.assertIsNone(it.error)
        self.assertEqual(it.desc, "A test")
        self.assertEqual((it.machine, it.firmware, it.smp, it.memory),
                         ("pc", "uefi", "2,maxcpus=8", "64M"))
        self.assertEqual(it.args, 'ktest=all autorun="echo #1; poweroff"')
        self.assertEqual((it.timeout, it.expect, it.set), (30.0, "fail", "long"))
        self.assertEqual(it.expect_output, ["a#b", "c"])
        self.assertEqual(it.requires, ["kvm"])

    def test_errors_are_reported(self):
        self.assertIn("unknown key", self.parse("machin: q35\n").error)
        self.assertIn("machine", self.parse("machine: isapc\n").error)
        self.assertIn("timeout", self.parse("timeout: soon\n").error)
        self.assertIn("expect_output", self.parse("expect_output: (\n").error)
        self.assertIn("gdb_script", self.parse("type: gdb\n").error)

    def test_matrix_expands_in_order(self):
        items = self.parse_all(
            "# {lock} on {smp} CPUs\nname: lt-{lock}-smp{smp}{v}\n"
            "matrix: lock=tas,ticket smp=2,4 v=\n"
            'matrix: lock=q smp=4 "v=-uefi"\n'
            "smp: {smp}\nargs: locktorture.type={lock} console=serial\n"
            "expect_output: Total: \\d{2}\n"
            "expect_output[smp=2]: only at two\n")
        self.assertEqual([i.name for i in items],
                         ["lt-tas-smp2", "lt-tas-smp4", "lt-ticket-smp2", "lt-ticket-smp4",
                          "lt-q-smp4-uefi"])
        self.assertTrue(all(i.error is None for i in items), [i.error for i in items])
        tas2, tas4 = items[0], items[1]
        self.assertEqual((tas2.smp, tas2.args, tas2.desc),
                         ("2", "locktorture.type=tas console=serial", "tas on 2 CPUs"))
        # a regex quantifier is not a variable; a condition selects lines
        self.assertEqual(tas2.expect_output, ["Total: \\d{2}", "only at two"])
        self.assertEqual(tas4.expect_output, ["Total: \\d{2}"])
        self.assertEqual(items[4].matrix, {"lock": "q", "smp": "4", "v": "-uefi"})

    def test_plain_file_is_one_item_named_after_it(self):
        items = self.parse_all("smp: 2\nargs: {not} substituted\n")
        self.assertEqual(len(items), 1)
        self.assertIsNone(items[0].error)
        self.assertEqual(items[0].args, "{not} substituted")

    def test_matrix_errors(self):
        def err(text):
            return self.parse_all(text)[0].error or ""
        self.assertIn("needs a name", err("matrix: a=1,2\n"))
        self.assertIn("only for matrix", err("name: x\n"))
        self.assertIn("not a matrix variable", err("name: x{a}\nmatrix: a=1\nargs: {b}\n"))
        self.assertIn("not a matrix variable", err("name: x{a}{c}\nmatrix: a=1\n"))
        self.assertIn("earlier line binds", err("name: x{a}\nmatrix: a=1\nmatrix: b=2\n"))
        self.assertIn("same name twice", err("name: x\nmatrix: a=1,2\n"))
        self.assertIn("var=v1,v2", err("name: x{a}\nmatrix: a\n"))
        self.assertIn("not a matrix variable",
                      err("name: x{a}\nmatrix: a=1\nexpect_output[b=1]: y\n"))
        self.assertIn("not a matrix variable", err("expect_output[b=1]: y\n"))

    def test_repository_matrices_spell_the_locktorture_items(self):
        """The matrix files stand for these items, each with its own name
        (and log); TESTS='locktorture-tas-*' still selects by that name."""
        want = {
            "locktorture-qspinlock.scn": [
                "locktorture-qspinlock-ipi-smp2", "locktorture-qspinlock-ipi-smp4",
                "locktorture-qspinlock-ipi-smp8", "locktorture-qspinlock-native-smp2",
                "locktorture-qspinlock-native-smp4", "locktorture-qspinlock-native-smp8",
                "locktorture-qspinlock-ipi-smp4-uefi"],
            "locktorture-simple.scn": [   # -smp 4 first: its own matrix line (quick set)
                "locktorture-tas-smp4", "locktorture-tas-smp2", "locktorture-tas-smp8",
                "locktorture-ticket-smp4", "locktorture-ticket-smp2", "locktorture-ticket-smp8"],
            "locktorture-long.scn": [
                "locktorture-long-qspinlock-ipi-smp8", "locktorture-long-qspinlock-native-smp8",
                "locktorture-long-tas-smp8", "locktorture-long-ticket-smp8"],
        }
        for fname, names in want.items():
            items = rs.parse_scenarios(os.path.join(ROOT, "tests/scenarios", fname))
            self.assertEqual([i.name for i in items], names)
        simple = rs.parse_scenarios(os.path.join(ROOT, "tests/scenarios/locktorture-simple.scn"))
        self.assertEqual([i.set for i in simple], ["quick", "long", "long"] * 2)
        uefi = rs.parse_scenarios(os.path.join(ROOT, "tests/scenarios/locktorture-qspinlock.scn"))
        self.assertEqual([(i.firmware, len(i.expect_output)) for i in uefi],
                         [("bios", 3), ("bios", 3), ("bios", 2)] * 2 + [("uefi", 3)])

    def test_names_are_unique_across_files(self):
        with tempfile.TemporaryDirectory() as d:
            for fn, text in (("a.scn", "smp: 2\n"), ("b.scn", "name: {x}\nmatrix: x=a\n")):
                with open(os.path.join(d, fn), "w") as f:
                    f.write(text)
            items = rs.discover(d, d)
        self.assertIsNone(items[0].error)
        self.assertIn("also spelled by a.scn", items[1].error)

    def test_every_repository_scenario_parses(self):
        for it in rs.discover(os.path.join(ROOT, "tests/scenarios"), os.path.join(ROOT, "tests/unit")):
            self.assertIsNone(it.error, "%s: %s" % (it.name, it.error))


class FuzzReplayItems(unittest.TestCase):
    UNIT = os.path.join(ROOT, "tests/unit")

    def test_every_target_is_an_item(self):
        items = {i.name: i for i in rs.discover(os.path.join(ROOT, "tests/scenarios"), self.UNIT)}
        targets = [os.path.splitext(os.path.basename(p))[0]
                   for p in os.listdir(self.UNIT) if p.startswith("fuzz_") and p.endswith(".c")]
        self.assertIn("fuzz_replay", targets)
        for t in targets:
            if t == "fuzz_replay":
                self.assertNotIn("unit:fuzz_replay", items)  # the driver, not a target
                continue
            self.assertEqual(items["unit:" + t].kind, "unit-fuzz", t)
            self.assertTrue(rs.fuzz_input_dirs(self.UNIT, t[len("fuzz_"):]),
                            "%s has no committed inputs" % t)

    def test_input_dirs_order_and_crashes(self):
        dirs = [os.path.relpath(d, self.UNIT) for d in rs.fuzz_input_dirs(self.UNIT, "multiboot2")]
        self.assertEqual(dirs, ["fixtures/multiboot2", "fuzz/multiboot2/crashes"])
        self.assertEqual(rs.fuzz_input_dirs(self.UNIT, "no-such-target"), [])


class QemuCommandLine(unittest.TestCase):
    def test_commas_are_doubled(self):
        with qemu.QemuConfig(args="a=1,2 b", use_kvm=False) as q:
            argv = q.argv()
        self.assertIn("name=opt/grace/cmdline,string=a=1,,2 b", argv)

    def test_fixed_parts(self):
        with qemu.QemuConfig(machine="pc", smp="sockets=2,cores=2", use_kvm=False,
                             serial="/tmp/x.log", gdb_port=4321) as q:
            argv = q.argv()
        s = " ".join(argv)
        for part in ("-M pc", "-smp sockets=2,cores=2", "-accel tcg,thread=multi",
                     "isa-debug-exit,iobase=0xf4,iosize=0x04", "-no-reboot",
                     "-serial file:/tmp/x.log", "-display none", "-S -gdb tcp:127.0.0.1:4321"):
            self.assertIn(part, s)
        self.assertNotIn("-fw_cfg", s)
        with qemu.QemuConfig(use_kvm=True) as q:
            self.assertIn("-accel kvm -cpu host", " ".join(q.argv()))

    def test_uefi_gets_a_private_vars_copy(self):
        if not os.path.exists(qemu.OVMF_VARS):
            self.skipTest("no OVMF")
        with qemu.QemuConfig(firmware="uefi", use_kvm=False) as q, \
             qemu.QemuConfig(firmware="uefi", use_kvm=False) as r:
            a, b = q.argv(), r.argv()
            va = [x for x in a if "OVMF_VARS" in x][0].split("file=")[1]
            vb = [x for x in b if "OVMF_VARS" in x][0].split("file=")[1]
            self.assertNotEqual(va, vb)
            self.assertTrue(os.path.exists(va))
            self.assertIn("readonly=on,file=" + qemu.OVMF_CODE, " ".join(a))
        self.assertFalse(os.path.exists(va))


class HostLoadKey(unittest.TestCase):
    def test_parse(self):
        h = rs.parse_host_load("4 start=12 for=12")
        self.assertEqual((h.n, h.start_s, h.start_rx, h.for_s), (4, 12.0, None, 12.0))
        h = rs.parse_host_load("2 start=/Writes: .*Fail/")
        self.assertEqual((h.n, h.start_s, h.for_s), (2, None, None))
        self.assertTrue(h.start_rx.search("locktorture: Writes:  Total: 5  Fail: 0"))
        for bad in ("", "4", "x start=1", "0 start=1", "65 start=1", "2 start=soon", "2 start=1 for="):
            with self.assertRaises(ValueError, msg=bad):
                rs.parse_host_load(bad)

    def test_processes_start_and_end_by_pid(self):
        import tempfile
        with tempfile.NamedTemporaryFile("w", suffix=".log") as log:
            load = rs.HostLoad(rs.parse_host_load("2 start=/go/ for=30"), log.name)
            time.sleep(0.3)
            self.assertEqual(load.procs, [], "started before its console line")
            log.write("go\n")
            log.flush()
            for _ in range(50):
                if load.procs:
                    break
                time.sleep(0.1)
            procs = list(load.procs)
            self.assertEqual(len(procs), 2)
            load.stop()
            for p in procs:
                self.assertIsNotNone(p.poll(), "pid %d still running after stop()" % p.pid)
            self.assertIn("ended them", load.events[-1])


if __name__ == "__main__":
    unittest.main(verbosity=1)
