/*
 * lockstat.c — per-CPU lock statistics and the `lockstat` shell command.
 *
 * The counters (include/grace/lockstat.h) are one row per CPU, one block per
 * lock class; this file sums them, resets them and prints them:
 *
 *   lockstat          totals per class (qspinlock under each PV backend,
 *                     tas, ticket) and the active PV backend with its reason
 *   lockstat reset    zero every CPU's counters
 *
 * Reset while other CPUs count may leave an increment from just before the
 * reset in place; the numbers are statistics. Tested by
 * tests/unit/test_qspinlock.c (counts match the work done).
 */
#include <grace/lockstat.h>
#include <grace/printk.h>
#include <grace/qspinlock_pv.h>
#include <grace/shell.h>
#include <grace/string.h>

struct lockstat_row lockstat_cpu[NR_CPUS_MAX];
u8 lockstat_qspin_class = LOCK_CLASS_QSPIN_NATIVE;

const char *const lockstat_event_names[LS_NR_EVENTS] = {
	[LS_FAST] = "fast", [LS_PENDING] = "pending", [LS_QUEUED] = "queued",
	[LS_PV_WAIT] = "pv_wait", [LS_PV_KICK] = "pv_kick", [LS_SPURIOUS] = "spurious",
	[LS_STEAL] = "steal", [LS_NEST_OVERFLOW] = "nest_ovf",
};

const char *const lock_class_names[LOCK_CLASS_NR] = {
	[LOCK_CLASS_QSPIN_NATIVE] = "qspinlock/native",
	[LOCK_CLASS_QSPIN_KVM] = "qspinlock/kvm",
	[LOCK_CLASS_QSPIN_IPI] = "qspinlock/ipi",
	[LOCK_CLASS_TAS] = "tas",
	[LOCK_CLASS_TICKET] = "ticket",
};

u64 lockstat_total(enum lock_class c, enum lockstat_event e)
{
	u64 sum = 0;

	for (unsigned int cpu = 0; cpu < NR_CPUS_MAX; cpu++)
		sum += __atomic_load_n(&lockstat_cpu[cpu].n[c][e], __ATOMIC_RELAXED);
	return sum;
}

void lockstat_reset(void)
{
	for (unsigned int cpu = 0; cpu < NR_CPUS_MAX; cpu++)
		for (int c = 0; c < LOCK_CLASS_NR; c++)
			for (int e = 0; e < LS_NR_EVENTS; e++)
				__atomic_store_n(&lockstat_cpu[cpu].n[c][e], 0, __ATOMIC_RELAXED);
}

void lockstat_print(void)
{
	char line[200];
	int len;

	printk("lockstat: qspinlock backend %s (%s)\n", pv_lock_ops.name,
	       pv_spinlock_reason[0] ? pv_spinlock_reason : "not chosen yet");
	len = snprintf(line, sizeof(line), "%-17s", "class");
	for (int e = 0; e < LS_NR_EVENTS; e++)
		len += snprintf(line + len, sizeof(line) - (size_t)len, " %10s", lockstat_event_names[e]);
	printk("%s\n", line);
	for (int c = 0; c < LOCK_CLASS_NR; c++) {
		u64 v[LS_NR_EVENTS], any = 0;

		for (int e = 0; e < LS_NR_EVENTS; e++)
			any |= v[e] = lockstat_total((enum lock_class)c, (enum lockstat_event)e);
		if (!any && c != lockstat_qspin_class)
			continue;   /* quiet rows stay out of the way */
		len = snprintf(line, sizeof(line), "%-17s", lock_class_names[c]);
		for (int e = 0; e < LS_NR_EVENTS; e++)
			len += snprintf(line + len, sizeof(line) - (size_t)len, " %10llu",
					(unsigned long long)v[e]);
		printk("%s\n", line);
	}
}

static int cmd_lockstat(int argc, char **argv)
{
	if (argc == 1) {
		lockstat_print();
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "reset")) {
		lockstat_reset();
		printk("lockstat: counters reset\n");
		return 0;
	}
	return 1;   /* the shell prints the usage line */
}
SHELL_COMMAND(lockstat, "lockstat", "lockstat [reset]",
	      "lock statistics per lock class and PV backend", cmd_lockstat);
