/*
 * spinlock_debug.c — DEBUG-build checks around spin_lock/spin_unlock.
 *
 * With CONFIG_DEBUG each spinlock_t records the CPU that holds it, so two
 * mistakes that otherwise hang or corrupt silently are reported at once:
 *   - recursive acquire: this CPU already holds the lock it is about to wait
 *     for (it would spin forever; typically an interrupt handler taking a
 *     lock its interrupted task holds without _irqsave);
 *   - unlock of a lock this CPU does not hold (or that is not held at all).
 * Each report is a WARN_ON (a backtrace and "WARNING:", which the scenario
 * harness counts as failure). Release builds compile none of this.
 * Sleeping or switching context with a lock held is checked by the
 * scheduler (preempt count), not here.
 */
#include <grace/panic.h>
#include <grace/percpu.h>
#include <grace/spinlock.h>

#ifdef CONFIG_DEBUG
void spin_debug_before_acquire(spinlock_t *l)
{
	WARN_ON(spin_is_locked(l) && READ_ONCE(l->owner_cpu) == (int)smp_processor_id());
}

void spin_debug_acquire(spinlock_t *l)
{
	WRITE_ONCE(l->owner_cpu, (int)smp_processor_id());
}

void spin_debug_release(spinlock_t *l)
{
	WARN_ON(!spin_is_locked(l) || READ_ONCE(l->owner_cpu) != (int)smp_processor_id());
	WRITE_ONCE(l->owner_cpu, -1);
}
#endif
