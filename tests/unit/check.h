/*
 * check.h — the host unit tests' CHECK(): on a false condition, print
 * "FAIL file:line: condition: message" and count it in `failures`, which
 * the test's main() turns into its exit status. Include once per test.
 */
#ifndef TESTS_UNIT_CHECK_H
#define TESTS_UNIT_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
		printf(__VA_ARGS__); \
		printf("\n"); \
		failures++; \
	} \
} while (0)

#endif
