/*
 * locktorture.c — hammer one lock from every CPU and prove mutual exclusion.
 *
 * Boot with torture.lock=1 (or run `locktorture [TYPE] [SECONDS]` in the
 * shell). For locktorture.duration_s seconds:
 *
 *  - Writers (locktorture.writers, default one per online CPU, each bound
 *    to a CPU) take the lock under test — `qspinlock` (a spinlock_t, with
 *    whatever paravirt backend pvspin= chose), `tas` or `ticket` — and inside
 *    the critical section check that nobody else is inside (an atomic
 *    occupancy count and an owner field re-read after the hold), bump a
 *    plain counter, and hold for a short random time with rare long holds.
 *  - Interrupts and NMIs take torture locks while tasks hold or wait for
 *    others (locktorture.irq=1, default): every CPU's torture timer takes
 *    an irq lock from the tick, and now and then NMIs another CPU whose NMI
 *    handler takes an NMI lock. Both check exclusivity the same way.
 *  - Once per interval a "nesting chain" drives one CPU through every MCS
 *    node and past them (qspinlock nodes are per CPU and per context):
 *
 *        coordinator A holds L0..L3 and Ln        target CPU B
 *        ask B's writer to take L0       ──▶  task  queues on L0: node 0
 *        IPI class 0xc                   ──▶  irq   queues on L1: node 1
 *        IPI class 0xd (nests, IF on)    ──▶  irq   queues on L2: node 2
 *        IPI class 0xe (nests)           ──▶  irq   queues on L3: node 3
 *        NMI                             ──▶  nmi   no node left: trylock spin
 *        release Ln, L3, L2, L1, L0      ◀──  each level gets its lock, returns
 *
 *    A checks each step from outside: L_k's tail must name (B, k), and B's
 *    nesting count must reach 5 for the overflow. With native locks A also
 *    sets the pending bit of the locks it holds (it plays the pending waiter
 *    too), so B queues instead of taking the pending slot.
 *
 * Every locktorture.interval_s seconds:
 *     locktorture: Writes:  Total: N  Max/Min: a/b  Fail: f
 * (Max/Min over writers' acquisitions in the interval; "???" is appended
 * when max > 2 × min — unfairness; "!!!" on any failure.) A writer that
 * makes no progress for locktorture.stall_s seconds is a failure ("stall"),
 * checked from its CPU's torture timer, so it is seen even when the stuck
 * writer starves every thread on that CPU; so is a watchdog report. A hang
 * that stops every CPU is left to the lockup watchdog (watchdog.panic=1
 * ends the run with it). At the end: totals, the nesting summary and
 * "End of test: SUCCESS|FAILURE"; with torture.lock=1 the machine powers off
 * with that verdict (locktorture.poweroff=0 keeps it running). `locktorture
 * end` in the shell ends a running test early, with its verdict.
 *
 * The injected lock bugs (locktorture.bug=, see docs/locking.md) are what
 * this test must catch: scenarios locktorture-bug-*.
 */
#include <asm/apic.h>
#include <asm/cpu.h>
#include <grace/cpumask.h>
#include <grace/delay.h>
#include <grace/irq.h>
#include <grace/kthread.h>
#include <grace/lock_types.h>
#include <grace/lockstat.h>
#include <grace/mm.h>
#include <grace/param.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/qspinlock_pv.h>
#include <grace/random.h>
#include <grace/reboot.h>
#include <grace/sched.h>
#include <grace/shell.h>
#include <grace/simple_locks.h>
#include <grace/smp.h>
#include <grace/spinlock.h>
#include <grace/string.h>
#include <grace/time.h>
#include <grace/timer.h>
#include <grace/torture.h>
#include <grace/watchdog.h>

static bool torture_lock;
static char lt_type_param[12] = "qspinlock";
static int lt_duration_s = 10;
static int lt_interval_s = 1;
static int lt_writers;              /* 0: one per online CPU */
static bool lt_irq = true;
static int lt_stall_s = 5;
static int lt_long_hold_us = 2000;
static bool lt_poweroff = true;
param_bool("torture.lock", torture_lock, "run the lock torture test at boot");
param_string("locktorture.type", lt_type_param, "lock under test: qspinlock|tas|ticket");
param_int("locktorture.duration_s", lt_duration_s, 1, 86400, "how long the lock torture runs");
param_int("locktorture.interval_s", lt_interval_s, 1, 3600, "seconds between statistics lines");
param_int("locktorture.writers", lt_writers, 0, NR_CPUS_MAX, "writer threads (0: one per online CPU)");
param_bool("locktorture.irq", lt_irq, "irq and NMI handlers take torture locks; nesting chain");
param_int("locktorture.stall_s", lt_stall_s, 1, 3600, "a writer without progress this long is a failure");
param_int("locktorture.long_hold_us", lt_long_hold_us, 0, 1000000, "length of the rare long holds");
param_bool("locktorture.poweroff", lt_poweroff, "power off with the verdict when torture.lock=1 ends");

