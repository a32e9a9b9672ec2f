/*
 * pv_kvm.h — the KVM paravirt lock backend (kernel/locking/pv_kvm.c): halt,
 * the KVM_HC_KICK_CPU hypercall, and the probe that proves the hypercall
 * works before any lock depends on it.
 */
#ifndef GRACE_PV_KVM_H
#define GRACE_PV_KVM_H

#include <grace/pv_policy.h>

/* The CPUID facts pv_spinlock_init() read (kept, not copied). */
void pv_kvm_init(const struct pv_cpuid_facts *facts);
/* CPUID offers KVM with PV_UNHALT (or pvspin.kvm_force=1). */
bool pv_kvm_available(void);
/* The KVM ops once the kick hypercall has been proven to work (probed on
 * the first call), else NULL with the reason in `why`. */
const struct pv_lock_ops *pv_kvm_ops(char *why, size_t n);
/* First thing in every NMI: an NMI that lands between the irqs-off KVM
 * halt's look at its kick latch and its hlt returns past the hlt (it is the
 * fallback kick that halt waits for). True if it moved regs->rip. */
struct pt_regs;
bool pv_kvm_nmi_fixup(struct pt_regs *regs);
/* That halt's instructions: the window's first, the hlt, and past it (for
 * ktest locking.kvm_nmi_fixup). */
extern const char kvm_nmi_halt_window[], kvm_nmi_halt_hlt[], kvm_nmi_halt_done[];

#endif
