/*
 * spinlock.h — spinlock_t for the foundation: a test-and-test-and-set lock.
 *
 * This is the placeholder the queued-spinlock work (kernel/locking/) replaces
 * with the MCS qspinlock behind the same API. Acquire is an xchg (a full
 * barrier on x86); release is a plain store after a compiler barrier, which
 * on TSO orders every earlier access before it.
 *
 * Holding a spinlock disables preemption (preempt.h): a holder that could be
 * switched out would leave every other task that wants the lock spinning on a
 * CPU the holder needs, and a lock with per-CPU queue nodes (the queued
 * spinlock) would hand one CPU's node to two tasks. The _irqrestore and _irq
 * unlocks enable interrupts before the preemption point, so a reschedule that
 * arrived meanwhile is acted upon at once.
 */
#ifndef GRACE_SPINLOCK_H
#define GRACE_SPINLOCK_H

#include <asm/barrier.h>
#include <asm/cpu.h>
#include <grace/compiler.h>
#include <grace/preempt.h>
#include <grace/types.h>

typedef struct {
	volatile u32 locked;
} spinlock_t;

#define SPINLOCK_INIT { 0 }
#define DEFINE_SPINLOCK(x) spinlock_t x = SPINLOCK_INIT

static inline void spin_lock_init(spinlock_t *l) { l->locked = 0; }

static inline bool raw_spin_trylock(spinlock_t *l)
{
	return __atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE) == 0;
}

static inline void raw_spin_unlock(spinlock_t *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

static inline bool spin_trylock(spinlock_t *l)
{
	preempt_disable();
	if (raw_spin_trylock(l))
		return true;
	preempt_enable();
	return false;
}

static inline void spin_lock(spinlock_t *l)
{
	preempt_disable();
	while (!raw_spin_trylock(l))
		while (READ_ONCE(l->locked))
			cpu_relax();
}

static inline void spin_unlock(spinlock_t *l)
{
	raw_spin_unlock(l);
	preempt_enable();
}

static inline bool spin_is_locked(spinlock_t *l) { return READ_ONCE(l->locked) != 0; }

static inline void spin_lock_irq(spinlock_t *l) { cli(); spin_lock(l); }
static inline void spin_unlock_irq(spinlock_t *l) { raw_spin_unlock(l); sti(); preempt_enable(); }
#define spin_lock_irqsave(l, flags) do { (flags) = local_irq_save(); spin_lock(l); } while (0)
#define spin_unlock_irqrestore(l, flags) do { \
	raw_spin_unlock(l); local_irq_restore(flags); preempt_enable(); } while (0)

#endif
