/*
 * lockop.c — switching the spinlock's lock operations by patching them.
 *
 * The queued spinlock's native/paravirt difference lives in two kinds of
 * patch sites (include/grace/qspinlock.h): the slow-path call in every
 * inlined spin_lock, and every inlined spin_unlock (the native release store
 * or a call of the PV unlock). Switching the backend between native and PV
 * rewrites all of them in one text_poke_bp batch, in one of two ways
 * (`pvswitch.method=v1|v2`, after Ankur Arora, "Dynamic paravirt lock-ops"):
 *
 * V1 (stop_machine): every online CPU enters stop_machine(); the first one
 * checks that no slow path is in progress (every MCS nesting count 0, the PV
 * hash empty), installs the new backend and patches while the others spin
 * in lock-step: each step's sync is a generation counter the others
 * answer after a serialising CPUID (interrupts are off: no IPIs). NMI lock
 * users stay away while pv_switch_in_progress is set (pv_switch.c).
 *
 * V2 (int3 as a site-local barrier plus a global barrier): no stop_machine.
 *   1. int3 over byte 0 of every site, sync. From now on every lock op goes
 *      through the #BP handler, v2_emulate().
 *   2. The global barrier: each online CPU sets its v2_crossed and
 *      increments barrier_cpus once, at a moment when none of its lock
 *      operations is in progress in any context:
 *        - at its next lock operation trapped in task context (no interrupt
 *          handler is active below, and the operation has not started);
 *        - from the barrier IPI, if the preempt count is 0 there: every lock
 *          operation runs with preemption or interrupts off (spin_lock's
 *          preempt_disable comes first, spin_unlock's preempt_enable last;
 *          the handler checks this rule on every operation it sees), so the
 *          IPI interrupted none; a refused IPI is sent again 0.5 ms later;
 *        - the patcher's own CPU, in thread context.
 *      (A work item per CPU did the same in thread context, but waited for
 *      every CPU's scheduler: 30 ms idle, and it never ran on a CPU whose
 *      current task sat in a long preempt-off section.)
 *   3. The handler runs the OLD operation for a CPU that has not crossed.
 *      For a crossed CPU it counts active lock operations in `v2_state`:
 *      +1 when it enters the old slow path (the lock is remembered in the
 *      CPU's held[] list, which is how the matching unlock is told apart
 *      from the unlock of a lock taken on the fast path), -1 at that
 *      unlock. Every other old unlock it performs itself bracketed by +1/-1,
 *      so the old op cannot overlap the switch. Task, softirq, irq and NMI
 *      contexts all count alike (held[] slots are claimed with cmpxchg, so
 *      a nested context cannot corrupt an outer one's entry).
 *   4. The patcher waits until barrier_cpus == online CPUs, then moves
 *      v2_state from (old, 0 active) to NEW with one cmpxchg (any CPU may
 *      make that move) and installs the new backend's ops: no old operation
 *      is in progress anywhere (each was either finished before its CPU
 *      crossed or counted). From then on the handler runs the NEW op, after
 *      publishing qspinlock_pv_active itself (v2_is_new), and text_poke_bp
 *      writes the
 *      tails and first bytes. Bounded wait: after pvswitch.timeout_ms it
 *      gives up with -EAGAIN and the old first bytes are restored.
 * V1 and V2 hold the CPU hotplug lock for the whole switch: no CPU comes or
 * goes while barrier_cpus is being counted against the online count.
 * Code that depends on the backend staying put (locktorture's nesting
 * chain plays the native pending waiter) keeps switches away with
 * pv_switch_exclude_enter()/exit() (pv_switch.c).
 *
 * Injected bugs (pvswitch.bug=, docs/patching.md): no_barrier (NEW at once,
 * no crossing and no count), emulate_wrong (a CPU that has not crossed runs
 * the NEW op), nmi_count (lock ops in NMI context are not counted),
 * cross_anywhere (the barrier IPI crosses a CPU inside a lock operation),
 * late_flag (only the CPU that set NEW publishes qspinlock_pv_active; with
 * pvswitch.publish_delay_us, the race widening, others run new ops first).
 * pvswitch.ready_delay_us widens the window between the last crossing and
 * the switch point (every CPU crossed, old operations still counted).
 * Tests: scenarios pvswitch-v1/v2-smp2/4/8 (200 switches under locktorture),
 * pvswitch-v2-10k, locking-pv-switch-nmi-v2 (NMI storm), pvswitch-bug-* (each
 * injected bug caught), trace-pvswitch; `pvspin flip N [GAP_MS]`,
 * `bench pvswitch` (pvswitch_bench.c).
 */
