/*
 * pv_switch_nmi.c — ktest "locking.pv_switch_nmi": the live backend switch
 * against lock users in NMI context, in a tight loop.
 *
 * The property: pv_spinlock_switch() flips the unlock form and the meaning
 * of the pending bit while no CPU is in a lock slow path. Tasks and
 * interrupt handlers are kept out by stop_machine(); NMIs are not, so NMI
 * lock users bracket their critical sections with pv_nmi_lock_enter()/exit()
 * and the switcher waits for them to drain (pv_switch.c). If that handshake
 * is wrong, an NMI is inside a slow path of one backend while the lock word
 * is read by the other: two CPUs in the critical section, a lost count, or a
 * waiter that is never kicked.
 *
 * Every online CPU but the test's runs a thread that sends NMIs to the other
 * CPUs as fast as they are taken; each NMI takes one shared lock (when the
 * handshake lets it) and increments a plain counter inside, checking nobody
 * else is inside. Meanwhile the test thread switches native <-> halt+IPI as
 * fast as it can for 4 s. Checked: no switch between an NMI's lock and
 * unlock (the backend it read before locking is still there after
 * unlocking), no overlap in the critical section, the
 * plain counter equals the number of NMIs that got in, every switch returned
 * 0 or -EBUSY, and both the switches and the NMIs actually happened (at least
 * 4 switches and 20 NMIs, one of them inside the lock; each NMI passes
 * itself on to the next CPU, so NMIs keep arriving during the switch:
 * under TCG on two host cores a switch's stop_machine takes ~0.3 s, so the
 * rates are low; with KVM they are far higher). Needs the IPI backend (pvspin=ipi)
 * and 3 CPUs; scenario locking-pv-switch-nmi. locking.pv_switch_nmi_v2 is
 * the same storm against V2 switches, which count NMI lock operations
 * instead of keeping NMIs away. Its check: the switch point (where
 * qspinlock_pv_active flips) never falls between an NMI's slow-path
 * acquisition (this CPU's lockstat slow-path counters moved: nothing else
 * runs on it meanwhile) and its unlock. To make a miss certain rather than
 * lucky, an NMI that took the lock through the slow path under the old
 * flag on a CPU that has crossed the barrier holds it until the flag
 * changes or pv_switch_nmi.stretch_us (a counted hold keeps the switch
 * point off that long). Scenarios locking-pv-switch-nmi-v2 (with the
 * flag store held up by pvswitch.publish_delay_us), pvswitch-bug-nmi-count
 * and pvswitch-bug-late-flag.
 */
#include <asm/cpu.h>
#include <grace/errno.h>
#include <grace/cpumask.h>
#include <grace/ktest.h>
#include <grace/lockstat.h>
#include <grace/kthread.h>
#include <grace/param.h>
#include <grace/printk.h>
#include <grace/qspinlock.h>
#include <grace/qspinlock_pv.h>
#include <grace/sched.h>
#include <grace/smp.h>
#include <grace/spinlock.h>
#include <grace/string.h>
#include <grace/time.h>

#define SN_SECONDS 4
static int min_slow;
param_int("pv_switch_nmi.min_slow", min_slow, 0, 1000000,
	  "locking.pv_switch_nmi_v2: run until this many NMI slow paths (and 40 switches), at most 40 s");
/*
 * V2: an NMI that took the lock through the slow path while a switch is on
 * and the backend flag still names the old backend holds it until the flag
 * changes or this long: if that slow path is not counted (pvswitch.bug=
 * nmi_count) the switch point falls inside such a hold in nearly every
 * switch, where a 30 us hold caught it in some runs only. Counted, it holds
 * the switch point off for this long at most.
 */
static int stretch_us = 2000;
param_int("pv_switch_nmi.stretch_us", stretch_us, 0, 100000,
	  "locking.pv_switch_nmi_v2: an NMI slow-path hold under the old flag during a switch lasts until the flag changes or this long");
static int min_stretched;
param_int("pv_switch_nmi.min_stretched", min_stretched, 0, 100000,
	  "locking.pv_switch_nmi_v2: run until this many stretched holds, at most 40 s");

static DEFINE_SPINLOCK(sn_lock);
static struct {
	u64 counter;               /* plain, under sn_lock */
	u64 got, refused, sent;    /* atomics */
	u64 switched_under;        /* backend changed inside an NMI lock section */
	u64 slow_switched_under;   /* V2: the switch point fell inside a slow-path acquisition's hold */
	u64 slow;                  /* NMI acquisitions that went through the slow path */
	u64 stretched;             /* V2: slow-path holds stretched until the switch point or stretch_us */
	int inside, overlap;
	int stop, exited;
	bool v2;
	int stretching;            /* V2: a stretched hold is on (claimed by xchg) */
	u64 stayed_off;            /* V2: NMIs that left the lock alone during one */
	int switching;             /* V2: the test thread is inside pv_spinlock_switch() ... */
	bool from_pv;              /* ... from this value of qspinlock_pv_active */
} sn;

