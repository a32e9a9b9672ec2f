/*
 * tree.c — tree RCU: grace periods, quiescent states, callbacks.
 *
 * A grace period (GP) is over when every CPU in RCU's books has passed a
 * quiescent state (QS) — a point where it cannot be inside a read-side
 * critical section — since the GP began. In this flavour a reader is a
 * preempt-disabled region, so the QS are: a context switch, a tick that
 * interrupted code with preempt count 0 and no other interrupt, and idle —
 * an "extended" QS that nobody has to report: the GP kthread reads the
 * idle CPU's dynticks counter instead (even = idle, odd = RCU watching).
 *
 * The GP kthread ("rcu_gp"), driven by requests:
 *
 *      IDLE ──request (gp_seq_needed ahead)──▶ INIT ──▶ WAIT_FQS ⇄ FQS ──root empty──▶ CLEANUP ─┐
 *       ▲                                                                                        │
 *       └──────────────────── nothing more needed ◀──── gp_seq_needed reached? ◀─────────────────┘
 *
 *  INIT     gp_seq → running; under ofl_lock, the books: every leaf's
 *           qsmaskinit := qsmaskinitnext, emptiness propagated up, then
 *           qsmask := qsmaskinit breadth-first (tree_geometry.c).
 *  FQS      at once (rcu.jiffies_till_first_fqs=0) and then every
 *           rcu.jiffies_till_next_fqs: for every CPU still in a leaf's
 *           qsmask, idle now or been idle since the first look? → report.
 *  CLEANUP  every node's gp_seq := the end value, then rcu_state.gp_seq;
 *           waiters of synchronize_rcu() and polled cookies woken.
 *
 * Quiescent-state reports climb the tree (rcu_report_qs_rnp): clear the
 * CPU's bit in its leaf; a node whose qsmask empties clears its own bit in
 * the parent; the root emptying ends the GP. Each node's lock is held only
 * for its own step, never two at once, so reports from many CPUs contend
 * only where their paths meet.
 *
 * Per CPU (rcu_core, from the tick, interrupts off): notice a new GP (its
 * leaf's gp_seq moved), move callbacks whose GP ended to DONE (advance),
 * give new ones a GP number and request it (accelerate), report this CPU's
 * QS, invoke DONE callbacks, rcu.blimit at a time — unlimited while the
 * list is above rcu.qhimark, which also makes the GP kthread force QS now.
 *
 * Lock order: ofl_lock → a node's lock; barrier_lock → a leaf's lock. A
 * node lock is never held while taking another node's, nor while waking
 * the GP kthread. All of them are taken with interrupts off.
 *
 * Nothing here reads cpu_online_mask to decide whom a GP waits for: the
 * books are edited only by the hotplug callbacks in tree_hotplug.c.
 * Tests: rcutorture (kernel/torture/rcutorture.c, scenarios rcutorture-*),
 * ktests rcu.* (rcu_ktest.c), unit tests of the pure parts.
 */
#include <asm/barrier.h>
#include <asm/cpu.h>
#include <grace/completion.h>
#include <grace/irq.h>
#include <grace/kthread.h>
#include <grace/mm.h>
#include <grace/mutex.h>
#include <grace/panic.h>
#include <grace/param.h>
#include <grace/printk.h>
#include <grace/sched.h>
#include <grace/smp.h>
#include <grace/time.h>
#include <grace/wait.h>
#include <grace/trace.h>

#include "rcu_seq.h"
#include "tree.h"

struct rcu_state rcu_state = {
	.ofl_lock = SPINLOCK_INIT,
	.barrier_lock = SPINLOCK_INIT,
};
DEFINE_PER_CPU(struct rcu_data, rcu_data);

static DECLARE_WAIT_QUEUE_HEAD(rcu_gp_wq);        /* the GP kthread sleeps here */
static DECLARE_WAIT_QUEUE_HEAD(rcu_gp_done_wq);   /* synchronize_rcu() waiters */
static bool rcu_ready;

static int rcu_fanout = 16, rcu_fanout_leaf = 16;
int rcu_blimit = 10;
static int rcu_qhimark = 10000, rcu_qlowmark = 100;
static int rcu_jiffies_first_fqs, rcu_jiffies_next_fqs = 1;
static int rcu_seq_wrap_gps;
static int rcu_jiffies_to_sched_qs = 2;
param_int("rcu.jiffies_to_sched_qs", rcu_jiffies_to_sched_qs, 0, 100000,
	  "GP age after which FQS makes holdout CPUs reschedule");
