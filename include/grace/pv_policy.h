/*
 * pv_policy.h — the facts and decisions behind the paravirt spinlock
 * backend: what CPUID says about the hypervisor (read by
 * kernel/locking/pv_cpuid.c), the `pvspin=auto` policy and the KVM kick
 * hypercall's registers (kernel/locking/pv_policy.c, pure: no hardware
 * access, so tests/unit/test_pv_policy.c checks every case on the host).
 */
#ifndef GRACE_PV_POLICY_H
#define GRACE_PV_POLICY_H

#include <grace/qspinlock_pv.h>
#include <grace/types.h>

#define KVM_CPUID_SIGNATURE      0x40000000  /* Linux Documentation/virt/kvm/x86/cpuid.rst */
#define KVM_CPUID_FEATURES       0x40000001
#define KVM_FEATURE_PV_UNHALT    7           /* features EAX bit */
#define KVM_HINTS_REALTIME       0           /* features EDX bit */
#define KVM_HC_KICK_CPU          5           /* Documentation/virt/kvm/x86/hypercalls.rst */

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

/* Read the facts above from this CPU's CPUID (kernel/locking/pv_cpuid.c). */
void pv_read_cpuid_facts(struct pv_cpuid_facts *f);

#endif