struct lt_writer {
	struct task_struct *task;
	unsigned int id, cpu;
	u64 rng;
	u64 acquisitions;        /* written by the writer only */
	u64 seen;                /* the stats thread's last look */
	u64 stall_seen;          /* the stall check's last look (its CPU's timer) */
	u64 last_progress_ns;
	bool stalled, exited;
};

static struct {
	enum lock_type type;
	const char *backend;
	unsigned int nr_writers;
	struct lt_writer *w;
	volatile bool stop;
	u64 start_ns;
	int errors;              /* failures of any kind */
} lt;

static union any_lock lt_lock;
static bool lt_end_now;    /* `locktorture end`: finish the running test early */
static bool lt_running;

/* ---- small helpers ---- */

static void lt_error(const char *what)
{
	__atomic_add_fetch(&lt.errors, 1, __ATOMIC_RELAXED);
	printk("locktorture: FAIL %s !!!\n", what);
}

static void lt_lock_acquire(void)
{
	preempt_disable();
	any_lock_acquire(lt.type, &lt_lock);
}

static void lt_lock_release(void)
{
	any_lock_release(lt.type, &lt_lock);
	preempt_enable();
}

/*
 * The exclusivity check of one torture lock. Inside the critical section the
 * occupancy count must go 0 -> 1, and the owner we wrote must still be ours
 * after the hold; each violation counts in `fail`.
 */
struct cs_check {
	u32 inside;
	int owner;
	u64 fail;
	u64 acquired;            /* plain ++ under the lock: a lost update shows */
};

static void cs_enter(struct cs_check *c, int me)
{
	if (__atomic_add_fetch(&c->inside, 1, __ATOMIC_SEQ_CST) != 1)
		__atomic_add_fetch(&c->fail, 1, __ATOMIC_RELAXED);
	WRITE_ONCE(c->owner, me);
}

static void cs_exit(struct cs_check *c, int me)
{
	if (READ_ONCE(c->owner) != me)
		__atomic_add_fetch(&c->fail, 1, __ATOMIC_RELAXED);
	c->acquired++;
	__atomic_sub_fetch(&c->inside, 1, __ATOMIC_SEQ_CST);
}

static void cs_reset(struct cs_check *c)
{
	*c = (struct cs_check){ .owner = -1 };
}

/* ---- the nesting chain ---- */

#define NEST_LEVELS 4              /* L0 (task) .. L3 (third nested irq) */
static spinlock_t nest_lock[NEST_LEVELS] = { SPINLOCK_INIT, SPINLOCK_INIT, SPINLOCK_INIT, SPINLOCK_INIT };
static DEFINE_SPINLOCK(nest_nmi_lock);
static u32 chain_req[NR_CPUS_MAX];   /* coordinator -> writer: take L0 now */
static int chain_target = -1;        /* CPU under the chain (timers/NMIs keep off it) */
static u64 chain_done[NEST_LEVELS + 1];
static struct {
	u64 ok, skipped;
} chain_st;

static void nest_irq(struct pt_regs *regs, void *data)
{
	unsigned int k = (unsigned int)(uintptr_t)data;

	(void)regs;
	/* Interrupts back on while we wait, so the next class can nest here. */
	sti();
	spin_lock(&nest_lock[k]);
	spin_unlock(&nest_lock[k]);
	cli();
	__atomic_add_fetch(&chain_done[k], 1, __ATOMIC_RELEASE);
}

/* No pv_nmi_lock_enter() needed: the coordinator keeps preemption off for
 * the whole chain, so a live backend switch cannot reach stop_machine's RUN
 * stage until this NMI has its lock and is gone. */
static void nest_nmi(struct pt_regs *regs)
{
	(void)regs;
	spin_lock(&nest_nmi_lock);
	spin_unlock(&nest_nmi_lock);
	__atomic_add_fetch(&chain_done[NEST_LEVELS], 1, __ATOMIC_RELEASE);
}

