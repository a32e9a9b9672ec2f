/*
 * cpuhp_test.c — in-kernel tests of the hotplug state machine.
 *
 *   hotplug.rollback  for every state that may fail, in each direction it may
 *                     fail, inject one failure and check that the CPU is left
 *                     exactly where the operation started: same state, same
 *                     masks, and every test state's startups and teardowns
 *                     balanced. Then check the next operation succeeds. One
 *                     test state has a startup callback only: a failure armed
 *                     there going down (nothing to run) must still fail.
 *   hotplug.bind      right after cpu_up(n) returns, binding a thread to n
 *                     succeeds and the thread runs on n — 20 times (cpu.c: consistency on return)
 *   hotplug.refuse    impossible requests are refused with a reason
 *   hotplug.dynamic   cpuhp_setup_state/cpuhp_remove_state call back on
 *                     every CPU past the state, and undo a partial failure
 *
 * Each needs two online CPUs; with one, the test passes vacuously and says so.
 */
#include <grace/cpuhotplug.h>
#include <grace/cpumask.h>
#include <grace/errno.h>
#include <grace/ktest.h>
#include <grace/kthread.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/sched.h>
#include <grace/time.h>

/* A state that records its own transitions per CPU. */
static int test_installed[NR_CPUS];
static int test_errors;
static unsigned int test_fail_cpu = NR_CPUS;

static int test_startup(unsigned int cpu)
{
	if (cpu == test_fail_cpu)
		return -EIO;
	if (test_installed[cpu]++)
		test_errors++;
	return 0;
}

static int test_teardown(unsigned int cpu)
{
	if (--test_installed[cpu])
		test_errors++;
	return 0;
}

/* Both dynamic test states share the counters, so keep a count per state. */
static int prep_installed[NR_CPUS];

static int prep_startup(unsigned int cpu)
{
	if (prep_installed[cpu]++)
		test_errors++;
	return 0;
}

static int prep_teardown(unsigned int cpu)
{
	if (--prep_installed[cpu])
		test_errors++;
	return 0;
}

/* A third state with a startup callback only: going down there has nothing
 * to run, yet a failure armed there must still fail the walk. */
static int half_startup(unsigned int cpu)
{
	(void)cpu;
	return 0;
}

static unsigned int pick_victim(void)
{
	unsigned int cpu, victim = NR_CPUS;

	for_each_cpu(cpu, &cpu_present_mask)
		if (cpu != 0)
			victim = cpu;
	return victim;
}

struct snapshot {
	enum cpuhp_state state;
	bool online, active;
	int installed, prep;
};

static void snap(unsigned int cpu, struct snapshot *s)
{
	enum cpuhp_state tgt, fail;
	u64 last;

	cpuhp_cpu_info(cpu, &s->state, &tgt, &fail, &last);
	s->online = cpu_online(cpu);
	s->active = cpumask_test_cpu(cpu, &cpu_active_mask);
	s->installed = test_installed[cpu];
	s->prep = prep_installed[cpu];
}

static bool same(const struct snapshot *a, const struct snapshot *b)
{
	return a->state == b->state && a->online == b->online && a->active == b->active &&
	       a->installed == b->installed && a->prep == b->prep;
}

KTEST(hotplug_rollback, "hotplug.rollback")
{
	unsigned int v = pick_victim();

	if (v == NR_CPUS) {
		printk("hotplug.rollback: needs a second present CPU; nothing to do\n");
		return;
	}
	int on = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "test:online", test_startup, test_teardown);
	int bp = cpuhp_setup_state(CPUHP_BP_PREPARE_DYN, "test:prepare", prep_startup, prep_teardown);
	int half = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "test:startup-only", half_startup, NULL);

	KTEST_EXPECT(on > 0 && bp > 0 && half > 0);
	test_errors = 0;
	for (int s = CPUHP_OFFLINE + 1; s < CPUHP_ONLINE; s++) {
		struct cpuhp_state_info info;
		const char *why;

		cpuhp_describe((enum cpuhp_state)s, &info);
		for (int dir = 0; dir < 2; dir++) {
			bool up = dir == 0;
			struct snapshot before, after;
			int ret;

			if (up ? !info.may_fail_up : !info.may_fail_down)
				continue;
			/* Start from the far end so the walk crosses state s. */
			if (up)
				ret = cpu_down(v, CPUHP_OFFLINE);
			else
				ret = cpu_up(v, CPUHP_ONLINE);
			KTEST_EXPECT_MSG(ret == 0, "could not reset CPU %u (%d)", v, ret);
			if (cpuhp_inject_fail(v, (enum cpuhp_state)s, &why))
				continue; /* no callbacks there: nothing to inject */
			snap(v, &before);
			ret = up ? cpu_up(v, CPUHP_ONLINE) : cpu_down(v, CPUHP_OFFLINE);
			snap(v, &after);
			KTEST_EXPECT_MSG(ret != 0, "%s at %s: injected failure not reported",
					 up ? "up" : "down", info.name);
			KTEST_EXPECT_MSG(same(&before, &after),
					 "%s failing at %s: CPU %u left at %s (was %s), online %d/%d active %d/%d test %d/%d prep %d/%d",
					 up ? "up" : "down", info.name, v,
					 cpuhp_state_name(after.state), cpuhp_state_name(before.state),
					 after.online, before.online, after.active, before.active,
					 after.installed, before.installed, after.prep, before.prep);
			if (t->failed)
				goto out;
		}
	}
	KTEST_EXPECT(cpu_up(v, CPUHP_ONLINE) == 0);
	KTEST_EXPECT_MSG(test_errors == 0, "%d unbalanced startups/teardowns", test_errors);
