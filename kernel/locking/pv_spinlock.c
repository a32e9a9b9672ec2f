/*
 * pv_spinlock.c — the paravirt spinlock backends and their boot-time choice.
 *
 * Reads the CPUID facts (hypervisor bit, the hypervisor leaves, the KVM
 * feature and hint words, the vendor), lets pv_choose() (pv_policy.c, pure)
 * or `pvspin=` decide, installs the backend's ops and prints the choice:
 *
 *   pvspin: backend ipi (hypervisor "TCGTCGTCGTCG", 2 possible CPUs: halt+IPI)
 *
 * Backends (the protocol around them is in qspinlock_paravirt.h):
 *   kvm  in pv_kvm.c: halt, the kick hypercall, and the probe kick that
 *        must succeed before the backend is installed.
 *   ipi  halt: `sti; hlt`; with interrupts off it returns at once (nothing
 *        could wake it) and the waiter keeps spinning; kick: pv_kick_ipi(),
 *        which the SMP code wires to a real IPI.
 *
 * Parameters:
 *   pvspin=auto|off|kvm|ipi     backend (default auto)
 *   qspinlock.pv_spin=N         spins before a PV waiter halts (default 4096)
 *   qspinlock.pv_wake_any=0|1   halt+IPI: any interrupt ends a wait (default 0:
 *                               only a kick does)
 *   qspinlock.race_delay_us=N   random pause at the PV race windows (torture)
 *   locktorture.bug=NAME[,..]   inject a bug into the lock code:
 *       pv_lost_wakeup  pv_wait halts without re-checking the value
 *       pv_drop_kick    PV kicks are never sent
 *       mcs_handover    a new queue head passes the head on before it owns
 *                       the lock (two CPUs in the critical section)
 * Tested by: tests/unit/test_pv_policy.c (policy, hypercall registers),
 * tests/unit/test_qspinlock.c (the protocol), the boot line in every log.
 */
#include <asm/cpu.h>
#include <grace/irq.h>
#include <grace/param.h>
#include <grace/percpu.h>
#include <grace/time.h>
#include <grace/printk.h>
#include <grace/qspinlock.h>
#include <grace/qspinlock_pv.h>
#include <grace/random.h>
#include <grace/string.h>
#include "lock_env.h"
#include "lockop.h"

static char pvspin_mode[8] = "auto";
param_string("pvspin", pvspin_mode, "paravirt spinlocks: auto|off|kvm|ipi");
static char lock_bug[48];
param_string("locktorture.bug", lock_bug,
	     "inject a lock bug: pv_lost_wakeup, pv_drop_kick, mcs_handover");
param_int("qspinlock.pv_spin", pv_spin_threshold, 1, 1 << 24,
	  "spins before a paravirt lock waiter halts");

static struct pv_cpuid_facts pv_facts;

/* ---- hooks the SMP code fills in ---- */

static void kick_ipi_none(int cpu) { (void)cpu; }
static void (*kick_ipi_fn)(int cpu) = kick_ipi_none;

void pv_set_kick_ipi(void (*fn)(int cpu)) { kick_ipi_fn = fn ? fn : kick_ipi_none; }
void pv_kick_ipi(int cpu) { kick_ipi_fn(cpu); }

/*
 * How a halt+IPI waiter sleeps. pv_wait() has turned interrupts off and
 * re-checked the value; the kick it waits for can only arrive from now on
 * (an IPI stays pending while interrupts are off and ends `sti; hlt`).
 * Every kick IPI handled on this CPU bumps pv_kicks, so the waiter halts
 * again after any other wake-up — the tick, a device, an NMI, another
 * interrupt's own lock wait nested inside this one — until a kick came.
 * That is what makes a lost kick a real hang here, as it is on a tickless
 * kernel, instead of a delay of one tick: qspinlock.pv_wake_any=1 gives the
 * plain `sti; hlt` (any interrupt ends the wait) to compare.
 * A counter, not a flag: a wait nested in an interrupt that arrived during
 * this one must not consume the kick meant for the outer one.
 */
static DEFINE_PER_CPU(u64, pv_kicks);
static bool pv_wake_any;
param_bool("qspinlock.pv_wake_any", pv_wake_any,
	   "PV halt+IPI: any interrupt ends a wait (default: only a kick)");

void pv_kick_received(void)
{
	this_cpu_inc(pv_kicks);
}

static void kick_only_halt(void)
{
	u64 k0 = this_cpu_read(pv_kicks);

	do {
		safe_halt();   /* sti; hlt: no interrupt slips in between */
		cli();
	} while (!pv_wake_any && this_cpu_read(pv_kicks) == k0);
}

