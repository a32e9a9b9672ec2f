/*
 * fw_cfg_dir.c — finding a file in QEMU's fw_cfg file directory.
 *
 * The directory is item 0x0019 (QEMU docs/specs/fw_cfg.txt, "FW_CFG_FILE_DIR"):
 * a big-endian u32 count, then `count` entries of
 *     { be32 size; be16 select; u16 reserved; char name[56]; }
 * The device is trusted no further than its bytes: the count is capped at
 * FW_CFG_MAX_FILES (the device returns zeros past an item's end, so a lying
 * count costs reads, never an out-of-bounds access), a name need not be
 * NUL-terminated (it is cut at 56 bytes), and the copy into the caller's
 * buffer is bounded by the caller's size whatever the entry's size says.
 *
 * Pure logic over io->select / io->read; drivers/fw_cfg.c supplies the I/O
 * ports. Tests: tests/unit/fuzz_fw_cfg.c (a model device fed from fuzzer
 * bytes, checked against an independent reading of the same directory;
 * replayed by make test), and every scenario, whose arguments arrive this way.
 */
#include <grace/fw_cfg.h>
#include <grace/string.h>

#define FW_CFG_FILE_DIR  0x0019
#define FW_CFG_NAME_LEN  56
#define FW_CFG_MAX_FILES 4096 /* sanity bound on the directory's count */

static u32 be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

long fw_cfg_dir_find(const struct fw_cfg_io *io, const char *name, void *buf, size_t size)
{
	u8 hdr[4];
	u32 count;

	io->select(io->ctx, FW_CFG_FILE_DIR);
	io->read(io->ctx, hdr, sizeof(hdr));
	count = be32(hdr);
	if (count > FW_CFG_MAX_FILES)
		count = FW_CFG_MAX_FILES;

	for (u32 i = 0; i < count; i++) {
		u8 ent[8];
		char fname[FW_CFG_NAME_LEN + 1];

		io->read(io->ctx, ent, sizeof(ent));
		io->read(io->ctx, fname, FW_CFG_NAME_LEN);
		fname[FW_CFG_NAME_LEN] = '\0'; /* the device need not terminate it */
		if (strcmp(fname, name) != 0)
			continue;

		u32 fsize = be32(ent);
		u16 select = (u16)(ent[4] << 8 | ent[5]);

		io->select(io->ctx, select);
		io->read(io->ctx, buf, fsize < size ? fsize : size);
		return (long)fsize;
	}
	return -1;
}