param_int("rcu.fanout", rcu_fanout, RCU_FANOUT_MIN, RCU_FANOUT_MAX, "children per interior rcu_node");
param_int("rcu.fanout_leaf", rcu_fanout_leaf, RCU_FANOUT_MIN, RCU_FANOUT_MAX, "CPUs per leaf rcu_node");
param_int("rcu.blimit", rcu_blimit, 1, 1000000, "callbacks invoked per batch");
param_int("rcu.qhimark", rcu_qhimark, 10, 10000000, "queue length that lifts blimit and forces a GP");
param_int("rcu.qlowmark", rcu_qlowmark, 0, 10000000, "queue length that restores blimit");
param_int("rcu.jiffies_till_first_fqs", rcu_jiffies_first_fqs, 0, 1000, "ticks from GP start to the first FQS scan");
param_int("rcu.jiffies_till_next_fqs", rcu_jiffies_next_fqs, 1, 1000, "ticks between FQS scans");
param_int("rcu.seq_wrap_gps", rcu_seq_wrap_gps, 0, 1000000000,
	  "DEBUG: start gp_seq this many GPs before the wrap-around (0: at zero)");

static inline int atomic_inc_return(int *v)
{
	return __atomic_add_fetch(v, 1, __ATOMIC_SEQ_CST);
}

static inline bool dynticks_in_eqs(int v)
{
	return !(v & 1);
}

/* ---- requesting and running grace periods ----------------------------- */

static void rcu_gp_kthread_wake(void)
{
	if (READ_ONCE(rcu_state.gp_kthread))
		wake_up(&rcu_gp_wq);
}

/*
 * Someone needs the GP that ends at cookie `s`. Recorded at the root (at
 * this scale one lock is no bottleneck; Linux funnels up from the leaf).
 * A GP running now that ends short of `s` gets a successor at cleanup.
 * Call with no rcu_node lock held.
 */
void rcu_start_this_gp(unsigned long s)
{
	struct rcu_node *root = &rcu_state.node[0];
	unsigned long flags = local_irq_save();
	bool wake = false;

	spin_lock(&root->lock);
	if (!ULONG_CMP_GE(root->gp_seq_needed, s) && !rcu_seq_done(&rcu_state.gp_seq, s)) {
		root->gp_seq_needed = s;
		if (!rcu_seq_state(rcu_state.gp_seq) && !(rcu_state.gp_flags & RCU_GP_FLAG_INIT)) {
			rcu_state.gp_flags |= RCU_GP_FLAG_INIT;
			WRITE_ONCE(rcu_state.gp_asked_ns, ktime_get_ns());
			wake = true;
		}
	}
	spin_unlock(&root->lock);
	if (wake)
		rcu_gp_kthread_wake();
	local_irq_restore(flags);
}

/*
 * Clear `mask` in rnp (whose lock the caller holds, `flags` from the
 * caller's irqsave) and up the tree while nodes empty. Releases the lock.
 * Pure version: rcu_books_report() in tree_geometry.c.
 */
void rcu_report_qs_rnp(u64 mask, struct rcu_node *rnp, unsigned long gp_seq, unsigned long flags)
{
	bool done = false;

	for (;;) {
		if (!(rnp->qsmask & mask) || rnp->gp_seq != gp_seq)
			break;              /* already reported, or another GP */
		WRITE_ONCE(rnp->qsmask, rnp->qsmask & ~mask);
		if (rnp->qsmask)
			break;
		if (rnp->parent < 0) {
			done = true;
			break;
		}
		mask = rnp->grpmask;
		spin_unlock(&rnp->lock);
		rnp = &rcu_state.node[rnp->parent];
		spin_lock(&rnp->lock);
	}
	spin_unlock(&rnp->lock);
	if (done)
		rcu_gp_kthread_wake();
	local_irq_restore(flags);
}

static bool rcu_gp_init(void)
{
	struct rcu_node *root = &rcu_state.node[0];
	struct rcu_tree_shape *s = &rcu_state.shape;
	static u64 bug_src[NR_CPUS_MAX];
	unsigned long flags, gp;

	flags = local_irq_save();
	spin_lock(&root->lock);
	if (!(rcu_state.gp_flags & RCU_GP_FLAG_INIT)) {
		spin_unlock(&root->lock);
		local_irq_restore(flags);
		return false;
	}
	rcu_state.gp_flags &= ~RCU_GP_FLAG_INIT;
	if (WARN_ON(rcu_seq_state(rcu_state.gp_seq))) {
		spin_unlock(&root->lock);
		local_irq_restore(flags);
		return false;
	}
	/* The start time first: whoever sees the GP running sees its start
	 * (pairs with smp_rmb() in rcu_check_gp_stall()). */
	WRITE_ONCE(rcu_state.gp_start_ns, ktime_get_ns());
	smp_wmb();
	rcu_seq_start(&rcu_state.gp_seq);
	gp = rcu_state.gp_seq;
	rcu_state.n_gps_started++;
	trace_event(TRACE_RCU_GP_START, (u32)rcu_seq_ctr(gp), gp, 0);
	spin_unlock(&root->lock);

	/*
	 * The books. Holding ofl_lock, no CPU enters or leaves qsmaskinitnext
	 * until every node is armed: a CPU that reports itself offline after
	 * this finds its qsmask bit set and reports a QS for it; one that did
	 * before is not in qsmaskinit at all. A CPU coming online now waits
	 * and is in the next GP — this one began before it was there.
	 */
	spin_lock(&rcu_state.ofl_lock);
	if (unlikely(rcu_bug_gp_init_online_mask)) {
		rcu_bug_online_leaf_masks(s, rcu_state.node, bug_src);
		rcu_books_propagate(s, rcu_state.node, bug_src);
	} else {
		rcu_books_propagate(s, rcu_state.node, NULL);
	}
	/* Breadth-first: a parent is armed before its children, so a report
	 * climbing from an armed leaf finds its parent waiting for it. */
	for (unsigned int i = 0; i < s->nr_nodes; i++) {
		struct rcu_node *rnp = &rcu_state.node[i];

		spin_lock(&rnp->lock);
		rcu_books_arm(rnp, gp);
		spin_unlock(&rnp->lock);
	}
	spin_unlock(&rcu_state.ofl_lock);
	local_irq_restore(flags);
	return true;
}

