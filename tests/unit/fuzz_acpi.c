// FUZZ_SOURCES: arch/x86_64/acpi_parse.c
/*
 * fuzz_acpi.c — libFuzzer target for the ACPI parsers (make fuzz).
 *
 * An input is an ACPI image (tools/acpi_capture.py's format; the fixtures in
 * tests/unit/fixtures/acpi/ are the seeds). It is parsed twice: as it is, and
 * with every record's checksum made good, so that mutations get past the
 * checksum checks into the MADT walk, the FADT and the AML search. The raw
 * input is also handed straight to each table parser and to the \_S5 search.
 * Every record is an exact-size heap copy, so AddressSanitizer sees any read
 * past a table. Besides crashes, the target aborts when a result breaks an
 * invariant of struct acpi_info or a message says "WARNING:".
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
 *     -Iarch/x86_64/include -Itests/unit tests/unit/fuzz_acpi.c arch/x86_64/acpi_parse.c
 */
#include <asm/acpi_parse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acpi_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void report(void *ctx, const char *msg)
{
	(void)ctx;
	if (strstr(msg, "WARNING:") || strncmp(msg, "acpi: ", 6) != 0) {
		fprintf(stderr, "bad message: %s\n", msg);
		abort();
	}
}

/* `full`: the result of acpi_parse(), not of one table parser alone. */
static void check(const struct acpi_info *a, bool full)
{
	bool ok = a->nr_cpus <= ACPI_MAX_CPUS && a->nr_cpus_enabled <= a->nr_cpus &&
		  a->nr_ioapics <= ACPI_MAX_IOAPICS && a->nr_overrides <= ACPI_MAX_OVERRIDES &&
		  a->nr_lapic_nmis <= ACPI_MAX_LAPIC_NMIS && a->nr_tables <= ACPI_MAX_TABLES &&
		  a->slp_typa <= 7 && a->slp_typb <= 7 && a->pm1a_cnt <= 0xFFFF &&
		  a->pm1b_cnt <= 0xFFFF && a->reset_space <= 2 &&
		  (!a->have_s5 || a->have_fadt) &&
		  (!full || a->present || (!a->have_madt && !a->have_fadt && !a->nr_tables));
	unsigned int enabled = 0;

	for (unsigned int i = 0; i < a->nr_cpus && i < ACPI_MAX_CPUS; i++) {
		enabled += !!(a->cpus[i].flags & ACPI_CPU_ENABLED);
		ok &= a->cpus[i].flags <= (ACPI_CPU_ENABLED | ACPI_CPU_ONLINE_CAPABLE);
		ok &= a->cpus[i].flags != (ACPI_CPU_ENABLED | ACPI_CPU_ONLINE_CAPABLE);
		for (unsigned int j = 0; j < i; j++)
			ok &= a->cpus[i].apic_id != a->cpus[j].apic_id;
	}
	ok &= enabled == a->nr_cpus_enabled;
	if (!ok) {
		fprintf(stderr, "struct acpi_info invariant broken\n");
		abort();
	}
}

static void fix_checksums(struct img *im)
{
	for (unsigned int i = 0; i < im->n; i++) {
		struct img_record *r = &im->rec[i];
		uint8_t sum = 0;

		if (!memcmp(r->sig, "RSDP", 4)) {
			if (r->len < 20)
				continue;
			r->data[8] = 0;
			for (int k = 0; k < 20; k++)
				sum += r->data[k];
			r->data[8] = (uint8_t)-sum;
			if (r->len >= 36) {
				uint32_t l;

				memcpy(&l, r->data + 20, 4);
				if (l > r->len)
					l = r->len;
				r->data[32] = 0;
				sum = 0;
				for (uint32_t k = 0; k < l; k++)
					sum += r->data[k];
				r->data[32] = (uint8_t)-sum;
			}
			continue;
		}
		if (r->len < 36)
			continue;
		uint32_t l;

		memcpy(&l, r->data + 4, 4);
		if (l > r->len)
			continue;
		r->data[9] = 0;
		for (uint32_t k = 0; k < l; k++)
			sum += r->data[k];
		r->data[9] = (uint8_t)-sum;
	}
}

static struct acpi_info info;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct img im;
	struct acpi_parse_ops ops = { .map = img_map, .report = report, .ctx = &im };

	if (!img_load_mem(&im, data, size)) {
		for (int pass = 0; pass < 2; pass++) {
			struct img_record *r = img_find(&im, "RSDP");

			if (pass)
				fix_checksums(&im);
			acpi_parse(r ? r->data : NULL, r ? r->len : 0, &ops, &info);
			check(&info, true);
		}
		img_free(&im);
	}

	/* The raw bytes as one table / one AML stream, exact size. */
	uint8_t *t = malloc(size ? size : 1);
	u16 a, b;

	memcpy(t, data, size);
	memset(&info, 0, sizeof(info));
	acpi_parse_madt(t, (uint32_t)size, &ops, &info);
	check(&info, false);
	memset(&info, 0, sizeof(info));
	acpi_parse_fadt(t, (uint32_t)size, &ops, &info);
	acpi_parse_hpet(t, (uint32_t)size, &ops, &info);
	check(&info, false);
	if (acpi_find_s5(t, size, &a, &b) == ACPI_S5_OK && (a > 7 || b > 7))
		abort();
	free(t);
	return 0;
}
