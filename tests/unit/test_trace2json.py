#!/usr/bin/env python3
"""test_trace2json.py — the trace converter (tools/trace2json.py) on a recorded dump.

The fixture is the TRACE lines of a real boot (scenario trace-hotplug: -smp 4,
CPU 2 offline and online again). The JSON must be valid Chrome trace events
as Perfetto loads them: a traceEvents list; every event with ph and pid; ts on
all but metadata; B/E balanced per track; X with a duration; each flow id
started once and finished once, the finish on the CPU the IPI was sent to;
counters with numeric args. And the content must be the boot's: CPU 2's
teardown and bring-up steps, IPIs, one track per CPU.
Run by `make unit` / `make test` as unit:test_trace2json; exit 0 = pass.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import trace2json  # noqa: E402

FIXTURE = os.path.join(ROOT, "tests/unit/fixtures/trace/hotplug-smp4.log")
# Scenario trace-rcu-offline: rcutorture at -smp 4 with CPUs going offline in
# the middle of grace periods (each lingers 20 ms in a last reader).
RCU_FIXTURE = os.path.join(ROOT, "tests/unit/fixtures/trace/rcu-offline-smp4.log")


def load():
    with open(FIXTURE) as f:
        return trace2json.parse(f.read())


class Parse(unittest.TestCase):
    def test_dump_header_and_events(self):
        d = load()
        self.assertEqual(d.cpus, 4)
        self.assertEqual(d.apic_to_cpu, {0: 0, 1: 1, 2: 2, 3: 3})
        self.assertEqual(d.states.get(max(d.states)), "online")
        self.assertGreater(len(d.events), 100)
        ts = [e[1] for e in d.events]
        self.assertEqual(ts, sorted(ts), "the dump is merged by time")

    def test_last_complete_dump_wins_and_cut_lines_are_skipped(self):
        text = ("[ 1.0 C0] TRACE-BEGIN cpus=1 events=1 lost=0 tsc_khz=1\n"
                "[ 1.0 C0] TRACE 0 5 mark 1 2 3\n[ 1.0 C0] TRACE-END\n"
                "[ 2.0 C0] TRACE-BEGIN cpus=2 events=2 lost=7 tsc_khz=1\n"
                "[ 2.0 C0] TRACE 1 9 mark 4 5 6\n[ 2.0 C0] TRACE 1 10 mar\n"
                "[ 2.0 C0] TRACE-END\n[ 3.0 C0] TRACE-BEGIN cpus=3 events=0 lost=0\n")
        d = trace2json.parse(text)
        self.assertEqual((d.cpus, d.lost, d.events), (2, 7, [(1, 9, "mark", 4, 5, 6)]))
        self.assertIsNone(trace2json.parse("no dump here\n"))


class Chrome(unittest.TestCase):
    def setUp(self):
        self.d = load()
        self.ev = trace2json.to_chrome(self.d)
        json.loads(json.dumps({"traceEvents": self.ev}))   # serialisable

    def test_every_event_is_well_formed(self):
        for e in self.ev:
            self.assertIn(e["ph"], "MBEXisfC")
            self.assertIn("pid", e)
            if e["ph"] != "M":
                self.assertIsInstance(e["ts"], float)
                self.assertIn("name", e)
            if e["ph"] == "X":
                self.assertGreater(e["dur"], 0)
            if e["ph"] == "C":
                self.assertTrue(all(isinstance(v, (int, float)) for v in e["args"].values()))

    def test_begin_end_balance_per_track(self):
        depth = {}
        for e in self.ev:
            if e["ph"] in "BE":
                depth[e["tid"]] = depth.get(e["tid"], 0) + (1 if e["ph"] == "B" else -1)
                self.assertGreaterEqual(depth[e["tid"]], 0, "E before its B on track %s" % e["tid"])
        self.assertTrue(all(v == 0 for v in depth.values()), depth)

    def test_flows_pair_up_on_the_target(self):
        starts = {e["id"]: e for e in self.ev if e["ph"] == "s"}
        ends = [e for e in self.ev if e["ph"] == "f"]
        self.assertGreater(len(ends), 0)
        for f in ends:
            self.assertIn(f["id"], starts)
            self.assertGreaterEqual(f["ts"], starts[f["id"]]["ts"])
        self.assertEqual(len({f["id"] for f in ends}), len(ends), "a flow finished twice")

    def test_the_boot_is_there(self):
        names = [e["name"] for e in self.ev if e["ph"] == "i"]
        self.assertTrue(any(n.startswith("cpuhp down") and n.endswith("cpu2") for n in names))
        self.assertTrue(any(n.startswith("cpuhp up online cpu2") for n in names))
        self.assertTrue(any(n.startswith("IPI ") for n in names))
        tracks = {e["args"]["name"] for e in self.ev if e.get("name") == "thread_name"}
        self.assertTrue({"CPU 0", "CPU 1", "CPU 2", "CPU 3"} <= tracks)


class RcuOffline(unittest.TestCase):
    """A CPU going offline ends the grace period that waited for it."""

    def setUp(self):
        with open(RCU_FIXTURE) as f:
            self.d = trace2json.parse(f.read())

    def test_offline_report_is_an_instant_on_that_cpu(self):
        ev = trace2json.to_chrome(self.d)
        gone = [e for e in ev if e.get("name", "").endswith("(reported going offline)")]
        self.assertTrue(gone, "no QS reported by a CPU going offline")
        for e in gone:
            self.assertEqual(e["tid"], e["args"]["cpu"], "reported on another CPU's track")
        gps = [e for e in ev if e.get("ph") in "BE" and e.get("name", "").startswith("GP ")]
        self.assertEqual(len([e for e in gps if e["ph"] == "B"]), len([e for e in gps if e["ph"] == "E"]))

    def test_focus_window_holds_the_gp_and_the_report(self):
        d = self.d
        win = trace2json.focus_window(d, "rcu-offline")
        self.assertIsNotNone(win)
        t0 = d.events[0][1]
        ms = lambda ts: (ts - t0) / 1e6   # noqa: E731
        x = next(e for e in d.events if e[2] == "rcu_qs" and e[5])
        gp = x[3]
        start = next(e for e in d.events if e[2] == "rcu_gp_start" and e[3] == gp)
        end = next(e for e in d.events if e[2] == "rcu_gp_end" and e[3] == gp)
        self.assertLess(win[0], ms(start[1]))
        self.assertGreater(win[1], ms(x[1]))
        # The report was the GP's last: it ended within a few ms after it.
        self.assertGreaterEqual(end[1], x[1])
        self.assertLess(ms(end[1]) - ms(x[1]), 5.0)
        self.assertIsNone(trace2json.focus_window(load(), "rcu-offline"),
                          "the hotplug trace has no RCU: no focus")

    def test_png_with_focus(self):
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            self.skipTest("no matplotlib")
        with tempfile.TemporaryDirectory() as t:
            png = os.path.join(t, "x.png")
            rc = trace2json.main([RCU_FIXTURE, "-o", os.path.join(t, "x.json"), "--png", png,
                                  "--focus", "rcu-offline"])
            self.assertEqual(rc, 0)
            self.assertGreater(os.path.getsize(png), 1000)


class CommandLine(unittest.TestCase):
    def test_writes_json_and_says_so(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "t.json")
            p = subprocess.run([sys.executable, os.path.join(ROOT, "tools/trace2json.py"),
                                FIXTURE, "-o", out], stdout=subprocess.PIPE, timeout=60)
            self.assertEqual(p.returncode, 0)
            with open(out) as f:
                self.assertIn("traceEvents", json.load(f))
            self.assertIn(b"kernel events", p.stdout)
            bad = os.path.join(d, "empty.log")
            open(bad, "w").close()
            p = subprocess.run([sys.executable, os.path.join(ROOT, "tools/trace2json.py"),
                                bad, "-o", out], stderr=subprocess.PIPE, timeout=60)
            self.assertEqual(p.returncode, 1)
            self.assertIn(b"no complete TRACE-BEGIN", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=1)
