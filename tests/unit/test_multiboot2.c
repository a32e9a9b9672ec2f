// UNIT_SOURCES: kernel/multiboot2.c
/*
 * test_multiboot2.c — the multiboot2 information parser (kernel/multiboot2.c).
 *
 * The bootloader's structure is input like any other: this test builds
 * information structures byte by byte (Multiboot2 spec §3.6: u32 total_size,
 * u32 reserved, 8-byte-aligned tags of u32 type + u32 size, an end tag of
 * type 0 size 8) and hands them to multiboot2_parse() in a heap buffer of
 * exactly the advertised size, so AddressSanitizer catches any read past it.
 *
 *  1. A well-formed structure: cmdline, loader name, memory map, both ACPI
 *     RSDP tags, an RGB framebuffer, the EFI tag: every field is checked.
 *  2. Corruptions, each of which must give a clear message and either a
 *     usable result or -1, never a crash: total size lying (too big, too
 *     small), a tag of size 0, a tag running past the end, a memory map entry
 *     size of 0 or not a multiple of 8, no end tag, no usable memory, more
 *     regions than fit, a command line without its NUL, short ACPI and
 *     framebuffer tags, a wrapping region; and size fields chosen so that
 *     "offset + size" wraps past 2^32 (an entry size of 0xFFFFFFF8 in the
 *     last tag, as the fuzzer found, and tag sizes near 4 GiB).
 *  3. A small deterministic mutation fuzz of the well-formed structure.
 */
#include "host_shim.h"

#include <grace/bootinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- building an information structure ---- */

static unsigned char img[1 << 16];
static size_t img_len;

static void put32(size_t off, uint32_t v) { memcpy(img + off, &v, 4); }
static void put64(size_t off, uint64_t v) { memcpy(img + off, &v, 8); }

static void mbi_begin(void)
{
	memset(img, 0, sizeof(img));
	img_len = 8;
}

/* Append a tag with `plen` payload bytes; returns the tag's offset. */
static size_t tag(uint32_t type, const void *payload, uint32_t plen)
{
	size_t off = img_len;

	put32(off, type);
	put32(off + 4, 8 + plen);
	if (plen)
		memcpy(img + off + 8, payload, plen);
	img_len = (off + 8 + plen + 7) & ~(size_t)7;
	return off;
}

static void mbi_end(void)
{
	tag(0, NULL, 0);
	put32(0, (uint32_t)img_len);
}

struct mmap_entry { uint64_t base, len; uint32_t type, reserved; };

static size_t mmap_tag(const struct mmap_entry *e, int n)
{
	unsigned char p[8 + 24 * 300];
	uint32_t esize = 24, ever = 0;

	memcpy(p, &esize, 4);
	memcpy(p + 4, &ever, 4);
	memcpy(p + 8, e, 24 * (size_t)n);
	return tag(6, p, 8 + 24 * (uint32_t)n);
}

static const struct mmap_entry std_map[] = {
	{ 0x0, 0x9fc00, 1, 0 },
	{ 0x9fc00, 0x400, 2, 0 },
	{ 0xf0000, 0x10000, 2, 0 },
	{ 0x100000, 0xfee0000, 1, 0 },
	{ 0xffe0000, 0x20000, 3, 0 },
	{ 0xfffc0000, 0x40000, 2, 0 },
};

static size_t fb_tag(uint32_t tag_size)
{
	unsigned char p[64] = { 0 };
	uint64_t addr = 0xfd000000;
	uint32_t pitch = 4096, w = 1024, h = 768;

	memcpy(p + 0, &addr, 8);
	memcpy(p + 8, &pitch, 4);
	memcpy(p + 12, &w, 4);
	memcpy(p + 16, &h, 4);
	p[20] = 32;     /* bpp */
	p[21] = 1;      /* RGB */
	p[24] = 16; p[25] = 8; p[26] = 8; p[27] = 8; p[28] = 0; p[29] = 8;
	return tag(8, p, tag_size - 8);
}

static const char rsdp_v1[20] = "RSD PTR \x01OEMID\0\0\0\0\0\0";
static char rsdp_v2[36] = "RSD PTR \x02OEMID2";

/* The well-formed structure of part 1. */
static void build_good(void)
{
	mbi_begin();
	tag(1, "ktest=all console=serial", 25);
	tag(2, "GRUB 2.06", 10);
	mmap_tag(std_map, 6);
	tag(14, rsdp_v1, 20);
	tag(15, rsdp_v2, 36);
	fb_tag(38);
	tag(12, "\0\0\0\0\0\0\0\0", 8);  /* EFI 64-bit system table pointer */
	tag(21, "\0\0\0\0", 4);          /* a tag type the parser does not use */
	mbi_end();
}