static bool tail_is(spinlock_t *l, unsigned int cpu, unsigned int idx)
{
	u32 v = queued_spin_value(&l->q);

	return (v & _Q_TAIL_MASK) == qspinlock_encode_tail(cpu, idx);
}

/*
 * Also play the pending waiter, so a native newcomer must queue. Whether
 * the pending bit was set is remembered per lock: the backend may be
 * switched live (V2, no stop_machine) between hold and drop.
 */
static bool pending_held[NEST_LEVELS + 1];

static void hold_pending(spinlock_t *l, unsigned int i)
{
	pending_held[i] = !qspinlock_pv_active;
	if (pending_held[i])
		__atomic_fetch_or(&l->q.val, _Q_PENDING_VAL, __ATOMIC_RELAXED);
}

static void drop_pending(spinlock_t *l, unsigned int i)
{
	if (pending_held[i])
		__atomic_store_n(&l->q.pending, 0, __ATOMIC_RELAXED);
}

static void kick_nest_ipi(unsigned int cpu, unsigned int k)
{
	/* A halted PV waiter takes it too: it halts with interrupts on. */
	lapic_send_ipi(cpu_physical_id(cpu), APIC_ICR_FIXED, (u8)LOCKTORTURE_NEST_VECTOR(k));
}

/*
 * One chain on `target`, driven from this CPU with preemption off. Returns
 * false on a real failure (a step that did not happen within its time).
 */
static bool nest_chain(unsigned int target)
{
	u64 done[NEST_LEVELS + 1];
	bool ok = true;
	char msg[96];
	unsigned int k, reached = 0;

	for (k = 0; k <= NEST_LEVELS; k++)
		done[k] = __atomic_load_n(&chain_done[k], __ATOMIC_ACQUIRE);
	WRITE_ONCE(chain_target, (int)target);
	for (k = 0; k < NEST_LEVELS; k++) {
		spin_lock(&nest_lock[k]);
		hold_pending(&nest_lock[k], k);
	}
	spin_lock(&nest_nmi_lock);
	hold_pending(&nest_nmi_lock, NEST_LEVELS);

	__atomic_store_n(&chain_req[target], 1, __ATOMIC_RELEASE);
	if (!spin_until(tail_is(&nest_lock[0], target, 0), 1000)) {
		if (__atomic_exchange_n(&chain_req[target], 0, __ATOMIC_ACQ_REL)) {
			chain_st.skipped++;   /* its writer never came round: not a failure */
			goto release;
		}
		if (!spin_until(tail_is(&nest_lock[0], target, 0), 4000)) {
			snprintf(msg, sizeof(msg), "chain: CPU %u did not queue on L0 with node 0", target);
			lt_error(msg);
			ok = false;
			goto release;
		}
	}
	reached = 1;
	for (k = 1; k < NEST_LEVELS; k++) {
		kick_nest_ipi(target, k);
		if (!spin_until(tail_is(&nest_lock[k], target, k), 5000)) {
			snprintf(msg, sizeof(msg), "chain: CPU %u did not queue on L%u with node %u",
				 target, k, k);
			lt_error(msg);
			ok = false;
			goto release;
		}
		reached = k + 1;
	}
	if (!spin_until(smp_send_nmi_call(target, nest_nmi), 1000)) {
		lt_error("chain: could not send the NMI");
		ok = false;
		goto release;
	}
	if (!spin_until(READ_ONCE(qnodes[target].nesting) >= _Q_MAX_NODES + 1, 5000)) {
		snprintf(msg, sizeof(msg), "chain: CPU %u's NMI did not reach the overflow path", target);
		lt_error(msg);
		ok = false;
		goto release;
	}
	reached = NEST_LEVELS + 1;
	udelay(20);   /* let it spin on trylock a little */

release:
	/* Innermost first: each level can only finish after the one above it. */
	drop_pending(&nest_nmi_lock, NEST_LEVELS);
	spin_unlock(&nest_nmi_lock);
	if (reached > NEST_LEVELS &&
	    !spin_until(__atomic_load_n(&chain_done[NEST_LEVELS], __ATOMIC_ACQUIRE) > done[NEST_LEVELS], 5000)) {
		lt_error("chain: the NMI never got its lock");
		ok = false;
	}
	for (k = NEST_LEVELS; k-- > 0;) {
		drop_pending(&nest_lock[k], k);
		spin_unlock(&nest_lock[k]);
		if (k < reached &&
		    !spin_until(__atomic_load_n(&chain_done[k], __ATOMIC_ACQUIRE) > done[k], 5000)) {
			snprintf(msg, sizeof(msg), "chain: level %u on CPU %u never got its lock", k, target);
			lt_error(msg);
			ok = false;
		}
	}
	WRITE_ONCE(chain_target, -1);
	if (ok && reached > NEST_LEVELS)
		chain_st.ok++;
	return ok;
}

