/*
 * pvspin_cmd.c — the shell's `pvspin`: show the paravirt spinlock backend and
 * why it was chosen; `pvspin off|ipi|kvm` switches it live (`native` is `off`)
 * (pv_spinlock_switch(), pv_switch.c); `pvspin flip N` switches native <-> PV
 * N times (GAP_MS apart if given) and prints the median and longest switch
 * (BENCH lines);
 * `pvspin method v1|v2` chooses how the lock-op text is switched (lockop.c).
 * With pvspin=dynamic, `pvspin` also shows the policy's state (pv_dynamic.c),
 * and a manual switch or flip stops the policy first.
 * Tests: scenarios locking-pv-switch, locktorture-pv-switch.
 */
#include <asm/text-patching.h>
#include <grace/compiler.h>
#include <grace/errno.h>
#include <grace/printk.h>
#include <grace/pv_dynamic.h>
#include <grace/qspinlock_pv.h>
#include <grace/sched.h>
#include <grace/shell.h>
#include <grace/smp.h>
#include <grace/string.h>
#include <grace/delay.h>
#include <grace/time.h>
#include "lockop.h"

static void sort_u64(u64 *t, unsigned int n)
{
	for (unsigned int i = 1; i < n; i++)   /* insertion sort: n <= 1024, shell only */
		for (unsigned int j = i; j > 0 && t[j - 1] > t[j]; j--) {
			u64 x = t[j];

			t[j] = t[j - 1];
			t[j - 1] = x;
		}
}

/*
 * `pvspin flip N [GAP_MS]`: switch native <-> PV (the boot PV backend, else ipi) N
 * times; a switch that gives up (-EAGAIN) is retried. One summary line with
 * the median and the longest switch, for the scenarios and the benchmark.
 */
