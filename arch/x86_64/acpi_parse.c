/*
 * acpi_parse.c — read the firmware's ACPI tables without trusting them.
 *
 * The chain (ACPI 6.x §5.2): RSDP → XSDT (64-bit entries; ACPI 2.0+) or RSDT
 * (32-bit entries) → one description table per entry: MADT ("APIC"), HPET,
 * FADT ("FACP") → the DSDT (from the FADT), whose AML holds \_S5.
 *
 * Invariants, for any bytes at all:
 *  - every read goes through ops->map with an explicit length, and no byte
 *    outside what map returned is ever touched;
 *  - a table is used only when its header is readable, its length is at least
 *    the 36-byte header and at most ACPI_MAX_TABLE_LEN, all of it is readable,
 *    and its checksum is good; otherwise it is recorded (checksum_ok/used
 *    false), reported by name and treated as absent;
 *  - every loop is bounded by a table length that has been checked, and each
 *    iteration advances by at least one byte (a zero-length MADT entry stops
 *    the walk instead of spinning);
 *  - each problem is one message through ops->report and one count in
 *    out->nr_warnings, never a crash and never "WARNING:".
 *
 * Fallbacks: bad RSDP → no ACPI; bad v2 extension or XSDT → the RSDT; bad
 * MADT → no MADT (callers assume one CPU, IOAPIC at 0xFEC00000); a bad MADT
 * entry length → the entries before it are kept; bad HPET → no HPET; bad FADT
 * → no power-off/reset through ACPI; bad or missing DSDT, or no usable \_S5 →
 * have_s5 false.
 *
 * Pure logic: tested on the host with captured QEMU tables and corruptions of
 * them (tests/unit/test_acpi.c) and fuzzed (tests/unit/fuzz_acpi.c).
 */
#include <asm/acpi_parse.h>
#include <grace/printk.h>
#include <grace/string.h>

struct parser {
	const struct acpi_parse_ops *ops;
	struct acpi_info *out;
	bool tables_full;      /* the "list is cut" message was given */
};

static u16 rd16(const u8 *p) { u16 v; memcpy(&v, p, 2); return v; }
static u32 rd32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }
static u64 rd64(const u8 *p) { u64 v; memcpy(&v, p, 8); return v; }

static void __printf(3, 4) complain(const struct acpi_parse_ops *ops, struct acpi_info *out,
				    const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	out->nr_warnings++;
	if (!ops->report)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ops->report(ops->ctx, msg);
}

/* A follow-up line to a problem already counted: reported, not counted. */
static void note(const struct acpi_parse_ops *ops, const char *msg)
{
	if (ops->report)
		ops->report(ops->ctx, msg);
}

bool acpi_checksum_ok(const void *p, size_t len)
{
	const u8 *b = p;
	u8 sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += b[i];
	return sum == 0;
}

/* Copy a fixed-width firmware string: stop at NUL, trim trailing spaces,
 * show unprintable bytes as '?'. `dst` has room for n + 1. */
static void copy_id(char *dst, const u8 *src, size_t n)
{
	size_t len = 0;

	for (size_t i = 0; i < n && src[i]; i++)
		dst[len++] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
	while (len && dst[len - 1] == ' ')
		len--;
	dst[len] = '\0';
}

const char *acpi_table_name(const char *sig, char buf[5])
{
	if (!memcmp(sig, "APIC", 4))
		return "MADT";
	if (!memcmp(sig, "FACP", 4))
		return "FADT";
	for (int i = 0; i < 4; i++)
		buf[i] = (sig[i] >= 0x20 && sig[i] < 0x7f) ? sig[i] : '?';
	buf[4] = '\0';
	return buf;
}

static struct acpi_table_info *record_table(struct parser *p, const u8 *hdr, u64 addr)
{
	struct acpi_info *out = p->out;

	if (out->nr_tables == ACPI_MAX_TABLES) {
		if (!p->tables_full)
			complain(p->ops, out, "acpi: more than %d tables; the list is cut there",
				 ACPI_MAX_TABLES);
		p->tables_full = true;
		return NULL;
	}
	struct acpi_table_info *ti = &out->tables[out->nr_tables++];