/* Is this CPU idle now, or has it been idle since FQS first looked in GP gp? */
static bool rcu_fqs_cpu_quiescent(struct rcu_data *rdp, unsigned long gp)
{
	int snap;

	/* Pairs with the fully ordered increments in rcu_idle_enter/exit and
	 * rcu_nmi_enter/exit: seeing "idle" means any reader the CPU runs
	 * after this starts after our GP's beginning. */
	smp_mb();
	snap = __atomic_load_n(&rdp->dynticks, __ATOMIC_SEQ_CST);
	if (rdp->dynticks_snap_gp != gp) {
		rdp->dynticks_snap_gp = gp;
		rdp->dynticks_snap = snap;
		return dynticks_in_eqs(snap);
	}
	return dynticks_in_eqs(snap) || snap != rdp->dynticks_snap;
}

static void rcu_force_qs(unsigned long gp)
{
	struct rcu_tree_shape *s = &rcu_state.shape;
	/* Older than rcu.jiffies_to_sched_qs: push the holdouts. */
	bool old = ktime_get_ns() - rcu_state.gp_start_ns >
		   (u64)rcu_jiffies_to_sched_qs * 1000000000ULL / (tick_hz ? tick_hz : 100);

	for (unsigned int i = rcu_first_leaf(s); i < s->nr_nodes; i++) {
		struct rcu_node *rnp = &rcu_state.node[i];
		unsigned long flags = local_irq_save();
		u64 mask = 0;

		spin_lock(&rnp->lock);
		if (rnp->gp_seq != gp || !rnp->qsmask) {
			spin_unlock(&rnp->lock);
			local_irq_restore(flags);
			continue;
		}
		for (unsigned int cpu = rnp->grplo; cpu <= rnp->grphi; cpu++) {
			u64 bit = 1ULL << (cpu - rnp->grplo);
			struct rcu_data *rdp = per_cpu_ptr(&rcu_data, cpu);

			if (!(rnp->qsmask & bit))
				continue;
			if (rcu_fqs_cpu_quiescent(rdp, gp)) {
				mask |= bit;
				rdp->n_fqs_reported++;
			} else if (old && rdp->cpu != smp_processor_id()) {
				/* A holdout: ask it to reschedule; its next
				 * preemption point is a context switch, a QS. */
				WRITE_ONCE(per_cpu(sched_need_resched, rdp->cpu), 1);
				smp_send_reschedule(rdp->cpu);
			}
		}
		if (mask) {
			rcu_report_qs_rnp(mask, rnp, gp, flags);
		} else {
			spin_unlock(&rnp->lock);
			local_irq_restore(flags);
		}
	}
}

static void rcu_gp_fqs_loop(unsigned long gp)
{
	struct rcu_node *root = &rcu_state.node[0];
	long j = rcu_jiffies_first_fqs;

	for (;;) {
		if (j) {
			/* Where its timer is, for the stall report (tree_stall.c). */
			WRITE_ONCE(rcu_state.fqs_sleep_cpu, smp_processor_id());
			WRITE_ONCE(rcu_state.fqs_wake_jiffies, jiffies_now() + (u64)j);
			WRITE_ONCE(rcu_state.gp_state, RCU_GP_WAIT_FQS);
			wait_event_timeout(rcu_gp_wq, !READ_ONCE(root->qsmask) ||
					   (READ_ONCE(rcu_state.gp_flags) & RCU_GP_FLAG_FQS), j);
		}
		if (!READ_ONCE(root->qsmask))
			return;
		WRITE_ONCE(rcu_state.gp_state, RCU_GP_FQS);
		__atomic_fetch_and(&rcu_state.gp_flags, ~RCU_GP_FLAG_FQS, __ATOMIC_RELAXED);
		rcu_force_qs(gp);
		rcu_state.n_fqs++;
		if (!READ_ONCE(root->qsmask))
			return;
		j = rcu_jiffies_next_fqs;
	}
}

