/*
 * fw_cfg.c — QEMU's fw_cfg device over I/O ports.
 *
 * Interface (QEMU docs/specs/fw_cfg.txt, "Legacy I/O port interface"): write a
 * 16-bit selector to port 0x510, then read the item byte by byte from port
 * 0x511; each read advances an offset that selecting resets to 0, and reading
 * past an item's end returns 0s.
 *   selector 0x0000  signature, the 4 bytes "QEMU"
 *   selector 0x0019  file directory, read by drivers/fw_cfg_dir.c
 * This file is only the ports; the directory walk, and its bounds, are pure
 * logic in fw_cfg_dir.c (fuzzed on the host by tests/unit/fuzz_fw_cfg.c).
 * Test: scenarios pass their arguments this way (every tests/scenarios file);
 * params-bad.scn sends a long, odd command line.
 */
#include <asm/io.h>
#include <grace/fw_cfg.h>
#include <grace/string.h>

#define FW_CFG_PORT_SEL  0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_SIGNATURE 0x0000

static void fw_cfg_select(void *ctx, u16 key)
{
	outw(FW_CFG_PORT_SEL, key);
}

static void fw_cfg_read(void *ctx, void *buf, size_t len)
{
	u8 *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = inb(FW_CFG_PORT_DATA);
}

static const struct fw_cfg_io fw_cfg_ports = { .select = fw_cfg_select, .read = fw_cfg_read };

bool fw_cfg_present(void)
{
	char sig[4];

	fw_cfg_select(NULL, FW_CFG_SIGNATURE);
	fw_cfg_read(NULL, sig, sizeof(sig));
	return memcmp(sig, "QEMU", 4) == 0;
}

long fw_cfg_read_file(const char *name, void *buf, size_t size)
{
	if (!fw_cfg_present())
		return -1;
	return fw_cfg_dir_find(&fw_cfg_ports, name, buf, size);
}
