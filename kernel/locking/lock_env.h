/*
 * lock_env.h — the few machine services the lock algorithms use, so that
 * the very same kernel/locking sources can be compiled into the kernel and into
 * the host concurrency tests (tests/unit/test_qspinlock.c, pthreads).
 *
 * The kernel is built -ffreestanding (__STDC_HOSTED__ == 0); a host test is
 * hosted, and then the test program provides these functions, modelling
 * interrupts with signals, `hlt` with a futex and a CPU with a thread.
 *
 *   lock_cpu_relax()     spin-wait hint (`pause`)
 *   lock_irq_save()      interrupts off; returns whether they were on
 *   lock_irq_restore(on) interrupts back on if `on`
 *   lock_in_nmi()        true in NMI context (never halt there)
 *   lock_race_delay()    torture: maybe pause at a race window (else nothing;
 *                        in the kernel a static branch, a nop5 while off)
 *   lock_trace(t, a, b, c)  an event for the trace (grace/trace.h; host: nothing)
 *   lock_trace_clock()   the trace's clock (TSC; host: 0)
 *   lock_wait_start()/lock_wait_done(t0)  time one slow-path wait for
 *                        pvspin=dynamic's lock-holder-preemption signal
 *                        (pv_dynamic.c; a static branch, a nop5 while the
 *                        policy is not running; host: nothing)
 */
#ifndef KERNEL_LOCKING_LOCK_ENV_H
#define KERNEL_LOCKING_LOCK_ENV_H

#include <grace/types.h>

#if __STDC_HOSTED__
void lock_cpu_relax(void);
bool lock_irq_save(void);
void lock_irq_restore(bool were_on);
bool lock_in_nmi(void);
static inline void lock_race_delay(void) { }
static inline u64 lock_wait_start(void) { return 0; }
static inline void lock_wait_done(u64 t0) { (void)t0; }
#define lock_trace(type, a, b, c) do { } while (0)
#define lock_trace_clock() 0
#define QSPINLOCK_DEBUG 1   /* host tests always check the invariants */
#else
#include <asm/cpu.h>
#include <grace/irq.h>
#include <grace/trace.h>

#define lock_trace(type, a, b, c) trace_event(type, (u32)(uintptr_t)(a), (b), (c))
#define lock_trace_clock() rdtsc()

static inline void lock_cpu_relax(void) { cpu_relax(); }
static inline bool lock_irq_save(void) { return (local_irq_save() & X86_RFLAGS_IF) != 0; }
static inline void lock_irq_restore(bool were_on) { if (were_on) sti(); }
static inline bool lock_in_nmi(void) { return in_nmi(); }
#include <grace/jump_label.h>
/*
 * qspinlock.race_delay_us (qspinlock_lab.c): the torture race delay sits in
 * the lock slow path; a static key makes it a 5-byte NOP unless the
 * parameter is set (enabled in pv_spinlock_init).
 */
extern int lock_race_delay_us;
DECLARE_STATIC_KEY_FALSE(lock_race_delay_key);
void __lock_race_delay(void);
static __always_inline void lock_race_delay(void)
{
	if (static_branch_unlikely(&lock_race_delay_key))
		__lock_race_delay();
}
/* pvspin=dynamic's wait timing (pv_dynamic.c): on while the policy runs. */
DECLARE_STATIC_KEY_FALSE(pv_dyn_wait_key);
u64 pv_dynamic_wait_clock(void);
void pv_dynamic_wait_done(u64 t0);
static __always_inline u64 lock_wait_start(void)
{
	if (static_branch_unlikely(&pv_dyn_wait_key))
		return pv_dynamic_wait_clock();
	return 0;
}
static __always_inline void lock_wait_done(u64 t0)
{
	if (static_branch_unlikely(&pv_dyn_wait_key))
		pv_dynamic_wait_done(t0);
}
#ifdef CONFIG_DEBUG
#define QSPINLOCK_DEBUG 1
#else
#define QSPINLOCK_DEBUG 0
#endif
#endif

#endif