	memset(ti, 0, sizeof(*ti));
	/* The raw signature, made printable (not the MADT/FADT nickname). */
	for (int i = 0; i < 4; i++)
		ti->sig[i] = (hdr[i] >= 0x20 && hdr[i] < 0x7f) ? (char)hdr[i] : '?';
	copy_id(ti->oem_id, hdr + 10, 6);
	copy_id(ti->oem_table_id, hdr + 16, 8);
	ti->revision = hdr[8];
	ti->addr = addr;
	ti->length = rd32(hdr + 4);
	return ti;
}

/*
 * Map and check the table at `addr`. `what` names it in messages when the
 * header cannot be read ("XSDT entry 3"); `want` (may be NULL) is the
 * signature it must have. Returns the whole checked table, or NULL.
 */
static const u8 *load_table(struct parser *p, u64 addr, const char *what, const char *want,
			    u32 *len_out)
{
	const struct acpi_parse_ops *ops = p->ops;
	struct acpi_info *out = p->out;
	char buf[5];

	if (!addr) {
		complain(ops, out, "acpi: %s has address 0, ignored", what);
		return NULL;
	}
	const u8 *hdr = ops->map(ops->ctx, addr, ACPI_SDT_HEADER_LEN);

	if (!hdr) {
		complain(ops, out, "acpi: %s at %#llx is not readable, ignored", what,
			 (unsigned long long)addr);
		return NULL;
	}
	struct acpi_table_info *ti = record_table(p, hdr, addr);
	const char *name = acpi_table_name((const char *)hdr, buf);

	if (want && memcmp(hdr, want, 4)) {
		complain(ops, out, "acpi: %s at %#llx has signature \"%s\", not %s; ignored",
			 what, (unsigned long long)addr, name, want);
		return NULL;
	}
	u32 len = rd32(hdr + 4);

	if (len < ACPI_SDT_HEADER_LEN) {
		complain(ops, out, "acpi: %s length %u is shorter than its header, ignored", name, len);
		return NULL;
	}
	if (len > ACPI_MAX_TABLE_LEN) {
		complain(ops, out, "acpi: %s length %u is not believable, ignored", name, len);
		return NULL;
	}
	const u8 *t = ops->map(ops->ctx, addr, len);

	if (!t) {
		complain(ops, out, "acpi: %s at %#llx (%u bytes) is not readable, ignored",
			 name, (unsigned long long)addr, len);
		return NULL;
	}
	if (!acpi_checksum_ok(t, len)) {
		complain(ops, out, "acpi: %s checksum bad, ignored", name);
		return NULL;
	}
	if (ti) {
		ti->checksum_ok = true;
		ti->used = true;
	}
	*len_out = len;
	return t;
}

/* ---- MADT (ACPI 6.x §5.2.12) ---- */

enum madt_type {
	MADT_LAPIC = 0,            /* §5.2.12.2  */
	MADT_IOAPIC = 1,           /* §5.2.12.3  */
	MADT_OVERRIDE = 2,         /* §5.2.12.5  */
	MADT_LAPIC_NMI = 4,        /* §5.2.12.7  */
	MADT_LAPIC_ADDR = 5,       /* §5.2.12.8  */
	MADT_X2APIC = 9,           /* §5.2.12.12 */
	MADT_X2APIC_NMI = 0xA,     /* §5.2.12.13 */
};

/* The smallest length each entry type we read may have. */
static u8 madt_min_len(u8 type)
{
	switch (type) {
	case MADT_LAPIC: return 8;
	case MADT_IOAPIC: return 12;
	case MADT_OVERRIDE: return 10;
	case MADT_LAPIC_NMI: return 6;
	case MADT_LAPIC_ADDR: return 12;
	case MADT_X2APIC: return 16;
	case MADT_X2APIC_NMI: return 12;
	default: return 2;
	}
}

/* MADT flags bit 0 (Enabled) and, from MADT revision 5 (ACPI 6.3), bit 1
 * (Online Capable, meaningful only when Enabled is clear). */
