/*
 * rcu_windows.c — four ktests of RCU's waits (suite "rcu_windows", apart
 * from the rcu.* ktests that the tree-rcu lab grades), each built around one window
 * a broken RCU would let a reader or a callback through; they use only the
 * public RCU API (and one hotplug debug delay).
 *
 *   rcu_windows.reader_tick  A reader on another CPU spins 50 ms with preemption
 *                    off, so the tick interrupts it several times. A
 *                    synchronize_rcu() begun once the reader is inside must
 *                    return only after it left: a tick that interrupted a
 *                    reader is not a quiescent state, even at irq depth 1.
 *   rcu_windows.exp_reader   The same window for synchronize_rcu_expedited():
 *                    its IPI lands inside the reader, which must not count
 *                    as a quiescent state (the preempt count says reader).
 *   rcu_windows.cb_full_gp   A callback waits for a full grace period from its
 *                    call_rcu(), not just for the end of the one running.
 *                    CPU y holds a grace period open with a 100 ms reader
 *                    begun before it; CPU x, having passed its quiescent
 *                    state for that grace period (it slept 30 ms), starts a
 *                    250 ms reader; then call_rcu(). The running grace
 *                    period ends with y's reader, long before x's: a
 *                    callback numbered for it runs inside x's reader.
 *
 *   rcu_windows.barrier_dead A CPU taken down queues callbacks in a DYING
 *                    step of its own (interrupts off, tick stopped: they
 *                    can only run once migrated), then is out of RCU's
 *                    books before they migrate; cpuhp.migrate_delay_ms (set
 *                    to 300 ms here) keeps them on the dead CPU's list
 *                    meanwhile. (Queued earlier, with a reader holding their
 *                    grace period open, they ran on the dying CPU itself:
 *                    the reader also holds up stop_machine.) An rcu_barrier()
 *                    called in that window must wait for them too: once it
 *                    returns, every one of them has run.
 *
 * All four are deterministic by construction (the readers and the delay are
 * far longer than a grace period here) and fail on the first round with the
 * bug. Needs 2 CPUs (reader_tick, exp_reader) and 3 (cb_full_gp, barrier_dead); scenario
 * rcu-windows-smp4.
 */
#include <grace/cpuhotplug.h>
#include <grace/cpumask.h>
#include <grace/delay.h>
#include <grace/kthread.h>
#include <grace/ktest.h>
#include <grace/printk.h>
#include <grace/rcupdate.h>
#include <grace/sched.h>
#include <grace/time.h>

struct rw_reader {
	int go;             /* round number the reader thread starts */
	int inside, left;   /* round numbers: entered, about to unlock */
	unsigned int ms;
};
static struct rw_reader rw_x, rw_y;

static int rw_reader(void *arg)
{
	struct rw_reader *r = arg;
	int seen = 0;

	while (!kthread_should_stop()) {
		int n = __atomic_load_n(&r->go, __ATOMIC_ACQUIRE);

		if (n == seen) {
			msleep(1);
			continue;
		}
		seen = n;
		rcu_read_lock();
		__atomic_store_n(&r->inside, n, __ATOMIC_SEQ_CST);
		mdelay(READ_ONCE(r->ms));   /* interrupts on: the tick lands in here */
		__atomic_store_n(&r->left, n, __ATOMIC_SEQ_CST);
		rcu_read_unlock();
	}
	return 0;
}

static struct task_struct *rw_start(struct rw_reader *r, unsigned int cpu, const char *name)
{
	struct task_struct *t;

	r->go = r->inside = r->left = 0;
	t = kthread_create(rw_reader, r, "%s", name);
	if (t) {
		kthread_bind(t, cpu);
		wake_up_process(t);
	}
	return t;
}

static void rw_wait(const int *what, int n)
{
	u64 deadline = ktime_get_ns() + 3000000000ULL;

	while (__atomic_load_n(what, __ATOMIC_ACQUIRE) != n && ktime_get_ns() < deadline)
		msleep(1);
}

/* The other online CPUs, in order; returns how many. */
static unsigned int rw_others(unsigned int *out, unsigned int max)
{
	unsigned int me, cpu, n = 0;

	preempt_disable();
	me = smp_processor_id();
	preempt_enable();
	for_each_online_cpu(cpu)
		if (cpu != me && n < max)
			out[n++] = cpu;
	return n;
}

/* Three rounds of a 50 ms reader on another CPU, each with gp() begun once
 * the reader is inside; returns how many gp() calls returned early. */
