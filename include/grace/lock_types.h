/*
 * lock_types.h — every spinlock implementation behind one switch, so that a
 * torture test or a benchmark runs the same loop on each:
 *
 *   LOCK_QSPINLOCK  spinlock_t: the queued spinlock (native or paravirt slow
 *                   path, whichever backend is installed), DEBUG checks on
 *   LOCK_TAS        tas_lock_t    (kernel/locking/tas.c)
 *   LOCK_TICKET     ticket_lock_t (kernel/locking/ticket.c)
 *
 * The dispatch is an inline switch, not a table of function pointers: with
 * the type known at the call site the compiler keeps the lock's fast path
 * inline, so a benchmark measures the lock and not an indirect call.
 * Acquire and release leave preemption alone: the caller holds it off
 * across the critical section (a spinlock holder must not be preempted).
 * Users: kernel/torture/locktorture.c, kernel/locking/lock_bench.c.
 */
#ifndef GRACE_LOCK_TYPES_H
#define GRACE_LOCK_TYPES_H

#include <grace/compiler.h>
#include <grace/simple_locks.h>
#include <grace/spinlock.h>
#include <grace/string.h>

enum lock_type { LOCK_QSPINLOCK, LOCK_TAS, LOCK_TICKET, LOCK_NR_TYPES };

union any_lock {
	spinlock_t sl;
	tas_lock_t tas;
	ticket_lock_t ticket;
};

static inline const char *lock_type_name(enum lock_type t)
{
	static const char *const names[LOCK_NR_TYPES] = { "qspinlock", "tas", "ticket" };

	return (unsigned int)t < LOCK_NR_TYPES ? names[t] : "?";
}

/* "qspinlock", "tas" or "ticket"; false for anything else. */
static inline bool lock_type_parse(const char *s, enum lock_type *t)
{
	for (int i = 0; i < LOCK_NR_TYPES; i++)
		if (!strcmp(s, lock_type_name((enum lock_type)i))) {
			*t = (enum lock_type)i;
			return true;
		}
	return false;
}

static inline void any_lock_init(enum lock_type t, union any_lock *l)
{
	switch (t) {
	case LOCK_QSPINLOCK: spin_lock_init(&l->sl); break;
	case LOCK_TAS:       tas_spin_lock_init(&l->tas); break;
	default:             ticket_spin_lock_init(&l->ticket); break;
	}
}

static __always_inline void any_lock_acquire(enum lock_type t, union any_lock *l)
{
	switch (t) {
	case LOCK_QSPINLOCK: raw_spin_lock(&l->sl); break;
	case LOCK_TAS:       tas_spin_lock(&l->tas); break;
	default:             ticket_spin_lock(&l->ticket); break;
	}
}

static __always_inline void any_lock_release(enum lock_type t, union any_lock *l)
{
	switch (t) {
	case LOCK_QSPINLOCK: raw_spin_unlock(&l->sl); break;
	case LOCK_TAS:       tas_spin_unlock(&l->tas); break;
	default:             ticket_spin_unlock(&l->ticket); break;
	}
}

#endif
