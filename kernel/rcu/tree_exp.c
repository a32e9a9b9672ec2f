/*
 * tree_exp.c — expedited grace periods: synchronize_rcu_expedited().
 *
 * Same guarantee as synchronize_rcu(), bought with IPIs instead of waiting
 * for CPUs to pass quiescent states on their own. All of it runs in the
 * caller — no kthread or workqueue hop, and no sleep unless some CPU still
 * owes a QS after the IPIs went out:
 *
 *   0. fast path: under ofl_lock, if every CPU in RCU's books is idle (even
 *      dynticks) or is the caller's own, the GP is already over — nothing
 *      is armed, so neither the mutex nor expmask is needed;
 *   1. else, under the mutex and ofl_lock, each leaf's expmaskinit := its
 *      qsmaskinitnext — RCU's books, never cpu_online_mask — and expmask :=
 *      those of them that are neither idle now nor the caller's CPU, each
 *      marked exp_need_qs (idle ones and this CPU never enter expmask:
 *      their QS is already in hand);
 *   2. every CPU in expmask gets an IPI (smp_call_function_single, no
 *      wait): a CPU the IPI finds outside any reader reports itself; one
 *      inside a reader is asked to reschedule, and its rcu_read_unlock() (a
 *      preemption point) switches — a context switch, which reports
 *      (rcu_note_context_switch);
 *   3. wait until every leaf's expmask is empty, re-reading idle counters
 *      every tick for CPUs that went idle meanwhile.
 *
 * Hotplug: a CPU that comes online after step 0/1 is not waited for (its
 * readers began after the expedited GP did); a CPU going offline clears
 * its bit in rcutree_report_cpu_dead(), after its last reader — an IPI
 * cannot reach it once it left cpu_online_mask, and none needs to. Slow-
 * path GPs are serialized by a mutex; no expedited GP takes the hotplug
 * lock or blocks normal grace periods.
 * Tests: rcutorture retires elements through it (Reader Pipe; all of them
 * with rcutorture.gp_exp=1), `rcu exp`; rcu.bug_exp_online_mask=1 builds
 * the books from cpu_online_mask (scenario rcu-bug-exp-online-mask).
 */
#include <asm/barrier.h>
#include <asm/cpu.h>
#include <grace/mutex.h>
#include <grace/sched.h>
#include <grace/smp.h>
#include <grace/time.h>
#include <grace/wait.h>

#include "rcu_seq.h"
#include "tree.h"

static DEFINE_MUTEX(rcu_exp_mutex);
static DECLARE_WAIT_QUEUE_HEAD(rcu_exp_wq);
unsigned long rcu_exp_count;

/* Clear this rdp's bit; wake the waiter when its leaf empties. */
static void rcu_report_exp_rdp(struct rcu_data *rdp)
{
	struct rcu_node *rnp = rdp->mynode;
	unsigned long flags = local_irq_save();
	bool wake = false;

	spin_lock(&rnp->lock);
	if (rnp->expmask & rdp->grpmask) {
		WRITE_ONCE(rnp->expmask, rnp->expmask & ~rdp->grpmask);
		wake = !rnp->expmask;
	}
	WRITE_ONCE(rdp->exp_need_qs, false);
	spin_unlock(&rnp->lock);
	if (wake)
		wake_up(&rcu_exp_wq);
	local_irq_restore(flags);
}

void rcu_exp_cpu_qs(struct rcu_data *rdp)
{
	if (unlikely(READ_ONCE(rdp->exp_need_qs)))
		rcu_report_exp_rdp(rdp);
}

/* rcutree_report_cpu_dead, leaf lock held: the CPU's last reader is over. */
void rcu_exp_cpu_offline(struct rcu_data *rdp)
{
	struct rcu_node *rnp = rdp->mynode;

	if (rnp->expmask & rdp->grpmask) {
		WRITE_ONCE(rnp->expmask, rnp->expmask & ~rdp->grpmask);
		if (!rnp->expmask)
			wake_up(&rcu_exp_wq);
	}
	WRITE_ONCE(rdp->exp_need_qs, false);
}

/* The IPI, on the target CPU, interrupts off. */
static void rcu_exp_handler(void *info)
{
	struct rcu_data *rdp = this_cpu_ptr(&rcu_data);

	(void)info;
	if (!READ_ONCE(rdp->exp_need_qs))
		return;
	if (preempt_count() == 0 && this_cpu()->irq_depth == 1) {
		rcu_report_exp_rdp(rdp);     /* interrupted code was not in a reader */
		return;
	}
	/* Inside a reader: its end is a preemption point; make it switch. */
	WRITE_ONCE(*this_cpu_ptr(&sched_need_resched), 1);
}

static bool rcu_exp_done(void)
{
	struct rcu_tree_shape *s = &rcu_state.shape;

	for (unsigned int i = rcu_first_leaf(s); i < s->nr_nodes; i++)
		if (READ_ONCE(rcu_state.node[i].expmask))
			return false;
	return true;
}

/* An idle CPU (even dynticks) is in an extended QS now: whatever reader it
 * ran before has ended. Pairs with the fully ordered dynticks increments
 * (the caller has issued a full barrier since the GP began). */
static bool rcu_exp_cpu_idle(struct rcu_data *rdp)
{
	return !(__atomic_load_n(&rdp->dynticks, __ATOMIC_SEQ_CST) & 1);
}

