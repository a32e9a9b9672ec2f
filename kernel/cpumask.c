/*
 * cpumask.c — the global CPU masks and the bitmap walks (see cpumask.h).
 * Test: ktest "cpumask.ops".
 */
#include <grace/cpumask.h>
#include <grace/ktest.h>

struct cpumask cpu_possible_mask, cpu_present_mask, cpu_online_mask, cpu_active_mask;

/* Population count without the POPCNT instruction (not in baseline x86-64). */
static unsigned int popcount64(u64 w)
{
	w = w - ((w >> 1) & 0x5555555555555555ULL);
	w = (w & 0x3333333333333333ULL) + ((w >> 2) & 0x3333333333333333ULL);
	w = (w + (w >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (unsigned int)((w * 0x0101010101010101ULL) >> 56);
}

unsigned int cpumask_weight(const struct cpumask *m)
{
	unsigned int n = 0;

	for (int i = 0; i < CPUMASK_WORDS; i++)
		n += popcount64(__atomic_load_n(&m->bits[i], __ATOMIC_RELAXED));
	return n;
}

const struct cpumask *cpumask_of(unsigned int cpu)
{
	static struct cpumask single[NR_CPUS];

	/* Setting the same bit again is harmless, so no init pass is needed. */
	cpumask_set_cpu(cpu, &single[cpu]);
	return &single[cpu];
}

unsigned int cpumask_next_from(unsigned int cpu, const struct cpumask *m)
{
	while (cpu < NR_CPUS) {
		u64 w = __atomic_load_n(&m->bits[cpu / 64], __ATOMIC_RELAXED) >> (cpu % 64);

		if (w)
			return cpu + (unsigned int)__builtin_ctzll(w);
		cpu = (cpu / 64 + 1) * 64;
	}
	return NR_CPUS;
}

unsigned int cpumask_any_but(const struct cpumask *m, unsigned int cpu)
{
	unsigned int c = cpumask_first(m);

	return c == cpu ? cpumask_next_from(cpu + 1, m) : c;
}

KTEST(cpumask_ops, "cpumask.ops")
{
	struct cpumask m;
	unsigned int cpu, n = 0;

	cpumask_clear(&m);
	KTEST_EXPECT(cpumask_empty(&m));
	KTEST_EXPECT(cpumask_first(&m) == NR_CPUS);
	cpumask_set_cpu(0, &m);
	cpumask_set_cpu(63, &m);
	cpumask_set_cpu(64, &m);
	cpumask_set_cpu(NR_CPUS - 1, &m);
	KTEST_EXPECT(cpumask_weight(&m) == 4);
	for_each_cpu(cpu, &m)
		n += cpu;
	KTEST_EXPECT(n == 0 + 63 + 64 + NR_CPUS - 1);
	cpumask_clear_cpu(63, &m);
	KTEST_EXPECT(!cpumask_test_cpu(63, &m));
	KTEST_EXPECT(cpumask_next_from(1, &m) == 64);
	KTEST_EXPECT(!cpumask_test_cpu(NR_CPUS, &m));
	KTEST_EXPECT(cpumask_any_but(&m, 0) == 64);
	KTEST_EXPECT(cpumask_any_but(&m, 64) == 0);
	KTEST_EXPECT(cpumask_any_but(cpumask_of(5), 5) == NR_CPUS);
	KTEST_EXPECT(cpumask_any_but(cpumask_of(5), 3) == 5);
}