/* ---- running the parser ---- */

static char msgs[8192];

static void collect(const char *m)
{
	size_t n = strlen(msgs);

	snprintf(msgs + n, sizeof(msgs) - n, "%s\n", m);
}

static struct boot_info bi;

/* Parse img[0..avail) from an exact-size heap copy (ASan guards its end). */
static int parse_avail(size_t avail)
{
	unsigned char *copy = malloc(avail ? avail : 1);
	int r;

	memcpy(copy, img, avail);
	msgs[0] = '\0';
	r = multiboot2_parse(copy, avail, &bi, collect);
	free(copy);
	return r;
}

static int parse(void) { return parse_avail(img_len); }

#define EXPECT_MSG(substr) CHECK_MSG(strstr(msgs, substr) != NULL, \
	"expected a message containing \"%s\"; got:\n%s", substr, msgs)

/* ---- 1. well-formed ---- */

static void test_good(void)
{
	build_good();
	CHECK(parse() == 0);
	CHECK_MSG(bi.nr_warnings == 0, "%u warnings: %s", bi.nr_warnings, msgs);
	CHECK(strcmp(bi.cmdline, "ktest=all console=serial") == 0);
	CHECK(strcmp(bi.loader, "GRUB 2.06") == 0);
	CHECK(bi.nr_mem == 6);
	CHECK(bi.mem[3].base == 0x100000 && bi.mem[3].len == 0xfee0000 && bi.mem[3].type == MEM_USABLE);
	CHECK(bi.mem[4].type == MEM_ACPI_RECLAIMABLE);
	CHECK(!bi.mem_truncated);
	CHECK(bi.rsdp_len == 36 && memcmp(bi.rsdp, rsdp_v2, 36) == 0);  /* v2 preferred */
	CHECK(bi.have_fb);
	CHECK(bi.fb.addr == 0xfd000000 && bi.fb.width == 1024 && bi.fb.height == 768);
	CHECK(bi.fb.pitch == 4096 && bi.fb.bpp == 32 && bi.fb.type == 1);
	CHECK(bi.fb.red_pos == 16 && bi.fb.green_pos == 8 && bi.fb.blue_pos == 0 && bi.fb.blue_size == 8);
	CHECK(bi.efi);
	CHECK(bi.mbi_size == img_len);

	/* Only the old RSDP: it is used. Old after new: new still wins. */
	mbi_begin();
	mmap_tag(std_map, 6);
	tag(14, rsdp_v1, 20);
	mbi_end();
	CHECK(parse() == 0 && bi.rsdp_len == 20 && memcmp(bi.rsdp, rsdp_v1, 20) == 0);
	CHECK(!bi.efi && !bi.have_fb && bi.cmdline[0] == '\0');
	mbi_begin();
	mmap_tag(std_map, 6);
	tag(15, rsdp_v2, 36);
	tag(14, rsdp_v1, 20);
	mbi_end();
	CHECK(parse() == 0 && bi.rsdp_len == 36);
}

/* ---- 2. corruptions ---- */

static void test_total_size_lies(void)
{
	/* Bigger than the bytes we have: clamped, warned, still parsed. */
	build_good();
	put32(0, (uint32_t)img_len + 4096);
	CHECK(parse() == 0);
	EXPECT_MSG("total size");
	CHECK(bi.nr_mem == 6);

	/* Smaller than a header plus end tag: unusable. */
	build_good();
	put32(0, 8);
	CHECK(parse() == -1);
	EXPECT_MSG("total size");

	/* Smaller than the real structure: the loader tag (at 48) now runs
	 * past the end, and the memory map is cut off. */
	build_good();
	put32(0, 60);
	CHECK(parse() == -1);
	EXPECT_MSG("bad size");

	/* Fewer bytes available than even the header. */
	build_good();
	CHECK(parse_avail(12) == -1);
	EXPECT_MSG("missing");
}