/* ---- irq and NMI torture locks ---- */

static DEFINE_SPINLOCK(lt_irq_lock);
static DEFINE_SPINLOCK(lt_nmi_lock);
static struct cs_check writer_cs, irq_cs, nmi_cs;
static DEFINE_PER_CPU(struct timer_list, lt_timer);
static DEFINE_PER_CPU(u64, lt_timer_rng);

/* An interrupt's or NMI's short critical section on its torture lock. */
static void irq_nmi_cs(spinlock_t *l, struct cs_check *c, int me)
{
	spin_lock(l);
	cs_enter(c, me);
	udelay(1);
	cs_exit(c, me);
	spin_unlock(l);
}

static void lt_nmi(struct pt_regs *regs)
{
	int me = (int)smp_processor_id();

	(void)regs;
	/* A live PV backend switch may be flipping the unlock form right now
	 * (pv_switch.c): NMI-context lock users keep away meanwhile. */
	if (!pv_nmi_lock_enter())
		return;
	irq_nmi_cs(&lt_nmi_lock, &nmi_cs, me);
	pv_nmi_lock_exit();
}

/*
 * From this CPU's torture timer (interrupt context, so it runs even when a
 * stuck writer keeps the CPU's threads from running): a writer of this CPU
 * whose count has not moved for locktorture.stall_s is a failure.
 */
static void lt_check_stall(unsigned int cpu)
{
	u64 now = ktime_get_ns();

	for (unsigned int i = 0; i < lt.nr_writers; i++) {
		struct lt_writer *w = &lt.w[i];
		u64 a;

		if (w->cpu != cpu || w->stalled)
			continue;
		a = __atomic_load_n(&w->acquisitions, __ATOMIC_RELAXED);
		if (a != w->stall_seen) {
			w->stall_seen = a;
			w->last_progress_ns = now;
		} else if (now - w->last_progress_ns >= (u64)lt_stall_s * 1000000000ULL) {
			char msg[96];

			w->stalled = true;
			snprintf(msg, sizeof(msg), "writer %u on CPU %u made no progress for %d s (stall)",
				 w->id, w->cpu, lt_stall_s);
			lt_error(msg);
		}
	}
}

static void lt_timer_fn(struct timer_list *t)
{
	unsigned int cpu = smp_processor_id();
	u64 *rng = this_cpu_ptr(&lt_timer_rng);
	u64 r = prandom_next(rng);

	if (READ_ONCE(lt.stop))
		return;
	lt_check_stall(cpu);
	if (lt_irq && READ_ONCE(chain_target) != (int)cpu) {
		if (r & 1)
			irq_nmi_cs(&lt_irq_lock, &irq_cs, (int)cpu);   /* interrupts are off */
		if ((r >> 8) % 8 == 0 && num_online_cpus() > 1) {
			unsigned int to = (unsigned int)((r >> 16) % nr_cpu_ids);

			if (to != cpu && cpu_online(to) && READ_ONCE(chain_target) != (int)to)
				smp_send_nmi_call(to, lt_nmi);
		}
	}
	mod_timer(t, jiffies + 1);
}

/* ---- writers ---- */

