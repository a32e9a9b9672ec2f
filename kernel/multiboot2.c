/*
 * multiboot2.c — parse the multiboot2 information structure.
 *
 * Layout (Multiboot2 spec §3.6): u32 total_size, u32 reserved, then tags, each
 * u32 type, u32 size, 8-byte aligned, ending with a type-0 tag of size 8.
 * The loader is trusted no further than the bytes: total_size is clamped to
 * what the caller can read, every tag must fit inside it, and a tag too short
 * for its fields is skipped with a warning. Only "no usable memory map" makes
 * the result unusable.
 *
 * Every bound is checked as "what is left >= what is wanted" (`size - off >=
 * esize`), never as "off + wanted <= size": the sizes are the loader's u32s,
 * and a sum of two of them can wrap past 2^32 and pass the check (a memory
 * map entry size of 0xFFFFFFF8 did exactly that).
 *
 * Pure logic (no kernel state): unit-tested and fuzzed on the host by
 * tests/unit/test_multiboot2.c and tests/unit/fuzz_multiboot2.c; every kept
 * fuzz finding in tests/unit/fuzz/multiboot2/crashes/ is replayed by make test.
 */
#include <grace/bootinfo.h>
#include <grace/printk.h>
#include <grace/string.h>

enum {
	MB2_TAG_END = 0,
	MB2_TAG_CMDLINE = 1,
	MB2_TAG_LOADER = 2,
	MB2_TAG_MMAP = 6,
	MB2_TAG_FRAMEBUFFER = 8,
	MB2_TAG_EFI32 = 11,
	MB2_TAG_EFI64 = 12,
	MB2_TAG_ACPI_OLD = 14,
	MB2_TAG_ACPI_NEW = 15,
	MB2_TAG_EFI_MMAP = 17,
};

static u32 rd32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }
static u64 rd64(const u8 *p) { u64 v; memcpy(&v, p, 8); return v; }

