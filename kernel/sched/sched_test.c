/*
 * sched_test.c — in-kernel tests of the scheduler and its companions:
 * kthreads, parking, completions, wait queues, the mutex, msleep,
 * preemption, binding, smpboot threads, reaping stopped threads (without
 * waiting for a grace period). Run with ktest=sched (they need a
 * sleeping context: the ktest runner's thread).
 */
#include <grace/completion.h>
#include <grace/delay.h>
#include <grace/ktest.h>
#include <grace/mm.h>
#include <grace/kthread.h>
#include <grace/mutex.h>
#include <grace/printk.h>
#include <grace/rculist.h>
#include <grace/sched.h>
#include <grace/smpboot.h>
#include <grace/time.h>
#include <grace/wait.h>

#include "sched.h"

static void one_cpu_mask(struct cpumask *m, unsigned int cpu)
{
	cpumask_clear(m);
	cpumask_set_cpu(cpu, m);
}

/* The highest online CPU: puts the test on an AP when there is one. */
static unsigned int last_online_cpu(void)
{
	unsigned int cpu, last = 0;

	for_each_online_cpu(cpu)
		last = cpu;
	return last;
}

/* ---- sched.kthread ---- */

static volatile int kt_count;

static int kt_fn(void *data)
{
	while (!kthread_should_stop()) {
		__atomic_add_fetch(&kt_count, 1, __ATOMIC_RELAXED);
		msleep(1);
	}
	return (int)(long)data;
}

static int kt_quick(void *data)
{
	complete(data);
	return 7;
}

KTEST(sched_kthread, "sched.kthread")
{
	struct task_struct *k;
	u64 deadline;

	kt_count = 0;
	k = kthread_create(kt_fn, (void *)42L, "kt/%d", 1);
	KTEST_EXPECT(k != NULL);
	if (!k)
		return;
	msleep(20);
	KTEST_EXPECT_MSG(kt_count == 0, "created thread ran before wake_up_process");
	wake_up_process(k);
	deadline = ktime_get_ns() + 2000000000ULL;
	while (READ_ONCE(kt_count) < 3 && ktime_get_ns() < deadline)
		msleep(1);
	KTEST_EXPECT_MSG(kt_count >= 3, "thread did not run (count %d)", kt_count);
	KTEST_EXPECT_MSG(kthread_stop(k) == 42, "kthread_stop did not return fn's result");

	/* Stopped before it ever ran: fn is never called. */
	k = kthread_create(kt_fn, (void *)1L, "kt-never");
	KTEST_EXPECT(k && kthread_stop(k) == -4);

	/* A thread that ends on its own. */
	DECLARE_COMPLETION(done);
	k = kthread_run(kt_quick, &done, "kt-quick");
	KTEST_EXPECT(k != NULL);
	KTEST_EXPECT(wait_for_completion_timeout(&done, msecs_to_jiffies(2000)) != 0);
}

/* ---- sched.park ---- */

static volatile int park_count;

static int park_fn(void *data)
{
	(void)data;
	while (!kthread_should_stop()) {
		if (kthread_should_park())
			kthread_parkme();
		__atomic_add_fetch(&park_count, 1, __ATOMIC_RELAXED);
		msleep(1);
	}
	return 0;
}