/* Pass the NMI on to the next online CPU: the storm goes on while every
 * CPU sits in the switch's stop_machine, where the senders cannot run. */
static void sn_nmi(struct pt_regs *regs);
static void sn_pass_on(void)
{
	unsigned int me = smp_processor_id(), cpu = cpumask_next_from(me + 1, &cpu_online_mask);

	if (cpu >= NR_CPUS)
		cpu = cpumask_first(&cpu_online_mask);
	if (READ_ONCE(sn.v2))
		return;   /* V2 stops no sender: the senders' NMIs are enough */
	if (!READ_ONCE(sn.stop) && cpu != me && smp_send_nmi_call(cpu, sn_nmi))
		__atomic_add_fetch(&sn.sent, 1, __ATOMIC_RELAXED);
}

/* This CPU's slow-path acquisitions of the queued spinlock, every backend
 * (a PV slow path that steals the lock at once counts only as a steal). */
static u64 sn_slow_events(void)
{
	const struct lockstat_row *r = &lockstat_cpu[smp_processor_id()];
	u64 n = 0;

	for (int c = LOCK_CLASS_QSPIN_NATIVE; c <= LOCK_CLASS_QSPIN_IPI; c++)
		n += r->n[c][LS_PENDING] + r->n[c][LS_QUEUED] + r->n[c][LS_NEST_OVERFLOW] + r->n[c][LS_STEAL];
	return n;
}

/*
 * Whether to stretch this hold (one at a time, claimed by xchg). Only on a
 * CPU that has crossed the barrier: before, the hold keeps its own CPU from
 * crossing and the switch point cannot come. Until every CPU has crossed,
 * the others must stay free to cross (a barrier IPI, or a lock operation in
 * task context): none may be stuck in an NMI waiting for our lock, so it is
 * stretched only with nobody queued or pending behind us, and NMIs that
 * arrive during it stay away. Once every CPU has crossed, any hold.
 */
static bool sn_stretch_claim(void)
{
	enum lockop_v2_phase ph = lockop_v2_phase();

	if (ph < LOCKOP_V2_CROSSED || __atomic_exchange_n(&sn.stretching, 1, __ATOMIC_SEQ_CST))
		return false;
	if (ph >= LOCKOP_V2_READY || !spin_is_contended(&sn_lock))
		return true;
	__atomic_store_n(&sn.stretching, 0, __ATOMIC_SEQ_CST);
	return false;
}

static void sn_nmi(struct pt_regs *regs)
{
	(void)regs;
	if (READ_ONCE(sn.v2) && __atomic_load_n(&sn.stretching, __ATOMIC_SEQ_CST)) {
		__atomic_add_fetch(&sn.stayed_off, 1, __ATOMIC_RELAXED);
		return;   /* a stretched hold is on: leave this CPU free to cross */
	}
	if (!pv_nmi_lock_enter()) {
		__atomic_add_fetch(&sn.refused, 1, __ATOMIC_RELAXED);
		sn_pass_on();
		return;
	}
	enum pv_backend before = READ_ONCE(pv_lock_ops.backend);

	u64 slow0 = sn_slow_events();

	spin_lock(&sn_lock);
	/* This CPU's slow-path counters moved: only we run here (an NMI is
	 * not interrupted), so we took the lock through the slow path. */
	bool slow = sn_slow_events() != slow0, active = READ_ONCE(qspinlock_pv_active);

	if (__atomic_add_fetch(&sn.inside, 1, __ATOMIC_SEQ_CST) != 1)
		WRITE_ONCE(sn.overlap, 1);
	u64 v = sn.counter;      /* a non-atomic increment: a second CPU inside loses one */

	/*
	 * V2: long holds, so that NMI slow paths overlap the switch point.
	 * V1, inside while a switch is on (only an NMI that was already inside
	 * when the flag went up may be, and stop_machine waits for it): stay
	 * 200 us, so that a user the flag failed to keep out straddles the
	 * moment the backend changes.
	 */
	if (READ_ONCE(sn.v2) && slow && stretch_us && READ_ONCE(sn.switching) &&
	    active == READ_ONCE(sn.from_pv) && sn_stretch_claim()) {
		u64 until = ktime_get_ns() + (u64)stretch_us * 1000;

		while (READ_ONCE(qspinlock_pv_active) == active && ktime_get_ns() < until)
			cpu_relax();
		__atomic_add_fetch(&sn.stretched, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&sn.stretching, 0, __ATOMIC_SEQ_CST);
	} else if (READ_ONCE(sn.v2))
		udelay(30);
	else
		udelay(__atomic_load_n(&pv_switch_in_progress, __ATOMIC_SEQ_CST) ? 200 : 2);
	sn.counter = v + 1;
	__atomic_sub_fetch(&sn.inside, 1, __ATOMIC_SEQ_CST);
	/*
	 * V2 counts an old slow path from its entry to its unlock, so the
	 * switch point (qspinlock_pv_active flips there) cannot fall between a
	 * slow-path acquisition and its unlock — unless NMI context is left out
	 * of the count (pvswitch.bug=nmi_count).
	 */
	if (slow) {
		__atomic_add_fetch(&sn.slow, 1, __ATOMIC_RELAXED);
		if (READ_ONCE(qspinlock_pv_active) != active)
			__atomic_add_fetch(&sn.slow_switched_under, 1, __ATOMIC_RELAXED);
	}
	spin_unlock(&sn_lock);
	/* The switch must not happen between our lock and unlock. */
	if (READ_ONCE(pv_lock_ops.backend) != before)
		__atomic_add_fetch(&sn.switched_under, 1, __ATOMIC_RELAXED);
	pv_nmi_lock_exit();
	__atomic_add_fetch(&sn.got, 1, __ATOMIC_RELAXED);
	sn_pass_on();
}

