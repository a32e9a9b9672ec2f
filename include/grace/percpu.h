/*
 * percpu.h — per-CPU variables.
 *
 *     DEFINE_PER_CPU(u64, nr_wakeups);
 *     this_cpu_inc(nr_wakeups);            one %gs-relative instruction
 *     per_cpu(nr_wakeups, 3) = 0;          CPU 3's copy
 *
 * Per-CPU variables are linked into the .data.percpu section, which is the
 * boot CPU's copy. setup_per_cpu_areas() gives every other possible CPU a
 * copy of that section and records `__per_cpu_offset[cpu]` = copy - section.
 * A CPU's GS base holds its own offset (0 for the boot CPU), so `%gs:var`
 * addresses this CPU's copy of var: this_cpu_read/write/add are single
 * instructions, hence safe against interrupts and preemption on their own.
 *
 * Invariants: GS base == __per_cpu_offset[smp_processor_id()] on every
 * running CPU; per-CPU areas exist for every possible CPU and never move.
 * Static initializers are copied from the boot CPU's values when the areas
 * are made (early in kmain), so they must still be the compile-time values.
 * Test: ktest "percpu.*".
 */
#ifndef GRACE_PERCPU_H
#define GRACE_PERCPU_H

#include <grace/compiler.h>
#include <grace/cpumask.h>
#include <grace/types.h>

#define DEFINE_PER_CPU(type, name) \
	__section(".data.percpu") __typeof__(type) name
#define DECLARE_PER_CPU(type, name) \
	extern __typeof__(type) name

extern unsigned long __per_cpu_offset[NR_CPUS];
extern char __per_cpu_start[], __per_cpu_end[];

#define per_cpu_ptr(ptr, cpu) \
	((__typeof__(ptr))((unsigned long)(ptr) + __per_cpu_offset[(cpu)]))
#define per_cpu(var, cpu) (*per_cpu_ptr(&(var), (cpu)))

/* One %gs-relative access; the operand size follows the variable's. */
#define __pcpu_op(op, var, val) \
	__asm__ __volatile__(op " %1, %%gs:%P0" : "+m"(var) : "re"(val) : "memory")
#define this_cpu_read(var) ({ \
	__typeof__(var) __v; \
	__asm__ __volatile__("mov %%gs:%P1, %0" : "=r"(__v) : "m"(var)); \
	__v; })
#define this_cpu_write(var, val) do { \
	__typeof__(var) __w = (val); \
	__asm__ __volatile__("mov %1, %%gs:%P0" : "+m"(var) : "r"(__w) : "memory"); \
} while (0)
#define this_cpu_add(var, val) do { \
	__typeof__(var) __a = (val); \
	__asm__ __volatile__("add %1, %%gs:%P0" : "+m"(var) : "r"(__a) : "memory", "cc"); \
} while (0)
#define this_cpu_inc(var) this_cpu_add(var, 1)
#define this_cpu_dec(var) this_cpu_add(var, -1)
#define this_cpu_ptr(ptr) \
	((__typeof__(ptr))((unsigned long)(ptr) + this_cpu_read(this_cpu_off)))

DECLARE_PER_CPU(unsigned long, this_cpu_off);

/* What every CPU knows about itself. */
struct cpu_local {
	unsigned int cpu;        /* logical CPU number */
	u32 apic_id;
	int preempt_count;
	unsigned int irq_depth;  /* nested hardware interrupts */
	unsigned int nmi_depth;
	u64 ticks;               /* LAPIC timer ticks seen by this CPU */
};
DECLARE_PER_CPU(struct cpu_local, cpu_local);

static inline struct cpu_local *this_cpu(void)
{
	return this_cpu_ptr(&cpu_local);
}

#if __STDC_HOSTED__
/* Host unit tests compile kernel sources too: there each test thread is a
 * "CPU" and the test provides this. */
unsigned int smp_processor_id(void);
#else
static inline unsigned int smp_processor_id(void)
{
	return this_cpu_read(cpu_local.cpu);
}
#endif

/* The boot CPU: GS base 0 (its copy is the section itself). */
void percpu_init_boot_cpu(void);
/* Give every possible CPU its area (after memory init, before any AP starts). */
void setup_per_cpu_areas(void);
/* Load this CPU's GS base (called by each AP on its way up). */
void percpu_load_gs(unsigned int cpu);
extern bool percpu_ready;

#endif