KTEST(sched_park, "sched.park")
{
	struct task_struct *k = kthread_run(park_fn, NULL, "parktest");
	int before;
	u64 deadline;

	KTEST_EXPECT(k != NULL);
	if (!k)
		return;
	for (int round = 0; round < 5 && !t->failed; round++) {
		deadline = ktime_get_ns() + 2000000000ULL;
		before = park_count;
		while (park_count == before && ktime_get_ns() < deadline)
			msleep(1);
		KTEST_EXPECT_MSG(park_count != before, "round %d: not running before park", round);
		KTEST_EXPECT(kthread_park(k) == 0);
		KTEST_EXPECT(kthread_is_parked(k));
		KTEST_EXPECT_MSG(k->state == TASK_PARKED && !k->on_rq && !k->on_cpu,
				 "park returned with the thread not parked (state %#x on_rq %d on_cpu %d)",
				 k->state, k->on_rq, k->on_cpu);
		before = park_count;
		msleep(30);
		KTEST_EXPECT_MSG(park_count == before, "round %d: parked thread ran", round);
		kthread_unpark(k);
	}
	kthread_stop(k);

	/* Parked before it ever ran: starts only when unparked. */
	park_count = 0;
	k = kthread_create(park_fn, NULL, "parknew");
	KTEST_EXPECT(k && kthread_park(k) == 0);
	wake_up_process(k);
	msleep(30);
	KTEST_EXPECT_MSG(park_count == 0, "a thread parked before start ran on wake_up_process");
	kthread_unpark(k);
	deadline = ktime_get_ns() + 2000000000ULL;
	while (park_count == 0 && ktime_get_ns() < deadline)
		msleep(1);
	KTEST_EXPECT_MSG(park_count > 0, "unparked new thread never ran");
	kthread_stop(k);
}

/* ---- sched.completion ---- */

struct pingpong {
	struct completion ping, pong;
	int rounds;
};

static int pong_fn(void *data)
{
	struct pingpong *pp = data;

	for (int i = 0; i < pp->rounds; i++) {
		wait_for_completion(&pp->ping);
		complete(&pp->pong);
	}
	return 0;
}

static struct completion all_gate;
static volatile int all_passed;

static int all_fn(void *data)
{
	(void)data;
	wait_for_completion(&all_gate);
	__atomic_add_fetch(&all_passed, 1, __ATOMIC_RELAXED);
	return 0;
}

KTEST(sched_completion, "sched.completion")
{
	static struct pingpong pp;
	struct task_struct *k;
	u64 t0;

	init_completion(&pp.ping);
	init_completion(&pp.pong);
	pp.rounds = 200;
	k = kthread_run(pong_fn, &pp, "pong");
	KTEST_EXPECT(k != NULL);
	for (int i = 0; i < pp.rounds && !t->failed; i++) {
		complete(&pp.ping);
		KTEST_EXPECT_MSG(wait_for_completion_timeout(&pp.pong, msecs_to_jiffies(2000)),
				 "round %d: no pong", i);
	}

	/* A timeout that expires. */
	DECLARE_COMPLETION(never);
	t0 = ktime_get_ns();
	KTEST_EXPECT(wait_for_completion_timeout(&never, msecs_to_jiffies(50)) == 0);
	KTEST_EXPECT_MSG(ktime_get_ns() - t0 >= 40000000ULL, "timed out too early");
	KTEST_EXPECT(!try_wait_for_completion(&never));
	complete(&never);
	KTEST_EXPECT(try_wait_for_completion(&never));

	/* complete_all lets everyone through, now and later. */
	init_completion(&all_gate);
	all_passed = 0;
	for (int i = 0; i < 4; i++)
		kthread_run(all_fn, NULL, "allwait/%d", i);
	msleep(20);
	KTEST_EXPECT(all_passed == 0);
	complete_all(&all_gate);
	u64 deadline = ktime_get_ns() + 2000000000ULL;

	while (all_passed < 4 && ktime_get_ns() < deadline)
		msleep(1);
	KTEST_EXPECT_MSG(all_passed == 4, "complete_all released %d of 4", all_passed);
	wait_for_completion(&all_gate);   /* still done */
	reinit_completion(&all_gate);
	KTEST_EXPECT(!completion_done(&all_gate));
}

/* ---- sched.waitqueue ---- */

static DECLARE_WAIT_QUEUE_HEAD(wq_test);
static volatile int wq_flag, wq_woken;

static int wq_fn(void *data)
{
	(void)data;
	wait_event(wq_test, READ_ONCE(wq_flag));
	__atomic_add_fetch(&wq_woken, 1, __ATOMIC_RELAXED);
	return 0;
}

