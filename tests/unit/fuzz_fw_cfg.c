// FUZZ_SOURCES: drivers/fw_cfg_dir.c
/*
 * fuzz_fw_cfg.c — libFuzzer target for the fw_cfg directory reader
 * (drivers/fw_cfg_dir.c), driven through a model of QEMU's device.
 *
 * Input: byte 0 chooses the caller's buffer size (0..255, or 4095 as
 * params.c asks), byte 1 the name looked for ("opt/grace/cmdline" mostly,
 * else another file of the seed directory or a 56-byte name without a NUL);
 * the rest is the directory item 0x0019 as the device serves it (be32 count,
 * then 64-byte entries), and whatever follows the last whole entry the count
 * covers is the content of every file item. Like the device, every item
 * reads as zeros past its end and selecting an item restarts it.
 *
 * Checked against an independent reading of the same bytes: the result is
 * the size field of the first entry, among the first min(count, 4096), whose
 * name (cut at 56 bytes) matches, or -1; exactly min(size, buffer) bytes of
 * the item that entry selects were copied (which may be the directory
 * itself: crashes/entry-selects-the-directory.bin), none past the buffer (an exact-size heap copy with
 * ASan); and the reader never asks for more than the directory walk needs
 * (4 + 64 per entry looked at + the copy), so a lying count cannot make it
 * spin. Seeds: directories of QEMU 7.2's q35 and pc machines as its
 * fw_cfg_add_file trace lists them, with the args: lines of the scenario
 * files as opt/grace/cmdline (tests/unit/fuzz/fw_cfg/seeds/).
 */
#include <grace/fw_cfg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_fw_cfg: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

#define DIR_KEY   0x0019
#define ENTRY_LEN 64
#define NAME_LEN  56
#define MAX_FILES 4096

struct device {
	const uint8_t *dir;     /* item 0x0019 */
	size_t dir_len;
	const uint8_t *file;    /* every other item */
	size_t file_len;
	uint16_t key;
	size_t off;
	size_t bytes_read;
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Byte `i` of the directory as the device serves it (zeros past the end). */
static uint8_t dir_byte(const struct device *d, size_t i)
{
	return i < d->dir_len ? d->dir[i] : 0;
}

static void dev_select(void *ctx, uint16_t key)
{
	struct device *d = ctx;

	d->key = key;
	d->off = 0;
}

static void dev_read(void *ctx, void *buf, size_t len)
{
	struct device *d = ctx;
	uint8_t *p = buf;
	const uint8_t *item = d->key == DIR_KEY ? d->dir : d->file;
	size_t item_len = d->key == DIR_KEY ? d->dir_len : d->file_len;

	if (!len)
		return; /* the copy of 0 bytes into a 0-byte (NULL) buffer */
	size_t have = d->off < item_len ? item_len - d->off : 0;
	size_t n = len < have ? len : have;

	if (n)
		memcpy(p, item + d->off, n);
	memset(p + n, 0, len - n);
	d->off += len;
	d->bytes_read += len;
}

static const char *const names[] = {
	"opt/grace/cmdline", "etc/e820", "bootorder", "etc/acpi/rsdp", "",
	"opt/grace/cmdline/", "genroms/kvmvapic.bin",
};
static char long_name[NAME_LEN + 1];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t bufsize = data[0] == 0xff ? 4095 : data[0];
	const char *name;

	if (data[1] < 0xc0) {
		name = names[0];
	} else if (data[1] < 0xff) {
		name = names[data[1] % (sizeof(names) / sizeof(names[0]))];
	} else {
		memset(long_name, 'a', NAME_LEN); /* matches only an unterminated name */
		name = long_name;
	}

	struct device d = { .dir = data + 2, .dir_len = size - 2 };
	uint8_t hdr[4] = { dir_byte(&d, 0), dir_byte(&d, 1), dir_byte(&d, 2), dir_byte(&d, 3) };
	uint32_t count = be32(hdr);
	size_t walked = count > MAX_FILES ? MAX_FILES : count;
	size_t whole = d.dir_len >= 4 ? (d.dir_len - 4) / ENTRY_LEN : 0;
	size_t end = 4 + ENTRY_LEN * (walked < whole ? walked : whole);

	if (d.dir_len > end) {
		d.file = d.dir + end;
		d.file_len = d.dir_len - end;
	}

	/* The reference: which entry, what size, which item it selects. */
	long want = -1;
	size_t looked = walked;
	uint16_t want_key = 0;

	for (size_t i = 0; i < walked; i++) {
		char fname[NAME_LEN + 1];
		size_t at = 4 + ENTRY_LEN * i;

		if (at >= d.dir_len && name[0])
			break; /* only zeros from here: only "" could match */
		for (size_t k = 0; k < NAME_LEN; k++)
			fname[k] = (char)dir_byte(&d, at + 8 + k);
		fname[NAME_LEN] = '\0';
		if (!strcmp(fname, name)) {
			uint8_t sz[4] = { dir_byte(&d, at), dir_byte(&d, at + 1),
					  dir_byte(&d, at + 2), dir_byte(&d, at + 3) };

			want = (long)be32(sz);
			want_key = (uint16_t)(dir_byte(&d, at + 4) << 8 | dir_byte(&d, at + 5));
			looked = i + 1;
			break;
		}
	}

	uint8_t *buf = malloc(bufsize ? bufsize : 1);
	const struct fw_cfg_io io = { .select = dev_select, .read = dev_read, .ctx = &d };

	memset(buf, 0xa5, bufsize);
	long got = fw_cfg_dir_find(&io, name, bufsize ? buf : NULL, bufsize);

	REQUIRE(got == want);
	size_t copied = got < 0 ? 0 : ((size_t)got < bufsize ? (size_t)got : bufsize);

	REQUIRE(d.bytes_read == 4 + ENTRY_LEN * looked + copied);
	/* An entry may select any item, the directory itself included. */
	const uint8_t *item = want_key == DIR_KEY ? d.dir : d.file;
	size_t item_len = want_key == DIR_KEY ? d.dir_len : d.file_len;

	for (size_t i = 0; i < copied; i++)
		REQUIRE(buf[i] == (i < item_len ? item[i] : 0));
	for (size_t i = copied; i < bufsize; i++)
		REQUIRE(buf[i] == 0xa5); /* nothing written past the file */
	free(buf);
	return 0;
}
