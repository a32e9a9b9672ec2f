// UNIT_SOURCES: lib/kstrtox.c
/*
 * test_kstrtox.c — strict string-to-integer conversion (lib/kstrtox.c).
 *
 * Kernel parameters and shell arguments go through kstrtoull/kstrtoll, so
 * "the whole string is a number in range, or it is an error" is what keeps
 * `smp.maxcpus=4x` from silently meaning 4. Checked here: bases 0/8/10/16,
 * prefixes, signs, the exact overflow edges, and garbage of every kind.
 */
#include "host_shim.h"

#include <grace/string.h>
#include <stdint.h>

static void ok_u(const char *s, unsigned base, unsigned long long want)
{
	unsigned long long v = 12345;
	int r = kstrtoull(s, base, &v);

	CHECK_MSG(r == 0 && v == want, "kstrtoull(\"%s\", %u) = %d, %llu; want 0, %llu",
		  s, base, r, v, want);
}

static void bad_u(const char *s, unsigned base)
{
	unsigned long long v = 12345;
	int r = kstrtoull(s, base, &v);

	CHECK_MSG(r != 0 && v == 12345, "kstrtoull(\"%s\", %u) = %d, %llu; want an error, *out untouched",
		  s ? s : "(null)", base, r, v);
}

static void ok_s(const char *s, unsigned base, long long want)
{
	long long v = 12345;
	int r = kstrtoll(s, base, &v);

	CHECK_MSG(r == 0 && v == want, "kstrtoll(\"%s\", %u) = %d, %lld; want 0, %lld",
		  s, base, r, v, want);
}

static void bad_s(const char *s, unsigned base)
{
	long long v = 12345;
	int r = kstrtoll(s, base, &v);

	CHECK_MSG(r != 0 && v == 12345, "kstrtoll(\"%s\", %u) = %d, %lld; want an error, *out untouched",
		  s ? s : "(null)", base, r, v);
}

int main(void)
{
	/* Plain numbers in each base, and base 0's prefixes. */
	ok_u("0", 10, 0);
	ok_u("42", 10, 42);
	ok_u("+42", 10, 42);
	ok_u("ff", 16, 255);
	ok_u("0xff", 16, 255);
	ok_u("0XFF", 16, 255);
	ok_u("777", 8, 511);
	ok_u("101", 2, 5);
	ok_u("z", 36, 35);
	ok_u("0x10", 0, 16);
	ok_u("010", 0, 8);
	ok_u("0", 0, 0);
	ok_u("10", 0, 10);

	/* The overflow edge, exactly. */
	ok_u("18446744073709551615", 10, UINT64_MAX);
	bad_u("18446744073709551616", 10);
	ok_u("0xffffffffffffffff", 0, UINT64_MAX);
	bad_u("0x10000000000000000", 0);
	bad_u("99999999999999999999999", 10);

	/* Garbage: empty, lone prefix or sign, trailing junk, spaces, bad digits. */
	bad_u("", 10);
	bad_u("+", 10);
	bad_u("0x", 16);
	bad_u("12abc", 10);
	bad_u("12 ", 10);
	bad_u(" 12", 10);
	bad_u("-1", 10);
	bad_u("8", 8);
	bad_u("09", 0);
	bad_u("g", 16);
	bad_u("2", 2);
	bad_u(NULL, 10);
	bad_u("1", 1);
	bad_u("1", 37);

	/* Signed: both edges, signs, and double signs. */
	ok_s("0", 10, 0);
	ok_s("-0", 10, 0);
	ok_s("-42", 10, -42);
	ok_s("+42", 10, 42);
	ok_s("-0x10", 0, -16);
	ok_s("9223372036854775807", 10, INT64_MAX);
	ok_s("-9223372036854775808", 10, INT64_MIN);
	bad_s("9223372036854775808", 10);
	bad_s("-9223372036854775809", 10);
	bad_s("--1", 10);
	bad_s("-+1", 10);
	bad_s("+-1", 10);
	bad_s("-", 10);
	bad_s("", 10);
	bad_s("1-", 10);
	bad_s(NULL, 10);

	return host_test_result("test_kstrtox");
}
