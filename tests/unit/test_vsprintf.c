// UNIT_SOURCES:
/*
 * test_vsprintf.c — the kernel's vsnprintf (lib/vsprintf.c), checked against
 * the C library's on the host.
 *
 * How the kernel file is built here without clashing with libc: the kernel
 * defines functions named vsnprintf and snprintf, exactly like libc. This
 * file includes <stdio.h> first (libc's declarations), then renames the two
 * with #define before #including lib/vsprintf.c itself, so the kernel's
 * functions are compiled as grace_vsnprintf/grace_snprintf in this
 * translation unit; after the #undef, snprintf is libc's again. No linker
 * tricks, no special flags: UNIT_SOURCES stays empty because the source is
 * included, not linked.
 *
 * What is checked: for every format the kernel supports (flags - 0 + space #,
 * width and precision incl. '*', hh h l ll z t j, d i u x X o c s %), the
 * kernel's output and return value equal libc's, in a roomy buffer and when
 * truncated to every size from 0 up; then the kernel-specific parts: %p is
 * 0x + 16 hex digits, NULL %s is "(null)", unknown conversions print as
 * written, and nothing is ever written past `size`.
 */
#include "host_shim.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define vsnprintf grace_vsnprintf
#define snprintf grace_snprintf
#include "../../lib/vsprintf.c"
#undef vsnprintf
#undef snprintf

#define GUARD 0x5a

/* Format with the kernel into a buffer of exactly `size` bytes followed by
 * guard bytes; fail if a guard byte changed. */
