/*
 * pv_kick.c — the IPI of the halt+IPI paravirt lock backend.
 *
 * A waiter halts with interrupts on; the unlocker kicks it with
 * PV_KICK_VECTOR. The handler only counts the kick: the waiter halts again
 * after any wake-up that brought no kick (pv_spinlock.c). This file is the
 * hardware half — the vector, the LAPIC and the APIC IDs — which the lock
 * code reaches through pv_set_kick_ipi()/pv_set_cpu_apicid(), so that the
 * lock code itself needs no LAPIC.
 * Tests: scenarios locktorture-qspinlock-ipi-*, locktorture-bug-pv-*.
 */
#include <asm/apic.h>
#include <asm/irq_vectors.h>
#include <grace/irq.h>
#include <grace/panic.h>
#include <grace/qspinlock_pv.h>
#include <grace/smp.h>

static void pv_kick_interrupt(struct pt_regs *regs, void *data)
{
	(void)regs;
	(void)data;
	pv_kick_received();
}

static void smp_pv_kick(int cpu)
{
	lapic_send_ipi(cpu_physical_id((unsigned int)cpu), APIC_ICR_FIXED, PV_KICK_VECTOR);
}

static u32 smp_cpu_apicid(int cpu)
{
	return cpu_physical_id((unsigned int)cpu);
}

void pv_kick_init(void)
{
	if (request_irq_vector(PV_KICK_VECTOR, pv_kick_interrupt, NULL, "pv-kick"))
		panic("smp: vector %#x already taken", PV_KICK_VECTOR);
	pv_set_cpu_apicid(smp_cpu_apicid);
	pv_set_kick_ipi(smp_pv_kick);
}
