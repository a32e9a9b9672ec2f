#!/usr/bin/env python3
"""trace2json.py — turn Grace's event-trace dump into pictures.

    tools/trace2json.py build/test-logs/NAME.log -o build/trace/NAME.json [--png build/trace/NAME.png]

Input: a serial log holding a dump (`trace dump`, or trace.dump=1 at
power-off; kernel/trace/trace.c), lines like

    [    1.234567 C0] TRACE-BEGIN cpus=4 events=1234 lost=0 tsc_khz=2596312
    [    1.234600 C0] TRACE-CPU 1 apic=1
    [    1.234700 C0] TRACE-HPSTATE 39 online
    [    1.234800 C0] TRACE 1 812345678 ipi_send 0 251 0
    [    1.234900 C0] TRACE-END

(`TRACE cpu ts_ns event a b c`). The last complete dump in the log is used.

Output 1, a Chrome trace-event JSON that https://ui.perfetto.dev (or
chrome://tracing) opens: one track per CPU; "lock wait" slices from a slow
path's entry to the acquisition; "pv halt" slices; instants for hotplug steps
and IPIs; flows (arrows) from each IPI send to its receipt on the target CPU,
from each PV kick to the end of the target's halt, and from each MCS hand-over
to the new head's acquisition; a counter track per CPU with its hotplug state;
grace periods as slices on an "RCU" track when the kernel traces them.

Output 2 (--png, needs matplotlib): a timeline of each CPU's hotplug state
over time, with lock waits and PV halts as bars and grace periods shaded.

Pure standard library except the PNG. Tested by tests/unit/test_trace2json.py.
"""

import argparse
import json
import re
import sys

LINE = re.compile(r"^(?:\[[^\]]*\]\s*)?(TRACE(?:-BEGIN|-CPU|-HPSTATE|-END)?)\b\s*(.*)$")


class Dump:
    def __init__(self):
        self.cpus = 0
        self.lost = 0
        self.apic_to_cpu = {}
        self.states = {}
        self.events = []   # (cpu, ts_ns, name, a, b, c)


def parse(text):
    """The last complete dump in `text` (a Dump), or None."""
    cur, last = None, None
    for raw in text.splitlines():
        m = LINE.match(raw.strip().replace("\r", ""))
        if not m:
            continue
        kind, rest = m.group(1), m.group(2)
        if kind == "TRACE-BEGIN":
            cur = Dump()
            kv = dict(x.split("=", 1) for x in rest.split() if "=" in x)
            cur.cpus = int(kv.get("cpus", 0))
            cur.lost = int(kv.get("lost", 0))
        elif cur is None:
            continue
        elif kind == "TRACE-CPU":
            f = rest.split()
            cur.apic_to_cpu[int(f[1].split("=")[1])] = int(f[0])
        elif kind == "TRACE-HPSTATE":
            n, _, name = rest.partition(" ")
            cur.states[int(n)] = name.strip()
        elif kind == "TRACE":
            f = rest.split()
            if len(f) != 6:
                continue   # a line cut by the console: skip it
            try:
                cur.events.append((int(f[0]), int(f[1]), f[2], int(f[3]), int(f[4]), int(f[5])))
            except ValueError:
                continue
        elif kind == "TRACE-END":
            last, cur = cur, None
    return last


def us(ns):
    return ns / 1000.0


