"""grace.py — GDB commands that show Grace's concurrency state.

Loaded by `make gdb` (build/gdbinit: `source tools/gdb/grace.py`), or by hand:
`(gdb) source tools/gdb/grace.py`. Every command reads the stopped kernel's
memory through its DWARF types, so it works on a hung kernel too, and needs
nothing from the kernel's own code (no function is called in the target).

  grace-cpus           each possible CPU: hotplug state and target, online /
                       active, current task, idle or not, preempt count,
                       interrupt and NMI depth, MCS nodes in use
  grace-hotplug        the hotplug state table with its callbacks, and where
                       each CPU stands in it (and where it is going)
  grace-lock EXPR      decode a qspinlock (tail CPU/node, pending, locked, the
                       paravirt "slow" value), walk its MCS queue to the CPUs
                       waiting, show each waiter's PV state and the lock's PV
                       hash entry. EXPR is a spinlock_t, a struct qspinlock, or
                       a pointer to either
  grace-rcu            the tree RCU: the grace period and its state, each rcu_node
                       (breadth first) with its CPU range, qsmask / qsmaskinit /
                       qsmaskinitnext and gp_seq, and each CPU's rcu_data: the GP
                       it noticed, whether it owes a quiescent state, its
                       dynticks counter and its callback segments
  grace-patch-sites [KIND]  every patch site (static branch, static call,
                       lock op): address and function, owner, its current five
                       bytes decoded (nop5 / jmp / call / ret / store) with the
                       target, and, while a text_poke_bp batch is in flight,
                       the site's old and new bytes. KIND: jump, call or lockop
  grace-tasks          every task: tid, name, state, CPU, on_cpu, switches
  grace-dmesg [N]      the kernel log ring from memory (the last N lines)
  $grace_cpu_state(N)  convenience function: CPU N's hotplug state number
  $grace_per_cpu("var", N)  CPU N's copy of a per-CPU variable

Per-CPU variables: the linked copy is the boot CPU's; CPU n's is at
&var + __per_cpu_offset[n] (include/grace/percpu.h).
Tested by tests/gdb/helpers.gdb (scenario gdb-helpers).
"""

import gdb

TASK_STATES = {0: "R", 1: "S", 2: "D", 0x40: "parked", 0x80: "dead"}   # sched.h TASK_*
PV_NODE_STATES = {0: "running", 1: "halted"}

Q_LOCKED_MASK = 0xff
Q_PENDING_MASK = 0x100
Q_TAIL_IDX_OFFSET = 16
Q_TAIL_IDX_MASK = 0x3 << 16
Q_TAIL_CPU_OFFSET = 18
Q_SLOW_VAL = 3


# ---- reading the kernel ---------------------------------------------------

def sym(name):
    """The value of a global (or file-static) variable, or None."""
    try:
        return gdb.parse_and_eval(name)
    except gdb.error:
        return None


def per_cpu(name, cpu):
    """CPU `cpu`'s copy of per-CPU variable `name` (a gdb.Value)."""
    var = sym(name)
    if var is None:
        raise gdb.GdbError("no per-CPU variable %s" % name)
    off = int(gdb.parse_and_eval("__per_cpu_offset[%d]" % cpu))
    ptr = var.address.cast(gdb.lookup_type("char").pointer()) + off
    return ptr.cast(var.type.pointer()).dereference()


def mask_cpus(name):
    m = sym(name)
    if m is None:
        return []
    bits = m["bits"]
    lo, hi = bits.type.range()
    cpus = []
    for w in range(lo, hi + 1):
        word = int(bits[w])
        for b in range(64):
            if word >> b & 1:
                cpus.append(w * 64 + b)
    return cpus


def cstr(v):
    try:
        return v.string()
    except (gdb.error, gdb.MemoryError, UnicodeDecodeError):
        return "?"


def enum_name(v):
    s = str(v)
    return s[len("CPUHP_"):].lower() if s.startswith("CPUHP_") else s


def func_name(ptr):
    addr = int(ptr)
    if addr == 0:
        return "-"
    block = gdb.block_for_pc(addr)
    while block is not None and block.function is None:
        block = block.superblock
    return block.function.name if block is not None else "%#x" % addr


def hotplug_table():
    """(array, count) of the hotplug state table, whichever name it has."""
    for name in ("cpuhp_hp_states", "cpuhp_steps"):
        t = sym(name)
        if t is not None:
            lo, hi = t.type.range()
            return t, hi - lo + 1
    raise gdb.GdbError("no hotplug state table (cpuhp_hp_states) in this kernel")


