/*
 * smp_test.c — in-kernel tests of the IPIs between CPUs.
 *
 *   smp.call_function  single/many/on_each_cpu, wait and async: each call
 *                      runs exactly once, on the right CPU, interrupts off
 *   smp.nmi            every other online CPU answers an NMI ping within
 *                      1 s, and every CPU gives an NMI backtrace
 *   hotplug.dying_flush  (in the hotplug suite: it takes a CPU down) a call queued for a CPU going down, from an interrupt
 *                      on another CPU while the dying one already has
 *                      interrupts off in stop_machine, runs on the dying CPU
 *                      in its smpcfd:dying step (before the scheduler's
 *                      dying step empties its runqueue), and before it is
 *                      dead; stop_machine.irqon_delay_us widens the window
 */
#include <asm/cpu.h>
#include <grace/cpuhotplug.h>
#include <grace/delay.h>
#include <grace/errno.h>
#include <grace/ktest.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/sched.h>
#include <grace/smp.h>
#include <grace/stop_machine.h>
#include <grace/string.h>
#include <grace/time.h>
#include <grace/timer.h>

static u32 cf_hits[NR_CPUS];
static u32 cf_bad_context;

static void cf_count(void *info)
{
	(void)info;
	if (!irqs_disabled())
		__atomic_fetch_add(&cf_bad_context, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&cf_hits[smp_processor_id()], 1, __ATOMIC_RELAXED);
}

static void cf_whoami(void *info)
{
	*(unsigned int *)info = smp_processor_id();
}

static void cf_reset(void)
{
	for (unsigned int i = 0; i < NR_CPUS; i++)
		__atomic_store_n(&cf_hits[i], 0, __ATOMIC_RELAXED);
}

/* Every CPU has exactly `want[cpu]` hits (acquire: pairs with nothing
 * stronger than the relaxed increments, a count is all we read). */
static bool cf_counts_are(const u32 *want)
{
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++)
		if (__atomic_load_n(&cf_hits[cpu], __ATOMIC_ACQUIRE) != want[cpu])
			return false;
	return true;
}

KTEST(smp_call_function, "smp.call_function")
{
	static u32 want[NR_CPUS];
	unsigned int this = smp_processor_id(), cpu, who;
	const int rounds = 50;

	/* single, wait: runs on exactly that CPU, once, interrupts off */
	cf_reset();
	for_each_online_cpu(cpu) {
		who = NR_CPUS;
		KTEST_EXPECT(smp_call_function_single(cpu, cf_whoami, &who, 1) == 0);
		KTEST_EXPECT_MSG(who == cpu, "call for CPU %u ran on CPU %u", cpu, who);
		KTEST_EXPECT(smp_call_function_single(cpu, cf_count, NULL, 1) == 0);
		KTEST_EXPECT_MSG(cf_hits[cpu] == 1, "CPU %u: %u hits after one wait=1 call",
				 cpu, cf_hits[cpu]);
	}
	/* to a CPU that is not online */
	KTEST_EXPECT(smp_call_function_single(NR_CPUS - 1, cf_count, NULL, 1) == -ENXIO ||
		     cpu_online(NR_CPUS - 1));

	/* many, wait: every other online CPU once, not this one */
	cf_reset();
	smp_call_function_many(&cpu_online_mask, cf_count, NULL, 1);
	for_each_online_cpu(cpu)
		KTEST_EXPECT_MSG(cf_hits[cpu] == (cpu == this ? 0u : 1u),
				 "many: CPU %u has %u hits", cpu, cf_hits[cpu]);

	/* on_each_cpu, wait: every online CPU once, this one too */
	cf_reset();
	on_each_cpu(cf_count, NULL, 1);
	for_each_online_cpu(cpu)
		KTEST_EXPECT_MSG(cf_hits[cpu] == 1, "on_each_cpu: CPU %u has %u hits", cpu, cf_hits[cpu]);

	/* async: rounds of on_each_cpu and single, counts exact */
	cf_reset();
	memset(want, 0, sizeof(want));
	for (int i = 0; i < rounds; i++) {
		on_each_cpu(cf_count, NULL, 0);
		for_each_online_cpu(cpu) {
			want[cpu]++;
			KTEST_EXPECT(smp_call_function_single(cpu, cf_count, NULL, 0) == 0);
			want[cpu]++;
		}
	}
	KTEST_EXPECT_MSG(spin_until(cf_counts_are(want), 2000), "async calls: counts not exact after 2 s");
	for_each_online_cpu(cpu)
		KTEST_EXPECT_MSG(cf_hits[cpu] == want[cpu], "async: CPU %u has %u hits, want %u",
				 cpu, cf_hits[cpu], want[cpu]);
	KTEST_EXPECT_MSG(cf_bad_context == 0, "%u calls ran with interrupts on", cf_bad_context);
}

KTEST(smp_nmi, "smp.nmi")
{
	unsigned int this = smp_processor_id(), cpu;

	for_each_online_cpu(cpu) {
		if (cpu == this)
			continue;
		KTEST_EXPECT_MSG(smp_nmi_ping(cpu, 1000),
				 "CPU %u did not answer an NMI within 1 s", cpu);
	}
	KTEST_EXPECT_MSG(trigger_all_cpu_backtrace(), "some CPU gave no NMI backtrace");
}

