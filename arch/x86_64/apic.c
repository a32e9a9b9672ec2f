/*
 * apic.c — the local APIC: enable, EOI, IPIs and the periodic timer.
 *
 * xAPIC mode through MMIO (Intel SDM Vol. 3A ch. 11); QEMU TCG 7.2 has no
 * x2APIC. Every CPU's APIC sits at the same physical address (from the
 * IA32_APIC_BASE MSR, or the MADT), so one mapping serves all CPUs: each CPU
 * sees its own registers there.
 *
 * The timer runs in periodic mode with divide-by-16. Its frequency is measured
 * once against the calibrated TSC (lapic_timer_ticks_per_ms) and reused by
 * every CPU (they share the bus clock).
 *
 * Invariants: EOI is written exactly once per delivered non-spurious interrupt
 * (the dispatcher does it); an IPI is only sent after the previous one left
 * (ICR delivery-status idle).
 * Test: ktest "time.tick" (ticks arrive at timer.hz), every scenario's boot.
 */
#include <asm/apic.h>
#include <asm/cpu.h>
#include <asm/io.h>
#include <asm/irq_vectors.h>
#include <grace/acpi.h>
#include <grace/irq.h>
#include <grace/mm.h>
#include <grace/panic.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/time.h>
#include <grace/trace.h>

#define APIC_BASE_ENABLE (1UL << 11)   /* IA32_APIC_BASE bit 11: global enable */

static volatile u8 *lapic_base;
u32 lapic_timer_ticks_per_ms;

u32 lapic_read(u32 reg)
{
	return mmio_read32(lapic_base + reg);
}

void lapic_write(u32 reg, u32 v)
{
	mmio_write32(lapic_base + reg, v);
}

void lapic_eoi(void)
{
	if (lapic_base)
		lapic_write(APIC_EOI, 0);
}

u32 lapic_id(void)
{
	return lapic_base ? lapic_read(APIC_ID) >> 24 : 0;
}

static void spurious_handler(struct pt_regs *regs, void *data)
{
	(void)regs;
	(void)data;
	/* No EOI for the spurious vector (SDM Vol. 3A §11.9). */
}

/* The NMI input of this CPU's LINT pins as the MADT describes it. */
static void setup_lint_nmi(void)
{
	for (unsigned int i = 0; i < acpi.nr_lapic_nmis; i++) {
		const struct acpi_lapic_nmi *n = &acpi.lapic_nmis[i];

		if (n->lint > 1)
			continue;
		/* uid 0xff / 0xffffffff means all processors; we do not map
		 * ACPI UIDs to CPUs yet, so apply entries meant for everyone. */
		if (n->acpi_uid != 0xff && n->acpi_uid != 0xffffffffu && n->acpi_uid != 0)
			continue;
		lapic_write(n->lint ? APIC_LVT_LINT1 : APIC_LVT_LINT0, APIC_LVT_NMI);
	}
}

void lapic_init(void)
{
	u64 base_msr = rdmsr(MSR_APIC_BASE);
	phys_addr_t phys = base_msr & 0xFFFFFF000ULL;

	if (!lapic_base) {
		lapic_base = ioremap(phys, PAGE_SIZE);
		request_irq_vector(SPURIOUS_APIC_VECTOR, spurious_handler, NULL, "spurious");
	}
	if (!(base_msr & APIC_BASE_ENABLE))
		wrmsr(MSR_APIC_BASE, base_msr | APIC_BASE_ENABLE);

	lapic_write(APIC_TPR, 0);                      /* accept every priority */
	lapic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
	lapic_write(APIC_LVT_LINT0, APIC_LVT_MASKED);  /* 8259 ExtINT: PICs are masked */
	lapic_write(APIC_LVT_LINT1, APIC_LVT_MASKED);
	lapic_write(APIC_LVT_ERROR, APIC_LVT_MASKED);
	setup_lint_nmi();
	lapic_write(APIC_ESR, 0);                      /* clear errors: write, then read */
	(void)lapic_read(APIC_ESR);
	lapic_write(APIC_SVR, APIC_SVR_ENABLE | SPURIOUS_APIC_VECTOR);
	lapic_eoi();                                   /* drop anything left in service */
	if (percpu_ready)
		this_cpu()->apic_id = lapic_id();
}

