/*
 * pv_switch_test.c — ktest locking.pv_switch: switch the PV backend back and
 * forth (halt+IPI, native) six times by V2 and six by V1 while a worker on every online CPU
 * hammers one spinlock; no two workers may ever be inside together, the
 * shared counter must equal the sum of their acquisitions, and the lock and
 * the PV hash must be empty at the end. After each switch every PV halt and
 * kick patch site must call the new backend's hooks (pvswitch.bug=stale_kick,
 * scenario pvswitch-bug-stale-kick, leaves the kick sites behind).
 */
#include <grace/delay.h>
#include <grace/errno.h>
#include <grace/ktest.h>
#include <grace/kthread.h>
#include <grace/qspinlock.h>
#include <grace/qspinlock_pv.h>
#include <grace/printk.h>
#include <grace/sched.h>
#include <grace/spinlock.h>
#include <grace/string.h>
#include "lockop.h"

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
	char method[4];

	memcpy(method, lockop_method(), 3);
	method[3] = 0;
	/* Six switches by V2, then six by V1 (stop_machine). */
	for (int i = 0; i < 12; i++) {
		enum pv_backend b = (i & 1) ? PV_NATIVE : PV_IPI;

		lockop_set_method(i < 6 ? "v2" : "v1");

		KTEST_EXPECT_MSG(pv_spinlock_switch(b) == 0, "switch to %s failed", pv_backend_name(b));
		KTEST_EXPECT(pv_lock_ops.backend == b);
		KTEST_EXPECT(qspinlock_pv_active == (b != PV_NATIVE));
		/* The PV wait/kick hooks are patch sites: each calls b's now. */
		unsigned int nhooks, bad = lockop_hooks_mismatch(pv_backend_ops(b), &nhooks);

		if (bad)   /* said at once: a kick that is a no-op hangs the workers */
			printk("locking.pv_switch: after the switch to %s (%s), %u of %u PV halt/kick "
			       "sites do not call its hooks\n", pv_backend_name(b), lockop_method(), bad, nhooks);
		KTEST_EXPECT_MSG(nhooks >= 2 && bad == 0, "after the switch to %s, %u of %u PV halt/kick "
				 "sites do not call its hooks", pv_backend_name(b), bad, nhooks);
		msleep(30);
	}
	lockop_set_method(method);
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
