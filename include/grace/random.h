/*
 * random.h — a small pseudo-random generator for tests, torture and
 * benchmarks (not for anything that needs unpredictability).
 *
 *     u64 state = seed | 1;             never 0: xorshift stays at 0 forever
 *     u64 r = prandom_next(&state);
 *
 * xorshift64* (Vigna): three shifts and a multiply, period 2^64 - 1. Each
 * user keeps its own state (per thread or per CPU), so no locking.
 */
#ifndef GRACE_RANDOM_H
#define GRACE_RANDOM_H

#include <grace/types.h>

static inline u64 prandom_next(u64 *state)
{
	u64 x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

#endif
