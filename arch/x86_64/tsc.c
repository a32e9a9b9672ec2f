/*
 * tsc.c — the TSC as the kernel's clock.
 *
 * At boot the TSC is calibrated against a reference: the HPET main counter
 * (preferred) or PIT channel 2 (fallback, or forced by tsc.calibrate=pit).
 * Each round reads the TSC *outside* the reference interval (TSC, start
 * reference, wait for it to end, TSC), so anything that delays the vCPU —
 * the host descheduling it, a slow port read noticing the end late — can only
 * make a round count more TSC cycles, never fewer. Five 10 ms rounds are
 * taken and the smallest kept. ktime_get_ns() then is
 * (rdtsc() - tsc_at_boot) scaled by a 32.32 fixed-point multiplier: no
 * division on the read side.
 *
 * Invariants: ktime_get_ns() is 0 before calibration and monotonic after it
 * on one CPU; QEMU TCG gives every vCPU the host TSC, so it is also
 * consistent across CPUs there. CPUID 0x80000007 EDX bit 8 (invariant TSC) is
 * reported but not required.
 * Test: ktest "time.monotonic", "time.udelay".
 */
#include <asm/cpu.h>
#include <asm/io.h>
#include <grace/hpet.h>
#include <grace/panic.h>
#include <grace/param.h>
#include <grace/printk.h>
#include <grace/string.h>
#include <grace/time.h>

u64 tsc_khz;
u64 tsc_at_boot;   /* read first thing in kmain: time zero */
static u64 ns_mult; /* ns = cycles * ns_mult >> 32 */

static char tsc_calibrate[8] = "auto";
param_string("tsc.calibrate", tsc_calibrate, "TSC reference clock: auto (HPET, else PIT), hpet or pit");

u64 ktime_get_ns(void)
{
	if (!ns_mult)
		return 0;
	u64 cycles = rdtsc() - tsc_at_boot;

	return (u64)(((unsigned __int128)cycles * ns_mult) >> 32);
}

void udelay(unsigned long us)
{
	if (!tsc_khz) {
		while (us--)
			io_delay(); /* roughly 1 us each on real hardware */
		return;
	}
	u64 start = rdtsc(), wait = tsc_khz * us / 1000;

	while (rdtsc() - start < wait)
		cpu_relax();
}

void mdelay(unsigned long ms)
{
	while (ms--)
		udelay(1000);
}

/* TSC kHz measured over ~10 ms of HPET time. */
static u64 measure_hpet(void)
{
	u64 period = hpet_period_fs();
	u64 ticks = 10ULL * 1000000000000ULL / period; /* 10 ms in HPET ticks */
	u64 t0 = rdtsc(), h0 = hpet_read(), h1;

	while ((h1 = hpet_read()) - h0 < ticks)
		cpu_relax();
	u64 t1 = rdtsc();
	u64 elapsed_ns = (h1 - h0) * period / 1000000;

	return elapsed_ns ? (t1 - t0) * 1000000 / elapsed_ns : 0;
}

static u64 measure_pit(void)
{
	u64 t0 = rdtsc();

	if (!pit_wait_us(10000))
		return 0;
	return (rdtsc() - t0) / 10;
}

#define CAL_ROUNDS 5

void time_init(void)
{
	bool want_pit = !strcmp(tsc_calibrate, "pit");
	const char *ref = "HPET";
	u64 (*measure)(void) = measure_hpet;

	if (strcmp(tsc_calibrate, "auto") && strcmp(tsc_calibrate, "hpet") && !want_pit)
		printk("tsc: tsc.calibrate=%s is not auto, hpet or pit; using auto\n", tsc_calibrate);
	if (want_pit || !hpet_init()) {
		ref = "PIT";
		measure = measure_pit;
	}
	u64 rounds[CAL_ROUNDS];

	tsc_khz = 0;
	for (int i = 0; i < CAL_ROUNDS; i++) {
		rounds[i] = measure();
		if (rounds[i] && (!tsc_khz || rounds[i] < tsc_khz))
			tsc_khz = rounds[i];
	}
	if (!tsc_khz)
		panic("tsc: calibration against the %s failed (measured 0 kHz)", ref);
	ns_mult = (1000000ULL << 32) / tsc_khz;

	u32 eax, ebx, ecx, edx = 0;

	cpuid(0x80000000, &eax, &ebx, &ecx, &edx);
	bool invariant = false;

	if (eax >= 0x80000007) {
		cpuid(0x80000007, &eax, &ebx, &ecx, &edx);
		invariant = edx & (1u << 8);
	}
	printk("tsc: %llu.%03llu MHz, calibrated against the %s (rounds %llu %llu %llu %llu %llu kHz, min kept)%s\n",
	       (unsigned long long)(tsc_khz / 1000), (unsigned long long)(tsc_khz % 1000), ref,
	       (unsigned long long)rounds[0], (unsigned long long)rounds[1], (unsigned long long)rounds[2],
	       (unsigned long long)rounds[3], (unsigned long long)rounds[4],
	       invariant ? ", invariant" : "");
}
