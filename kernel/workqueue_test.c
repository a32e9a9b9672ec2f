/*
 * workqueue_test.c — ktest "workqueue.cancel_running": cancel_work_sync()
 * of an item that is running returns only after that run has finished.
 *
 * The property (the "sync" in the name): once cancel_work_sync() returns,
 * the item's function is not running anywhere and will not run for an
 * earlier queueing, so the caller may free what it uses. Each round queues
 * an item that sleeps 50 ms, waits until it is inside, cancels, and checks
 * the run had ended by then (a cancel that only clears `pending` returns at
 * once, mid-run). wqtorture meets this only when its random cancel happens
 * to land on a running item. Scenario hotplug-rollback-smp2
 * (ktest=workqueue); the other workqueue ktests are in workqueue.c.
 */
#include <grace/delay.h>
#include <grace/ktest.h>
#include <grace/printk.h>
#include <grace/time.h>
#include <grace/workqueue.h>

static struct {
	struct work_struct work;
	int started, done;
} cr;

static void cr_fn(struct work_struct *w)
{
	(void)w;
	__atomic_store_n(&cr.started, 1, __ATOMIC_RELEASE);
	msleep(50);
	__atomic_store_n(&cr.done, 1, __ATOMIC_RELEASE);
}

KTEST(workqueue_cancel_running, "workqueue.cancel_running")
{
	const int rounds = 3;
	int early = 0;

	for (int r = 0; r < rounds; r++) {
		u64 deadline = ktime_get_ns() + 2000000000ULL;

		cr.started = cr.done = 0;
		INIT_WORK(&cr.work, cr_fn);
		KTEST_EXPECT(queue_work(system_unbound_wq, &cr.work));
		while (!__atomic_load_n(&cr.started, __ATOMIC_ACQUIRE) && ktime_get_ns() < deadline)
			msleep(1);
		KTEST_EXPECT_MSG(cr.started, "round %d: the item did not start in 2 s", r);
		cancel_work_sync(&cr.work);
		if (!__atomic_load_n(&cr.done, __ATOMIC_ACQUIRE))
			early++;
		flush_work(&cr.work);   /* the run we did not wait for, if so */
		while (!__atomic_load_n(&cr.done, __ATOMIC_ACQUIRE) && ktime_get_ns() < deadline)
			msleep(1);
	}
	printk("workqueue.cancel_running: %d rounds, %d cancels returned while the item still ran\n",
	       rounds, early);
	KTEST_EXPECT_MSG(early == 0, "cancel_work_sync() returned while the item was still running "
			 "(%d of %d rounds)", early, rounds);
}
