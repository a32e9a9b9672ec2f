/*
 * LAB smp-bringup: start the other CPUs.
 *
 * At reset only the boot CPU runs; every other CPU (an AP) waits for a
 * start-up message from it, sent through the local APIC's interrupt command
 * register (ICR). The universal start-up algorithm (Intel SDM Vol. 3A
 * §8.4.4.1, "Typical BSP Initialization Sequence"; MP Specification 1.4
 * appendix B) is:
 *
 *   INIT IPI to the AP                (level assert)
 *   wait 10 ms
 *   STARTUP IPI (SIPI), vector = page number of the trampoline
 *   wait 200 us
 *   a second SIPI                     (an AP that already started ignores it)
 *   wait 200 us
 *
 * Write three functions here:
 *   send_init(cpu)   INIT to cpu_apicid[cpu] (lapic_send_ipi, APIC_ICR_INIT |
 *                    APIC_ICR_LEVEL_ASSERT), then wait until the ICR's
 *                    delivery-status bit (APIC_ICR_PENDING) clears — bounded,
 *                    and say so if it never does;
 *   send_sipi(cpu)   STARTUP with vector trampoline_phys >> PAGE_SHIFT, then
 *                    the same wait;
 *   kick_aps(set)    for a whole set at once: trampoline_refresh(); a full
 *                    barrier so everything prepare_ap() wrote is visible
 *                    before an AP can run; INIT to each; 10 ms; two rounds of
 *                    SIPI to each with 200 us after each round; mark each
 *                    ap_boot[cpu].kicked. Pay the delays only when
 *                    use_spec_delays is set (real hardware; hypervisors do
 *                    not need them), and never send a SIPI to silent_cpu
 *                    (a test parameter: a CPU that never answers).
 *
 * Until you write them, no AP ever starts: each times out and rolls back.
 * (send_init is also how an offlined CPU is parked for good.)
 */
static void send_init(unsigned int cpu)
{
	(void)cpu;   /* your INIT here */
}

static void __maybe_unused send_sipi(unsigned int cpu)   /* unused until kick_aps calls it */
{
	(void)cpu;   /* your STARTUP IPI here */
}

static void kick_aps(const struct cpumask *set)
{
	unsigned int cpu;

	trampoline_refresh();
	for_each_cpu(cpu, set)
		ap_boot[cpu].kicked = true;   /* the waiters expect a kicked AP */
	/* Your INIT, SIPI, SIPI here (send_init, send_sipi). */
}
