/*
 * rcutorture.c — prove that no RCU grace period ends while a reader that
 * began before it is still running, under CPU hotplug, in every context.
 *
 * Boot with torture.rcu=1 (or run `rcutorture [SECONDS]` in the shell).
 * For rcutorture.duration_s seconds:
 *
 *  - The writer publishes a fresh element (rcu_assign_pointer), and retires
 *    the old one: its pipe count becomes 1 ("removed") and then grows by one
 *    per grace period that ends after the removal — through call_rcu (the
 *    callback counts and re-queues itself), synchronize_rcu, or a polled
 *    cookie (get/start/poll_state_synchronize_rcu), chosen at random. At
 *    RT_PIPE_LEN the element is freed: its mbtest is cleared and it goes
 *    back on the free list, to be published again.
 *
 *        removal   GP ends   GP ends          GP ends
 *   pipe:   1 ──────▶ 2 ──────▶ 3 ─── ... ───▶ 10 = freed, reused
 *
 *  - Readers (one thread per possible CPU, plus every CPU's timer interrupt,
 *    plus NMIs sent to random CPUs, plus the last gasps of every outgoing
 *    CPU with cpuhp.dying_delay_ms) take rcu_read_lock, pick up the current
 *    element, dawdle, and read its pipe count at the end. A reader that saw
 *    the element before it was removed can see 1 at most: 2 means a grace
 *    period ended while it was still reading — a too-short grace period.
 *    An element with mbtest 0 was freed under a reader.
 *  - Fake writers hammer synchronize_rcu / cond_synchronize_rcu / polling /
 *    rcu_barrier; timers queue call_rcu on every CPU so every CPU always
 *    has callbacks (what the barrier and migration paths need).
 *  - The barrier test (rcutorture.n_barrier_cbs callbacks on every online
 *    CPU, then rcu_barrier(), then all of them must have run).
 *  - With rcutorture.fwd_progress_ms, a callback flood every
 *    rcutorture.fwd_progress_holdoff_s: call_rcu() as fast as one thread
 *    can, callbacks reused as soon as they ran; grace periods must go on
 *    ending and the backlog stay within a bound (rcu_fwd_progress.c).
 *  - With rcutorture.onoff_interval_ms, a random non-boot CPU goes offline
 *    or online every interval; before every fourth offline the GP kthread
 *    is moved to the outgoing CPU, so its FQS timer is armed there. RCU's
 *    books must agree with the CPU's state when cpu_up/cpu_down return. Two hotplug states wait for RCU the way
 *    real subsystems' do: a DEAD callback (synchronize_rcu + rcu_barrier)
 *    and an ONLINE teardown on the outgoing CPU's hotplug thread
 *    (rcu_barrier). A third, a DYING step on the outgoing CPU itself
 *    (interrupts off, its tick already stopped, so nothing there can invoke
 *    them), queues rcutorture.n_strand_cbs callbacks on that CPU: every CPU
 *    taken down dies holding callbacks. When cpu_down() returns they must
 *    all have run — the DEAD step's rcu_barrier() waited for them, so they
 *    were migrated to a live CPU — or the CPU is named.
 *
 * Every rcutorture.stat_interval_s:
 *   rcutorture: Reader Pipe:  n0 n1 n2 ... n10        (" !!!" if n2.. > 0)
 *   rcutorture: Reader Batch:  b0 b1 ...             (GPs completed during a reader)
 *   rcutorture: Free-Block Circulation:  f0 .. f10   (elements that reached each stage)
 *   rcutorture: GPs so far: N  retire sync/poll/call_rcu: a/b/c  barriers: n  onoff: ok/tried offline, ok/tried online  max op ms
 * Failures (each a line with "!!!"): a too-short GP (pipe >= 2), a freed
 * element under a reader, no GP / no writer progress for rcutorture.stall_s
 * (stall), an rcu_barrier or a hotplug operation that has not returned after
 * rcutorture.stall_s (stall), a barrier callback that never ran, books that
 * disagree with the CPU after a hotplug operation. At the end:
 * "End of test: SUCCESS|FAILURE" (with torture.rcu=1 the machine powers off
 * with that verdict). A hang in a hotplug step or rcu_barrier is reported by
 * the stats loop, which never waits for either.
 * Follows locktorture.c's conventions. Scenarios: rcutorture-*, rcu-bug-*.
 */
#include <asm/cpu.h>
#include <grace/cpuhotplug.h>
#include <grace/cpumask.h>
#include <grace/delay.h>
#include <grace/irq.h>
#include <grace/kthread.h>
#include <grace/mm.h>
#include <grace/param.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/random.h>
#include <grace/rcupdate.h>
#include <grace/reboot.h>
#include <grace/sched.h>
#include <grace/shell.h>
#include <grace/smp.h>
#include <grace/spinlock.h>
#include <grace/string.h>
#include <grace/time.h>
#include <grace/timer.h>
#include <grace/torture.h>
#include <grace/watchdog.h>

#include "../rcu/tree.h"
#include "rcu_fwd_progress.h"

static bool torture_rcu;
static int rt_duration_s = 30;
static int rt_stat_interval_s = 2;
static int rt_nreaders;              /* 0: one per possible CPU */
static int rt_nfakewriters = 2;
static bool rt_irq_readers = true;
static bool rt_nmi_readers = true;
static int rt_n_barrier_cbs = 8;
static int rt_onoff_interval_ms;
static int rt_stall_s = 15;
static int rt_reader_long_us = 2000;
static int rt_reader_burst = 256;
static int rt_stall_cpu_s;
static int rt_n_strand_cbs = 4;
static bool rt_cpu_timers = true;
static bool rt_poweroff = true;
static bool rt_gp_exp;
static int rt_fwd_progress_ms;       /* 0: no callback floods */
static int rt_fwd_holdoff_s = 3;
static int rt_fwd_max_cbs = 50000;
param_bool("torture.rcu", torture_rcu, "run the RCU torture test at boot");
param_int("rcutorture.duration_s", rt_duration_s, 1, 86400, "how long rcutorture runs");
param_int("rcutorture.stat_interval_s", rt_stat_interval_s, 1, 3600, "seconds between statistics lines");
param_int("rcutorture.nreaders", rt_nreaders, 0, NR_CPUS_MAX, "reader threads (0: one per possible CPU)");
param_int("rcutorture.nfakewriters", rt_nfakewriters, 0, 64, "threads hammering the grace-period primitives");
param_bool("rcutorture.irq_readers", rt_irq_readers, "readers in every CPU's timer interrupt");
param_bool("rcutorture.nmi_readers", rt_nmi_readers, "readers in NMIs sent to random CPUs");
param_int("rcutorture.n_barrier_cbs", rt_n_barrier_cbs, 0, 1000, "callbacks per CPU for each barrier test (0: off)");
param_int("rcutorture.onoff_interval_ms", rt_onoff_interval_ms, 0, 600000, "random CPU hotplug every this many ms (0: off)");
param_int("rcutorture.stall_s", rt_stall_s, 1, 3600, "no GP, writer, barrier or hotplug progress this long is a failure");
param_int("rcutorture.reader_long_us", rt_reader_long_us, 0, 100000, "length of a reader's rare long dawdle");
param_int("rcutorture.reader_burst", rt_reader_burst, 1, 100000000, "reads between a reader's 1-tick naps");
param_int("rcutorture.stall_cpu_s", rt_stall_cpu_s, 0, 600,
	  "2 s in, one thread spins this long inside a reader (RCU must warn)");