static void rcu_gp_cleanup(void)
{
	struct rcu_node *root = &rcu_state.node[0];
	struct rcu_tree_shape *s = &rcu_state.shape;
	unsigned long end = rcu_seq_endval(rcu_state.gp_seq);
	unsigned long flags;
	u64 dur;

	WRITE_ONCE(rcu_state.gp_state, RCU_GP_CLEANUP);
	for (unsigned int i = 0; i < s->nr_nodes; i++) {
		struct rcu_node *rnp = &rcu_state.node[i];

		flags = local_irq_save();
		spin_lock(&rnp->lock);
		WARN_ON(rnp->qsmask);
		WRITE_ONCE(rnp->gp_seq, end);
		spin_unlock(&rnp->lock);
		local_irq_restore(flags);
	}
	flags = local_irq_save();
	spin_lock(&root->lock);
	dur = ktime_get_ns() - rcu_state.gp_start_ns;
	rcu_state.gp_last_ns = dur;
	if (dur > rcu_state.gp_max_ns)
		rcu_state.gp_max_ns = dur;
	/* Pairs with smp_mb() in poll_state_synchronize_rcu(): whoever sees
	 * the new value sees every reader of this GP finished. */
	smp_mb();
	trace_event(TRACE_RCU_GP_END, (u32)rcu_seq_ctr(rcu_state.gp_seq), rcu_state.gp_seq, 0);
	rcu_seq_end(&rcu_state.gp_seq);
	if (ULONG_CMP_LT(rcu_state.gp_seq, root->gp_seq_needed)) {
		rcu_state.gp_flags |= RCU_GP_FLAG_INIT;
		WRITE_ONCE(rcu_state.gp_asked_ns, ktime_get_ns());
	}
	spin_unlock(&root->lock);
	local_irq_restore(flags);
	wake_up_all(&rcu_gp_done_wq);
}

static int rcu_gp_kthread(void *unused)
{
	(void)unused;
	for (;;) {
		WRITE_ONCE(rcu_state.gp_state, RCU_GP_IDLE);
		wait_event(rcu_gp_wq, READ_ONCE(rcu_state.gp_flags) & RCU_GP_FLAG_INIT);
		WRITE_ONCE(rcu_state.gp_state, RCU_GP_INIT);
		if (!rcu_gp_init())
			continue;
		rcu_gp_fqs_loop(READ_ONCE(rcu_state.gp_seq));
		rcu_gp_cleanup();
	}
	return 0;
}

/* ---- per-CPU: noticing GPs, reporting QS, callbacks ------------------- */

/*
 * Give new callbacks a GP number; true (and *need) if that GP must be
 * requested. The leaf's lock is held, interrupts are off. The number is a
 * snapshot of the authoritative counter, so it can only be conservative.
 */
bool rcu_accelerate_cbs(struct rcu_node *rnp, struct rcu_data *rdp, unsigned long *need)
{
	unsigned long s;

	(void)rnp;
	if (!rcu_segcblist_pend_cbs(&rdp->cblist))
		return false;
	s = rcu_seq_snap(&rcu_state.gp_seq);
	if (!rcu_segcblist_accelerate(&rdp->cblist, s))
		return false;
	*need = s;
	return true;
}

/* Catch up with the leaf (its lock held, interrupts off). */
static bool note_gp_changes_locked(struct rcu_node *rnp, struct rcu_data *rdp, unsigned long *need)
{
	unsigned long leaf_gp = rnp->gp_seq;

	if (rdp->gp_seq != leaf_gp) {
		rcu_segcblist_advance(&rdp->cblist, leaf_gp);
		if (rcu_seq_new_gp(rdp->gp_seq, leaf_gp)) {
			bool need_qs = !!(rnp->qsmask & rdp->grpmask);

			rdp->cpu_no_qs = need_qs;
			rdp->core_needs_qs = need_qs;
		} else {
			rdp->core_needs_qs = false;   /* the GP we knew has ended */
		}
		rdp->gp_seq = leaf_gp;
	}
	return rcu_accelerate_cbs(rnp, rdp, need);
}

static void note_gp_changes(struct rcu_data *rdp)
{
	struct rcu_node *rnp = rdp->mynode;
	unsigned long need = 0;
	bool req;

	spin_lock(&rnp->lock);
	req = note_gp_changes_locked(rnp, rdp, &need);
	spin_unlock(&rnp->lock);
	if (req)
		rcu_start_this_gp(need);
}

