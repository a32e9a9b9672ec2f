/*
 * hpet.c — the HPET main counter (IA-PC HPET specification 1.0a, §2.3).
 *
 * Grace uses the HPET only as a reference clock to calibrate the TSC: the
 * main counter runs at a fixed, documented period (GCAP_ID bits 63:32, in
 * femtoseconds, at most 100 ns) and is enabled by GEN_CONF bit 0. No HPET
 * timers or interrupts are used. The address comes from the ACPI HPET table.
 * Invariant: hpet_read() is only called after hpet_init() returned true.
 */
#include <asm/io.h>
#include <grace/acpi.h>
#include <grace/hpet.h>
#include <grace/mm.h>
#include <grace/printk.h>

#define HPET_GCAP_ID   0x000
#define HPET_GEN_CONF  0x010
#define HPET_COUNTER   0x0F0
#define HPET_ENABLE    (1u << 0)
#define HPET_MAX_PERIOD_FS 100000000ULL /* 100 ns */

static volatile u8 *hpet_base;
static u64 period_fs;

bool hpet_init(void)
{
	if (!acpi.have_hpet || !acpi.hpet_addr) {
		printk("hpet: not described by ACPI\n");
		return false;
	}
	hpet_base = ioremap(acpi.hpet_addr, PAGE_SIZE);
	u64 cap = mmio_read64(hpet_base + HPET_GCAP_ID);

	period_fs = cap >> 32;
	if (cap == ~0ULL || period_fs == 0 || period_fs > HPET_MAX_PERIOD_FS) {
		printk("hpet: period %llu fs at %#llx is invalid, not used\n",
		       (unsigned long long)period_fs, (unsigned long long)acpi.hpet_addr);
		hpet_base = NULL;
		return false;
	}
	mmio_write64(hpet_base + HPET_GEN_CONF, mmio_read64(hpet_base + HPET_GEN_CONF) | HPET_ENABLE);
	u64 a = hpet_read();

	for (int i = 0; i < 100000 && hpet_read() == a; i++)
		io_delay();
	if (hpet_read() == a) {
		printk("hpet: main counter does not advance, not used\n");
		hpet_base = NULL;
		return false;
	}
	return true;
}

u64 hpet_read(void)
{
	return mmio_read64(hpet_base + HPET_COUNTER);
}

u64 hpet_period_fs(void)
{
	return period_fs;
}