KTEST(sched_waitqueue, "sched.waitqueue")
{
	u64 deadline;
	long ret;

	wq_flag = 0;
	wq_woken = 0;
	for (int i = 0; i < 6; i++)
		kthread_run(wq_fn, NULL, "wqwait/%d", i);
	msleep(30);
	KTEST_EXPECT(wq_woken == 0);
	wake_up_all(&wq_test);          /* condition still false: back to sleep */
	msleep(10);
	KTEST_EXPECT_MSG(wq_woken == 0, "a waiter passed a false condition");
	WRITE_ONCE(wq_flag, 1);
	wake_up_all(&wq_test);
	deadline = ktime_get_ns() + 2000000000ULL;
	while (wq_woken < 6 && ktime_get_ns() < deadline)
		msleep(1);
	KTEST_EXPECT_MSG(wq_woken == 6, "%d of 6 waiters woke", wq_woken);
	KTEST_EXPECT(!waitqueue_active(&wq_test));

	ret = wait_event_timeout(wq_test, READ_ONCE(wq_flag) == 2, msecs_to_jiffies(30));
	KTEST_EXPECT_MSG(ret == 0, "wait_event_timeout on a false condition returned %ld", ret);
	ret = wait_event_timeout(wq_test, READ_ONCE(wq_flag) == 1, 5);
	KTEST_EXPECT(ret == 5);
}

/* ---- sched.mutex ---- */

#define MUTEX_THREADS 4
#define MUTEX_LOOPS   2000

static DEFINE_MUTEX(test_mutex);
static volatile unsigned long mutex_counter;
static volatile int mutex_inside;
static volatile int mutex_overlap;
static struct completion mutex_done;

static int mutex_fn(void *data)
{
	(void)data;
	for (int i = 0; i < MUTEX_LOOPS; i++) {
		mutex_lock(&test_mutex);
		if (__atomic_add_fetch(&mutex_inside, 1, __ATOMIC_SEQ_CST) != 1)
			mutex_overlap = 1;
		unsigned long v = mutex_counter;   /* a non-atomic increment, */

		if ((i & 63) == 0)
			yield();                   /* stretched over a switch */
		mutex_counter = v + 1;
		__atomic_sub_fetch(&mutex_inside, 1, __ATOMIC_SEQ_CST);
		mutex_unlock(&test_mutex);
	}
	complete(&mutex_done);
	return 0;
}

KTEST(sched_mutex, "sched.mutex")
{
	mutex_counter = 0;
	mutex_overlap = 0;
	init_completion(&mutex_done);
	for (int i = 0; i < MUTEX_THREADS; i++)
		kthread_run(mutex_fn, NULL, "mutex/%d", i);
	for (int i = 0; i < MUTEX_THREADS; i++)
		KTEST_EXPECT_MSG(wait_for_completion_timeout(&mutex_done, msecs_to_jiffies(20000)),
				 "mutex thread %d did not finish", i);
	KTEST_EXPECT_MSG(mutex_counter == MUTEX_THREADS * MUTEX_LOOPS, "counter %lu, want %d",
			 mutex_counter, MUTEX_THREADS * MUTEX_LOOPS);
	KTEST_EXPECT(!mutex_overlap);
	KTEST_EXPECT(!mutex_is_locked(&test_mutex));
	KTEST_EXPECT(mutex_trylock(&test_mutex));
	KTEST_EXPECT(test_mutex.owner == current);
	mutex_unlock(&test_mutex);
}

/* ---- sched.msleep ---- */

KTEST(sched_msleep, "sched.msleep")
{
	static const unsigned int ms[] = { 1, 10, 50, 100 };

	for (unsigned int i = 0; i < ARRAY_SIZE(ms); i++) {
		u64 t0 = ktime_get_ns();

		msleep(ms[i]);
		u64 dt = (ktime_get_ns() - t0) / 1000000;

		KTEST_EXPECT_MSG(dt >= ms[i], "msleep(%u) took %llu ms", ms[i], (unsigned long long)dt);
		KTEST_EXPECT_MSG(dt < ms[i] + 500, "msleep(%u) took %llu ms", ms[i], (unsigned long long)dt);
	}
}

/* ---- sched.preempt ---- */

static volatile int hog_stop;
static volatile unsigned long hog_spins, other_spins;

