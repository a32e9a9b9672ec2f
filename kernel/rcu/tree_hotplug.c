/*
 * tree_hotplug.c — how CPU hotplug edits RCU's books, and nothing else.
 *
 * RCU never asks cpu_online_mask whom a grace period waits for: that mask
 * changes at the wrong moments (a CPU leaves it long before it stops
 * running readers). It keeps its own books — each leaf's qsmaskinitnext —
 * and only these callbacks write them, each at the one point in the
 * hotplug walk where the statement it makes is true:
 *
 *   going up                                  going down
 *   rcu:prepare (control CPU)                 ONLINE teardowns, TEARDOWN_CPU:
 *     rcutree_prepare_cpu: fresh rcu_data       the CPU leaves cpu_online_mask,
 *   cpu:bringup → the AP, interrupts off        DYING teardowns, back to idle,
 *   rcu:dying (STARTING section)                per-CPU threads finish — and
 *     rcutree_report_cpu_starting: the CPU      may still run readers ("last
 *     is in qsmaskinitnext before it can run    gasps", cpuhp.dying_delay_ms)
 *     any reader; a GP already running does   idle loop, interrupts off:
 *     not wait for it                           rcutree_report_cpu_dead: after
 *   rcu:online (its hotplug thread)             its last reader; leaves
 *     rcutree_online_cpu                        qsmaskinitnext; a GP still
 *                                               waiting for it gets its QS now
 *                                             control CPU, FIRST DEAD step:
 *                                               rcutree_migrate_callbacks:
 *                                               its callbacks (and an rcu_barrier
 *                                               callback if one is running) to
 *                                               this CPU, before any DEAD
 *                                               callback may wait for a GP or a
 *                                               barrier
 *
 * Both reports take rcu_state.ofl_lock, which GP init holds while it copies
 * qsmaskinitnext into qsmaskinit and arms the tree: so a CPU is in a given
 * GP's books exactly when it reported "starting" before that GP's init and
 * "dead" after it. Hotplug is never blocked by RCU for longer than that
 * copy, and hotplug callbacks may wait for grace periods and rcu_barrier().
 *
 * The registration below is the only place these functions are tied to
 * the table (kernel/cpu.c: CPUHP_RCUTREE_PREP, CPUHP_AP_RCUTREE_DYING,
 * CPUHP_AP_RCUTREE_ONLINE), plus two direct calls: the idle loop's report
 * before play_dead (kernel/sched/idle.c) and the migration in takedown_cpu().
 * Tests: rcutorture with torture.onoff_interval_ms (scenarios
 * rcutorture-smp8-hotplug, rcu-bug-*); `rcu` shows the books.
 */
#include <asm/cpu.h>
#include <grace/cpuhotplug.h>
#include <grace/delay.h>
#include <grace/panic.h>
#include <grace/param.h>
#include <grace/printk.h>
#include <grace/smp.h>
#include <grace/time.h>
#include <grace/trace.h>

#include "rcu_seq.h"
#include "tree.h"

static int cpuhp_dying_delay_ms;
param_int("cpuhp.dying_delay_ms", cpuhp_dying_delay_ms, 0, 10000,
	  "hold an outgoing CPU this long inside a reader after it left the online mask, before RCU's report");

void (*rcu_last_gasp_reader)(unsigned int delay_ms);

/* PREPARE, control CPU: the incoming CPU's rcu_data starts clean. */
int rcutree_prepare_cpu(unsigned int cpu)
{
	struct rcu_data *rdp = per_cpu_ptr(&rcu_data, cpu);
	struct rcu_node *rnp = rdp->mynode;
	unsigned long flags = local_irq_save();

	spin_lock(&rnp->lock);
	rdp->gp_seq = rnp->gp_seq;
	rdp->cpu_no_qs = false;
	rdp->core_needs_qs = false;
	rdp->blimit = rcu_blimit;
	spin_unlock(&rnp->lock);
	local_irq_restore(flags);
	/* Its old callbacks went to a live CPU at its last DEAD step. */
	if (!rcu_bug_cbs_left_on_dead)
		WARN_ON(!rcu_segcblist_empty(&rdp->cblist));
	return 0;
}

/* DEAD teardown of rcu:prepare: the books must already say "offline". */
int rcutree_dead_cpu(unsigned int cpu)
{
	WARN_ON(rcu_cpu_online(cpu));
	return 0;
}

/* STARTING, on the incoming CPU, interrupts off, before it can run a reader. */
int rcutree_report_cpu_starting(unsigned int cpu)
{
	struct rcu_data *rdp = per_cpu_ptr(&rcu_data, cpu);
	struct rcu_node *rnp = rdp->mynode;
	unsigned long flags = local_irq_save();

	/* RCU watches a running CPU; no interrupt level is open here. */
	if (!(READ_ONCE(rdp->dynticks) & 1))
		__atomic_add_fetch(&rdp->dynticks, 1, __ATOMIC_SEQ_CST);
	rdp->dynticks_nmi_nesting = 0;
	spin_lock(&rcu_state.ofl_lock);
	spin_lock(&rnp->lock);
	WRITE_ONCE(rnp->qsmaskinitnext, rnp->qsmaskinitnext | rdp->grpmask);
	/* A GP running now began without this CPU: nothing is owed to it. */
	rdp->gp_seq = rnp->gp_seq;
	rdp->cpu_no_qs = false;
	rdp->core_needs_qs = false;
	rdp->beenonline = true;
	rdp->exp_need_qs = false;        /* not in a running expedited GP's expmask */
	WRITE_ONCE(rdp->rcu_online, true);
	spin_unlock(&rnp->lock);
	spin_unlock(&rcu_state.ofl_lock);
	local_irq_restore(flags);
	return 0;
}

