/*
 * acpi_cmd.c — the `acpi` shell command: show what acpi_init() found, and
 * hexdump tables.
 *
 *   acpi              tables, CPUs, IOAPICs, overrides, NMIs, HPET, FADT
 *   acpi dump SIG     hexdump one table (RSDP = the loader's RSDP copy,
 *                     DSDT, APIC, FACP, ...; "all" = every table)
 *
 * The dump format is what tools/acpi_capture.py reads back into fixtures:
 *   acpi-dump: begin SIG ADDR LEN
 *   acpi-dump: OFFSET: 16 hex bytes |ascii|
 *   acpi-dump: end SIG
 * Reads only `acpi` and, for dumps, the tables through acpi_phys_map().
 */
#include <asm/acpi_parse.h>
#include <grace/acpi.h>
#include <grace/bootinfo.h>
#include <grace/printk.h>
#include <grace/shell.h>
#include <grace/string.h>

static void hexdump(const char *sig, u64 addr, const u8 *p, u32 len)
{
	printk("acpi-dump: begin %s %#llx %u\n", sig, (unsigned long long)addr, len);
	for (u32 off = 0; off < len; off += 16) {
		char line[100];
		int n = snprintf(line, sizeof(line), "%06x:", off);
		u32 m = len - off < 16 ? len - off : 16;

		for (u32 i = 0; i < m; i++)
			n += snprintf(line + n, sizeof(line) - n, " %02x", p[off + i]);
		n += snprintf(line + n, sizeof(line) - n, "%*s |", (int)(16 - m) * 3, "");
		for (u32 i = 0; i < m; i++)
			line[n++] = p[off + i] >= 0x20 && p[off + i] < 0x7f ? (char)p[off + i] : '.';
		line[n++] = '|';
		line[n] = '\0';
		printk("acpi-dump: %s\n", line);
	}
	printk("acpi-dump: end %s\n", sig);
}

static bool dump_table(const struct acpi_table_info *ti)
{
	const u8 *p = NULL;

	if (ti->length <= ACPI_MAX_TABLE_LEN)
		p = acpi_phys_map(NULL, ti->addr, ti->length);
	if (!p) {
		printk("acpi: %s at %#llx (length %u) cannot be dumped\n", ti->sig,
		       (unsigned long long)ti->addr, ti->length);
		return false;
	}
	hexdump(ti->sig, ti->addr, p, ti->length);
	return true;
}

static int cmd_acpi_dump(const char *sig)
{
	bool all = !strcmp(sig, "all"), found = false;

	if (all || !strcmp(sig, "RSDP")) {
		if (boot_info.rsdp_len) {
			/* The loader's copy: its physical address is unknown (0). */
			hexdump("RSDP", 0, boot_info.rsdp, boot_info.rsdp_len);
			found = true;
		}
	}
	for (unsigned int i = 0; i < acpi.nr_tables; i++) {
		if (all || !strncmp(acpi.tables[i].sig, sig, 4)) {
			dump_table(&acpi.tables[i]);
			found = true;
		}
	}
	/* With an XSDT in use the RSDT is not in the list; dump it on request
	 * anyway (the host tests use it to check the XSDT → RSDT fallback). */
	if ((all || !strcmp(sig, "RSDT")) && acpi.xsdt_used && boot_info.rsdp_len >= 20) {
		u32 rsdt;
		const u8 *hdr;

		memcpy(&rsdt, boot_info.rsdp + 16, 4);
		hdr = acpi_phys_map(NULL, rsdt, ACPI_SDT_HEADER_LEN);
		if (rsdt && hdr && !memcmp(hdr, "RSDT", 4)) {
			struct acpi_table_info ti = { .sig = "RSDT", .addr = rsdt };

			memcpy(&ti.length, hdr + 4, 4);
			found |= dump_table(&ti);
		}
	}
	if (!found)
		printk("acpi: no table %s (see `acpi` for the list)\n", sig);
	return 0;
}

static const char *cpu_state(u32 flags)
{
	if (flags & ACPI_CPU_ENABLED)
		return "enabled";
	if (flags & ACPI_CPU_ONLINE_CAPABLE)
		return "online-capable";
	return "disabled";
}

/* MPS INTI flags (ACPI 6.x Table 5.26): polarity bits 0-1, trigger 2-3. */
static const char *const inti_polarity[] = { "bus", "high", "?", "low" };
static const char *const inti_trigger[] = { "bus", "edge", "?", "level" };

