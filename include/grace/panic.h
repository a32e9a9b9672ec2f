/*
 * panic.h — fatal errors, warnings and assertions.
 *
 * panic() prints "Kernel panic - not syncing: <msg>", a backtrace, and powers
 * the machine off with a failure status (isa-debug-exit code != 0x10).
 * WARN_ON() prints "WARNING: ..." with a backtrace and goes on; the scenario
 * harness counts any WARNING as a failure. BUG_ON() panics.
 * DEBUG_CHECK() is a WARN_ON that exists only in DEBUG builds.
 */
#ifndef GRACE_PANIC_H
#define GRACE_PANIC_H

#include <grace/compiler.h>

__noreturn void panic(const char *fmt, ...) __printf(1, 2);
void __warn(const char *file, int line, const char *cond);

#define WARN_ON(cond) ({ \
	bool __c = !!(cond); \
	if (unlikely(__c)) __warn(__FILE__, __LINE__, #cond); \
	unlikely(__c); })

#define BUG_ON(cond) do { \
	if (unlikely(cond)) panic("BUG at %s:%d: %s", __FILE__, __LINE__, #cond); \
} while (0)

#ifdef CONFIG_DEBUG
#define DEBUG_CHECK(cond) WARN_ON(!(cond))
#else
#define DEBUG_CHECK(cond) do { (void)sizeof(cond); } while (0)
#endif

#endif
