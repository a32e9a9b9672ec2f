/*
 * param.h — the typed kernel-parameter registry.
 *
 * A subsystem declares a variable and registers it under "subsys.name":
 *
 *     static int hz = 100;
 *     param_int("timer.hz", hz, 10, 1000, "timer ticks per second");
 *
 * The command line (GRUB's line, then fw_cfg opt/grace/cmdline) is applied
 * once, early in kmain. Unknown names and out-of-range or malformed values are
 * reported by name and ignored; the variable keeps its default. `params` lists
 * every entry with its current value and description.
 */
#ifndef GRACE_PARAM_H
#define GRACE_PARAM_H

#include <grace/compiler.h>
#include <grace/types.h>

enum param_type { PARAM_INT, PARAM_BOOL, PARAM_STRING };

struct kernel_param {
	const char *name;
	const char *desc;
	enum param_type type;
	void *var;            /* int*, bool*, or char[str_size] */
	long long min, max;   /* PARAM_INT only, inclusive */
	size_t str_size;      /* PARAM_STRING only: buffer size incl. NUL */
};

#define __PARAM(id, n, t, v, lo, hi, sz, d) \
	static const struct kernel_param __param_##id __used \
	__section(".grace_params") __aligned(8) = { \
		.name = (n), .desc = (d), .type = (t), .var = &(v), \
		.min = (lo), .max = (hi), .str_size = (sz) }

#define param_int(name, var, lo, hi, desc) \
	__PARAM(var, name, PARAM_INT, var, lo, hi, 0, desc)
#define param_bool(name, var, desc) \
	__PARAM(var, name, PARAM_BOOL, var, 0, 1, 0, desc)
#define param_string(name, var, desc) \
	__PARAM(var, name, PARAM_STRING, var, 0, 0, sizeof(var), desc)

/* Apply a whole command line; reports problems with printk. */
void params_apply_cmdline(const char *cmdline);
const struct kernel_param *param_find(const char *name);
/*
 * Set one parameter from text (NULL: the bare name was given). Returns 0, or
 * -1 after printing why the value was refused (the variable is unchanged).
 * A string that does not fit is truncated, reported, and returns 0.
 */
int param_set(const struct kernel_param *p, const char *value);

/* kernel/param_apply.c: the pure text-to-value logic, over any table. */
const struct kernel_param *param_lookup(const struct kernel_param *first,
					const struct kernel_param *end, const char *name);
/* Apply every token of `line` to the table; value_buf must be at least as
 * large as the line (then no value is cut). */
void param_apply_line(const struct kernel_param *first, const struct kernel_param *end,
		      const char *line, char *value_buf, size_t value_size);
/* The current value as text ("42", "true", "\"text\"", cut with "..."). */
void param_format_value(const struct kernel_param *p, char *buf, size_t size);
/*
 * dst = grub + " " + the file's first file_len bytes (file may be NULL: no
 * file). file[file_len] must be writable: it is set to NUL, and newlines, CRs
 * and tabs in the file become blanks. Returns false when dst was too small
 * (dst is then cut, still NUL-terminated).
 */
bool cmdline_assemble(char *dst, size_t size, const char *grub, char *file, size_t file_len);

/* The full command line as assembled at boot (GRUB + fw_cfg). */
#define COMMAND_LINE_SIZE 4096
extern char saved_command_line[COMMAND_LINE_SIZE];
/* Assemble saved_command_line (GRUB's line, then fw_cfg opt/grace/cmdline,
 * so fw_cfg wins for a parameter given twice) and apply it. Once, early. */
void cmdline_init(void);

#endif