param_int("rcutorture.n_strand_cbs", rt_n_strand_cbs, 0, 64,
	  "callbacks queued on every outgoing CPU in its DYING step (0: off)");
param_bool("rcutorture.cpu_timers", rt_cpu_timers,
	   "a timer on every CPU every tick (irq readers, NMIs, callbacks, the barrier test's posts); "
	   "0 lets idle CPUs stop their tick with nohz=1");
param_bool("rcutorture.poweroff", rt_poweroff, "power off with the verdict when torture.rcu=1 ends");
param_int("rcutorture.fwd_progress_ms", rt_fwd_progress_ms, 0, 60000,
	  "length of each callback flood of the forward-progress test (0: off; rcu_fwd_progress.c)");
param_int("rcutorture.fwd_progress_holdoff_s", rt_fwd_holdoff_s, 1, 3600,
	  "seconds of ordinary torture before each callback flood");
param_int("rcutorture.fwd_max_cbs", rt_fwd_max_cbs, 100, 1000000,
	  "flood callbacks that may be in flight at once (the stand-in for memory)");
param_bool("rcutorture.gp_exp", rt_gp_exp,
	   "the writer retires every element through synchronize_rcu_expedited and the fake writers call only it");

#define RT_PIPE_LEN 10
#define RT_NELEM    (10 * RT_PIPE_LEN)

struct rt_elem {
	struct rcu_head rh;
	int pipe_count;          /* 1 at removal, +1 per grace period after */
	int mbtest;              /* 1 while published or retiring; 0 when free */
	bool on_removed;
	struct rt_elem *next_free, *next_removed;
};

enum { RETIRE_SYNC, RETIRE_POLL, RETIRE_CALL, RETIRE_EXP, RETIRE_NR };

static struct {
	volatile bool stop;
	u64 start_ns;
	int errors;
	struct rt_elem elems[RT_NELEM];
	struct rt_elem *free_list;
	spinlock_t free_lock;
	struct rt_elem *removed;         /* the writer's, for sync/poll retirement */
	unsigned long retire[RETIRE_NR];
	unsigned long alloc_fail, mberr;
	unsigned long writer_version;
	u64 circulation[RT_PIPE_LEN + 1];
	unsigned long fake_ops;
	/* barrier test */
	unsigned long barriers, barrier_posted, barrier_invoked;
	u64 barrier_since_ns;            /* 0: not inside rcu_barrier() */
	/* hotplug */
	unsigned long off_ok, off_tried, on_ok, on_tried;
	u64 op_since_ns, op_max_ns;
	int op_cpu;
	bool op_down;
	unsigned long strand_posted, strand_invoked, strand_ops, gp_hops;
	unsigned long fwd_floods, fwd_ok;    /* callback floods run, and passed */
	unsigned int nthreads;
	struct task_struct *threads[NR_CPUS_MAX + 70];
	int dead_state, online_state, dying_state;
} rt;

static struct rt_elem *rt_current;   /* published with rcu_assign_pointer */
static DEFINE_PER_CPU(u64 [RT_PIPE_LEN + 2], rt_pipe);
static DEFINE_PER_CPU(u64 [RT_PIPE_LEN + 2], rt_batch);
struct rt_timer {
	struct timer_list t;
	unsigned int home;
	bool set_up;
	unsigned long fires;
};
static DEFINE_PER_CPU(struct rt_timer, rt_timer);
static DEFINE_PER_CPU(u64, rt_timer_rng);
/* A callback head that is never queued twice: `queued` is set by whoever
 * posts it and cleared by its callback (which may run on another CPU after
 * a migration, so it finds the head's own flag through container_of). */
struct rt_cbhead {
	struct rcu_head rh;
	int queued;
};
#define RT_BARRIER_HEADS 64
static DEFINE_PER_CPU(struct rt_cbhead, rt_spread_head);
static DEFINE_PER_CPU(int, rt_barrier_req);   /* callbacks the timer still has to post */
static DEFINE_PER_CPU(struct rt_cbhead [RT_BARRIER_HEADS], rt_barrier_heads);
#define RT_STRAND_HEADS 64
static DEFINE_PER_CPU(struct rt_cbhead [RT_STRAND_HEADS], rt_strand_heads);

static void rt_error(const char *what)
{
	__atomic_add_fetch(&rt.errors, 1, __ATOMIC_RELAXED);
	printk("rcutorture: FAIL %s !!!\n", what);
}

/* ---- elements ---- */

static struct rt_elem *rt_alloc(void)
{
	unsigned long flags;
	struct rt_elem *p;

	spin_lock_irqsave(&rt.free_lock, flags);
	p = rt.free_list;
	if (p)
		rt.free_list = p->next_free;
	spin_unlock_irqrestore(&rt.free_lock, flags);
	return p;
}

static void rt_free(struct rt_elem *p)
{
	unsigned long flags;

	WRITE_ONCE(p->mbtest, 0);
	spin_lock_irqsave(&rt.free_lock, flags);
	p->next_free = rt.free_list;
	rt.free_list = p;
	spin_unlock_irqrestore(&rt.free_lock, flags);
}

static int rt_count_free(void)
{
	unsigned long flags;
	int n = 0;

	spin_lock_irqsave(&rt.free_lock, flags);
	for (struct rt_elem *p = rt.free_list; p; p = p->next_free)
		n++;
	spin_unlock_irqrestore(&rt.free_lock, flags);
	return n;
}

