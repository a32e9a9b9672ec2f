/*
 * pv_ipi.h — the halt+IPI paravirt lock backend (kernel/locking/pv_ipi.c):
 * a waiter halts with `sti; hlt`, the unlocker kicks it with PV_KICK_VECTOR.
 * Works under any hypervisor, QEMU TCG included.
 */
#ifndef GRACE_PV_IPI_H
#define GRACE_PV_IPI_H

#include <grace/qspinlock_pv.h>

extern const struct pv_lock_ops pv_ipi_ops;
/* Send the kick IPI to `cpu` (also the KVM backend's fallback). */
void pv_kick_ipi(int cpu);
/* Register the kick IPI's vector. kmain, with the other IPIs. */
void pv_kick_init(void);

#endif
