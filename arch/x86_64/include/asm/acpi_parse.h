/*
 * acpi_parse.h — the pure ACPI table parsers (arch/x86_64/acpi_parse.c).
 *
 * Nothing here touches hardware or kernel state: physical memory is read only
 * through the caller's `map` callback, and every problem goes to the caller's
 * `report` callback as one line (no "WARNING:"), counted in nr_warnings. The
 * kernel maps through the direct map (arch/x86_64/acpi.c); the host tests map
 * captured fixture images (tests/unit/test_acpi.c, tests/unit/fuzz_acpi.c).
 */
#ifndef ASM_ACPI_PARSE_H
#define ASM_ACPI_PARSE_H

#include <grace/acpi.h>
#include <grace/types.h>

/* ACPI 6.x §5.2.6: every description table starts with this 36-byte header. */
#define ACPI_SDT_HEADER_LEN 36
/* Anything longer is not believed (the biggest real DSDTs are a few hundred KiB). */
#define ACPI_MAX_TABLE_LEN  (16u << 20)
/* RSDT/XSDT entries looked at; more is reported and ignored. */
#define ACPI_MAX_ROOT_ENTRIES 64

struct acpi_parse_ops {
	/* `len` readable bytes at physical `addr`, or NULL when they are not. */
	const void *(*map)(void *ctx, u64 addr, size_t len);
	/* One message per problem, without a newline; may be NULL. */
	void (*report)(void *ctx, const char *msg);
	void *ctx;
};

/* The sum of `len` bytes is 0 mod 256 (ACPI 6.x §5.2.5.3, §5.2.6). */
bool acpi_checksum_ok(const void *p, size_t len);

/*
 * Parse everything reachable from a copy of the RSDP (`rsdp_len` bytes; the
 * multiboot2 tag gives 20 for v1 and 36 for v2). Zeroes *out, then fills it.
 * Returns 0 when the RSDP was good (out->present), -1 otherwise.
 */
int acpi_parse(const void *rsdp, size_t rsdp_len, const struct acpi_parse_ops *ops,
	       struct acpi_info *out);

/* The pieces, for tests: each parses one checked table of `len` bytes into *out. */
void acpi_parse_madt(const u8 *t, u32 len, const struct acpi_parse_ops *ops, struct acpi_info *out);
void acpi_parse_hpet(const u8 *t, u32 len, const struct acpi_parse_ops *ops, struct acpi_info *out);
void acpi_parse_fadt(const u8 *t, u32 len, const struct acpi_parse_ops *ops, struct acpi_info *out);

enum acpi_s5_result {
	ACPI_S5_OK = 0,
	ACPI_S5_ABSENT = -1,     /* no `Name (_S5_, ...)` in the AML */
	ACPI_S5_MALFORMED = -2,  /* found, but not a package of two small integers */
};
/* Find `Name (\_S5_, Package () { SLP_TYPa, SLP_TYPb, ... })` in AML bytes. */
enum acpi_s5_result acpi_find_s5(const u8 *aml, size_t len, u16 *slp_typa, u16 *slp_typb);

/* "MADT" for APIC, "FADT" for FACP, else the signature itself. */
const char *acpi_table_name(const char *sig, char buf[5]);

/* Kernel side (arch/x86_64/acpi.c): the direct-map `map` callback. */
const void *acpi_phys_map(void *ctx, u64 addr, size_t len);

#endif
