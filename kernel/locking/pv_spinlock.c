/*
 * pv_spinlock.c — choosing the paravirt spinlock backend at boot.
 *
 * Reads the CPUID facts (pv_cpuid.c), lets pv_choose() (pv_policy.c, pure)
 * or `pvspin=` decide, makes sure the choice works here (the KVM backend
 * probes its hypercall first), installs the backend's ops and prints the
 * choice:
 *
 *   pvspin: backend ipi (hypervisor "TCGTCGTCGTCG", 2 possible CPUs: halt+IPI)
 *
 * Backends (the protocol around them is in qspinlock_paravirt.h):
 *   native  pv_ops.c: no PV, the plain queued spinlock
 *   kvm     pv_kvm.c: halt, the kick hypercall, the probe kick
 *   ipi     pv_ipi.c: `sti; hlt`, a kick IPI
 *
 * Parameters:
 *   pvspin=auto|off|native|kvm|ipi  backend (default auto)
 *   pvspin=dynamic                  boot native; pv_dynamic.c switches to the
 *                                   auto choice's PV backend (ipi if auto says
 *                                   native) while the guest is overcommitted
 *   qspinlock.pv_spin=N             spins before a PV waiter halts (default 4096)
 * The lab switches of the lock code are in qspinlock_lab.c.
 * Tested by: tests/unit/test_pv_policy.c (policy, names, hypercall
 * registers), the boot line in every log, scenarios pvspin-kvm-*.
 */
#include <grace/param.h>
#include <grace/printk.h>
#include <grace/pv_dynamic.h>
#include <grace/pv_ipi.h>
#include <grace/pv_kvm.h>
#include <grace/pv_policy.h>
#include <grace/qspinlock_pv.h>
#include <grace/string.h>
#include "lock_env.h"
#include "lockop.h"

static char pvspin_mode[8] = "auto";
param_string("pvspin", pvspin_mode, "paravirt spinlocks: auto|off|native|kvm|ipi|dynamic");
param_int("qspinlock.pv_spin", pv_spin_threshold, 1, 1 << 24,
	  "spins before a paravirt lock waiter halts");

static struct pv_cpuid_facts pv_facts;

const struct pv_lock_ops *pv_backend_ops(enum pv_backend b)
{
	switch (b) {
	case PV_NATIVE:
		return &pv_lock_ops_native;
	case PV_IPI:
		return &pv_ipi_ops;
	case PV_KVM: {
		char why[272];

		return pv_kvm_ops(why, sizeof(why));
	}
	default:
		return NULL;
	}
}

void pv_spinlock_init(unsigned int possible_cpus)
{
	char why[80];
	enum pv_backend auto_b, b;
	const struct pv_lock_ops *kvm = NULL;

	if (lock_race_delay_us)
		static_branch_enable(&lock_race_delay_key);
	pv_read_cpuid_facts(&pv_facts);
	pv_kvm_init(&pv_facts);
	auto_b = pv_choose(&pv_facts, possible_cpus, why, sizeof(why));
	if (auto_b == PV_IPI && pv_kvm_available() && !pv_facts.kvm) {
		auto_b = PV_KVM;   /* pvspin.kvm_force=1: as if KVM offered PV_UNHALT */
		snprintf(why, sizeof(why), "pvspin.kvm_force=1");
	}
	b = auto_b;
	if (!pv_backend_parse(pvspin_mode, &b)) {
		snprintf(why, sizeof(why), "pvspin=%s", pvspin_mode);
	} else if (!strcmp(pvspin_mode, "dynamic")) {
		/* The PV side is the auto choice, or halt+IPI where auto says native. */
		enum pv_backend pv = auto_b == PV_NATIVE ? PV_IPI : auto_b;

		if (pv == PV_KVM && !pv_kvm_ops(why, sizeof(why)))
			pv = PV_IPI;
		pv_dynamic_enable(pv);
		b = PV_NATIVE;
		snprintf(why, sizeof(why), "pvspin=dynamic: native until overcommitted, then %s",
			 pv_backend_name(pv));
	} else if (strcmp(pvspin_mode, "auto")) {
		printk("pvspin=%s: unknown (auto|off|native|kvm|ipi|dynamic), using auto\n", pvspin_mode);
	}

	if (b == PV_KVM) {
		/* Prove the kick hypercall works before any lock depends on it. */
		char kvm_why[272];

		kvm = pv_kvm_ops(kvm_why, sizeof(kvm_why));
		if (!kvm) {
			b = auto_b == PV_KVM ? PV_IPI : auto_b;
			printk("pvspin: KVM backend refused (%s); using %s\n", kvm_why, pv_backend_name(b));
			if (auto_b == PV_KVM)
				snprintf(why, sizeof(why), "KVM kick hypercall does not work here: halt+IPI");
		}
	}
	pv_lock_ops_install(b == PV_KVM ? kvm : b == PV_IPI ? &pv_ipi_ops : &pv_lock_ops_native);
	lockop_boot_text(b != PV_NATIVE);   /* the lock-op patch sites for this backend */
	snprintf(pv_spinlock_reason, sizeof(pv_spinlock_reason), "%s", why);
	printk("pvspin: backend %s (%s)\n", pv_backend_name(b), why);
}
