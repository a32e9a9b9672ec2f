/*
 * acpi_image.h — a "physical memory image" of ACPI tables for the host tests
 * and the fuzzer: the format tools/acpi_capture.py writes (magic "GACPIMG1",
 * then records of 4-byte signature, u32 length, u64 physical address, bytes,
 * padding to 8), and the acpi_parse_ops `map` callback that serves it.
 *
 * Each record gets its own exact-size heap copy, so AddressSanitizer catches
 * any read past a table's end. Loading is lenient and bounded (the fuzzer
 * feeds it garbage): a record that does not fit ends the list.
 */
#ifndef TESTS_ACPI_IMAGE_H
#define TESTS_ACPI_IMAGE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define IMG_MAX_RECORDS 64

struct img_record {
	char sig[5];
	uint64_t phys;
	uint32_t len;
	uint8_t *data;
};

struct img {
	struct img_record rec[IMG_MAX_RECORDS];
	unsigned int n;
};

static inline void img_free(struct img *im)
{
	for (unsigned int i = 0; i < im->n; i++)
		free(im->rec[i].data);
	im->n = 0;
}

static inline struct img_record *img_add(struct img *im, const char *sig, uint64_t phys,
					 const void *data, uint32_t len)
{
	if (im->n == IMG_MAX_RECORDS)
		return NULL;
	struct img_record *r = &im->rec[im->n++];

	memcpy(r->sig, sig, 4);
	r->sig[4] = '\0';
	r->phys = phys;
	r->len = len;
	r->data = malloc(len ? len : 1);
	if (len)
		memcpy(r->data, data, len);
	return r;
}

/* Returns 0 when at least one record was read. */
static inline int img_load_mem(struct img *im, const uint8_t *p, size_t size)
{
	size_t off = 8;

	memset(im, 0, sizeof(*im));
	if (size < 8 || memcmp(p, "GACPIMG1", 8))
		return -1;
	while (size - off >= 16 && im->n < IMG_MAX_RECORDS) {
		uint32_t len;
		uint64_t phys;

		memcpy(&len, p + off + 4, 4);
		memcpy(&phys, p + off + 8, 8);
		if (len > size - off - 16)
			break;
		img_add(im, (const char *)p + off, phys, p + off + 16, len);
		off += 16 + ((len + 7u) & ~(size_t)7);
		if (off > size)
			break;
	}
	return im->n ? 0 : -1;
}

static inline struct img_record *img_find(struct img *im, const char *sig)
{
	for (unsigned int i = 0; i < im->n; i++)
		if (!memcmp(im->rec[i].sig, sig, 4))
			return &im->rec[i];
	return NULL;
}

/* acpi_parse_ops.map: the bytes must lie inside one record (not the RSDP copy). */
static inline const void *img_map(void *ctx, uint64_t addr, size_t len)
{
	struct img *im = ctx;

	for (unsigned int i = 0; i < im->n; i++) {
		struct img_record *r = &im->rec[i];

		if (!memcmp(r->sig, "RSDP", 4))
			continue;
		if (addr >= r->phys && addr - r->phys <= r->len && len <= r->len - (addr - r->phys))
			return r->data + (addr - r->phys);
	}
	return NULL;
}

#endif
