/*
 * acpi_test.c — in-kernel tests of what acpi_init() found (ktest=acpi).
 *
 * Under QEMU the truth is known independently of the tables: fw_cfg item
 * FW_CFG_NB_CPUS is the -smp count, and QEMU's pc and q35 machines always
 * have one IOAPIC at 0xFEC00000 with ISA IRQ 0 routed to GSI 2, an HPET at
 * 0xFED00000 and \_S5. Without fw_cfg (not QEMU) only the self-consistency
 * checks run; with acpi=off there is nothing to check and each test passes.
 * Scenarios: tests/scenarios/acpi-pc.scn, acpi-q35.scn.
 */
#include <asm/cpu.h>
#include <asm/io.h>
#include <grace/acpi.h>
#include <grace/ktest.h>
#include <grace/string.h>

/* QEMU fw_cfg, x86 I/O interface (QEMU docs/specs/fw_cfg.txt): write the item
 * selector to port 0x510 (16-bit), read the item's bytes from port 0x511. */
#define FW_CFG_PORT_SEL  0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_NB_CPUS   0x05

static void fw_cfg_read(u16 item, void *buf, size_t len)
{
	outw(FW_CFG_PORT_SEL, item);
	for (size_t i = 0; i < len; i++)
		((u8 *)buf)[i] = inb(FW_CFG_PORT_DATA);
}

/* The -smp count from QEMU, or 0 when this is not QEMU. */
static unsigned int qemu_smp_cpus(void)
{
	char sig[4];
	u16 n;

	fw_cfg_read(FW_CFG_SIGNATURE, sig, 4);
	if (memcmp(sig, "QEMU", 4))
		return 0;
	fw_cfg_read(FW_CFG_NB_CPUS, &n, 2);
	return n;
}

KTEST(acpi_madt, "acpi.madt")
{
	unsigned int smp = qemu_smp_cpus(), enabled = 0;
	u32 a, b, c, d;
	bool boot_cpu_listed = false;

	if (acpi.disabled)
		return;
	KTEST_EXPECT(acpi.present);
	KTEST_EXPECT(acpi.have_madt);
	/* CPUID.1:EBX[31:24] is this CPU's initial APIC ID (SDM Vol. 2A, CPUID). */
	cpuid(1, &a, &b, &c, &d);
	for (unsigned int i = 0; i < acpi.nr_cpus; i++) {
		if (acpi.cpus[i].flags & ACPI_CPU_ENABLED) {
			enabled++;
			boot_cpu_listed |= acpi.cpus[i].apic_id == b >> 24;
		}
	}
	KTEST_EXPECT_MSG(enabled == acpi.nr_cpus_enabled, "counted %u enabled CPUs, acpi says %u",
			 enabled, acpi.nr_cpus_enabled);
	KTEST_EXPECT_MSG(boot_cpu_listed, "boot CPU (APIC ID %u) is not an enabled MADT CPU", b >> 24);
	if (smp)
		KTEST_EXPECT_MSG(acpi.nr_cpus_enabled == smp, "MADT has %u enabled CPUs, QEMU -smp %u",
				 acpi.nr_cpus_enabled, smp);
	KTEST_EXPECT_MSG(acpi.nr_ioapics >= 1, "no IOAPIC in the MADT");
	if (smp && acpi.nr_ioapics)
		KTEST_EXPECT_MSG(acpi.ioapics[0].addr == 0xFEC00000 && acpi.ioapics[0].gsi_base == 0,
				 "IOAPIC at %#x GSI base %u", acpi.ioapics[0].addr, acpi.ioapics[0].gsi_base);
	KTEST_EXPECT_MSG(acpi.lapic_addr == 0xFEE00000, "LAPIC at %#llx",
			 (unsigned long long)acpi.lapic_addr);
}

KTEST(acpi_isa_irq, "acpi.isa_irq")
{
	u16 flags = 0xFFFF;

	if (acpi.disabled)
		return;
	/* QEMU routes the PIT (ISA IRQ 0) to IOAPIC pin 2; IRQ 1 has no override. */
	if (qemu_smp_cpus())
		KTEST_EXPECT(acpi_isa_irq_to_gsi(0, &flags) == 2);
	KTEST_EXPECT(acpi_isa_irq_to_gsi(1, &flags) == 1 || acpi.nr_overrides);
	KTEST_EXPECT(acpi_isa_irq_to_gsi(200, &flags) == 200 && flags == 0);
}

KTEST(acpi_fadt, "acpi.fadt")
{
	if (acpi.disabled)
		return;
	KTEST_EXPECT(acpi.have_fadt);
	KTEST_EXPECT_MSG(acpi.have_s5 && acpi.pm1a_cnt, "no S5 (PM1a_CNT %#x)", acpi.pm1a_cnt);
	KTEST_EXPECT(acpi.slp_typa <= 7 && acpi.slp_typb <= 7);
	if (qemu_smp_cpus()) {
		KTEST_EXPECT(acpi.have_hpet && acpi.hpet_addr == 0xFED00000);
		/* pc's FADT is ACPI 1.0 (revision 1), which has no RESET_REG. */
		if (acpi.fadt_revision >= 2)
			KTEST_EXPECT(acpi.have_reset_reg);
		KTEST_EXPECT_MSG(acpi.nr_warnings == 0, "%u problems in QEMU's tables", acpi.nr_warnings);
	}
}
