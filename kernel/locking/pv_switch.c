/*
 * pv_switch.c — change the paravirt spinlock backend on a running system.
 *
 * pv_spinlock_switch(b) installs backend b (native, kvm or ipi) and rewrites
 * the lock-op patch sites (kernel/locking/lockop.c) — by default with
 * Arora's V2 int3 + global barrier, no stop_machine (`pvswitch.method=v2`);
 * with `pvswitch.method=v1`, and for PV <-> PV changes (no text changes),
 * from inside stop_machine(), as below. What makes the stop_machine switch safe: the unlock form (store
 * or cmpxchg), the slow path's pending protocol (native) and the PV "head
 * awake" meaning of the same bit differ between backends, so no CPU may be in
 * a slow path, and no lock may hold the slow value 3, while the flag flips.
 *
 *  - A task in a slow path has preemption off (spin_lock does it), so its
 *    CPU's stopper thread cannot run until the task has the lock.
 *  - An interrupt handler's slow path ends before the interrupted task (and
 *    so the stopper) resumes; in the DISABLE_IRQ stage no new one starts.
 *  - NMIs are the exception: an NMI can land in the RUN stage. Code that
 *    takes spinlocks in NMI context (locktorture's NMI locks) brackets them
 *    with pv_nmi_lock_enter()/exit(); the switch sets pv_switch_in_progress,
 *    waits until no NMI user is inside, and new ones stay away.
 * Once every CPU is in the stopper, a lock word is 0 or "held, nobody
 * waiting" (0,0,1), which both backends read the same way. The PV hash is
 * then empty and every CPU's MCS nesting count 0; the switch checks both
 * and refuses (-EBUSY) otherwise.
 *
 * Shell: `pvspin` shows the backend and why; `pvspin off|ipi|kvm` switches.
 * Test: ktest locking.pv_switch (switches back and forth under contention,
 * exact counts); lock_bench.c switches around its PV runs.
 */
#include <asm/cpu.h>
#include <grace/errno.h>
#include <grace/ktest.h>
#include <grace/kthread.h>
#include <grace/lockstat.h>
#include <grace/printk.h>
#include <grace/qspinlock.h>
#include <grace/qspinlock_pv.h>
#include <grace/sched.h>
#include <grace/shell.h>
#include <grace/smp.h>
#include <grace/spinlock.h>
#include <grace/stop_machine.h>
#include <grace/string.h>
#include <grace/time.h>
#include "lockop.h"

bool pv_switch_in_progress;
static u32 pv_nmi_users;   /* NMI-context lock users inside a lock section now */

/*
 * NMI-context lock users bracket their spin_lock..spin_unlock with these.
 * Enter counts itself in first and then reads the flag; the switcher sets
 * the flag first and then waits for the count to drain. With both sides
 * sequentially consistent, either the NMI sees the flag and stays away, or
 * the switcher sees the NMI and waits for it.
 */
bool pv_nmi_lock_enter(void)
{
	__atomic_add_fetch(&pv_nmi_users, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&pv_switch_in_progress, __ATOMIC_SEQ_CST)) {
		__atomic_sub_fetch(&pv_nmi_users, 1, __ATOMIC_SEQ_CST);
		return false;
	}
	return true;
}

void pv_nmi_lock_exit(void)
{
	__atomic_sub_fetch(&pv_nmi_users, 1, __ATOMIC_SEQ_CST);
}
static enum pv_backend boot_backend;   /* the boot choice and its reason */
static char boot_reason[sizeof(pv_spinlock_reason)];
static bool boot_saved;

struct pv_switch_req {
	const struct pv_lock_ops *ops;
	int ret;
};