def state_names():
    t, n = hotplug_table()
    return [cstr(t[i]["name"]) if int(t[i]["name"]) else "(unused %d)" % i for i in range(n)]


def task_line(t):
    if int(t) == 0:
        return "-"
    return "%d:%s" % (int(t["tid"]), cstr(t["comm"]))


# ---- commands ---------------------------------------------------------------

class GraceCpus(gdb.Command):
    """Per-CPU state: hotplug state/target, online, active, current task, idle, preempt, irq/nmi depth, MCS nodes."""

    def __init__(self):
        super().__init__("grace-cpus", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        names = state_names()
        online, active = set(mask_cpus("cpu_online_mask")), set(mask_cpus("cpu_active_mask"))
        print("%-4s %-20s %-20s %-6s %-6s %-22s %-4s %7s %4s %4s %5s" % (
            "cpu", "state", "target", "online", "active", "current", "idle", "preempt",
            "irq", "nmi", "nodes"))
        for cpu in mask_cpus("cpu_possible_mask"):
            st = per_cpu("cpuhp_state", cpu)
            s, tgt = int(st["state"]), int(st["target"])
            cur = per_cpu("current_task", cpu)
            rq = per_cpu("runqueues", cpu)
            idle = int(cur) != 0 and int(cur) == int(rq["idle"])
            loc = per_cpu("cpu_local", cpu)
            nodes = sym("qnodes")
            nest = int(nodes[cpu]["nesting"]) if nodes is not None else 0
            print("%-4d %-20s %-20s %-6s %-6s %-22s %-4s %7d %4d %4d %5d" % (
                cpu, names[s] if s < len(names) else s, names[tgt] if tgt < len(names) else tgt,
                "yes" if cpu in online else "no", "yes" if cpu in active else "no",
                task_line(cur), "yes" if idle else "no", int(loc["preempt_count"]),
                int(loc["irq_depth"]), int(loc["nmi_depth"]), nest))
            if int(loc["cpu"]) != cpu:   # the per-CPU area must know whose it is
                print("     !! CPU %d's per-CPU area says it belongs to CPU %d" % (cpu, int(loc["cpu"])))


class GraceHotplug(gdb.Command):
    """The hotplug state table (state, name, startup, teardown) and where each CPU stands."""

    def __init__(self):
        super().__init__("grace-hotplug", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        t, n = hotplug_table()
        at = {}
        for cpu in mask_cpus("cpu_possible_mask"):
            st = per_cpu("cpuhp_state", cpu)
            at.setdefault(int(st["state"]), []).append("cpu%d" % cpu)
            if int(st["target"]) != int(st["state"]):
                at.setdefault(int(st["target"]), []).append("cpu%d's target" % cpu)
        print("%3s  %-22s %-28s %-28s %s" % ("#", "state", "startup", "teardown", "CPUs here"))
        for i in range(n):
            e = t[i]
            if int(e["name"]) == 0:
                continue
            print("%3d  %-22s %-28s %-28s %s" % (i, cstr(e["name"]), func_name(e["startup"]),
                                                 func_name(e["teardown"]),
                                                 ", ".join(at.get(i, []))))


def lock_word(v):
    """A gdb.Value naming a lock -> (address, 32-bit word)."""
    t = v.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_PTR:
        v = v.dereference()
        t = v.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_INT:
        raise gdb.GdbError("give a lock, not a number (grace-lock &my_lock)")
    for path in ((), ("q",)):        # struct qspinlock, or spinlock_t { q; ... }
        w = v
        try:
            for f in path:
                w = w[f]
            word = int(w["val"])
        except gdb.error:
            continue
        return int(w.address), word & 0xffffffff
    raise gdb.GdbError("%s is not a qspinlock or spinlock_t" % t)


def node_addr(cpu, idx):
    return int(sym("qnodes")[cpu]["node"][idx].address)


class GraceLock(gdb.Command):
    """grace-lock EXPR: decode a qspinlock and walk its MCS queue."""

    def __init__(self):
        super().__init__("grace-lock", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        if not arg.strip():
            raise gdb.GdbError("usage: grace-lock EXPR (a spinlock_t, struct qspinlock or pointer)")
        addr, val = lock_word(gdb.parse_and_eval(arg))
        locked, pending = val & Q_LOCKED_MASK, (val & Q_PENDING_MASK) != 0
        tail_cpu = (val >> Q_TAIL_CPU_OFFSET) - 1
        tail_idx = (val & Q_TAIL_IDX_MASK) >> Q_TAIL_IDX_OFFSET
        what = {0: "free", 1: "locked", Q_SLOW_VAL: "locked, head asleep (PV slow)"}.get(
            locked, "locked byte %#x?" % locked)
        print("lock %#x: val %#010x  locked=%d (%s)  pending=%d  tail=%s" % (
            addr, val, locked, what, pending,
            "none" if tail_cpu < 0 else "cpu %d node %d" % (tail_cpu, tail_idx)))
        if pending:
            print("  a pending waiter spins on the locked byte (no node)")
        if tail_cpu < 0:
            return
        # The queue runs head -> next -> ... -> tail; the word names only the
        # tail. Every node in use is (cpu, idx < nesting); the head is the one
        # no other node points to whose chain reaches the tail.
        nodes = sym("qnodes")
        users, pointed = {}, set()
        for cpu in mask_cpus("cpu_possible_mask"):
            for idx in range(min(int(nodes[cpu]["nesting"]), 4)):
                n = nodes[cpu]["node"][idx]
                users[int(n.address)] = (cpu, idx, n)
                if int(n["next"]):
                    pointed.add(int(n["next"]))
        tail = node_addr(tail_cpu, tail_idx)
        chain = None
        for a in users:
            if a in pointed:
                continue
            seq, cur, seen = [], a, set()
            while cur in users and cur not in seen:
                seen.add(cur)
                seq.append(cur)
                if cur == tail:
                    break
                cur = int(users[cur][2]["next"])
            if seq and seq[-1] == tail:
                chain = seq
                break
        if chain is None:
            chain = [tail] if tail in users else []
            print("  (queue not walkable from a head: the tail's node is %s)" %
                  ("in use" if tail in users else "not in use"))
        for pos, a in enumerate(chain):
            cpu, idx, n = users[a]
            cur = per_cpu("current_task", cpu)
            print("  %s cpu %d node %d  locked=%d  pv=%s  task %s" % (
                "head" if pos == 0 else "%4d" % pos, cpu, idx, int(n["locked"]),
                PV_NODE_STATES.get(int(n["state"]), int(n["state"])), task_line(cur)))
        table = sym("pv_hash_table")
        if table is not None:
            lo, hi = table.type.range()
            for i in range(lo, hi + 1):
                if int(table[i]["lock"]) == addr:
                    na = int(table[i]["node"])
                    who = users.get(na)
                    print("  PV hash[%d]: lock -> node %#x%s" % (
                        i, na, " (cpu %d node %d)" % who[:2] if who else ""))


GP_STATES = ["idle", "init", "wait-fqs", "fqs", "cleanup"]
SEGS = ["DONE", "WAIT", "NEXT_READY", "NEXT"]


def gp_str(seq):
    """gp_seq: the counter in the high bits, the state (0 = idle) in the low 2."""
    return "%d%s" % (seq >> 2, "" if seq & 3 == 0 else " (in progress)")


def gp_tok(seq):
    """The same as one table column: a * marks a grace period in progress."""
    return "%d%s" % (seq >> 2, "" if seq & 3 == 0 else "*")


class GraceRcu(gdb.Command):
    """The RCU tree: each node's masks and gp_seq, each CPU's GP, QS debt, dynticks, callbacks."""

    def __init__(self):
        super().__init__("grace-rcu", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        rs_ = sym("rcu_state")
        if rs_ is None:
            raise gdb.GdbError("no tree RCU (rcu_state) in this kernel")
        gs = int(rs_["gp_seq"])
        st = int(rs_["gp_state"])
        shape = rs_["shape"]
        print("rcu_state: gp_seq %#x = GP %s, kthread %s, %d levels, %d nodes (fanout %d, leaf %d)" % (
            gs, gp_str(gs), GP_STATES[st] if st < len(GP_STATES) else st, int(shape["levels"]),
            int(shape["nr_nodes"]), int(shape["fanout"]), int(shape["fanout_leaf"])))
        print("%4s %5s %-9s %-18s %-18s %-18s %s" % ("node", "level", "CPUs", "qsmask", "qsmaskinit",
                                                    "qsmaskinitnext", "gp_seq"))
        for i in range(int(shape["nr_nodes"])):
            n = rs_["node"][i]
            print("%4d %5d %-9s %#018x %#018x %#018x %s" % (
                i, int(n["level"]), "%d-%d" % (int(n["grplo"]), int(n["grphi"])), int(n["qsmask"]),
                int(n["qsmaskinit"]), int(n["qsmaskinitnext"]), gp_tok(int(n["gp_seq"]))))
        print("(GP numbers: * = that grace period is in progress)")
        print("%4s %-16s %6s %6s %6s %8s  %s" % ("cpu", "noticed GP", "owes", "books", "idle",
                                                 "dynticks", "callbacks " + "/".join(SEGS)))
        for cpu in mask_cpus("cpu_possible_mask"):
            d = per_cpu("rcu_data", cpu)
            cb = d["cblist"]
            segs = "/".join(str(int(cb["seglen"][k])) for k in range(len(SEGS)))
            dt = int(d["dynticks"])
            print("%4d %-16s %6s %6s %6s %8d  %d: %s" % (
                cpu, gp_tok(int(d["gp_seq"])), "yes" if int(d["core_needs_qs"]) and
                int(d["cpu_no_qs"]) else "no", "yes" if int(d["rcu_online"]) else "no",
                "yes" if dt % 2 == 0 else "no", dt, int(cb["len"]), segs))


# ---- patch sites ------------------------------------------------------------

PATCH_KINDS = {1: "jump", 2: "call", 3: "lockop"}     # asm/patch_site.h PATCH_SITE_*
PATCH_INSN_SIZE = 5


def read_bytes(addr, n):
    mem = gdb.selected_inferior().read_memory(addr, n)
    return bytes(mem)


def sym_at(addr):
    """'func+off' for a text address, or the hex address."""
    try:
        out = gdb.execute("info symbol %#x" % addr, to_string=True).strip()
    except gdb.error:
        return "%#x" % addr
    if out.startswith("No symbol"):
        return "%#x" % addr
    name = out.split(" in section")[0]
    return name.replace(" + ", "+")


def decode_site(addr, b):
    """What five bytes at `addr` do, as one short string."""
    if b[0] == 0xcc:
        return "int3 (being patched)"
    if b == bytes([0x0f, 0x1f, 0x44, 0x00, 0x00]):
        return "nop5"
    if b[0] in (0xe8, 0xe9):
        rel = int.from_bytes(b[1:5], "little", signed=True)
        dest = (addr + 5 + rel) & 0xffffffffffffffff
        return "%s %s" % ("call" if b[0] == 0xe8 else "jmp", sym_at(dest))
    if b[0] == 0xc3:
        return "ret"
    return "bytes %s" % " ".join("%02x" % x for x in b)


def patch_sites():
    """[(addr, kind, target, owner_addr, flags)] from the linked .patch_sites table."""
    start, stop = sym("__start_patch_sites"), sym("__stop_patch_sites")
    if start is None or stop is None:
        raise gdb.GdbError("no patch-site table (__start_patch_sites) in this kernel")
    t = gdb.lookup_type("struct patch_site")
    first = int(start.address)
    n = (int(stop.address) - first) // t.sizeof
    sites = []
    for i in range(n):
        e = gdb.Value(first + i * t.sizeof).cast(t.pointer()).dereference()
        base = first + i * t.sizeof
        code = (base + int(e["code"])) & 0xffffffffffffffff
        tgt = (base + 4 + int(e["target"])) & 0xffffffffffffffff
        own = (base + 8 + int(e["owner"])) & 0xffffffffffffffff
        sites.append((code, int(e["kind"]), tgt, own, int(e["flags"])))
    return sites


def bp_batch():
    """{addr: (old, new)} of the text_poke_bp batch in flight, or {}."""
    d = sym("bp_desc")
    if d is None or int(d) == 0:
        return {}
    d = d.dereference()
    out = {}
    for i in range(int(d["nr"])):
        tp = d["vec"][i]
        out[int(tp["addr"])] = (bytes(int(tp["old"][k]) for k in range(PATCH_INSN_SIZE)),
                                bytes(int(tp["new"][k]) for k in range(PATCH_INSN_SIZE)))
    return out


class GracePatchSites(gdb.Command):
    """Every patch site: where, owner, current bytes decoded, target; a batch in flight."""

    def __init__(self):
        super().__init__("grace-patch-sites", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        want = arg.strip()
        if want and want not in PATCH_KINDS.values():
            raise gdb.GdbError("grace-patch-sites: KIND is one of %s, not '%s'" % (
                ", ".join(PATCH_KINDS.values()), want))
        sites = patch_sites()
        batch = bp_batch()
        refs = sym("bp_refs")
        print("%d patch sites; text_poke_bp batch in flight: %s" % (
            len(sites), "%d sites (%s handlers inside)" % (len(batch), int(refs) if refs is not None
                                                          else "?") if batch else "none"))
        print("%-18s %-6s %-34s %-22s %-14s %s" % ("address", "kind", "function", "owner", "bytes",
                                                   "now"))
        for addr, kind, tgt, own, flags in sites:
            k = PATCH_KINDS.get(kind, str(kind))
            if want and k != want:
                continue
            b = read_bytes(addr, PATCH_INSN_SIZE)
            now = decode_site(addr, b)
            if kind == 1:
                now += "  (branch %s -> %s%s)" % ("taken" if b[0] == 0xe9 else "not taken",
                                                   sym_at(tgt), ", likely" if flags & 1 else "")
            print("%#018x %-6s %-34s %-22s %-14s %s" % (addr, k, sym_at(addr), sym_at(own),
                                                      b.hex(), now))
            if addr in batch:
                old, new = batch[addr]
                print("%18s in flight: old %s (%s) -> new %s (%s)" % (
                    "", old.hex(), decode_site(addr, old), new.hex(), decode_site(addr, new)))


class GraceTasks(gdb.Command):
    """Every task in the task list: tid, name, state, CPU, on_cpu, switches."""

    def __init__(self):
        super().__init__("grace-tasks", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        head = sym("task_list")
        if head is None:
            raise gdb.GdbError("no task_list in this kernel")
        ttype = gdb.lookup_type("struct task_struct")
        off = next(f.bitpos // 8 for f in ttype.fields() if f.name == "tasks")
        running = {}
        for cpu in mask_cpus("cpu_possible_mask"):
            running[int(per_cpu("current_task", cpu))] = cpu
        print("%5s %-18s %-8s %4s %7s %8s %8s" % ("tid", "name", "state", "cpu", "running",
                                                  "nvcsw", "nivcsw"))
        cur, n = int(head["next"]), 0
        while cur != int(head.address) and n < 4096:
            t = gdb.Value(cur - off).cast(ttype.pointer()).dereference()
            st = int(t["state"])
            print("%5d %-18s %-8s %4d %7s %8d %8d" % (
                int(t["tid"]), cstr(t["comm"]), TASK_STATES.get(st, "%#x" % st), int(t["cpu"]),
                "cpu%d" % running[int(t.address)] if int(t.address) in running else "-",
                int(t["nvcsw"]), int(t["nivcsw"])))
            cur, n = int(t["tasks"]["next"]), n + 1


def log_text():
    buf, head = sym("log_buf"), sym("log_head")
    if buf is None or head is None:
        raise gdb.GdbError("no log_buf/log_head in this kernel")
    size = buf.type.sizeof
    head = int(head)
    n = min(head, size)
    first = head - n
    inf = gdb.selected_inferior()
    base = int(buf.address)
    start = first % size
    data = bytes(inf.read_memory(base + start, min(n, size - start)))
    if len(data) < n:
        data += bytes(inf.read_memory(base, n - len(data)))
    return data.decode("utf-8", "replace")


class GraceDmesg(gdb.Command):
    """grace-dmesg [N]: the kernel log ring from memory (last N lines)."""

    def __init__(self):
        super().__init__("grace-dmesg", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        lines = log_text().splitlines()
        if arg.strip():
            try:
                lines = lines[-int(arg):]
            except ValueError:
                raise gdb.GdbError("usage: grace-dmesg [N]")
        for line in lines:
            print(line)


class CpuStateFn(gdb.Function):
    """$grace_cpu_state(N): CPU N's hotplug state number."""

    def __init__(self):
        super().__init__("grace_cpu_state")

    def invoke(self, cpu):
        return per_cpu("cpuhp_state", int(cpu))["state"]


class PerCpuFn(gdb.Function):
    """$grace_per_cpu("var", N): CPU N's copy of per-CPU variable var."""

    def __init__(self):
        super().__init__("grace_per_cpu")

    def invoke(self, name, cpu):
        return per_cpu(name.string(), int(cpu))


for cls in (GraceCpus, GraceHotplug, GraceLock, GraceRcu, GracePatchSites, GraceTasks, GraceDmesg,
            CpuStateFn, PerCpuFn):
    cls()
print("grace: grace-cpus, grace-hotplug, grace-lock EXPR, grace-rcu, grace-patch-sites [KIND], "
      "grace-tasks, grace-dmesg [N]; "
      "$grace_cpu_state(N), $grace_per_cpu(\"var\", N)")
