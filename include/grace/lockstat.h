/*
 * lockstat.h — per-CPU lock statistics.
 *
 * Each CPU counts events in its own row of `lockstat_cpu[]` (indexed by
 * smp_processor_id()), so counting needs no atomic instruction and no shared
 * cache line. Rows are per lock class: the queued spinlock under each
 * paravirt backend, and the test-and-set and ticket comparison locks.
 * An interrupt landing in the middle of an increment on the same CPU can
 * lose one count; these are statistics, not invariants.
 *
 * `lockstat` (shell) prints the totals per class and the PV choice;
 * `lockstat reset` zeroes them. Implemented in kernel/locking/lockstat.c.
 */
#ifndef GRACE_LOCKSTAT_H
#define GRACE_LOCKSTAT_H

#include <grace/compiler.h>
#include <grace/cpumask_limits.h>
#include <grace/percpu.h>
#include <grace/types.h>

enum lockstat_event {
	LS_FAST,            /* acquired by the uncontended fast path */
	LS_PENDING,         /* acquired through the pending bit */
	LS_QUEUED,          /* went through the MCS queue (TAS/ticket: contended) */
	LS_PV_WAIT,         /* paravirt: asked to halt */
	LS_PV_KICK,         /* paravirt: kicked a sleeping waiter */
	LS_SPURIOUS,        /* paravirt: woke up and still had to wait */
	LS_STEAL,           /* paravirt: took the lock past a queue */
	LS_NEST_OVERFLOW,   /* more than _Q_MAX_NODES nested slow paths: trylock spin */
	LS_NR_EVENTS
};

/* The first three follow enum pv_backend (qspinlock_pv.h) in order. */
enum lock_class {
	LOCK_CLASS_QSPIN_NATIVE,
	LOCK_CLASS_QSPIN_KVM,
	LOCK_CLASS_QSPIN_IPI,
	LOCK_CLASS_TAS,
	LOCK_CLASS_TICKET,
	LOCK_CLASS_NR
};

struct lockstat_row {
	u64 n[LOCK_CLASS_NR][LS_NR_EVENTS];
} __aligned(64);

extern struct lockstat_row lockstat_cpu[NR_CPUS_MAX];
/* Class of the queued spinlock right now (follows the PV backend). */
extern u8 lockstat_qspin_class;

extern const char *const lockstat_event_names[LS_NR_EVENTS];
extern const char *const lock_class_names[LOCK_CLASS_NR];

static inline enum lock_class lockstat_qspinlock_class(void)
{
	return (enum lock_class)lockstat_qspin_class;
}

static inline void lockstat_inc(enum lock_class c, enum lockstat_event e)
{
	lockstat_cpu[smp_processor_id()].n[c][e]++;
}

/* Sum of one counter over all CPUs. */
u64 lockstat_total(enum lock_class c, enum lockstat_event e);
void lockstat_reset(void);
void lockstat_print(void);

#endif
