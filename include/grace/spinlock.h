/*
 * spinlock.h — spinlock_t, the kernel's spinning mutual-exclusion lock.
 *
 * Every spinlock_t is a queued spinlock (include/grace/qspinlock.h): one
 * cmpxchg to take it uncontended, one release store to drop it (a cmpxchg
 * when a paravirt backend is active), an MCS queue under contention.
 *
 * Rules: never sleep or switch context while holding one; a lock also taken
 * by an interrupt handler must be taken with interrupts off (_irq /
 * _irqsave) everywhere else, or the handler spins forever on its own CPU.
 *
 * DEBUG builds (make DEBUG=1) also record the owning CPU and catch a
 * recursive acquire on the same CPU and an unlock by a CPU that does not
 * hold the lock; each is reported once with a backtrace (WARN_ON). They also
 * keep the list of spinlocks each CPU holds (with where each was taken), so
 * that schedule()/might_sleep() and the hotplug core can name the lock held
 * where it must not be (kernel/locking/spinlock_debug.c).
 *
 * The lock/unlock functions are __always_inline, also at -Og: the DEBUG
 * hooks record __builtin_return_address(0) as the place a lock was taken,
 * and that must be the caller's code, not an outlined spin_lock().
 *
 * Holding a spinlock disables preemption (preempt.h): a preempted holder
 * would leave every other task that wants the lock spinning on a CPU the
 * holder needs, and a waiter preempted inside the MCS queue would hand this
 * CPU's queue node to a second task. The _irq/_irqrestore unlocks enable
 * interrupts before the preemption point, so a reschedule that came in
 * meanwhile is acted upon at once.
 */
#ifndef GRACE_SPINLOCK_H
#define GRACE_SPINLOCK_H

#include <asm/barrier.h>
#include <asm/cpu.h>
#include <grace/compiler.h>
#include <grace/preempt.h>
#include <grace/qspinlock.h>
#include <grace/types.h>

typedef struct spinlock {
	struct qspinlock q;
#ifdef CONFIG_DEBUG
	int owner_cpu;   /* -1 when free; written only by the holder */
#endif
} spinlock_t;

#ifdef CONFIG_DEBUG
#define SPINLOCK_INIT { .q = __QSPINLOCK_INIT, .owner_cpu = -1 }
void spin_debug_acquire(spinlock_t *l);   /* kernel/locking/spinlock_debug.c */
void spin_debug_release(spinlock_t *l);
void spin_debug_before_acquire(spinlock_t *l);
/* Spinlocks this CPU holds right now, and a "held: ..." list of them. */
int spin_held_count(void);
void spin_debug_print_held(void);
/* After a report: forget what this CPU holds (the reporter carries on). */
void spin_debug_forget_held(void);
#else
#define SPINLOCK_INIT { .q = __QSPINLOCK_INIT }
static inline void spin_debug_acquire(spinlock_t *l) { (void)l; }
static inline void spin_debug_release(spinlock_t *l) { (void)l; }
static inline void spin_debug_before_acquire(spinlock_t *l) { (void)l; }
static inline int spin_held_count(void) { return 0; }
static inline void spin_debug_print_held(void) { }
static inline void spin_debug_forget_held(void) { }
#endif

#define DEFINE_SPINLOCK(x) spinlock_t x = SPINLOCK_INIT

static inline void spin_lock_init(spinlock_t *l)
{
	*l = (spinlock_t)SPINLOCK_INIT;
}

static __always_inline bool spin_trylock(spinlock_t *l)
{
	preempt_disable();
	if (!queued_spin_trylock(&l->q)) {
		preempt_enable();
		return false;
	}
	spin_debug_acquire(l);
	return true;
}

/* Acquire without disabling preemption (the caller has done it). */
static __always_inline void raw_spin_lock(spinlock_t *l)
{
	spin_debug_before_acquire(l);
	queued_spin_lock(&l->q);
	spin_debug_acquire(l);
}

static __always_inline void spin_lock(spinlock_t *l)
{
	preempt_disable();
	raw_spin_lock(l);
}

/* Release without the preemption point (the caller supplies it). */
static __always_inline void raw_spin_unlock(spinlock_t *l)
{
	spin_debug_release(l);
	queued_spin_unlock(&l->q);
}

static __always_inline void spin_unlock(spinlock_t *l)
{
	raw_spin_unlock(l);
	preempt_enable();
}

static inline bool spin_is_locked(spinlock_t *l) { return queued_spin_is_locked(&l->q); }
static inline bool spin_is_contended(spinlock_t *l) { return queued_spin_is_contended(&l->q); }

static __always_inline void spin_lock_irq(spinlock_t *l) { cli(); spin_lock(l); }
static __always_inline void spin_unlock_irq(spinlock_t *l) { raw_spin_unlock(l); sti(); preempt_enable(); }
#define spin_lock_irqsave(l, flags) do { (flags) = local_irq_save(); spin_lock(l); } while (0)
#define spin_unlock_irqrestore(l, flags) do { \
	raw_spin_unlock(l); local_irq_restore(flags); preempt_enable(); } while (0)

#endif
