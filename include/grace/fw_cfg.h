/*
 * fw_cfg.h — QEMU's firmware configuration device (drivers/fw_cfg.c).
 *
 * QEMU passes named blobs ("files") to the guest; Grace reads one of them,
 * `opt/grace/cmdline`, to get kernel arguments without rebuilding the ISO.
 * drivers/fw_cfg.c is the I/O-port access, drivers/fw_cfg_dir.c the pure
 * directory walk (host-fuzzed through struct fw_cfg_io).
 */
#ifndef GRACE_FW_CFG_H
#define GRACE_FW_CFG_H

#include <grace/types.h>

/* True when the device answers with the "QEMU" signature. */
bool fw_cfg_present(void);

/*
 * Read the file `name` into buf (at most size bytes, not NUL-terminated).
 * Returns the file's full size (which may be larger than size: only the
 * first `size` bytes were read), or -1 when there is no device or no such file.
 */
long fw_cfg_read_file(const char *name, void *buf, size_t size);

/* How fw_cfg_dir_find() reaches a device: select an item (its read offset
 * goes back to 0), read the next bytes of it (zeros past its end). */
struct fw_cfg_io {
	void (*select)(void *ctx, u16 key);
	void (*read)(void *ctx, void *buf, size_t len);
	void *ctx;
};

/* fw_cfg_read_file() without the signature check, over any device. */
long fw_cfg_dir_find(const struct fw_cfg_io *io, const char *name, void *buf, size_t size);

#endif