static void madt_add_cpu(struct parser *p, u32 apic_id, u32 uid, u32 raw, bool x2apic,
			 u8 madt_rev)
{
	struct acpi_info *out = p->out;
	u32 flags = 0;

	if (raw & 1)
		flags = ACPI_CPU_ENABLED;
	else if ((raw & 2) && madt_rev >= 5)
		flags = ACPI_CPU_ONLINE_CAPABLE;

	for (unsigned int i = 0; i < out->nr_cpus; i++) {
		if (out->cpus[i].apic_id == apic_id) {
			complain(p->ops, out, "acpi: MADT lists APIC ID %u twice; the second entry is ignored",
				 apic_id);
			return;
		}
	}
	if (out->nr_cpus == ACPI_MAX_CPUS) {
		complain(p->ops, out, "acpi: MADT lists more than %d CPUs; APIC ID %u ignored",
			 ACPI_MAX_CPUS, apic_id);
		return;
	}
	out->cpus[out->nr_cpus++] = (struct acpi_cpu){
		.apic_id = apic_id, .acpi_uid = uid, .flags = flags, .x2apic = x2apic };
	if (flags & ACPI_CPU_ENABLED)
		out->nr_cpus_enabled++;
}

static void madt_add_nmi(struct parser *p, u32 uid, u16 flags, u8 lint)
{
	struct acpi_info *out = p->out;

	if (lint > 1) {
		complain(p->ops, out, "acpi: MADT LAPIC NMI on LINT%u (only 0 and 1 exist), ignored", lint);
		return;
	}
	if (out->nr_lapic_nmis == ACPI_MAX_LAPIC_NMIS) {
		complain(p->ops, out, "acpi: MADT has more than %d LAPIC NMI entries; the rest are ignored",
			 ACPI_MAX_LAPIC_NMIS);
		return;
	}
	out->lapic_nmis[out->nr_lapic_nmis++] =
		(struct acpi_lapic_nmi){ .acpi_uid = uid, .flags = flags, .lint = lint };
}

static void madt_entry(struct parser *p, const u8 *e, u8 madt_rev)
{
	const struct acpi_parse_ops *ops = p->ops;
	struct acpi_info *out = p->out;

	switch (e[0]) {
	case MADT_LAPIC:
		/* 0xFF is not an xAPIC ID a CPU can have: firmware's placeholder. */
		if (e[3] != 0xFF)
			madt_add_cpu(p, e[3], e[2], rd32(e + 4), false, madt_rev);
		break;
	case MADT_X2APIC:
		if (rd32(e + 4) != 0xFFFFFFFFu)
			madt_add_cpu(p, rd32(e + 4), rd32(e + 12), rd32(e + 8), true, madt_rev);
		break;
	case MADT_IOAPIC: {
		u32 addr = rd32(e + 4);

		if (!addr) {
			complain(ops, out, "acpi: MADT IOAPIC %u has address 0, ignored", e[2]);
			break;
		}
		if (out->nr_ioapics == ACPI_MAX_IOAPICS) {
			complain(ops, out, "acpi: MADT lists more than %d IOAPICs; IOAPIC %u ignored",
				 ACPI_MAX_IOAPICS, e[2]);
			break;
		}
		out->ioapics[out->nr_ioapics++] =
			(struct acpi_ioapic){ .id = e[2], .addr = addr, .gsi_base = rd32(e + 8) };
		break;
	}
	case MADT_OVERRIDE:
		if (e[2] != 0) {
			complain(ops, out, "acpi: MADT override for bus %u (only ISA, 0, exists), ignored", e[2]);
			break;
		}
		if (out->nr_overrides == ACPI_MAX_OVERRIDES) {
			complain(ops, out, "acpi: MADT has more than %d overrides; IRQ %u ignored",
				 ACPI_MAX_OVERRIDES, e[3]);
			break;
		}
		out->overrides[out->nr_overrides++] = (struct acpi_override){
			.bus = e[2], .source_irq = e[3], .gsi = rd32(e + 4), .flags = rd16(e + 8) };
		break;
	case MADT_LAPIC_NMI:
		/* A UID of 0xFF means every processor; kept as is. */
		madt_add_nmi(p, e[2], rd16(e + 3), e[5]);
		break;
	case MADT_X2APIC_NMI:
		madt_add_nmi(p, rd32(e + 4), rd16(e + 2), e[8]);
		break;
	case MADT_LAPIC_ADDR:
		out->lapic_addr = rd64(e + 4);
		break;
	default:
		break; /* entries we do not use */
	}
}