static void test_bad_tag_sizes(void)
{
	/* A tag of size 0 before the memory map: parsing stops, no memory. */
	mbi_begin();
	size_t t = tag(1, "abc", 4);
	put32(t + 4, 0);
	img_len = t + 16;
	mmap_tag(std_map, 6);
	mbi_end();
	CHECK(parse() == -1);
	EXPECT_MSG("bad size 0");

	/* A tag of size 0 after the memory map: what came before is kept. */
	mbi_begin();
	mmap_tag(std_map, 6);
	t = tag(1, "abc", 4);
	put32(t + 4, 0);
	mbi_end();
	CHECK(parse() == 0 && bi.nr_mem == 6 && bi.cmdline[0] == '\0');
	EXPECT_MSG("bad size 0");

	/* A tag of size 7 (shorter than its own header). */
	mbi_begin();
	mmap_tag(std_map, 6);
	t = tag(2, "x", 2);
	put32(t + 4, 7);
	mbi_end();
	CHECK(parse() == 0);
	EXPECT_MSG("bad size 7");

	/* A tag running past the end of the structure. */
	mbi_begin();
	mmap_tag(std_map, 6);
	t = tag(1, "abc", 4);
	put32(t + 4, 4096);
	mbi_end();
	CHECK(parse() == 0);
	EXPECT_MSG("bad size 4096");
	CHECK(bi.cmdline[0] == '\0');

	/* A memory map tag that claims more entries than the structure holds. */
	mbi_begin();
	t = mmap_tag(std_map, 6);
	put32(t + 4, 8 + 8 + 24 * 100);
	mbi_end();
	CHECK(parse() == -1);
	EXPECT_MSG("bad size");
}

static void test_bad_mmap(void)
{
	/* Entry size 0: the map is ignored, so there is no usable memory. */
	mbi_begin();
	size_t t = mmap_tag(std_map, 6);
	put32(t + 8, 0);
	mbi_end();
	CHECK(parse() == -1);
	EXPECT_MSG("entry size 0");
	EXPECT_MSG("no usable memory");

	/* Entry size not a multiple of 8. */
	mbi_begin();
	t = mmap_tag(std_map, 6);
	put32(t + 8, 20);
	mbi_end();
	CHECK(parse() == -1);
	EXPECT_MSG("entry size 20");

	/* Entry size 32 (bigger than we know, multiple of 8): allowed, stride respected. */
	mbi_begin();
	{
		unsigned char p[8 + 32 * 2] = { 0 };
		uint32_t es = 32;
		uint64_t base = 0x100000, len = 0x1000000;
		uint32_t type = 1;

		memcpy(p, &es, 4);
		memcpy(p + 8 + 32, &base, 8);
		memcpy(p + 8 + 32 + 8, &len, 8);
		memcpy(p + 8 + 32 + 16, &type, 4);
		tag(6, p, sizeof(p));
	}
	mbi_end();
	CHECK(parse() == 0 && bi.nr_mem == 1 && bi.mem[0].base == 0x100000);

	/* Memory map tag too short for its header. */
	mbi_begin();
	mmap_tag(std_map, 6);
	tag(6, "\x18\0\0\0", 4);
	mbi_end();
	CHECK(parse() == 0);
	EXPECT_MSG("too short");

	/* No usable region at all. */
	struct mmap_entry reserved[2] = { { 0, 0x100000, 2, 0 }, { 0x100000, 0x100000, 4, 0 } };
	mbi_begin();
	mmap_tag(reserved, 2);
	mbi_end();
	CHECK(parse() == -1);
	EXPECT_MSG("no usable memory");

	/* No memory map at all. */
	mbi_begin();
	tag(1, "x", 2);
	mbi_end();
	CHECK(parse() == -1);
	EXPECT_MSG("no usable memory");

	/* Zero-length regions are dropped, unknown types become reserved,
	 * a wrapping region is refused. */
	struct mmap_entry odd[4] = {
		{ 0x100000, 0x100000, 1, 0 },
		{ 0x300000, 0, 1, 0 },
		{ 0x400000, 0x1000, 77, 0 },
		{ 0xfffffffffffff000ULL, 0x2000, 1, 0 },
	};
	mbi_begin();
	mmap_tag(odd, 4);
	mbi_end();
	CHECK(parse() == 0);
	CHECK(bi.nr_mem == 2 && bi.mem[1].type == MEM_RESERVED);
	EXPECT_MSG("wraps");

	/* More regions than BOOT_MAX_MEM_REGIONS. */
	static struct mmap_entry many[BOOT_MAX_MEM_REGIONS + 50];
	for (int i = 0; i < BOOT_MAX_MEM_REGIONS + 50; i++)
		many[i] = (struct mmap_entry){ 0x100000ULL * (uint64_t)(i + 1), 0x80000, 1, 0 };
	mbi_begin();
	mmap_tag(many, BOOT_MAX_MEM_REGIONS + 50);
	mbi_end();
	CHECK(parse() == 0);
	CHECK(bi.nr_mem == BOOT_MAX_MEM_REGIONS && bi.mem_truncated);
	EXPECT_MSG("more than");
}