int pv_spinlock_switch(enum pv_backend b)
{
	struct pv_switch_req r = { .ops = b < PV_NR_BACKENDS ? pv_backend_ops(b) : NULL, .ret = 0 };
	int err;

	if (!r.ops) {
		printk("pvspin: backend %s is not available here%s\n",
		       b < PV_NR_BACKENDS ? pv_backend_name(b) : "?",
		       b == PV_KVM ? " (needs KVM with PV_UNHALT)" : "");
		return -EINVAL;
	}
	if (pv_lock_ops.backend == b)
		return 0;
	if (!boot_saved) {
		boot_backend = pv_lock_ops.backend;
		memcpy(boot_reason, pv_spinlock_reason, sizeof(boot_reason));
		boot_saved = true;
	}
	/* V1 keeps NMI lock users out; V2 counts them like any other context. */
	if (strcmp(lockop_method(), "v2") || qspinlock_pv_active == (b != PV_NATIVE)) {
		__atomic_store_n(&pv_switch_in_progress, true, __ATOMIC_SEQ_CST);
		while (__atomic_load_n(&pv_nmi_users, __ATOMIC_SEQ_CST))
			cpu_relax();
	}
	err = lockop_switch(r.ops);   /* patches the lock-op sites: lockop.c */
	__atomic_store_n(&pv_switch_in_progress, false, __ATOMIC_SEQ_CST);
	r.ret = err;
	if (err == -EAGAIN) {
		printk("pvspin: the V2 barrier did not complete in time (%u of %u CPUs crossed, "
		       "%u old lock operations still counted); old lock text restored\n",
		       lockop_stats.last_abort_crossed, num_online_cpus(), lockop_stats.last_abort_active);
		return err;
	}
	if (r.ret) {
		printk("pvspin: a lock slow path is in progress with every CPU stopped "
		       "(%u PV hash entries): not switching\n", pv_hash_entries_in_use());
		return r.ret;
	}
	if (b == boot_backend)
		memcpy(pv_spinlock_reason, boot_reason, sizeof(boot_reason));
	else
		snprintf(pv_spinlock_reason, sizeof(pv_spinlock_reason), "switched live; boot choice %s",
			 pv_backend_name(boot_backend));
	return 0;
}

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
 * `pvspin flip N`: switch native <-> PV (the boot PV backend, else ipi) N
 * times; a switch that gives up (-EAGAIN) is retried. One summary line with
 * the median and the longest switch, for the scenarios and the benchmark.
 */
static int pvspin_flip(unsigned int n)
{
	static u64 t[1024];
	enum pv_backend pvb = boot_saved ? boot_backend : pv_lock_ops.backend;
	unsigned int done = 0, again = 0, failed = 0;

	if (pvb == PV_NATIVE)
		pvb = PV_IPI;
	if (n > ARRAY_SIZE(t))
		n = ARRAY_SIZE(t);
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
		t[done++] = lockop_stats.last_switch_ns;
		if ((i & 15) == 15)
			cond_resched();
	}
	sort_u64(t, done);
	printk("pvspin: flip: %u switches by %s, %u failed, %u gave up and were retried; "
	       "median %llu us, max %llu us\n", done, lockop_method(), failed, again,
	       done ? (unsigned long long)(t[done / 2] / 1000) : 0ULL,
	       done ? (unsigned long long)(t[done - 1] / 1000) : 0ULL);
	if (done)
		printk("BENCH pvswitch_%s_smp%u_median %llu us\nBENCH pvswitch_%s_smp%u_max %llu us\n",
		       lockop_method(), num_online_cpus(), (unsigned long long)(t[done / 2] / 1000),
		       lockop_method(), num_online_cpus(), (unsigned long long)(t[done - 1] / 1000));
	return failed ? SHELL_CMD_FAILED : 0;
}

