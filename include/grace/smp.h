/*
 * smp.h — multiprocessor services: making other CPUs do things (IPIs:
 * kernel/smp.c, kernel/nmi.c, the reschedule IPI in kernel/sched/core.c).
 * Which CPUs exist and how they are started is the arch's bring-up API,
 * <asm/smpboot.h>, included here (with the boot order). docs/smp.md is the
 * long version.
 *
 * Call-function semantics (as in Linux):
 *   smp_call_function_single(cpu, fn, info, wait)   fn on `cpu` (locally if
 *       it is this CPU), in interrupt context with interrupts off
 *   smp_call_function_many(mask, fn, info, wait)    on every online CPU in
 *       mask except this one
 *   on_each_cpu(fn, info, wait)                     on every online CPU,
 *       this one included (locally with interrupts off)
 * wait=1 returns after fn finished everywhere; wait=0 returns after queuing
 * (fn and info must stay valid until it ran). Calling with wait=1 while
 * interrupts are off can deadlock (two CPUs waiting for each other), so it
 * is refused with a WARNING and -EDEADLK. Not from NMI context.
 * Tests: ktest smp.call_function, smp.nmi (kernel/smp_test.c); tests/scenarios/smp-*.scn.
 */
#ifndef GRACE_SMP_H
#define GRACE_SMP_H

#include <asm/smpboot.h>
#include <grace/cpuhotplug.h>
#include <grace/cpumask.h>
#include <grace/percpu.h>
#include <grace/types.h>

/*
 * The idle loop an AP enters once online (the scheduler's). It reports
 * CPUHP_AP_ONLINE_IDLE through cpuhp_online_idle(state), and when its CPU
 * has left the online mask it calls cpuhp_report_idle_dead() then
 * arch_play_dead(). Defined in kernel/sched/idle.c.
 */
__attribute__((noreturn)) void cpu_startup_entry(enum cpuhp_state state);

/* ---- call function (kernel/smp.c) ---- */

typedef void (*smp_call_func_t)(void *info);

struct call_single_data {
	struct call_single_data *next;  /* in the target CPU's queue */
	smp_call_func_t func;
	void *info;
	u32 flags;                      /* CSD_FLAG_* (kernel/smp.c) */
	u32 dst;                        /* target CPU, for diagnostics */
};

int smp_call_function_single(unsigned int cpu, smp_call_func_t func, void *info, int wait);
void smp_call_function_many(const struct cpumask *mask, smp_call_func_t func, void *info, int wait);
void smp_call_function(smp_call_func_t func, void *info, int wait); /* all others */
void on_each_cpu(smp_call_func_t func, void *info, int wait);
/* Register the IPI handler and the boot CPU's call-function data (the
 * CPUHP_SMPCFD_* states do it for the others). */
void smp_cfd_init(void);
/* Run every call queued for this CPU (IPI handler; DYING callback). */
void flush_smp_call_function_queue(void);

/* ---- reschedule IPI (kernel/sched/core.c) ---- */

/* RESCHEDULE_VECTOR to `cpu`. */
void smp_send_reschedule(unsigned int cpu);

/* ---- NMIs (kernel/nmi.c) ---- */

/* Install the NMI handler that serves the requests below. */
void nmi_ipi_init(void);
/* A raw NMI to one CPU (delivery mode NMI; the vector is ignored). */
void smp_send_nmi(unsigned int cpu);
/*
 * NMI `cpu` and have it run fn(regs) in NMI context. One call may be
 * pending per CPU: returns false (and sends nothing) while another is, or
 * when `cpu` is not online. For tests that must land inside whatever the CPU
 * is doing, e.g. locktorture's NMI locks.
 */
struct pt_regs;
typedef void (*nmi_call_fn)(struct pt_regs *regs);
bool smp_send_nmi_call(unsigned int cpu, nmi_call_fn fn);
/* NMI `cpu` and have it print its backtrace; false if it did not answer. */
bool trigger_single_cpu_backtrace(unsigned int cpu);
/* Every online CPU prints its backtrace, one at a time (`bt all`);
 * false if some CPU did not answer. */
bool trigger_all_cpu_backtrace(void);
/* Stop every other CPU (NMI; they halt with interrupts off) — for panic. */
void smp_stop_other_cpus(void);
/* NMI `cpu` with nothing to do but count it; false if no answer in `ms`. */
bool smp_nmi_ping(unsigned int cpu, unsigned int ms);

#endif