/* Never sleeps, never calls the scheduler: only preemption gets it off. */
static int hog_fn(void *data)
{
	volatile unsigned long *ctr = data;

	while (!READ_ONCE(hog_stop))
		(*ctr)++;
	while (!kthread_should_stop())
		msleep(1);
	return 0;
}

KTEST(sched_preempt, "sched.preempt")
{
	unsigned int cpu = last_online_cpu();
	struct task_struct *a, *b;

	hog_stop = 0;
	hog_spins = other_spins = 0;
	a = kthread_create(hog_fn, (void *)&hog_spins, "hog");
	b = kthread_create(hog_fn, (void *)&other_spins, "hog2");
	KTEST_EXPECT(a && b);
	if (!a || !b)
		return;
	kthread_bind(a, cpu);
	kthread_bind(b, cpu);
	wake_up_process(a);
	msleep(20);                 /* a owns the CPU now */
	wake_up_process(b);
	msleep(300);
	unsigned long sa = hog_spins, sb = other_spins;

	WRITE_ONCE(hog_stop, 1);
	KTEST_EXPECT_MSG(sa > 0 && sb > 0, "on CPU %u: hog %lu spins, other %lu: no preemption", cpu, sa, sb);
	KTEST_EXPECT_MSG(a->nivcsw + b->nivcsw > 0, "no involuntary switches recorded");
	kthread_stop(a);
	kthread_stop(b);
}

/* ---- sched.bind ---- */

static volatile int bind_cpu_seen = -1;

static int bind_fn(void *data)
{
	(void)data;
	while (!kthread_should_stop()) {
		WRITE_ONCE(bind_cpu_seen, (int)smp_processor_id());
		msleep(1);
	}
	return 0;
}

static volatile int busy_bind_stop;
static volatile int busy_cpu_seen = -1;

/* Bound while running: must be moved off its CPU while it spins. */
static int busy_bind_fn(void *data)
{
	(void)data;
	while (!READ_ONCE(busy_bind_stop))
		WRITE_ONCE(busy_cpu_seen, (int)smp_processor_id());
	while (!kthread_should_stop())
		msleep(1);
	return 0;
}

KTEST(sched_bind, "sched.bind")
{
	struct task_struct *k = kthread_run(bind_fn, NULL, "bindtest");
	struct cpumask m;
	unsigned int cpu;

	KTEST_EXPECT(k != NULL);
	if (!k)
		return;
	for (int pass = 0; pass < 2; pass++) {
		for_each_online_cpu(cpu) {
			one_cpu_mask(&m, cpu);
			int ret = set_cpus_allowed_ptr(k, &m);

			KTEST_EXPECT_MSG(ret == 0, "bind to online CPU %u failed (%d)", cpu, ret);
			WRITE_ONCE(bind_cpu_seen, -1);
			u64 deadline = ktime_get_ns() + 2000000000ULL;

			while (READ_ONCE(bind_cpu_seen) != (int)cpu && ktime_get_ns() < deadline)
				msleep(1);
			KTEST_EXPECT_MSG(bind_cpu_seen == (int)cpu, "bound to CPU %u, runs on %d",
					 cpu, bind_cpu_seen);
			KTEST_EXPECT(task_cpu(k) == cpu);
		}
	}
	/* No active CPU in the mask: refused. */
	cpumask_clear(&m);
	KTEST_EXPECT(set_cpus_allowed_ptr(k, &m) == -22);
	for_each_possible_cpu(cpu) {
		if (!cpumask_test_cpu(cpu, &cpu_active_mask)) {
			one_cpu_mask(&m, cpu);
			KTEST_EXPECT_MSG(set_cpus_allowed_ptr(k, &m) == -22,
					 "bind to inactive CPU %u accepted", cpu);
			break;
		}
	}
	set_cpus_allowed_ptr(k, &cpu_possible_mask);
	kthread_stop(k);

	/* A running, spinning thread moves when its affinity changes. */
	unsigned int last = last_online_cpu();

	if (last == 0)
		return;
	busy_bind_stop = 0;
	k = kthread_create(busy_bind_fn, NULL, "busybind");
	one_cpu_mask(&m, last);
	set_cpus_allowed_ptr(k, &m);
	wake_up_process(k);
	u64 deadline = ktime_get_ns() + 2000000000ULL;

	while (READ_ONCE(busy_cpu_seen) != (int)last && ktime_get_ns() < deadline)
		msleep(1);
	one_cpu_mask(&m, 0);
	KTEST_EXPECT(set_cpus_allowed_ptr(k, &m) == 0);
	deadline = ktime_get_ns() + 2000000000ULL;
	while (READ_ONCE(busy_cpu_seen) != 0 && ktime_get_ns() < deadline)
		msleep(1);
	KTEST_EXPECT_MSG(busy_cpu_seen == 0, "running thread not moved to CPU 0 (on %d)", busy_cpu_seen);
	WRITE_ONCE(busy_bind_stop, 1);
	kthread_stop(k);
}