/*
 * Send an IPI: the destination goes to ICR_HIGH, then the write of ICR_LOW
 * sends it (SDM Vol. 3A §10.6.1). Two writes, so interrupts are off between
 * them — but an NMI is not held off: an NMI handler that sends (NMI
 * backtraces, NMI calls passed on from NMI context) may land between another
 * send's two writes on this CPU. Its own ICR_HIGH would then carry the
 * interrupted IPI to the NMI's target instead of its own, and that IPI would
 * be lost (seen: an NMI call left pending for good on the CPU it never
 * reached, so patching.nmi_storm found a CPU that handled no NMI after
 * locking.pv_switch_nmi). So a send from NMI context waits for its IPI to
 * leave and puts the interrupted destination back.
 */
void lapic_send_ipi(u32 apic_id, u32 icr_low, u8 vector)
{
	unsigned long flags = local_irq_save();
	bool nmi = in_nmi();
	u32 high = 0;

	while (lapic_read(APIC_ICR_LOW) & APIC_ICR_PENDING)
		cpu_relax();
	if (nmi)
		high = lapic_read(APIC_ICR_HIGH);
	lapic_write(APIC_ICR_HIGH, apic_id << 24);
	lapic_write(APIC_ICR_LOW, icr_low | vector);   /* the write sends it */
	if (nmi) {
		while (lapic_read(APIC_ICR_LOW) & APIC_ICR_PENDING)
			cpu_relax();
		lapic_write(APIC_ICR_HIGH, high);
	}
	trace_event(TRACE_IPI_SEND, apic_id, vector, icr_low);
	local_irq_restore(flags);
}

/*
 * LAPIC timer ticks (divide 16) per ms, as a ratio against the calibrated TSC.
 * The TSC is read before the count starts and after it is read back, so the
 * TSC interval contains the timer interval: a vCPU delayed anywhere can only
 * make a round come out low. Three rounds of ~10 ms, the largest kept.
 */
static void lapic_timer_calibrate(void)
{
	u64 best = 0;

	lapic_write(APIC_TIMER_DIV, 0x3);               /* divide by 16 */
	lapic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);   /* one-shot, masked */
	for (int round = 0; round < 3; round++) {
		u64 t0 = rdtsc();

		lapic_write(APIC_TIMER_INIT, 0xFFFFFFFF);
		while (rdtsc() - t0 < tsc_khz * 10)
			cpu_relax();
		u32 elapsed = 0xFFFFFFFF - lapic_read(APIC_TIMER_CUR);
		u64 cycles = rdtsc() - t0;
		u64 per_ms = (u64)elapsed * tsc_khz / cycles;

		if (per_ms > best)
			best = per_ms;
	}
	lapic_write(APIC_TIMER_INIT, 0);
	lapic_timer_ticks_per_ms = (u32)best;
	if (!lapic_timer_ticks_per_ms)
		panic("lapic: timer did not count during calibration");
	printk("lapic: timer %u.%03u MHz (divide 16)\n",
	       lapic_timer_ticks_per_ms / 1000, lapic_timer_ticks_per_ms % 1000);
}

void lapic_timer_start(unsigned int hz)
{
	if (!lapic_timer_ticks_per_ms)
		lapic_timer_calibrate();
	u32 count = (u32)((u64)lapic_timer_ticks_per_ms * 1000 / hz);

	lapic_write(APIC_TIMER_DIV, 0x3);
	lapic_write(APIC_LVT_TIMER, APIC_TIMER_PERIODIC | LOCAL_TIMER_VECTOR);
	lapic_write(APIC_TIMER_INIT, count ? count : 1);
}

void lapic_timer_stop(void)
{
	lapic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
	lapic_write(APIC_TIMER_INIT, 0);
}
