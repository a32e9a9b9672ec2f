/*
 * qspinlock_pv.h — paravirt spinlock backends: the ops the lock code calls,
 * choosing one at boot (kernel/locking/pv_spinlock.c), installing it
 * (pv_ops.c) and switching it live (pv_switch.c).
 *
 * Under a hypervisor a spinning waiter may be spinning for a vCPU that is
 * not running at all; with more vCPUs than physical CPUs the guest burns its
 * time slices spinning and ends in soft lockups. The paravirt slow path
 * (kernel/locking/qspinlock_paravirt.h) lets waiters halt after a bounded
 * spin and has the unlocker kick them. The lock code calls the backend only
 * through `pv_lock_ops`:
 *
 *   halt(irqs_were_on)  sleep until kicked (or any wake-up); called with
 *                       interrupts off after the caller re-checked, with
 *                       interrupts still off, that the awaited value is
 *                       still there. Must return with interrupts off, and
 *                       false if it could not halt at all.
 *   kick(cpu)           wake `cpu` from halt; also when it has not halted yet
 *                       (then its next halt must not sleep: KVM latches the
 *                       kick; an IPI that arrives while interrupts are off
 *                       stays pending and ends the `sti; hlt`).
 *
 * Backends:
 *   native  no PV: the plain qspinlock, unlock is one store.
 *   kvm     halt = `sti; hlt` (plain `hlt` when interrupts were off: a KVM
 *           kick wakes a halted vCPU regardless of IF); kick = hypercall
 *           KVM_HC_KICK_CPU with the target's APIC ID.
 *   ipi     halt = `sti; hlt`, kick = an IPI (pv_ipi.c). Works under any
 *           hypervisor, QEMU TCG included. With interrupts off nothing could
 *           wake the hlt, so the waiter keeps spinning instead.
 *
 * `pvspin=auto|off|native|kvm|ipi` picks one; `auto` is pv_choose()
 * (<grace/pv_policy.h>). The backends' own headers: <grace/pv_kvm.h>,
 * <grace/pv_ipi.h>.
 */
#ifndef GRACE_QSPINLOCK_PV_H
#define GRACE_QSPINLOCK_PV_H

#include <grace/types.h>

enum pv_backend { PV_NATIVE, PV_KVM, PV_IPI, PV_NR_BACKENDS };

struct pv_lock_ops {
	enum pv_backend backend;
	const char *name;
	bool (*halt)(bool irqs_were_on);
	void (*kick)(int cpu);
};

/* ---- the installed backend (kernel/locking/pv_ops.c) ---- */

/* The active backend's ops (native: never called), and the native ones. */
extern struct pv_lock_ops pv_lock_ops;
extern const struct pv_lock_ops pv_lock_ops_native;
/* Install `ops` as the backend; only while no CPU is in a lock slow path. */
void pv_lock_ops_install(const struct pv_lock_ops *ops);

/* ---- the PV slow path (kernel/locking/qspinlock_paravirt.h) ---- */

/* Lock -> sleeping-head entries in the PV hash right now (tests, lockstat). */
unsigned int pv_hash_entries_in_use(void);
struct qspinlock;
bool pv_lock_hashed(const struct qspinlock *lock);   /* for tests (qspinlock_paravirt.h) */

/* How long (cpu_relax loops) a PV waiter spins before it halts. */
extern int pv_spin_threshold;

/* Backend names (kernel/locking/pv_policy.c, pure). */
const char *pv_backend_name(enum pv_backend b);
/* "native" (or "off"), "kvm", "ipi" → the backend; -1 for anything else. */
int pv_backend_parse(const char *s, enum pv_backend *b);

/* ---- the boot choice (kernel/locking/pv_spinlock.c) ---- */

/*
 * Pick and install the backend (pvspin=) and print the choice. Call from
 * kmain after the command line is applied and before any other CPU runs;
 * `possible_cpus` from the MADT.
 */
void pv_spinlock_init(unsigned int possible_cpus);
/* The choice and its reason, for `lockstat` (pv_ops.c). */
extern char pv_spinlock_reason[96];
/*
 * The ops of backend `b`, or NULL when this machine cannot run it (kvm needs
 * KVM with PV_UNHALT; ipi needs nothing). For a live switch (pv_switch.c).
 */
const struct pv_lock_ops *pv_backend_ops(enum pv_backend b);
/*
 * ---- switching live (kernel/locking/pv_switch.c) ----
 * Switch the backend (via stop_machine):
 * 0, -EINVAL (not available here), -EBUSY (PV hash not empty). Sleeps.
 * NMI-context lock users keep away while pv_switch_in_progress is set.
 */
int pv_spinlock_switch(enum pv_backend b);
/* How the lock-op text is switched: "v1" or "v2" (kernel/locking/lockop.c). */
const char *lockop_method(void);
int lockop_set_method(const char *m);
/* V2, for tests: where the switch in progress is, seen from this CPU. */
enum lockop_v2_phase {
	LOCKOP_V2_IDLE,      /* no barrier open */
	LOCKOP_V2_BARRIER,   /* open, this CPU has not crossed */
	LOCKOP_V2_CROSSED,   /* this CPU crossed: its old operations are counted */
	LOCKOP_V2_READY,     /* every CPU crossed; waiting for the count to drain */
	LOCKOP_V2_NEW,       /* past the switch point */
};
enum lockop_v2_phase lockop_v2_phase(void);
extern bool pv_switch_in_progress;
/* NMI-context spinlock users: lock only if enter() says yes, then exit(). */
bool pv_nmi_lock_enter(void);
void pv_nmi_lock_exit(void);
/*
 * Code that reads or sets backend-specific lock-word bits from outside the
 * lock (locktorture's nesting chain plays the native pending waiter) keeps
 * the backend fixed with these: enter() says no while a switch is in
 * progress; a switch starts only once every such section has left.
 */
bool pv_switch_exclude_enter(void);
void pv_switch_exclude_exit(void);

#endif