static int lt_writer_fn(void *arg)
{
	struct lt_writer *w = arg;
	int me = (int)w->cpu;
	u64 long_odds = 2000ULL * lt.nr_writers;

	while (!READ_ONCE(lt.stop)) {
		u64 r = prandom_next(&w->rng);

		/*
		 * Level 0 of the nesting chain: queue on L0 from task context,
		 * interrupts on, so the chain's IPIs land in this slow path. Only
		 * on the CPU the request is for: after hotplug broke this writer's
		 * binding it may run elsewhere, and its queue node would name
		 * another CPU than the chain waits for (the chain then counts the
		 * request as skipped). Preemption stays off from the check to the
		 * queueing, so the writer cannot move in between.
		 */
		preempt_disable();
		if ((unsigned int)smp_processor_id() == w->cpu &&
		    __atomic_load_n(&chain_req[w->cpu], __ATOMIC_ACQUIRE) &&
		    __atomic_exchange_n(&chain_req[w->cpu], 0, __ATOMIC_ACQ_REL)) {
			spin_lock(&nest_lock[0]);
			spin_unlock(&nest_lock[0]);
			__atomic_add_fetch(&chain_done[0], 1, __ATOMIC_RELEASE);
		}
		preempt_enable();

		lt_lock_acquire();
		cs_enter(&writer_cs, me);
		if (lt_long_hold_us && r % long_odds == 0)
			udelay((unsigned long)lt_long_hold_us);   /* rare long hold */
		else if ((r >> 20) % 4 == 0)
			udelay(1 + (r >> 24) % 3);             /* short random hold */
		cs_exit(&writer_cs, me);
		lt_lock_release();
		__atomic_store_n(&w->acquisitions, w->acquisitions + 1, __ATOMIC_RELAXED);

		if ((r >> 32) % 64 == 0)
			cond_resched();
		if ((r >> 40) % 4 == 0)
			udelay(1);   /* think time outside the lock */
	}
	__atomic_store_n(&w->exited, true, __ATOMIC_RELEASE);
	return 0;
}

/* ---- statistics and verdict ---- */

static void lt_interval(u64 now)
{
	u64 total = 0, max = 0, min = ~0ULL, fail;

	for (unsigned int i = 0; i < lt.nr_writers; i++) {
		struct lt_writer *w = &lt.w[i];
		u64 a = __atomic_load_n(&w->acquisitions, __ATOMIC_RELAXED);
		u64 d = a - w->seen;

		w->seen = a;
		total += a;
		if (d > max)
			max = d;
		if (d < min)
			min = d;
	}
	fail = writer_cs.fail + irq_cs.fail + nmi_cs.fail;
	printk("locktorture: Writes:  Total: %llu  Max/Min: %llu/%llu  Fail: %llu%s%s\n",
	       (unsigned long long)total, (unsigned long long)max, (unsigned long long)min,
	       (unsigned long long)fail, max > 2 * min ? " ???" : "",
	       fail || lt.errors ? " !!!" : "");
}

/* Per-CPU torture timers (stall check; irq/NMI locks) and the nest vectors. */
static void lt_setup_irq(bool on)
{
	unsigned int cpu, k;

	if (on) {
		for (k = 1; lt_irq && k < NEST_LEVELS; k++)
			if (request_irq_vector(LOCKTORTURE_NEST_VECTOR(k), nest_irq,
					       (void *)(uintptr_t)k, "locktorture-nest"))
				printk("locktorture: vector %#x busy\n", LOCKTORTURE_NEST_VECTOR(k));
		for_each_online_cpu(cpu) {
			struct timer_list *t = &per_cpu(lt_timer, cpu);

			per_cpu(lt_timer_rng, cpu) = 0x2545F4914F6CDD1DULL * (cpu + 1) ^ ktime_get_ns();
			timer_setup(t, lt_timer_fn, 0);
			t->expires = jiffies + 1;
			add_timer_on(t, cpu);
		}
		return;
	}
	for_each_online_cpu(cpu)
		del_timer_sync(&per_cpu(lt_timer, cpu));
	for (k = 1; lt_irq && k < NEST_LEVELS; k++)
		free_irq_vector(LOCKTORTURE_NEST_VECTOR(k));
}

