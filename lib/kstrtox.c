/*
 * kstrtox.c — strict string-to-integer conversion.
 *
 * The whole string must be a number (optional sign for the signed variant,
 * then 0x/0X for hex or a leading 0 for octal when base is 0) that fits the
 * type; anything else is an error, so "12abc", "", "-" and overflow are all
 * rejected. Pure logic: unit-tested on the host (tests/unit/test_kstrtox.c).
 */
#include <grace/types.h>

int kstrtoull(const char *s, unsigned int base, unsigned long long *out);
int kstrtoll(const char *s, unsigned int base, long long *out);

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

int kstrtoull(const char *s, unsigned int base, unsigned long long *out)
{
	unsigned long long v = 0;

	if (!s || base == 1 || base > 36)
		return -1;
	if (*s == '+')
		s++;
	if (base == 0) {
		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && s[2]) {
			base = 16;
			s += 2;
		} else if (s[0] == '0' && s[1]) {
			base = 8;
			s++;
		} else {
			base = 10;
		}
	} else if (base == 16 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && s[2]) {
		s += 2;
	}
	if (!*s)
		return -1;
	for (; *s; s++) {
		int d = digit_value(*s);

		if (d >= (int)base)
			return -1;
		if (v > (~0ULL - (unsigned)d) / base)
			return -1; /* overflow */
		v = v * base + (unsigned)d;
	}
	*out = v;
	return 0;
}

int kstrtoll(const char *s, unsigned int base, long long *out)
{
	unsigned long long u;
	bool neg = false;

	if (!s)
		return -1;
	if (*s == '-') {
		neg = true;
		s++;
		if (*s == '+' || *s == '-')
			return -1;
	}
	if (kstrtoull(s, base, &u))
		return -1;
	if (neg) {
		if (u > (unsigned long long)INT64_MAX + 1)
			return -1;
		*out = u == (unsigned long long)INT64_MAX + 1 ? INT64_MIN : -(long long)u;
	} else {
		if (u > INT64_MAX)
			return -1;
		*out = (long long)u;
	}
	return 0;
}