/* Whom an expedited GP waits for: RCU's books (ofl_lock held). */
static u64 rcu_exp_books(const struct rcu_node *rnp)
{
	if (unlikely(rcu_bug_exp_online_mask))
		return rcu_bug_online_leaf_mask(rnp);
	return READ_ONCE(rnp->qsmaskinitnext);
}

/*
 * Step 1 and the cheap half of step 2, one leaf at a time under its lock:
 * expmaskinit from the books; the caller's CPU and the CPUs idle right now
 * never enter expmask (their QS is already in hand), the others are marked
 * exp_need_qs. Interrupts off, ofl_lock held. Returns the CPUs left to IPI.
 */
static u64 rcu_exp_init_leaf(struct rcu_node *rnp, unsigned int me)
{
	u64 need = 0;

	spin_lock(&rnp->lock);
	rnp->expmaskinit = rcu_exp_books(rnp);
	for (unsigned int cpu = rnp->grplo; cpu <= rnp->grphi; cpu++) {
		struct rcu_data *rdp = per_cpu_ptr(&rcu_data, cpu);

		if (!(rnp->expmaskinit & rdp->grpmask) || cpu == me || rcu_exp_cpu_idle(rdp))
			continue;
		WRITE_ONCE(rdp->exp_need_qs, true);
		need |= rdp->grpmask;
	}
	WRITE_ONCE(rnp->expmask, need);
	spin_unlock(&rnp->lock);
	return need;
}

/* CPUs still in expmask: IPI them (first pass), or report the ones that
 * went idle since (later passes, every tick). */
static void rcu_exp_push(bool ipi)
{
	struct rcu_tree_shape *s = &rcu_state.shape;

	for (unsigned int i = rcu_first_leaf(s); i < s->nr_nodes; i++) {
		struct rcu_node *rnp = &rcu_state.node[i];

		for (unsigned int cpu = rnp->grplo; cpu <= rnp->grphi; cpu++) {
			struct rcu_data *rdp = per_cpu_ptr(&rcu_data, cpu);

			if (!(READ_ONCE(rnp->expmask) & rdp->grpmask))
				continue;
			smp_mb();
			if (rcu_exp_cpu_idle(rdp))
				rcu_report_exp_rdp(rdp);
			else if (ipi)
				smp_call_function_single(cpu, rcu_exp_handler, NULL, 0);
		}
	}
}

/*
 * The fast path: with ofl_lock held the books cannot change; if every CPU
 * in them is idle right now or is this one, each has passed a QS since the
 * caller's barrier and the expedited GP is over — nothing was armed, so it
 * needs neither the mutex nor expmask, and a slow-path GP running
 * meanwhile is not disturbed. False: some CPU is busy, take the slow path.
 */
static bool rcu_exp_all_idle(void)
{
	struct rcu_tree_shape *s = &rcu_state.shape;
	unsigned int me = smp_processor_id();
	bool idle = true;

	spin_lock(&rcu_state.ofl_lock);
	for (unsigned int i = rcu_first_leaf(s); i < s->nr_nodes && idle; i++) {
		struct rcu_node *rnp = &rcu_state.node[i];
		u64 books = rcu_exp_books(rnp);

		for (unsigned int cpu = rnp->grplo; cpu <= rnp->grphi; cpu++)
			if ((books & (1ULL << (cpu - rnp->grplo))) && cpu != me &&
			    !rcu_exp_cpu_idle(per_cpu_ptr(&rcu_data, cpu))) {
				idle = false;
				break;
			}
	}
	spin_unlock(&rcu_state.ofl_lock);
	return idle;
}

/*
 * The whole expedited GP runs in the caller: no kthread or workqueue hop,
 * no sleep unless some CPU still owes a QS after the IPIs went out. With
 * every other CPU idle it is one scan of the books under ofl_lock and no
 * mutex, no IPI, no wait (docs/rcu.md, "Expedited grace periods").
 */
void synchronize_rcu_expedited(void)
{
	struct rcu_tree_shape *s = &rcu_state.shape;
	unsigned long flags;
	bool need = false;

	might_sleep();
	if (!READ_ONCE(rcu_state.gp_kthread))
		return;
	smp_mb();   /* the caller's updates before any CPU is examined */
	flags = local_irq_save();
	if (rcu_exp_all_idle()) {
		local_irq_restore(flags);
		smp_mb();   /* pairs with the idle CPUs' dynticks increments */
		__atomic_add_fetch(&rcu_exp_count, 1, __ATOMIC_RELAXED);
		return;
	}
	local_irq_restore(flags);
	mutex_lock(&rcu_exp_mutex);
	smp_mb();   /* as above, for CPUs examined after the mutex wait */
	flags = local_irq_save();
	spin_lock(&rcu_state.ofl_lock);
	for (unsigned int i = rcu_first_leaf(s); i < s->nr_nodes; i++)
		need |= rcu_exp_init_leaf(&rcu_state.node[i], smp_processor_id()) != 0;
	spin_unlock(&rcu_state.ofl_lock);
	local_irq_restore(flags);
	if (need) {
		rcu_exp_push(true);
		while (!rcu_exp_done()) {
			wait_event_timeout(rcu_exp_wq, rcu_exp_done(), 1);
			rcu_exp_push(false);   /* CPUs that went idle since */
		}
	}
	smp_mb();   /* every reader that was running is over before the caller goes on */
	__atomic_add_fetch(&rcu_exp_count, 1, __ATOMIC_RELAXED);
	mutex_unlock(&rcu_exp_mutex);
}