#include <asm/cpu.h>
#include <asm/patch_sites.h>
#include <asm/ptrace.h>
#include <asm/text-patching.h>
#include <grace/cpuhotplug.h>
#include <grace/errno.h>
#include <grace/irq.h>
#include <grace/panic.h>
#include <grace/param.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/qspinlock.h>
#include <grace/qspinlock_pv.h>
#include <grace/sched.h>
#include <grace/smp.h>
#include <grace/stop_machine.h>
#include <grace/string.h>
#include <grace/time.h>
#include <grace/workqueue.h>
#include "lockop.h"

/* Owners of the site kinds: the two lock operations, the PV hooks. */
u8 lockop_slot_slowpath, lockop_slot_unlock, lockop_slot_pv_halt, lockop_slot_pv_kick;
extern char __pv_queued_spin_unlock_thunk[];

static char method[4] = "v2";
param_string("pvswitch.method", method, "how the spinlock backend is switched live: v1|v2");
static int timeout_ms = 2000;
param_int("pvswitch.timeout_ms", timeout_ms, 1, 60000,
	  "V2: how long a switch waits for the barrier before it gives up (-EAGAIN)");
static char switch_bug[16];
param_string("pvswitch.bug", switch_bug,
	     "inject a switch bug: no_barrier, emulate_wrong, nmi_count, cross_anywhere, late_flag, stale_kick");
enum { SWBUG_NO_BARRIER = 1, SWBUG_EMULATE_WRONG = 2, SWBUG_NMI_COUNT = 4, SWBUG_CROSS_ANYWHERE = 8,
       SWBUG_LATE_FLAG = 16, SWBUG_STALE_KICK = 32 };
static unsigned int sw_bugs;

struct lockop_stats lockop_stats;

/* ---- the instruction each site holds for a backend ---- */

static bool is_hook(const void *owner)
{
	return owner == &lockop_slot_pv_halt || owner == &lockop_slot_pv_kick;
}

/* The instruction site `s` holds with backend `ops` installed. */
static bool site_insn(const struct patch_site *s, const struct pv_lock_ops *ops, u8 *buf)
{
	unsigned long a = patch_site_addr(s);
	bool pv = ops->backend != PV_NATIVE;

	if (patch_site_owner(s) == &lockop_slot_pv_halt)
		return insn_encode(buf, INSN_CALL, a, (unsigned long)ops->halt);
	if (patch_site_owner(s) == &lockop_slot_pv_kick)
		return insn_encode(buf, INSN_CALL, a, (unsigned long)ops->kick);

	if (patch_site_owner(s) == &lockop_slot_slowpath)
		return insn_encode(buf, INSN_CALL, a, pv ? (unsigned long)pv_queued_spin_lock_slowpath
						      : (unsigned long)native_queued_spin_lock_slowpath);
	if (patch_site_owner(s) == &lockop_slot_unlock)
		return pv ? insn_encode(buf, INSN_CALL, a, (unsigned long)__pv_queued_spin_unlock_thunk)
			  : insn_encode(buf, INSN_UNLOCK, a, 0);
	return false;
}

static bool is_lockop(const struct patch_site *s)
{
	return s->kind == PATCH_SITE_LOCK_OP &&
	       (patch_site_owner(s) == &lockop_slot_slowpath || patch_site_owner(s) == &lockop_slot_unlock ||
		is_hook(patch_site_owner(s)));
}

static struct text_poke_loc batch[TEXT_POKE_MAX_BATCH];

/* Fill `batch` with every lock-op site that must change; returns how many. */
static unsigned int build_batch(const struct pv_lock_ops *ops)
{
	unsigned int n = 0;

	for_each_patch_site(s) {
		u8 want[PATCH_INSN_SIZE];

		if (!is_lockop(s) || !site_insn(s, ops, want) ||
		    /* INJECTED BUG stale_kick: the kick sites are never switched */
		    ((sw_bugs & SWBUG_STALE_KICK) && patch_site_owner(s) == &lockop_slot_pv_kick) ||
		    !memcmp(want, (void *)patch_site_addr(s), PATCH_INSN_SIZE))
			continue;
		if (n == TEXT_POKE_MAX_BATCH)
			panic("lockop: more than %u lock-op sites", TEXT_POKE_MAX_BATCH);
		batch[n].addr = patch_site_addr(s);
		batch[n].owner = patch_site_owner(s);
		memcpy(batch[n].new, want, PATCH_INSN_SIZE);
		n++;
	}
	return n;
}

