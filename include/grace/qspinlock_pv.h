/*
 * qspinlock_pv.h — paravirt spinlock backends, their selection, and the
 * failure-injection switches of the lock code.
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
 *   ipi     halt = `sti; hlt`, kick = an IPI (pv_kick_ipi, provided by the
 *           SMP code). Works under any hypervisor, QEMU TCG included. With
 *           interrupts off nothing could wake the hlt, so the waiter keeps
 *           spinning instead.
 *
 * `pvspin=auto|off|kvm|ipi` picks one; `auto` is pv_choose() below.
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

/* The active backend's ops (native: never called), and the native ones. */
extern struct pv_lock_ops pv_lock_ops;
extern const struct pv_lock_ops pv_lock_ops_native;
/* Install `ops` as the backend; only while no CPU is in a lock slow path. */
void pv_lock_ops_install(const struct pv_lock_ops *ops);

/* Lock -> sleeping-head entries in the PV hash right now (tests, lockstat). */
unsigned int pv_hash_entries_in_use(void);

/* How long (cpu_relax loops) a PV waiter spins before it halts. */
extern int pv_spin_threshold;

const char *pv_backend_name(enum pv_backend b);

/* ---- CPUID facts and the auto policy (pure; kernel/locking/pv_policy.c) ---- */

#define KVM_CPUID_SIGNATURE      0x40000000  /* Linux Documentation/virt/kvm/x86/cpuid.rst */
#define KVM_CPUID_FEATURES       0x40000001
#define KVM_FEATURE_PV_UNHALT    7           /* features EAX bit */
#define KVM_HINTS_REALTIME       0           /* features EDX bit */
#define KVM_HC_KICK_CPU          5           /* Documentation/virt/kvm/x86/hypercalls.rst */
#define CPUID1_ECX_HYPERVISOR    (1U << 31)  /* SDM vol. 2A, CPUID leaf 1: reserved for hypervisors */

struct pv_cpuid_facts {
	bool hypervisor;       /* CPUID.1:ECX bit 31 */
	char signature[13];    /* hypervisor leaf EBX,ECX,EDX as text ("" if none) */
	bool kvm;              /* signature is "KVMKVMKVM\0\0\0" */
	u32 kvm_features;      /* KVM_CPUID_FEATURES EAX */
	u32 kvm_hints;         /* KVM_CPUID_FEATURES EDX */
	bool amd;              /* vendor AuthenticAMD/HygonGenuine: vmmcall, else vmcall */
};

/* Fill `sig` (13 bytes) from the three signature registers; pure. */
void pv_signature_from_regs(char sig[13], u32 ebx, u32 ecx, u32 edx);
bool pv_signature_is_kvm(const char sig[13]);

/*
 * The `auto` policy. Returns the backend and writes a one-line reason.
 *  - one possible CPU                       -> native (nobody to wait for)
 *  - KVM with REALTIME hint                 -> native (host promises dedicated
 *                                              pCPUs; spinning is cheapest)
 *  - KVM with PV_UNHALT, no REALTIME hint   -> kvm   (Linux's policy)
 *  - KVM without PV_UNHALT                  -> ipi   (still maybe overcommitted)
 *  - any other hypervisor                   -> ipi
 *  - bare metal                             -> native
 */
enum pv_backend pv_choose(const struct pv_cpuid_facts *f, unsigned int possible_cpus,
			  char *reason, size_t n);

/*
 * The KVM kick hypercall's registers, factored out so a host test can check
 * them: rax = hypercall number, rbx = flags (0), rcx = APIC ID of the target;
 * `vmmcall` on AMD, `vmcall` on Intel.
 */
struct kvm_hypercall_regs {
	u64 rax, rbx, rcx, rdx, rsi;
	bool vmmcall;
};
void kvm_kick_cpu_regs(struct kvm_hypercall_regs *r, u32 apic_id, bool amd);

/* ---- failure injection (locktorture.bug=...) ---- */

#define QSPIN_BUG_PV_LOST_WAKEUP  (1U << 0)  /* pv_wait halts without re-checking */
#define QSPIN_BUG_PV_DROP_KICK    (1U << 1)  /* the slow unlock never kicks */
#define QSPIN_BUG_MCS_HANDOVER    (1U << 2)  /* new head passes the queue on before owning the lock */
extern unsigned int qspinlock_bugs;
/* Parse "name[,name...]" into QSPIN_BUG_* bits; returns -1 on an unknown name. */
int qspinlock_parse_bugs(const char *s, unsigned int *bits);

/* ---- the KVM backend (kernel/locking/pv_kvm.c) ---- */

/* The CPUID facts pv_spinlock_init() read (kept, not copied). */
void pv_kvm_init(const struct pv_cpuid_facts *facts);
/* CPUID offers KVM with PV_UNHALT (or pvspin.kvm_force=1). */
bool pv_kvm_available(void);
/* The KVM ops once the kick hypercall has been proven to work (probed on
 * the first call), else NULL with the reason in `why`. */
const struct pv_lock_ops *pv_kvm_ops(char *why, size_t n);

/* ---- kernel side (kernel/locking/pv_spinlock.c) ---- */

/* The kick IPI's handler calls this: ends a halt+IPI wait on this CPU. */
void pv_kick_received(void);
/* SMP code installs the IPI sender; default: no-op (single CPU). */
void pv_kick_ipi(int cpu);
void pv_set_kick_ipi(void (*fn)(int cpu));
/* SMP code installs the logical CPU -> APIC ID map; default: identity. */
void pv_set_cpu_apicid(u32 (*fn)(int cpu));
/* The kick IPI's vector and the two hooks above (kernel/locking/pv_kick.c). */
void pv_kick_init(void);

/*
 * Pick and install the backend (pvspin=), apply locktorture.bug=, print the
 * choice. Call from kmain after the command line is applied and before any
 * other CPU runs; `possible_cpus` from the MADT (1 until the SMP work).
 */
void pv_spinlock_init(unsigned int possible_cpus);
/* The choice and its reason, for `lockstat`. */
extern char pv_spinlock_reason[96];
/*
 * The ops of backend `b`, or NULL when this machine cannot run it (kvm needs
 * KVM with PV_UNHALT; ipi needs nothing). For a live switch (pv_switch.c).
 */
const struct pv_lock_ops *pv_backend_ops(enum pv_backend b);
/*
 * Switch the backend live (kernel/locking/pv_switch.c, via stop_machine):
 * 0, -EINVAL (not available here), -EBUSY (PV hash not empty). Sleeps.
 * NMI-context lock users keep away while pv_switch_in_progress is set.
 */
int pv_spinlock_switch(enum pv_backend b);
extern bool pv_switch_in_progress;
/* NMI-context spinlock users: lock only if enter() says yes, then exit(). */
bool pv_nmi_lock_enter(void);
void pv_nmi_lock_exit(void);

#endif