/* Run the whole test in the calling thread; returns 0 on success. */
int locktorture_run(const char *type, int seconds)
{
	unsigned long wd_soft = watchdog_soft_reports, wd_hard = watchdog_hard_reports;
	unsigned int online = num_online_cpus(), cpu, i;
	u64 sum = 0, chains_tried = 0, end, next, rng;
	u64 ovf0, ev0[LS_NR_EVENTS];
	enum lock_class cls;

	memset(&lt, 0, sizeof(lt));
	__atomic_store_n(&lt_end_now, false, __ATOMIC_RELAXED);
	if (!lock_type_parse(type, &lt.type)) {
		printk("locktorture: unknown lock type \"%s\" (qspinlock|tas|ticket)\n", type);
		return -1;
	}
	lt.nr_writers = lt_writers ? (unsigned int)lt_writers : online;
	lt.w = kzalloc(sizeof(*lt.w) * lt.nr_writers);
	if (!lt.w) {
		printk("locktorture: no memory for %u writers\n", lt.nr_writers);
		return -1;
	}
	any_lock_init(lt.type, &lt_lock);
	cs_reset(&writer_cs);
	cs_reset(&irq_cs);
	cs_reset(&nmi_cs);
	memset(&chain_st, 0, sizeof(chain_st));
	lt.backend = lt.type == LOCK_QSPINLOCK ? pv_lock_ops.name : "none";
	cls = lt.type == LOCK_TAS ? LOCK_CLASS_TAS : lt.type == LOCK_TICKET ? LOCK_CLASS_TICKET :
	      lockstat_qspinlock_class();
	for (i = 0; i < LS_NR_EVENTS; i++)
		ev0[i] = lockstat_total(cls, (enum lockstat_event)i);
	/* The chain's locks are spinlock_t whatever the type under test. */
	ovf0 = lockstat_total(lockstat_qspinlock_class(), LS_NEST_OVERFLOW);
	printk("locktorture: type %s, backend %s, %u writers on %u CPUs, %d s, interval %d s, "
	       "irq/NMI locks %s\n", lock_type_name(lt.type), lt.backend, lt.nr_writers, online,
	       seconds, lt_interval_s, lt_irq ? "on" : "off");

	lt.start_ns = ktime_get_ns();
	__atomic_store_n(&lt_running, true, __ATOMIC_RELEASE);
	rng = 0x9E3779B97F4A7C15ULL ^ lt.start_ns;
	i = 0;
	for (unsigned int n = 0; n < lt.nr_writers; n++) {
		struct lt_writer *w = &lt.w[n];

		/* Writer n on the n-th online CPU (round robin). */
		do {
			cpu = i++ % nr_cpu_ids;
		} while (!cpu_online(cpu));
		w->id = n;
		w->cpu = cpu;
		w->rng = 0xA5A5A5A5A5ULL * (n + 1) ^ lt.start_ns;
		w->last_progress_ns = lt.start_ns;
		w->task = kthread_create(lt_writer_fn, w, "lt-writer/%u", n);
		if (!w->task) {
			printk("locktorture: cannot create writer %u\n", n);
			lt.nr_writers = n;
			break;
		}
		kthread_bind(w->task, cpu);
		get_task_struct(w->task);
		wake_up_process(w->task);
	}
	lt_setup_irq(true);

	end = lt.start_ns + (u64)seconds * 1000000000ULL;
	next = lt.start_ns + (u64)lt_interval_s * 1000000000ULL;
	for (;;) {
		u64 now = ktime_get_ns();

		if (now >= next || now >= end) {
			lt_interval(now);
			next += (u64)lt_interval_s * 1000000000ULL;
			/* One nesting chain per interval, on a random writer's CPU
			 * other than ours (qspinlock nodes do not depend on the type
			 * under test: the chain uses its own spinlock_t locks). */
			if (lt_irq && online > 1 && now < end) {
				unsigned int target;
				unsigned int start = (unsigned int)(prandom_next(&rng) % lt.nr_writers);

				preempt_disable();
				target = smp_processor_id();
				for (unsigned int n = 0; n < lt.nr_writers && target == smp_processor_id(); n++)
					target = lt.w[(start + n) % lt.nr_writers].cpu;
				/* The chain plays the native pending waiter and checks
				 * queue positions that depend on the backend: no live
				 * switch may change it half way (pv_switch.c). */
				if (target != smp_processor_id()) {
					chains_tried++;
					if (pv_switch_exclude_enter()) {
						nest_chain(target);
						pv_switch_exclude_exit();
					} else {
						chain_st.skipped++;
					}
				}
				preempt_enable();
			}
		}
		if (now >= end)
			break;
		if (__atomic_load_n(&lt_end_now, __ATOMIC_ACQUIRE)) {
			lt_interval(now);
			break;
		}
		msleep(50);
	}

	WRITE_ONCE(lt.stop, true);
	__atomic_store_n(&lt_running, false, __ATOMIC_RELEASE);
	lt_setup_irq(false);
	for (i = 0; i < lt.nr_writers; i++) {
		struct lt_writer *w = &lt.w[i];

		/* A writer stuck in the lock (an injected bug) never exits: report
		 * it and leave it rather than hang the verdict. */
		if (!spin_until(__atomic_load_n(&w->exited, __ATOMIC_ACQUIRE), 3000) ) {
			char msg[80];

			snprintf(msg, sizeof(msg), "writer %u on CPU %u is stuck in the lock (stall)",
				 w->id, w->cpu);
			lt_error(msg);
			continue;
		}
		kthread_stop(w->task);
		put_task_struct(w->task);
		sum += w->acquisitions;
	}
	if (!lt.errors && writer_cs.acquired != sum) {
		char msg[96];

		snprintf(msg, sizeof(msg), "counter %llu != %llu acquisitions (lost updates)",
			 (unsigned long long)writer_cs.acquired, (unsigned long long)sum);
		lt_error(msg);
	}
	if (writer_cs.fail || irq_cs.fail || nmi_cs.fail) {
		char msg[96];

		snprintf(msg, sizeof(msg), "mutual exclusion violated: writers %llu, irq %llu, nmi %llu",
			 (unsigned long long)writer_cs.fail, (unsigned long long)irq_cs.fail,
			 (unsigned long long)nmi_cs.fail);
		lt_error(msg);
	}
	if (watchdog_soft_reports != wd_soft || watchdog_hard_reports != wd_hard)
		lt_error("the lockup watchdog reported during the test");
	printk("locktorture: totals: %llu acquisitions by %u writers, irq lock %llu, NMI lock %llu\n",
	       (unsigned long long)sum, lt.nr_writers, (unsigned long long)irq_cs.acquired,
	       (unsigned long long)nmi_cs.acquired);
	{
		char line[256];
		int n = 0;

		for (i = 0; i < LS_NR_EVENTS && n < (int)sizeof(line); i++)
			n += snprintf(line + n, sizeof(line) - (size_t)n, " %s %llu",
				      lockstat_event_names[i],
				      (unsigned long long)(lockstat_total(cls, (enum lockstat_event)i) - ev0[i]));
		printk("locktorture: %s events:%s\n", lock_class_names[cls], line);
	}
	if (lt_irq)
		printk("locktorture: nesting chains: %llu tried, %llu complete (nodes 0-3 queued, "
		       "nesting overflows %llu), %llu skipped\n", (unsigned long long)chains_tried,
		       (unsigned long long)chain_st.ok,
		       (unsigned long long)(lockstat_total(lockstat_qspinlock_class(), LS_NEST_OVERFLOW) - ovf0),
		       (unsigned long long)chain_st.skipped);
	printk("End of test: %s\n", lt.errors ? "FAILURE" : "SUCCESS");
	if (!lt.errors)
		kfree(lt.w);   /* (a stuck writer still points into it otherwise) */
	return lt.errors ? -1 : 0;
}

