/*
 * ticket.c — the ticket spinlock (comparison lock; see
 * include/grace/simple_locks.h). `next` is the next ticket to hand out,
 * `owner` the ticket now served; the lock is free when they are equal.
 * 16-bit tickets wrap harmlessly as long as fewer than 65536 CPUs wait.
 */
#include <grace/lockstat.h>
#include <grace/simple_locks.h>
#include "lock_env.h"

void ticket_spin_lock_init(ticket_lock_t *l)
{
	__atomic_store_n(&l->owner, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&l->next, 0, __ATOMIC_RELAXED);
}

void ticket_spin_lock(ticket_lock_t *l)
{
	/* Take a ticket. Acquire (with the owner loads below) pairs with the
	 * release store of `owner` in ticket_spin_unlock(). */
	u16 me = __atomic_fetch_add(&l->next, 1, __ATOMIC_ACQUIRE);

	if (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) == me) {
		lockstat_inc(LOCK_CLASS_TICKET, LS_FAST);
		return;
	}
	lockstat_inc(LOCK_CLASS_TICKET, LS_QUEUED);
	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me)
		lock_cpu_relax();
}

bool ticket_spin_trylock(ticket_lock_t *l)
{
	/* Only when free (owner == next): take ticket `next` by cmpxchg of the
	 * whole 32-bit pair so no ticket is handed out unless it is served. */
	u32 old = __atomic_load_n(&l->val, __ATOMIC_RELAXED);
	u16 owner = (u16)old, next = (u16)(old >> 16);

	if (owner != next)
		return false;
	return __atomic_compare_exchange_n(&l->val, &old, old + (1U << 16), false,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

void ticket_spin_unlock(ticket_lock_t *l)
{
	/* Only the holder writes `owner`: a plain increment, published with
	 * release so the next ticket holder sees our critical section. */
	u16 o = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);

	__atomic_store_n(&l->owner, (u16)(o + 1), __ATOMIC_RELEASE);
}

bool ticket_spin_is_locked(ticket_lock_t *l)
{
	return __atomic_load_n(&l->owner, __ATOMIC_RELAXED) !=
	       __atomic_load_n(&l->next, __ATOMIC_RELAXED);
}
