/*
 * string.h — the freestanding memory and string helpers (lib/string.c).
 * The compiler may emit calls to memcpy/memset/memmove/memcmp on its own.
 */
#ifndef GRACE_STRING_H
#define GRACE_STRING_H

#include <grace/types.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
void *memmem(const void *hay, size_t n, const void *needle, size_t nlen);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
size_t strlcpy(char *dst, const char *src, size_t size);
bool str_starts_with(const char *s, const char *prefix);

/* Parse an unsigned/signed integer (base 0 = auto: 0x.., 0.., decimal).
 * Returns 0 and sets *out when the WHOLE string is a number in range, else -1. */
int kstrtoull(const char *s, unsigned int base, unsigned long long *out);
int kstrtoll(const char *s, unsigned int base, long long *out);

#endif