/*
 * For tests (ktest locking.pv_switch): how many PV hook sites do not call
 * `ops`' halt or kick; *nr, how many there are. Reads the text itself,
 * not the batch builder that a switch uses.
 */
unsigned int lockop_hooks_mismatch(const struct pv_lock_ops *ops, unsigned int *nr)
{
	unsigned int bad = 0;

	*nr = 0;
	for_each_patch_site(s) {
		const void *o = patch_site_owner(s);
		struct insn in;

		if (s->kind != PATCH_SITE_LOCK_OP || !is_hook(o))
			continue;
		in = insn_decode((const u8 *)patch_site_addr(s), patch_site_addr(s));
		(*nr)++;
		bad += in.kind != INSN_CALL ||
		       in.target != (o == &lockop_slot_pv_halt ? (unsigned long)ops->halt
							      : (unsigned long)ops->kick);
	}
	return bad;
}

unsigned int lockop_nr_sites(void)
{
	unsigned int n = 0;

	for_each_patch_site(s)
		n += is_lockop(s);
	return n;
}

/* Boot, boot CPU alone: write the sites for the chosen backend (installed
 * in pv_lock_ops just before) directly. */
void lockop_boot_text(bool pv)
{
	unsigned int n;

	if (switch_bug[0]) {
		if (!strcmp(switch_bug, "no_barrier"))
			sw_bugs = SWBUG_NO_BARRIER;
		else if (!strcmp(switch_bug, "emulate_wrong"))
			sw_bugs = SWBUG_EMULATE_WRONG;
		else if (!strcmp(switch_bug, "nmi_count"))
			sw_bugs = SWBUG_NMI_COUNT;
		else if (!strcmp(switch_bug, "cross_anywhere"))
			sw_bugs = SWBUG_CROSS_ANYWHERE;
		else if (!strcmp(switch_bug, "late_flag"))
			sw_bugs = SWBUG_LATE_FLAG;
		else if (!strcmp(switch_bug, "stale_kick"))
			sw_bugs = SWBUG_STALE_KICK;
		else
			printk("pvswitch.bug=%s: unknown (no_barrier, emulate_wrong, nmi_count, "
			       "cross_anywhere, late_flag, stale_kick), ignored\n", switch_bug);
		if (sw_bugs)
			printk("pvswitch: injected bug \"%s\" is ON\n", switch_bug);
	}
	if (strcmp(method, "v1") && strcmp(method, "v2")) {
		printk("pvswitch.method=%s: unknown (v1|v2), using v2\n", method);
		memcpy(method, "v2", 3);
	}
	n = build_batch(pv ? &pv_lock_ops : &pv_lock_ops_native);
	for (unsigned int i = 0; i < n; i++)
		text_poke((void *)batch[i].addr, batch[i].new, PATCH_INSN_SIZE);
}

/* ---- V1: inside stop_machine, lock-step syncs ---- */

struct v1_req {
	const struct pv_lock_ops *ops;
	unsigned int nr, leader;
	u32 gen, done;
	u32 acks[NR_CPUS_MAX];
	int ret;
};
static struct v1_req *v1;

static void v1_sync(void)
{
	u32 g = __atomic_add_fetch(&v1->gen, 1, __ATOMIC_SEQ_CST);
	unsigned int cpu;
	u32 a, b, c, d;

	cpuid(0, &a, &b, &c, &d);
	for_each_online_cpu(cpu)
		if (cpu != v1->leader)
			while (__atomic_load_n(&v1->acks[cpu], __ATOMIC_ACQUIRE) != g)
				cpu_relax();
	text_poke_stats.syncs++;
}

static int v1_stopped(void *arg)
{
	struct v1_req *r = arg;
	unsigned int me = smp_processor_id(), cpu;

	if (me != r->leader) {
		/* Follow the leader's steps: serialise at every new generation. */
		while (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE)) {
			u32 g = __atomic_load_n(&r->gen, __ATOMIC_ACQUIRE);

			if (g != r->acks[me]) {
				u32 a, b, c, d;

				cpuid(0, &a, &b, &c, &d);
				__atomic_store_n(&r->acks[me], g, __ATOMIC_RELEASE);
			}
			cpu_relax();
		}
		return 0;
	}
	r->ret = 0;
	for_each_online_cpu(cpu)
		if (READ_ONCE(qnodes[cpu].nesting))
			r->ret = -EBUSY;
	if (pv_hash_entries_in_use())
		r->ret = -EBUSY;
	if (!r->ret) {
		struct text_poke_ctl ctl = { .sync = v1_sync };
		u64 t0 = ktime_get_ns();

		pv_lock_ops_install(r->ops);
		r->ret = text_poke_bp_batch_ex(batch, r->nr, &ctl);
		lockop_stats.last_barrier_ns = ktime_get_ns() - t0;   /* V1: time stopped, patching */
	}
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return 0;
}