static int sn_sender(void *arg)
{
	unsigned int skip = (unsigned int)(uintptr_t)arg, cpu;

	while (!READ_ONCE(sn.stop)) {
		for_each_online_cpu(cpu) {
			if (cpu == skip || cpu == smp_processor_id())
				continue;
			if (smp_send_nmi_call(cpu, sn_nmi))
				__atomic_add_fetch(&sn.sent, 1, __ATOMIC_RELAXED);
		}
		cpu_relax();
		/* V2's syncs and barrier need every CPU out of NMI context now
		 * and then: an unpaced storm keeps all of them inside for good. */
		if (READ_ONCE(sn.v2))
			udelay(20);
		if ((__atomic_load_n(&sn.sent, __ATOMIC_RELAXED) & 1023) == 0)
			cond_resched();
	}
	__atomic_add_fetch(&sn.exited, 1, __ATOMIC_RELEASE);
	return 0;
}

static void sn_run(struct ktest_ctx *t, bool v2)
{
	const char *name = v2 ? "locking.pv_switch_nmi_v2" : "locking.pv_switch_nmi";
	enum pv_backend boot = pv_lock_ops.backend;
	unsigned int me, cpu, nthreads = 0;
	int switches = 0, busy = 0, other = 0;
	char method[4];
	u64 end;


	if (num_online_cpus() < 3 || !pv_backend_ops(PV_IPI)) {
		printk("%s: needs 3 CPUs and the IPI backend; nothing to check\n", name);
		return;
	}
	/* V1: the handshake (NMIs stay away during a stop_machine switch).
	 * V2: no handshake; the #BP handler counts NMI lock operations like
	 * any other (lockop.c), and a switch may fall between an NMI's lock
	 * and unlock. */
	memcpy(method, lockop_method(), 3);
	method[3] = 0;
	lockop_set_method(v2 ? "v2" : "v1");
	sn.counter = sn.got = sn.refused = sn.sent = sn.switched_under = 0;
	sn.slow = sn.slow_switched_under = sn.stretched = 0;
	sn.switching = sn.stretching = 0;
	sn.stayed_off = 0;
	sn.inside = sn.overlap = sn.stop = sn.exited = 0;
	sn.v2 = v2;
	preempt_disable();
	me = smp_processor_id();
	preempt_enable();
	KTEST_EXPECT(set_cpus_allowed_ptr(current, cpumask_of(me)) == 0);
	for_each_online_cpu(cpu) {
		if (cpu == me)
			continue;
		struct task_struct *t = kthread_create(sn_sender, (void *)(uintptr_t)me, "pvnmi/%u", cpu);

		if (!t)
			break;
		kthread_bind(t, cpu);
		wake_up_process(t);
		nthreads++;
	}
	KTEST_EXPECT(nthreads > 0);
	end = ktime_get_ns() + (u64)(v2 ? 2 * SN_SECONDS : SN_SECONDS) * 1000000000ULL;
	/* V2 with pv_switch_nmi.min_slow=N: also until 40 switches and N NMI
	 * slow paths (a loaded host runs fewer of both per second); with
	 * pv_switch_nmi.min_stretched=N until N stretched holds; within 40 s. */
	u64 cap = ktime_get_ns() + 40ULL * 1000000000ULL;

	while (ktime_get_ns() < end ||
	       (v2 && ktime_get_ns() < cap &&
		((min_slow && (switches < 40 || __atomic_load_n(&sn.slow, __ATOMIC_RELAXED) < (u64)min_slow)) ||
		 __atomic_load_n(&sn.stretched, __ATOMIC_RELAXED) < (u64)min_stretched))) {
		enum pv_backend b = pv_lock_ops.backend == PV_NATIVE ? PV_IPI : PV_NATIVE;

		WRITE_ONCE(sn.from_pv, qspinlock_pv_active);
		__atomic_store_n(&sn.switching, 1, __ATOMIC_SEQ_CST);
		int ret = pv_spinlock_switch(b);

		__atomic_store_n(&sn.switching, 0, __ATOMIC_SEQ_CST);

		if (ret == 0)
			switches++;
		else if (ret == -EBUSY || (v2 && ret == -EAGAIN))
			busy++;
		else
			other++;
		/* Between switches the NMIs get in, under the new backend. */
		udelay(100 + (unsigned long)(ktime_get_ns() % 400));
		cond_resched();
	}
	WRITE_ONCE(sn.stop, 1);
	u64 deadline = ktime_get_ns() + 2000000000ULL;

	while (__atomic_load_n(&sn.exited, __ATOMIC_ACQUIRE) < (int)nthreads && ktime_get_ns() < deadline)
		msleep(1);
	msleep(5);   /* the last NMIs */
	KTEST_EXPECT_MSG(__atomic_load_n(&sn.exited, __ATOMIC_ACQUIRE) == (int)nthreads,
			 "%d of %u NMI senders finished", sn.exited, nthreads);
	if (pv_lock_ops.backend != boot)
		KTEST_EXPECT(pv_spinlock_switch(boot) == 0);
	set_cpus_allowed_ptr(current, &cpu_possible_mask);
	lockop_set_method(method);
	printk("%s: %d switches (%d refused busy or gave up), %llu NMIs sent, %llu took the lock, "
	       "%llu stayed away during a switch, %llu switched under an NMI's lock, %llu slow-path "
	       "acquisitions (%llu stretched, %llu with the switch point inside their hold), counter %llu, "
	       "%llu NMIs stayed off during a stretched hold\n",
	       name, switches, busy,
	       (unsigned long long)sn.sent, (unsigned long long)sn.got, (unsigned long long)sn.refused,
	       (unsigned long long)sn.switched_under, (unsigned long long)sn.slow,
	       (unsigned long long)sn.stretched,
	       (unsigned long long)sn.slow_switched_under, (unsigned long long)sn.counter,
	       (unsigned long long)sn.stayed_off);
	KTEST_EXPECT_MSG(!sn.slow_switched_under, "the switch point fell %llu times between an NMI's "
			 "slow-path acquisition and its unlock (an old slow path not counted, or a "
			 "new one run before the flag said so)",
			 (unsigned long long)sn.slow_switched_under);
	KTEST_EXPECT_MSG(v2 || !sn.switched_under, "the backend was switched %llu times while an NMI was between "
			 "its lock and unlock", (unsigned long long)sn.switched_under);
	/* V1: NMIs keep passing each other on while every CPU is in the
	 * switch's stop_machine, so some arrive while the flag is up; each must
	 * stay away (thousands do per run). None staying away means the flag
	 * is not looked at, whether or not one happened to straddle the change. */
	KTEST_EXPECT_MSG(v2 || switches == 0 || sn.refused > 0, "%d switches and not one NMI stayed away "
			 "during them: NMI lock users ignore the switch flag", switches);
	KTEST_EXPECT_MSG(!sn.overlap, "two NMIs inside the critical section at once");
	KTEST_EXPECT_MSG(sn.counter == sn.got, "counter %llu but %llu NMI critical sections",
			 (unsigned long long)sn.counter, (unsigned long long)sn.got);
	KTEST_EXPECT_MSG(other == 0, "%d switches failed with an unexpected error", other);
	/* Every lock a PV head hashed was unhashed by its PV unlock: with
	 * nobody waiting any more the hash is empty. An old PV slow path that
	 * the switch did not wait for leaves its entry behind (a native unlock
	 * of a lock marked slow). */
	KTEST_EXPECT_MSG(pv_hash_entries_in_use() == 0, "%u PV hash entries left with no lock waited for",
			 pv_hash_entries_in_use());
	KTEST_EXPECT_MSG(switches >= 4, "only %d switches in %d s", switches, SN_SECONDS);
	KTEST_EXPECT_MSG(sn.got >= 1 && sn.got + sn.refused >= 20,
			 "only %llu NMI critical sections (%llu kept away by a switch) in %d s",
			 (unsigned long long)sn.got, (unsigned long long)sn.refused, SN_SECONDS);
}

KTEST(pv_switch_nmi, "locking.pv_switch_nmi")
{
	sn_run(t, false);
}

/* The same storm against V2 switches: scenario locking-pv-switch-nmi-v2,
 * and pvswitch-bug-nmi-count (NMI lock operations left out of the count). */
KTEST(pv_switch_nmi_v2, "locking.pv_switch_nmi_v2")
{
	sn_run(t, true);
}