/*
 * qspinlock.race_delay_us=N: a random 0..N-1 µs pause (behind a static key:
 * a 5-byte NOP in the slow path while N is 0) at the points where
 * the paravirt protocol races with a concurrent kick (lock_race_delay() in
 * qspinlock_paravirt.h). Widens those windows so locktorture meets the races
 * in seconds instead of hours; the correct code must pass with it on.
 */
static int race_delay_us;
param_int("qspinlock.race_delay_us", race_delay_us, 0, 1000,
	  "random pause at the PV lock's race windows (torture)");
static DEFINE_PER_CPU(u64, race_rng);
DEFINE_STATIC_KEY_FALSE(lock_race_delay_key);   /* on iff race_delay_us > 0 */

void __lock_race_delay(void)
{
	u64 *rng;

	if (!race_delay_us)
		return;
	rng = this_cpu_ptr(&race_rng);
	if (!*rng)
		*rng = rdtsc() | 1;
	udelay(prandom_next(rng) % (u64)race_delay_us);
}

/* ---- halt + IPI ---- */

static bool ipi_pv_halt(bool irqs_were_on)
{
	if (!irqs_were_on)
		return false;   /* an IPI could not end this hlt: keep spinning instead */
	kick_only_halt();
	return true;
}

static const struct pv_lock_ops ipi_ops = {
	.backend = PV_IPI, .name = "ipi", .halt = ipi_pv_halt, .kick = pv_kick_ipi,
};

/* ---- choice ---- */

const struct pv_lock_ops *pv_backend_ops(enum pv_backend b)
{
	switch (b) {
	case PV_NATIVE:
		return &pv_lock_ops_native;
	case PV_IPI:
		return &ipi_ops;
	case PV_KVM: {
		char why[272];

		return pv_kvm_ops(why, sizeof(why));
	}
	default:
		return NULL;
	}
}

static void pv_read_cpuid_facts(struct pv_cpuid_facts *f)
{
	u32 a, b, c, d;
	char vendor[13];

	memset(f, 0, sizeof(*f));
	cpuid(0, &a, &b, &c, &d);
	pv_signature_from_regs(vendor, b, d, c);   /* vendor order: EBX, EDX, ECX */
	f->amd = !strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine");
	cpuid(1, &a, &b, &c, &d);
	f->hypervisor = (c & CPUID1_ECX_HYPERVISOR) != 0;
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

void pv_spinlock_init(unsigned int possible_cpus)
{
	char why[80];
	enum pv_backend auto_b, b;
	const struct pv_lock_ops *kvm = NULL;
	unsigned int bugs;

	if (lock_bug[0]) {
		if (qspinlock_parse_bugs(lock_bug, &bugs))
			printk("locktorture.bug=%s: unknown name (known: pv_lost_wakeup, "
			       "pv_drop_kick, mcs_handover), ignored\n", lock_bug);
		else {
			qspinlock_bugs = bugs;
			printk("locking: injected bug \"%s\" is ON\n", lock_bug);
		}
	}

	if (race_delay_us)
		static_branch_enable(&lock_race_delay_key);
	pv_read_cpuid_facts(&pv_facts);
	pv_kvm_init(&pv_facts);
	auto_b = pv_choose(&pv_facts, possible_cpus, why, sizeof(why));
	if (auto_b == PV_IPI && pv_kvm_available() && !pv_facts.kvm) {
		auto_b = PV_KVM;   /* pvspin.kvm_force=1: as if KVM offered PV_UNHALT */
		snprintf(why, sizeof(why), "pvspin.kvm_force=1");
	}
	b = auto_b;
	if (!strcmp(pvspin_mode, "off")) {
		b = PV_NATIVE;
		snprintf(why, sizeof(why), "pvspin=off");
	} else if (!strcmp(pvspin_mode, "ipi")) {
		b = PV_IPI;
		snprintf(why, sizeof(why), "pvspin=ipi");
	} else if (!strcmp(pvspin_mode, "kvm")) {
		b = PV_KVM;
		snprintf(why, sizeof(why), "pvspin=kvm");
	} else if (strcmp(pvspin_mode, "auto")) {
		printk("pvspin=%s: unknown (auto|off|kvm|ipi), using auto\n", pvspin_mode);
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
	pv_lock_ops_install(b == PV_KVM ? kvm : b == PV_IPI ? &ipi_ops : &pv_lock_ops_native);
	lockop_boot_text(b != PV_NATIVE);   /* the lock-op patch sites for this backend */
	snprintf(pv_spinlock_reason, sizeof(pv_spinlock_reason), "%s", why);
	printk("pvspin: backend %s (%s)\n", pv_backend_name(b), why);
}
