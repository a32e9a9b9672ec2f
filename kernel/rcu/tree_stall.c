/*
 * tree_stall.c — RCU CPU stall warnings: a grace period older than
 * rcu.stall_timeout_s (21 s, Linux's default; 0 turns them off) is
 * reported from some CPU's tick (not by the GP kthread, which may itself be
 * stuck behind the stalling CPU), naming every CPU the grace
 * period still waits for, with its state (in RCU's books?, idle or watched
 * per its dynticks counter, interrupt nesting, whether it has noticed the
 * GP), the rcu_nodes still waiting, and each such CPU's backtrace taken
 * through an NMI. A CPU that finds, from its own tick, that it is itself
 * holding up an old grace period says so. Each GP is reported again every
 * further timeout. Nothing is printed in a normal run.
 * Test: scenario rcu-stall (rcutorture.stall_cpu_s holds a reader).
 */
#include <asm/barrier.h>
#include <grace/param.h>
#include <grace/printk.h>
#include <grace/sched.h>
#include <grace/smp.h>
#include <grace/time.h>

#include "rcu_seq.h"
#include "tree.h"

static int rcu_stall_timeout_s = 21;
param_int("rcu.stall_timeout_s", rcu_stall_timeout_s, 0, 3600,
	  "report a grace period older than this (0: never)");

static u64 stall_next_ns;                 /* no report before this (cmpxchg: one reporter) */
static DEFINE_PER_CPU(unsigned long, self_stall_gp);

static u64 stall_ns(void)
{
	return (u64)rcu_stall_timeout_s * 1000000000ULL;
}