static int pvspin_flip(unsigned int n, unsigned int gap_ms)
{
	/* Times of the first FLIP_SAMPLES switches (the medians); the longest
	 * of them all is tracked apart. */
	enum { FLIP_SAMPLES = 1024 };
	static u64 t[FLIP_SAMPLES], tb[FLIP_SAMPLES], ti[FLIP_SAMPLES], ph[8][FLIP_SAMPLES];
	enum pv_backend pvb = pv_lock_ops.backend;
	unsigned int done = 0, again = 0, failed = 0, ns;
	u64 longest = 0;

	if (pvb == PV_NATIVE)
		pvb = PV_IPI;
	for (unsigned int i = 0; i < n; i++) {
		enum pv_backend b = pv_lock_ops.backend == PV_NATIVE ? pvb : PV_NATIVE;
		int err, tries = 0;

		do {
			err = pv_spinlock_switch(b);
			if (err == -EAGAIN)
				again++;
		} while (err == -EAGAIN && ++tries < 5);
		if (err) {
			failed++;
			continue;
		}
		if (lockop_stats.last_switch_ns > longest)
			longest = lockop_stats.last_switch_ns;
		if (lockop_stats.last_switch_ns > 1000000000ULL) {
			/* A slow one: say where its time went, at once. */
			const u64 *p = text_poke_stats.last_phase_ns;
			unsigned long long ms[7];

			for (int k = 0; k < 7; k++)
				ms[k] = (unsigned long long)(p[k] / 1000000);
			printk("pvspin: flip: switch %u took %llu ms: text_poke_bp phases (ms) %llu %llu %llu "
			       "%llu %llu %llu %llu, %llu barrier IPI rounds, %llu IPIs refused so far\n", i,
			       (unsigned long long)(lockop_stats.last_switch_ns / 1000000), ms[0], ms[1], ms[2],
			       ms[3], ms[4], ms[5], ms[6], (unsigned long long)lockop_stats.last_ipi_rounds,
			       (unsigned long long)lockop_stats.cross_refused);
		}
		if (done < FLIP_SAMPLES) {
			ph[7][done] = lockop_stats.last_switch_ns;
			for (int k = 0; k < 7; k++) {
				ph[k][done] = text_poke_stats.last_phase_ns[k];
				ph[7][done] -= ph[k][done] < ph[7][done] ? ph[k][done] : ph[7][done];
			}
			tb[done] = lockop_stats.last_barrier_ns;
			ti[done] = lockop_stats.last_int3_ns;
			t[done] = lockop_stats.last_switch_ns;
		}
		done++;
		if (gap_ms)
			msleep(gap_ms);   /* paced: the load runs unswitched in between */
		else if ((i & 15) == 15)
			cond_resched();
		if (n >= 2000 && (i + 1) % 1000 == 0)
			printk("pvspin: flip: %u of %u switches done\n", i + 1, n);
	}
	ns = done < FLIP_SAMPLES ? done : FLIP_SAMPLES;
	sort_u64(t, ns);
	sort_u64(tb, ns);
	sort_u64(ti, ns);
	for (int k = 0; k < 8; k++)
		sort_u64(ph[k], ns);
	if (ns)
		printk("pvspin: flip: text_poke_bp phase medians (us): setup %llu, int3+sync %llu, "
		       "refresh+sync %llu, barrier %llu, tails+sync %llu, byte0+sync %llu, end %llu, outside %llu\n",
		       (unsigned long long)ph[0][ns / 2] / 1000, (unsigned long long)ph[1][ns / 2] / 1000,
		       (unsigned long long)ph[2][ns / 2] / 1000,
		       (unsigned long long)ph[3][ns / 2] / 1000, (unsigned long long)ph[4][ns / 2] / 1000,
		       (unsigned long long)ph[5][ns / 2] / 1000,
		       (unsigned long long)ph[6][ns / 2] / 1000, (unsigned long long)ph[7][ns / 2] / 1000);
	printk("pvspin: flip: %u switches by %s, %u failed, %u gave up and were retried; "
	       "median %llu us, max %llu us\n", done, lockop_method(), failed, again,
	       ns ? (unsigned long long)(t[ns / 2] / 1000) : 0ULL, (unsigned long long)(longest / 1000));
	if (ns && strcmp(lockop_method(), "v1"))
		printk("pvspin: flip: medians: int3 step %llu us, barrier %llu us\n",
		       (unsigned long long)(ti[ns / 2] / 1000), (unsigned long long)(tb[ns / 2] / 1000));
	else if (ns)
		printk("pvspin: flip: medians: patching while stopped %llu us\n",
		       (unsigned long long)(tb[ns / 2] / 1000));
	if (ns)
		printk("BENCH pvswitch_%s_smp%u_median %llu us\nBENCH pvswitch_%s_smp%u_max %llu us\n",
		       lockop_method(), num_online_cpus(), (unsigned long long)(t[ns / 2] / 1000),
		       lockop_method(), num_online_cpus(), (unsigned long long)(longest / 1000));
	return failed ? SHELL_CMD_FAILED : 0;
}


static int cmd_pvspin(int argc, char **argv)
{
	enum pv_backend b;

	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "flip")) {
		unsigned long long n, gap = 0;

		if (kstrtoull(argv[2], 10, &n) || n == 0 ||
		    (argc == 4 && (kstrtoull(argv[3], 10, &gap) || gap > 10000)))
			goto usage;
		pv_dynamic_stop("pvspin flip");
		return pvspin_flip((unsigned int)n, (unsigned int)gap);
	}
	if (argc == 3 && !strcmp(argv[1], "method")) {
		if (lockop_set_method(argv[2]))
			goto usage;
		printk("pvspin: switch method %s\n", lockop_method());
		return 0;
	}
	if (argc == 1) {
		printk("pvspin: backend %s (%s)\n", pv_lock_ops.name, pv_spinlock_reason);
		pv_dynamic_show();
		return 0;
	}
	if (argc != 2)
		goto usage;
	if (pv_backend_parse(argv[1], &b))
		goto usage;
	pv_dynamic_stop("manual pvspin switch");
	if (pv_spinlock_switch(b))
		return SHELL_CMD_FAILED;
	printk("pvspin: backend %s (%s)\n", pv_lock_ops.name, pv_spinlock_reason);
	return 0;
usage:
	return 1;   /* the shell prints the usage line */
}
SHELL_COMMAND(pvspin, "pvspin", "pvspin [off|ipi|kvm|flip N [GAP_MS]|method v1|v2]",
	      "show the paravirt spinlock backend, switch it live (N times), or choose how", cmd_pvspin);