/* This CPU passed a QS in the GP it noticed: tell its leaf. Irqs off. */
static void rcu_report_qs_rdp(struct rcu_data *rdp)
{
	struct rcu_node *rnp = rdp->mynode;
	unsigned long flags = local_irq_save();

	spin_lock(&rnp->lock);
	if (rdp->cpu_no_qs || rdp->gp_seq != rnp->gp_seq) {
		/* The QS predates a GP this CPU has not noticed yet. */
		spin_unlock(&rnp->lock);
		local_irq_restore(flags);
		return;
	}
	rdp->core_needs_qs = false;
	if (!(rnp->qsmask & rdp->grpmask)) {
		spin_unlock(&rnp->lock);
		local_irq_restore(flags);
		return;
	}
	rdp->n_qs_reported++;
	trace_event(TRACE_RCU_QS, (u32)rcu_seq_ctr(rnp->gp_seq), rdp->cpu, 0);
	rcu_report_qs_rnp(rdp->grpmask, rnp, rnp->gp_seq, flags);
}

static void rcu_invoke_one(struct rcu_head *rhp)
{
	unsigned long off = (unsigned long)rhp->func;

	if (off < RCU_KFREE_MAX_OFFSET)
		kfree((char *)rhp - off);      /* kfree_rcu() */
	else
		rhp->func(rhp);
}

/* Invoke DONE callbacks, in order, at most blimit of them. Irqs off. */
static void rcu_do_batch(struct rcu_data *rdp)
{
	struct rcu_cblist rcl;
	struct rcu_head *rhp;
	long count = 0, bl = rdp->blimit;

	rcu_segcblist_extract_done_cbs(&rdp->cblist, &rcl);
	while ((rhp = rcu_cblist_dequeue(&rcl))) {
		rcu_invoke_one(rhp);
		if (++count >= bl)
			break;
	}
	rcu_segcblist_insert_done_cbs(&rdp->cblist, &rcl);
	rdp->n_cbs_invoked += (unsigned long)count;
	trace_event(TRACE_RCU_CB, (u32)count, 0, 0);
	if (rdp->blimit != rcu_blimit && rcu_segcblist_n_cbs(&rdp->cblist) <= rcu_qlowmark)
		rdp->blimit = rcu_blimit;
}

/* A queue past the high-water mark: no batch limit, and QS forced now. */
static void rcu_check_hiwater(struct rcu_data *rdp)
{
	long n = rcu_segcblist_n_cbs(&rdp->cblist);

	if (n > rdp->qlen_hiwater)
		rdp->qlen_hiwater = n;
	if (unlikely(rcu_bug_no_hiwater))
		return;
	if (n > rcu_qhimark && rdp->blimit == rcu_blimit) {
		rdp->blimit = 1L << 30;
		__atomic_fetch_or(&rcu_state.gp_flags, RCU_GP_FLAG_FQS, __ATOMIC_RELAXED);
		rcu_gp_kthread_wake();
	}
}

static void rcu_core(bool tick_qs)
{
	struct rcu_data *rdp = this_cpu_ptr(&rcu_data);

	if (!READ_ONCE(rdp->rcu_online))
		return;
	if (READ_ONCE(rdp->mynode->gp_seq) != rdp->gp_seq || rcu_segcblist_next_pend(&rdp->cblist))
		note_gp_changes(rdp);
	if (tick_qs) {
		rdp->cpu_no_qs = false;      /* after noticing: valid for that GP */
		rcu_exp_cpu_qs(rdp);
	}
	if (rdp->core_needs_qs && !rdp->cpu_no_qs)
		rcu_report_qs_rdp(rdp);
	rcu_check_hiwater(rdp);
	if (rcu_segcblist_ready_cbs(&rdp->cblist))
		rcu_do_batch(rdp);
	if (!tick_qs && rdp->core_needs_qs)
		rcu_check_self_stall(rdp);
	rcu_check_gp_stall();
}

void rcu_sched_clock_irq(void)
{
	if (!READ_ONCE(rcu_ready))
		return;
	/* The tick is the only interrupt level and what it interrupted had
	 * preemption on: not inside any reader. */
	rcu_core(preempt_count() == 0 && this_cpu()->irq_depth == 1);
}

void rcu_note_context_switch(void)
{
	struct rcu_data *rdp;

	if (!READ_ONCE(rcu_ready))
		return;
	rdp = this_cpu_ptr(&rcu_data);
	if (!READ_ONCE(rdp->rcu_online))
		return;
	if (READ_ONCE(rdp->mynode->gp_seq) != rdp->gp_seq)
		note_gp_changes(rdp);
	rdp->cpu_no_qs = false;          /* no reader survives a context switch */
	if (rdp->core_needs_qs)
		rcu_report_qs_rdp(rdp);
	rcu_exp_cpu_qs(rdp);
}

/* ---- idle, interrupts and NMIs --------------------------------------- */

void rcu_idle_enter(void)
{
	struct rcu_data *rdp = this_cpu_ptr(&rcu_data);

	DEBUG_CHECK(irqs_disabled());
	DEBUG_CHECK(rdp->dynticks_nmi_nesting == 0);   /* no interrupt level open */
	rcu_exp_cpu_qs(rdp);             /* idle is a quiescent state */
	/* Fully ordered: everything before is seen by an FQS that sees idle. */
	atomic_inc_return(&rdp->dynticks);
}

