/*
 * migrate_test.c — ktests of the wake-up/migration windows:
 * "sched.migrate_race" (below) and "sched.wake_running" (at the end: a
 * wake-up between set_current_state() and schedule() does not queue a
 * running task).
 *
 * sched.migrate_race: nobody acts on a task that is in transit between two
 * runqueues.
 *
 * The property: a move (move_task_unlock) detaches the task under the old
 * runqueue's lock — on_rq = MIGRATING, p->cpu = the new CPU — drops that
 * lock and attaches it under the new one. In between the task is on no
 * queue and no lock covers it; task_rq_lock() must wait until it is queued
 * (MIGRATING) instead of taking it for asleep. If it does not, a
 * set_cpus_allowed_ptr() landing there re-homes the "sleeping" task
 * (p->cpu = elsewhere) while the mover still queues it where it was going:
 * it then runs on one CPU with p->cpu naming another, and every later
 * task_rq_lock() locks the wrong runqueue.
 *
 * A round: a fresh kthread V is allowed on CPUs c (the test's, busy) and d
 * (idle) with p->cpu = c; its first wake-up spreads it to d, a move from c
 * to d that sched.migrate_delay_us (set by the test to 10 ms: under TCG on a loaded host the helper's vCPU may not run for milliseconds) keeps in
 * transit. A helper on a third CPU e watches V->cpu; the moment it reads d
 * (the move has begun) it notes whether V is still on no queue and calls
 * set_cpus_allowed_ptr(V, {c}). Checked: whenever V runs, it runs on the CPU
 * p->cpu names (read with preemption off), and it ends up on c; and the
 * helper met V in transit in at least half the rounds.
 * Needs three CPUs; scenario sched-smp4 (ktest=sched).
 */
#include <asm/cpu.h>
#include <grace/cpumask.h>
#include <grace/delay.h>
#include <grace/ktest.h>
#include <grace/kthread.h>
#include <grace/printk.h>
#include <grace/sched.h>
#include <grace/time.h>
#include "sched.h"

#define MR_ROUNDS 10

static struct {
	struct task_struct *v;
	unsigned int c, d;
	int go, helped;        /* round numbers: the helper's start and end */
	int stop;
	int runs, mismatch, bad_cpu, bad_task_cpu, last_cpu;
	int in_transit, no_move;
} mr;

static int mr_victim(void *arg)
{
	(void)arg;
	while (!kthread_should_stop()) {
		preempt_disable();
		unsigned int cpu = smp_processor_id(), tc = task_cpu(current);

		preempt_enable();
		if (cpu != tc && !mr.mismatch++) {
			mr.bad_cpu = (int)cpu;
			mr.bad_task_cpu = (int)tc;
		}
		WRITE_ONCE(mr.last_cpu, (int)cpu);
		__atomic_add_fetch(&mr.runs, 1, __ATOMIC_RELEASE);
		msleep(1);
	}
	return 0;
}

static int mr_helper(void *arg)
{
	int seen = 0;

	(void)arg;
	while (!READ_ONCE(mr.stop)) {
		int r = __atomic_load_n(&mr.go, __ATOMIC_ACQUIRE);

		if (r == seen) {
			cpu_relax();
			continue;
		}
		seen = r;
		struct task_struct *v = READ_ONCE(mr.v);
		u64 deadline = ktime_get_ns() + 200000000ULL;

		while (READ_ONCE(v->cpu) != mr.d && ktime_get_ns() < deadline)
			cpu_relax();
		if (READ_ONCE(v->cpu) != mr.d)
			mr.no_move++;   /* the wake-up kept it on c (d was busy) */
		else if (READ_ONCE(v->on_rq) != TASK_ON_RQ_QUEUED)
			mr.in_transit++;
		set_cpus_allowed_ptr(v, cpumask_of(mr.c));
		__atomic_store_n(&mr.helped, r, __ATOMIC_RELEASE);
	}
	return 0;
}