/* One more grace period has ended since p's removal; true when p is freed. */
static bool rt_pipe_update_one(struct rt_elem *p)
{
	int i = READ_ONCE(p->pipe_count);

	__atomic_add_fetch(&rt.circulation[MIN(i, RT_PIPE_LEN)], 1, __ATOMIC_RELAXED);
	WRITE_ONCE(p->pipe_count, i + 1);
	if (i + 1 >= RT_PIPE_LEN) {
		rt_free(p);
		return true;
	}
	return false;
}

/* After a full GP the writer waited for: every removed element ages. */
static void rt_pipe_update_removed(void)
{
	struct rt_elem **pp = &rt.removed;

	while (*pp) {
		struct rt_elem *p = *pp;

		*pp = p->next_removed;   /* unlink first: rt_free may reuse it */
		if (!rt_pipe_update_one(p)) {
			p->next_removed = *pp;   /* still retiring: back in place */
			*pp = p;
			pp = &p->next_removed;
		}
	}
}

static void rt_cb(struct rcu_head *rh)
{
	struct rt_elem *p = container_of(rh, struct rt_elem, rh);

	if (!rt_pipe_update_one(p))
		call_rcu(&p->rh, rt_cb);   /* one more grace period */
}

/* ---- readers ---- */

/* The body every reader shares; call with rcu_read_lock held. */
static void rt_read(u64 *rng, unsigned int long_us, unsigned int long_odds)
{
	unsigned long gp0 = rcu_gp_completed();
	struct rt_elem *p = rcu_dereference(rt_current);
	u64 r = prandom_next(rng);
	int pipe;
	unsigned long batch;

	if (!p)
		return;
	if (!READ_ONCE(p->mbtest))
		__atomic_add_fetch(&rt.mberr, 1, __ATOMIC_RELAXED);
	if (long_us && r % long_odds == 0)
		udelay(long_us / 4 + (r >> 32) % long_us);   /* a long reader */
	else if ((r >> 8) % 4 == 0)
		udelay(1 + (r >> 16) % 20);
	pipe = READ_ONCE(p->pipe_count);
	if (!READ_ONCE(p->mbtest))
		__atomic_add_fetch(&rt.mberr, 1, __ATOMIC_RELAXED);
	batch = rcu_gp_completed() - gp0;
	pipe = MIN(MAX(pipe, 0), RT_PIPE_LEN);
	__atomic_add_fetch(&this_cpu_ptr(&rt_pipe)[0][pipe], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&this_cpu_ptr(&rt_batch)[0][MIN(batch, (unsigned long)RT_PIPE_LEN)], 1,
			   __ATOMIC_RELAXED);
}

static int rt_reader_fn(void *arg)
{
	u64 rng = 0x9E3779B97F4A7C15ULL * ((unsigned long)arg + 1) ^ ktime_get_ns();
	unsigned long n = 0;

	while (!READ_ONCE(rt.stop)) {
		rcu_read_lock();
		rt_read(&rng, (unsigned int)rt_reader_long_us, 256);
		rcu_read_unlock();
		if (++n % 32 == 0)
			cond_resched();
		/* Readers come in bursts with idle gaps: CPUs also pass through
		 * idle (the FQS path), and on a 2-core host the writers and the
		 * GP kthread get their turn. */
		if (n % rt_reader_burst == 0)
			msleep(1);
	}
	return 0;
}

static DEFINE_PER_CPU(u64, rt_nmi_rng);

static void rt_nmi_reader(struct pt_regs *regs)
{
	(void)regs;
	/* NMIs reach offline CPUs too; readers there are not RCU's business. */
	if (!rcu_cpu_online(smp_processor_id()))
		return;
	rcu_read_lock();
	/* Every NMI reader dawdles: one that lands in idle must hold up
	 * any grace period that began before it. */
	rt_read(this_cpu_ptr(&rt_nmi_rng), 2000, 1);
	rcu_read_unlock();
}

/* The last gasps of an outgoing CPU: already out of cpu_online_mask, not yet
 * out of RCU's books, inside a reader (tree_hotplug.c), stalled. */
static void rt_last_gasp(unsigned int delay_ms)
{
	struct rt_elem *p = rcu_dereference(rt_current);
	int pipe;

	if (!p || READ_ONCE(rt.stop))
		return;
	mdelay(delay_ms);
	pipe = READ_ONCE(p->pipe_count);
	__atomic_add_fetch(&this_cpu_ptr(&rt_pipe)[0][MIN(MAX(pipe, 0), RT_PIPE_LEN)], 1,
			   __ATOMIC_RELAXED);
	if (!READ_ONCE(p->mbtest))
		__atomic_add_fetch(&rt.mberr, 1, __ATOMIC_RELAXED);
}

static void rt_spread_cb(struct rcu_head *rh)
{
	WRITE_ONCE(container_of(rh, struct rt_cbhead, rh)->queued, 0);
}

static void rt_barrier_cb(struct rcu_head *rh)
{
	__atomic_add_fetch(&rt.barrier_invoked, 1, __ATOMIC_RELAXED);
	WRITE_ONCE(container_of(rh, struct rt_cbhead, rh)->queued, 0);
}

static void rt_strand_cb(struct rcu_head *rh)
{
	__atomic_add_fetch(&rt.strand_invoked, 1, __ATOMIC_RELAXED);
	WRITE_ONCE(container_of(rh, struct rt_cbhead, rh)->queued, 0);
}

/* Every tick on every CPU: a reader in interrupt context, now and then an
 * NMI reader elsewhere, callbacks on this CPU. */
