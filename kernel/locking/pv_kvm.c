/*
 * pv_kvm.c — the KVM paravirt lock backend: halt, the kick hypercall, and
 * the probe that proves the hypercall works before any lock depends on it.
 *
 * The kick is KVM_HC_KICK_CPU (registers in pv_policy.c). The hypercall
 * instruction is `vmcall` on Intel and `vmmcall` on AMD. When a guest uses
 * the other vendor's instruction, the CPU raises #UD into KVM, which emulates
 * it and "fixes" the guest by writing the native instruction over it, at the
 * guest's RIP, through the guest's own page tables (Linux's
 * KVM_X86_QUIRK_FIX_HYPERCALL_INSN; with the quirk off KVM injects #UD).
 * Grace's text is read-only, so that write becomes a #PF write on kernel text
 * injected into the guest, at the hypercall instruction, and the hypercall
 * was never made. A nested or emulated KVM whose real CPU differs from the
 * vendor it reports (the "AMD EPYC without svm" hosts, docs/locking.md) does
 * this to both instructions.
 *
 * So the hypercall is one instruction with an exception-table entry
 * (asm/extable.h): a #UD or #PF there returns EX_FAULTED instead of killing
 * the kernel. At backend selection, pv_kvm_ops() kicks this CPU itself,
 * first with the instruction native to the vendor CPUID reports and then with
 * the other one, and keeps the first that returns 0 — that proves the
 * hypercall reached KVM, which answered. If neither does, the backend is
 * refused with a one-line reason and the caller falls back to halt+IPI. A
 * kick that faults later all the same (it must not; pvspin.kvm_noprobe=1
 * makes it happen) is reported once, and from then on kicks are a kick IPI
 * plus an NMI: the NMI also ends a `hlt` with interrupts off, which is how a
 * KVM waiter with interrupts off sleeps. An NMI is not remembered the way a
 * KVM kick is, so that halt takes care not to miss one (kvm_pv_halt below).
 *
 * Kernel text stays read-only throughout: nothing here writes it, and KVM's
 * attempt to is exactly the fault that is caught.
 *
 * Parameters (for tests and labs, default off):
 *   pvspin.kvm_force=1    treat the machine as KVM with PV_UNHALT whatever
 *                         CPUID says (under TCG both instructions raise #UD:
 *                         the probe must refuse the backend)
 *   pvspin.kvm_noprobe=1  install the KVM backend without the probe (a kick
 *                         that faults must fall back, not crash)
 * Tested by: scenarios pvspin-kvm-probe-fault, pvspin-kvm-kick-fault,
 * locktorture-kvm (where KVM works); test_pv_policy.c (the registers).
 */
#include <asm/cpu.h>
#include <asm/extable.h>
#include <asm/traps.h>
#include <grace/backtrace.h>
#include <grace/irq.h>
#include <grace/param.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/pv_ipi.h>
#include <grace/pv_kvm.h>
#include <grace/smp.h>
#include <grace/string.h>

#include "lock_env.h"

static bool kvm_force, kvm_noprobe;
param_bool("pvspin.kvm_force", kvm_force,
	   "treat the machine as KVM with PV_UNHALT (tests the hypercall probe's fallback)");
param_bool("pvspin.kvm_noprobe", kvm_noprobe,
	   "install the KVM backend without probing the hypercall (tests the kick fallback)");

enum kvm_probe_state { KVM_UNPROBED, KVM_WORKS, KVM_REFUSED };
static enum kvm_probe_state kvm_state;
static bool kvm_vmmcall;           /* the instruction the probe kept */
static bool kvm_kick_broken;       /* a kick faulted after the probe */
static const struct pv_cpuid_facts *kvm_facts;

/* One hypercall; EX_FAULTED if the instruction faulted (asm/extable.h). */
static u64 kvm_hypercall(const struct kvm_hypercall_regs *r, bool vmmcall)
{
	u64 rax = r->rax;

	if (vmmcall)
		__asm__ __volatile__("1: vmmcall\n2:\n" _ASM_EXTABLE(1b, 2b)
				     : "+a"(rax)
				     : "b"(r->rbx), "c"(r->rcx), "d"(r->rdx), "S"(r->rsi) : "memory");
	else
		__asm__ __volatile__("1: vmcall\n2:\n" _ASM_EXTABLE(1b, 2b)
				     : "+a"(rax)
				     : "b"(r->rbx), "c"(r->rcx), "d"(r->rdx), "S"(r->rsi) : "memory");
	return rax;
}