/*
 * Sizes whose sum with an offset wraps a u32. The parser must compare what is
 * left with what it wants (size - off >= esize), never off + esize <= size.
 */
static void test_size_overflow(void)
{
	/* The fuzzer's case: a memory map entry size of 0xFFFFFFF8 (8-aligned,
	 * >= 24) in a 25-byte tag that ends the buffer. 16 + 0xFFFFFFF8 wraps
	 * to 8 <= 25, and the old loop read an entry from bytes 16..39 of a
	 * 25-byte tag. Now no entry is read, and the 9 bytes that are not a
	 * whole entry are reported. */
	mbi_begin();
	mmap_tag(std_map, 6);
	size_t t = tag(6, "\xf8\xff\xff\xff\0\0\0\0\xff", 9);
	img_len = t + 25;                 /* no padding, no end tag: the tag is the end */
	put32(0, (uint32_t)img_len);
	CHECK(parse() == 0 && bi.nr_mem == 6);
	EXPECT_MSG("entries of size 4294967288");

	/* The same entry size as the only memory map: no usable memory, -1. */
	mbi_begin();
	t = mmap_tag(std_map, 1);
	put32(t + 8, 0xFFFFFFF8u);
	mbi_end();
	CHECK(parse() == -1 && bi.nr_mem == 0);
	EXPECT_MSG("entries of size 4294967288");

	/* An entry size that fits once but whose second step would wrap. */
	mbi_begin();
	t = mmap_tag(std_map, 2);
	put32(t + 8, 0xFFFFFFE8u);
	mbi_end();
	CHECK(parse() == -1 && bi.nr_mem == 0);

	/* The crash input itself, as the fuzzer kept it: total size 0xFFF0FFF0
	 * (clamped to the 266 bytes there are), a first memory map with entry
	 * size 0 (ignored), and the wrapping one last. No usable memory. */
	FILE *f = fopen("tests/unit/fuzz/multiboot2/crashes/mmap-entry-size-wraps.bin", "rb");

	CHECK(f != NULL);
	if (f) {
		img_len = fread(img, 1, sizeof(img), f);
		fclose(f);
		CHECK(img_len == 266);
		CHECK(parse() == -1);
		EXPECT_MSG("total size");
		EXPECT_MSG("entries of size 4294967288");
	}

	/* Tag sizes near 4 GiB: refused as running past the end, whatever
	 * the offset (size + padding, or off + size, would wrap). */
	static const uint32_t huge[] = { 0xFFFFFFFFu, 0xFFFFFFF9u, 0xFFFFFFF8u, 0x80000000u };

	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		mbi_begin();
		mmap_tag(std_map, 6);
		t = tag(1, "abc", 4);
		put32(t + 4, huge[i]);
		mbi_end();
		CHECK(parse() == 0 && bi.nr_mem == 6 && bi.cmdline[0] == '\0');
		EXPECT_MSG("bad size");
	}

	/* The last tag's padding runs past the end: parsed, then "no end tag". */
	mbi_begin();
	mmap_tag(std_map, 6);
	t = tag(1, "abcde", 6);           /* size 14, padded to 16 */
	img_len = t + 14;
	put32(0, (uint32_t)img_len);
	CHECK(parse() == 0 && strcmp(bi.cmdline, "abcde") == 0);
	EXPECT_MSG("no end tag");
}

static void test_no_end_tag(void)
{
	mbi_begin();
	mmap_tag(std_map, 6);
	tag(1, "root=x", 7);
	put32(0, (uint32_t)img_len);   /* no end tag */
	CHECK(parse() == 0 && bi.nr_mem == 6 && strcmp(bi.cmdline, "root=x") == 0);
	EXPECT_MSG("no end tag");

	/* Trailing bytes after the last tag that are too few for a tag header. */
	mbi_begin();
	mmap_tag(std_map, 6);
	put32(0, (uint32_t)img_len + 4);
	img_len += 4;
	CHECK(parse() == 0);
	EXPECT_MSG("no end tag");
}