/* DYING, on the outgoing CPU inside stop_machine: it may still run readers
 * afterwards (the scheduler does), so it is NOT out of the books yet. */
int rcutree_dying_cpu(unsigned int cpu)
{
	(void)cpu;
	return 0;
}

int rcutree_online_cpu(unsigned int cpu)
{
	WARN_ON(!rcu_cpu_online(cpu));
	return 0;
}

int rcutree_offline_cpu(unsigned int cpu)
{
	(void)cpu;
	return 0;
}

/*
 * The outgoing CPU, from its idle loop with interrupts off, right before
 * it reports dead and halts for good: nothing after this runs a reader.
 * First the "last gasps": with cpuhp.dying_delay_ms the CPU stalls inside
 * a reader as a preempted vCPU would (rcutorture checks that reader).
 */
void rcutree_report_cpu_dead(void)
{
	struct rcu_data *rdp = this_cpu_ptr(&rcu_data);
	struct rcu_node *rnp = rdp->mynode;
	unsigned long flags;
	void (*gasp)(unsigned int) = READ_ONCE(rcu_last_gasp_reader);

	if (cpuhp_dying_delay_ms) {
		rcu_read_lock();
		if (gasp)
			gasp((unsigned int)cpuhp_dying_delay_ms);
		else
			mdelay((unsigned long)cpuhp_dying_delay_ms);
		rcu_read_unlock();
	}
	flags = local_irq_save();
	spin_lock(&rcu_state.ofl_lock);
	spin_lock(&rnp->lock);
	WRITE_ONCE(rnp->qsmaskinitnext, rnp->qsmaskinitnext & ~rdp->grpmask);
	WRITE_ONCE(rdp->rcu_online, false);
	rcu_exp_cpu_offline(rdp);        /* an expedited GP waiting for it, too */
	if (rnp->qsmask & rdp->grpmask) {
		/* The running GP counted this CPU: its last reader is over. */
		trace_event(TRACE_RCU_QS, (u32)rcu_seq_ctr(rnp->gp_seq), rdp->cpu, 1);
		rcu_report_qs_rnp(rdp->grpmask, rnp, rnp->gp_seq, flags);
		spin_unlock(&rcu_state.ofl_lock);
		return;
	}
	spin_unlock(&rnp->lock);
	spin_unlock(&rcu_state.ofl_lock);
	local_irq_restore(flags);
}

static void migrate_callbacks(unsigned int cpu)
{
	struct rcu_data *rdp = per_cpu_ptr(&rcu_data, cpu), *my;
	unsigned long flags, need = 0;
	bool req;
	long n;

	if (rcu_segcblist_empty(&rdp->cblist))
		return;
	flags = local_irq_save();
	spin_lock(&rcu_state.barrier_lock);
	/* A barrier that has not visited this CPU yet waits for these too. */
	rcu_barrier_entrain(rdp);
	my = this_cpu_ptr(&rcu_data);
	spin_lock(&my->mynode->lock);
	n = rcu_segcblist_n_cbs(&rdp->cblist);
	rcu_segcblist_merge(&my->cblist, &rdp->cblist);
	req = rcu_accelerate_cbs(my->mynode, my, &need);
	spin_unlock(&my->mynode->lock);
	spin_unlock(&rcu_state.barrier_lock);
	rdp->n_cbs_orphaned += (unsigned long)n;
	my->n_cbs_adopted += (unsigned long)n;
	if (req)
		rcu_start_this_gp(need);
	local_irq_restore(flags);
}

/* Control CPU, the first thing after the CPU is dead (kernel/cpu.c). */
void rcutree_migrate_callbacks(unsigned int cpu)
{
	if (rcu_bug_cbs_left_on_dead || rcu_bug_late_cb_migration)
		return;   /* INJECTED BUGS (rcu_bugs.c) */
	migrate_callbacks(cpu);
}

/* rcu.bug_late_cb_migration=1: the migration as an ordinary dynamic DEAD
 * callback, registered first, so it runs after every later-registered one
 * — among them rcutorture's, which waits for rcu_barrier(). */
static int late_migrate_dead(unsigned int cpu)
{
	migrate_callbacks(cpu);
	return 0;
}

/*
 * The fixed RCU states are lines of the hotplug table (kernel/cpu.c,
 * cpuhp_hp_states[]). Only the injected bug adds one: a dynamic DEAD slot.
 */
void rcutree_register_hotplug(void)
{
	if (rcu_bug_late_cb_migration &&
	    cpuhp_setup_state(CPUHP_BP_PREPARE_DYN, "rcu:late-migrate", NULL, late_migrate_dead) < 0)
		printk("rcu: rcu.bug_late_cb_migration: no free dynamic PREPARE slot\n");
}