void rcu_idle_exit(void)
{
	unsigned long flags = local_irq_save();

	/* Fully ordered: readers after this are seen by FQS as not idle. */
	atomic_inc_return(&this_cpu_ptr(&rcu_data)->dynticks);
	local_irq_restore(flags);
}

/*
 * An interrupt or NMI makes RCU watch an idle CPU for its duration (its
 * handlers may hold readers). dynticks_nmi_nesting counts levels by 2, or
 * 1 for the level that ended the idle state; that level's exit restores
 * it. An NMI may land between the test and the increment of an irq's
 * entry: it leaves the counter as it found it, so the irq's view holds.
 */
void rcu_nmi_enter(void)
{
	struct rcu_data *rdp = this_cpu_ptr(&rcu_data);
	long incby = 2;

	if (dynticks_in_eqs(READ_ONCE(rdp->dynticks)) && !(rcu_bug_nmi_idle && in_nmi())) {
		atomic_inc_return(&rdp->dynticks);
		incby = 1;
	}
	WRITE_ONCE(rdp->dynticks_nmi_nesting, rdp->dynticks_nmi_nesting + incby);
	barrier();
}

void rcu_nmi_exit(void)
{
	struct rcu_data *rdp = this_cpu_ptr(&rcu_data);
	long n = rdp->dynticks_nmi_nesting;

	barrier();
	if (n != 1) {
		WRITE_ONCE(rdp->dynticks_nmi_nesting, n - 2);
		return;
	}
	WRITE_ONCE(rdp->dynticks_nmi_nesting, 0);
	atomic_inc_return(&rdp->dynticks);
}

void rcu_irq_enter(void)
{
	rcu_nmi_enter();
}

void rcu_irq_exit(void)
{
	rcu_nmi_exit();
}

bool rcu_is_watching(void)
{
	return !dynticks_in_eqs(READ_ONCE(this_cpu_ptr(&rcu_data)->dynticks));
}

/* nohz: callbacks advance and run from the tick, so this CPU keeps it. */
bool rcu_needs_cpu(void)
{
	return !rcu_segcblist_empty(&this_cpu_ptr(&rcu_data)->cblist);
}

bool rcu_cpu_online(unsigned int cpu)
{
	return cpu < NR_CPUS && cpu_possible(cpu) && READ_ONCE(per_cpu(rcu_data, cpu).rcu_online);
}

#ifdef CONFIG_DEBUG
bool rcu_read_lock_held(void)
{
	return preempt_count() != 0 || irqs_disabled() || in_nmi() || in_irq();
}

void rcu_lockdep_warn(const char *msg, const char *file, int line)
{
	printk("rcu: %s at %s:%d\n", msg, file, line);
	WARN_ON(1);
}
#endif

/* ---- the updater's API ------------------------------------------------ */

void call_rcu(struct rcu_head *head, rcu_callback_t func)
{
	unsigned long flags, need = 0;
	struct rcu_data *rdp;
	bool req = false;

	head->func = func;
	head->next = NULL;
	flags = local_irq_save();
	rdp = this_cpu_ptr(&rcu_data);
	rcu_segcblist_enqueue(&rdp->cblist, head);
	rcu_check_hiwater(rdp);
	if (READ_ONCE(rcu_ready) && READ_ONCE(rdp->rcu_online)) {
		/* Ask for its GP now rather than at the next tick. */
		spin_lock(&rdp->mynode->lock);
		req = rcu_accelerate_cbs(rdp->mynode, rdp, &need);
		spin_unlock(&rdp->mynode->lock);
	}
	if (req)
		rcu_start_this_gp(need);
	local_irq_restore(flags);
}

void kvfree_call_rcu(struct rcu_head *head, unsigned long offset)
{
	call_rcu(head, (rcu_callback_t)offset);
}

unsigned long get_state_synchronize_rcu(void)
{
	/* Orders the caller's earlier accesses (the removal) before the
	 * snapshot; pairs with smp_mb() in rcu_gp_cleanup(). */
	smp_mb();
	return rcu_seq_snap(&rcu_state.gp_seq);
}

unsigned long start_poll_synchronize_rcu(void)
{
	unsigned long s = get_state_synchronize_rcu();

	if (READ_ONCE(rcu_ready))
		rcu_start_this_gp(s);
	return s;
}

bool poll_state_synchronize_rcu(unsigned long cookie)
{
	/*
	 * The root node first: cleanup ends the GP in every node, root first,
	 * before rcu_state.gp_seq, and a CPU invokes callbacks as soon as its
	 * leaf says the GP ended. Asking only rcu_state would let a callback
	 * run while the polled state of the same GP still says "not yet"
	 * (rcu.call saw it on a DEBUG build). The root's value is written under
	 * its lock after every quiescent state was reported through the tree.
	 */
	bool done = rcu_seq_done(&rcu_state.node[0].gp_seq, cookie) ||
		    rcu_seq_done(&rcu_state.gp_seq, cookie);

	/* Pairs with smp_mb() in rcu_gp_cleanup(): the caller's later
	 * accesses (the free) come after every reader of that GP. */
	smp_mb();
	return done;
}