/* ---- sched.reap ---- */

/*
 * The hotplug torture's workload pattern without the hotplug: a thread moves
 * itself between CPUs (set_cpus_allowed_ptr on itself), resets its affinity,
 * and is stopped; over and over. Two legal endings alternate:
 *   - it runs until kthread_should_stop();
 *   - it returns on its own and is dead and released (only the stopper's
 *     reference left) before kthread_stop() — the stopper holds a reference
 *     from creation on, as kthread.c requires.
 * Each kthread_stop() must return the thread's result, and once the dead are
 * reaped exactly as many kernel stacks are allocated as before.
 */
#define REAP_ROUNDS 16
#define REAP_UNTIL_STOP 1L

static volatile int reap_misplaced, reap_moved;

static int reap_fn(void *data)
{
	long arg = (long)data;
	unsigned int round = (unsigned int)(arg >> 1), n = num_online_cpus();

	for (unsigned int i = 0; i < 4; i++) {
		unsigned int pick = (round + i) % (n ? n : 1), cpu, target = 0;

		for_each_online_cpu(cpu)
			if (pick-- == 0)
				target = cpu;
		if (set_cpus_allowed_ptr(current, cpumask_of(target)) == 0 &&
		    smp_processor_id() != target)
			__atomic_add_fetch(&reap_misplaced, 1, __ATOMIC_RELAXED);
		msleep(1);
	}
	set_cpus_allowed_ptr(current, &cpu_possible_mask);
	__atomic_add_fetch(&reap_moved, 1, __ATOMIC_RELEASE);
	if (arg & REAP_UNTIL_STOP)
		while (!kthread_should_stop())
			msleep(1);
	return (int)round;
}

KTEST(sched_reap, "sched.reap")
{
	reap_dead_tasks();
	unsigned int start = nr_kernel_stacks();
	u64 deadline;

	reap_misplaced = reap_moved = 0;
	for (unsigned int round = 0; round < REAP_ROUNDS && !t->failed; round++) {
		bool on_its_own = round & 1;
		long arg = (long)round << 1 | (on_its_own ? 0 : REAP_UNTIL_STOP);
		struct task_struct *k = kthread_create(reap_fn, (void *)arg, "reap/%u", round);

		KTEST_EXPECT(k != NULL);
		if (!k)
			break;
		if (on_its_own)
			get_task_struct(k);
		wake_up_process(k);
		/* Stopped before threadfn runs, it would return -EINTR: let it move first. */
		deadline = ktime_get_ns() + 2000000000ULL;
		while (__atomic_load_n(&reap_moved, __ATOMIC_ACQUIRE) != (int)round + 1 &&
		       ktime_get_ns() < deadline)
			msleep(1);
		if (on_its_own) {
			/* Dead and off its CPU: it dropped its own reference. */
			deadline = ktime_get_ns() + 2000000000ULL;
			while (READ_ONCE(k->usage) > 1 && ktime_get_ns() < deadline)
				msleep(1);
			KTEST_EXPECT_MSG(k->state == TASK_DEAD && READ_ONCE(k->usage) == 1,
					 "round %u: thread did not end (state %#x usage %d)",
					 round, k->state, k->usage);
		}
		int ret = kthread_stop(k);

		KTEST_EXPECT_MSG(ret == (int)round, "round %u: kthread_stop returned %d", round, ret);
		if (on_its_own)
			put_task_struct(k);
	}
	KTEST_EXPECT_MSG(reap_misplaced == 0, "%d self-migrations returned on the wrong CPU",
			 reap_misplaced);
	/* A thread drops its own reference after it switched out, maybe after
	 * kthread_stop() returned: reap until the count settles. */
	deadline = ktime_get_ns() + 2000000000ULL;
	for (;;) {
		reap_dead_tasks();
		if (nr_kernel_stacks() <= start || ktime_get_ns() >= deadline)
			break;
		msleep(1);
	}
	/* Fewer is not a leak: a thread of an earlier test, already dead when
	 * `start` was counted, may have been reaped meanwhile (seen in CI). */
	KTEST_EXPECT_MSG(nr_kernel_stacks() <= start, "%u kernel stacks before, %u after %d threads",
			 start, nr_kernel_stacks(), REAP_ROUNDS);
}

