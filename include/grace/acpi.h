/*
 * acpi.h — what Grace takes from the ACPI tables.
 *
 * arch/x86_64/acpi.c finds the RSDP (from the multiboot2 tags), walks the
 * RSDT/XSDT checking every checksum, and extracts the MADT (CPUs with their
 * flags, IOAPICs, interrupt source overrides, LAPIC NMIs), HPET and FADT.
 * A bad checksum or a truncated table is reported with a WARNING-free message
 * ("acpi: ... ignored"), counted in nr_warnings, and treated as absent; nothing
 * here panics. `acpi` is written once by acpi_init() on the boot CPU and is
 * read-only afterwards; all zero (before acpi_init, or with acpi=off) means
 * "no ACPI": one CPU, default IOAPIC, identity ISA IRQs, no HPET.
 * The parsers are pure logic (arch/x86_64/acpi_parse.c), unit-tested and
 * fuzzed on the host. Details and fallbacks: docs/acpi.md.
 */
#ifndef GRACE_ACPI_H
#define GRACE_ACPI_H

#include <grace/types.h>

#define ACPI_MAX_CPUS     1024
#define ACPI_MAX_IOAPICS  8
#define ACPI_MAX_OVERRIDES 16
#define ACPI_MAX_LAPIC_NMIS 16
#define ACPI_MAX_TABLES   32

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

/* One table reached from the RSDT/XSDT (or the FADT, for the DSDT). */
struct acpi_table_info {
	char sig[5];
	char oem_id[7];
	char oem_table_id[9];
	u8 revision;
	bool checksum_ok;
	bool used;                    /* length and checksum good: parsed */
	u64 addr;                     /* physical */
	u32 length;
};

struct acpi_info {
	bool disabled;                /* acpi=off: nothing was looked at */
	bool present;                 /* an RSDP was found and checked */
	u8 revision;                  /* RSDP revision: 0 = ACPI 1.0, 2 = 2.0+ */
	char oem_id[7];
	bool xsdt_used;               /* else the RSDT */
	u64 root_addr;                /* physical address of the XSDT/RSDT used */
	struct acpi_table_info tables[ACPI_MAX_TABLES];
	unsigned int nr_tables;
	/* MADT */
	bool have_madt;
	u64 lapic_addr;               /* type 5 override may move it above 4 GiB */
	bool pcat_compat;             /* legacy 8259 PICs present */
	struct acpi_cpu cpus[ACPI_MAX_CPUS]; /* every entry, disabled ones too */
	unsigned int nr_cpus;
	unsigned int nr_cpus_enabled;
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	unsigned int nr_ioapics;
	struct acpi_override overrides[ACPI_MAX_OVERRIDES];
	unsigned int nr_overrides;
	struct acpi_lapic_nmi lapic_nmis[ACPI_MAX_LAPIC_NMIS];
	unsigned int nr_lapic_nmis;
	/* HPET */
	bool have_hpet;
	u64 hpet_addr;
	u32 hpet_block_id;            /* event timer block ID (vendor, count) */
	u8 hpet_number;
	u16 hpet_min_tick;
	/* FADT */
	bool have_fadt;
	u8 fadt_revision;
	u32 fadt_flags;
	u32 pm1a_cnt, pm1b_cnt;       /* I/O ports, 0 if absent */
	u32 pm_tmr;                   /* ACPI PM timer I/O port, 0 if absent */
	bool pm_tmr_32bit;            /* FADT flag TMR_VAL_EXT */
	u64 dsdt_addr;                /* physical, 0 if none */
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