static int cmd_pvspin(int argc, char **argv)
{
	enum pv_backend b;

	if (argc == 3 && !strcmp(argv[1], "flip")) {
		unsigned long long n;

		if (kstrtoull(argv[2], 10, &n) || n == 0)
			goto usage;
		return pvspin_flip((unsigned int)n);
	}
	if (argc == 3 && !strcmp(argv[1], "method")) {
		if (lockop_set_method(argv[2]))
			goto usage;
		printk("pvspin: switch method %s\n", lockop_method());
		return 0;
	}
	if (argc == 1) {
		printk("pvspin: backend %s (%s)\n", pv_lock_ops.name, pv_spinlock_reason);
		return 0;
	}
	if (argc != 2)
		goto usage;
	if (!strcmp(argv[1], "off") || !strcmp(argv[1], "native"))
		b = PV_NATIVE;
	else if (!strcmp(argv[1], "ipi"))
		b = PV_IPI;
	else if (!strcmp(argv[1], "kvm"))
		b = PV_KVM;
	else
		goto usage;
	if (pv_spinlock_switch(b))
		return SHELL_CMD_FAILED;
	printk("pvspin: backend %s (%s)\n", pv_lock_ops.name, pv_spinlock_reason);
	return 0;
usage:
	return 1;   /* the shell prints the usage line */
}
SHELL_COMMAND(pvspin, "pvspin", "pvspin [off|ipi|kvm|flip N|method v1|v2]",
	      "show the paravirt spinlock backend, switch it live (N times), or choose how", cmd_pvspin);

/* ---- ktest: switch back and forth while other CPUs hammer one lock ---- */

static DEFINE_SPINLOCK(sw_lock);
static u64 sw_counter;
static u32 sw_inside;
static u64 sw_done[NR_CPUS_MAX];
static bool sw_overlap;

static int sw_worker(void *arg)
{
	unsigned int id = (unsigned int)(uintptr_t)arg;

	while (!kthread_should_stop()) {
		spin_lock(&sw_lock);
		if (__atomic_add_fetch(&sw_inside, 1, __ATOMIC_SEQ_CST) != 1)
			WRITE_ONCE(sw_overlap, true);
		sw_counter++;
		__atomic_sub_fetch(&sw_inside, 1, __ATOMIC_SEQ_CST);
		spin_unlock(&sw_lock);
		sw_done[id]++;
		if ((sw_done[id] & 255) == 0)
			cond_resched();
	}
	return 0;
}

KTEST(pv_switch, "locking.pv_switch")
{
	enum pv_backend boot = pv_lock_ops.backend;
	static struct task_struct *workers[NR_CPUS_MAX];
	unsigned int n = 0, cpu;
	u64 sum = 0;

	sw_counter = 0;
	sw_overlap = false;
	for_each_online_cpu(cpu) {
		sw_done[n] = 0;
		workers[n] = kthread_create(sw_worker, (void *)(uintptr_t)n, "pvsw/%u", n);
		if (!workers[n])
			break;
		kthread_bind(workers[n], cpu);
		wake_up_process(workers[n]);
		n++;
	}
	for (int i = 0; i < 6; i++) {
		enum pv_backend b = (i & 1) ? PV_NATIVE : PV_IPI;

		KTEST_EXPECT_MSG(pv_spinlock_switch(b) == 0, "switch to %s failed", pv_backend_name(b));
		KTEST_EXPECT(pv_lock_ops.backend == b);
		KTEST_EXPECT(qspinlock_pv_active == (b != PV_NATIVE));
		msleep(30);
	}
	KTEST_EXPECT(pv_spinlock_switch(PV_NR_BACKENDS) == -EINVAL);
	for (unsigned int i = 0; i < n; i++) {
		kthread_stop(workers[i]);
		sum += sw_done[i];
	}
	KTEST_EXPECT_MSG(!sw_overlap, "two CPUs inside the critical section");
	KTEST_EXPECT_MSG(sw_counter == sum, "counter %llu != %llu acquisitions",
			 (unsigned long long)sw_counter, (unsigned long long)sum);
	KTEST_EXPECT(!spin_is_locked(&sw_lock) && !spin_is_contended(&sw_lock));
	KTEST_EXPECT(pv_hash_entries_in_use() == 0);
	KTEST_EXPECT(pv_spinlock_switch(boot) == 0);
}
