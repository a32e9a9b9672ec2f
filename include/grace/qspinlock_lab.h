/*
 * qspinlock_lab.h — the lock code's lab switches (kernel/locking/qspinlock_lab.c):
 * bugs injected on purpose with `locktorture.bug=NAME[,NAME]`, each caught
 * by a scenario locktorture-bug-* and by tests/unit/test_qspinlock.c, and
 * the race delay `qspinlock.race_delay_us=` (kernel/locking/lock_env.h).
 * Off, each costs the lock code one predictable test.
 */
#ifndef GRACE_QSPINLOCK_LAB_H
#define GRACE_QSPINLOCK_LAB_H

#include <grace/types.h>

#define QSPIN_BUG_PV_LOST_WAKEUP  (1U << 0)  /* pv_wait halts without re-checking */
#define QSPIN_BUG_PV_DROP_KICK    (1U << 1)  /* the slow unlock never kicks */
#define QSPIN_BUG_MCS_HANDOVER    (1U << 2)  /* new head passes the queue on before owning the lock */
extern unsigned int qspinlock_bugs;
/* Parse "name[,name...]" into QSPIN_BUG_* bits; returns -1 on an unknown name.
 * Pure (kernel/locking/pv_policy.c), so the host tests use it too. */
int qspinlock_parse_bugs(const char *s, unsigned int *bits);

/* Set qspinlock.race_delay_us at run time (0 = off); returns the old value.
 * For ktests that need a lock window wide (locking.pending_head). */
int qspinlock_race_delay_set(int us);

/* Apply locktorture.bug= (and say so). Call before any other CPU runs. */
void qspinlock_lab_init(void);

#endif