void acpi_parse_madt(const u8 *t, u32 len, const struct acpi_parse_ops *ops, struct acpi_info *out)
{
	struct parser p = { .ops = ops, .out = out };

	if (len < 44) {
		complain(ops, out, "acpi: MADT length %u is too short for its fixed fields, ignored", len);
		return;
	}
	out->have_madt = true;
	out->lapic_addr = rd32(t + 36);
	out->pcat_compat = rd32(t + 40) & 1;

	u32 off = 44;

	while (off < len) {
		if (len - off < 2) {
			complain(ops, out, "acpi: MADT has %u stray byte(s) at its end, ignored", len - off);
			break;
		}
		u8 type = t[off], elen = t[off + 1];

		if (elen < 2) {
			complain(ops, out, "acpi: MADT entry type %u at offset %u has length %u; "
				 "the rest of the MADT is ignored", type, off, elen);
			break;
		}
		if (elen > len - off) {
			complain(ops, out, "acpi: MADT entry type %u at offset %u (length %u) runs past "
				 "the table's end (%u); the rest is ignored", type, off, elen, len);
			break;
		}
		if (elen < madt_min_len(type))
			complain(ops, out, "acpi: MADT entry type %u at offset %u is %u bytes, needs %u; "
				 "ignored", type, off, elen, madt_min_len(type));
		else
			madt_entry(&p, t + off, t[8]);
		off += elen;
	}
}

/* ---- HPET (IA-PC HPET Specification 1.0a, §3.2.4) ---- */

void acpi_parse_hpet(const u8 *t, u32 len, const struct acpi_parse_ops *ops, struct acpi_info *out)
{
	if (len < 56) {
		complain(ops, out, "acpi: HPET length %u is shorter than 56, ignored", len);
		return;
	}
	/* Base address: a Generic Address Structure (ACPI 6.x §5.2.3.2) at 40. */
	u8 space = t[40];
	u64 addr = rd64(t + 44);

	if (space != 0 || !addr) {
		complain(ops, out, "acpi: HPET base %#llx in address space %u is not usable, ignored",
			 (unsigned long long)addr, space);
		return;
	}
	out->have_hpet = true;
	out->hpet_addr = addr;
	out->hpet_block_id = rd32(t + 36);
	out->hpet_number = t[52];
	out->hpet_min_tick = rd16(t + 53);
}

/* ---- FADT (ACPI 6.x §5.2.9, Table 5.9) ---- */

enum {
	FADT_V1_LEN = 116,          /* everything up to and including Flags */
	FADT_FLAG_TMR_VAL_EXT = 1u << 8,
	FADT_FLAG_RESET_REG_SUP = 1u << 10,
	GAS_SYSTEM_MEMORY = 0,
	GAS_SYSTEM_IO = 1,
	GAS_PCI_CONFIG = 2,
};

/* An I/O port from the 32-bit block field, replaced by the X_ Generic Address
 * Structure at `xoff` when the table is long enough and that is non-zero. */
static u32 fadt_io_block(const u8 *t, u32 len, u32 off32, u32 xoff, const char *name,
			 const struct acpi_parse_ops *ops, struct acpi_info *out)
{
	u64 port = rd32(t + off32);

	if (len >= xoff + 12) {
		u8 space = t[xoff];
		u64 xaddr = rd64(t + xoff + 4);

		if (xaddr && space == GAS_SYSTEM_IO)
			port = xaddr;
		else if (xaddr)
			complain(ops, out, "acpi: FADT X_%s is in address space %u, not I/O; using %s",
				 name, space, name);
	}
	if (port > 0xFFFF) {
		complain(ops, out, "acpi: FADT %s port %#llx is beyond the I/O space, ignored",
			 name, (unsigned long long)port);
		return 0;
	}
	return (u32)port;
}

