/*
 * host_shim.c — printk, panic and __warn for kernel code built on the host.
 *
 * Kernel sources named in a unit test's `// UNIT_SOURCES:` line call printk,
 * panic and WARN_ON as in the kernel; here they print to stdout. panic()
 * aborts, so a test that reaches one fails with the sanitizer's stack trace.
 * Every definition is weak: a test may define its own printk to capture
 * output. Used by every tests/unit/test_*.c (docs/testing.md).
 */
#include "host_shim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int host_warn_count;
int host_check_failures;

/* Same prototypes as include/grace/printk.h and panic.h; declared here
 * rather than included so the shim does not depend on kernel headers. */
int printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintk(const char *fmt, va_list ap);
__attribute__((noreturn)) void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void __warn(const char *file, int line, const char *cond);

__attribute__((weak)) int vprintk(const char *fmt, va_list ap)
{
	int n = vprintf(fmt, ap);

	fflush(stdout);
	return n;
}

__attribute__((weak)) int printk(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintk(fmt, ap);
	va_end(ap);
	return n;
}

__attribute__((weak, noreturn)) void panic(const char *fmt, ...)
{
	va_list ap;

	printf("Kernel panic - not syncing: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	abort();
}

__attribute__((weak)) void __warn(const char *file, int line, const char *cond)
{
	host_warn_count++;
	printf("WARNING: %s:%d: %s\n", file, line, cond);
	fflush(stdout);
}

int host_test_result(const char *name)
{
	if (host_check_failures) {
		printf("%s: %d check(s) failed\n", name, host_check_failures);
		return 1;
	}
	printf("%s: all checks passed\n", name);
	return 0;
}
