/*
 * pending_head.c — ktest "locking.pending_head": in the native queued
 * spinlock, a queue head never takes the lock from a pending waiter.
 *
 * The property: the lock word (tail, pending, locked) can be 0,1,0 — the
 * owner has left and the pending waiter is about to set `locked` — with
 * nobody holding the lock. A queue head that arrived meanwhile must wait for
 * both the locked byte and the pending bit (qspinlock.c: "wait for the owner
 * and for a pending waiter"); if it waits only for `locked`, it takes the
 * lock in that instant and so does the pending waiter.
 *
 * Each round builds exactly that word. The test thread (CPU a) takes the
 * lock. B (CPU b) calls spin_lock(): the lock is held and nobody waits, so B
 * sets pending and spins. Once a sees the pending bit, C (CPU c) calls
 * spin_lock(): pending is set, so C queues, and with no queue before it, it
 * is the head at once. Once a sees C's tail too, it releases. B and C each
 * hold the lock for 20 us, checking nobody else is inside; a round that
 * does not finish in 2 s is a failure too. The test sets
 * qspinlock.race_delay_us to 20 for its run (a pause in the pending
 * waiter's hand-over): without it the 0,1,0 instant lasts a few
 * instructions and a broken head met it in none of 600 rounds under TCG. A PV backend has no pending waiters, so
 * the test switches to native for its run. Needs 3 CPUs; scenario
 * locking-pv-switch (ktest=locking).
 */
#include <asm/cpu.h>
#include <grace/cpumask.h>
#include <grace/delay.h>
#include <grace/kthread.h>
#include <grace/ktest.h>
#include <grace/printk.h>
#include <grace/qspinlock.h>
#include <grace/qspinlock_lab.h>
#include <grace/qspinlock_pv.h>
#include <grace/sched.h>
#include <grace/spinlock.h>
#include <grace/time.h>

#define PH_ROUNDS 60

static DEFINE_SPINLOCK(ph_lock);
static struct {
	int go_b, go_c;          /* round numbers */
	int done;                /* B and C finished this many critical sections */
	int inside, overlap, overlap_round;
	int stop, exited;
} ph;

static void ph_critical(int r)
{
	spin_lock(&ph_lock);
	if (__atomic_add_fetch(&ph.inside, 1, __ATOMIC_SEQ_CST) != 1 && !ph.overlap++)
		ph.overlap_round = r;
	udelay(20);
	__atomic_sub_fetch(&ph.inside, 1, __ATOMIC_SEQ_CST);
	spin_unlock(&ph_lock);
	__atomic_add_fetch(&ph.done, 1, __ATOMIC_RELEASE);
}

static int ph_thread(void *arg)
{
	int *go = arg, seen = 0;

	while (!READ_ONCE(ph.stop)) {
		int r = __atomic_load_n(go, __ATOMIC_ACQUIRE);

		if (r == seen) {
			cpu_relax();
			continue;
		}
		seen = r;
		ph_critical(r);
	}
	__atomic_add_fetch(&ph.exited, 1, __ATOMIC_RELEASE);
	return 0;
}

/* Spin until the lock word has `bits`; false after 1 s. */
static bool ph_wait_word(u32 bits)
{
	u64 deadline = ktime_get_ns() + 1000000000ULL;

	while ((queued_spin_value(&ph_lock.q) & bits) != bits)
		if (ktime_get_ns() > deadline)
			return false;
	return true;
}