/* ---- sched.smpboot ---- */

static DEFINE_PER_CPU(struct task_struct *, sb_thread);
static DEFINE_PER_CPU(int, sb_should);
static volatile int sb_ran[NR_CPUS], sb_wrong_cpu, sb_setups;

static int sb_should_run(unsigned int cpu)
{
	return READ_ONCE(per_cpu(sb_should, cpu));
}

static void sb_fn(unsigned int cpu)
{
	WRITE_ONCE(per_cpu(sb_should, cpu), 0);
	if (smp_processor_id() != cpu)
		sb_wrong_cpu = 1;
	__atomic_add_fetch(&sb_ran[cpu], 1, __ATOMIC_RELAXED);
}

static void sb_setup(unsigned int cpu)
{
	(void)cpu;
	__atomic_add_fetch(&sb_setups, 1, __ATOMIC_RELAXED);
}

static struct smp_hotplug_thread sb_threads = {
	.store = &sb_thread,
	.thread_should_run = sb_should_run,
	.thread_fn = sb_fn,
	.setup = sb_setup,
	.thread_comm = "sbtest/%u",
};

KTEST(sched_smpboot, "sched.smpboot")
{
	unsigned int cpu, n = 0;

	for_each_possible_cpu(cpu) {
		sb_ran[cpu] = 0;
		per_cpu(sb_should, cpu) = 0;
	}
	sb_wrong_cpu = 0;
	sb_setups = 0;
	KTEST_EXPECT(smpboot_register_percpu_thread(&sb_threads) == 0);
	for_each_online_cpu(cpu) {
		WRITE_ONCE(per_cpu(sb_should, cpu), 1);
		wake_up_process(per_cpu(sb_thread, cpu));
		n++;
	}
	u64 deadline = ktime_get_ns() + 2000000000ULL;

	for_each_online_cpu(cpu)
		while (!READ_ONCE(sb_ran[cpu]) && ktime_get_ns() < deadline)
			msleep(1);
	for_each_online_cpu(cpu)
		KTEST_EXPECT_MSG(sb_ran[cpu] == 1, "CPU %u's thread ran %d times", cpu, sb_ran[cpu]);
	KTEST_EXPECT(!sb_wrong_cpu);
	KTEST_EXPECT_MSG(sb_setups == (int)n, "%d setups for %u CPUs", sb_setups, n);
	smpboot_unregister_percpu_thread(&sb_threads);
}

/* ---- sched.task_rcu ---- */

/*
 * task_list is read under RCU and a dead task is freed only a grace period
 * after it left the list (reap_dead_tasks). A walker on another CPU reads
 * every task it meets, and holds each of this test's short-lived threads
 * until it has left the list and 20 ms more; the test starts and stops 12
 * of them, each freed by a reap while the walker holds it. The walker checks that a task it holds
 * keeps its tid and is not poisoned (DEBUG kfree fills freed memory with
 * 0x6b; without DEBUG a reused struct changes the tid). Catches
 * sched.bug_free_task_no_gp=1 (scenario sched-bug-free-task-no-gp).
 */