/* "#PF write on kernel text at kvm_hypercall+0x1d" and the like. */
static void describe_fault(char *buf, size_t n)
{
	const struct extable_fault *f = extable_last_fault();
	unsigned long off, size;
	const char *sym = ksym_lookup(f->rip, &off, &size);
	char where[64];

	if (sym)
		snprintf(where, sizeof(where), "%s+0x%lx", sym, off);
	else
		snprintf(where, sizeof(where), "%#llx", (unsigned long long)f->rip);
	if (f->vector == X86_TRAP_PF && f->cr2 == f->rip && (f->error_code & 2))
		snprintf(buf, n, "#PF writing %s itself: KVM's rewrite of it, text is read-only", where);
	else if (f->vector == X86_TRAP_PF)
		snprintf(buf, n, "#PF at %s, address %#llx", where, (unsigned long long)f->cr2);
	else
		snprintf(buf, n, "%s at %s", f->vector == X86_TRAP_UD ? "#UD" : "#GP", where);
}

static u32 this_apic_id(void)
{
	u32 a, b, c, d;

	cpuid(1, &a, &b, &c, &d);
	return b >> 24;   /* initial APIC ID (SDM Vol. 2A, CPUID leaf 1, EBX[31:24]) */
}

/*
 * Kick this CPU with each instruction in turn. The kick to oneself only
 * marks this vCPU runnable in KVM: its next halt returns at once, which a
 * waiter treats as a spurious wake-up. Writes the outcome to `why`.
 */
static bool kvm_try_hypercall(char *why, size_t n)
{
	bool native = kvm_facts->amd;
	char what[2][128];

	for (int i = 0; i < 2; i++) {
		bool vmmcall = i == 0 ? native : !native;
		const char *name = vmmcall ? "vmmcall" : "vmcall";
		struct kvm_hypercall_regs r;
		u64 ret;

		kvm_kick_cpu_regs(&r, this_apic_id(), vmmcall);
		ret = kvm_hypercall(&r, vmmcall);
		if (ret == 0) {
			kvm_vmmcall = vmmcall;
			snprintf(why, n, "probe kick by %s returned 0%s", name,
				 i ? " (the other vendor's instruction faulted)" : "");
			return true;
		}
		if (ret == EX_FAULTED) {
			char f[112];

			describe_fault(f, sizeof(f));
			snprintf(what[i], sizeof(what[i]), "%s: %s", name, f);
		} else {
			snprintf(what[i], sizeof(what[i]), "%s returned %lld", name, (long long)ret);
		}
	}
	snprintf(why, n, "%s; %s", what[0], what[1]);
	return false;
}

void pv_kvm_init(const struct pv_cpuid_facts *facts)
{
	kvm_facts = facts;
}

bool pv_kvm_available(void)
{
	return kvm_facts && (kvm_force ||
			     (kvm_facts->kvm && (kvm_facts->kvm_features & (1U << KVM_FEATURE_PV_UNHALT))));
}

/* Probe once (the first caller); later callers get the boot verdict. */
static bool kvm_probe(char *why, size_t n)
{
	if (!pv_kvm_available()) {
		snprintf(why, n, "no KVM with PV_UNHALT here");
		return false;
	}
	if (kvm_noprobe) {
		kvm_vmmcall = kvm_facts->amd;
		snprintf(why, n, "pvspin.kvm_noprobe=1: not probed, %s", kvm_vmmcall ? "vmmcall" : "vmcall");
		return true;
	}
	if (kvm_state == KVM_UNPROBED) {
		unsigned long flags = local_irq_save();

		kvm_state = kvm_try_hypercall(why, n) ? KVM_WORKS : KVM_REFUSED;
		local_irq_restore(flags);
		if (kvm_state == KVM_WORKS)
			printk("pvspin: KVM kick hypercall works: %s\n", why);
	} else {
		snprintf(why, n, "KVM kick hypercall %s (probed at boot)",
			 kvm_state == KVM_WORKS ? "works" : "does not work");
	}
	return kvm_state == KVM_WORKS;
}

