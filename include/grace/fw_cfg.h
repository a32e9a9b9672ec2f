/*
 * fw_cfg.h — QEMU's firmware configuration device (drivers/fw_cfg.c).
 *
 * QEMU passes named blobs ("files") to the guest; Grace reads one of them,
 * `opt/grace/cmdline`, to get kernel arguments without rebuilding the ISO.
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

#endif
