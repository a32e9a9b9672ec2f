/*
 * bootinfo.h — what the bootloader told us, parsed once from multiboot2.
 *
 * kernel/multiboot2.c fills `struct boot_info` from the multiboot2 information
 * structure, checking every tag's size against the structure's total size. A
 * missing or malformed tag leaves its field empty (with a message) instead of
 * being trusted; only a missing memory map is fatal. The parser is pure logic
 * and is unit-tested on the host (tests/unit/test_multiboot2.c).
 */
#ifndef GRACE_BOOTINFO_H
#define GRACE_BOOTINFO_H

#include <grace/types.h>

#define MULTIBOOT2_BOOTLOADER_MAGIC 0x36d76289

enum mem_type {
	MEM_USABLE = 1,
	MEM_RESERVED = 2,
	MEM_ACPI_RECLAIMABLE = 3,
	MEM_ACPI_NVS = 4,
	MEM_BAD = 5,
};

struct mem_region {
	u64 base;
	u64 len;
	u32 type; /* enum mem_type */
};

#define BOOT_MAX_MEM_REGIONS 128
#define BOOT_CMDLINE_MAX 1024
#define BOOT_RSDP_MAX 64

struct boot_fb {
	u64 addr;      /* physical */
	u32 pitch, width, height;
	u8 bpp;
	u8 type;       /* 0 indexed, 1 RGB, 2 EGA text */
	u8 red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
};

struct boot_info {
	char cmdline[BOOT_CMDLINE_MAX];
	char loader[64];
	struct mem_region mem[BOOT_MAX_MEM_REGIONS];
	unsigned int nr_mem;
	bool mem_truncated;        /* more regions than fit */
	u8 rsdp[BOOT_RSDP_MAX];    /* a copy of the RSDP from tag 15 (v2) or 14 (v1) */
	u32 rsdp_len;              /* 0: none given */
	bool have_fb;
	struct boot_fb fb;
	bool efi;                  /* booted through UEFI (EFI system table tag seen) */
	u64 mbi_phys, mbi_size;    /* where the multiboot2 info itself lives */
	unsigned int nr_warnings;  /* malformed tags skipped */
};

/*
 * Parse the multiboot2 info at `mbi` (a readable pointer) whose total size
 * the caller has already read. `warn` (may be NULL) receives one message per
 * problem. Returns 0 on success, -1 when the structure is unusable.
 */
int multiboot2_parse(const void *mbi, size_t avail, struct boot_info *bi,
		     void (*warn)(const char *msg));

extern struct boot_info boot_info;

#endif
