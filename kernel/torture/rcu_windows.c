/*
 * rcu_windows.c — two ktests of grace-period lengths, each built around one
 * window a broken RCU would let a reader through; they use only the public
 * RCU API (kernel/rcu is not touched).
 *
 *   rcu.reader_tick  A reader on another CPU spins 50 ms with preemption
 *                    off, so the tick interrupts it several times. A
 *                    synchronize_rcu() begun once the reader is inside must
 *                    return only after it left: a tick that interrupted a
 *                    reader is not a quiescent state, even at irq depth 1.
 *   rcu.cb_full_gp   A callback waits for a full grace period from its
 *                    call_rcu(), not just for the end of the one running.
 *                    CPU y holds a grace period open with a 100 ms reader
 *                    begun before it; CPU x, having passed its quiescent
 *                    state for that grace period (it slept 30 ms), starts a
 *                    250 ms reader; then call_rcu(). The running grace
 *                    period ends with y's reader, long before x's: a
 *                    callback numbered for it runs inside x's reader.
 *
 * Both are deterministic by construction (the readers are far longer than
 * a grace period here) and fail on the first round with the bug. Needs 2 CPUs (reader_tick) and 3
 * (cb_full_gp); scenario rcu-windows-smp4.
 */
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

KTEST(rcu_reader_tick, "rcu.reader_tick")
{
	unsigned int cpus[1];
	int early = 0;
	const int rounds = 3;

	if (rw_others(cpus, 1) < 1) {
		printk("rcu.reader_tick: one CPU: nothing to check\n");
		return;
	}
	struct task_struct *k = rw_start(&rw_x, cpus[0], "rcuw/x");

	KTEST_EXPECT(k != NULL);
	if (!k)
		return;
	rw_x.ms = 50;
	for (int n = 1; n <= rounds; n++) {
		__atomic_store_n(&rw_x.go, n, __ATOMIC_RELEASE);
		rw_wait(&rw_x.inside, n);
		synchronize_rcu();
		if (__atomic_load_n(&rw_x.left, __ATOMIC_SEQ_CST) != n)
			early++;
		rw_wait(&rw_x.left, n);
	}
	kthread_stop(k);
	printk("rcu.reader_tick: %d rounds of a %u ms reader on CPU %u; %d grace periods ended inside it\n",
	       rounds, rw_x.ms, cpus[0], early);
	KTEST_EXPECT_MSG(early == 0, "synchronize_rcu() returned while the reader it had to wait for was "
			 "still inside (%d of %d rounds): a tick in a reader counted as a quiescent state",
			 early, rounds);
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

KTEST(rcu_cb_full_gp, "rcu.cb_full_gp")
{
	unsigned int cpus[2];
	int early = 0;
	const int rounds = 3;

	if (rw_others(cpus, 2) < 2) {
		printk("rcu.cb_full_gp: needs 3 CPUs; nothing to check\n");
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
	printk("rcu.cb_full_gp: %d rounds (reader %u ms on CPU %u, GP held open %u ms by CPU %u); "
	       "%d callbacks ran inside the later reader\n", rounds, rw_x.ms, cpus[0], rw_y.ms, cpus[1], early);
	KTEST_EXPECT_MSG(early == 0, "%d of %d callbacks ran while a reader begun before their call_rcu() "
			 "was still inside: they waited only for the grace period already running",
			 early, rounds);
}