/*
 * The halt with interrupts off, which only a KVM kick or the fallback's NMI
 * ends. An NMI does not wait for a later hlt: one that arrives between the
 * waiter's last look at the lock and its hlt is gone, and the waiter sleeps
 * for ever (CI saw it: a boot hung in pv_wait() under schedule()). Two
 * things close that window:
 *   - the fallback kicker sets the target's kvm_nmi_kick latch before its
 *     NMI; the halt looks at the latch right before hlt, so a kick sent
 *     after the waiter's look at the lock and before that cmpb is seen;
 *   - an NMI that lands between the cmpb and the hlt itself (RIP in
 *     [kvm_nmi_halt_window, kvm_nmi_halt_hlt]) is made to return past the
 *     hlt by pv_kvm_nmi_fixup(), called first thing by every NMI.
 * A latch left over from an earlier kick only costs one spurious wake-up
 * (the caller re-checks the lock); the latch is cleared with a full barrier
 * after the halt, before that re-check. A working KVM kick needs neither: KVM
 * remembers a kick sent to a vCPU that is not halted yet (pv_unhalted).
 */
static DEFINE_PER_CPU(u8, kvm_nmi_kick);

void kvm_nmi_halt(u8 *latch);   /* below: halt unless *latch, interrupts off */
__asm__(".pushsection .text\n"
	".globl kvm_nmi_halt, kvm_nmi_halt_window, kvm_nmi_halt_hlt, kvm_nmi_halt_done\n"
	".type kvm_nmi_halt, @function\n"
	"kvm_nmi_halt:\n"
	"kvm_nmi_halt_window:\n"
	"	cmpb $0, (%rdi)\n"
	"	jne kvm_nmi_halt_done\n"
	"kvm_nmi_halt_hlt:\n"
	"	hlt\n"
	"kvm_nmi_halt_done:\n"
	"	ret\n"
	".size kvm_nmi_halt, . - kvm_nmi_halt\n"
	".popsection\n");

bool pv_kvm_nmi_fixup(struct pt_regs *regs)
{
	if (regs->rip < (u64)kvm_nmi_halt_window || regs->rip > (u64)kvm_nmi_halt_hlt)
		return false;
	regs->rip = (u64)kvm_nmi_halt_done;
	return true;
}

static bool kvm_pv_halt(bool irqs_were_on)
{
	if (irqs_were_on) {
		/* The KVM kick wakes the vCPU without an interrupt: any wake-up
		 * ends this wait (a spurious one costs a re-check). The
		 * fallback's IPI stays pending until the sti's shadow ends. */
		safe_halt();
		cli();
	} else {
		u8 *latch = this_cpu_ptr(&kvm_nmi_kick);

		lock_race_delay();   /* torture: the kick may land here, before the hlt */
		kvm_nmi_halt(latch); /* a KVM kick or the fallback's NMI ends it */
		__atomic_exchange_n(latch, 0, __ATOMIC_SEQ_CST);   /* before the caller's re-check */
	}
	return true;
}

static void kvm_pv_kick(int cpu)
{
	struct kvm_hypercall_regs r;
	char f[112];

	if (!READ_ONCE(kvm_kick_broken)) {
		kvm_kick_cpu_regs(&r, cpu_physical_id((unsigned int)cpu), kvm_vmmcall);
		if (kvm_hypercall(&r, kvm_vmmcall) != EX_FAULTED)
			return;
		if (!__atomic_exchange_n(&kvm_kick_broken, true, __ATOMIC_RELAXED)) {
			describe_fault(f, sizeof(f));
			printk("pvspin: KVM kick hypercall faulted (%s); kicks fall back to IPI + NMI\n", f);
		}
	}
	/* The IPI ends a halt with interrupts on, the NMI one with them off;
	 * the latch, set first, covers an NMI that comes before that hlt. */
	__atomic_store_n(per_cpu_ptr(&kvm_nmi_kick, (unsigned int)cpu), 1, __ATOMIC_SEQ_CST);
	pv_kick_ipi(cpu);
	smp_send_nmi((unsigned int)cpu);
}

static const struct pv_lock_ops kvm_ops = {
	.backend = PV_KVM, .name = "kvm", .halt = kvm_pv_halt, .kick = kvm_pv_kick,
};

const struct pv_lock_ops *pv_kvm_ops(char *why, size_t n)
{
	return kvm_probe(why, n) ? &kvm_ops : NULL;
}