out:
	cpu_up(v, CPUHP_ONLINE);
	cpuhp_remove_state((enum cpuhp_state)on);
	cpuhp_remove_state((enum cpuhp_state)bp);
	if (half > 0)
		cpuhp_remove_state((enum cpuhp_state)half);
}

static volatile int bind_seen_cpu;

static int bind_probe(void *arg)
{
	(void)arg;
	while (!kthread_should_stop()) {
		WRITE_ONCE(bind_seen_cpu, (int)smp_processor_id());
		msleep(1);
	}
	return 0;
}

KTEST(hotplug_bind, "hotplug.bind")
{
	unsigned int v = pick_victim();

	if (v == NR_CPUS) {
		printk("hotplug.bind: needs a second present CPU; nothing to do\n");
		return;
	}
	struct task_struct *probe = kthread_run(bind_probe, NULL, "bindprobe");

	KTEST_EXPECT(probe != NULL);
	for (int i = 0; i < 20 && !t->failed; i++) {
		KTEST_EXPECT(cpu_down(v, CPUHP_OFFLINE) == 0);
		KTEST_EXPECT(cpu_up(v, CPUHP_ONLINE) == 0);
		/* No waiting here: the operation must be complete on return. */
		int ret = set_cpus_allowed_ptr(probe, cpumask_of(v));

		KTEST_EXPECT_MSG(ret == 0, "round %d: binding to CPU %u right after cpu_up failed (%d)",
				 i, v, ret);
		WRITE_ONCE(bind_seen_cpu, -1);
		u64 deadline = ktime_get_ns() + 2000000000ULL;

		while (READ_ONCE(bind_seen_cpu) != (int)v && ktime_get_ns() < deadline)
			msleep(1);
		KTEST_EXPECT_MSG(READ_ONCE(bind_seen_cpu) == (int)v,
				 "round %d: bound thread never ran on CPU %u", i, v);
		set_cpus_allowed_ptr(probe, &cpu_possible_mask);
	}
	kthread_stop(probe);
}

KTEST(hotplug_refuse, "hotplug.refuse")
{
	const char *why;

	KTEST_EXPECT(cpu_down(0, CPUHP_OFFLINE) != 0);
	KTEST_EXPECT(cpuhp_inject_fail(0, CPUHP_AP_SCHED_STARTING, &why) != 0 && why);
	KTEST_EXPECT(cpuhp_inject_fail(0, CPUHP_OFFLINE, &why) != 0);
	KTEST_EXPECT(cpuhp_inject_fail(NR_CPUS - 1, CPUHP_BRINGUP_CPU, &why) != 0 ||
		     cpu_possible(NR_CPUS - 1));
	KTEST_EXPECT(cpu_up(0, CPUHP_AP_SCHED_STARTING) != 0);      /* not a resting state */
	KTEST_EXPECT(cpu_up(NR_CPUS, CPUHP_ONLINE) != 0);
	KTEST_EXPECT(cpuhp_state_parse("no-such-state") == CPUHP_INVALID);
	KTEST_EXPECT(cpuhp_state_parse("sched:active") == CPUHP_AP_ACTIVE);
}

static int dyn_calls;
static unsigned int dyn_fail_cpu = NR_CPUS;

static int dyn_startup(unsigned int cpu)
{
	if (cpu == dyn_fail_cpu)
		return -EIO;
	__atomic_add_fetch(&dyn_calls, 1, __ATOMIC_RELAXED);
	return 0;
}

static int dyn_teardown(unsigned int cpu)
{
	(void)cpu;
	__atomic_sub_fetch(&dyn_calls, 1, __ATOMIC_RELAXED);
	return 0;
}

KTEST(hotplug_dynamic, "hotplug.dynamic")
{
	dyn_calls = 0;
	int s = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "test:dyn", dyn_startup, dyn_teardown);

	KTEST_EXPECT(s >= CPUHP_AP_ONLINE_DYN && s <= CPUHP_AP_ONLINE_DYN_END);
	KTEST_EXPECT_MSG(dyn_calls == (int)num_online_cpus(), "%d startups for %u online CPUs",
			 dyn_calls, num_online_cpus());
	cpuhp_remove_state((enum cpuhp_state)s);
	KTEST_EXPECT_MSG(dyn_calls == 0, "%d startups not torn down", dyn_calls);

	unsigned int v = pick_victim();

	if (v != NR_CPUS && cpu_online(v)) {
		dyn_fail_cpu = v;
		s = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "test:dyn", dyn_startup, dyn_teardown);
		dyn_fail_cpu = NR_CPUS;
		KTEST_EXPECT_MSG(s < 0, "a failing startup on CPU %u was not reported", v);
		KTEST_EXPECT_MSG(dyn_calls == 0, "%d startups left after the failed setup", dyn_calls);
	}
}
