/*
 * qspinlock_test.c — in-kernel checks of the queued spinlock's lock word on
 * one CPU: every uncontended transition lands on the documented
 * (tail, pending, locked) triple, in whichever unlock form (native store or
 * PV cmpxchg) the booted backend uses. The concurrent behaviour is proven on
 * the host (tests/unit/test_qspinlock.c) and by locktorture once SMP exists.
 *
 *   ktest=locking.qspinlock_uncontended
 */
#include <grace/ktest.h>
#include <grace/lockstat.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/qspinlock.h>
#include <grace/spinlock.h>
#include <stdarg.h>

KTEST(qspinlock_uncontended, "locking.qspinlock_uncontended")
{
	struct qspinlock q = __QSPINLOCK_INIT;
	DEFINE_SPINLOCK(s);
	/* Interrupts off while counting: the tick takes spinlocks of its own
	 * (timer base, runqueue) that would show up in this CPU's count, and
	 * no preemption can move us to another CPU's counters. */
	unsigned long outer = local_irq_save();
	unsigned int cpu = smp_processor_id();
	enum lock_class cls = lockstat_qspinlock_class();
	u64 fast_before = lockstat_cpu[cpu].n[cls][LS_FAST];
	unsigned long flags;

	/* Tail encoding round-trips, and 0 means "no queue". */
	KTEST_EXPECT(qspinlock_encode_tail(0, 0) != 0);
	for (unsigned int c = 0; c < NR_CPUS_MAX; c += 37) {
		for (unsigned int i = 0; i < _Q_MAX_NODES; i++) {
			u32 tl = qspinlock_encode_tail(c, i);

			KTEST_EXPECT_MSG(qspinlock_tail_cpu(tl) == c && qspinlock_tail_idx(tl) == i,
					 "tail %#x does not decode to (%u, %u)", tl, c, i);
			KTEST_EXPECT((tl & ~_Q_TAIL_MASK) == 0);
		}
	}
	KTEST_EXPECT(qspinlock_word(qspinlock_encode_tail(3, 1), true, 1) ==
		     ((4U << 18) | (1U << 16) | 0x100 | 1));

	/* 0,0,0 -> 0,0,1 (fast path) -> 0,0,0 (unlock) */
	KTEST_EXPECT(q.val == 0 && !queued_spin_is_locked(&q));
	queued_spin_lock(&q);
	KTEST_EXPECT_MSG(q.val == qspinlock_word(0, false, _Q_LOCKED_VAL), "locked word %#x", q.val);
	KTEST_EXPECT(queued_spin_is_locked(&q) && !queued_spin_is_contended(&q));
	KTEST_EXPECT(!queued_spin_trylock(&q));
	KTEST_EXPECT_MSG(q.val == _Q_LOCKED_VAL, "failed trylock changed the word to %#x", q.val);
	queued_spin_unlock(&q);
	KTEST_EXPECT_MSG(q.val == 0, "unlocked word %#x", q.val);

	/* trylock: 0,0,0 -> 0,0,1 */
	KTEST_EXPECT(queued_spin_trylock(&q));
	KTEST_EXPECT(q.val == _Q_LOCKED_VAL);
	queued_spin_unlock(&q);
	KTEST_EXPECT(q.val == 0);

	/* A queued word: contended and locked, trylock must not take it. */
	q.val = qspinlock_word(qspinlock_encode_tail(5, 2), false, _Q_LOCKED_VAL);
	KTEST_EXPECT(queued_spin_is_locked(&q) && queued_spin_is_contended(&q));
	KTEST_EXPECT(!queued_spin_trylock(&q));
	q.val = qspinlock_word(qspinlock_encode_tail(5, 2), false, 0);
	KTEST_EXPECT(!queued_spin_is_locked(&q) && !queued_spin_trylock(&q));
	q.val = 0;

	/* The spinlock_t API on top, and the irqsave variant's flag handling. */
	spin_lock(&s);
	KTEST_EXPECT(spin_is_locked(&s) && s.q.val == _Q_LOCKED_VAL);
	KTEST_EXPECT(!spin_trylock(&s));
	spin_unlock(&s);
	KTEST_EXPECT(!spin_is_locked(&s) && s.q.val == 0);
	bool irqs_on = !irqs_disabled();
	spin_lock_irqsave(&s, flags);
	KTEST_EXPECT(irqs_disabled() && s.q.val == _Q_LOCKED_VAL);
	spin_unlock_irqrestore(&s, flags);
	KTEST_EXPECT(irqs_disabled() == !irqs_on && s.q.val == 0);

	/* Three fast-path acquisitions (lock, trylock does not count, spin_lock,
	 * spin_lock_irqsave) were counted on this CPU; no node is in use. */
	u64 fast = lockstat_cpu[cpu].n[cls][LS_FAST] - fast_before;

	KTEST_EXPECT(qnodes[cpu].nesting == 0);
	local_irq_restore(outer);
	KTEST_EXPECT_MSG(fast == 3, "fast-path count went up by %llu, expected 3",
			 (unsigned long long)fast);

	/* The irqsave variant once more with interrupts on, if they were. */
	irqs_on = !irqs_disabled();
	spin_lock_irqsave(&s, flags);
	KTEST_EXPECT(irqs_disabled());
	spin_unlock_irqrestore(&s, flags);
	KTEST_EXPECT(irqs_disabled() == !irqs_on);
}