static int kernel_fmt(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int kernel_fmt(char *out, size_t size, const char *fmt, ...)
{
	char buf[600];
	va_list ap;
	int n;

	memset(buf, GUARD, sizeof(buf));
	va_start(ap, fmt);
	n = grace_vsnprintf(size ? buf : NULL, size, fmt, ap);
	va_end(ap);
	for (size_t i = size; i < sizeof(buf); i++) {
		if ((unsigned char)buf[i] != GUARD) {
			printf("FAIL vsnprintf(size=%zu, \"%s\") wrote past the end (byte %zu)\n", size, fmt, i);
			host_check_failures++;
			break;
		}
	}
	if (size)
		memcpy(out, buf, size);
	return n;
}

/*
 * SAME(fmt, args...): compare with libc for every buffer size 0..len+1 and
 * for a big buffer.
 */
#define SAME(...) do { \
	char want[512], got[512]; \
	int wn = snprintf(want, sizeof(want), __VA_ARGS__); \
	int gn = kernel_fmt(got, sizeof(got), __VA_ARGS__); \
	CHECK_MSG(wn == gn && strcmp(want, got) == 0, \
		  "format %s: libc \"%s\" (%d), kernel \"%s\" (%d)", #__VA_ARGS__, want, wn, got, gn); \
	for (size_t sz = 0; sz <= (size_t)wn + 1 && sz < sizeof(want); sz++) { \
		char w2[512], g2[512]; \
		int wn2 = snprintf(sz ? w2 : NULL, sz, __VA_ARGS__); \
		int gn2 = kernel_fmt(g2, sz, __VA_ARGS__); \
		CHECK_MSG(wn2 == gn2 && (sz == 0 || strcmp(w2, g2) == 0), \
			  "format %s truncated to %zu: libc \"%s\", kernel \"%s\"", #__VA_ARGS__, sz, \
			  sz ? w2 : "", sz ? g2 : ""); \
	} \
} while (0)

#define KERNEL_IS(want, ...) do { \
	char got[512]; \
	int gn = kernel_fmt(got, sizeof(got), __VA_ARGS__); \
	CHECK_MSG(strcmp(got, want) == 0 && gn == (int)strlen(want), \
		  "format %s: want \"%s\", kernel \"%s\" (%d)", #__VA_ARGS__, want, got, gn); \
} while (0)

static void test_against_libc(void)
{
	/* Integers: every conversion, flag and length. */
	SAME("%d %i %u", 0, -1, 4000000000u);
	SAME("%d|%d", INT_MAX, INT_MIN);
	SAME("%ld|%ld", LONG_MAX, LONG_MIN);
	SAME("%lld|%lld|%llu", LLONG_MAX, LLONG_MIN, ULLONG_MAX);
	SAME("%hd|%hu|%hhd|%hhu", 70000, 70000, 300, 300);
	SAME("%hhd|%hd", -129, -32769);
	SAME("%zu|%zd|%td|%jd", (size_t)-1, (ssize_t)-5, (ptrdiff_t)-7, (intmax_t)INT64_MIN);
	SAME("%x|%X|%o", 0xdeadbeefu, 0xdeadbeefu, 0777u);
	SAME("%lx|%llX|%#llx", 0x123456789abcdefUL, 0xfedcba9876543210ULL, 0xabcULL);
	SAME("%#x|%#X|%#o|%#x|%#o", 255u, 255u, 8u, 0u, 0u);
	SAME("[%#.0o][%#.3o][%#5o][%#o]", 0u, 8u, 8u, 0777u);   /* # raises octal precision to lead with 0 */
	SAME("[%5d][%-5d][%05d][%+d][% d][%+5d][%-+5d]", 42, 42, 42, 42, 42, -42, 42);
	SAME("[%05d][%-05d][%+05d][% 05d]", -42, -42, 42, 42);
	SAME("[%.3d][%.0d][%.0d][%5.3d][%-5.3d][%05.3d]", 7, 0, 1, -7, 7, 7);
	SAME("[%#08x][%#-8x][%08X][%.4x][%#.4x]", 0xbeu, 0xbeu, 0xbeu, 0xbeu, 0xbeu);
	SAME("[%*d][%-*d][%*d][%.*d][%*.*d]", 6, 1, 6, 2, -6, 3, 4, 5, 7, 3, 9);
	SAME("[%20llu][%-20lld][%020llx]", 12345678901234ULL, -12345678901234LL, 0xabcdefULL);

	/* Characters and strings. */
	SAME("[%c][%3c][%-3c]", 'a', 'b', 'c');
	SAME("[%s][%10s][%-10s][%.2s][%10.3s][%-10.3s]", "hi", "hi", "hi", "hello", "hello", "hello");
	SAME("[%.*s][%*s]", 3, "abcdef", -6, "ab");
	SAME("%s", "");
	SAME("100%% %s", "sure");
	SAME("no conversions at all");
	SAME("%s=%d, %s=%#x, %s=%c", "a", 1, "b", 0x2au, "c", 'z');
}

static void test_kernel_specific(void)
{
	/* %p: always 0x and 16 digits, so addresses line up in dumps. */
	KERNEL_IS("0x0000000000000000", "%p", (void *)0);
	KERNEL_IS("0xffffffff80200000", "%p", (void *)0xffffffff80200000UL);
	/* NULL string. */
	KERNEL_IS("(null)", "%s", (char *)NULL);
	/* Unknown conversions are printed as written (not undefined behaviour). */
	KERNEL_IS("a%qb", "a%qb");
	KERNEL_IS("x%-5qy", "x%-5qy");
	KERNEL_IS("trailing %", "trailing %");
	/* Size 0 writes nothing and returns the full length. */
	char c = 'K';
	int n = grace_snprintf(&c, 0, "%s", "abcdef");
	CHECK(n == 6 && c == 'K');
	/* Size 1 writes just the terminator. */
	c = 'K';
	n = grace_snprintf(&c, 1, "%d", 12345);
	CHECK(n == 5 && c == '\0');
	/* Long output is cut cleanly at the buffer's end. */
	char big[8];
	n = grace_snprintf(big, sizeof(big), "%s", "0123456789abcdef");
	CHECK(n == 16 && strcmp(big, "0123456") == 0);
}

int main(void)
{
	test_against_libc();
	test_kernel_specific();
	return host_test_result("test_vsprintf");
}
