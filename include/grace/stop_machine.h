/*
 * stop_machine.h — run a function while every other CPU waits, interrupts off.
 *
 * stop_machine(fn, data, cpus): each online CPU's stopper thread (the
 * highest-priority thread on its CPU) enters a lock-step state machine:
 *   PREPARE → DISABLE_IRQ → RUN → EXIT
 * No CPU moves to the next stage until every CPU has acknowledged the
 * current one, so when `fn` runs (on the CPUs in `cpus`, in the RUN stage)
 * every other online CPU is spinning with interrupts off in a known place —
 * not inside any critical section, since a stopper thread can only run where
 * preemption is allowed.
 */
#ifndef GRACE_STOP_MACHINE_H
#define GRACE_STOP_MACHINE_H

#include <grace/cpumask.h>

typedef int (*cpu_stop_fn_t)(void *arg);

/* cpus == NULL: fn runs on one CPU (the first online), the others wait. */
int stop_machine(cpu_stop_fn_t fn, void *data, const struct cpumask *cpus);
/* The same, for callers already holding the hotplug lock. */
int stop_machine_cpuslocked(cpu_stop_fn_t fn, void *data, const struct cpumask *cpus);
/* Run fn on `cpu`'s stopper thread (preempting whatever runs there) and wait. */
int stop_one_cpu(unsigned int cpu, cpu_stop_fn_t fn, void *arg);
void stop_machine_init(void);
/* Debug (boot parameter stop_machine.irqon_delay_us, or set by a test): see stop_machine.c. */
extern int stop_machine_irqon_delay_us;

#endif