/* Claim the right to print a report now (one CPU, once per timeout). */
static bool stall_claim(u64 now)
{
	u64 next = __atomic_load_n(&stall_next_ns, __ATOMIC_RELAXED);

	if (now < next)
		return false;
	return __atomic_compare_exchange_n(&stall_next_ns, &next, now + stall_ns(), false,
					   __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

static void report_gp_stall(unsigned long gp, u64 age)
{
	struct rcu_tree_shape *s = &rcu_state.shape;
	unsigned int ncpus = 0;

	printk("rcu: INFO: rcu detected stall: grace period %lu is %llu ms old, waiting for:\n",
	       rcu_seq_ctr(gp), (unsigned long long)(age / 1000000));
	for (unsigned int i = 0; i < s->nr_nodes; i++) {
		struct rcu_node *rnp = &rcu_state.node[i];
		u64 m = READ_ONCE(rnp->qsmask);

		if (!m)
			continue;
		printk("rcu:   node %u (CPUs %u-%u, level %u) qsmask %#llx\n", i, rnp->grplo,
		       rnp->grphi, rnp->level, (unsigned long long)m);
		if (i < rcu_first_leaf(s))
			continue;
		for (unsigned int cpu = rnp->grplo; cpu <= rnp->grphi; cpu++) {
			struct rcu_data *rdp = per_cpu_ptr(&rcu_data, cpu);
			int dt = READ_ONCE(rdp->dynticks);

			if (!(m & (1ULL << (cpu - rnp->grplo))))
				continue;
			ncpus++;
			printk("rcu:     CPU %u: %s, %s (dynticks %d, irq/NMI nesting %ld), %s, "
			       "%ld callbacks\n", cpu, READ_ONCE(rdp->rcu_online) ? "in the books" : "OUT of the books",
			       dt & 1 ? "watched" : "idle", dt, READ_ONCE(rdp->dynticks_nmi_nesting),
			       READ_ONCE(rdp->gp_seq) == gp ? "has noticed the GP" : "has not noticed the GP",
			       rcu_segcblist_n_cbs(&rdp->cblist));
			if (cpu != smp_processor_id())
				trigger_single_cpu_backtrace(cpu);
		}
	}
	if (READ_ONCE(rcu_state.gp_state) == RCU_GP_WAIT_FQS &&
	    jiffies_now() > READ_ONCE(rcu_state.fqs_wake_jiffies) + 2) {
		unsigned int c = READ_ONCE(rcu_state.fqs_sleep_cpu);

		/* Idle CPUs are reported only by FQS scans: a kthread that
		 * does not wake for them is what holds the GP up. */
		printk("rcu: INFO: rcu_gp kthread timer wakeup didn't happen for %llu jiffies: "
		       "it armed its FQS timer on CPU %u (%s)\n",
		       (unsigned long long)(jiffies_now() - READ_ONCE(rcu_state.fqs_wake_jiffies)), c,
		       rcu_cpu_online(c) ? "online" : "OFFLINE: a timer stranded on a dead CPU");
	}
	if (ncpus) {
		printk("rcu: INFO: %u CPU(s) holding up grace period %lu\n", ncpus, rcu_seq_ctr(gp));
	} else {
		struct task_struct *k = READ_ONCE(rcu_state.gp_kthread);

		/* Every QS is in; what is late is the kthread that ends the GP
		 * (e.g. queued behind a CPU that spins with preemption off). */
		printk("rcu: INFO: every quiescent state of grace period %lu is in: the rcu_gp kthread "
		       "(CPU %u, state %u) has not run to end it (starved)\n", rcu_seq_ctr(gp),
		       k ? task_cpu(k) : 0, READ_ONCE(rcu_state.gp_state));
	}
}

/*
 * From every CPU's tick (the GP kthread itself may be what is stuck: queued
 * behind a CPU that spins with preemption off). Two kinds of report: a
 * running GP older than the timeout, and a GP that was asked for but has
 * not started for that long (the kthread is starved).
 */
void rcu_check_gp_stall(void)
{
	unsigned long gp = READ_ONCE(rcu_state.gp_seq);
	u64 start, now;

	if (!rcu_stall_timeout_s)
		return;
	smp_rmb();   /* gp_seq before gp_start_ns: pairs with smp_wmb() in rcu_gp_init() */
	start = READ_ONCE(rcu_state.gp_start_ns);
	now = ktime_get_ns();
	if (rcu_seq_state(gp)) {
		u64 age = now - start;

		if (now > start && age >= stall_ns() && stall_claim(now))
			report_gp_stall(gp, age);
		return;
	}
	if (READ_ONCE(rcu_state.gp_flags) & RCU_GP_FLAG_INIT) {
		u64 since = READ_ONCE(rcu_state.gp_asked_ns);
		struct task_struct *k = READ_ONCE(rcu_state.gp_kthread);

		if (since && now > since && now - since >= stall_ns() && stall_claim(now))
			printk("rcu: INFO: rcu_gp kthread starved: a grace period was asked for, none "
			       "started for %llu ms (kthread on CPU %u, state %u)\n",
			       (unsigned long long)((now - since) / 1000000), k ? task_cpu(k) : 0,
			       READ_ONCE(rcu_state.gp_state));
	}
}

/* From this CPU's tick: is it the one holding up an old grace period? */
void rcu_check_self_stall(struct rcu_data *rdp)
{
	unsigned long gp = READ_ONCE(rcu_state.gp_seq);

	u64 start, now;

	if (!rcu_stall_timeout_s || !rcu_seq_state(gp))
		return;
	smp_rmb();   /* pairs with smp_wmb() in rcu_gp_init() */
	start = READ_ONCE(rcu_state.gp_start_ns);
	now = ktime_get_ns();
	if (now < start || now - start < stall_ns())
		return;
	if (!(READ_ONCE(rdp->mynode->qsmask) & rdp->grpmask) || *this_cpu_ptr(&self_stall_gp) == gp)
		return;
	*this_cpu_ptr(&self_stall_gp) = gp;
	printk("rcu: INFO: CPU %u detected a self-stall: grace period %lu still waits for it "
	       "(preempt count %d)\n", rdp->cpu, rcu_seq_ctr(gp), preempt_count());
}