KTEST(sched_migrate_race, "sched.migrate_race")
{
	unsigned int cpu, e = NR_CPUS;
	int saved = sched_migrate_delay_us, rounds = 0, not_home = 0;
	struct cpumask cd;

	if (num_online_cpus() < 3) {
		printk("sched.migrate_race: needs 3 CPUs; nothing to check\n");
		return;
	}
	preempt_disable();
	mr.c = smp_processor_id();
	preempt_enable();
	mr.d = NR_CPUS;
	for_each_online_cpu(cpu) {
		if (cpu == mr.c)
			continue;
		if (mr.d == NR_CPUS)
			mr.d = cpu;
		else if (e == NR_CPUS)
			e = cpu;
	}
	KTEST_EXPECT(set_cpus_allowed_ptr(current, cpumask_of(mr.c)) == 0);
	mr.go = mr.helped = mr.stop = mr.runs = mr.mismatch = mr.in_transit = mr.no_move = 0;
	struct task_struct *h = kthread_create(mr_helper, NULL, "migrace/h");

	KTEST_EXPECT(h != NULL);
	if (!h)
		return;
	kthread_bind(h, e);
	wake_up_process(h);
	cpumask_clear(&cd);
	cpumask_set_cpu(mr.c, &cd);
	cpumask_set_cpu(mr.d, &cd);
	sched_migrate_delay_us = 10000;
	for (int r = 1; r <= MR_ROUNDS && !t->failed; r++) {
		struct task_struct *v = kthread_create(mr_victim, NULL, "migrace/%d", r);

		KTEST_EXPECT(v != NULL);
		if (!v)
			break;
		/* p->cpu = c (asleep: re-homed at once), then allowed on c and d. */
		set_cpus_allowed_ptr(v, cpumask_of(mr.c));
		set_cpus_allowed_ptr(v, &cd);
		WRITE_ONCE(mr.v, v);
		__atomic_store_n(&mr.go, r, __ATOMIC_RELEASE);
		/* The first wake-up spreads it to d, the idle one: a move. */
		wake_up_process(v);
		u64 deadline = ktime_get_ns() + 2000000000ULL;

		while (__atomic_load_n(&mr.helped, __ATOMIC_ACQUIRE) != r && ktime_get_ns() < deadline)
			msleep(1);
		KTEST_EXPECT_MSG(mr.helped == r, "round %d: the helper did not finish in 2 s", r);
		int runs = __atomic_load_n(&mr.runs, __ATOMIC_ACQUIRE);

		while ((__atomic_load_n(&mr.runs, __ATOMIC_ACQUIRE) < runs + 3) && ktime_get_ns() < deadline)
			msleep(1);
		if (READ_ONCE(mr.last_cpu) != (int)mr.c)
			not_home++;
		kthread_stop(v);
		rounds++;
	}
	sched_migrate_delay_us = saved;
	WRITE_ONCE(mr.stop, 1);
	kthread_stop(h);
	set_cpus_allowed_ptr(current, &cpu_possible_mask);
	printk("sched.migrate_race: %d rounds (CPUs %u -> %u, helper on %u), %d met the task in transit, "
	       "%d without a move, %d runs, %d on a CPU p->cpu does not name, %d not on its one allowed CPU\n",
	       rounds, mr.c, mr.d, e, mr.in_transit, mr.no_move, mr.runs, mr.mismatch, not_home);
	KTEST_EXPECT_MSG(mr.mismatch == 0, "the task ran on CPU %d while p->cpu said %d (%d runs): it was "
			 "re-homed in transit and queued where the move was going", mr.bad_cpu,
			 mr.bad_task_cpu, mr.mismatch);
	KTEST_EXPECT_MSG(not_home == 0, "%d rounds ended with the task off its only allowed CPU %u",
			 not_home, mr.c);
	KTEST_EXPECT_MSG(mr.in_transit * 2 >= rounds, "the helper met the task in transit in only %d of "
			 "%d rounds", mr.in_transit, rounds);
}

/*
 * ktest "sched.wake_running": a wake-up that lands between
 * set_current_state() and schedule() only sets the task running again; it
 * must not queue it (it is running, so it is on no queue: a second queueing
 * links its run_list twice). The sleeper announces itself and spins 50 us
 * before schedule(), a waker on another CPU wakes it in that window, and the
 * sleeper checks, interrupts off, that its run_list is still empty — the
 * invariant of every running task.
 */