static void test_strings(void)
{
	/* A command line without its NUL: bounded by the tag, not the buffer. */
	mbi_begin();
	tag(1, "abcdefgh", 8);           /* exactly fills the tag, no NUL */
	mmap_tag(std_map, 6);
	mbi_end();
	/* The next tag's type (6) follows at once: an unbounded copy would append it. */
	CHECK(parse() == 0);
	CHECK_MSG(strcmp(bi.cmdline, "abcdefgh") == 0, "cmdline \"%s\"", bi.cmdline);

	/* The last tag's string without a NUL, at the very end of the buffer. */
	mbi_begin();
	mmap_tag(std_map, 6);
	tag(2, "GRUBGRUB", 8);
	put32(0, (uint32_t)img_len);     /* no end tag: the string touches the end */
	CHECK(parse() == 0 && strcmp(bi.loader, "GRUBGRUB") == 0);

	/* A command line longer than BOOT_CMDLINE_MAX is cut, still terminated. */
	static char longline[BOOT_CMDLINE_MAX + 100];
	memset(longline, 'a', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	mbi_begin();
	tag(1, longline, sizeof(longline));
	mmap_tag(std_map, 6);
	mbi_end();
	CHECK(parse() == 0 && strlen(bi.cmdline) == BOOT_CMDLINE_MAX - 1);
}

static void test_short_tags(void)
{
	/* ACPI RSDP shorter than 20 bytes. */
	mbi_begin();
	mmap_tag(std_map, 6);
	tag(14, "RSD PTR ", 8);
	mbi_end();
	CHECK(parse() == 0 && bi.rsdp_len == 0);
	EXPECT_MSG("RSDP tag too short");

	/* An RSDP longer than we keep is truncated to BOOT_RSDP_MAX. */
	static char big_rsdp[BOOT_RSDP_MAX + 40] = "RSD PTR ";
	mbi_begin();
	mmap_tag(std_map, 6);
	tag(15, big_rsdp, sizeof(big_rsdp));
	mbi_end();
	CHECK(parse() == 0 && bi.rsdp_len == BOOT_RSDP_MAX);

	/* Framebuffer tag too short for its fields, and RGB without colour info. */
	mbi_begin();
	mmap_tag(std_map, 6);
	fb_tag(24);
	mbi_end();
	CHECK(parse() == 0 && !bi.have_fb);
	EXPECT_MSG("framebuffer tag too short");
	mbi_begin();
	mmap_tag(std_map, 6);
	fb_tag(32);
	mbi_end();
	CHECK(parse() == 0 && !bi.have_fb);
	EXPECT_MSG("RGB framebuffer tag too short");

	/* Framebuffer of width 0: not usable. */
	mbi_begin();
	mmap_tag(std_map, 6);
	size_t t = fb_tag(38);
	put32(t + 20, 0);
	mbi_end();
	CHECK(parse() == 0 && !bi.have_fb);
	EXPECT_MSG("not usable");
}

/* ---- 3. mutation fuzz ---- */

static uint32_t fuzz_state = 12345;

/* xorshift32: deterministic, so a failure reproduces. */
static uint32_t fuzz_rand(void)
{
	fuzz_state ^= fuzz_state << 13;
	fuzz_state ^= fuzz_state >> 17;
	fuzz_state ^= fuzz_state << 5;
	return fuzz_state;
}

static void test_fuzz(void)
{
	int failures_before = host_check_failures;
	unsigned int ok = 0, bad = 0;

	for (int iter = 0; iter < 20000; iter++) {
		build_good();
		int flips = 1 + (int)(fuzz_rand() % 8);

		for (int i = 0; i < flips; i++) {
			size_t at = fuzz_rand() % img_len;

			/* Mostly hit size fields (offsets ≡ 4 mod 8) and the total. */
			if (fuzz_rand() % 2)
				at = (at & ~(size_t)7) + 4;
			img[at] = (unsigned char)fuzz_rand();
		}
		size_t avail = img_len - (fuzz_rand() % 4 == 0 ? fuzz_rand() % img_len : 0);
		int r = parse_avail(avail);

		if (r == 0) {
			ok++;
			CHECK(bi.nr_mem > 0 && bi.nr_mem <= BOOT_MAX_MEM_REGIONS);
			CHECK(strlen(bi.cmdline) < BOOT_CMDLINE_MAX);
			CHECK(bi.rsdp_len <= BOOT_RSDP_MAX);
		} else {
			bad++;
			CHECK(r == -1);
		}
		if (host_check_failures != failures_before) {
			printf("fuzz: first failure at iteration %d\n", iter);
			break;
		}
	}
	printf("fuzz: %u parsed, %u rejected, no crash\n", ok, bad);
}

int main(void)
{
	test_good();
	test_total_size_lies();
	test_bad_tag_sizes();
	test_bad_mmap();
	test_size_overflow();
	test_no_end_tag();
	test_strings();
	test_short_tags();
	test_fuzz();
	return host_test_result("test_multiboot2");
}