void acpi_parse_fadt(const u8 *t, u32 len, const struct acpi_parse_ops *ops, struct acpi_info *out)
{
	if (len < FADT_V1_LEN) {
		complain(ops, out, "acpi: FADT length %u is shorter than ACPI 1.0's %u, ignored",
			 len, FADT_V1_LEN);
		return;
	}
	out->have_fadt = true;
	out->fadt_revision = t[8];
	out->sci_irq = rd16(t + 46);
	out->fadt_flags = rd32(t + 112);
	out->pm1a_cnt = fadt_io_block(t, len, 64, 172, "PM1a_CNT_BLK", ops, out);
	out->pm1b_cnt = fadt_io_block(t, len, 68, 184, "PM1b_CNT_BLK", ops, out);
	out->pm_tmr = fadt_io_block(t, len, 76, 208, "PM_TMR_BLK", ops, out);
	out->pm_tmr_32bit = out->fadt_flags & FADT_FLAG_TMR_VAL_EXT;

	/* RESET_REG (GAS at 116) and RESET_VALUE (129th byte), ACPI 2.0+. */
	if ((out->fadt_flags & FADT_FLAG_RESET_REG_SUP) && len >= 129) {
		u8 space = t[116];
		u64 addr = rd64(t + 120);

		if (!addr || space > GAS_PCI_CONFIG ||
		    (space == GAS_SYSTEM_IO && addr > 0xFFFF)) {
			complain(ops, out, "acpi: FADT reset register %#llx in address space %u is not "
				 "usable, ignored", (unsigned long long)addr, space);
		} else {
			out->have_reset_reg = true;
			out->reset_space = space;
			out->reset_addr = addr;
			out->reset_value = t[128];
		}
	}

	u32 dsdt32 = rd32(t + 40);
	u64 xdsdt = len >= 148 ? rd64(t + 140) : 0;

	if (xdsdt && dsdt32 && xdsdt != dsdt32)
		complain(ops, out, "acpi: FADT has both DSDT %#x and X_DSDT %#llx; using X_DSDT",
			 dsdt32, (unsigned long long)xdsdt);
	out->dsdt_addr = xdsdt ? xdsdt : dsdt32;
}

/* ---- \_S5 in the DSDT (ACPI 6.x §20.2 AML grammar, §7.4.2 \_Sx objects) ---- */

enum {
	AML_ZERO = 0x00, AML_ONE = 0x01, AML_NAME_OP = 0x08,
	AML_BYTE_PREFIX = 0x0A, AML_WORD_PREFIX = 0x0B, AML_DWORD_PREFIX = 0x0C,
	AML_PACKAGE_OP = 0x12, AML_ROOT_PREFIX = 0x5C, AML_ONES = 0xFF,
};

/* One ComputationalData integer at aml[*pos], below `end`. Returns false if
 * it is anything else (or does not fit). */
static bool aml_integer(const u8 *aml, size_t end, size_t *pos, u32 *val)
{
	size_t i = *pos;

	if (i >= end)
		return false;
	switch (aml[i]) {
	case AML_ZERO: *val = 0; *pos = i + 1; return true;
	case AML_ONE: *val = 1; *pos = i + 1; return true;
	case AML_ONES: *val = 0xFFFFFFFFu; *pos = i + 1; return true;
	case AML_BYTE_PREFIX:
		if (end - i < 2)
			return false;
		*val = aml[i + 1]; *pos = i + 2; return true;
	case AML_WORD_PREFIX:
		if (end - i < 3)
			return false;
		*val = rd16(aml + i + 1); *pos = i + 3; return true;
	case AML_DWORD_PREFIX:
		if (end - i < 5)
			return false;
		*val = rd32(aml + i + 1); *pos = i + 5; return true;
	default:
		return false;
	}
}

