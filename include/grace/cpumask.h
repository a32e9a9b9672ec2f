/*
 * cpumask.h — sets of CPUs.
 *
 * A cpumask is a fixed bitmap of NR_CPUS bits. The four global masks follow
 * Linux's meaning:
 *   possible  CPUs that can ever exist (MADT: enabled or online-capable),
 *             fixed after boot; per-CPU areas exist for exactly these
 *   present   CPUs physically there now
 *   online    CPUs running the kernel and taking interrupts (set and
 *             cleared by the hotplug state machine)
 *   active    online CPUs the scheduler may place threads on
 * Single-bit updates of the global masks are atomic; readers that need a
 * stable view hold the hotplug lock. RCU keeps its own masks and never
 * decides whom a grace period waits for from these.
 */
#ifndef GRACE_CPUMASK_H
#define GRACE_CPUMASK_H

#include <grace/types.h>

#define NR_CPUS 256
#define CPUMASK_WORDS (NR_CPUS / 64)

struct cpumask {
	u64 bits[CPUMASK_WORDS];
};

static inline void cpumask_set_cpu(unsigned int cpu, struct cpumask *m)
{
	__atomic_fetch_or(&m->bits[cpu / 64], 1ULL << (cpu % 64), __ATOMIC_SEQ_CST);
}
static inline void cpumask_clear_cpu(unsigned int cpu, struct cpumask *m)
{
	__atomic_fetch_and(&m->bits[cpu / 64], ~(1ULL << (cpu % 64)), __ATOMIC_SEQ_CST);
}
static inline bool cpumask_test_cpu(unsigned int cpu, const struct cpumask *m)
{
	return cpu < NR_CPUS && (__atomic_load_n(&m->bits[cpu / 64], __ATOMIC_RELAXED) >> (cpu % 64)) & 1;
}
static inline void cpumask_clear(struct cpumask *m)
{
	for (int i = 0; i < CPUMASK_WORDS; i++)
		m->bits[i] = 0;
}
static inline void cpumask_copy(struct cpumask *dst, const struct cpumask *src)
{
	for (int i = 0; i < CPUMASK_WORDS; i++)
		dst->bits[i] = __atomic_load_n(&src->bits[i], __ATOMIC_RELAXED);
}
static inline bool cpumask_empty(const struct cpumask *m)
{
	for (int i = 0; i < CPUMASK_WORDS; i++)
		if (m->bits[i])
			return false;
	return true;
}
unsigned int cpumask_weight(const struct cpumask *m);
/* The first set bit at or after `cpu`, or NR_CPUS when none. */
unsigned int cpumask_next_from(unsigned int cpu, const struct cpumask *m);
#define cpumask_first(m) cpumask_next_from(0, (m))
/* Any CPU of `m` other than `cpu` (the lowest), or NR_CPUS when none. */
unsigned int cpumask_any_but(const struct cpumask *m, unsigned int cpu);
#define for_each_cpu(cpu, m) \
	for ((cpu) = cpumask_next_from(0, (m)); (cpu) < NR_CPUS; (cpu) = cpumask_next_from((cpu) + 1, (m)))

/* A mask holding only `cpu` (constant storage; do not modify). */
const struct cpumask *cpumask_of(unsigned int cpu);

extern struct cpumask cpu_possible_mask, cpu_present_mask, cpu_online_mask, cpu_active_mask;
#define for_each_possible_cpu(cpu) for_each_cpu(cpu, &cpu_possible_mask)
#define for_each_online_cpu(cpu)   for_each_cpu(cpu, &cpu_online_mask)
#define cpu_online(cpu)   cpumask_test_cpu((cpu), &cpu_online_mask)
#define cpu_possible(cpu) cpumask_test_cpu((cpu), &cpu_possible_mask)
#define num_online_cpus()   cpumask_weight(&cpu_online_mask)
#define num_possible_cpus() cpumask_weight(&cpu_possible_mask)

#endif
