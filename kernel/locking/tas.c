/*
 * tas.c — the test-and-test-and-set spinlock (comparison lock; see
 * include/grace/simple_locks.h). Waiters read until the word looks free and
 * only then try the exchange, so they spin in their own cache instead of
 * bouncing the line with locked instructions.
 */
#include <grace/lockstat.h>
#include <grace/simple_locks.h>
#include "lock_env.h"

void tas_spin_lock_init(tas_lock_t *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELAXED);
}

bool tas_spin_trylock(tas_lock_t *l)
{
	/* Acquire pairs with the release in tas_spin_unlock(). */
	return __atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE) == 0;
}

void tas_spin_lock(tas_lock_t *l)
{
	if (tas_spin_trylock(l)) {
		lockstat_inc(LOCK_CLASS_TAS, LS_FAST);
		return;
	}
	lockstat_inc(LOCK_CLASS_TAS, LS_QUEUED);
	do {
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			lock_cpu_relax();
	} while (!tas_spin_trylock(l));
}

void tas_spin_unlock(tas_lock_t *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

bool tas_spin_is_locked(tas_lock_t *l)
{
	return __atomic_load_n(&l->locked, __ATOMIC_RELAXED) != 0;
}
