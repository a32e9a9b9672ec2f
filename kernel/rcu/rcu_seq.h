/*
 * rcu_seq.h — grace-period sequence numbers: a counter with a state in its
 * low bits, compared so that wrap-around is harmless.
 *
 *   bits 63..2  how many grace periods have ended      (rcu_seq_ctr)
 *   bits  1..0  0 = idle, 1 = a grace period is running (rcu_seq_state)
 *
 *        ...  4k+0  ──start──▶ 4k+1 ──end──▶ 4(k+1)+0  ──start──▶ ...
 *             idle             GP k+1          idle
 *
 * A cookie ("snapshot") is the value the counter will have once a grace
 * period that starts after the snapshot has ended: from idle 4k that is
 * 4(k+1); while GP k+1 runs (4k+1) the running one started too early, so
 * it is 4(k+2). A cookie is reached when the counter is at or past it.
 *
 * Wrap-around: counters are unsigned long and are compared by the sign of
 * their difference, so 3 is "after" ULONG_MAX - 5 (ULONG_CMP_GE/LT below).
 * rcu.seq_wrap_gps=N starts every counter N grace periods before the wrap
 * (FreeBSD's SMR trick) so that a plain `>=` somewhere shows up in minutes.
 *
 * Injected bug rcu.bug_seq_cmp=1 makes rcu_seq_done() compare with `>=`:
 * after the wrap every cookie looks reached at once (rcutorture: too-short
 * grace periods through the polled API and the callback lists).
 * Tests: tests/unit/test_rcu_tree.c (across the wrap), rcutorture.
 */
#ifndef GRACE_RCU_SEQ_H
#define GRACE_RCU_SEQ_H

#include <grace/compiler.h>
#include <grace/types.h>

#define RCU_SEQ_CTR_SHIFT  2
#define RCU_SEQ_STATE_MASK ((1UL << RCU_SEQ_CTR_SHIFT) - 1)

/* a is at or after b / strictly before b, modulo wrap-around. */
#define ULONG_CMP_GE(a, b) (~0UL / 2 >= (unsigned long)((a) - (b)))
#define ULONG_CMP_LT(a, b) (~0UL / 2 < (unsigned long)((a) - (b)))

extern bool rcu_bug_seq_cmp;   /* kernel/rcu/rcu_bugs.c */

static inline unsigned long rcu_seq_ctr(unsigned long s)
{
	return s >> RCU_SEQ_CTR_SHIFT;
}

static inline unsigned long rcu_seq_state(unsigned long s)
{
	return s & RCU_SEQ_STATE_MASK;
}

/* The counter value `n` grace periods from zero (counts may be negative). */
static inline unsigned long rcu_seq_from_ctr(unsigned long n)
{
	return n << RCU_SEQ_CTR_SHIFT;
}

/* Idle -> running. */
static inline void rcu_seq_start(unsigned long *sp)
{
	WRITE_ONCE(*sp, *sp + 1);
}

/* Running -> idle, one more grace period counted. */
static inline void rcu_seq_end(unsigned long *sp)
{
	WRITE_ONCE(*sp, (*sp | RCU_SEQ_STATE_MASK) + 1);
}

/* The value `s` has after the grace period it runs (or the next) ends. */
static inline unsigned long rcu_seq_endval(unsigned long s)
{
	return (s | RCU_SEQ_STATE_MASK) + 1;
}

/* Cookie for "a full grace period from now". */
static inline unsigned long rcu_seq_snap_val(unsigned long s)
{
	return (s + 2 * RCU_SEQ_STATE_MASK + 1) & ~RCU_SEQ_STATE_MASK;
}

static inline unsigned long rcu_seq_snap(const unsigned long *sp)
{
	return rcu_seq_snap_val(READ_ONCE(*sp));
}

/* Has the counter value `cur` reached cookie `s`? */
static inline bool rcu_seq_done_val(unsigned long cur, unsigned long s)
{
	if (unlikely(rcu_bug_seq_cmp))
		return cur >= s;          /* INJECTED BUG: wrong across the wrap */
	return ULONG_CMP_GE(cur, s);
}

static inline bool rcu_seq_done(const unsigned long *sp, unsigned long s)
{
	return rcu_seq_done_val(READ_ONCE(*sp), s);
}

/* Did a grace period start after `old` was read, as seen in `new`? */
static inline bool rcu_seq_new_gp(unsigned long old, unsigned long new)
{
	return ULONG_CMP_LT((old + RCU_SEQ_STATE_MASK) & ~RCU_SEQ_STATE_MASK, new);
}

#endif