static int rw_reader_window(struct ktest_ctx *t, const char *test, void (*gp)(void),
			    const char *gp_name)
{
	unsigned int cpus[1];
	int early = 0;
	const int rounds = 3;

	if (rw_others(cpus, 1) < 1) {
		printk("%s: one CPU: nothing to check\n", test);
		return 0;
	}
	struct task_struct *k = rw_start(&rw_x, cpus[0], "rcuw/x");

	KTEST_EXPECT(k != NULL);
	if (!k)
		return 0;
	rw_x.ms = 50;
	for (int n = 1; n <= rounds; n++) {
		__atomic_store_n(&rw_x.go, n, __ATOMIC_RELEASE);
		rw_wait(&rw_x.inside, n);
		gp();
		if (__atomic_load_n(&rw_x.left, __ATOMIC_SEQ_CST) != n)
			early++;
		rw_wait(&rw_x.left, n);
	}
	kthread_stop(k);
	printk("%s: %d rounds of a %u ms reader on CPU %u; %d %s calls ended inside it\n",
	       test, rounds, rw_x.ms, cpus[0], early, gp_name);
	return early;
}

KTEST(rcu_reader_tick, "rcu_windows.reader_tick")
{
	int early = rw_reader_window(t, "rcu_windows.reader_tick", synchronize_rcu, "synchronize_rcu()");

	KTEST_EXPECT_MSG(early == 0, "synchronize_rcu() returned while the reader it had to wait for was "
			 "still inside (%d of 3 rounds): a tick in a reader counted as a quiescent state",
			 early);
}

/* The expedited IPI lands in the reader's mdelay(): task context at irq
 * depth 1, but with a preempt count — no quiescent state. */
KTEST(rcu_exp_reader, "rcu_windows.exp_reader")
{
	int early = rw_reader_window(t, "rcu_windows.exp_reader", synchronize_rcu_expedited,
				     "synchronize_rcu_expedited()");

	KTEST_EXPECT_MSG(early == 0, "synchronize_rcu_expedited() returned while the reader it had to "
			 "wait for was still inside (%d of 3 rounds): an IPI that interrupted a reader "
			 "reported a quiescent state", early);
}

static struct {
	struct rcu_head head;
	int ran, x_left_then;
	u64 ran_ns;
} cbf;

static void cbf_cb(struct rcu_head *h)
{
	(void)h;
	cbf.x_left_then = __atomic_load_n(&rw_x.left, __ATOMIC_SEQ_CST);
	cbf.ran_ns = ktime_get_ns();
	__atomic_store_n(&cbf.ran, 1, __ATOMIC_RELEASE);
}

KTEST(rcu_cb_full_gp, "rcu_windows.cb_full_gp")
{
	unsigned int cpus[2];
	int early = 0;
	const int rounds = 3;

	if (rw_others(cpus, 2) < 2) {
		printk("rcu_windows.cb_full_gp: needs 3 CPUs; nothing to check\n");
		return;
	}
	struct task_struct *x = rw_start(&rw_x, cpus[0], "rcuw/x");
	struct task_struct *y = rw_start(&rw_y, cpus[1], "rcuw/y");

	KTEST_EXPECT(x && y);
	if (!x || !y)
		return;   /* (one made already sleeps in its loop: harmless) */
	rw_x.ms = 250;
	rw_y.ms = 100;
	for (int n = 1; n <= rounds; n++) {
		__atomic_store_n(&rw_y.go, n, __ATOMIC_RELEASE);
		rw_wait(&rw_y.inside, n);
		/* A grace period that must wait for y's reader. */
		start_poll_synchronize_rcu();
		msleep(30);   /* x sleeps meanwhile: its quiescent state for this GP */
		__atomic_store_n(&rw_x.go, n, __ATOMIC_RELEASE);
		rw_wait(&rw_x.inside, n);
		cbf.ran = 0;
		call_rcu(&cbf.head, cbf_cb);
		rw_wait(&cbf.ran, 1);
		KTEST_EXPECT_MSG(cbf.ran, "round %d: the callback did not run in 3 s", n);
		if (cbf.x_left_then != n)
			early++;
		rw_wait(&rw_x.left, n);
		rw_wait(&rw_y.left, n);
		rcu_barrier();
	}
	kthread_stop(x);
	kthread_stop(y);
	printk("rcu_windows.cb_full_gp: %d rounds (reader %u ms on CPU %u, GP held open %u ms by CPU %u); "
	       "%d callbacks ran inside the later reader\n", rounds, rw_x.ms, cpus[0], rw_y.ms, cpus[1], early);
	KTEST_EXPECT_MSG(early == 0, "%d of %d callbacks ran while a reader begun before their call_rcu() "
			 "was still inside: they waited only for the grace period already running",
			 early, rounds);
}

