/*
 * simple_locks.h — test-and-set and ticket spinlocks, kept for comparison
 * with the queued spinlock in benchmarks, locktorture and labs. Same API
 * shape as spin_lock (init / lock / trylock / unlock / is_locked);
 * <grace/lock_types.h> puts all three behind one switch for the benchmark
 * and the torture test.
 *
 * tas_lock_t (kernel/locking/tas.c): test-and-test-and-set. Cheapest when
 *   uncontended; under contention every release starts a stampede of
 *   atomic exchanges on one cache line, and there is no fairness at all.
 * ticket_lock_t (kernel/locking/ticket.c): take a ticket (fetch_add on
 *   `next`), wait until `owner` reaches it. Strictly FIFO — which is exactly
 *   what hurts under vCPU overcommit: the lock is handed to the next ticket
 *   even when that vCPU is preempted, and everyone behind it waits too.
 *
 * Tested by tests/unit/test_qspinlock.c (same exclusivity harness).
 */
#ifndef GRACE_SIMPLE_LOCKS_H
#define GRACE_SIMPLE_LOCKS_H

#include <grace/types.h>

typedef struct { u32 locked; } tas_lock_t;
#define TAS_LOCK_INIT { 0 }
void tas_spin_lock_init(tas_lock_t *l);
void tas_spin_lock(tas_lock_t *l);
bool tas_spin_trylock(tas_lock_t *l);
void tas_spin_unlock(tas_lock_t *l);
bool tas_spin_is_locked(tas_lock_t *l);

typedef struct {
	union {
		u32 val;
		struct { u16 owner; u16 next; };   /* little-endian: owner is the low half */
	};
} ticket_lock_t;
#define TICKET_LOCK_INIT { { .val = 0 } }
void ticket_spin_lock_init(ticket_lock_t *l);
void ticket_spin_lock(ticket_lock_t *l);
bool ticket_spin_trylock(ticket_lock_t *l);
void ticket_spin_unlock(ticket_lock_t *l);
bool ticket_spin_is_locked(ticket_lock_t *l);

#endif
