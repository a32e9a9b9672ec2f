/*
 * placement_test.c — ktest "sched.inactive": no task is placed on a CPU
 * that is online but not active.
 *
 * The property (is_cpu_allowed): between CPUHP_AP_ONLINE and CPUHP_AP_ACTIVE
 * a CPU runs interrupts, its idle task and its per-CPU kthreads, but the
 * scheduler must not put anything else there — going down, it has just
 * pushed its tasks away; coming up, it is not ready for them. The test rests
 * the last CPU at each resting state in that range, starts threads allowed
 * everywhere (the idle CPU is the least loaded, so a placement that ignores
 * "active" picks it first), lets each sleep and wake twenty times (every
 * wake-up is a placement), and checks that none of them ever ran there.
 * Needs two CPUs; scenario sched-smp4 (ktest=sched).
 */
#include <grace/cpuhotplug.h>
#include <grace/cpumask.h>
#include <grace/ktest.h>
#include <grace/kthread.h>
#include <grace/printk.h>
#include <grace/sched.h>
#include <grace/time.h>

#define PL_THREADS 6

static struct {
	int victim;
	int bad_cpu_runs;
	int done;
	int runs;
} pl;

static int pl_thread(void *arg)
{
	(void)arg;
	for (int i = 0; i < 20; i++) {
		preempt_disable();
		if ((int)smp_processor_id() == READ_ONCE(pl.victim))
			__atomic_add_fetch(&pl.bad_cpu_runs, 1, __ATOMIC_RELAXED);
		preempt_enable();
		__atomic_add_fetch(&pl.runs, 1, __ATOMIC_RELAXED);
		msleep(1);
	}
	__atomic_add_fetch(&pl.done, 1, __ATOMIC_RELEASE);
	return 0;
}

KTEST(sched_inactive, "sched.inactive")
{
	unsigned int last = 0, cpu;
	int tested = 0;

	if (num_online_cpus() < 2) {
		printk("sched.inactive: one CPU online: nothing to check\n");
		return;
	}
	for_each_online_cpu(cpu)
		last = cpu;
	for (enum cpuhp_state s = CPUHP_AP_ACTIVE - 1; s >= CPUHP_AP_ONLINE; s--) {
		struct cpuhp_state_info i;

		cpuhp_describe(s, &i);
		if (!i.used || !i.can_rest)
			continue;
		if (cpu_down(last, s)) {
			KTEST_EXPECT_MSG(0, "could not take CPU %u down to %s", last, cpuhp_state_name(s));
			break;
		}
		KTEST_EXPECT_MSG(cpu_online(last) && !cpumask_test_cpu(last, &cpu_active_mask),
				 "CPU %u at %s: online %d active %d", last, cpuhp_state_name(s),
				 cpu_online(last), cpumask_test_cpu(last, &cpu_active_mask));
		pl.victim = (int)last;
		pl.bad_cpu_runs = pl.done = pl.runs = 0;
		for (int k = 0; k < PL_THREADS; k++)
			KTEST_EXPECT(kthread_run(pl_thread, NULL, "placement/%d", k) != NULL);
		u64 deadline = ktime_get_ns() + 5000000000ULL;

		while (__atomic_load_n(&pl.done, __ATOMIC_ACQUIRE) < PL_THREADS && ktime_get_ns() < deadline)
			msleep(2);
		KTEST_EXPECT_MSG(pl.done == PL_THREADS, "%d of %d threads finished", pl.done, PL_THREADS);
		WRITE_ONCE(pl.victim, -1);
		tested++;
		KTEST_EXPECT_MSG(pl.bad_cpu_runs == 0, "%d of %d runs were on CPU %u, online but not active (at %s)",
				 pl.bad_cpu_runs, pl.runs, last, cpuhp_state_name(s));
		if (t->failed)
			break;
	}
	KTEST_EXPECT_MSG(cpu_up(last, CPUHP_ONLINE) == 0, "could not bring CPU %u back", last);
	KTEST_EXPECT_MSG(tested > 0, "no resting state between AP_ONLINE and AP_ACTIVE to test");
}
