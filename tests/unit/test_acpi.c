// UNIT_SOURCES: arch/x86_64/acpi_parse.c
/*
 * test_acpi.c — the ACPI parsers against tables captured from QEMU 7.2
 * (the .bin images in tests/unit/fixtures/acpi/, made by tools/acpi_capture.py), then
 * against corrupted copies of them and hand-built tables.
 *
 * Every corruption must give the fallback documented in acpi_parse.c and
 * docs/acpi.md, name the table in its message, count a problem, never print
 * "WARNING:", and (under -fsanitize=address,undefined) never read a byte
 * outside the table it was given.
 *
 * Build and run (from the repository root):
 *   cc -std=c11 -g -fsanitize=address,undefined -Iinclude -Iarch/x86_64/include \
 *      -Itests/unit tests/unit/test_acpi.c arch/x86_64/acpi_parse.c && ./a.out
 */
#include <asm/acpi_parse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acpi_image.h"

static int failures;
static char msgs[8192];
static size_t msgs_len;

#define CHECK(cond) do { \
	if (!(cond)) { printf("FAIL %s:%d [%s]: %s\n", __FILE__, __LINE__, current, #cond); failures++; } \
} while (0)
#define CHECK_MSG(sub) do { \
	if (!strstr(msgs, (sub))) { \
		printf("FAIL %s:%d [%s]: no message containing \"%s\"; got:\n%s", \
		       __FILE__, __LINE__, current, (sub), msgs); failures++; } \
} while (0)

static const char *current = "";

static void report(void *ctx, const char *msg)
{
	(void)ctx;
	if (strstr(msg, "WARNING:")) {
		printf("FAIL [%s]: message says WARNING: %s\n", current, msg);
		failures++;
	}
	if (getenv("ACPI_TEST_VERBOSE"))
		printf("  [%s] %s\n", current, msg);
	int n = snprintf(msgs + msgs_len, sizeof(msgs) - msgs_len, "%s\n", msg);

	if (n > 0 && (size_t)n < sizeof(msgs) - msgs_len)
		msgs_len += (size_t)n;
}

static struct acpi_info info;

/* Parse the image as the kernel would; returns acpi_parse()'s result. */
static int run(struct img *im)
{
	struct acpi_parse_ops ops = { .map = img_map, .report = report, .ctx = im };
	struct img_record *r = img_find(im, "RSDP");

	msgs[0] = '\0';
	msgs_len = 0;
	return acpi_parse(r ? r->data : NULL, r ? r->len : 0, &ops, &info);
}

