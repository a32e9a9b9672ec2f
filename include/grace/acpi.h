/*
 * acpi.h — what Grace takes from the ACPI tables.
 *
 * arch/x86_64/acpi.c finds the RSDP (from the multiboot2 tags), walks the
 * RSDT/XSDT checking every checksum, and extracts the MADT (CPUs with their
 * flags, IOAPICs, interrupt source overrides, LAPIC NMIs), HPET and FADT.
 * A bad checksum or a truncated table is reported with a WARNING-free message
 * ("acpi: ... ignored") and a safe fallback; nothing here panics.
 * The parsers are pure logic (arch/x86_64/acpi_parse.c), unit-tested and
 * fuzzed on the host.
 */
#ifndef GRACE_ACPI_H
#define GRACE_ACPI_H

#include <grace/types.h>

#define ACPI_MAX_CPUS     1024
#define ACPI_MAX_IOAPICS  8
#define ACPI_MAX_OVERRIDES 16
#define ACPI_MAX_LAPIC_NMIS 16

enum acpi_cpu_flags {
	ACPI_CPU_ENABLED       = 1 << 0,  /* usable now */
	ACPI_CPU_ONLINE_CAPABLE = 1 << 1, /* may be enabled later (hot-add) */
};

struct acpi_cpu {
	u32 apic_id;
	u32 acpi_uid;
	u32 flags;        /* enum acpi_cpu_flags; neither bit = disabled */
	bool x2apic;      /* came from an x2APIC entry */
};

struct acpi_ioapic {
	u8 id;
	u32 addr;
	u32 gsi_base;
};

struct acpi_override {
	u8 bus, source_irq;
	u32 gsi;
	u16 flags;        /* MPS INTI flags: polarity bits 0-1, trigger bits 2-3 */
};

struct acpi_lapic_nmi {
	u32 acpi_uid;     /* 0xFF / 0xFFFFFFFF = all processors */
	u16 flags;
	u8 lint;
};

struct acpi_info {
	bool present;                 /* an RSDP was found and checked */
	u8 revision;
	char oem_id[7];
	/* MADT */
	bool have_madt;
	u32 lapic_addr;
	bool pcat_compat;             /* legacy 8259 PICs present */
	struct acpi_cpu cpus[ACPI_MAX_CPUS];
	unsigned int nr_cpus;
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	unsigned int nr_ioapics;
	struct acpi_override overrides[ACPI_MAX_OVERRIDES];
	unsigned int nr_overrides;
	struct acpi_lapic_nmi lapic_nmis[ACPI_MAX_LAPIC_NMIS];
	unsigned int nr_lapic_nmis;
	/* HPET */
	bool have_hpet;
	u64 hpet_addr;
	/* FADT */
	bool have_fadt;
	u32 pm1a_cnt, pm1b_cnt;       /* I/O ports, 0 if absent */
	u16 slp_typa, slp_typb;       /* S5 sleep type, from \_S5 in the DSDT */
	bool have_s5;
	bool have_reset_reg;
	u8 reset_space;               /* 0 memory, 1 I/O, 2 PCI config */
	u64 reset_addr;
	u8 reset_value;
	u16 sci_irq;
	unsigned int nr_warnings;
};

extern struct acpi_info acpi;

void acpi_init(void);
/* Try ACPI S5 / the reset register; return only on failure. */
void acpi_poweroff(void);
void acpi_reset(void);
/* The GSI and flags for an ISA IRQ, after interrupt source overrides. */
u32 acpi_isa_irq_to_gsi(u8 irq, u16 *flags);

#endif
