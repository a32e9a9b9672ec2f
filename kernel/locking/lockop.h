/*
 * lockop.h — the lock-operation switch (kernel/locking/lockop.c), for
 * pv_spinlock.c, pv_switch.c and the benchmark.
 */
#ifndef KERNEL_LOCKING_LOCKOP_H
#define KERNEL_LOCKING_LOCKOP_H

#include <grace/qspinlock_pv.h>
#include <grace/types.h>

struct lockop_stats {
	u64 switches, failed, handler_calls, held_overflow;
	u64 last_switch_ns, last_barrier_ns, last_ipi_rounds;
	u64 last_int3_ns;    /* V2: from the start to the barrier (int3 step and its syncs) */
	u64 cross_refused;   /* barrier IPIs that landed inside a lock operation */
	u32 last_abort_crossed, last_abort_active;   /* why the last V2 attempt gave up */
};
extern struct lockop_stats lockop_stats;

void lockop_boot_text(bool pv);
int lockop_switch(const struct pv_lock_ops *ops);
unsigned int lockop_nr_sites(void);
unsigned int lockop_hooks_mismatch(const struct pv_lock_ops *ops, unsigned int *nr);
const char *lockop_method(void);
int lockop_set_method(const char *m);

#endif
