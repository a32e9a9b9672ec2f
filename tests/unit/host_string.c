/*
 * host_string.c — the two lib/string.c helpers the host C library may lack.
 *
 * Kernel sources built for the host (fuzz targets, unit tests) get memcpy,
 * strlen and the rest from libc, but glibc before 2.38 has no strlcpy, and no
 * libc has str_starts_with. These behave as lib/string.c's (same contract as
 * <grace/string.h>); weak, so a libc strlcpy or a test's own wins.
 */
#include <grace/string.h>
#include <string.h>

__attribute__((weak)) size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

__attribute__((weak)) bool str_starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}
