/*
 * printk.h — the kernel log.
 *
 * Every line goes to the consoles (serial first) and to the in-memory ring
 * shown by `dmesg`, prefixed with "[seconds.micros Cn] ". Lines from different
 * CPUs never interleave within a line. Safe from any context, including NMI and
 * exception handlers (those never wait forever for the console lock).
 */
#ifndef GRACE_PRINTK_H
#define GRACE_PRINTK_H

#include <grace/compiler.h>
#include <grace/types.h>
#include <stdarg.h>

int printk(const char *fmt, ...) __printf(1, 2);
int vprintk(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#define pr_info(fmt, ...)  printk(fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...)  printk("WARNING: " fmt, ##__VA_ARGS__)
#define pr_err(fmt, ...)   printk("error: " fmt, ##__VA_ARGS__)

/* A console is a sink for finished text (serial, VGA, framebuffer). */
struct console {
	const char *name;
	void (*write)(const char *s, size_t len);
	struct console *next;
};
void register_console(struct console *con);

/*
 * Raw text for the shell (prompt, echo, command output that is not a log
 * line): written to every console under the console lock, without the
 * "[time Cn] " prefix. console_write() also appends it to the log ring;
 * console_write_nolog() does not (dmesg uses it to print the ring itself).
 */
void console_write(const char *s, size_t n);
void console_write_nolog(const char *s, size_t n);

/* The in-memory log: copy out up to `size` bytes starting `skip` bytes into it. */
size_t log_buf_read(char *dst, size_t size, size_t skip);
size_t log_buf_len(void);

/* Panic and oops paths take the console lock by force after this. */
void printk_enter_emergency(void);

#endif
