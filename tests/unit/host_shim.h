/*
 * host_shim.h — what a host unit test gets in place of the kernel runtime.
 *
 * tests/unit/host_shim.c is linked into every unit test (see tests/README or
 * docs/testing.md). It provides the kernel's printk/vprintk (to stdout),
 * panic (print, then abort(): the sanitizer runtime shows where), and __warn
 * (print "WARNING: ...", count, go on). All are weak, so a test that wants
 * its own printk (e.g. to capture messages) simply defines one.
 *
 * HAVE_HOST_SHIM tells a test written before the shim existed not to define
 * these itself. The harness also passes -DHAVE_HOST_SHIM=1, so the guard
 * works even in a test that does not include this header.
 *
 * Also: tiny check macros that print "FAIL file:line: ..." and count failures.
 */
#ifndef HOST_SHIM_H
#define HOST_SHIM_H

#ifndef HAVE_HOST_SHIM
#define HAVE_HOST_SHIM 1
#endif

#include <stdio.h>

/* Number of __warn() calls so far (WARN_ON that fired). */
extern int host_warn_count;
/* Number of failed CHECK()s so far; main() returns host_test_result(). */
extern int host_check_failures;

#define CHECK(cond) do { \
	if (!(cond)) { \
		printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		host_check_failures++; \
	} \
} while (0)

#define CHECK_MSG(cond, fmt, ...) do { \
	if (!(cond)) { \
		printf("FAIL %s:%d: %s: " fmt "\n", __FILE__, __LINE__, #cond, ##__VA_ARGS__); \
		host_check_failures++; \
	} \
} while (0)

/* 0 when every CHECK passed, else 1 (and a summary line). */
int host_test_result(const char *name);

#endif