/* Decode the package after the name "_S5_" at aml[at]. */
static bool s5_package(const u8 *aml, size_t len, size_t at, u16 *a, u16 *b)
{
	size_t i = at + 4;

	if (i >= len || aml[i] != AML_PACKAGE_OP)
		return false;
	i++;
	if (i >= len)
		return false;
	/*
	 * PkgLength (§20.2.4): bits 7-6 of the lead byte = number of extra
	 * bytes. With none, bits 5-0 are the length; otherwise bits 3-0 are the
	 * low nibble and each extra byte adds 8 more bits. The length counts
	 * itself and everything after it in the package.
	 */
	u8 lead = aml[i];
	unsigned int extra = lead >> 6;
	u32 pkglen;

	if (len - i < 1 + extra)
		return false;
	if (!extra) {
		pkglen = lead & 0x3F;
	} else {
		pkglen = lead & 0x0F;
		for (unsigned int k = 0; k < extra; k++)
			pkglen |= (u32)aml[i + 1 + k] << (4 + 8 * k);
	}
	if (pkglen < 1 + extra + 1 || pkglen > len - i)
		return false;
	size_t end = i + pkglen;

	i += 1 + extra;
	u8 count = aml[i++];
	u32 va, vb = 0;

	if (count < 1 || !aml_integer(aml, end, &i, &va))
		return false;
	if (count >= 2 && !aml_integer(aml, end, &i, &vb))
		return false;
	/* SLP_TYP is a 3-bit field of PM1x_CNT (§4.8.3.2.1). */
	if (va > 7 || vb > 7)
		return false;
	*a = (u16)va;
	*b = (u16)vb;
	return true;
}

enum acpi_s5_result acpi_find_s5(const u8 *aml, size_t len, u16 *slp_typa, u16 *slp_typb)
{
	bool seen = false;

	for (size_t i = 1; i + 4 <= len; i++) {
		if (memcmp(aml + i, "_S5_", 4))
			continue;
		/* DefName := NameOp NameString; the NameString may start with '\'. */
		size_t j = i;

		if (aml[j - 1] == AML_ROOT_PREFIX)
			j--;
		if (j < 1 || aml[j - 1] != AML_NAME_OP)
			continue;
		seen = true;
		if (s5_package(aml, len, i, slp_typa, slp_typb))
			return ACPI_S5_OK;
	}
	return seen ? ACPI_S5_MALFORMED : ACPI_S5_ABSENT;
}

/* ---- The chain ---- */

static void parse_dsdt(struct parser *p)
{
	struct acpi_info *out = p->out;
	u32 len;

	if (!out->dsdt_addr) {
		complain(p->ops, out, "acpi: FADT names no DSDT; no ACPI power-off");
		return;
	}
	const u8 *t = load_table(p, out->dsdt_addr, "DSDT", "DSDT", &len);

	if (!t) {
		note(p->ops, "acpi: no usable DSDT; no ACPI power-off");
		return;
	}
	switch (acpi_find_s5(t + ACPI_SDT_HEADER_LEN, len - ACPI_SDT_HEADER_LEN,
			     &out->slp_typa, &out->slp_typb)) {
	case ACPI_S5_OK:
		out->have_s5 = true;
		break;
	case ACPI_S5_ABSENT:
		complain(p->ops, out, "acpi: no \\_S5 in the DSDT; no ACPI power-off");
		break;
	case ACPI_S5_MALFORMED:
		complain(p->ops, out, "acpi: \\_S5 in the DSDT is not a package of sleep types; "
			 "no ACPI power-off");
		break;
	}
}

static void parse_entry(struct parser *p, u64 addr, const char *what)
{
	struct acpi_info *out = p->out;
	u32 len;
	const u8 *t = load_table(p, addr, what, NULL, &len);

	if (!t)
		return;
	if (!memcmp(t, "APIC", 4)) {
		if (out->have_madt)
			complain(p->ops, out, "acpi: second MADT at %#llx ignored", (unsigned long long)addr);
		else
			acpi_parse_madt(t, len, p->ops, out);
	} else if (!memcmp(t, "HPET", 4)) {
		if (!out->have_hpet) /* a second HPET block is legal; we use the first */
			acpi_parse_hpet(t, len, p->ops, out);
	} else if (!memcmp(t, "FACP", 4)) {
		if (out->have_fadt) {
			complain(p->ops, out, "acpi: second FADT at %#llx ignored", (unsigned long long)addr);
		} else {
			acpi_parse_fadt(t, len, p->ops, out);
			if (out->have_fadt)
				parse_dsdt(p);
		}
	}
}