static int switch_v1(const struct pv_lock_ops *ops, bool pv)
{
	static struct v1_req req;
	int err;

	memset(&req, 0, sizeof(req));
	req.ops = ops;
	req.nr = build_batch(ops);
	req.leader = cpumask_first(&cpu_online_mask);
	v1 = &req;
	err = stop_machine_cpuslocked(v1_stopped, &req, &cpu_online_mask);   /* hotplug lock held */
	v1 = NULL;
	return err ? err : req.ret;
}

/* ---- V2: int3 barrier, global barrier, counted lock operations ---- */

/*
 * v2_state, one word so that the switch decision is one cmpxchg:
 *   NEW    the handler runs the new op from now on (set once)
 *   ABORT  the patcher gave up (timeout): NEW can no longer be set
 *   READY  every online CPU has crossed the global barrier
 *   low bits: old lock operations in progress on crossed CPUs
 * The switch: READY | 0 active  ->  READY | NEW.
 */
#define V2_NEW    0x80000000u
#define V2_ABORT  0x40000000u
#define V2_READY  0x20000000u
#define V2_ACTIVE 0x1fffffffu
#define V2_HELD  32

struct v2_cpu {
	int crossed;
	struct qspinlock *held[V2_HELD];   /* locks taken through a counted old slow path */
};
static DEFINE_PER_CPU(struct v2_cpu, v2_cpu);
static u32 v2_state, barrier_cpus;
static bool v2_old_pv, v2_new_pv;

static void do_unlock(struct qspinlock *lock, bool pv)
{
	if (pv)
		__pv_queued_spin_unlock(lock);
	else
		__atomic_store_n(&lock->locked, 0, __ATOMIC_RELEASE);
}

