/*
 * pv_ipi.c — the halt+IPI paravirt lock backend.
 *
 * A waiter halts with interrupts on (`sti; hlt`); the unlocker kicks it
 * with an IPI on PV_KICK_VECTOR, whose handler only counts the kick. With
 * interrupts off nothing could end the hlt, so such a waiter keeps spinning
 * (halt returns false). The protocol around halt and kick is in
 * qspinlock_paravirt.h; this file is the backend's two operations and its
 * vector.
 * Tests: scenarios locktorture-qspinlock-ipi-*, locktorture-bug-pv-*
 * (a lost or dropped kick must be caught), locking-pv-switch.
 */
#include <asm/apic.h>
#include <asm/cpu.h>
#include <asm/irq_vectors.h>
#include <grace/irq.h>
#include <grace/panic.h>
#include <grace/param.h>
#include <grace/percpu.h>
#include <grace/pv_ipi.h>
#include <grace/smp.h>

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

static void pv_kick_received(void)
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

static bool ipi_pv_halt(bool irqs_were_on)
{
	if (!irqs_were_on)
		return false;   /* an IPI could not end this hlt: keep spinning instead */
	kick_only_halt();
	return true;
}

const struct pv_lock_ops pv_ipi_ops = {
	.backend = PV_IPI, .name = "ipi", .halt = ipi_pv_halt, .kick = pv_kick_ipi,
};

void pv_kick_ipi(int cpu)
{
	lapic_send_ipi(cpu_physical_id((unsigned int)cpu), APIC_ICR_FIXED, PV_KICK_VECTOR);
}

static void pv_kick_interrupt(struct pt_regs *regs, void *data)
{
	(void)regs;
	(void)data;
	pv_kick_received();
}

void pv_kick_init(void)
{
	if (request_irq_vector(PV_KICK_VECTOR, pv_kick_interrupt, NULL, "pv-kick"))
		panic("pvspin: vector %#x already taken", PV_KICK_VECTOR);
}
