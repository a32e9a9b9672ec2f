/*
 * nmi_handlers.c — the NMI handler list: read in NMI context with no lock,
 * changed rarely, under a mutex. The RCU pattern "RCU instead of a lock for
 * a read-mostly list, with wait-for-readers on removal" (McKenney et al.,
 * "RCU in the Linux Kernel: One Decade Later").
 *
 *   NMI on any CPU:                       unregister_nmi_handler(a):
 *     rcu_read_lock()                       lock; list_del_rcu(&a->list)
 *     list_for_each_entry_rcu(a, ...)       synchronize_rcu()   ← every NMI
 *       n += a->handler(regs, a)              that could have found `a` has
 *     rcu_read_unlock()                       ended; the caller may free it
 *
 * An NMI handler is a reader: it is not preemptible, and rcu_nmi_enter()
 * makes RCU watch an idle CPU for the NMI's duration. kernel/nmi.c's own
 * handler (panic stop, backtraces, calls, pings) is the first entry.
 * Invariant: when unregister_nmi_handler() returns, no CPU is inside the
 * handler or holds the nmiaction. Test: ktest "nmi.handlers_rcu" (register,
 * NMI another CPU and hold it in the handler (5 ms at most), unregister,
 * check nobody is still inside, kfree — poisoned in DEBUG builds, and the
 * handler checks a magic number — 32 times);
 * nmi.bug_unregister_no_gp=1 leaves out the grace period and the test
 * fails (scenario nmi-bug-unregister-no-gp).
 */
#include <asm/cpu.h>
#include <grace/cpumask.h>
#include <grace/delay.h>
#include <grace/ktest.h>
#include <grace/mm.h>
#include <grace/spinlock.h>
#include <grace/nmi.h>
#include <grace/param.h>
#include <grace/printk.h>
#include <grace/rculist.h>
#include <grace/smp.h>
#include <grace/string.h>

static LIST_HEAD(nmi_actions);
static DEFINE_SPINLOCK(nmi_actions_lock);   /* updaters only; never taken in an NMI */

static bool nmi_bug_unregister_no_gp;
param_bool("nmi.bug_unregister_no_gp", nmi_bug_unregister_no_gp,
	   "INJECTED BUG: unregister_nmi_handler returns without waiting for a grace period");

void register_nmi_handler(struct nmiaction *a)
{
	unsigned long flags;

	spin_lock_irqsave(&nmi_actions_lock, flags);
	list_add_tail_rcu(&a->list, &nmi_actions);
	spin_unlock_irqrestore(&nmi_actions_lock, flags);
}

void unregister_nmi_handler(struct nmiaction *a)
{
	unsigned long flags;

	spin_lock_irqsave(&nmi_actions_lock, flags);
	list_del_rcu(&a->list);
	spin_unlock_irqrestore(&nmi_actions_lock, flags);
	if (unlikely(nmi_bug_unregister_no_gp))
		return;   /* INJECTED BUG: an NMI may still be inside a's handler */
	synchronize_rcu();
}

int nmi_handle_list(struct pt_regs *regs)
{
	struct nmiaction *a;
	int n = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(a, &nmi_actions, list)
		n += a->handler(regs, a);
	rcu_read_unlock();
	return n;
}

/* ---- the test ---- */

#define NMI_TEST_MAGIC 0x4E4D4941u   /* "NMIA" */

struct nmi_test_action {
	struct nmiaction act;
	u32 magic;
	int inside;          /* CPUs in the handler now (atomic) */
	int hold;            /* the handler stays while set (at most 5 ms) */
	int calls;
};

static unsigned long nmi_test_bad;   /* the handler found a dead action */

static int nmi_test_handler(struct pt_regs *regs, struct nmiaction *a)
{
	struct nmi_test_action *t = container_of(a, struct nmi_test_action, act);

	(void)regs;
	__atomic_add_fetch(&t->inside, 1, __ATOMIC_SEQ_CST);
	if (READ_ONCE(t->magic) != NMI_TEST_MAGIC)
		__atomic_add_fetch(&nmi_test_bad, 1, __ATOMIC_RELAXED);
	/* Stay while the test unregisters (bounded: an NMI must end). */
	for (int i = 0; i < 500 && READ_ONCE(t->hold); i++)
		udelay(10);
	if (READ_ONCE(t->magic) != NMI_TEST_MAGIC)
		__atomic_add_fetch(&nmi_test_bad, 1, __ATOMIC_RELAXED);
	t->calls++;
	__atomic_sub_fetch(&t->inside, 1, __ATOMIC_SEQ_CST);
	return 1;
}

KTEST(nmi_handlers_rcu, "nmi.handlers_rcu")
{
	unsigned int me, other;
	int early = 0, ran = 0;

	preempt_disable();
	me = smp_processor_id();
	other = cpumask_any_but(&cpu_online_mask, me);
	preempt_enable();
	if (other == NR_CPUS)
		return;   /* one CPU: nobody to race with */
	nmi_test_bad = 0;
	for (int i = 0; i < 32; i++) {
		struct nmi_test_action *ta = kzalloc(sizeof(*ta));

		KTEST_EXPECT(ta);
		if (!ta)
			return;
		ta->act.handler = nmi_test_handler;
		ta->act.name = "ktest";
		ta->magic = NMI_TEST_MAGIC;
		ta->hold = 1;
		register_nmi_handler(&ta->act);
		smp_send_nmi(other);
		/* Until the other CPU is inside (or 10 ms: a lost NMI is not
		 * this test's business), then remove it while it dawdles. */
		for (int w = 0; w < 1000 && !__atomic_load_n(&ta->inside, __ATOMIC_SEQ_CST) && !READ_ONCE(ta->calls); w++)
			udelay(10);
		ran += __atomic_load_n(&ta->inside, __ATOMIC_SEQ_CST) || READ_ONCE(ta->calls);
		/* The other CPU is held in the handler, a reader: a correct
		 * unregister waits for it to leave (its hold ends after 5 ms). */
		unregister_nmi_handler(&ta->act);
		bool still = __atomic_load_n(&ta->inside, __ATOMIC_SEQ_CST);

		WRITE_ONCE(ta->hold, 0);
		if (still) {
			/* Freeing it now would be a use-after-free (its list walk
			 * still reads it after the handler): leak it instead. */
			early++;
			continue;
		}
		ta->magic = 0;   /* dead, also without DEBUG's poisoning */
		kfree(ta);
	}
	KTEST_EXPECT_MSG(!early, "unregister_nmi_handler returned %d of 32 times while CPU %u was still in "
			 "the handler (freeing it then is a use-after-free)", early, other);
	KTEST_EXPECT_MSG(!nmi_test_bad, "an NMI handler ran on a freed nmiaction %lu times", nmi_test_bad);
	KTEST_EXPECT_MSG(ran > 0, "CPU %u never ran the handler (NMIs lost?)", other);
}