static bool held_add(struct v2_cpu *c, struct qspinlock *lock)
{
	for (int i = 0; i < V2_HELD; i++) {
		struct qspinlock *none = NULL;

		if (__atomic_compare_exchange_n(&c->held[i], &none, lock, false,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return true;
	}
	return false;
}

static bool held_del(struct v2_cpu *c, struct qspinlock *lock)
{
	for (int i = V2_HELD - 1; i >= 0; i--) {
		struct qspinlock *l = lock;

		if (__atomic_compare_exchange_n(&c->held[i], &l, NULL, false,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return true;
	}
	return false;
}

static bool v2_is_new(u32 s);

/* +1 unless the switch has happened; false then. SEQ_CST pairs with the
 * patcher's cmpxchg to NEW: either it sees our count, or we see NEW. */
static bool v2_get(void)
{
	u32 s = __atomic_load_n(&v2_state, __ATOMIC_SEQ_CST);

	while (!(s & V2_NEW))
		if (__atomic_compare_exchange_n(&v2_state, &s, s + 1, false,
						__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			return true;
	return !v2_is_new(s);
}

static u64 lockop_switch_t0;
static u32 v2_online;      /* online CPUs when the switch started (hotplug is held off) */
static u64 v2_t0, v2_switched_ns;

/*
 * qspinlock_pv_active says which slow path and unlock run (queued_spin_lock_
 * slowpath() picks by it; tests read it): from the switch point on, the new
 * ones. The CPU whose cmpxchg set NEW stores it next, but an NMI or the host
 * can stop that CPU between the two, while other CPUs already see NEW and run
 * new operations under a flag that still names the old backend (an NMI
 * storm's slow path acquired with the flag old saw it change before its
 * unlock: the "switch point inside an NMI's slow-path hold" that
 * locking.pv_switch_nmi_v2 reported now and then on correct code). So every
 * CPU that sees NEW publishes the flag itself before it runs a new
 * operation, and so does the patcher before it goes on; they all store the
 * same value, and every such store is over before the batch returns (each
 * runs in the #BP handler, which the batch waits for, in a barrier IPI,
 * which the patcher waits for, or on the patcher). pvswitch.publish_delay_us
 * widens the window after the cmpxchg; pvswitch.bug=late_flag leaves the
 * publishing to the cmpxchg's CPU alone.
 */
static int publish_delay_us;
param_int("pvswitch.publish_delay_us", publish_delay_us, 0, 10000,
	  "V2 race widening: wait this long between the switch decision and the CPU's own store of the new backend flag");

static void v2_publish_new(void)
{
	if (__atomic_load_n(&qspinlock_pv_active, __ATOMIC_SEQ_CST) != v2_new_pv)
		__atomic_store_n(&qspinlock_pv_active, v2_new_pv, __ATOMIC_SEQ_CST);
}

/* Seen NEW in `s` (a load of v2_state): then the flag is published first. */
static bool v2_is_new(u32 s)
{
	if (!(s & V2_NEW))
		return false;
	if (!(sw_bugs & SWBUG_LATE_FLAG))   /* INJECTED BUG late_flag: run new ops under the old flag */
		v2_publish_new();
	return true;
}

/* barrier_cpus == online and no counted op: READY -> READY|NEW. Any CPU may do it. */
static void v2_try_switch(void)
{
	u32 ready = V2_READY;

	if (__atomic_compare_exchange_n(&v2_state, &ready, V2_READY | V2_NEW, false,
					__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		if (unlikely(publish_delay_us))
			udelay((unsigned long)publish_delay_us);
		v2_publish_new();
		v2_switched_ns = ktime_get_ns() - v2_t0;
	}
}

static void v2_put(void)
{
	if (__atomic_sub_fetch(&v2_state, 1, __ATOMIC_SEQ_CST) == V2_READY)
		v2_try_switch();
}

/*
 * Once every CPU has crossed, a new old-op slow path would keep the count
 * from ever reaching 0 under steady contention. So such an entry first
 * holds off for a while (interrupts are off here), letting the counted ops
 * drain and trying the switch itself; only then does it fall back to the
 * counted old op (it may hold a lock that a counted waiter needs).
 */
static int holdoff_us = 100000;
param_int("pvswitch.holdoff_us", holdoff_us, 0, 1000000,
	  "V2: how long a new slow path waits for the switch once every CPU has crossed (NMI: a tenth)");

static bool v2_holdoff(void)
{
	u64 end;

	if ((__atomic_load_n(&v2_state, __ATOMIC_SEQ_CST) & (V2_READY | V2_ABORT)) != V2_READY)
		return false;
	/* Long enough for a queue of old waiters to drain on an overcommitted
	 * host (each hand-over waits for the next vCPU to be run: with 20 ms,
	 * held-off entrants kept joining the count at -smp 8 and the switch gave
	 * up again and again); an NMI holds its CPU, so it waits less. */
	end = ktime_get_ns() + (u64)(in_nmi() ? holdoff_us / 10 : holdoff_us) * 1000;
	/*
	 * A preempt count of exactly 1 outside NMI context is this spin_lock's
	 * own: this context holds no other lock, nor does any context it
	 * interrupted (each held spinlock raises the count), so no counted
	 * operation can be waiting for us — we may wait for the switch itself
	 * (or for the patcher to give up). Without that, on an overcommitted
	 * host the held-off entrants kept joining the count and at -smp 8 the
	 * switch gave up (-EAGAIN) about once in seven.
	 */
	bool unbounded = preempt_count() == 1 && !in_nmi();

	do {
		if (v2_is_new(__atomic_load_n(&v2_state, __ATOMIC_SEQ_CST)))
			return true;
		v2_try_switch();
		cpu_relax();
	} while ((unbounded || ktime_get_ns() < end) &&
		 !(__atomic_load_n(&v2_state, __ATOMIC_SEQ_CST) & V2_ABORT));
	return v2_is_new(__atomic_load_n(&v2_state, __ATOMIC_SEQ_CST));
}

/*
 * Cross the global barrier on this CPU: once (an IPI and the patcher's own
 * call may both try), and only where no lock operation of this CPU is in
 * progress in any context — which is any point where the preempt count is
 * 0 outside NMI context: every lock operation runs with preemption off
 * (spin_lock's preempt_disable comes first, spin_unlock's preempt_enable
 * last) or with interrupts off, so an interrupt that finds the count at 0
 * has interrupted no lock operation, and no interrupt handler below it is in
 * one either (its own spin_lock would have raised the count). v2_emulate()
 * checks that rule on every lock operation of a switch.
 */
static bool v2_open;   /* the barrier is open: set once the int3 step is complete */
static int ready_delay_us;
param_int("pvswitch.ready_delay_us", ready_delay_us, 0, 10000,
	  "V2 race widening: the last CPU to cross waits this long before the switch point is allowed");

static void v2_cross_now(void)
{
	struct v2_cpu *c = this_cpu_ptr(&v2_cpu);
	int zero = 0;

	/* Not before the int3 step's refresh (text_patching.c, "Stale int3"):
	 * until then a CPU may still run a translation of an old site made
	 * before the int3, an old operation nobody would count. Crossing
	 * happens in an exception (the #BP of a lock op) or an interrupt (the
	 * barrier IPI) or on the patcher, so a CPU that crossed after the
	 * refresh is not inside such a translation and will not enter one:
	 * that is why V2 skips the refresh's own sync. */
	if (!__atomic_load_n(&v2_open, __ATOMIC_SEQ_CST))
		return;
	if (!__atomic_compare_exchange_n(&c->crossed, &zero, 1, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return;   /* already crossed */
	if (__atomic_add_fetch(&barrier_cpus, 1, __ATOMIC_SEQ_CST) == v2_online) {
		/* Race widening (tests): every CPU has crossed, the switch point
		 * not yet allowed. Since the lock operations went out of line a
		 * switch takes ~1 ms, and the NMI storm's holds on crossed CPUs
		 * (locking.pv_switch_nmi_v2) had become too rare to catch
		 * nmi_count and late_flag under load (0 stretched holds in 40 s). */
		if (unlikely(ready_delay_us))
			udelay((unsigned long)ready_delay_us);
		__atomic_fetch_or(&v2_state, V2_READY, __ATOMIC_SEQ_CST);
		v2_try_switch();
	}
}

enum lockop_v2_phase lockop_v2_phase(void)
{
	u32 s = __atomic_load_n(&v2_state, __ATOMIC_SEQ_CST);

	if (!__atomic_load_n(&v2_open, __ATOMIC_SEQ_CST))
		return LOCKOP_V2_IDLE;
	if (s & V2_NEW)
		return LOCKOP_V2_NEW;
	if (!__atomic_load_n(&this_cpu_ptr(&v2_cpu)->crossed, __ATOMIC_SEQ_CST))
		return LOCKOP_V2_BARRIER;
	return (s & V2_READY) ? LOCKOP_V2_READY : LOCKOP_V2_CROSSED;
}

static bool v2_cross_here(void)
{
	/* INJECTED BUG cross_anywhere: the barrier IPI crosses a CPU even
	 * inside a lock operation (preempt count not 0). */
	if ((preempt_count() != 0 && !(sw_bugs & SWBUG_CROSS_ANYWHERE)) || in_nmi())
		return false;
	v2_cross_now();
	return true;
}

static bool v2_rule_warned;

static const struct insn *v2_emulate(const struct text_poke_loc *tp, struct pt_regs *regs, void *arg)
{
	struct qspinlock *lock = (struct qspinlock *)regs->rdi;
	struct v2_cpu *c = this_cpu_ptr(&v2_cpu);
	bool crossed, counted, wrong;

	(void)arg;
	__atomic_add_fetch(&lockop_stats.handler_calls, 1, __ATOMIC_RELAXED);
	/*
	 * A PV hook (halt, kick) is called only from inside a PV slow path or
	 * unlock, which is itself the operation counted or not: the old
	 * backend's hook until the switch point, the new one's after it. (Before
	 * it only old operations run, after it only new ones: each finished
	 * before its CPU crossed, or was counted.) No crossing here: this CPU is
	 * inside a lock operation.
	 */
	if (is_hook(tp->owner))
		return v2_is_new(__atomic_load_n(&v2_state, __ATOMIC_SEQ_CST)) ? &tp->new_insn : &tp->old_insn;
	/* Trapped in task context: no interrupt handler is active below us and
	 * this context's only lock operation is the one about to start, so no
	 * operation of this CPU is in progress: cross here (v2_cross_now). */
	if (!READ_ONCE(c->crossed) && !in_irq() && !in_nmi() && !(sw_bugs & SWBUG_EMULATE_WRONG))
		v2_cross_now();
	crossed = READ_ONCE(c->crossed);
	/* INJECTED BUG emulate_wrong: a CPU that has not crossed runs the NEW op
	 * (and its task context does not cross at its lock operations, above). */
	wrong = !crossed && (sw_bugs & SWBUG_EMULATE_WRONG);
	/* The rule the barrier IPI relies on (v2_cross_here): a lock operation
	 * runs with preemption or interrupts off. */
	if (unlikely(preempt_count() == 0 && (regs->rflags & X86_RFLAGS_IF)) &&
	    !__atomic_exchange_n(&v2_rule_warned, true, __ATOMIC_RELAXED) && WARN_ON(1))
		printk("pvswitch: a lock operation at %016lx with preemption and interrupts on\n", tp->addr);
	if (tp->owner == &lockop_slot_slowpath) {
		if (!crossed)
			return wrong ? &tp->new_insn : &tp->old_insn;
		if ((sw_bugs & SWBUG_NMI_COUNT) && in_nmi())
			return v2_is_new(__atomic_load_n(&v2_state, __ATOMIC_SEQ_CST)) ?
			       &tp->new_insn : &tp->old_insn;   /* INJECTED BUG: not counted */
		if (v2_holdoff() || !v2_get())
			return &tp->new_insn;
		if (!held_add(c, lock))
			__atomic_add_fetch(&lockop_stats.held_overflow, 1, __ATOMIC_RELAXED);
		return &tp->old_insn;   /* counted until the matching unlock */
	}
	/* An unlock site: perform the operation here, then continue after it. */
	regs->rip = tp->addr + PATCH_INSN_SIZE;
	if (!crossed) {
		do_unlock(lock, wrong ? v2_new_pv : v2_old_pv);
		return NULL;
	}
	counted = held_del(c, lock);
	if (!counted && !v2_get()) {
		do_unlock(lock, v2_new_pv);
		return NULL;
	}
	do_unlock(lock, v2_old_pv);   /* the op ends before the count drops */
	v2_put();
	return NULL;
}

/* The barrier IPI: interrupts were on where it landed (it was taken). */
static void v2_cross_ipi(void *unused)
{
	(void)unused;
	if (!v2_cross_here())
		__atomic_add_fetch(&lockop_stats.cross_refused, 1, __ATOMIC_RELAXED);
}

#define V2_IPI_RETRY_NS 500000ULL   /* barrier IPI rounds at most this often after the first */

struct v2_req {
	const struct pv_lock_ops *ops;
	u64 barrier_ns;
	u64 ipi_rounds;
};

static int v2_after_int3(void *arg)
{
	struct v2_req *r = arg;
	u64 t0 = ktime_get_ns(), deadline = t0 + (u64)timeout_ms * 1000000ULL, next_ipi = 0;
	unsigned int cpu, online = num_online_cpus();

	(void)online;
	if (sw_bugs & SWBUG_NO_BARRIER) {
		/* INJECTED BUG: switch at once, whatever is in progress. */
		__atomic_store_n(&v2_state, V2_NEW, __ATOMIC_SEQ_CST);
		__atomic_store_n(&qspinlock_pv_active, v2_new_pv, __ATOMIC_SEQ_CST);
		return 0;
	}
	v2_t0 = t0;
	__atomic_store_n(&v2_open, true, __ATOMIC_SEQ_CST);
	lockop_stats.last_int3_ns = t0 - lockop_switch_t0;   /* int3 written, 2 syncs */
	v2_cross_here();   /* the patcher's own CPU: thread context, count 0 */
	for (;;) {
		u64 now;

		v2_try_switch();
		if (v2_is_new(__atomic_load_n(&v2_state, __ATOMIC_SEQ_CST))) {
			r->barrier_ns = v2_switched_ns;
			return 0;
		}
		now = ktime_get_ns();
		if (now >= next_ipi) {
			/* Every CPU not yet crossed gets the barrier IPI. One that was
			 * inside a lock operation (or has preemption off) when it came
			 * crosses at its next lock operation in task context, or at
			 * the next round, which waits a while: hammering a CPU that
			 * sits in a long preempt-off section gains nothing. */
			struct cpumask todo;
			bool any = false;

			cpumask_clear(&todo);
			for_each_online_cpu(cpu)
				if (cpu != smp_processor_id() &&
				    !__atomic_load_n(&per_cpu(v2_cpu, cpu).crossed, __ATOMIC_SEQ_CST)) {
					cpumask_set_cpu(cpu, &todo);
					any = true;
				}
			if (any) {
				smp_call_function_many(&todo, v2_cross_ipi, NULL, 1);
				r->ipi_rounds++;
			}
			next_ipi = ktime_get_ns() + V2_IPI_RETRY_NS;
			continue;
		}
		if (ktime_get_ns() > deadline) {
			/* Forbid the switch from now on: the old text comes back.
			 * One atomic op decides: NEW set before it, or never. */
			u32 st = __atomic_fetch_or(&v2_state, V2_ABORT, __ATOMIC_SEQ_CST);

			if (v2_is_new(st)) {
				r->barrier_ns = v2_switched_ns;
				return 0;   /* it happened just now after all */
			}
			lockop_stats.last_abort_crossed = __atomic_load_n(&barrier_cpus, __ATOMIC_RELAXED);
			lockop_stats.last_abort_active = st & V2_ACTIVE;

			return -EAGAIN;
		}
		cond_resched();   /* the other threads of our CPU (a chain's writer...) */
		if (!__atomic_load_n(&this_cpu_ptr(&v2_cpu)->crossed, __ATOMIC_SEQ_CST))
			v2_cross_here();   /* we may have moved to another CPU */
		cpu_relax();
	}
}

static int switch_v2(const struct pv_lock_ops *ops, bool old_pv, bool pv)
{
	struct v2_req req = { .ops = ops };
	/* The barrier stands for the refresh's sync: a CPU crosses in an
	 * exception or interrupt after the refresh (v2_open), so no CPU counted
	 * as crossed can still be inside a translation from before it. */
	struct text_poke_ctl ctl = { .emulate = v2_emulate, .after_int3 = v2_after_int3, .arg = &req,
				     .after_int3_serialises = true };
	unsigned int n = build_batch(ops), cpu;
	int err;

	v2_old_pv = old_pv;
	v2_new_pv = pv;
	v2_online = num_online_cpus();
	v2_switched_ns = 0;
	__atomic_store_n(&v2_state, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&barrier_cpus, 0, __ATOMIC_SEQ_CST);
	for_each_online_cpu(cpu) {
		struct v2_cpu *c = per_cpu_ptr(&v2_cpu, cpu);

		memset(c->held, 0, sizeof(c->held));
		c->crossed = 0;
	}
	err = text_poke_bp_batch_ex(batch, n, &ctl);
	__atomic_store_n(&v2_open, false, __ATOMIC_SEQ_CST);
	/* The batch is over (no CPU is in the handler, every barrier IPI was
	 * waited for): reset for next time. */
	for_each_online_cpu(cpu)
		per_cpu(v2_cpu, cpu).crossed = 0;
	lockop_stats.last_ipi_rounds = req.ipi_rounds;
	if (!err)
		lockop_stats.last_barrier_ns = req.barrier_ns;
	return err;
}

/*
 * V2: the backend's halt and kick are patch sites switched in the same batch
 * (v2_emulate runs the old backend's hooks until the switch point, the new
 * one's after it), so a PV waiter never halts with a kick that cannot wake
 * it. pv_lock_ops (name, backend, statistics class) follows once the switch
 * is done; the flag moved at the switch point already (v2_publish_new).
 * (When the hooks were function pointers in pv_lock_ops, going to PV
 * installed them before the text changed, and pv_lock_ops_install() set the
 * flag to PV for a moment before the switch had begun.)
 */
static int switch_text(const struct pv_lock_ops *ops, bool old_pv, bool pv,
		       int (*fn)(const struct pv_lock_ops *, bool, bool))
{
	int err = fn(ops, old_pv, pv);

	if (!err)
		pv_lock_ops_install(ops);
	return err;
}

/*
 * Switch to `ops` live. Called by pv_spinlock_switch() with the NMI users
 * kept away; returns 0, -EBUSY (V1: a slow path was in progress), -EAGAIN
 * (V2: the barrier did not complete in time; the old text is back).
 */
int lockop_switch(const struct pv_lock_ops *ops)
{
	bool old_pv = qspinlock_pv_active, pv = ops->backend != PV_NATIVE;
	u64 t0 = ktime_get_ns();
	int err;

	lockop_switch_t0 = t0;
	lockop_stats.last_int3_ns = 0;

	cpus_read_lock();
	text_mutex_lock();
	if (old_pv == pv || !strcmp(method, "v1"))
		err = switch_v1(ops, pv);   /* PV <-> PV changes only the hook sites: V1 */
	else
		err = switch_text(ops, old_pv, pv, switch_v2);
	lockop_stats.last_switch_ns = ktime_get_ns() - t0;
	{
		/* Every site must now hold the current backend's instruction. */
		unsigned int bad = build_batch(&pv_lock_ops);

		if (WARN_ON(bad))
			printk("lockop: %u lock-op sites do not match backend %s after a switch (%d)\n",
			       bad, pv_lock_ops.name, err);
	}
	text_mutex_unlock();
	cpus_read_unlock();
	if (err)
		lockop_stats.failed++;
	else
		lockop_stats.switches++;
	return err;
}

const char *lockop_method(void) { return method; }
int lockop_set_method(const char *m)
{
	if (strcmp(m, "v1") && strcmp(m, "v2"))
		return -EINVAL;
	memcpy(method, m, 3);
	return 0;
}
