/*
 * pv_cpuid.c — what CPUID says about the machine, for the paravirt spinlock
 * choice: the hypervisor bit, the hypervisor's signature (scanning the
 * hypervisor leaves as Linux does), KVM's feature and hint words, and the
 * vendor (which decides the hypercall instruction). The decisions made
 * from these facts are pure and live in pv_policy.c.
 * Tested by: the `pvspin: backend ...` boot line in every log (it names the
 * hypervisor), scenario locktorture-kvm where KVM works.
 */
#include <asm/cpu.h>
#include <grace/pv_policy.h>
#include <grace/string.h>

void pv_read_cpuid_facts(struct pv_cpuid_facts *f)
{
	u32 a, b, c, d;
	char vendor[13];

	memset(f, 0, sizeof(*f));
	cpuid(0, &a, &b, &c, &d);
	pv_signature_from_regs(vendor, b, d, c);   /* vendor order: EBX, EDX, ECX */
	f->amd = !strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine");
	f->hypervisor = cpu_has_hypervisor();
	if (!f->hypervisor)
		return;
	/* Hypervisor leaves start at 0x40000000; KVM may sit at a 0x100 step
	 * further when it also offers another interface (as Linux scans). */
	for (u32 base = KVM_CPUID_SIGNATURE; base < KVM_CPUID_SIGNATURE + 0x10000; base += 0x100) {
		char sig[13];
		u32 max;

		cpuid(base, &max, &b, &c, &d);
		pv_signature_from_regs(sig, b, c, d);
		if (base == KVM_CPUID_SIGNATURE)
			memcpy(f->signature, sig, sizeof(sig));
		if (pv_signature_is_kvm(sig)) {
			f->kvm = true;
			memcpy(f->signature, sig, sizeof(sig));
			/* Old hosts report max leaf 0: means base + 1. */
			if (max == 0 || max >= base + 1) {
				cpuid(base + 1, &a, &b, &c, &d);
				f->kvm_features = a;
				f->kvm_hints = d;
			}
			break;
		}
	}
	for (int i = 0; i < 12; i++)   /* printable for the boot line */
		if (f->signature[i] && (f->signature[i] < 0x20 || f->signature[i] > 0x7e))
			f->signature[i] = '?';
}