void cond_synchronize_rcu(unsigned long cookie)
{
	if (poll_state_synchronize_rcu(cookie))
		return;
	rcu_start_this_gp(cookie);
	wait_event(rcu_gp_done_wq, poll_state_synchronize_rcu(cookie));
}

void synchronize_rcu(void)
{
	might_sleep();
	if (!READ_ONCE(rcu_state.gp_kthread))
		return;   /* early boot: one CPU, no reader can be running */
	cond_synchronize_rcu(start_poll_synchronize_rcu());
}

unsigned long rcu_gp_completed(void)
{
	return rcu_seq_ctr(READ_ONCE(rcu_state.gp_seq) - rcu_seq_from_ctr((unsigned long)-rcu_seq_wrap_gps));
}

/* ---- rcu_barrier -------------------------------------------------------- */

static DEFINE_MUTEX(rcu_barrier_mutex);
static struct completion rcu_barrier_completion;

static void rcu_barrier_callback(struct rcu_head *rhp)
{
	(void)rhp;
	if (!__atomic_sub_fetch(&rcu_state.barrier_cpu_count, 1, __ATOMIC_SEQ_CST))
		complete(&rcu_barrier_completion);
}

/* >>> LAB tree-rcu:barrier (docs/labs/tree-rcu/README.md) */
/*
 * Queue this rdp's barrier callback behind its last callback, once per
 * barrier. barrier_lock held, interrupts off; on the CPU itself or, for a
 * CPU out of RCU's books, anywhere (nobody else touches its list then).
 */
void rcu_barrier_entrain(struct rcu_data *rdp)
{
	unsigned long gseq = READ_ONCE(rcu_state.barrier_sequence);

	if (!rcu_seq_state(gseq) || rdp->barrier_seq_snap == gseq)
		return;
	rdp->barrier_head.func = rcu_barrier_callback;
	__atomic_add_fetch(&rcu_state.barrier_cpu_count, 1, __ATOMIC_SEQ_CST);
	if (rcu_segcblist_entrain(&rdp->cblist, &rdp->barrier_head)) {
		rcu_state.n_barrier_cbs++;
	} else if (unlikely(rcu_bug_barrier_never_online) && !rdp->rcu_online) {
		/* INJECTED BUG: post to a CPU with nothing queued — one that may
		 * never have been online, whose list nobody will ever invoke. */
		rcu_segcblist_enqueue(&rdp->cblist, &rdp->barrier_head);
		rcu_state.n_barrier_cbs++;
	} else {
		/* Nothing queued there: nothing to wait for (the count is at
		 * least the 2 rcu_barrier() holds, so it cannot reach 0). */
		__atomic_sub_fetch(&rcu_state.barrier_cpu_count, 1, __ATOMIC_SEQ_CST);
	}
	smp_store_release(&rdp->barrier_seq_snap, gseq);  /* pairs with the loop's acquire */
}

static void rcu_barrier_handler(void *arg)
{
	struct rcu_data *rdp = arg;

	spin_lock(&rcu_state.barrier_lock);
	rcu_barrier_entrain(rdp);
	spin_unlock(&rcu_state.barrier_lock);
}

/*
 * Wait for every callback queued before the call to have been invoked.
 * Each CPU invokes its callbacks in order, so one callback behind the last
 * on each CPU that has any is enough: online CPUs entrain it themselves
 * (an IPI); CPUs out of the books get it directly on their list, which the
 * migration at their DEAD step carries to a live CPU (it entrains too, for
 * a barrier that has not reached that CPU yet). No GP is started when no
 * CPU has callbacks; CPUs that never came online have none, so no
 * callback is ever posted to them; and CPU hotplug is not blocked.
 */