def to_chrome(d):
    """A list of Chrome trace events (dicts) from a Dump."""
    out = [{"ph": "M", "pid": 0, "name": "process_name", "args": {"name": "Grace"}}]
    for cpu in range(d.cpus):
        out.append({"ph": "M", "pid": 0, "tid": cpu, "name": "thread_name",
                    "args": {"name": "CPU %d" % cpu}})
        out.append({"ph": "M", "pid": 0, "tid": cpu, "name": "thread_sort_index",
                    "args": {"sort_index": cpu}})
    rcu_tid = d.cpus + 1
    out.append({"ph": "M", "pid": 0, "tid": rcu_tid, "name": "thread_name",
                "args": {"name": "RCU grace periods"}})
    flow = [0]

    def new_flow():
        flow[0] += 1
        return flow[0]

    pending_ipi = {}       # (target cpu, vector) -> [flow ids]
    pending_kick = {}      # target cpu -> [flow ids]
    pending_handover = {}  # new head cpu -> [flow ids]
    open_waits = {}        # cpu -> depth of lock waits open
    gp_open = {}
    for cpu, ts, name, a, b, c in d.events:
        t = us(ts)
        base = {"pid": 0, "tid": cpu, "ts": t}
        if name == "cpuhp_step":
            state = d.states.get(b, str(b))
            out.append(dict(base, ph="i", s="t", name="cpuhp %s %s cpu%d" % (
                "up" if c & 1 else "down", state, a), args={"cpu": a, "state": b}))
            out.append({"pid": 0, "ph": "C", "ts": t, "name": "hotplug state cpu%d" % a,
                        "args": {"state": b if c & 1 else b - 1}})
        elif name == "ipi_send":
            target = d.apic_to_cpu.get(a, a)
            fid = new_flow()
            pending_ipi.setdefault((target, b), []).append(fid)
            out.append(dict(base, ph="i", s="t", name="IPI %#x -> cpu%d" % (b, target)))
            out.append(dict(base, ph="s", id=fid, cat="ipi", name="ipi"))
        elif name == "ipi_recv":
            out.append(dict(base, ph="i", s="t", name="irq %#x" % b))
            q = pending_ipi.get((cpu, b))
            if q:
                out.append(dict(base, ph="f", bp="e", id=q.pop(0), cat="ipi", name="ipi"))
        elif name == "lock_slowpath":
            open_waits[cpu] = open_waits.get(cpu, 0) + 1
            out.append(dict(base, ph="B", name="lock wait", args={"lock": "%#x" % a, "node": b}))
        elif name == "lock_acquired":
            if open_waits.get(cpu):
                open_waits[cpu] -= 1
                out.append(dict(base, ph="E", name="lock wait"))
            q = pending_handover.get(cpu)
            if q:
                out.append(dict(base, ph="f", bp="e", id=q.pop(0), cat="handover",
                                name="handover"))
        elif name == "lock_handover":
            fid = new_flow()
            pending_handover.setdefault(b, []).append(fid)
            out.append(dict(base, ph="i", s="t", name="MCS hand-over -> cpu%d" % b))
            out.append(dict(base, ph="s", id=fid, cat="handover", name="handover"))
        elif name == "pv_kick":
            fid = new_flow()
            pending_kick.setdefault(a, []).append(fid)
            out.append(dict(base, ph="i", s="t", name="PV kick -> cpu%d" % a))
            out.append(dict(base, ph="s", id=fid, cat="kick", name="kick"))
        elif name == "pv_wait":
            start = us(c) if c and c <= ts else t
            out.append({"pid": 0, "tid": cpu, "ph": "X", "ts": start, "dur": max(t - start, 0.001),
                        "name": "pv halt"})
            q = pending_kick.get(cpu)
            if q:
                out.append(dict(base, ph="f", bp="e", id=q.pop(0), cat="kick", name="kick"))
        elif name == "rcu_gp_start":
            gp_open[a] = t
            out.append({"pid": 0, "tid": rcu_tid, "ph": "B", "ts": t, "name": "GP %d" % a})
        elif name == "rcu_gp_end":
            if gp_open.pop(a, None) is not None:
                out.append({"pid": 0, "tid": rcu_tid, "ph": "E", "ts": t, "name": "GP %d" % a})
        elif name == "rcu_qs":
            out.append(dict(base, ph="i", s="t", name="QS for GP %d%s" % (
                a, " (reported going offline)" if c else ""), args={"gp": a, "cpu": b}))
        else:
            out.append(dict(base, ph="i", s="t", name=name, args={"a": a, "b": b, "c": c}))
    # Close what the dump cut off, so every B has its E.
    end = us(d.events[-1][1]) if d.events else 0.0
    for cpu, n in open_waits.items():
        for _ in range(n):
            out.append({"pid": 0, "tid": cpu, "ph": "E", "ts": end, "name": "lock wait"})
    for gp, t in gp_open.items():
        out.append({"pid": 0, "tid": rcu_tid, "ph": "E", "ts": end, "name": "GP %d" % gp})
    return out