static void show_madt(void)
{
	if (!acpi.have_madt) {
		printk("MADT: none (one CPU assumed)\n");
		return;
	}
	printk("MADT: LAPIC at %#llx, %s8259 PICs, %u CPUs (%u enabled)\n",
	       (unsigned long long)acpi.lapic_addr, acpi.pcat_compat ? "" : "no ",
	       acpi.nr_cpus, acpi.nr_cpus_enabled);
	for (unsigned int i = 0; i < acpi.nr_cpus; i++) {
		const struct acpi_cpu *c = &acpi.cpus[i];

		printk("  cpu %-3u APIC ID %-4u UID %-4u %s%s\n", i, c->apic_id, c->acpi_uid,
		       cpu_state(c->flags), c->x2apic ? " (x2APIC entry)" : "");
	}
	for (unsigned int i = 0; i < acpi.nr_ioapics; i++)
		printk("  IOAPIC id %u at %#x, GSI base %u\n", acpi.ioapics[i].id,
		       acpi.ioapics[i].addr, acpi.ioapics[i].gsi_base);
	for (unsigned int i = 0; i < acpi.nr_overrides; i++) {
		const struct acpi_override *o = &acpi.overrides[i];

		printk("  override: ISA IRQ %u -> GSI %u, polarity %s, trigger %s\n", o->source_irq,
		       o->gsi, inti_polarity[o->flags & 3], inti_trigger[(o->flags >> 2) & 3]);
	}
	for (unsigned int i = 0; i < acpi.nr_lapic_nmis; i++) {
		const struct acpi_lapic_nmi *n = &acpi.lapic_nmis[i];
		char uid[16];

		if (n->acpi_uid == 0xFF || n->acpi_uid == 0xFFFFFFFFu)
			strlcpy(uid, "all", sizeof(uid));
		else
			snprintf(uid, sizeof(uid), "%u", n->acpi_uid);
		printk("  LAPIC NMI: processor UID %s, LINT%u, polarity %s, trigger %s\n", uid, n->lint,
		       inti_polarity[n->flags & 3], inti_trigger[(n->flags >> 2) & 3]);
	}
}

static void show_fadt(void)
{
	static const char *const space[] = { "memory", "I/O", "PCI config" };

	if (acpi.have_hpet)
		printk("HPET: at %#llx, block ID %#x, number %u, minimum tick %u\n",
		       (unsigned long long)acpi.hpet_addr, acpi.hpet_block_id, acpi.hpet_number,
		       acpi.hpet_min_tick);
	else
		printk("HPET: none\n");
	if (!acpi.have_fadt) {
		printk("FADT: none\n");
		return;
	}
	printk("FADT: revision %u, flags %#x, SCI IRQ %u, DSDT at %#llx\n", acpi.fadt_revision,
	       acpi.fadt_flags, acpi.sci_irq, (unsigned long long)acpi.dsdt_addr);
	printk("  PM1a_CNT %#x, PM1b_CNT %#x, PM timer %#x (%s bits)\n", acpi.pm1a_cnt,
	       acpi.pm1b_cnt, acpi.pm_tmr, acpi.pm_tmr_32bit ? "32" : "24");
	if (acpi.have_s5)
		printk("  \\_S5: SLP_TYPa %u, SLP_TYPb %u\n", acpi.slp_typa, acpi.slp_typb);
	else
		printk("  \\_S5: none (no ACPI power-off)\n");
	if (acpi.have_reset_reg)
		printk("  reset register: %s %#llx, value %#x\n", space[acpi.reset_space],
		       (unsigned long long)acpi.reset_addr, acpi.reset_value);
	else
		printk("  reset register: none\n");
}

static int cmd_acpi(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "dump"))
		return cmd_acpi_dump(argv[2]);
	if (argc != 1)
		return 1;
	if (!acpi.present) {
		printk("acpi: no ACPI (no RSDP, a bad one, or acpi=off)\n");
		return 0;
	}
	printk("RSDP v%u, OEM %s, %s at %#llx, %u problem%s found\n",
	       acpi.revision ? acpi.revision : 1, acpi.oem_id, acpi.xsdt_used ? "XSDT" : "RSDT",
	       (unsigned long long)acpi.root_addr, acpi.nr_warnings,
	       acpi.nr_warnings == 1 ? "" : "s");
	printk("  sig  address             length rev OEM    table id checksum\n");
	for (unsigned int i = 0; i < acpi.nr_tables; i++) {
		const struct acpi_table_info *ti = &acpi.tables[i];

		printk("  %-4s %#018llx %6u %3u %-6s %-8s %s%s\n", ti->sig,
		       (unsigned long long)ti->addr, ti->length, ti->revision, ti->oem_id,
		       ti->oem_table_id, ti->checksum_ok ? "ok" : "BAD",
		       ti->used ? "" : " (ignored)");
	}
	show_madt();
	show_fadt();
	return 0;
}
SHELL_COMMAND(acpi, "acpi", "acpi [dump SIG|all]", "show the ACPI tables, CPUs, IOAPICs, HPET, FADT", cmd_acpi);