static void rt_timer_fn(struct timer_list *t)
{
	unsigned int cpu = smp_processor_id();
	u64 *rng = this_cpu_ptr(&rt_timer_rng);
	u64 r = prandom_next(rng);
	int *breq = this_cpu_ptr(&rt_barrier_req);

	if (READ_ONCE(rt.stop))
		return;
	WRITE_ONCE(container_of(t, struct rt_timer, t)->fires, container_of(t, struct rt_timer, t)->fires + 1);
	if (rt_irq_readers) {
		rcu_read_lock();
		rt_read(rng, 0, 1);
		rcu_read_unlock();
	}
	if (rt_nmi_readers && (r >> 8) % 4 == 0) {
		unsigned int to = (unsigned int)((r >> 16) % nr_cpu_ids);

		if (to != cpu && cpu_online(to))
			smp_send_nmi_call(to, rt_nmi_reader);
	}
	if ((r >> 32) % 4 == 0 && !READ_ONCE(this_cpu_ptr(&rt_spread_head)->queued)) {
		this_cpu_ptr(&rt_spread_head)->queued = 1;
		call_rcu(&this_cpu_ptr(&rt_spread_head)->rh, rt_spread_cb);
	}
	while (*breq > 0) {
		struct rt_cbhead *h = &this_cpu_ptr(&rt_barrier_heads)[0][--(*breq)];

		if (READ_ONCE(h->queued))
			continue;   /* still in flight from a late post */
		h->queued = 1;
		call_rcu(&h->rh, rt_barrier_cb);
		__atomic_add_fetch(&rt.barrier_posted, 1, __ATOMIC_RELAXED);
	}
	/* Re-arm here; a dead CPU's timer moved here goes home when it is back. */
	t->expires = jiffies + 1;
	{
		unsigned int home = container_of(t, struct rt_timer, t)->home;

		add_timer_on(t, cpu_online(home) ? home : cpu);
	}
}

/* ---- writers ---- */

static int rt_writer_fn(void *arg)
{
	u64 rng = 0xC0FFEEULL ^ ktime_get_ns();

	(void)arg;
	while (!READ_ONCE(rt.stop)) {
		struct rt_elem *p = rt_alloc(), *old;
		u64 r = prandom_next(&rng);

		if (!p) {
			rt.alloc_fail++;
			synchronize_rcu();
			rt_pipe_update_removed();
			continue;
		}
		p->pipe_count = 0;
		p->mbtest = 1;
		old = rcu_dereference_protected(rt_current, 1);
		rcu_assign_pointer(rt_current, p);
		rt.writer_version++;
		if (old) {
			/* Removed: 1. Readers that got it before now see at most 1. */
			__atomic_add_fetch(&rt.circulation[0], 1, __ATOMIC_RELAXED);
			WRITE_ONCE(old->pipe_count, 1);
			unsigned int how = rt_gp_exp ? RETIRE_EXP : (unsigned int)(r % RETIRE_NR);

			switch (how) {
			case RETIRE_CALL:
				call_rcu(&old->rh, rt_cb);
				break;
			case RETIRE_SYNC:
				old->next_removed = rt.removed;
				rt.removed = old;
				synchronize_rcu();
				rt_pipe_update_removed();
				break;
			case RETIRE_EXP:
				old->next_removed = rt.removed;
				rt.removed = old;
				synchronize_rcu_expedited();
				rt_pipe_update_removed();
				break;
			case RETIRE_POLL: {
				unsigned long cookie;

				old->next_removed = rt.removed;
				rt.removed = old;
				cookie = (r >> 8) & 1 ? start_poll_synchronize_rcu() : get_state_synchronize_rcu();
				if (!((r >> 8) & 1))
					cond_synchronize_rcu(cookie);
				while (!poll_state_synchronize_rcu(cookie) && !READ_ONCE(rt.stop))
					msleep(1);
				if (poll_state_synchronize_rcu(cookie))
					rt_pipe_update_removed();
				break;
			}
			}
			rt.retire[how]++;
		}
		if ((r >> 16) % 8 == 0)
			msleep(1);
		else
			cond_resched();
	}
	return 0;
}

static int rt_fakewriter_fn(void *arg)
{
	u64 rng = 0xFA4EULL * ((unsigned long)arg + 1) ^ ktime_get_ns();

	while (!READ_ONCE(rt.stop)) {
		u64 r = prandom_next(&rng);

		switch (rt_gp_exp ? 4 : r % 5) {
		case 4:
			synchronize_rcu_expedited();
			break;
		case 0:
			synchronize_rcu();
			break;
		case 1:
			cond_synchronize_rcu(get_state_synchronize_rcu());
			break;
		case 2: {
			unsigned long c = start_poll_synchronize_rcu();

			while (!poll_state_synchronize_rcu(c) && !READ_ONCE(rt.stop))
				msleep(1);
			break;
		}
		case 3:
			if ((r >> 8) % 8 == 0)
				rcu_barrier();
			break;
		}
		__atomic_add_fetch(&rt.fake_ops, 1, __ATOMIC_RELAXED);
		msleep(1 + (unsigned int)((r >> 16) % 8));
	}
	return 0;
}

/* ---- the callback flood (forward progress, rcu_fwd_progress.c) ---- */

static int rt_fwd_fn(void *arg)
{
	(void)arg;
	while (!READ_ONCE(rt.stop)) {
		struct rcu_fwd_result r;
		char why[160];
		bool flood_ok;
		int ret;

		for (int i = 0; i < rt_fwd_holdoff_s * 10 && !READ_ONCE(rt.stop); i++)
			msleep(100);
		if (READ_ONCE(rt.stop))
			break;
		ret = rcu_fwd_flood((unsigned int)rt_fwd_progress_ms, (unsigned int)rt_fwd_max_cbs,
				    &rt.stop, &r, why, sizeof(why));
		if (ret > 0)
			break;          /* the test ended under it: no verdict */
		rt.fwd_floods++;
		printk("rcutorture: fwd_progress: flood %llu ms on CPU %u..%u: %lu posted (%lu fresh), "
		       "%lu invoked, max in flight %lu, most laps %u, %lu GPs, %lu pool waits, "
		       "backlog %llu ms (bound %llu)%s\n",
		       (unsigned long long)(r.flood_ns / 1000000), r.cpu_first, r.cpu_last, r.posted,
		       r.fresh, r.invoked, r.max_in_flight, r.max_laps, r.gps, r.cap_waits,
		       (unsigned long long)(r.backlog_ns / 1000000), (unsigned long long)(r.bound_ns / 1000000),
		       ret ? " !!!" : "");
		flood_ok = !ret;
		if (ret) {
			rt_error(why);
			if (!r.posted)
				break;
		}
		/* Every callback of the flood runs, within the stall bound. */
		ret = rcu_fwd_drain((unsigned int)rt_stall_s * 1000, &rt.stop, &r, why, sizeof(why));
		if (ret > 0)
			break;
		if (ret) {
			rt_error(why);
			break;      /* its pool is still in use: no more floods */
		}
		printk("rcutorture: fwd_progress: the flood's %lu callbacks all ran %llu ms after it\n",
		       r.posted, (unsigned long long)(r.drain_ns / 1000000));
		if (flood_ok)
			rt.fwd_ok++;
	}
	return 0;
}