static int lt_boot_thread(void *arg)
{
	int ret;

	(void)arg;
	ret = locktorture_run(lt_type_param, lt_duration_s);
	if (lt_poweroff)
		machine_poweroff(ret == 0);
	return ret;
}

void locktorture_start(void)
{
	if (torture_lock)
		kthread_run(lt_boot_thread, NULL, "locktorture");
}

static int cmd_locktorture(int argc, char **argv)
{
	const char *type = argc > 1 ? argv[1] : lt_type_param;
	int seconds = lt_duration_s;

	if (argc > 3 || (argc > 1 && !strcmp(argv[1], "help")))
		return 1;   /* the shell prints the usage line */
	if (argc == 2 && !strcmp(argv[1], "end")) {
		/* End the test running in another thread (torture.lock=1) now,
		 * with its verdict: a scenario's autorun ends it when its load
		 * phase (e.g. `pvspin flip N`) is over. */
		if (!__atomic_load_n(&lt_running, __ATOMIC_ACQUIRE)) {
			printk("locktorture: no test is running\n");
			return SHELL_CMD_FAILED;
		}
		__atomic_store_n(&lt_end_now, true, __ATOMIC_RELEASE);
		return 0;
	}
	if (argc > 2) {
		long long v;

		if (kstrtoll(argv[2], 10, &v) || v < 1 || v > 86400) {
			printk("locktorture: SECONDS must be 1..86400\n");
			return 1;
		}
		seconds = (int)v;
	}
	return locktorture_run(type, seconds) ? SHELL_CMD_FAILED : 0;
}
SHELL_COMMAND(locktorture, "locktorture", "locktorture [qspinlock|tas|ticket] [SECONDS] | locktorture end",
	      "run the lock torture test on all online CPUs", cmd_locktorture);
