/*
 * tree_exp.c — expedited grace periods: synchronize_rcu_expedited().
 *
 * Same guarantee as synchronize_rcu(), bought with IPIs instead of waiting
 * for CPUs to pass quiescent states on their own:
 *
 *   1. under ofl_lock, each leaf's expmask := expmaskinit := qsmaskinitnext
 *      — RCU's books, never cpu_online_mask — and each such CPU is marked
 *      exp_need_qs;
 *   2. CPUs whose dynticks counter says idle are reported at once; the
 *      caller's own CPU too (the caller is not in a reader); every other
 *      one gets an IPI (smp_call_function_single, no wait): a CPU the IPI
 *      finds outside any reader reports itself; one inside a reader is
 *      asked to reschedule, and its rcu_read_unlock() (a preemption point)
 *      switches — a context switch, which reports (rcu_note_context_switch);
 *   3. wait until every leaf's expmask is empty, re-reading idle counters
 *      every tick for CPUs that went idle meanwhile.
 *
 * Hotplug: a CPU that comes online during step 3 is not in expmask (its
 * readers began after the expedited GP did); a CPU going offline clears
 * its bit in rcutree_report_cpu_dead(), after its last reader — an IPI
 * cannot reach it once it left cpu_online_mask, and none needs to.
 * Expedited GPs are serialized by a mutex; they do not take the hotplug
 * lock and do not block normal grace periods.
 * Tests: rcutorture retires elements through it (Reader Pipe), `rcu exp`.
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

/* Report the idle ones and this CPU; IPI the rest (first pass only). */
static void rcu_exp_push(bool ipi)
{
	struct rcu_tree_shape *s = &rcu_state.shape;

	for (unsigned int i = rcu_first_leaf(s); i < s->nr_nodes; i++) {
		struct rcu_node *rnp = &rcu_state.node[i];

		for (unsigned int cpu = rnp->grplo; cpu <= rnp->grphi; cpu++) {
			struct rcu_data *rdp = per_cpu_ptr(&rcu_data, cpu);
			bool me;

			if (!(READ_ONCE(rnp->expmask) & rdp->grpmask))
				continue;
			preempt_disable();
			me = cpu == smp_processor_id();
			preempt_enable();
			/* Pairs with the fully ordered dynticks increments. */
			smp_mb();
			if (me || !(__atomic_load_n(&rdp->dynticks, __ATOMIC_SEQ_CST) & 1))
				rcu_report_exp_rdp(rdp);
			else if (ipi)
				smp_call_function_single(cpu, rcu_exp_handler, NULL, 0);
		}
	}
}

void synchronize_rcu_expedited(void)
{
	struct rcu_tree_shape *s = &rcu_state.shape;
	unsigned long flags;

	might_sleep();
	if (!READ_ONCE(rcu_state.gp_kthread))
		return;
	mutex_lock(&rcu_exp_mutex);
	smp_mb();   /* the caller's updates before any CPU is examined */
	flags = local_irq_save();
	spin_lock(&rcu_state.ofl_lock);
	for (unsigned int i = rcu_first_leaf(s); i < s->nr_nodes; i++) {
		struct rcu_node *rnp = &rcu_state.node[i];

		spin_lock(&rnp->lock);
		rnp->expmaskinit = rnp->qsmaskinitnext;
		WRITE_ONCE(rnp->expmask, rnp->expmaskinit);
		for (unsigned int cpu = rnp->grplo; cpu <= rnp->grphi; cpu++)
			if (rnp->expmask & (1ULL << (cpu - rnp->grplo)))
				WRITE_ONCE(per_cpu(rcu_data, cpu).exp_need_qs, true);
		spin_unlock(&rnp->lock);
	}
	spin_unlock(&rcu_state.ofl_lock);
	local_irq_restore(flags);
	rcu_exp_push(true);
	while (!rcu_exp_done()) {
		wait_event_timeout(rcu_exp_wq, rcu_exp_done(), 1);
		rcu_exp_push(false);   /* CPUs that went idle since */
	}
	smp_mb();   /* every reader that was running is over before the caller goes on */
	rcu_exp_count++;
	mutex_unlock(&rcu_exp_mutex);
}