/* ---- hotplug.dying_flush ---- */

static struct {
	struct timer_list timer;
	unsigned int target;
	int armed;
	u32 queued, ran, ran_offline, wrong_cpu, late;
	int late_state;
} df;

static void df_call(void *info)
{
	unsigned int cpu = smp_processor_id();

	(void)info;
	if (cpu != df.target) {
		__atomic_add_fetch(&df.wrong_cpu, 1, __ATOMIC_RELAXED);
	} else if (!cpu_online(cpu)) {
		/* Left the online mask: only its dying steps run now. The call
		 * must run in smpcfd:dying, above sched:starting, whose
		 * teardown empties the runqueue (a call run later could wake a
		 * task onto a runqueue nobody runs). */
		enum cpuhp_state st = cpuhp_get_state(cpu);

		__atomic_add_fetch(&df.ran_offline, 1, __ATOMIC_RELAXED);
		if (st != CPUHP_AP_SMPCFD_DYING && !__atomic_fetch_add(&df.late, 1, __ATOMIC_RELAXED))
			df.late_state = (int)st;
	}
	__atomic_add_fetch(&df.ran, 1, __ATOMIC_RELEASE);
}

/*
 * Every tick on the sending CPU, in interrupt context: an async call for the
 * target, as long as the target is online — and only once the previous one
 * has run: a second call would first wait, interrupts off, for this CPU's
 * csd for the target to come free, while the target (interrupts off in
 * stop_machine) waits for this CPU: a deadlock (seen: "CPU 0 has waited 5 s
 * for CPU 1 to run a call"). Linux forbids smp_call_function_single() with
 * interrupts off for this reason.
 */
static void df_tick(struct timer_list *t)
{
	if (!READ_ONCE(df.armed))
		return;
	if (__atomic_load_n(&df.ran, __ATOMIC_ACQUIRE) == __atomic_load_n(&df.queued, __ATOMIC_RELAXED) &&
	    smp_call_function_single(df.target, df_call, NULL, 0) == 0)
		__atomic_add_fetch(&df.queued, 1, __ATOMIC_RELAXED);
	mod_timer(t, jiffies + 1);
}

KTEST(smp_dying_flush, "hotplug.dying_flush")
{
	unsigned int cpu, from = NR_CPUS;
	int saved = stop_machine_irqon_delay_us, rounds = 4;

	df.target = 0;
	for_each_online_cpu(cpu)
		df.target = cpu;      /* the highest: never CPU 0 with two CPUs */
	for_each_online_cpu(cpu)
		if (cpu != df.target && from == NR_CPUS)
			from = cpu;
	if (df.target == 0 || from == NR_CPUS) {
		printk("hotplug.dying_flush: one CPU online: nothing to take down\n");
		return;
	}
	KTEST_EXPECT(set_cpus_allowed_ptr(current, cpumask_of(from)) == 0);
	df.queued = df.ran = df.ran_offline = df.wrong_cpu = df.late = 0;
	timer_setup(&df.timer, df_tick, 0);
	/* Three ticks with interrupts on while the dying CPU has them off. */
	stop_machine_irqon_delay_us = (int)(3000000u / (tick_hz ? tick_hz : 100));
	for (int r = 0; r < rounds && !t->failed; r++) {
		WRITE_ONCE(df.armed, 1);
		df.timer.expires = jiffies + 1;
		add_timer_on(&df.timer, from);
		msleep(20);
		int ret = remove_cpu(df.target);

		WRITE_ONCE(df.armed, 0);
		del_timer_sync(&df.timer);
		KTEST_EXPECT_MSG(ret == 0, "remove_cpu(%u) failed (%d)", df.target, ret);
		if (ret)
			break;
		/* Dead now: every call that was queued for it has run. */
		u32 q = __atomic_load_n(&df.queued, __ATOMIC_RELAXED);
		u32 n = __atomic_load_n(&df.ran, __ATOMIC_ACQUIRE);

		KTEST_EXPECT_MSG(n == q, "round %d: %u calls queued for CPU %u, %u ran before it was dead",
				 r, q, df.target, n);
		KTEST_EXPECT_MSG(add_cpu(df.target) == 0, "add_cpu(%u) failed", df.target);
	}
	stop_machine_irqon_delay_us = saved;
	set_cpus_allowed_ptr(current, &cpu_possible_mask);
	printk("hotplug.dying_flush: %d rounds, CPU %u sent %u calls to CPU %u, %u ran after it left the "
	       "online mask, %u of them late\n", rounds, from, df.queued, df.target, df.ran_offline, df.late);
	KTEST_EXPECT_MSG(df.wrong_cpu == 0, "%u calls ran on the wrong CPU", df.wrong_cpu);
	KTEST_EXPECT_MSG(df.late == 0, "%u calls for CPU %u ran after its dying steps (at %s), not in "
			 "smpcfd:dying", df.late, df.target, cpuhp_state_name((enum cpuhp_state)df.late_state));
	KTEST_EXPECT_MSG(df.ran_offline > 0, "in %d rounds no call was queued in the teardown window "
			 "(the dying CPU's interrupts off, the sender's on)", rounds);
}