static void load(struct img *im, const char *name)
{
	/* Fixtures live beside this file: find them from __FILE__ (the harness
	 * compiles tests/unit/test_acpi.c from the repository root). */
	char path[512];
	const char *slash = strrchr(__FILE__, '/');
	int dirlen = slash ? (int)(slash - __FILE__) : 1;

	snprintf(path, sizeof(path), "%.*s/fixtures/acpi/%s.bin", dirlen, slash ? __FILE__ : ".", name);
	FILE *f = fopen(path, "rb");
	static uint8_t buf[1 << 20];
	size_t n;

	if (!f) {
		printf("FAIL cannot open fixture %s\n", path);
		exit(1);
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (img_load_mem(im, buf, n)) {
		printf("FAIL fixture %s is not an ACPI image\n", path);
		exit(1);
	}
}

static void fix_checksum(uint8_t *t, uint32_t len, unsigned int at)
{
	uint8_t sum = 0;

	t[at] = 0;
	for (uint32_t i = 0; i < len; i++)
		sum += t[i];
	t[at] = (uint8_t)-sum;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* ---- the captured fixtures ---- */

static void check_qemu_common(unsigned int cpus, unsigned int enabled)
{
	CHECK(info.present);
	CHECK(!strcmp(info.oem_id, "BOCHS"));
	CHECK(info.have_madt);
	CHECK(info.lapic_addr == 0xFEE00000);
	CHECK(info.pcat_compat);
	CHECK(info.nr_cpus == cpus);
	CHECK(info.nr_cpus_enabled == enabled);
	for (unsigned int i = 0; i < info.nr_cpus; i++) {
		CHECK(info.cpus[i].apic_id == i);
		CHECK(info.cpus[i].acpi_uid == i);
		CHECK(!info.cpus[i].x2apic);
		/* QEMU 7.2 marks absent CPUs (-smp N,maxcpus=M) neither enabled
		 * nor online-capable: flags 0, MADT revision 1 (docs/acpi.md). */
		CHECK(info.cpus[i].flags == (i < enabled ? ACPI_CPU_ENABLED : 0));
	}
	CHECK(info.nr_ioapics == 1);
	CHECK(info.ioapics[0].addr == 0xFEC00000);
	CHECK(info.ioapics[0].gsi_base == 0);
	CHECK(info.nr_overrides == 5);
	CHECK(info.overrides[0].source_irq == 0 && info.overrides[0].gsi == 2);
	CHECK(info.overrides[0].flags == 0);
	for (unsigned int i = 1; i < info.nr_overrides; i++) {
		/* IRQs 5, 9, 10, 11: PCI links, level-triggered active-high (0xD). */
		CHECK(info.overrides[i].source_irq == info.overrides[i].gsi);
		CHECK(info.overrides[i].flags == 0xD);
	}
	CHECK(info.nr_lapic_nmis == 1);
	CHECK(info.lapic_nmis[0].acpi_uid == 0xFF && info.lapic_nmis[0].lint == 1);
	CHECK(info.have_hpet && info.hpet_addr == 0xFED00000);
	CHECK(info.hpet_block_id == 0x8086A201);
	CHECK(info.have_fadt);
	CHECK(info.sci_irq == 9);
	CHECK(info.pm1a_cnt == 0x604 && info.pm1b_cnt == 0);
	CHECK(info.pm_tmr == 0x608 && !info.pm_tmr_32bit);
	CHECK(info.have_s5 && info.slp_typa == 0 && info.slp_typb == 0);
	CHECK(info.nr_warnings == 0);
	for (unsigned int i = 0; i < info.nr_tables; i++)
		CHECK(info.tables[i].checksum_ok && info.tables[i].used);
}

static void test_fixtures(void)
{
	struct img im;

	current = "pc-smp4";
	load(&im, "pc-smp4");
	CHECK(run(&im) == 0);
	check_qemu_common(4, 4);
	CHECK(info.revision == 0 && !info.xsdt_used);
	CHECK(info.fadt_revision == 1);
	CHECK(!info.have_reset_reg);  /* a 116-byte ACPI 1.0 FADT has none */
	CHECK(info.nr_tables == 6);
	CHECK(!strcmp(info.tables[0].sig, "RSDT") && !strcmp(info.tables[2].sig, "DSDT"));
	img_free(&im);

	current = "q35-smp4";
	load(&im, "q35-smp4");
	CHECK(run(&im) == 0);
	check_qemu_common(4, 4);
	CHECK(info.fadt_revision == 3);
	CHECK(info.have_reset_reg && info.reset_space == 1);
	CHECK(info.reset_addr == 0xCF9 && info.reset_value == 0xF);
	CHECK(info.nr_tables == 7);
	img_free(&im);

	current = "q35-smp2-max8";
	load(&im, "q35-smp2-max8");
	CHECK(run(&im) == 0);
	check_qemu_common(8, 2);
	img_free(&im);

	current = "q35-uefi-smp4";
	load(&im, "q35-uefi-smp4");
	CHECK(run(&im) == 0);
	check_qemu_common(4, 4);
	CHECK(info.revision == 2 && info.xsdt_used);
	CHECK(info.root_addr == img_find(&im, "XSDT")->phys);
	CHECK(info.have_reset_reg);
	CHECK(info.nr_tables == 8);   /* XSDT + 7; the RSDT is not visited */
	img_free(&im);
}

/* ---- corruptions of the fixtures ---- */

/* Flip one checksum-covered byte of every table in turn. */
static void test_bad_checksums(const char *fixture)
{
	struct img im;

	load(&im, fixture);
	for (unsigned int i = 0; i < im.n; i++) {
		struct img_record *r = &im.rec[i];
		char name[64];
		bool v2 = !memcmp(r->sig, "RSDP", 4) && r->len >= 36 && r->data[15] >= 2;

		snprintf(name, sizeof(name), "%s: %s checksum", fixture, r->sig);
		current = name;
		r->data[9] ^= 0x5A; /* the checksum byte of an SDT; OEM ID byte of the RSDP */
		int rc = run(&im);

		CHECK(info.nr_warnings >= 1 || !strcmp(r->sig, "RSDT"));
		if (!strcmp(r->sig, "RSDP")) {
			CHECK(rc == -1 && !info.present && !info.have_madt);
			CHECK_MSG("acpi: RSDP checksum bad; ACPI ignored");
		} else if (!strcmp(r->sig, "RSDT") && info.xsdt_used) {
			/* unvisited when the XSDT is good */
			CHECK(info.nr_warnings == 0 && info.have_madt);
		} else if (!strcmp(r->sig, "RSDT") || !strcmp(r->sig, "XSDT")) {
			if (!strcmp(r->sig, "XSDT")) {
				CHECK_MSG("acpi: XSDT checksum bad, ignored");
				CHECK_MSG("acpi: falling back to the RSDT");
				CHECK(!info.xsdt_used && info.have_madt && info.have_fadt && info.have_s5);
			} else {
				CHECK_MSG("acpi: RSDT checksum bad, ignored");
				CHECK(rc == 0 && info.present && !info.have_madt && !info.have_fadt);
			}
		} else if (!strcmp(r->sig, "APIC")) {
			CHECK_MSG("acpi: MADT checksum bad, ignored");
			CHECK(!info.have_madt && info.nr_cpus == 0 && info.nr_ioapics == 0);
			CHECK(info.have_fadt && info.have_hpet);
		} else if (!strcmp(r->sig, "FACP")) {
			CHECK_MSG("acpi: FADT checksum bad, ignored");
			CHECK(!info.have_fadt && !info.have_s5 && !info.have_reset_reg);
			CHECK(info.have_madt);
		} else if (!strcmp(r->sig, "DSDT")) {
			CHECK_MSG("acpi: DSDT checksum bad, ignored");
			CHECK(info.have_fadt && !info.have_s5 && info.pm1a_cnt == 0x604);
		} else if (!strcmp(r->sig, "HPET")) {
			CHECK_MSG("acpi: HPET checksum bad, ignored");
			CHECK(!info.have_hpet && info.have_madt);
		} else {
			CHECK(info.have_madt && info.have_fadt && info.have_s5 && info.have_hpet);
		}
		r->data[9] ^= 0x5A;
		if (v2) {
			/* The extended checksum (byte 32) of a v2 RSDP: use the RSDT. */
			r->data[32] ^= 0x5A;
			run(&im);
			CHECK_MSG("acpi: RSDP extended checksum bad; using the RSDT");
			CHECK(info.present && !info.xsdt_used && info.have_madt && info.nr_cpus == 4);
			r->data[32] ^= 0x5A;
		}
	}
	current = fixture;
	run(&im);
	CHECK(info.nr_warnings == 0);
	img_free(&im);
}

static void test_lengths(void)
{
	struct img im;
	struct img_record *madt, *rsdp, *xsdt, *fadt, *dsdt;

	load(&im, "q35-uefi-smp4");
	madt = img_find(&im, "APIC");
	rsdp = img_find(&im, "RSDP");
	xsdt = img_find(&im, "XSDT");
	fadt = img_find(&im, "FACP");
	dsdt = img_find(&im, "DSDT");

	current = "MADT length 12";
	put32(madt->data + 4, 12);
	run(&im);
	CHECK_MSG("acpi: MADT length 12 is shorter than its header, ignored");
	CHECK(!info.have_madt && info.have_fadt);

	current = "MADT length 0xFFFFFFFF";
	put32(madt->data + 4, 0xFFFFFFFF);
	run(&im);
	CHECK_MSG("acpi: MADT length 4294967295 is not believable, ignored");
	CHECK(!info.have_madt && info.have_hpet);

	current = "MADT truncated (length past the captured bytes)";
	put32(madt->data + 4, madt->len + 64);
	run(&im);
	CHECK_MSG("is not readable, ignored");
	CHECK(!info.have_madt);

	current = "MADT 40 bytes (no room for its fixed fields)";
	put32(madt->data + 4, 40);
	fix_checksum(madt->data, 40, 9);
	run(&im);
	CHECK_MSG("acpi: MADT length 40 is too short for its fixed fields, ignored");
	CHECK(!info.have_madt);
	put32(madt->data + 4, madt->len);
	fix_checksum(madt->data, madt->len, 9);

	current = "XSDT length 0xFFFFFFFF";
	uint32_t xlen = get32(xsdt->data + 4);
	put32(xsdt->data + 4, 0xFFFFFFFF);
	run(&im);
	CHECK_MSG("acpi: XSDT length 4294967295 is not believable, ignored");
	CHECK_MSG("falling back to the RSDT");
	CHECK(!info.xsdt_used && info.have_madt && info.nr_cpus == 4);
	put32(xsdt->data + 4, xlen);

	current = "XSDT length not a multiple of 8";
	put32(xsdt->data + 4, xlen - 4);
	fix_checksum(xsdt->data, xlen - 4, 9);
	run(&im);
	CHECK_MSG("not a whole number of entries");
	CHECK(info.xsdt_used && info.have_madt);
	put32(xsdt->data + 4, xlen);
	fix_checksum(xsdt->data, xlen, 9);

	current = "RSDP v2 length 0xFFFFFFFF";
	put32(rsdp->data + 20, 0xFFFFFFFF);
	fix_checksum(rsdp->data, 20, 8);
	run(&im);
	CHECK_MSG("acpi: RSDP length 4294967295 is not believable; using the RSDT");
	CHECK(info.present && !info.xsdt_used && info.have_madt);
	put32(rsdp->data + 20, 36);
	fix_checksum(rsdp->data, 20, 8);

	current = "RSDP v2 copy of only 20 bytes";
	rsdp->len = 20;
	run(&im);
	CHECK_MSG("copy is only 20 bytes; using the RSDT");
	CHECK(!info.xsdt_used && info.have_madt);
	rsdp->len = 36;

	current = "RSDP too short / absent / bad signature";
	rsdp->len = 19;
	CHECK(run(&im) == -1 && !info.present);
	CHECK_MSG("acpi: no RSDP from the boot loader");
	rsdp->len = 36;
	rsdp->data[0] = 'X';
	CHECK(run(&im) == -1 && !info.present);
	CHECK_MSG("acpi: RSDP signature bad");
	rsdp->data[0] = 'R';

	current = "FADT shorter than ACPI 1.0";
	put32(fadt->data + 4, 100);
	fix_checksum(fadt->data, 100, 9);
	run(&im);
	CHECK_MSG("acpi: FADT length 100 is shorter than ACPI 1.0's 116, ignored");
	CHECK(!info.have_fadt && !info.have_s5);
	put32(fadt->data + 4, fadt->len);
	fix_checksum(fadt->data, fadt->len, 9);

	current = "DSDT truncated";
	uint32_t dlen = dsdt->len;
	dsdt->len = dlen / 2;  /* the captured bytes end halfway */
	run(&im);
	CHECK_MSG("acpi: DSDT at 0xf779000 (8600 bytes) is not readable, ignored");
	CHECK(info.have_fadt && !info.have_s5);
	dsdt->len = dlen;

	current = "restored";
	run(&im);
	CHECK(info.nr_warnings == 0 && info.have_s5);
	img_free(&im);
}

/* Find the offset of the n-th MADT entry. */
static uint32_t madt_entry_off(const uint8_t *t, unsigned int n)
{
	uint32_t off = 44;

	while (n--)
		off += t[off + 1];
	return off;
}

static void test_madt_entries(void)
{
	struct img im;
	struct img_record *madt;

	load(&im, "q35-smp4");
	madt = img_find(&im, "APIC");

	current = "zero-length MADT entry";
	uint32_t off = madt_entry_off(madt->data, 2);
	madt->data[off + 1] = 0;
	fix_checksum(madt->data, madt->len, 9);
	run(&im);
	CHECK_MSG("has length 0; the rest of the MADT is ignored");
	CHECK(info.have_madt && info.nr_cpus == 2 && info.nr_ioapics == 0);
	CHECK(info.nr_warnings == 1);
	madt->data[off + 1] = 8;

	current = "MADT entry longer than the table";
	off = madt_entry_off(madt->data, 4);   /* the IOAPIC, after 4 CPUs */
	CHECK(madt->data[off] == 1);
	madt->data[off + 1] = 255;
	fix_checksum(madt->data, madt->len, 9);
	run(&im);
	CHECK_MSG("runs past the table's end");
	CHECK(info.nr_cpus == 4 && info.nr_ioapics == 0 && info.nr_overrides == 0);
	madt->data[off + 1] = 12;

	current = "MADT IOAPIC entry too short";
	madt->data[off + 1] = 8;   /* 8 of its 12 bytes; the next entry starts at +8 */
	fix_checksum(madt->data, madt->len, 9);
	run(&im);
	CHECK_MSG("acpi: MADT entry type 1 at offset");
	CHECK_MSG("is 8 bytes, needs 12; ignored");
	CHECK(info.nr_cpus == 4 && info.nr_ioapics == 0);
	madt->data[off + 1] = 12;

	current = "MADT entry length 1";
	off = madt_entry_off(madt->data, 0);
	madt->data[off + 1] = 1;
	fix_checksum(madt->data, madt->len, 9);
	run(&im);
	CHECK_MSG("has length 1");
	CHECK(info.have_madt && info.nr_cpus == 0);
	madt->data[off + 1] = 8;

	fix_checksum(madt->data, madt->len, 9);
	current = "restored";
	run(&im);
	CHECK(info.nr_warnings == 0 && info.nr_cpus == 4);
	img_free(&im);
}

static uint8_t *find_bytes(uint8_t *hay, size_t n, const char *needle, size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (!memcmp(hay + i, needle, m))
			return hay + i;
	return NULL;
}

/* Point the FADT's DSDT and X_DSDT at `addr`, checksum fixed. */
static void set_dsdt(struct img_record *fadt, uint64_t addr)
{
	put32(fadt->data + 40, (uint32_t)addr);
	if (fadt->len >= 148)
		put64(fadt->data + 140, addr);
	fix_checksum(fadt->data, fadt->len, 9);
}

static unsigned int count_msg(const char *sub)
{
	unsigned int n = 0;

	for (const char *p = msgs; (p = strstr(p, sub)); p++)
		n++;
	return n;
}

static void test_dsdt(void)
{
	struct img im;
	struct img_record *fadt, *dsdt;

	load(&im, "q35-smp4");
	fadt = img_find(&im, "FACP");
	dsdt = img_find(&im, "DSDT");

	current = "missing DSDT";
	uint64_t dsdt_phys = dsdt->phys;
	set_dsdt(fadt, 0);
	run(&im);
	CHECK_MSG("acpi: FADT names no DSDT; no ACPI power-off");
	CHECK(info.have_fadt && !info.have_s5 && info.have_reset_reg);

	current = "DSDT pointer to the MADT";
	set_dsdt(fadt, img_find(&im, "APIC")->phys);
	run(&im);
	CHECK_MSG("has signature \"MADT\", not DSDT; ignored");
	CHECK(!info.have_s5 && info.have_madt);

	current = "DSDT pointer to nowhere";
	set_dsdt(fadt, 0x12345678);
	run(&im);
	CHECK_MSG("acpi: DSDT at 0x12345678 is not readable, ignored");
	CHECK(!info.have_s5);

	current = "X_DSDT differs from DSDT";
	set_dsdt(fadt, 0x12345678);
	put64(fadt->data + 140, dsdt_phys);
	fix_checksum(fadt->data, fadt->len, 9);
	run(&im);
	CHECK_MSG("acpi: FADT has both DSDT 0x12345678 and X_DSDT 0xffe0040; using X_DSDT");
	CHECK(info.have_s5 && info.nr_warnings == 1);
	set_dsdt(fadt, dsdt_phys);

	current = "_S5_ absent";
	uint8_t *s5 = find_bytes(dsdt->data, dsdt->len, "_S5_", 4);
	CHECK(s5 != NULL);
	s5[2] = '6';
	fix_checksum(dsdt->data, dsdt->len, 9);
	run(&im);
	CHECK_MSG("acpi: no \\_S5 in the DSDT; no ACPI power-off");
	CHECK(info.have_fadt && !info.have_s5);
	s5[2] = '5';

	current = "_S5_ not a package";
	s5[4] = 0x0A;
	fix_checksum(dsdt->data, dsdt->len, 9);
	run(&im);
	CHECK_MSG("is not a package of sleep types");
	CHECK(!info.have_s5);
	s5[4] = 0x12;

	current = "_S5_ = { 5, 5 }";
	s5[7] = 0x0A; s5[8] = 5;   /* BytePrefix 5 replaces Zero, Zero */
	s5[9] = 0x01;              /* One */
	fix_checksum(dsdt->data, dsdt->len, 9);
	run(&im);
	CHECK(info.have_s5 && info.slp_typa == 5 && info.slp_typb == 1);
	img_free(&im);
}

/* XSDT that lists nothing readable, an entry of 0, too many entries. */
static void test_root_entries(void)
{
	struct img im;
	uint8_t rsdt[36 + 4 * 80];
	struct img_record *r;

	load(&im, "pc-smp4");
	r = img_find(&im, "RSDT");
	uint32_t waet = (uint32_t)img_find(&im, "WAET")->phys;

	current = "RSDT with 0, unreadable and 78 repeated entries";
	memcpy(rsdt, r->data, 36);
	put32(rsdt + 4, sizeof(rsdt));
	put32(rsdt + 36, 0);
	put32(rsdt + 40, 0xFFFFFF00);
	for (int i = 2; i < 80; i++)
		put32(rsdt + 36 + 4 * i, waet);
	fix_checksum(rsdt, sizeof(rsdt), 9);
	free(r->data);
	r->data = malloc(sizeof(rsdt));
	memcpy(r->data, rsdt, sizeof(rsdt));
	r->len = sizeof(rsdt);
	run(&im);
	CHECK_MSG("acpi: RSDT entry 0 has address 0, ignored");
	CHECK_MSG("acpi: RSDT entry 1 at 0xffffff00 is not readable, ignored");
	CHECK_MSG("acpi: RSDT has 80 entries; only the first 64 are read");
	CHECK_MSG("acpi: more than 32 tables; the list is cut there");
	CHECK(info.nr_tables == ACPI_MAX_TABLES);
	CHECK(!info.have_madt);
	/* The cut message is given once, not once per extra table. */
	CHECK(count_msg("list is cut") == 1);
	img_free(&im);
}

/* ---- hand-built tables ---- */

static uint8_t madt[4096];
static uint32_t madt_len;

static void madt_begin(uint8_t rev)
{
	memset(madt, 0, sizeof(madt));
	memcpy(madt, "APIC", 4);
	madt[8] = rev;
	put32(madt + 36, 0xFEE00000);
	madt_len = 44;
}

static uint8_t *madt_add(uint8_t type, uint8_t len)
{
	uint8_t *e = madt + madt_len;

	e[0] = type;
	e[1] = len;
	madt_len += len;
	return e;
}

static void parse_madt(void)
{
	struct acpi_parse_ops ops = { .map = img_map, .report = report };

	memset(&info, 0, sizeof(info));
	msgs[0] = '\0';
	msgs_len = 0;
	put32(madt + 4, madt_len);
	/* An exact-size copy, so ASan sees any overread. */
	uint8_t *t = malloc(madt_len);
	memcpy(t, madt, madt_len);
	acpi_parse_madt(t, madt_len, &ops, &info);
	free(t);
}

static void test_madt_synthetic(void)
{
	uint8_t *e;

	current = "x2APIC, NMIs, LAPIC address override, online-capable (rev 5)";
	madt_begin(5);
	e = madt_add(0, 8); e[2] = 0; e[3] = 0; put32(e + 4, 1);            /* enabled */
	e = madt_add(0, 8); e[2] = 1; e[3] = 1; put32(e + 4, 2);            /* online-capable */
	e = madt_add(0, 8); e[2] = 2; e[3] = 2; put32(e + 4, 0);            /* disabled */
	e = madt_add(0, 8); e[2] = 3; e[3] = 0xFF; put32(e + 4, 1);         /* placeholder ID */
	e = madt_add(9, 16); put32(e + 4, 300); put32(e + 8, 1); put32(e + 12, 77);
	e = madt_add(9, 16); put32(e + 4, 301); put32(e + 8, 3); put32(e + 12, 78); /* both bits */
	e = madt_add(9, 16); put32(e + 4, 300); put32(e + 8, 1); put32(e + 12, 79); /* duplicate */
	e = madt_add(0xA, 12); e[2] = 5; put32(e + 4, 0xFFFFFFFF); e[8] = 1;
	e = madt_add(4, 6); e[2] = 0xFF; e[3] = 5; e[5] = 1;
	e = madt_add(4, 6); e[2] = 0; e[5] = 7;                             /* LINT7: bad */
	e = madt_add(5, 12); put64(e + 4, 0x1FEE00000ULL);
	e = madt_add(1, 12); e[2] = 9; put32(e + 4, 0);                     /* IOAPIC at 0 */
	e = madt_add(1, 16); e[2] = 2; put32(e + 4, 0xFEC01000); put32(e + 8, 24); /* longer: ok */
	e = madt_add(2, 10); e[2] = 1; e[3] = 4;                            /* bus 1 */
	e = madt_add(2, 10); e[3] = 9; put32(e + 4, 20); e[8] = 0xF;
	e = madt_add(0x7F, 3);                                              /* unknown type */
	parse_madt();
	CHECK(info.have_madt);
	CHECK(info.lapic_addr == 0x1FEE00000ULL);
	CHECK(info.nr_cpus == 5 && info.nr_cpus_enabled == 3);
	CHECK(info.cpus[0].flags == ACPI_CPU_ENABLED);
	CHECK(info.cpus[1].flags == ACPI_CPU_ONLINE_CAPABLE);
	CHECK(info.cpus[2].flags == 0);
	CHECK(info.cpus[3].apic_id == 300 && info.cpus[3].x2apic && info.cpus[3].acpi_uid == 77);
	CHECK(info.cpus[4].apic_id == 301 && info.cpus[4].flags == ACPI_CPU_ENABLED);
	CHECK_MSG("acpi: MADT lists APIC ID 300 twice; the second entry is ignored");
	CHECK(info.nr_lapic_nmis == 2);
	CHECK(info.lapic_nmis[0].acpi_uid == 0xFFFFFFFF && info.lapic_nmis[0].lint == 1 &&
	      info.lapic_nmis[0].flags == 5);
	CHECK(info.lapic_nmis[1].acpi_uid == 0xFF && info.lapic_nmis[1].flags == 5);
	CHECK_MSG("LINT7");
	CHECK(info.nr_ioapics == 1 && info.ioapics[0].id == 2 && info.ioapics[0].gsi_base == 24);
	CHECK_MSG("acpi: MADT IOAPIC 9 has address 0, ignored");
	CHECK(info.nr_overrides == 1 && info.overrides[0].source_irq == 9 &&
	      info.overrides[0].gsi == 20 && info.overrides[0].flags == 0xF);
	CHECK_MSG("override for bus 1");
	CHECK(info.nr_warnings == 4);

	current = "online-capable bit ignored before MADT revision 5";
	madt_begin(4);
	e = madt_add(0, 8); e[3] = 0; put32(e + 4, 2);
	parse_madt();
	CHECK(info.nr_cpus == 1 && info.cpus[0].flags == 0 && info.nr_warnings == 0);

	current = "too many CPUs / IOAPICs / overrides / NMIs";
	madt_begin(1);
	for (int i = 0; i < 60; i++) {
		e = madt_add(9, 16); put32(e + 4, (uint32_t)i); put32(e + 8, 1);
	}
	for (int i = 0; i < 10; i++) {
		e = madt_add(1, 12); e[2] = (uint8_t)i; put32(e + 4, 0xFEC00000 + 0x1000u * i);
	}
	for (int i = 0; i < 18; i++) {
		e = madt_add(2, 10); e[3] = (uint8_t)i;
	}
	for (int i = 0; i < 18; i++) {
		e = madt_add(4, 6); e[2] = (uint8_t)i;
	}
	parse_madt();
	CHECK(info.nr_cpus == 60 && info.nr_ioapics == ACPI_MAX_IOAPICS);
	CHECK(info.nr_overrides == ACPI_MAX_OVERRIDES && info.nr_lapic_nmis == ACPI_MAX_LAPIC_NMIS);
	CHECK(info.nr_warnings == 2 + 2 + 2);

	current = "stray byte at the MADT's end";
	madt_begin(1);
	e = madt_add(0, 8); e[3] = 0; put32(e + 4, 1);
	madt_len += 1;
	parse_madt();
	CHECK(info.nr_cpus == 1);
	CHECK_MSG("stray byte");
}

static void test_fadt_synthetic(void)
{
	static uint8_t f[276];
	struct acpi_parse_ops ops = { .report = report };

	current = "FADT X_ blocks, memory-space X_PM1b, reset flag without address";
	memset(f, 0, sizeof(f));
	memcpy(f, "FACP", 4);
	f[8] = 6;
	put32(f + 40, 0x1000);          /* DSDT */
	put64(f + 140, 0x2000);         /* X_DSDT, different */
	put32(f + 64, 0x404);           /* PM1a_CNT_BLK, overridden by X_ */
	f[172] = 1; put64(f + 176, 0x504);
	put32(f + 68, 0x408);           /* PM1b_CNT_BLK kept: X_ is memory */
	f[184] = 0; put64(f + 188, 0xFED00000);
	put32(f + 76, 0x70000);         /* PM timer beyond the I/O space */
	put32(f + 112, 1u << 10 | 1u << 8);  /* RESET_REG_SUP, TMR_VAL_EXT */
	f[116] = 1; put64(f + 120, 0);  /* reset reg I/O at 0 */
	memset(&info, 0, sizeof(info));
	msgs[0] = '\0'; msgs_len = 0;
	acpi_parse_fadt(f, sizeof(f), &ops, &info);
	CHECK(info.have_fadt && info.fadt_revision == 6);
	CHECK(info.pm1a_cnt == 0x504 && info.pm1b_cnt == 0x408 && info.pm_tmr == 0);
	CHECK(info.pm_tmr_32bit);
	CHECK(info.dsdt_addr == 0x2000);
	CHECK(!info.have_reset_reg);
	CHECK_MSG("X_PM1b_CNT_BLK is in address space 0, not I/O; using PM1b_CNT_BLK");
	CHECK_MSG("PM_TMR_BLK port 0x70000 is beyond the I/O space");
	CHECK_MSG("both DSDT 0x1000 and X_DSDT 0x2000");
	CHECK_MSG("reset register 0 in address space 1 is not usable");
	CHECK(info.nr_warnings == 4);

	current = "FADT reset register in PCI config space";
	f[116] = 2; put64(f + 120, 0x0000001F00000044ULL); f[128] = 0x6;
	memset(&info, 0, sizeof(info));
	acpi_parse_fadt(f, sizeof(f), &ops, &info);
	CHECK(info.have_reset_reg && info.reset_space == 2 && info.reset_value == 6);
}

static void test_s5_encodings(void)
{
	u16 a, b;

	current = "_S5_ encodings";
	/* Name (\_S5, Package (0x04) { 0x05, One, Zero, Zero }) */
	static const uint8_t root[] = { 0x10, 0x08, 0x5C, '_', 'S', '5', '_', 0x12, 0x07, 0x04,
					0x0A, 0x05, 0x01, 0x00, 0x00 };
	CHECK(acpi_find_s5(root, sizeof(root), &a, &b) == ACPI_S5_OK && a == 5 && b == 1);

	/* Two-byte PkgLength (lead 0x40 | low nibble, then bits 4-11). */
	static const uint8_t pk2[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x47, 0x00, 0x02,
				       0x0A, 0x07, 0x0A, 0x03 };
	CHECK(acpi_find_s5(pk2, sizeof(pk2), &a, &b) == ACPI_S5_OK && a == 7 && b == 3);

	/* WordPrefix values that fit 3 bits, one-element package. */
	static const uint8_t word[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x01, 0x0B, 0x06, 0x00 };
	CHECK(acpi_find_s5(word, sizeof(word), &a, &b) == ACPI_S5_OK && a == 6 && b == 0);

	/* A first "_S5_" that is not a Name, then the real one. */
	static const uint8_t two[] = { 0x0D, '_', 'S', '5', '_', 0x00,
				       0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x01, 0x01 };
	CHECK(acpi_find_s5(two, sizeof(two), &a, &b) == ACPI_S5_OK && a == 1 && b == 1);

	/* Malformed: PkgLength past the end, value 9, Ones, truncated, empty package. */
	static const uint8_t past[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x3F, 0x02, 0x00, 0x00 };
	CHECK(acpi_find_s5(past, sizeof(past), &a, &b) == ACPI_S5_MALFORMED);
	static const uint8_t big[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x0A, 0x09, 0x00 };
	CHECK(acpi_find_s5(big, sizeof(big), &a, &b) == ACPI_S5_MALFORMED);
	static const uint8_t ones[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0xFF, 0x00 };
	CHECK(acpi_find_s5(ones, sizeof(ones), &a, &b) == ACPI_S5_MALFORMED);
	static const uint8_t trunc[] = { 0x08, '_', 'S', '5', '_', 0x12 };
	CHECK(acpi_find_s5(trunc, sizeof(trunc), &a, &b) == ACPI_S5_MALFORMED);
	static const uint8_t trunc2[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x44 };
	CHECK(acpi_find_s5(trunc2, sizeof(trunc2), &a, &b) == ACPI_S5_MALFORMED);
	static const uint8_t empty[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x02, 0x00 };
	CHECK(acpi_find_s5(empty, sizeof(empty), &a, &b) == ACPI_S5_MALFORMED);
	/* A word value in a package too short to hold it. */
	static const uint8_t shortw[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x03, 0x01, 0x0B, 0x06, 0x00 };
	CHECK(acpi_find_s5(shortw, sizeof(shortw), &a, &b) == ACPI_S5_MALFORMED);

	/* Absent: no NameOp before it, at offset 0, or nothing at all. */
	static const uint8_t bare[] = { '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x00, 0x00 };
	CHECK(acpi_find_s5(bare, sizeof(bare), &a, &b) == ACPI_S5_ABSENT);
	CHECK(acpi_find_s5(bare, 0, &a, &b) == ACPI_S5_ABSENT);
	CHECK(acpi_find_s5((const uint8_t *)"\x08_S5", 4, &a, &b) == ACPI_S5_ABSENT);
}

/*
 * Size fields at their largest, each in an exact-size heap copy: a walker that
 * checked "pos + size <= len" instead of "size <= len - pos" would let the
 * sum wrap and read past the end (multiboot2's memory map did; see
 * kernel/multiboot2.c). acpi_parse.c must refuse every one of these.
 */
static void test_size_wraps(void)
{
	u16 a, b;

	current = "PkgLength with three extra bytes, 0x0FFFFFFF";
	static const uint8_t huge[] = { 0x08, '_', 'S', '5', '_', 0x12, 0xCF, 0xFF, 0xFF, 0xFF,
					0x02, 0x0A, 0x05, 0x0A, 0x05 };
	uint8_t *t = malloc(sizeof(huge));

	memcpy(t, huge, sizeof(huge));
	CHECK(acpi_find_s5(t, sizeof(huge), &a, &b) == ACPI_S5_MALFORMED);
	/* The same lead byte with its extra bytes cut off by the end. */
	for (size_t cut = 7; cut < 10; cut++)
		CHECK(acpi_find_s5(t, cut, &a, &b) == ACPI_S5_MALFORMED);
	free(t);

	current = "MADT entry whose length exactly reaches the end, then one past";
	madt_begin(1);
	uint8_t *e = madt_add(0, 8);

	e[3] = 0; put32(e + 4, 1);
	e = madt_add(1, 0xFF);     /* 255 bytes: the table ends with it */
	e[2] = 1; put32(e + 4, 0xFEC00000);
	parse_madt();
	CHECK(info.nr_cpus == 1 && info.nr_ioapics == 1 && info.nr_warnings == 0);
	madt_len -= 1;              /* now it runs one byte past the end */
	parse_madt();
	CHECK(info.nr_cpus == 1 && info.nr_ioapics == 0);
	CHECK_MSG("runs past the table's end");
}

int main(void)
{
	char b[5];

	test_fixtures();
	test_bad_checksums("pc-smp4");
	test_bad_checksums("q35-smp4");
	test_bad_checksums("q35-smp2-max8");
	test_bad_checksums("q35-uefi-smp4");
	test_lengths();
	test_madt_entries();
	test_dsdt();
	test_root_entries();
	test_madt_synthetic();
	test_fadt_synthetic();
	test_s5_encodings();
	test_size_wraps();
	current = "names";
	CHECK(!strcmp(acpi_table_name("APIC", b), "MADT"));
	CHECK(!strcmp(acpi_table_name("FACP", b), "FADT"));
	CHECK(!strcmp(acpi_table_name("HP\x01T", b), "HP?T"));

	if (failures) {
		printf("test_acpi: %d failure(s)\n", failures);
		return 1;
	}
	printf("test_acpi: all passed\n");
	return 0;
}