KTEST(pending_head, "locking.pending_head")
{
	enum pv_backend boot = pv_lock_ops.backend;
	unsigned int cpus[3], n = 0, cpu;
	int built = 0, rounds = 0, delay;
	bool stuck = false;

	for_each_online_cpu(cpu)
		if (n < 3)
			cpus[n++] = cpu;
	if (n < 3) {
		printk("locking.pending_head: needs 3 CPUs; nothing to check\n");
		return;
	}
	if (boot != PV_NATIVE && pv_spinlock_switch(PV_NATIVE)) {
		KTEST_EXPECT_MSG(0, "could not switch to the native backend");
		return;
	}
	delay = qspinlock_race_delay_set(20);
	KTEST_EXPECT(set_cpus_allowed_ptr(current, cpumask_of(cpus[0])) == 0);
	ph.go_b = ph.go_c = ph.done = ph.inside = ph.overlap = ph.stop = ph.exited = 0;
	struct task_struct *b = kthread_create(ph_thread, &ph.go_b, "pendhead/b");
	struct task_struct *c = kthread_create(ph_thread, &ph.go_c, "pendhead/c");

	KTEST_EXPECT(b && c);
	if (!b || !c) {
		qspinlock_race_delay_set(delay);
		return;   /* (a thread made already waits for its round forever: harmless) */
	}
	kthread_bind(b, cpus[1]);
	kthread_bind(c, cpus[2]);
	wake_up_process(b);
	wake_up_process(c);
	for (int r = 1; r <= PH_ROUNDS && !stuck; r++) {
		unsigned long flags;
		bool ok;

		spin_lock_irqsave(&ph_lock, flags);
		__atomic_store_n(&ph.go_b, r, __ATOMIC_RELEASE);     /* B: pending waiter */
		ok = ph_wait_word(_Q_LOCKED_VAL | _Q_PENDING_VAL);
		__atomic_store_n(&ph.go_c, r, __ATOMIC_RELEASE);     /* C: queue head */
		ok = ph_wait_word(_Q_LOCKED_VAL | _Q_PENDING_VAL) && ok;
		u64 deadline = ktime_get_ns() + 1000000000ULL;

		while (!(queued_spin_value(&ph_lock.q) & _Q_TAIL_MASK) && ktime_get_ns() < deadline)
			cpu_relax();
		ok = ok && (queued_spin_value(&ph_lock.q) & _Q_TAIL_MASK);
		udelay(2);   /* C is in its head wait now */
		spin_unlock_irqrestore(&ph_lock, flags);
		built += ok;
		rounds++;
		deadline = ktime_get_ns() + 2000000000ULL;
		while (__atomic_load_n(&ph.done, __ATOMIC_ACQUIRE) < 2 * r && ktime_get_ns() < deadline)
			cpu_relax();
		if (__atomic_load_n(&ph.done, __ATOMIC_ACQUIRE) < 2 * r) {
			KTEST_EXPECT_MSG(0, "round %d: B and C finished %d critical sections of %d in 2 s "
					 "(a head that took the lock from the pending waiter then waits for "
					 "a successor that never queued)", r, ph.done, 2 * r);
			stuck = true;
		}
	}
	WRITE_ONCE(ph.stop, 1);
	if (!stuck) {
		u64 deadline = ktime_get_ns() + 2000000000ULL;

		while (__atomic_load_n(&ph.exited, __ATOMIC_ACQUIRE) < 2 && ktime_get_ns() < deadline)
			msleep(1);
	}
	set_cpus_allowed_ptr(current, &cpu_possible_mask);
	/* A stuck thread spins with preemption off: no stop_machine (which a
	 * backend switch and the key's patching need) could complete. */
	if (!stuck) {
		qspinlock_race_delay_set(delay);
		if (boot != PV_NATIVE)
			KTEST_EXPECT(pv_spinlock_switch(boot) == 0);
	}
	printk("locking.pending_head: %d rounds (CPUs %u, %u, %u), %d with owner, pending waiter and "
	       "queue head at the release; %d overlaps\n", rounds, cpus[0], cpus[1], cpus[2], built,
	       ph.overlap);
	KTEST_EXPECT_MSG(ph.overlap == 0, "round %d: the queue head and the pending waiter were in the "
			 "critical section together (%d rounds)", ph.overlap_round, ph.overlap);
	KTEST_EXPECT_MSG(built * 10 >= rounds * 9, "the word owner + pending + tail was built in only %d of "
			 "%d rounds", built, rounds);
}