static unsigned long trcu_walks, trcu_bad, trcu_met, trcu_left;
static struct task_struct *volatile trcu_holding;   /* what the walker holds now */

static int trcu_short_fn(void *data)
{
	(void)data;
	while (!kthread_should_stop())
		msleep(1);
	return 0;
}

static int trcu_walker_fn(void *data)
{
	(void)data;
	while (!kthread_should_stop()) {
		struct list_head *pos, *nx;

		rcu_read_lock();
		/* list_for_each_entry_rcu by hand: a freed task's next pointer
		 * is poison (DEBUG) and must not be followed. */
		for (pos = READ_ONCE(task_list.next); pos != &task_list; pos = nx) {
			struct task_struct *p = container_of(pos, struct task_struct, tasks);
			int tid = READ_ONCE(p->tid);

			nx = READ_ONCE(pos->next);
			if ((unsigned long)nx == 0x6b6b6b6b6b6b6b6bUL) {
				trcu_bad++;
				break;
			}
			if (p->comm[0] != 't' || p->comm[1] != 'r' || p->comm[2] != 'c')
				continue;
			trcu_met++;
			WRITE_ONCE(trcu_holding, p);
			/* Hold it, as a slow reader would, until it has left the
			 * list (at most 200 ms) and 20 ms more: a correct reap
			 * waits for this reader; a wrong one frees it now. */
			for (int i = 0; i < 20000 && READ_ONCE(p->tasks.prev) != LIST_POISON2; i++)
				udelay(10);
			if (READ_ONCE(p->tasks.prev) == LIST_POISON2)
				trcu_left++;
			mdelay(20);
			bool dead = READ_ONCE(p->tid) != tid || (u8)READ_ONCE(p->comm[0]) == 0x6b;

			WRITE_ONCE(trcu_holding, NULL);
			nx = READ_ONCE(pos->next);
			if (dead || (unsigned long)nx == 0x6b6b6b6b6b6b6b6bUL) {
				trcu_bad++;
				break;
			}
		}
		rcu_read_unlock();
		trcu_walks++;
		msleep(1);   /* a quiescent state between walks */
	}
	return 0;
}

KTEST(sched_task_rcu, "sched.task_rcu")
{
	struct task_struct *w;
	unsigned int other, me;

	preempt_disable();
	me = smp_processor_id();
	other = cpumask_any_but(&cpu_online_mask, me);
	preempt_enable();
	if (other == NR_CPUS)
		return;   /* one CPU: the walker could not overlap a free */
	trcu_walks = trcu_bad = trcu_met = trcu_left = 0;
	w = kthread_create(trcu_walker_fn, NULL, "trcu-walker");
	KTEST_EXPECT(w);
	if (!w)
		return;
	kthread_bind(w, other);
	get_task_struct(w);
	wake_up_process(w);
	for (int i = 0; i < 12; i++) {
		struct task_struct *k = kthread_create(trcu_short_fn, NULL, "trcu/%d", i);

		KTEST_EXPECT(k);
		if (!k)
			break;
		/* Not on the walker's CPU, whose reader would keep it from
		 * running (and so from dying) while it is held. */
		kthread_bind(k, me);
		wake_up_process(k);
		/* Until the walker holds it (at most 200 ms), then stop it:
		 * reaped here or at the next kthread_run. */
		for (int w = 0; w < 100 && READ_ONCE(trcu_holding) != k; w++)
			msleep(2);
		kthread_stop(k);
	}
	reap_dead_tasks();
	/* kthread_stop() is the only stop signal: a thread that returned on a
	 * flag of its own could be released before this (ktest-all warned). */
	kthread_stop(w);
	put_task_struct(w);
	KTEST_EXPECT_MSG(!trcu_bad, "a task_list reader held %lu freed tasks (freed before a grace period)",
			 trcu_bad);
	KTEST_EXPECT_MSG(trcu_left > 0, "the walker never held a test thread as it left the list "
			 "(%lu met, %lu walks): nothing was tested", trcu_met, trcu_walks);
}

