/*
 * percpu.h — the current CPU's identity.
 *
 * Each CPU's GS base points at its `struct cpu_local`, whose first field
 * points at itself, so `this_cpu()` is one %gs-relative load. The boot CPU's
 * area is static and is installed first thing in kmain. (The SMP work grows
 * this into full per-CPU areas.)
 */
#ifndef GRACE_PERCPU_H
#define GRACE_PERCPU_H

#include <grace/types.h>

struct cpu_local {
	struct cpu_local *self;  /* must stay first: read via %gs:0 */
	unsigned int cpu;        /* logical CPU number */
	u32 apic_id;
	int preempt_count;
	unsigned long irq_stack_top;
	u64 ticks;               /* LAPIC timer ticks seen by this CPU */
};

static inline struct cpu_local *this_cpu(void)
{
	struct cpu_local *p;
	__asm__ __volatile__("movq %%gs:0, %0" : "=r"(p));
	return p;
}

unsigned int smp_processor_id(void);
void percpu_init_boot_cpu(void);
extern bool percpu_ready;

#endif
