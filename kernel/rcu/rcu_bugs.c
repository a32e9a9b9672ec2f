/*
 * rcu_bugs.c — the injected RCU bugs: one boot parameter each, all off by
 * default, each caught by rcutorture in a scenario tests/scenarios/rcu-bug-*.
 * They live here so the algorithm's files carry only a flag test at the
 * point each bug bends; docs/rcu.md has the table of what catches what.
 */
#include <grace/cpumask.h>
#include <grace/param.h>
#include <grace/printk.h>
#include <grace/types.h>

#include "rcu_seq.h"
#include "tree.h"

bool rcu_bug_seq_cmp;
param_bool("rcu.bug_seq_cmp", rcu_bug_seq_cmp,
	   "INJECTED BUG: compare gp_seq with >=, wrong after the wrap (use with rcu.seq_wrap_gps)");

bool rcu_bug_gp_init_online_mask;
param_bool("rcu.bug_gp_init_online_mask", rcu_bug_gp_init_online_mask,
	   "INJECTED BUG: GP init waits for cpu_online_mask, not RCU's books (catch with cpuhp.dying_delay_ms)");
bool rcu_bug_late_cb_migration;
param_bool("rcu.bug_late_cb_migration", rcu_bug_late_cb_migration,
	   "INJECTED BUG: migrate a dead CPU's callbacks in a late DEAD callback, after ones that wait");
bool rcu_bug_cbs_left_on_dead;
param_bool("rcu.bug_cbs_left_on_dead", rcu_bug_cbs_left_on_dead,
	   "INJECTED BUG: leave a dead CPU's callbacks where they are");
bool rcu_bug_barrier_never_online;
param_bool("rcu.bug_barrier_never_online", rcu_bug_barrier_never_online,
	   "INJECTED BUG: rcu_barrier posts a callback to every CPU out of the books, even never-online ones");
bool rcu_bug_barrier_hotplug_lock;
param_bool("rcu.bug_barrier_hotplug_lock", rcu_bug_barrier_hotplug_lock,
	   "INJECTED BUG: rcu_barrier holds the CPU hotplug lock while it waits");
bool rcu_bug_exp_online_mask;
param_bool("rcu.bug_exp_online_mask", rcu_bug_exp_online_mask,
	   "INJECTED BUG: expedited GPs wait for cpu_online_mask, not RCU's books (catch with cpuhp.dying_delay_ms)");
bool rcu_bug_no_hiwater;
param_bool("rcu.bug_no_hiwater", rcu_bug_no_hiwater,
	   "INJECTED BUG: a CPU's queue past rcu.qhimark neither lifts blimit nor forces a GP (catch with rcutorture.fwd_progress_ms)");
bool rcu_bug_nmi_idle;
param_bool("rcu.bug_nmi_idle", rcu_bug_nmi_idle,
	   "INJECTED BUG: an NMI in idle does not make RCU watch the CPU (its readers are ignored)");

/* One leaf's CPUs in cpu_online_mask, as bits of that leaf. */
u64 rcu_bug_online_leaf_mask(const struct rcu_node *lf)
{
	u64 m = 0;

	for (unsigned int cpu = lf->grplo; cpu <= lf->grphi; cpu++)
		if (cpu_online(cpu))
			m |= 1ULL << (cpu - lf->grplo);
	return m;
}

/*
 * rcu.bug_exp_online_mask: the expedited GP's expmaskinit (and its
 * all-idle fast path) from cpu_online_mask — the same mistake as the next
 * one, made on the expedited side: a CPU on its way down is out of the mask
 * but may still be in a last-gasp reader, and the expedited GP skips it.
 *
 * rcu.bug_gp_init_online_mask: each leaf's "who to wait for" from
 * cpu_online_mask. A CPU on its way down leaves that mask inside
 * stop_machine but runs readers until rcutree_report_cpu_dead(); a GP that
 * starts in between does not wait for them.
 */
void rcu_bug_online_leaf_masks(const struct rcu_tree_shape *s, const struct rcu_node *nodes, u64 *src)
{
	unsigned int first = rcu_first_leaf(s);

	for (unsigned int i = 0; i < s->level_cnt[s->levels - 1]; i++)
		src[i] = rcu_bug_online_leaf_mask(&nodes[first + i]);
}

void rcu_bugs_announce(void)
{
	static const struct { const bool *on; const char *name; } bugs[] = {
		{ &rcu_bug_seq_cmp, "seq_cmp" },
		{ &rcu_bug_gp_init_online_mask, "gp_init_online_mask" },
		{ &rcu_bug_late_cb_migration, "late_cb_migration" },
		{ &rcu_bug_cbs_left_on_dead, "cbs_left_on_dead" },
		{ &rcu_bug_barrier_never_online, "barrier_never_online" },
		{ &rcu_bug_barrier_hotplug_lock, "barrier_hotplug_lock" },
		{ &rcu_bug_nmi_idle, "nmi_idle" },
		{ &rcu_bug_exp_online_mask, "exp_online_mask" },
		{ &rcu_bug_no_hiwater, "no_hiwater" },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(bugs); i++)
		if (*bugs[i].on)
			printk("rcu: injected bug \"%s\" is ON\n", bugs[i].name);
}
