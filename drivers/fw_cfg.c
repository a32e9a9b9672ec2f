/*
 * fw_cfg.c — reading files from QEMU's fw_cfg device over I/O ports.
 *
 * Interface (QEMU docs/specs/fw_cfg.txt, "Legacy I/O port interface"): write a
 * 16-bit selector to port 0x510, then read the item byte by byte from port
 * 0x511; each read advances an offset that selecting resets to 0.
 *   selector 0x0000  signature, the 4 bytes "QEMU"
 *   selector 0x0019  file directory: u32 count, then `count` entries of
 *                    { u32 size; u16 select; u16 reserved; char name[56]; }
 *                    with every integer big-endian.
 * Reading past an item's end returns 0s, so a lying directory cannot make us
 * read out of bounds; every copy here is bounded by the caller's size.
 * Test: scenarios pass their arguments this way (every tests/scenarios file);
 * params-bad.scn sends a long, odd command line.
 */
#include <asm/io.h>
#include <grace/fw_cfg.h>
#include <grace/string.h>

#define FW_CFG_PORT_SEL  0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_FILE_DIR  0x0019
#define FW_CFG_NAME_LEN  56
#define FW_CFG_MAX_FILES 4096 /* sanity bound on the directory's count */

static void fw_cfg_select(u16 key)
{
	outw(FW_CFG_PORT_SEL, key);
}

static void fw_cfg_read(void *buf, size_t len)
{
	u8 *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = inb(FW_CFG_PORT_DATA);
}

static u32 be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

bool fw_cfg_present(void)
{
	char sig[4];

	fw_cfg_select(FW_CFG_SIGNATURE);
	fw_cfg_read(sig, sizeof(sig));
	return memcmp(sig, "QEMU", 4) == 0;
}

long fw_cfg_read_file(const char *name, void *buf, size_t size)
{
	u8 hdr[4];
	u32 count;

	if (!fw_cfg_present())
		return -1;
	fw_cfg_select(FW_CFG_FILE_DIR);
	fw_cfg_read(hdr, sizeof(hdr));
	count = be32(hdr);
	if (count > FW_CFG_MAX_FILES)
		count = FW_CFG_MAX_FILES;

	for (u32 i = 0; i < count; i++) {
		u8 ent[8];
		char fname[FW_CFG_NAME_LEN + 1];

		fw_cfg_read(ent, sizeof(ent));
		fw_cfg_read(fname, FW_CFG_NAME_LEN);
		fname[FW_CFG_NAME_LEN] = '\0'; /* the device need not terminate it */
		if (strcmp(fname, name) != 0)
			continue;

		u32 fsize = be32(ent);
		u16 select = (u16)(ent[4] << 8 | ent[5]);

		fw_cfg_select(select);
		fw_cfg_read(buf, fsize < size ? fsize : size);
		return (long)fsize;
	}
	return -1;
}
