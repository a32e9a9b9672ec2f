#!/usr/bin/env python3
"""test_accel.py — the accelerator decision (tools/accel.py) on faked outcomes.

QEMU is never started here: decide() is fed what a machine could answer —
no /dev/kvm, permission denied, QEMU aborting on every CPU model, KVM that
boots Grace slowly, fails there, or boots fast — and must choose the right
accelerator with a reason that says why. choose() is checked against a fake
`qemu` that records what it was asked and answers like the broken nested KVM
seen on CI machines, and the runner's "qemu: ..." line is checked to be the
first thing it prints about QEMU.
Run by `make unit` / `make test` as unit:test_accel; exit 0 = pass.
"""
import os
import stat
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import accel  # noqa: E402
import qemu  # noqa: E402

Boot = accel.Boot
UP = Boot(None, 1.5)                       # a start check that stayed up
MSR = Boot(-6, 0.05, "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\n"
           "qemu-system-x86_64: ../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion failed.")
TCG_OK = Boot(33, 1.2)


class Decide(unittest.TestCase):
    def test_acceL_tcg_never_probes(self):
        c = accel.decide("tcg", None, [])
        self.assertEqual((c.accel, c.reason), ("tcg", "ACCEL=tcg"))

    def test_no_dev_kvm(self):
        c = accel.decide("auto", "no /dev/kvm", [])
        self.assertEqual(c.accel, "tcg")
        self.assertEqual(c.line(), "qemu: TCG (no /dev/kvm)")

    def test_permission_denied(self):
        c = accel.decide("auto", "/dev/kvm: Permission denied", [])
        self.assertEqual(c.accel, "tcg")
        self.assertIn("Permission denied", c.line())
        k = accel.decide("kvm", "/dev/kvm: Permission denied", [])
        self.assertEqual(k.accel, "fail")
        self.assertIn("ACCEL=kvm", k.reason)

    def test_every_model_aborts(self):
        c = accel.decide("auto", None, [("host", MSR), ("host,-arch-capabilities", MSR)])
        self.assertEqual(c.accel, "tcg")
        self.assertIsNone(c.kvm_cpu)
        self.assertIn("failed to set MSR 0x10a", c.reason)
        self.assertIn("-cpu host,-arch-capabilities", c.reason)
        k = accel.decide("kvm", None, [("host", MSR)])
        self.assertEqual(k.accel, "fail")
        self.assertIn("failed to set MSR 0x10a", k.reason)   # QEMU's own message

    def test_second_model_starts_but_boots_slowly(self):
        starts = [("host", MSR), ("host,-arch-capabilities", UP)]
        c = accel.decide("auto", None, starts, TCG_OK, Boot(33, 96.0), 200)
        self.assertEqual((c.accel, c.kvm_cpu), ("tcg", "host,-arch-capabilities"))
        self.assertEqual(c.line(), "qemu: TCG (KVM boots but is 80x slower than TCG here "
                                   "(96.0 s against 1.2 s))")
        self.assertTrue(c.kvm_works)
        self.assertAlmostEqual(c.kvm_factor, 80.0)

    def test_kvm_killed_at_the_limit(self):
        c = accel.decide("auto", None, [("host", UP)], TCG_OK, Boot(None, 10.0), 10.0)
        self.assertEqual(c.accel, "tcg")
        self.assertIsNone(c.kvm_works)            # unknown: measure_kvm() finds out
        self.assertIn("at least 8x slower", c.reason)

    def test_kvm_boots_fast(self):
        c = accel.decide("auto", None, [("host", UP)], TCG_OK, Boot(33, 0.4), 10)
        self.assertEqual((c.accel, c.kvm_cpu), ("kvm", "host"))
        self.assertTrue(c.use_kvm)
        self.assertIn("boots in 0.4 s, TCG in 1.2 s", c.line())

    def test_kvm_boots_but_grace_fails(self):
        c = accel.decide("auto", None, [("host", UP)], TCG_OK, Boot(35, 0.5), 10)
        self.assertEqual(c.accel, "tcg")
        self.assertFalse(c.kvm_works)

    def test_equal_speed_is_not_slower(self):
        c = accel.decide("auto", None, [("host", UP)], TCG_OK, Boot(33, 1.2), 10)
        self.assertEqual(c.accel, "kvm")

    def test_tcg_boot_fails(self):
        c = accel.decide("auto", None, [("host", UP)], Boot(35, 1.0), None)
        self.assertEqual(c.accel, "tcg")
        self.assertIn("TCG boot did not succeed", c.reason)

    def test_acceL_kvm_skips_the_speed_test(self):
        c = accel.decide("kvm", None, [("host", MSR), ("host,-arch-capabilities", UP)])
        self.assertEqual((c.accel, c.kvm_cpu), ("kvm", "host,-arch-capabilities"))

    def test_full_boot_completes_the_books(self):
        c = accel.decide("auto", None, [("host", UP)], TCG_OK, Boot(None, 10.0), 10.0)
        d = accel.with_full_kvm_boot(c, Boot(33, 60.0))
        self.assertEqual(d.accel, "tcg")
        self.assertTrue(d.kvm_works)
        self.assertIn("50x slower", d.reason)
        self.assertEqual(accel.Choice.from_json(d.to_json()).to_json(), d.to_json())