#define BD_CBS 10

static struct {
	struct rcu_head head[BD_CBS];
	int queued, ran;
} bd;

static void bd_cb(struct rcu_head *h)
{
	(void)h;
	__atomic_add_fetch(&bd.ran, 1, __ATOMIC_RELEASE);
}

/*
 * A DYING step of the CPU the test takes down: on that CPU, interrupts off,
 * inside stop_machine, after its tick stopped. Callbacks queued here can no
 * longer be invoked there: only their migration at the first DEAD step lets
 * them run.
 */
static unsigned int bd_cpu = ~0u;

static int bd_dying(unsigned int cpu)
{
	if (cpu != READ_ONCE(bd_cpu) || bd.queued)
		return 0;
	for (int i = 0; i < BD_CBS; i++)
		call_rcu(&bd.head[i], bd_cb);
	__atomic_store_n(&bd.queued, 1, __ATOMIC_RELEASE);
	return 0;
}

static struct {
	unsigned int cpu;
	int ret, done;
} bd_down;

static int bd_remove(void *arg)
{
	(void)arg;
	bd_down.ret = remove_cpu(bd_down.cpu);
	__atomic_store_n(&bd_down.done, 1, __ATOMIC_RELEASE);
	return 0;
}

KTEST(rcu_barrier_dead, "rcu_windows.barrier_dead")
{
	unsigned int cpus[NR_CPUS], n = rw_others(cpus, NR_CPUS);
	int saved = cpuhp_migrate_delay_ms, ran_at_return = -1, state;
	u64 deadline;

	if (n < 2) {
		printk("rcu_windows.barrier_dead: needs 3 CPUs; nothing to check\n");
		return;
	}
	unsigned int dead = cpus[n - 1];

	bd.queued = bd.ran = 0;
	bd_down.cpu = dead;
	bd_down.done = 0;
	WRITE_ONCE(bd_cpu, dead);
	state = cpuhp_setup_state(CPUHP_AP_STARTING_DYN, "rcu_windows:strand", NULL, bd_dying);
	KTEST_EXPECT_MSG(state >= 0, "no dynamic DYING state free (%d)", state);
	if (state < 0)
		return;
	cpuhp_migrate_delay_ms = 300;
	struct task_struct *d = kthread_run(bd_remove, NULL, "rcuw/down");

	KTEST_EXPECT(d != NULL);
	deadline = ktime_get_ns() + 3000000000ULL;
	while (d && rcu_cpu_online(dead) && ktime_get_ns() < deadline)
		msleep(1);
	KTEST_EXPECT_MSG(!rcu_cpu_online(dead), "CPU %u did not leave RCU's books in 3 s", dead);
	KTEST_EXPECT_MSG(__atomic_load_n(&bd.queued, __ATOMIC_ACQUIRE), "the DYING step did not run on CPU %u",
			 dead);
	/* Out of the books, its callbacks not migrated yet (300 ms). */
	if (d && !rcu_cpu_online(dead)) {
		rcu_barrier();
		ran_at_return = __atomic_load_n(&bd.ran, __ATOMIC_ACQUIRE);
	}
	rw_wait(&bd_down.done, 1);
	cpuhp_migrate_delay_ms = saved;
	WRITE_ONCE(bd_cpu, ~0u);
	cpuhp_remove_state((enum cpuhp_state)state);
	KTEST_EXPECT_MSG(bd_down.ret == 0, "remove_cpu(%u) failed (%d)", dead, bd_down.ret);
	if (bd_down.ret == 0)
		KTEST_EXPECT_MSG(add_cpu(dead) == 0, "add_cpu(%u) failed", dead);
	rcu_barrier();
	printk("rcu_windows.barrier_dead: CPU %u died with %d callbacks queued in its DYING step; rcu_barrier() "
	       "called before they migrated returned with %d of them run (all %d later)\n", dead, BD_CBS,
	       ran_at_return, __atomic_load_n(&bd.ran, __ATOMIC_ACQUIRE));
	KTEST_EXPECT_MSG(ran_at_return == BD_CBS, "rcu_barrier() returned with %d of the %d callbacks of "
			 "CPU %u (out of RCU's books, not yet migrated) run", ran_at_return, BD_CBS, dead);
	KTEST_EXPECT(__atomic_load_n(&bd.ran, __ATOMIC_ACQUIRE) == BD_CBS);
}
