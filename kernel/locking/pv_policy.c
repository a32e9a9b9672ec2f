/*
 * pv_policy.c — the pure decisions behind paravirt spinlocks: reading the
 * hypervisor signature, the `pvspin=auto` policy, the KVM kick hypercall's
 * registers, the backend names and the failure-injection names. No hardware
 * access here, so tests/unit/test_pv_policy.c checks every case on the host
 * with fake CPUID facts. The CPUID reads are in pv_cpuid.c, the choice in
 * pv_spinlock.c, the backends in pv_ops.c, pv_kvm.c and pv_ipi.c.
 */
#include <grace/pv_policy.h>
#include <grace/qspinlock_lab.h>
#include <grace/qspinlock_pv.h>
#include <grace/printk.h>
#include <grace/string.h>

static const char *const backend_names[PV_NR_BACKENDS] = {
	[PV_NATIVE] = "native", [PV_KVM] = "kvm", [PV_IPI] = "ipi",
};

const char *pv_backend_name(enum pv_backend b)
{
	return (unsigned int)b < PV_NR_BACKENDS ? backend_names[b] : "?";
}

int pv_backend_parse(const char *s, enum pv_backend *b)
{
	if (!strcmp(s, "off")) {   /* "pvspin=off": no paravirt */
		*b = PV_NATIVE;
		return 0;
	}
	for (int i = 0; i < PV_NR_BACKENDS; i++)
		if (!strcmp(s, backend_names[i])) {
			*b = (enum pv_backend)i;
			return 0;
		}
	return -1;
}

void pv_signature_from_regs(char sig[13], u32 ebx, u32 ecx, u32 edx)
{
	const u32 regs[3] = { ebx, ecx, edx };

	for (int r = 0; r < 3; r++)
		for (int b = 0; b < 4; b++)
			sig[r * 4 + b] = (char)(regs[r] >> (8 * b));
	sig[12] = '\0';
}

bool pv_signature_is_kvm(const char sig[13])
{
	/* "KVMKVMKVM\0\0\0": EBX 0x4b4d564b, ECX 0x564b4d56, EDX 0x4d
	 * (Linux Documentation/virt/kvm/x86/cpuid.rst). */
	static const char kvm[12] = { 'K', 'V', 'M', 'K', 'V', 'M', 'K', 'V', 'M', 0, 0, 0 };

	return memcmp(sig, kvm, sizeof(kvm)) == 0;
}

enum pv_backend pv_choose(const struct pv_cpuid_facts *f, unsigned int possible_cpus,
			  char *reason, size_t n)
{
	if (possible_cpus <= 1) {
		snprintf(reason, n, "one possible CPU: no other CPU to wait for");
		return PV_NATIVE;
	}
	if (f->kvm) {
		bool unhalt = f->kvm_features & (1U << KVM_FEATURE_PV_UNHALT);
		bool realtime = f->kvm_hints & (1U << KVM_HINTS_REALTIME);

		if (realtime) {
			snprintf(reason, n, "KVM hints REALTIME (dedicated pCPUs): spinning is cheapest");
			return PV_NATIVE;
		}
		if (unhalt) {
			snprintf(reason, n, "KVM with PV_UNHALT, %u possible CPUs", possible_cpus);
			return PV_KVM;
		}
		snprintf(reason, n, "KVM without PV_UNHALT, %u possible CPUs: halt+IPI", possible_cpus);
		return PV_IPI;
	}
	if (f->hypervisor) {
		snprintf(reason, n, "hypervisor \"%s\", %u possible CPUs: halt+IPI",
			 f->signature[0] ? f->signature : "unknown", possible_cpus);
		return PV_IPI;
	}
	snprintf(reason, n, "bare metal: vCPU preemption cannot happen");
	return PV_NATIVE;
}

void kvm_kick_cpu_regs(struct kvm_hypercall_regs *r, u32 apic_id, bool amd)
{
	/* Documentation/virt/kvm/x86/hypercalls.rst: number in RAX, arguments
	 * in RBX, RCX, RDX, RSI. KVM_HC_KICK_CPU: a0 = flags (reserved, 0),
	 * a1 = APIC ID of the vCPU to wake. */
	r->rax = KVM_HC_KICK_CPU;
	r->rbx = 0;
	r->rcx = apic_id;
	r->rdx = 0;
	r->rsi = 0;
	r->vmmcall = amd;
}

static const struct { const char *name; unsigned int bit; } bug_names[] = {
	{ "pv_lost_wakeup", QSPIN_BUG_PV_LOST_WAKEUP },
	{ "pv_drop_kick",   QSPIN_BUG_PV_DROP_KICK },
	{ "mcs_handover",   QSPIN_BUG_MCS_HANDOVER },
};

int qspinlock_parse_bugs(const char *s, unsigned int *bits)
{
	unsigned int out = 0;

	while (*s) {
		const char *end = strchr(s, ',');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		bool found = false;

		for (size_t i = 0; i < ARRAY_SIZE(bug_names); i++) {
			if (strlen(bug_names[i].name) == len && !memcmp(s, bug_names[i].name, len)) {
				out |= bug_names[i].bit;
				found = true;
			}
		}
		if (!found && len)
			return -1;
		s += len;
		if (*s == ',')
			s++;
	}
	*bits = out;
	return 0;
}