static void complain(void (*warn)(const char *), struct boot_info *bi, const char *fmt, ...)
{
	char msg[128];
	va_list ap;

	bi->nr_warnings++;
	if (!warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	warn(msg);
}

static void copy_string(char *dst, size_t dsize, const u8 *src, size_t avail)
{
	size_t n = strnlen((const char *)src, avail);

	if (n >= dsize)
		n = dsize - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void parse_mmap(const u8 *tag, u32 size, struct boot_info *bi, void (*warn)(const char *))
{
	if (size < 16) {
		complain(warn, bi, "multiboot2: memory map tag too short (%u bytes), ignored", size);
		return;
	}
	u32 esize = rd32(tag + 8);

	if (esize < 24 || esize % 8) {
		complain(warn, bi, "multiboot2: memory map entry size %u is invalid, ignored", esize);
		return;
	}
	if ((size - 16) % esize)
		complain(warn, bi, "multiboot2: memory map tag of %u bytes is not whole entries of "
			 "size %u; the last %u bytes are ignored", size, esize, (size - 16) % esize);
	/* off <= size holds throughout, so size - off cannot wrap. */
	for (u32 off = 16; size - off >= esize; off += esize) {
		const u8 *e = tag + off;
		u64 base = rd64(e), len = rd64(e + 8);
		u32 type = rd32(e + 16);

		if (len == 0)
			continue;
		if (base + len < base) {
			complain(warn, bi, "multiboot2: memory region %#llx+%#llx wraps, ignored",
				 (unsigned long long)base, (unsigned long long)len);
			continue;
		}
		if (bi->nr_mem == BOOT_MAX_MEM_REGIONS) {
			bi->mem_truncated = true;
			complain(warn, bi, "multiboot2: more than %d memory regions; the rest are ignored",
				 BOOT_MAX_MEM_REGIONS);
			return;
		}
		/* Unknown types are treated as reserved. */
		if (type < MEM_USABLE || type > MEM_BAD)
			type = MEM_RESERVED;
		bi->mem[bi->nr_mem++] = (struct mem_region){ base, len, type };
	}
}

static void parse_fb(const u8 *tag, u32 size, struct boot_info *bi, void (*warn)(const char *))
{
	if (size < 31) {
		complain(warn, bi, "multiboot2: framebuffer tag too short (%u bytes), ignored", size);
		return;
	}
	struct boot_fb *fb = &bi->fb;

	fb->addr = rd64(tag + 8);
	fb->pitch = rd32(tag + 16);
	fb->width = rd32(tag + 20);
	fb->height = rd32(tag + 24);
	fb->bpp = tag[28];
	fb->type = tag[29];
	if (fb->type == 1) {
		if (size < 38) {
			complain(warn, bi, "multiboot2: RGB framebuffer tag too short, ignored");
			return;
		}
		fb->red_pos = tag[32];
		fb->red_size = tag[33];
		fb->green_pos = tag[34];
		fb->green_size = tag[35];
		fb->blue_pos = tag[36];
		fb->blue_size = tag[37];
	}
	if (!fb->width || !fb->height || !fb->pitch || !fb->addr ||
	    (u64)fb->pitch * fb->height > (1ULL << 31)) {
		complain(warn, bi, "multiboot2: framebuffer %ux%u pitch %u at %#llx is not usable, ignored",
			 fb->width, fb->height, fb->pitch, (unsigned long long)fb->addr);
		return;
	}
	bi->have_fb = true;
}

int multiboot2_parse(const void *mbi, size_t avail, struct boot_info *bi,
		     void (*warn)(const char *msg))
{
	const u8 *base = mbi;

	memset(bi, 0, sizeof(*bi));
	if (!mbi || avail < 16) {
		complain(warn, bi, "multiboot2: information structure missing");
		return -1;
	}
	u32 total = rd32(base);

	if (total < 16 || total > avail) {
		complain(warn, bi, "multiboot2: total size %u is not believable (have %zu bytes)",
			 total, avail);
		if (total < 16)
			return -1;
		total = (u32)avail;
	}
	bi->mbi_size = total;

	bool ended = false;
	u32 off = 8;

	/* off <= total holds throughout, so total - off cannot wrap. */
	while (total - off >= 8) {
		const u8 *tag = base + off;
		u32 type = rd32(tag), size = rd32(tag + 4);

		if (size < 8 || size > total - off) {
			complain(warn, bi, "multiboot2: tag %u at offset %u has bad size %u; stopping",
				 type, off, size);
			break;
		}
		switch (type) {
		case MB2_TAG_END:
			ended = true;
			break;
		case MB2_TAG_CMDLINE:
			copy_string(bi->cmdline, sizeof(bi->cmdline), tag + 8, size - 8);
			break;
		case MB2_TAG_LOADER:
			copy_string(bi->loader, sizeof(bi->loader), tag + 8, size - 8);
			break;
		case MB2_TAG_MMAP:
			parse_mmap(tag, size, bi, warn);
			break;
		case MB2_TAG_FRAMEBUFFER:
			parse_fb(tag, size, bi, warn);
			break;
		case MB2_TAG_EFI32:
		case MB2_TAG_EFI64:
		case MB2_TAG_EFI_MMAP:
			bi->efi = true;
			break;
		case MB2_TAG_ACPI_OLD:
		case MB2_TAG_ACPI_NEW: {
			u32 len = size - 8;

			/* Prefer the v2 RSDP when both are given. */
			if (type == MB2_TAG_ACPI_OLD && bi->rsdp_len)
				break;
			if (len < 20) {
				complain(warn, bi, "multiboot2: ACPI RSDP tag too short (%u bytes), ignored", len);
				break;
			}
			if (len > BOOT_RSDP_MAX)
				len = BOOT_RSDP_MAX;
			memcpy(bi->rsdp, tag + 8, len);
			bi->rsdp_len = len;
			break;
		}
		default:
			break; /* tags we do not use */
		}
		if (ended)
			break;
		/* The padding to 8 may run past the end only for the last tag. */
		u32 step = size + (-size & 7u);

		if (step < size || step > total - off)
			break;
		off += step;
	}
	if (!ended)
		complain(warn, bi, "multiboot2: no end tag; using what was parsed");

	bool usable = false;

	for (unsigned int i = 0; i < bi->nr_mem; i++)
		usable |= bi->mem[i].type == MEM_USABLE;
	if (!usable) {
		complain(warn, bi, "multiboot2: no usable memory in the memory map");
		return -1;
	}
	return 0;
}