/* ---- sched.reap_no_gp ---- */

/*
 * A dead task is freed a grace period after it left task_list, but nobody
 * waits for that grace period: while a thread on another CPU sits in one
 * reader (up to 1 s), this test creates, runs and stops 8 short-lived
 * threads, and each kthread_create() and kthread_stop() must return while
 * that reader is still inside (the reaper frees only what an RCU callback
 * handed it). A reaper that waits for the grace period, as the one before
 * call_rcu did (cond_synchronize_rcu), blocks in the first kthread_stop()
 * until the reader gives up. Then, the reader gone, the 8 stacks must come
 * back: the grace period ended and the callback's hand-off freed them.
 */
static volatile int rnogp_state;       /* 1: in the reader; 2: left it on its own (timeout) */
static volatile bool rnogp_release;

static int rnogp_reader_fn(void *data)
{
	u64 until = ktime_get_ns() + 1000000000ULL;
	int why = 0;

	(void)data;
	rcu_read_lock();
	WRITE_ONCE(rnogp_state, 1);
	while (!READ_ONCE(rnogp_release) && ktime_get_ns() < until)
		udelay(10);
	if (!READ_ONCE(rnogp_release))
		why = 2;
	rcu_read_unlock();
	if (why)
		WRITE_ONCE(rnogp_state, why);
	while (!kthread_should_stop())
		msleep(1);
	return 0;
}

KTEST(sched_reap_no_gp, "sched.reap_no_gp")
{
	struct task_struct *r;
	unsigned int other, me, start;
	u64 t0, dt, deadline;
	int done = 0;

	preempt_disable();
	me = smp_processor_id();
	other = cpumask_any_but(&cpu_online_mask, me);
	preempt_enable();
	if (other == NR_CPUS)
		return;   /* one CPU: no other CPU to hold the reader */
	reap_dead_tasks();
	rnogp_state = 0;
	rnogp_release = false;
	r = kthread_create(rnogp_reader_fn, NULL, "rnogp-reader");
	KTEST_EXPECT(r);
	if (!r)
		return;
	kthread_bind(r, other);
	get_task_struct(r);
	wake_up_process(r);
	deadline = ktime_get_ns() + 2000000000ULL;
	while (READ_ONCE(rnogp_state) == 0 && ktime_get_ns() < deadline)
		msleep(1);
	KTEST_EXPECT_MSG(READ_ONCE(rnogp_state) == 1, "the reader on CPU %u did not start", other);
	start = nr_kernel_stacks();
	t0 = ktime_get_ns();
	for (int i = 0; i < 8 && READ_ONCE(rnogp_state) == 1; i++) {
		struct task_struct *k = kthread_create(trcu_short_fn, NULL, "rnogp/%d", i);

		KTEST_EXPECT(k);
		if (!k)
			break;
		kthread_bind(k, me);
		wake_up_process(k);
		kthread_stop(k);
		done++;
	}
	dt = ktime_get_ns() - t0;
	KTEST_EXPECT_MSG(READ_ONCE(rnogp_state) == 1 && done == 8,
			 "kthread_create/kthread_stop waited for the reader on CPU %u (%d of 8 threads in "
			 "%llu ms): they waited for a grace period", other, done,
			 (unsigned long long)(dt / 1000000));
	printk("sched.reap_no_gp: 8 threads created and stopped in %llu us under a reader on CPU %u\n",
	       (unsigned long long)(dt / 1000), other);
	WRITE_ONCE(rnogp_release, true);
	kthread_stop(r);
	put_task_struct(r);
	/* The grace period can end now; the callbacks hand the tasks over. */
	deadline = ktime_get_ns() + 2000000000ULL;
	for (;;) {
		reap_dead_tasks();
		if (nr_kernel_stacks() <= start || ktime_get_ns() >= deadline)
			break;
		msleep(1);
	}
	KTEST_EXPECT_MSG(nr_kernel_stacks() <= start,
			 "%u kernel stacks before the 8 threads, %u 2 s after the reader ended: not freed",
			 start, nr_kernel_stacks());
}
