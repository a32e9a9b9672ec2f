/*
 * rcu_shell.c — the `rcu` shell command: RCU's books as a picture.
 *
 *   rcu          the tree, one line per rcu_node, indented by level, with
 *                its CPU range, gp_seq and the three masks; then every
 *                possible CPU: in the books?, its gp_seq, QS state, dynticks,
 *                and its callback segment lengths (DONE/WAIT/NEXT_READY/NEXT)
 *   rcu gp [N]   start and time N grace periods (synchronize_rcu), print
 *                each and `BENCH rcu_gp_us` (the median)
 *   rcu exp [N]  the same for synchronize_rcu_expedited (`BENCH rcu_exp_us`)
 *   ... N busy   with every other CPU running a thread that never sleeps
 *   rcu barrier  time one rcu_barrier()
 *   rcu bench    the whole bench=rcu run (rcu_bench.c)
 * The numbers are read without locks: a picture, not a snapshot.
 */
#include <asm/cpu.h>
#include <grace/bench.h>
#include <grace/delay.h>
#include <grace/kthread.h>
#include <grace/printk.h>
#include <grace/shell.h>
#include <grace/smp.h>
#include <grace/string.h>
#include <grace/time.h>

#include "rcu_seq.h"
#include "tree.h"

static const char *const gp_state_names[] = { "idle", "init", "wait-fqs", "fqs", "cleanup" };