FAKE_QEMU = r'''#!/bin/sh
# A fake QEMU (plain sh, so it starts at once even on a loaded host): the
# broken nested KVM. -cpu host aborts, other KVM models boot far slower than
# TCG; each call is logged.
echo "$*" >> "$FAKE_QEMU_LOG"
accel=; cpu=; paused=
while [ $# -gt 0 ]; do
	case "$1" in
	--version) echo "QEMU emulator version 7.2.0 (fake)"; exit 0 ;;
	-accel) accel=$2; shift ;;
	-cpu) cpu=$2; shift ;;
	-S) paused=1 ;;
	esac
	shift
done
case "$accel" in kvm*) kvm=1 ;; *) kvm= ;; esac
if [ -n "$kvm" ] && [ "$cpu" = host ]; then
	echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" >&2
	kill -ABRT $$
fi
[ -n "$paused" ] && exec sleep 30
if [ -n "$kvm" ]; then sleep 8; else sleep 0.05; fi
exit 33
'''


class Choose(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="test-accel-")
        self.qemu = os.path.join(self.dir, "qemu")
        with open(self.qemu, "w") as f:
            f.write(FAKE_QEMU)
        os.chmod(self.qemu, stat.S_IRWXU)
        self.iso = os.path.join(self.dir, "grace.iso")
        open(self.iso, "w").close()
        self.cache = os.path.join(self.dir, "accel.json")
        os.environ["FAKE_QEMU_LOG"] = os.path.join(self.dir, "calls")
        self.saved = (accel.device_error, accel.START_CHECK_S, accel.KVM_LIMIT_MIN_S,
                      accel.KVM_FULL_LIMIT_S)
        accel.device_error = lambda path="/dev/kvm": None      # a read-write /dev/kvm
        accel.START_CHECK_S, accel.KVM_LIMIT_MIN_S, accel.KVM_FULL_LIMIT_S = 2.0, 1.0, 20.0

    def tearDown(self):
        (accel.device_error, accel.START_CHECK_S, accel.KVM_LIMIT_MIN_S,
         accel.KVM_FULL_LIMIT_S) = self.saved
        subprocess.run(["rm", "-rf", self.dir])

    def calls(self):
        with open(os.environ["FAKE_QEMU_LOG"]) as f:
            return f.read().splitlines()

    def test_probe_caches_and_measure_completes(self):
        c = accel.choose(self.iso, self.cache, qemu=self.qemu, mode="auto")
        self.assertEqual((c.accel, c.kvm_cpu), ("tcg", "host,-arch-capabilities"))
        self.assertIn("did not power off", c.reason)
        n = len(self.calls())
        again = accel.choose(self.iso, self.cache, qemu=self.qemu, mode="auto")
        self.assertEqual(again.to_json(), c.to_json())
        self.assertEqual(len(self.calls()), n + 1)       # only --version, for the cache key
        full = accel.measure_kvm(again, self.iso, self.cache, qemu=self.qemu)
        self.assertTrue(full.kvm_works)
        self.assertGreater(full.kvm_factor, 1)
        self.assertIn("slower than TCG", full.line())
        self.assertTrue(accel.choose(self.iso, self.cache, qemu=self.qemu, mode="auto").kvm_works)

    def test_acceL_kvm_uses_the_model_that_starts(self):
        c = accel.choose(self.iso, self.cache, qemu=self.qemu, mode="kvm")
        self.assertEqual((c.accel, c.kvm_cpu), ("kvm", "host,-arch-capabilities"))
        with qemu.QemuConfig(accel_choice=c, cpu="host,+kvm-pv-unhalt") as q:
            s = " ".join(q.argv())
        self.assertIn("-accel kvm -cpu host,-arch-capabilities,+kvm-pv-unhalt", s)

    def test_bad_mode(self):
        with self.assertRaises(ValueError):
            accel.choose(self.iso, self.cache, qemu=self.qemu, mode="hvf")


class ChosenLine(unittest.TestCase):
    def test_qemu_py_prints_the_choice_first(self):
        # tools/qemu.py as `make run` calls it, with a fake QEMU on PATH that
        # powers off at once: its first line about QEMU names the accelerator
        # and why.
        d = tempfile.mkdtemp(prefix="test-accel-line-")
        try:
            fake = os.path.join(d, "qemu-system-x86_64")
            with open(fake, "w") as f:
                f.write("#!/bin/sh\nexit 33\n")
            os.chmod(fake, stat.S_IRWXU)
            iso = os.path.join(d, "grace.iso")
            open(iso, "w").close()
            env = dict(os.environ, PATH=d + os.pathsep + os.environ["PATH"], ACCEL="tcg")
            p = subprocess.run([sys.executable, os.path.join(ROOT, "tools/qemu.py"), "--iso", iso,
                                "--serial", "none"], env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
            err = p.stderr.decode().splitlines()
            self.assertEqual(p.returncode, 0, err)
            self.assertEqual(err[0], "qemu: TCG (ACCEL=tcg)")
        finally:
            subprocess.run(["rm", "-rf", d])


if __name__ == "__main__":
    unittest.main(verbosity=1)