def focus_window(d, what):
    """(from_ms, to_ms) of the moment `what` names, or None if the trace has none.

    rcu-offline: a CPU going offline reports its own quiescent state (rcu_qs
    with c = 1) while a grace period waits for it; the window opens 5 ms
    before that grace period began (or the CPU began its way down, if
    earlier) and closes 15 ms after the report.
    """
    if what != "rcu-offline" or not d.events:
        return None
    t0 = d.events[0][1]
    gp_start, walk_start, prev_up = {}, {}, {}
    for cpu, ts, name, a, b, c in d.events:
        if name == "rcu_gp_start":
            gp_start[a] = ts
        elif name == "cpuhp_step":
            up = bool(c & 1)
            if not up and prev_up.get(a, True):
                walk_start[a] = ts      # this CPU starts walking down
            prev_up[a] = up
        elif name == "rcu_qs" and c and a in gp_start:
            begin = min(gp_start[a], walk_start.get(b, gp_start[a]))
            return ((begin - t0) / 1e6 - 5.0, (ts - t0) / 1e6 + 15.0)
    return None


def write_png(d, path, title="", last_ms=None, window=None):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not d.events:
        raise ValueError("no events to plot")
    t0 = d.events[0][1]
    ms = lambda ns: (ns - t0) / 1e6   # noqa: E731
    tend = ms(d.events[-1][1])
    fig, ax = plt.subplots(figsize=(14, 1.2 + 0.9 * max(d.cpus, 1)))
    top = max(d.states) if d.states else 40
    online = next((n for n, s in d.states.items() if s == "online"), top)
    # Hotplug state per CPU: a step line in that CPU's band (0 = offline,
    # band top = online), from the steps the trace saw.
    for cpu in range(d.cpus):
        steps = [(ts, b, cc & 1) for c, ts, name, a, b, cc in d.events
                 if name == "cpuhp_step" and a == cpu]
        # Before its first step the CPU sat below a state it enters, or in a
        # state it leaves; with no step at all, online.
        last = (steps[0][1] - 1 if steps[0][2] else steps[0][1]) if steps else online
        xs, ys = [0.0], [last]
        for ts, b, up in steps:
            last = b if up else b - 1
            xs.append(ms(ts))
            ys.append(last)
        xs.append(tend)
        ys.append(last)
        ax.step(xs, [cpu + 0.8 * y / max(online, 1) for y in ys], where="post",
                color="tab:blue", linewidth=1.5, label="hotplug state" if cpu == 0 else None)
        ax.axhline(cpu, color="0.85", linewidth=0.5)
    waits = {}
    for cpu, ts, name, a, b, c in d.events:
        if name == "lock_slowpath":
            waits.setdefault(cpu, []).append(ts)
        elif name == "lock_acquired" and waits.get(cpu):
            s = waits[cpu].pop()
            ax.broken_barh([(ms(s), max(ms(ts) - ms(s), 0.002))], (cpu + 0.05, 0.12),
                           color="tab:orange")
        elif name == "pv_wait" and c:
            ax.broken_barh([(ms(c), max(ms(ts) - ms(c), 0.002))], (cpu + 0.2, 0.12),
                           color="tab:red")
    # MCS hand-overs: an arrow from the CPU passing the queue head on to the
    # new head's acquisition of the lock.
    # With lost events the rings wrapped at different times: before the
    # newest of the CPUs' oldest events some CPU's history is missing, so
    # the picture starts there.
    complete = 0.0
    if d.lost:
        firsts = {}
        for cpu, ts, *_ in d.events:
            firsts.setdefault(cpu, ts)
        complete = ms(max(firsts.values()))
    heads, start = {}, max(complete, tend - last_ms if last_ms else 0.0)
    stop = tend
    if window:
        start, stop = max(start, window[0]), min(tend, window[1])
    for cpu, ts, name, a, b, c in d.events:
        if name == "lock_handover":
            heads.setdefault(b, []).append((cpu, ts))
        elif name == "lock_acquired" and heads.get(cpu):
            src, t_from = heads[cpu].pop(0)
            if ms(t_from) < start:
                continue   # starts left of the window: an arrow from nowhere
            ax.annotate("", xy=(ms(ts), cpu + 0.11), xytext=(ms(t_from), src + 0.11),
                        arrowprops=dict(arrowstyle="->", color="0.2", linewidth=0.6))
    gp = {}
    for cpu, ts, name, a, b, c in d.events:
        if name == "rcu_gp_start":
            gp[a] = ts
        elif name == "rcu_gp_end" and a in gp:
            g0 = ms(gp.pop(a))
            # Back-to-back GPs: alternate the shade and label each one.
            ax.axvspan(g0, ms(ts), color="tab:green", alpha=0.10 if a % 2 else 0.22, linewidth=0)
            if start <= g0 <= stop:
                ax.text(g0, d.cpus - 0.02, " GP %d" % a, fontsize=7, va="top", color="darkgreen")
    # Quiescent-state reports: a tick on the reporting CPU's band; a cross
    # where a CPU going offline reported for itself on its way out.
    qs = [(ms(ts), cpu + 0.5) for cpu, ts, name, a, b, c in d.events if name == "rcu_qs" and not c]
    gone = [(ms(ts), cpu + 0.5) for cpu, ts, name, a, b, c in d.events if name == "rcu_qs" and c]
    if qs:
        ax.plot([x for x, _ in qs], [y for _, y in qs], linestyle="none", marker="|", markersize=9,
                color="tab:green")
    if gone:
        ax.plot([x for x, _ in gone], [y for _, y in gone], linestyle="none", marker="X",
                markersize=9, color="black")
    ax.set_yticks([c + 0.4 for c in range(d.cpus)])
    ax.set_yticklabels(["CPU %d" % c for c in range(d.cpus)])
    ax.set_xlabel("ms since the first traced event")
    ax.set_xlim(start, max(stop, start + 0.001))
    ax.set_ylim(-0.1, d.cpus)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    ax.legend(handles=[Patch(color="tab:blue", label="hotplug state (band top: online)"),
                       Patch(color="tab:orange", label="lock wait"),
                       Patch(color="tab:red", label="PV halt"),
                       Patch(color="tab:green", alpha=0.3, label="RCU grace period"),
                       Line2D([], [], color="tab:green", marker="|", linestyle="none",
                              label="quiescent state reported"),
                       Line2D([], [], color="black", marker="X", linestyle="none",
                              label="QS reported by a CPU going offline"),
                       Patch(color="0.2", label="arrow: MCS hand-over, to the new head's acquisition")],
              loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=8)
    ax.set_title(title or "Grace trace")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("log", help="serial log holding a TRACE dump")
    p.add_argument("-o", "--output", required=True, help="Chrome trace JSON to write")
    p.add_argument("--png", help="PNG timeline to write (needs matplotlib)")
    p.add_argument("--title", default="")
    p.add_argument("--last-ms", type=float, help="PNG: show only the last N ms of the trace")
    p.add_argument("--from-ms", type=float, help="PNG: start at this many ms after the first event")
    p.add_argument("--to-ms", type=float, help="PNG: end at this many ms after the first event")
    p.add_argument("--focus", choices=["rcu-offline"],
                   help="PNG: rcu-offline = the first grace period that a CPU going offline "
                        "ended by its own report, from shortly before it began")
    ns = p.parse_args(argv)
    with open(ns.log, encoding="utf-8", errors="replace") as f:
        d = parse(f.read())
    if d is None:
        print("trace2json: no complete TRACE-BEGIN..TRACE-END dump in %s "
              "(boot with trace=1 trace.dump=1, or run `trace dump`)" % ns.log, file=sys.stderr)
        return 1
    events = to_chrome(d)
    with open(ns.output, "w") as f:
        json.dump({"traceEvents": events, "displayTimeUnit": "ms"}, f)
    print("trace2json: %d kernel events (%d lost) -> %d trace events in %s" % (
        len(d.events), d.lost, len(events), ns.output))
    if ns.png:
        try:
            window = focus_window(d, ns.focus) if ns.focus else None
            if ns.focus and window is None:
                print("trace2json: --focus %s: no such moment in this trace" % ns.focus,
                      file=sys.stderr)
                return 2
            if ns.from_ms is not None or ns.to_ms is not None:
                window = (ns.from_ms or 0.0, ns.to_ms if ns.to_ms is not None else float("inf"))
                if window[1] <= window[0]:
                    print("trace2json: --to-ms must be after --from-ms", file=sys.stderr)
                    return 2
            write_png(d, ns.png, ns.title, ns.last_ms, window)
            print("trace2json: timeline in %s" % ns.png)
        except ImportError:
            print("trace2json: matplotlib is not installed (python3-matplotlib): no PNG",
                  file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
