/*
 * smp_test.c — in-kernel tests of the IPIs between CPUs.
 *
 *   smp.call_function  single/many/on_each_cpu, wait and async: each call
 *                      runs exactly once, on the right CPU, interrupts off
 *   smp.nmi            every other online CPU answers an NMI ping within
 *                      1 s, and every CPU gives an NMI backtrace
 */
#include <asm/cpu.h>
#include <grace/delay.h>
#include <grace/errno.h>
#include <grace/ktest.h>
#include <grace/percpu.h>
#include <grace/smp.h>
#include <grace/string.h>

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