/* ---- the barrier test ---- */

static int rt_barrier_fn(void *arg)
{
	(void)arg;
	while (!READ_ONCE(rt.stop)) {
		unsigned int cpu;

		msleep(500);
		if (READ_ONCE(rt.stop))
			break;
		/* Every online CPU's timer posts n_barrier_cbs callbacks there. */
		for_each_online_cpu(cpu)
			WRITE_ONCE(per_cpu(rt_barrier_req, cpu), MIN(rt_n_barrier_cbs, RT_BARRIER_HEADS));
		for (int i = 0; i < 200; i++) {
			bool pending = false;

			for_each_possible_cpu(cpu)
				pending |= READ_ONCE(per_cpu(rt_barrier_req, cpu)) > 0;
			if (!pending)
				break;
			msleep(2);
		}
		/* A CPU that went offline meanwhile posts its share when it is
		 * back; what counts is what was posted before the barrier. */
		for_each_possible_cpu(cpu)
			if (!cpu_online(cpu))
				WRITE_ONCE(per_cpu(rt_barrier_req, cpu), 0);
		unsigned long posted = READ_ONCE(rt.barrier_posted);

		WRITE_ONCE(rt.barrier_since_ns, ktime_get_ns());
		rcu_barrier();
		WRITE_ONCE(rt.barrier_since_ns, 0);
		if (READ_ONCE(rt.barrier_invoked) < posted) {
			char msg[96];

			snprintf(msg, sizeof(msg), "rcu_barrier returned with %lu of %lu barrier callbacks run",
				 READ_ONCE(rt.barrier_invoked), posted);
			rt_error(msg);
		}
		rt.barriers++;
	}
	return 0;
}

/* The stall test: a reader that does not end, so RCU's stall warning must
 * name this CPU (and the CPU say so itself). */
static int rt_stall_fn(void *arg)
{
	(void)arg;
	msleep(2000);
	if (READ_ONCE(rt.stop))
		return 0;
	printk("rcutorture: CPU %u spins %d s inside a reader (stall test)\n", smp_processor_id(),
	       rt_stall_cpu_s);
	rcu_read_lock();
	mdelay((unsigned long)rt_stall_cpu_s * 1000);
	rcu_read_unlock();
	printk("rcutorture: stall test over\n");
	return 0;
}

/* ---- CPU hotplug ---- */

static bool rt_hp_waits;   /* the hotplug states below are active */

/*
 * A DEAD callback that waits for RCU, as subsystems are allowed to — and,
 * first, for the dead CPU's torture timer (it feeds call_rcu on that CPU's
 * behalf) to fire again, on a live CPU. That is the subsystem of the
 * timers-before-RCU story (McKenney, LCA 2018): a DEAD step that waits for
 * something a timer on the outgoing CPU drives. The timers' DYING step has
 * pushed it to CPU 0 before any DEAD step, so it fires within a tick;
 * moved later (timers.bug_late_migration) it never does: a hotplug stall.
 */
static int rt_dead_teardown(unsigned int cpu)
{
	if (!READ_ONCE(rt_hp_waits))
		return 0;
	if (rt_cpu_timers && per_cpu(rt_timer, cpu).set_up) {
		unsigned long seen = READ_ONCE(per_cpu(rt_timer, cpu).fires);

		while (READ_ONCE(per_cpu(rt_timer, cpu).fires) == seen && !READ_ONCE(rt.stop))
			msleep(1);
	}
	synchronize_rcu();
	rcu_barrier();
	return 0;
}

/* An ONLINE teardown on the outgoing CPU's hotplug thread, which does not
 * hold the hotplug lock: rcu_barrier() must not need it. */
static int rt_online_teardown(unsigned int cpu)
{
	(void)cpu;
	if (READ_ONCE(rt_hp_waits))
		rcu_barrier();
	return 0;
}

/*
 * A DYING teardown, on the outgoing CPU inside stop_machine, interrupts
 * off, after its tick stopped (take_cpu_down): callbacks queued here cannot
 * be invoked on this CPU any more. Only their migration to a live CPU at
 * the first DEAD step lets them run — and the DEAD step above waits for
 * them in rcu_barrier(). Every CPU taken down thus dies with callbacks.
 */
static int rt_dying_teardown(unsigned int cpu)
{
	struct rt_cbhead *h = per_cpu(rt_strand_heads, cpu);

	if (!READ_ONCE(rt_hp_waits))
		return 0;
	for (int i = 0; i < MIN(rt_n_strand_cbs, RT_STRAND_HEADS); i++) {
		if (READ_ONCE(h[i].queued))
			continue;   /* checked after the last cpu_down(): cannot happen */
		h[i].queued = 1;
		call_rcu(&h[i].rh, rt_strand_cb);
		__atomic_add_fetch(&rt.strand_posted, 1, __ATOMIC_RELAXED);
	}
	return 0;
}

/* After cpu_down(cpu) returned: the callbacks it died with have all run. */
static void rt_check_stranded(unsigned int cpu)
{
	struct rt_cbhead *h = per_cpu(rt_strand_heads, cpu);
	int left = 0;

	for (int i = 0; i < RT_STRAND_HEADS; i++)
		left += READ_ONCE(h[i].queued) != 0;
	rt.strand_ops++;
	if (left) {
		char msg[128];

		snprintf(msg, sizeof(msg), "CPU %u went offline and %d of the callbacks it died with "
			 "have not run (the DEAD step's rcu_barrier() returned)", cpu, left);
		rt_error(msg);
	}
}

/*
 * Move the GP kthread to `cpu`, which is about to go offline, and wait (at
 * most 100 ms) until it sleeps there between FQS scans:
 * its timer is then armed on the outgoing CPU, which the timers' DYING
 * step must push away (with nohz=1 and timers.bug_late_migration it stays
 * there and the GP never ends). Its affinity is given back at once: it
 * stays where it is until that CPU goes. (Even with its timer stranded the
 * GP ends: stop_machine switches context on every online CPU, the dying CPU
 * reports from its idle loop, and the wake-up that ends the GP deletes the
 * stranded timer. docs/rcu.md, "Timers before RCU on teardown".)
 */