void rcu_barrier(void)
{
	unsigned long s, gseq, flags;
	unsigned int cpu;

	might_sleep();
	if (unlikely(rcu_bug_barrier_hotplug_lock))
		cpus_read_lock();            /* INJECTED BUG */
	mutex_lock(&rcu_barrier_mutex);
	s = rcu_seq_snap(&rcu_state.barrier_sequence);
	if (rcu_seq_done(&rcu_state.barrier_sequence, s)) {
		/* Someone's whole barrier ran after we were called. */
		smp_mb();
		goto out;
	}
	init_completion(&rcu_barrier_completion);
	__atomic_store_n(&rcu_state.barrier_cpu_count, 2, __ATOMIC_SEQ_CST);
	rcu_seq_start(&rcu_state.barrier_sequence);
	gseq = rcu_state.barrier_sequence;
	smp_mb();   /* the callers' call_rcu()s are visible in the lengths below */

	for_each_possible_cpu(cpu) {
		struct rcu_data *rdp = per_cpu_ptr(&rcu_data, cpu);
retry:
		if (smp_load_acquire(&rdp->barrier_seq_snap) == gseq)
			continue;
		flags = local_irq_save();
		spin_lock(&rcu_state.barrier_lock);
		if (!rcu_segcblist_n_cbs(&rdp->cblist) &&
		    !(rcu_bug_barrier_never_online && !READ_ONCE(rdp->rcu_online))) {
			WRITE_ONCE(rdp->barrier_seq_snap, gseq);
			spin_unlock(&rcu_state.barrier_lock);
			local_irq_restore(flags);
			continue;
		}
		if (!READ_ONCE(rdp->rcu_online)) {
			rcu_barrier_entrain(rdp);
			spin_unlock(&rcu_state.barrier_lock);
			local_irq_restore(flags);
			continue;
		}
		spin_unlock(&rcu_state.barrier_lock);
		local_irq_restore(flags);
		if (smp_call_function_single(cpu, rcu_barrier_handler, rdp, 1)) {
			/* Between its online bit and its RCU report: soon out of
			 * the books, then entrained directly. */
			schedule_timeout_uninterruptible(1);
			goto retry;
		}
	}
	if (!__atomic_sub_fetch(&rcu_state.barrier_cpu_count, 2, __ATOMIC_SEQ_CST))
		complete(&rcu_barrier_completion);
	wait_for_completion(&rcu_barrier_completion);
	rcu_seq_end(&rcu_state.barrier_sequence);
out:
	mutex_unlock(&rcu_barrier_mutex);
	if (unlikely(rcu_bug_barrier_hotplug_lock))
		cpus_read_unlock();
}
/* <<< LAB tree-rcu:barrier */

/* ---- boot --------------------------------------------------------------- */

void rcu_init(void)
{
	struct rcu_tree_shape *s = &rcu_state.shape;
	unsigned long start = rcu_seq_from_ctr((unsigned long)-rcu_seq_wrap_gps);
	unsigned int cpu;

	if (rcu_tree_build(nr_cpu_ids, (unsigned int)rcu_fanout, (unsigned int)rcu_fanout_leaf,
			   s, rcu_state.node, RCU_MAX_NODES)) {
		printk("rcu: cannot build a tree for %u CPUs with fanout %d, leaf %d; using 16/16\n",
		       nr_cpu_ids, rcu_fanout, rcu_fanout_leaf);
		rcu_fanout = rcu_fanout_leaf = 16;
		if (rcu_tree_build(nr_cpu_ids, 16, 16, s, rcu_state.node, RCU_MAX_NODES))
			panic("rcu: no tree for %u CPUs", nr_cpu_ids);
	}
	rcu_state.gp_seq = start;
	for (unsigned int i = 0; i < s->nr_nodes; i++) {
		spin_lock_init(&rcu_state.node[i].lock);
		rcu_state.node[i].gp_seq = start;
		rcu_state.node[i].gp_seq_needed = start;
	}
	for_each_possible_cpu(cpu) {
		struct rcu_data *rdp = per_cpu_ptr(&rcu_data, cpu);
		struct rcu_node *leaf = &rcu_state.node[rcu_leaf_of_cpu(s, cpu)];

		rdp->cpu = cpu;
		rdp->mynode = leaf;
		rdp->grpmask = 1ULL << (cpu - leaf->grplo);
		rdp->gp_seq = start;
		rdp->blimit = rcu_blimit;
		rdp->dynticks_snap_gp = start - 1;
		rcu_segcblist_init(&rdp->cblist);   /* nothing is queued before rcu_init */
	}
	/* The boot CPU is online: in the books, and watched. Interrupts off,
	 * so no irq entry sees the counter half set. */
	{
		struct rcu_data *rdp = this_cpu_ptr(&rcu_data);
		unsigned long flags = local_irq_save();

		if (dynticks_in_eqs(rdp->dynticks))
			atomic_inc_return(&rdp->dynticks);
		rdp->dynticks_nmi_nesting = 0;
		rdp->mynode->qsmaskinitnext |= rdp->grpmask;
		rdp->rcu_online = rdp->beenonline = true;
		local_irq_restore(flags);
	}
	rcutree_register_hotplug();
	rcu_bugs_announce();
	smp_wmb();   /* the books before rcu_ready; pairs with READ_ONCE(rcu_ready) users */
	WRITE_ONCE(rcu_ready, true);
	rcu_state.gp_kthread = kthread_run(rcu_gp_kthread, NULL, "rcu_gp");
	if (!rcu_state.gp_kthread)
		panic("rcu: cannot start the grace-period kthread");
	printk("rcu: tree of %u rcu_nodes in %u levels (fanout %d, leaf %d) for %u CPU IDs, "
	       "blimit %d, qhimark %d%s\n", s->nr_nodes, s->levels, rcu_fanout, rcu_fanout_leaf,
	       nr_cpu_ids, rcu_blimit, rcu_qhimark, rcu_seq_wrap_gps ? ", gp_seq starts near the wrap" : "");
}