#define WR_ROUNDS 200

static struct {
	int armed, woken;     /* round numbers */
	int queued_running, hit;
} wr;

static int wr_sleeper(void *arg)
{
	(void)arg;
	for (int r = 1; r <= WR_ROUNDS && !kthread_should_stop(); r++) {
		set_current_state(TASK_UNINTERRUPTIBLE);
		__atomic_store_n(&wr.armed, r, __ATOMIC_SEQ_CST);
		/* Hold the window open until the waker has been (a fixed 200 us
		 * missed most rounds when the host ran the waker's vCPU late). */
		for (int us = 0; us < 20000 && __atomic_load_n(&wr.woken, __ATOMIC_ACQUIRE) != r; us++)
			udelay(1);
		unsigned long flags = local_irq_save();

		bool bad = false;

		if (__atomic_load_n(&wr.woken, __ATOMIC_ACQUIRE) == r) {
			wr.hit++;
			bad = !list_empty(&current->run_list);
		}
		if (bad) {
			/* Take ourselves off the queue again and stop: schedule()
			 * would link run_list a second time and wreck the queue
			 * (with this bug the kernel hung before printing). */
			struct rq *rq = this_rq();

			wr.queued_running++;
			spin_lock(&rq->lock);
			if (!list_empty(&current->run_list)) {
				list_del_init(&current->run_list);
				rq->nr_queued--;
			}
			spin_unlock(&rq->lock);
			__set_current_state(TASK_RUNNING);
			local_irq_restore(flags);
			__atomic_store_n(&wr.woken, WR_ROUNDS, __ATOMIC_RELEASE);
			break;
		}
		local_irq_restore(flags);
		schedule();   /* does not sleep once woken */
		/* If the waker came late, it wakes us from here. */
	}
	while (!kthread_should_stop())
		msleep(1);
	return 0;
}

static int wr_waker(void *arg)
{
	struct task_struct *s = arg;
	int seen = 0;

	while (!kthread_should_stop()) {
		int r = __atomic_load_n(&wr.armed, __ATOMIC_SEQ_CST);

		if (r == seen) {
			cpu_relax();
			continue;
		}
		seen = r;
		wake_up_process(s);
		__atomic_store_n(&wr.woken, r, __ATOMIC_RELEASE);
		if (r == WR_ROUNDS)
			break;
	}
	while (!kthread_should_stop())
		msleep(1);
	return 0;
}

KTEST(sched_wake_running, "sched.wake_running")
{
	unsigned int cpus[2], n = 0, cpu;

	for_each_online_cpu(cpu)
		if (n < 2)
			cpus[n++] = cpu;
	if (n < 2) {
		printk("sched.wake_running: one CPU: nothing to check\n");
		return;
	}
	wr.armed = wr.woken = wr.queued_running = wr.hit = 0;
	struct task_struct *s = kthread_create(wr_sleeper, NULL, "wakerun/s");
	struct task_struct *w = s ? kthread_create(wr_waker, s, "wakerun/w") : NULL;

	KTEST_EXPECT(s && w);
	if (!s || !w)
		return;
	kthread_bind(s, cpus[0]);
	kthread_bind(w, cpus[1]);
	wake_up_process(w);
	wake_up_process(s);
	u64 deadline = ktime_get_ns() + 10000000000ULL;

	while (__atomic_load_n(&wr.woken, __ATOMIC_ACQUIRE) < WR_ROUNDS && ktime_get_ns() < deadline)
		msleep(5);
	kthread_stop(w);
	wake_up_process(s);
	kthread_stop(s);
	printk("sched.wake_running: %d rounds, %d woken between set_current_state and schedule, "
	       "%d of them queued while running\n", WR_ROUNDS, wr.hit, wr.queued_running);
	KTEST_EXPECT_MSG(wr.queued_running == 0, "%d wake-ups queued a task that was running (between "
			 "set_current_state() and schedule())", wr.queued_running);
	if (!wr.queued_running)
		KTEST_EXPECT_MSG(wr.hit * 4 >= WR_ROUNDS, "only %d of %d wake-ups landed in the window",
				 wr.hit, WR_ROUNDS);
}
