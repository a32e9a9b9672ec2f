// FUZZ_SOURCES: kernel/multiboot2.c
/*
 * fuzz_multiboot2.c — libFuzzer target for multiboot2_parse() (make fuzz).
 *
 * The input is a multiboot2 information structure; the seeds in
 * tests/unit/fixtures/multiboot2/ are the structures GRUB handed Grace under
 * QEMU q35 with BIOS and with UEFI. The input is copied to an exact-size,
 * 8-byte-aligned heap buffer so AddressSanitizer sees any read past it.
 * Besides crashes, the target aborts when the result breaks an invariant of
 * struct boot_info or a message says "WARNING:".
 */
#include <grace/bootinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void warn(const char *msg)
{
	if (strstr(msg, "WARNING:")) {
		fprintf(stderr, "bad message: %s\n", msg);
		abort();
	}
}

static struct boot_info bi;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *mbi = malloc(size ? size : 1);

	memcpy(mbi, data, size);
	int rc = multiboot2_parse(size ? mbi : NULL, size, &bi, warn);
	bool ok = bi.nr_mem <= BOOT_MAX_MEM_REGIONS && bi.rsdp_len <= BOOT_RSDP_MAX &&
		  (bi.rsdp_len == 0 || bi.rsdp_len >= 20) && bi.mbi_size <= size &&
		  memchr(bi.cmdline, 0, sizeof(bi.cmdline)) && memchr(bi.loader, 0, sizeof(bi.loader));

	for (unsigned int i = 0; i < bi.nr_mem && i < BOOT_MAX_MEM_REGIONS; i++) {
		ok &= bi.mem[i].len != 0 && bi.mem[i].base + bi.mem[i].len > bi.mem[i].base;
		ok &= bi.mem[i].type >= MEM_USABLE && bi.mem[i].type <= MEM_BAD;
	}
	if (rc == 0) {
		bool usable = false;

		for (unsigned int i = 0; i < bi.nr_mem; i++)
			usable |= bi.mem[i].type == MEM_USABLE;
		ok &= usable;
	}
	if (!ok) {
		fprintf(stderr, "struct boot_info invariant broken\n");
		abort();
	}
	free(mbi);
	return 0;
}