/* Pick the root table: the XSDT when the RSDP is v2 with a good extended
 * checksum and the XSDT itself is good, else the RSDT. */
static const u8 *find_root(struct parser *p, const u8 *r, size_t rlen, u32 *len, u32 *entsize)
{
	const struct acpi_parse_ops *ops = p->ops;
	struct acpi_info *out = p->out;
	u64 xsdt = 0;

	if (out->revision >= 2) {
		u32 xlen = rlen >= 36 ? rd32(r + 20) : 0;

		if (rlen < 36)
			complain(ops, out, "acpi: RSDP v%u copy is only %zu bytes; using the RSDT",
				 out->revision, rlen);
		else if (xlen < 36 || xlen > rlen)
			complain(ops, out, "acpi: RSDP length %u is not believable; using the RSDT", xlen);
		else if (!acpi_checksum_ok(r, xlen))
			complain(ops, out, "acpi: RSDP extended checksum bad; using the RSDT");
		else if (!(xsdt = rd64(r + 24)))
			complain(ops, out, "acpi: RSDP v2 has no XSDT address; using the RSDT");
	}
	if (xsdt) {
		const u8 *t = load_table(p, xsdt, "XSDT", "XSDT", len);

		if (t) {
			out->xsdt_used = true;
			out->root_addr = xsdt;
			*entsize = 8;
			return t;
		}
		note(ops, "acpi: falling back to the RSDT");
	}
	u32 rsdt = rd32(r + 16);
	const u8 *t = load_table(p, rsdt, "RSDT", "RSDT", len);

	if (!t)
		return NULL;
	out->root_addr = rsdt;
	*entsize = 4;
	return t;
}

int acpi_parse(const void *rsdp, size_t rsdp_len, const struct acpi_parse_ops *ops,
	       struct acpi_info *out)
{
	struct parser p = { .ops = ops, .out = out };
	const u8 *r = rsdp;

	memset(out, 0, sizeof(*out));
	/* RSDP, ACPI 6.x §5.2.5.3: the checksum covers the first 20 bytes (v1). */
	if (!r || rsdp_len < 20) {
		complain(ops, out, "acpi: no RSDP from the boot loader; ACPI ignored");
		return -1;
	}
	if (memcmp(r, "RSD PTR ", 8)) {
		complain(ops, out, "acpi: RSDP signature bad; ACPI ignored");
		return -1;
	}
	if (!acpi_checksum_ok(r, 20)) {
		complain(ops, out, "acpi: RSDP checksum bad; ACPI ignored");
		return -1;
	}
	out->present = true;
	out->revision = r[15];
	copy_id(out->oem_id, r + 9, 6);

	u32 len, entsize;
	const u8 *root = find_root(&p, r, rsdp_len, &len, &entsize);

	if (!root) {
		note(ops, "acpi: no usable RSDT or XSDT; no ACPI tables");
		return 0;
	}
	const char *rname = entsize == 8 ? "XSDT" : "RSDT";
	u32 body = len - ACPI_SDT_HEADER_LEN;
	u32 n = body / entsize;

	if (body % entsize)
		complain(ops, out, "acpi: %s length %u is not a whole number of entries; "
			 "the tail is ignored", rname, len);
	if (n > ACPI_MAX_ROOT_ENTRIES) {
		complain(ops, out, "acpi: %s has %u entries; only the first %d are read",
			 rname, n, ACPI_MAX_ROOT_ENTRIES);
		n = ACPI_MAX_ROOT_ENTRIES;
	}
	for (u32 i = 0; i < n; i++) {
		const u8 *e = root + ACPI_SDT_HEADER_LEN + i * entsize;
		u64 addr = entsize == 8 ? rd64(e) : rd32(e);
		char what[24];

		snprintf(what, sizeof(what), "%s entry %u", rname, i);
		parse_entry(&p, addr, what);
	}
	return 0;
}
