/*
 * pv_dynamic.h — `pvspin=dynamic`: watch for vCPU overcommit and switch the
 * spinlock native <-> PV live (kernel/locking/pv_dynamic.c). The decision
 * itself is pure, in <grace/pv_dynamic_policy.h>.
 */
#ifndef GRACE_PV_DYNAMIC_H
#define GRACE_PV_DYNAMIC_H

#include <grace/qspinlock_pv.h>
#include <grace/types.h>

/* pv_spinlock_init() (pvspin=dynamic): boot native, switch to `pv` when overcommitted. */
void pv_dynamic_enable(enum pv_backend pv);
/* kernel_init, once every CPU is up: start the sampler and its thread (if enabled). */
void pv_dynamic_start(void);
/* Stop the policy (a manual `pvspin` switch); true if it was running. Sleeps. */
bool pv_dynamic_stop(const char *why);
/* One line (or two) on the policy's state, for the `pvspin` command. */
void pv_dynamic_show(void);
bool pv_dynamic_running(void);

#endif
