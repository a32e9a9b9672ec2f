/*
 * acpi.c — ACPI in the kernel: find the tables at boot, then power off,
 * reset and route ISA IRQs with what they said.
 *
 * acpi_init() hands the RSDP copy from the multiboot2 tag (boot_info.rsdp)
 * to the pure parser (acpi_parse.c), which reads physical memory through
 * acpi_phys_map(): the direct map at PHYS_OFFSET. The result is the global
 * `acpi` (include/grace/acpi.h), written once at boot and read-only after.
 *
 * Invariants:
 *  - acpi_init() runs once, on the boot CPU, before any reader of `acpi`;
 *    until then (and with `acpi=off`) `acpi` is all zero, which every reader
 *    takes as "no ACPI": one CPU, IOAPIC at its default address, identity
 *    ISA IRQ routing, no HPET, no ACPI power-off or reset;
 *  - problems in the tables are messages ("acpi: ... ignored"), never a panic.
 * Tests: ktest acpi.* (scenarios acpi-pc, acpi-q35); the parser itself is
 * tested on the host by tests/unit/test_acpi.c.
 */
#include <asm/acpi_parse.h>
#include <asm/cpu.h>
#include <asm/io.h>
#include <grace/acpi.h>
#include <grace/bootinfo.h>
#include <grace/mm.h>
#include <grace/param.h>
#include <grace/printk.h>
#include <grace/string.h>

struct acpi_info acpi;

static char acpi_mode[8];
param_string("acpi", acpi_mode, "off: ignore the ACPI tables (one CPU, no HPET, no ACPI power-off)");

/*
 * The boot page tables map physical 0..4 GiB at PHYS_OFFSET; the memory work
 * extends the direct map to all of RAM, and ACPI tables always lie in RAM
 * (ACPI reclaimable/NVS or reserved regions of the memory map). So anything
 * below 4 GiB or below the end of the highest memory-map region is readable.
 */
static u64 direct_map_limit(void)
{
	u64 limit = 4ULL << 30;

	for (unsigned int i = 0; i < boot_info.nr_mem; i++) {
		u64 end = boot_info.mem[i].base + boot_info.mem[i].len;

		if (end > limit)
			limit = end;
	}
	return limit;
}

const void *acpi_phys_map(void *ctx, u64 addr, size_t len)
{
	u64 limit = direct_map_limit();

	(void)ctx;
	if (addr >= limit || len > limit - addr)
		return NULL;
	return phys_to_virt(addr);
}

static void acpi_report(void *ctx, const char *msg)
{
	(void)ctx;
	printk("%s\n", msg);
}

static const struct acpi_parse_ops kernel_ops = {
	.map = acpi_phys_map,
	.report = acpi_report,
};

static void print_summary(void)
{
	char madt[80], hpet[40], fadt[48];

	if (acpi.have_madt)
		snprintf(madt, sizeof(madt), "%u CPU%s (%u enabled), %u IOAPIC%s, %u override%s",
			 acpi.nr_cpus, acpi.nr_cpus == 1 ? "" : "s", acpi.nr_cpus_enabled,
			 acpi.nr_ioapics, acpi.nr_ioapics == 1 ? "" : "s",
			 acpi.nr_overrides, acpi.nr_overrides == 1 ? "" : "s");
	else
		strlcpy(madt, "none (one CPU assumed)", sizeof(madt));
	if (acpi.have_hpet)
		snprintf(hpet, sizeof(hpet), "HPET at %#llx", (unsigned long long)acpi.hpet_addr);
	else
		strlcpy(hpet, "no HPET", sizeof(hpet));
	if (acpi.have_fadt)
		snprintf(fadt, sizeof(fadt), "S5 %s, reset reg %s",
			 acpi.have_s5 && acpi.pm1a_cnt ? "ok" : "missing",
			 acpi.have_reset_reg ? "ok" : "missing");
	else
		strlcpy(fadt, "none", sizeof(fadt));
	printk("acpi: RSDP v%u OEM %s, MADT: %s, %s, FADT: %s\n",
	       acpi.revision ? acpi.revision : 1, acpi.oem_id, madt, hpet, fadt);
	if (acpi.nr_warnings)
		printk("acpi: %u problem%s in the firmware tables (see above)\n",
		       acpi.nr_warnings, acpi.nr_warnings == 1 ? "" : "s");
}