static void rcu_show(void)
{
	struct rcu_tree_shape *s = &rcu_state.shape;
	unsigned long gp = READ_ONCE(rcu_state.gp_seq);
	unsigned int cpu;

	printk("rcu: gp_seq %#lx (GP %lu, %s), gp_seq_needed %#lx, kthread %s, %lu GPs, "
	       "last %llu us, longest %llu us, %lu FQS scans\n",
	       gp, rcu_seq_ctr(gp), rcu_seq_state(gp) ? "running" : "idle",
	       READ_ONCE(rcu_state.node[0].gp_seq_needed),
	       gp_state_names[READ_ONCE(rcu_state.gp_state) % 5], rcu_gp_completed(),
	       (unsigned long long)(rcu_state.gp_last_ns / 1000),
	       (unsigned long long)(rcu_state.gp_max_ns / 1000), rcu_state.n_fqs);
	printk("rcu: %u nodes, %u levels, fanout %u, leaf %u; barrier seq %#lx (%s), count %d, %lu callbacks posted\n",
	       s->nr_nodes, s->levels, s->fanout, s->fanout_leaf, READ_ONCE(rcu_state.barrier_sequence),
	       rcu_seq_state(READ_ONCE(rcu_state.barrier_sequence)) ? "running" : "idle",
	       READ_ONCE(rcu_state.barrier_cpu_count), rcu_state.n_barrier_cbs);
	for (unsigned int i = 0; i < s->nr_nodes; i++) {
		struct rcu_node *n = &rcu_state.node[i];
		char pad[2 * RCU_MAX_LEVELS + 1];
		unsigned int k;

		for (k = 0; k < 2 * n->level && k < sizeof(pad) - 1; k++)
			pad[k] = ' ';
		pad[k] = '\0';
		printk("  %snode %u CPUs %u-%u gp_seq %#lx qsmask %#llx qsmaskinit %#llx qsmaskinitnext %#llx\n",
		       pad, i, n->grplo, n->grphi, READ_ONCE(n->gp_seq),
		       (unsigned long long)READ_ONCE(n->qsmask), (unsigned long long)n->qsmaskinit,
		       (unsigned long long)READ_ONCE(n->qsmaskinitnext));
	}
	printk("  CPU books gp_seq      qs   dynticks  DONE WAIT NRDY NEXT  invoked  adopted  barrier\n");
	for_each_possible_cpu(cpu) {
		struct rcu_data *r = per_cpu_ptr(&rcu_data, cpu);
		int where = -1, k = 0;

		/* Debug aid: which segment holds this CPU's barrier callback. */
		for (struct rcu_head *h = READ_ONCE(r->cblist.head); h && k < 100000; h = READ_ONCE(h->next), k++) {
			unsigned int c2;

			for_each_possible_cpu(c2)
				if (h == &per_cpu(rcu_data, c2).barrier_head) {
					where = k;
					printk("  CPU %u's list holds CPU %u's rcu_barrier callback at %d of %ld\n",
					       cpu, c2, where, r->cblist.len);
				}
		}

		printk("  %3u %-5s %#-10lx %-4s %8d  %4ld %4ld %4ld %4ld %8lu %8lu  %#lx\n", cpu,
		       READ_ONCE(r->rcu_online) ? "on" : (r->beenonline ? "off" : "never"),
		       READ_ONCE(r->gp_seq), r->core_needs_qs ? (r->cpu_no_qs ? "wait" : "have") : "-",
		       READ_ONCE(r->dynticks), r->cblist.seglen[0], r->cblist.seglen[1],
		       r->cblist.seglen[2], r->cblist.seglen[3], r->n_cbs_invoked, r->n_cbs_adopted,
		       READ_ONCE(r->barrier_seq_snap));
	}
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static void sort_u64(u64 *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && cmp_u64(&v[j - 1], &v[j]) > 0; j--) {
			u64 t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

/* `busy`: every other online CPU runs a kernel thread that never sleeps
 * (preemptible: its quiescent states are ticks and preemptions). */
static volatile bool busy_stop;
static struct task_struct *busy_threads[NR_CPUS_MAX];

static int busy_fn(void *arg)
{
	(void)arg;
	while (!READ_ONCE(busy_stop))
		cpu_relax();
	return 0;
}

void rcu_busy_start(bool on)
{
	unsigned int cpu, me = smp_processor_id();

	if (on) {
		WRITE_ONCE(busy_stop, false);
		for_each_online_cpu(cpu) {
			busy_threads[cpu] = NULL;
			if (cpu == me)
				continue;
			busy_threads[cpu] = kthread_create(busy_fn, NULL, "rcu-busy/%u", cpu);
			if (!busy_threads[cpu])
				continue;
			kthread_bind(busy_threads[cpu], cpu);
			get_task_struct(busy_threads[cpu]);
			wake_up_process(busy_threads[cpu]);
		}
		return;
	}
	WRITE_ONCE(busy_stop, true);
	for (cpu = 0; cpu < NR_CPUS_MAX; cpu++)
		if (busy_threads[cpu]) {
			kthread_stop(busy_threads[cpu]);
			put_task_struct(busy_threads[cpu]);
			busy_threads[cpu] = NULL;
		}
}

static int cmd_rcu(int argc, char **argv)
{
	if (argc == 1) {
		rcu_show();
		return 0;
	}
	if (!strcmp(argv[1], "gp") || !strcmp(argv[1], "exp")) {
		bool exp = argv[1][0] == 'e';
		long long n = 1;
		u64 t[64];

		bool busy = argc > 3 && !strcmp(argv[3], "busy");

		if (argc > 2 && (kstrtoll(argv[2], 10, &n) || n < 1 || n > 64)) {
			printk("rcu gp: N must be 1..64\n");
			return 1;
		}
		if (busy) {
			rcu_busy_start(true);
			msleep(100);
		}
		for (int i = 0; i < n; i++) {
			u64 t0 = ktime_get_ns();

			if (exp)
				synchronize_rcu_expedited();
			else
				synchronize_rcu();
			t[i] = ktime_get_ns() - t0;
			printk("rcu %s: %s took %llu us\n", argv[1], exp ? "synchronize_rcu_expedited" : "synchronize_rcu",
			       (unsigned long long)(t[i] / 1000));
		}
		if (busy)
			rcu_busy_start(false);
		sort_u64(t, (int)n);
		printk("BENCH %s%s %llu us (max %llu us)\n", exp ? "rcu_exp_us" : "rcu_gp_us", busy ? "_busy" : "",
		       (unsigned long long)(t[n / 2] / 1000), (unsigned long long)(t[n - 1] / 1000));
		return 0;
	}
	if (!strcmp(argv[1], "bench"))
		return bench_rcu() ? SHELL_CMD_FAILED : 0;
	if (!strcmp(argv[1], "barrier")) {
		u64 t0 = ktime_get_ns();

		rcu_barrier();
		printk("rcu barrier: %llu us\n", (unsigned long long)((ktime_get_ns() - t0) / 1000));
		return 0;
	}
	return 1;
}
SHELL_COMMAND(rcu, "rcu", "rcu [gp [N [busy]] | exp [N [busy]] | barrier | bench]",
	      "RCU's tree and books; time grace periods or a barrier", cmd_rcu);
