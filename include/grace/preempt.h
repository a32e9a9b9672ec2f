/*
 * preempt.h — the preempt count and the points where preemption may happen.
 *
 * A task on a CPU may be switched out involuntarily ("preempted") only when
 * this CPU's preempt count is zero. The count lives in the per-CPU struct
 * cpu_local (percpu.h), so every inc/dec is one %gs-relative instruction and
 * is safe against interrupts on its own. It is a property of the CPU, not of
 * the task: every context switch happens at the same count (the scheduler's
 * own preempt_disable plus its runqueue lock), so the count a task sees when
 * it resumes is the count it had when it left. (Linux on x86 does the same.)
 *
 *   preempt_disable()    count++ — the task stays on this CPU and is not
 *                        switched out; smp_processor_id() stays true
 *   preempt_enable()     count--; at zero, if a reschedule is pending and
 *                        interrupts are on, switch now (a preemption point)
 *   preempt_enable_no_resched()  count-- without the check (the caller is
 *                        about to call schedule() itself)
 *
 * Preemption points: preempt_enable() reaching zero, cond_resched(), and the
 * exit of every hardware interrupt that interrupted code with interrupts on
 * and count zero (irq_exit_preempt, called by the IRQ dispatcher) — except
 * the idle task, which switches from its own loop after the halt.
 *
 * need_resched(): a per-CPU flag set by the tick when the time slice is used
 * up, by a wake-up that must run first (idle CPU, stopper), or by the
 * reschedule IPI's sender; cleared by the scheduler when it picks a task.
 * Test: ktest "sched.preempt".
 */
#ifndef GRACE_PREEMPT_H
#define GRACE_PREEMPT_H

#include <grace/compiler.h>
#include <grace/percpu.h>

DECLARE_PER_CPU(int, sched_need_resched);

#if __STDC_HOSTED__
/* Host unit tests that compile kernel sources: no %gs, no preemption. */
static inline int preempt_count(void) { return 0; }
static inline bool need_resched(void) { return false; }
#define preempt_count_inc() do { } while (0)
#define preempt_count_dec() do { } while (0)
#else
static __always_inline int preempt_count(void)
{
	return this_cpu_read(cpu_local.preempt_count);
}

static __always_inline bool need_resched(void)
{
	return this_cpu_read(sched_need_resched) != 0;
}

#define preempt_count_inc() this_cpu_inc(cpu_local.preempt_count)
#define preempt_count_dec() this_cpu_dec(cpu_local.preempt_count)
#endif

/* The scheduler's entry from preempt_enable() (kernel/sched/core.c). */
void preempt_schedule(void);

#define preempt_disable() do { preempt_count_inc(); barrier(); } while (0)
#define preempt_enable_no_resched() do { barrier(); preempt_count_dec(); } while (0)
#define preempt_enable() do { \
	barrier(); \
	preempt_count_dec(); \
	if (unlikely(preempt_count() == 0 && need_resched())) \
		preempt_schedule(); \
} while (0)

/* Atomic context: no sleeping, no switching. */
#define in_atomic() (preempt_count() != 0)

#endif