void acpi_init(void)
{
	if (!strcmp(acpi_mode, "off")) {
		printk("acpi: disabled by acpi=off; one CPU, no HPET, no ACPI power-off\n");
		acpi.disabled = true;
		return;
	}
	if (acpi_mode[0])
		printk("acpi: acpi=%s is not understood (only \"off\"); ACPI stays on\n", acpi_mode);
	if (acpi_parse(boot_info.rsdp, boot_info.rsdp_len, &kernel_ops, &acpi))
		return; /* the parser said why; `acpi` is all zero */
	print_summary();
}

/*
 * PM1 Control register (ACPI 6.x §4.8.3.2.1, Table 4.13): SLP_TYPx in bits
 * 10-12, SLP_EN (write-only) in bit 13. Writing SLP_TYP from \_S5 and then
 * SLP_EN enters S5, soft off (§16.1.7). PM1b, when present, gets SLP_TYPb;
 * the two registers together form the PM1 control "register grouping".
 */
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_TYP_MASK  (7u << PM1_SLP_TYP_SHIFT)
#define PM1_SLP_EN        (1u << 13)

void acpi_poweroff(void)
{
	if (!acpi.have_fadt || !acpi.have_s5 || !acpi.pm1a_cnt) {
		printk("acpi: no ACPI power-off (no FADT PM1a_CNT or no \\_S5)\n");
		return;
	}
	u16 a = inw((u16)acpi.pm1a_cnt) & ~(PM1_SLP_TYP_MASK | PM1_SLP_EN);
	u16 b = acpi.pm1b_cnt ? inw((u16)acpi.pm1b_cnt) & ~(PM1_SLP_TYP_MASK | PM1_SLP_EN) : 0;

	a |= acpi.slp_typa << PM1_SLP_TYP_SHIFT;
	b |= acpi.slp_typb << PM1_SLP_TYP_SHIFT;
	/* Sleep type first, then the enable bit (as ACPICA does). */
	outw((u16)acpi.pm1a_cnt, a);
	if (acpi.pm1b_cnt)
		outw((u16)acpi.pm1b_cnt, b);
	outw((u16)acpi.pm1a_cnt, a | PM1_SLP_EN);
	if (acpi.pm1b_cnt)
		outw((u16)acpi.pm1b_cnt, b | PM1_SLP_EN);
	for (int i = 0; i < 100000; i++)
		io_delay();
	printk("acpi: still running after entering S5\n");
}

/* PCI configuration mechanism #1 (PCI Local Bus Spec 3.0 §3.2.2.3.2). */
#define PCI_CONFIG_ADDRESS 0xCF8
#define PCI_CONFIG_DATA    0xCFC

void acpi_reset(void)
{
	if (!acpi.have_reset_reg) {
		printk("acpi: no FADT reset register\n");
		return;
	}
	/* RESET_REG is a Generic Address Structure (ACPI 6.x §4.8.3.6, §5.2.3.2). */
	switch (acpi.reset_space) {
	case 0: /* system memory: a chipset register, reached through the direct map */
		if (acpi_phys_map(NULL, acpi.reset_addr, 1))
			*(volatile u8 *)phys_to_virt(acpi.reset_addr) = acpi.reset_value;
		break;
	case 1: /* system I/O */
		outb((u16)acpi.reset_addr, acpi.reset_value);
		break;
	case 2: { /* PCI config, segment 0 bus 0: device bits 47-32, function 31-16, offset 15-0 */
		u32 dev = (acpi.reset_addr >> 32) & 0x1F, fn = (acpi.reset_addr >> 16) & 0x7;
		u32 off = acpi.reset_addr & 0xFF;

		outl(PCI_CONFIG_ADDRESS, 0x80000000u | dev << 11 | fn << 8 | (off & 0xFC));
		outb((u16)(PCI_CONFIG_DATA + (off & 3)), acpi.reset_value);
		break;
	}
	}
	for (int i = 0; i < 100000; i++)
		io_delay();
	printk("acpi: still running after writing the reset register\n");
}

u32 acpi_isa_irq_to_gsi(u8 irq, u16 *flags)
{
	for (unsigned int i = 0; i < acpi.nr_overrides; i++) {
		if (acpi.overrides[i].source_irq == irq) {
			if (flags)
				*flags = acpi.overrides[i].flags;
			return acpi.overrides[i].gsi;
		}
	}
	/* No override: ISA IRQ n is GSI n, edge-triggered active-high (flags 0 =
	 * "conforms to the bus", ACPI 6.x §5.2.12.5). */
	if (flags)
		*flags = 0;
	return irq;
}