static bool rt_gp_kthread_hop(unsigned int cpu)
{
	struct task_struct *k = rcu_state.gp_kthread;
	struct cpumask saved;
	bool there = false;

	cpumask_copy(&saved, &k->cpus_allowed);
	if (set_cpus_allowed_ptr(k, cpumask_of(cpu)))
		return false;
	for (u64 end = ktime_get_ns() + 100000000ULL; !there && ktime_get_ns() < end && !READ_ONCE(rt.stop);) {
		there = task_cpu(k) == cpu && READ_ONCE(rcu_state.gp_state) == RCU_GP_WAIT_FQS &&
			READ_ONCE(rcu_state.fqs_sleep_cpu) == cpu &&
			READ_ONCE(rcu_state.fqs_wake_jiffies) > jiffies_now();
		if (!there)
			schedule_timeout_uninterruptible(1);
	}
	set_cpus_allowed_ptr(k, &saved);
	if (there)
		rt.gp_hops++;
	return there;
}

static int rt_onoff_fn(void *arg)
{
	u64 rng = 0x0FF0ULL ^ ktime_get_ns();
	unsigned long ops = 0;

	(void)arg;
	while (!READ_ONCE(rt.stop)) {
		unsigned int cpu;
		int ret;
		u64 t0, dt;

		msleep((unsigned int)rt_onoff_interval_ms);
		if (READ_ONCE(rt.stop) || nr_cpu_ids < 2)
			continue;
		cpu = 1 + (unsigned int)(prandom_next(&rng) % (nr_cpu_ids - 1));
		if (!cpumask_test_cpu(cpu, &cpu_present_mask))
			continue;
		rt.op_down = cpu_online(cpu);
		if (rt.op_down && ++ops % 4 == 0)
			rt_gp_kthread_hop(cpu);
		rt.op_cpu = (int)cpu;
		t0 = ktime_get_ns();
		WRITE_ONCE(rt.op_since_ns, t0);
		if (rt.op_down) {
			rt.off_tried++;
			ret = remove_cpu(cpu);
			if (!ret) {
				rt.off_ok++;
				if (rt.dying_state > 0)
					rt_check_stranded(cpu);
			}
		} else {
			rt.on_tried++;
			ret = add_cpu(cpu);
			if (!ret)
				rt.on_ok++;
		}
		WRITE_ONCE(rt.op_since_ns, 0);
		dt = ktime_get_ns() - t0;
		if (dt > rt.op_max_ns)
			rt.op_max_ns = dt;
		/* When cpu_up/cpu_down return, RCU's books agree with the CPU. */
		if (!ret && rcu_cpu_online(cpu) != cpu_online(cpu)) {
			char msg[96];

			snprintf(msg, sizeof(msg), "CPU %u is %s but RCU's books say %s", cpu,
				 cpu_online(cpu) ? "online" : "offline", rcu_cpu_online(cpu) ? "online" : "offline");
			rt_error(msg);
		}
	}
	return 0;
}

/* ---- statistics and verdict ---- */

static void rt_sum(u64 *pipe, u64 *batch)
{
	unsigned int cpu;

	for (int i = 0; i <= RT_PIPE_LEN; i++)
		pipe[i] = batch[i] = 0;
	for_each_possible_cpu(cpu)
		for (int i = 0; i <= RT_PIPE_LEN; i++) {
			pipe[i] += __atomic_load_n(&per_cpu(rt_pipe, cpu)[i], __ATOMIC_RELAXED);
			batch[i] += __atomic_load_n(&per_cpu(rt_batch, cpu)[i], __ATOMIC_RELAXED);
		}
}

static void rt_print_array(const char *what, const u64 *v, const char *tail)
{
	char line[256];
	int n = 0;

	for (int i = 0; i <= RT_PIPE_LEN && n < (int)sizeof(line); i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %llu", (unsigned long long)v[i]);
	printk("rcutorture: %s:%s%s\n", what, line, tail);
}

static u64 rt_too_short(const u64 *pipe)
{
	u64 bad = 0;

	for (int i = 2; i <= RT_PIPE_LEN; i++)
		bad += pipe[i];
	return bad;
}

static void rt_stats(void)
{
	u64 pipe[RT_PIPE_LEN + 1], batch[RT_PIPE_LEN + 1];
	bool bad;

	rt_sum(pipe, batch);
	bad = rt_too_short(pipe) || rt.mberr;
	rt_print_array("Reader Pipe", pipe, bad ? " !!!" : "");
	rt_print_array("Reader Batch", batch, "");
	rt_print_array("Free-Block Circulation", rt.circulation, "");
	printk("rcutorture: GPs so far: %lu  version %lu  retire sync/poll/call_rcu/exp: %lu/%lu/%lu/%lu  "
	       "alloc fail %lu  mberr %lu  fake %lu  barriers %lu  onoff: %lu/%lu offline, %lu/%lu online, "
	       "max op %llu ms  stranded %lu/%lu in %lu offlines  gp kthread hops %lu  floods %lu/%lu\n", rcu_gp_completed(), rt.writer_version, rt.retire[RETIRE_SYNC],
	       rt.retire[RETIRE_POLL], rt.retire[RETIRE_CALL], rt.retire[RETIRE_EXP], rt.alloc_fail, rt.mberr, rt.fake_ops,
	       rt.barriers, rt.off_ok, rt.off_tried, rt.on_ok, rt.on_tried,
	       (unsigned long long)(rt.op_max_ns / 1000000), rt.strand_invoked, rt.strand_posted,
	       rt.strand_ops, rt.gp_hops, rt.fwd_ok, rt.fwd_floods);
}

static struct task_struct *rt_spawn(int (*fn)(void *), unsigned long arg, const char *name)
{
	struct task_struct *t = kthread_create(fn, (void *)arg, "%s/%lu", name, arg);

	if (!t) {
		rt_error("cannot create a torture thread");
		return NULL;
	}
	get_task_struct(t);
	rt.threads[rt.nthreads++] = t;
	wake_up_process(t);
	return t;
}

static void rt_setup_timers(bool on)
{
	unsigned int cpu;

	if (on) {
		for_each_online_cpu(cpu) {
			struct timer_list *t = &per_cpu(rt_timer, cpu).t;

			per_cpu(rt_timer, cpu).home = cpu;
			per_cpu(rt_timer, cpu).set_up = true;

			per_cpu(rt_timer_rng, cpu) = 0x2545F4914F6CDD1DULL * (cpu + 1) ^ ktime_get_ns();
			per_cpu(rt_nmi_rng, cpu) = 0x5851F42D4C957F2DULL * (cpu + 1) ^ ktime_get_ns();
			timer_setup(t, rt_timer_fn, 0);
			t->expires = jiffies + 1;
			add_timer_on(t, cpu);
		}
		return;
	}
	for_each_possible_cpu(cpu)
		if (per_cpu(rt_timer, cpu).set_up) {
			del_timer_sync(&per_cpu(rt_timer, cpu).t);
			per_cpu(rt_timer, cpu).set_up = false;
		}
}

/* Run the whole test in the calling thread; 0 on success. */
int rcutorture_run(int seconds)
{
	unsigned long wd_soft = watchdog_soft_reports, wd_hard = watchdog_hard_reports;
	unsigned int nreaders, cpu;
	u64 end, next, last_gp_ns, last_ver_ns;
	unsigned long last_gp, last_ver;
	bool hung = false;
	struct cpumask saved_mask;

	/*
	 * The stats loop that reports hangs runs on the boot CPU, which never
	 * goes offline: its msleep()s must not depend on a timer of a CPU that
	 * hotplug takes down (with timers.bug_late_migration it slept forever
	 * on a stranded timer and nobody reported the hang: 1 run in 12).
	 */
	cpumask_copy(&saved_mask, &current->cpus_allowed);
	set_cpus_allowed_ptr(current, cpumask_of(0));
	memset(&rt, 0, sizeof(rt));
	spin_lock_init(&rt.free_lock);
	for (int i = 0; i < RT_NELEM; i++)
		rt_free(&rt.elems[i]);
	for_each_possible_cpu(cpu) {
		memset(per_cpu(rt_pipe, cpu), 0, sizeof(per_cpu(rt_pipe, cpu)));
		memset(per_cpu(rt_batch, cpu), 0, sizeof(per_cpu(rt_batch, cpu)));
		per_cpu(rt_barrier_req, cpu) = 0;
	}
	RCU_INIT_POINTER(rt_current, NULL);
	nreaders = rt_nreaders ? (unsigned int)rt_nreaders : num_possible_cpus();
	printk("rcutorture: %u readers, %d fake writers, irq readers %s, NMI readers %s, "
	       "%d barrier callbacks per CPU, onoff every %d ms, %d s, %u CPUs online of %u possible\n",
	       nreaders, rt_nfakewriters, rt_irq_readers ? "on" : "off", rt_nmi_readers ? "on" : "off",
	       rt_n_barrier_cbs, rt_onoff_interval_ms, seconds, num_online_cpus(), num_possible_cpus());
	rt.start_ns = ktime_get_ns();
	WRITE_ONCE(rcu_last_gasp_reader, rt_last_gasp);
	if (rt_onoff_interval_ms) {
		rt.dead_state = cpuhp_setup_state(CPUHP_BP_PREPARE_DYN, "rcutorture:dead", NULL,
						  rt_dead_teardown);
		rt.online_state = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "rcutorture:online", NULL,
						    rt_online_teardown);
		if (rt_n_strand_cbs)
			rt.dying_state = cpuhp_setup_state(CPUHP_AP_STARTING_DYN, "rcutorture:strand", NULL,
							   rt_dying_teardown);
		WRITE_ONCE(rt_hp_waits, true);
	}
	rt_spawn(rt_writer_fn, 0, "rt-writer");
	for (unsigned int i = 0; i < nreaders; i++)
		rt_spawn(rt_reader_fn, i, "rt-reader");
	for (int i = 0; i < rt_nfakewriters; i++)
		rt_spawn(rt_fakewriter_fn, (unsigned long)i, "rt-fakewriter");
	if (rt_n_barrier_cbs)
		rt_spawn(rt_barrier_fn, 0, "rt-barrier");
	if (rt_onoff_interval_ms)
		rt_spawn(rt_onoff_fn, 0, "rt-onoff");
	if (rt_fwd_progress_ms)
		rt_spawn(rt_fwd_fn, 0, "rt-fwd");
	if (rt_stall_cpu_s) {
		/* Away from the GP kthread's CPU, so that the GP starts and this
		 * CPU is what it waits for (on the kthread's own CPU the report
		 * is a starved kthread instead: also a stall, a different one). */
		struct task_struct *t = kthread_create(rt_stall_fn, NULL, "rt-stall");
		unsigned int avoid = task_cpu(rcu_state.gp_kthread), to = avoid;

		for_each_online_cpu(cpu)
			if (cpu != avoid)
				to = cpu;
		if (t) {
			kthread_bind(t, to);
			get_task_struct(t);
			rt.threads[rt.nthreads++] = t;
			wake_up_process(t);
		}
	}
	if (rt_cpu_timers)
		rt_setup_timers(true);

	end = rt.start_ns + (u64)seconds * 1000000000ULL;
	next = rt.start_ns + (u64)rt_stat_interval_s * 1000000000ULL;
	last_gp = rcu_gp_completed();
	last_ver = rt.writer_version;
	last_gp_ns = last_ver_ns = rt.start_ns;
	for (;;) {
		u64 now = ktime_get_ns(), stall = (u64)rt_stall_s * 1000000000ULL;
		u64 b = READ_ONCE(rt.barrier_since_ns), o = READ_ONCE(rt.op_since_ns);
		char msg[128];

		if (rcu_gp_completed() != last_gp) {
			last_gp = rcu_gp_completed();
			last_gp_ns = now;
		}
		if (rt.writer_version != last_ver) {
			last_ver = rt.writer_version;
			last_ver_ns = now;
		}
		if (!hung && now - last_gp_ns > stall) {
			snprintf(msg, sizeof(msg), "no grace period ended for %d s (stall)", rt_stall_s);
			rt_error(msg);
			hung = true;
		} else if (!hung && now - last_ver_ns > stall) {
			snprintf(msg, sizeof(msg), "the writer made no progress for %d s (stall)", rt_stall_s);
			rt_error(msg);
			hung = true;
		} else if (!hung && b && now > b && now - b > stall) {
			snprintf(msg, sizeof(msg), "rcu_barrier() has not returned after %d s (stall)", rt_stall_s);
			rt_error(msg);
			hung = true;
		} else if (!hung && o && now > o && now - o > stall) {
			snprintf(msg, sizeof(msg), "CPU %d %s has not returned after %d s (hotplug stall)",
				 rt.op_cpu, rt.op_down ? "offline" : "online", rt_stall_s);
			rt_error(msg);
			hung = true;
		}
		if (!hung) {
			u64 pp[RT_PIPE_LEN + 1], bb[RT_PIPE_LEN + 1];

			rt_sum(pp, bb);
			if (rt_too_short(pp) || READ_ONCE(rt.mberr)) {
				/* Reported at the end with the counts; stop now, the
				 * damage is done (elements are being reused early). */
				printk("rcutorture: too-short grace period seen, stopping !!!\n");
				rt_stats();
				hung = true;   /* threads may be wedged: do not wait for them */
				break;
			}
		}
		if (hung) {
			/* What is stuck, for whoever reads the log. */
			shell_run_line("rcu");
			shell_run_line("cpus");
			shell_run_line("ps");
			shell_run_line("bt all");
		}
		if (now >= next || now >= end || hung) {
			rt_stats();
			next += (u64)rt_stat_interval_s * 1000000000ULL;
		}
		if (now >= end || hung)
			break;
		msleep(100);
	}

	WRITE_ONCE(rt.stop, true);
	rt_setup_timers(false);
	/* A barrier or hotplug operation still in flight must finish within
	 * the stall bound before the threads can be stopped. */
	while (!hung && (READ_ONCE(rt.barrier_since_ns) || READ_ONCE(rt.op_since_ns))) {
		u64 now = ktime_get_ns(), b = READ_ONCE(rt.barrier_since_ns), o = READ_ONCE(rt.op_since_ns);
		u64 stall = (u64)rt_stall_s * 1000000000ULL;
		char msg[128];

		if ((b && now > b && now - b > stall) || (o && now > o && now - o > stall)) {
			snprintf(msg, sizeof(msg), "%s has not returned after %d s (%sstall)",
				 b ? "rcu_barrier()" : "a CPU hotplug operation", rt_stall_s, b ? "" : "hotplug ");
			rt_error(msg);
			shell_run_line("rcu");
			shell_run_line("cpus");
			shell_run_line("ps");
			shell_run_line("bt all");
			hung = true;
			break;
		}
		msleep(50);
	}
	if (!hung) {
		for (unsigned int i = 0; i < rt.nthreads; i++) {
			kthread_stop(rt.threads[i]);
			put_task_struct(rt.threads[i]);
		}
		WRITE_ONCE(rt_hp_waits, false);
		if (rt.dead_state > 0)
			cpuhp_remove_state((enum cpuhp_state)rt.dead_state);
		if (rt.online_state > 0)
			cpuhp_remove_state((enum cpuhp_state)rt.online_state);
		if (rt.dying_state > 0)
			cpuhp_remove_state((enum cpuhp_state)rt.dying_state);
		/* Everything retired comes home. A call_rcu chain re-queues
		 * itself from its callback, behind the barrier's: each
		 * rcu_barrier() moves every chain on by at least one step. */
		for (int i = 0; i < 3 * RT_PIPE_LEN && rt_count_free() != RT_NELEM - 1; i++) {
			synchronize_rcu();
			rt_pipe_update_removed();
			rcu_barrier();
		}
	}
	WRITE_ONCE(rcu_last_gasp_reader, NULL);
	set_cpus_allowed_ptr(current, &saved_mask);
	if (rt_fwd_progress_ms && !rt.fwd_floods && !hung)
		printk("rcutorture: fwd_progress: no flood ran (the test is shorter than "
		       "rcutorture.fwd_progress_holdoff_s + the flood)\n");

	u64 pipe[RT_PIPE_LEN + 1], batch[RT_PIPE_LEN + 1];
	char msg[128];

	rt_sum(pipe, batch);
	if (rt_too_short(pipe)) {
		snprintf(msg, sizeof(msg), "%llu readers saw a grace period end under them (pipe >= 2)",
			 (unsigned long long)rt_too_short(pipe));
		rt_error(msg);
	}
	if (rt.mberr) {
		snprintf(msg, sizeof(msg), "%lu readers saw a freed element", rt.mberr);
		rt_error(msg);
	}
	if (!hung) {
		int nfree = rt_count_free();

		/* All but the one still published are back. */
		if (nfree != RT_NELEM - 1) {
			snprintf(msg, sizeof(msg), "%d of %d elements came back to the free list",
				 nfree, RT_NELEM - 1);
			rt_error(msg);
		}
		if (rt.strand_invoked != rt.strand_posted) {
			snprintf(msg, sizeof(msg), "%lu callbacks stranded on outgoing CPUs, %lu ran",
				 rt.strand_posted, rt.strand_invoked);
			rt_error(msg);
		}
		if (rt.barrier_invoked != rt.barrier_posted) {
			snprintf(msg, sizeof(msg), "%lu barrier callbacks posted, %lu ran",
				 rt.barrier_posted, rt.barrier_invoked);
			rt_error(msg);
		}
	}
	if (watchdog_soft_reports != wd_soft || watchdog_hard_reports != wd_hard)
		rt_error("the lockup watchdog reported during the test");
	rt_stats();
	printk("rcutorture: GP latency: last %llu us, longest %llu us; %lu FQS scans; "
	       "nohz: %lu idle tick stops\n", (unsigned long long)(rcu_state.gp_last_ns / 1000),
	       (unsigned long long)(rcu_state.gp_max_ns / 1000), rcu_state.n_fqs, tick_nohz_stops);
	printk("End of test: %s\n", rt.errors ? "FAILURE" : "SUCCESS");
	return rt.errors ? -1 : 0;
}

static int rt_boot_thread(void *arg)
{
	int ret;

	(void)arg;
	ret = rcutorture_run(rt_duration_s);
	if (rt_poweroff)
		machine_poweroff(ret == 0);
	return ret;
}

void rcutorture_start(void)
{
	if (torture_rcu)
		kthread_run(rt_boot_thread, NULL, "rcutorture");
}

static int cmd_rcutorture(int argc, char **argv)
{
	int seconds = rt_duration_s;

	if (argc > 2 || (argc > 1 && !strcmp(argv[1], "help")))
		return 1;
	if (argc > 1) {
		long long v;

		if (kstrtoll(argv[1], 10, &v) || v < 1 || v > 86400) {
			printk("rcutorture: SECONDS must be 1..86400\n");
			return 1;
		}
		seconds = (int)v;
	}
	return rcutorture_run(seconds) ? SHELL_CMD_FAILED : 0;
}
SHELL_COMMAND(rcutorture, "rcutorture", "rcutorture [SECONDS]",
	      "run the RCU torture test (parameters: rcutorture.*)", cmd_rcutorture);
