/*
 * wq_torture.c — workqueue torture: re-queue running items from every CPU
 * to other CPUs, flush them, with CPU hotplug, and check Linux's guarantees.
 *
 * Boot with torture.wq=1 (or run `wqtorture [SECONDS]` in the shell). For
 * wqtorture.duration_s seconds:
 *  - one driver thread per online CPU (moving between CPUs now and then)
 *    picks random items and queues them on a random CPU, flushes them, or
 *    (one item in four, the "cancel items") cancel_work_sync()s them;
 *  - every item, while it runs, re-queues itself on another random CPU
 *    half of the time, and spins a random 0..wqtorture.hold_us meanwhile;
 *  - with wqtorture.hotplug=1 (default) a thread takes a random non-boot
 *    CPU down or brings it up every wqtorture.onoff_ms.
 *
 * Checked, each a failure with a message:
 *  - self-concurrency: an item's function entered while another run of the
 *    same item is still inside it ("ran concurrently with itself");
 *  - early flush: every accepted queueing records the number of runs started
 *    before it, k; a later flush_work() must not return before run k+1 (a run that
 *    started after that queueing, so saw what it queued) has finished
 *    (not checked for cancel items: a cancel may take that queueing away);
 *  - cancel: when cancel_work_sync() returns, every run that started before
 *    the call has finished;
 *  - hangs: a flush_work() (or a driver) that has not returned for
 *    wqtorture.stall_s seconds; the run then ends with FAILURE at once;
 *  - exactly once: at the end (re-queueing stopped, everything flushed)
 *    every accepted queueing ran once, unless a cancel took it off the
 *    queue: runs == accepted queueings - cancels that returned true.
 * Prints a stats line per second and "End of test: SUCCESS|FAILURE".
 * Scenarios: wqtorture-smp2/4/8, wqtorture-shell; the injected workqueue
 * bugs, wqtorture-bug-requeue-elsewhere and wqtorture-bug-late-gen.
 */
#include <stdarg.h>
#include <asm/barrier.h>
#include <asm/cpu.h>
#include <grace/cpuhotplug.h>
#include <grace/cpumask.h>
#include <grace/kthread.h>
#include <grace/param.h>
#include <grace/printk.h>
#include <grace/random.h>
#include <grace/reboot.h>
#include <grace/sched.h>
#include <grace/shell.h>
#include <grace/string.h>
#include <grace/time.h>
#include <grace/torture.h>
#include <grace/watchdog.h>
#include <grace/workqueue.h>

static bool torture_wq;
static int wqt_duration_s = 10;
static int wqt_hold_us = 20;
static int wqt_onoff_ms = 30;
static bool wqt_hotplug = true;
static int wqt_stall_s = 5;
static bool wqt_poweroff = true;
param_bool("torture.wq", torture_wq, "run the workqueue torture test at boot");
param_int("wqtorture.duration_s", wqt_duration_s, 1, 86400, "how long the workqueue torture runs");
param_int("wqtorture.hold_us", wqt_hold_us, 0, 10000, "longest spin inside a work item");
param_int("wqtorture.onoff_ms", wqt_onoff_ms, 1, 60000, "time between hotplug operations");
param_bool("wqtorture.hotplug", wqt_hotplug, "take CPUs down and up during the workqueue torture");
param_int("wqtorture.stall_s", wqt_stall_s, 1, 3600, "a flush or driver stuck this long is a failure");
param_bool("wqtorture.poweroff", wqt_poweroff, "power off with the verdict when torture.wq=1 ends");

#define WQT_ITEMS 32
#define WQT_CANCEL_ITEM(i) ((i) % 4 == 3)

struct wqt_item {
	struct work_struct work;
	int id;
	int inside;                 /* runs currently inside the function */
	u64 starts;                 /* runs started (run i has index i) */
	u64 done_upto;              /* highest index of a finished run */
	u64 finishes;               /* runs finished */
	u64 need;                   /* max over accepted queueings of (runs started before it) + 1 */
	u64 accepted;               /* queueings that returned true */
	u64 cancelled;              /* cancel_work_sync() calls that returned true */
	u64 rng;
};

struct wqt_driver {
	unsigned int id;
	u64 rng;
	u64 op_start_ns;            /* 0: between operations */
	int op_item;
	const char *op;
	u64 ops;
};

static struct {
	struct workqueue_struct *wq;
	struct wqt_item items[WQT_ITEMS];
	struct wqt_driver drv[NR_CPUS];
	unsigned int nr_drv;
	int stop;                   /* drivers stop; items stop re-queueing */
	int exited;                 /* drivers and the hotplug thread that have finished */
	int errors;
	int busy;                   /* a run in progress (or stuck from an earlier one) */
	unsigned long long self_concurrent, early_flushes, requeues, flushes, queues, onoff_ops, onoff_failed;
	unsigned long long cancels, cancels_pending;
	struct wqt_driver onoff;
} wqt;

static __printf(1, 2) void wqt_error(const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The first few only: a broken workqueue fails thousands of times. */
	if (__atomic_add_fetch(&wqt.errors, 1, __ATOMIC_RELAXED) <= 10)
		printk("!!! wqtorture: %s\n", msg);
}

static unsigned int wqt_random_cpu(u64 *rng)
{
	unsigned int n = num_online_cpus(), pick = (unsigned int)(prandom_next(rng) % (n ? n : 1)), cpu;

	for_each_online_cpu(cpu)
		if (pick-- == 0)
			return cpu;
	return 0;
}

static void atomic_max(u64 *p, u64 v)
{
	u64 old = __atomic_load_n(p, __ATOMIC_RELAXED);

	while (old < v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
}

/* Queue `it` on `cpu` and record what a later flush must wait for. */
static void wqt_queue(struct wqt_item *it, unsigned int cpu)
{
	u64 before = __atomic_load_n(&it->starts, __ATOMIC_ACQUIRE);

	/* Only an accepted queueing binds a later flush: a refused one found
	 * the item pending, possibly by a queue_work_on() still in flight
	 * (not yet "before" anybody's flush, in Linux too). */
	if (queue_work_on(cpu, wqt.wq, &it->work)) {
		__atomic_add_fetch(&it->accepted, 1, __ATOMIC_RELAXED);
		atomic_max(&it->need, before + 1);
	}
	__atomic_add_fetch(&wqt.queues, 1, __ATOMIC_RELAXED);
}

static void wqt_work_fn(struct work_struct *w)
{
	struct wqt_item *it = container_of(w, struct wqt_item, work);
	int inside = __atomic_add_fetch(&it->inside, 1, __ATOMIC_ACQ_REL);
	u64 idx = __atomic_add_fetch(&it->starts, 1, __ATOMIC_ACQ_REL);
	u64 rng;

	if (inside != 1) {
		__atomic_add_fetch(&wqt.self_concurrent, 1, __ATOMIC_RELAXED);
		wqt_error("item %d ran concurrently with itself (%d runs inside, run %llu)",
			  it->id, inside, (unsigned long long)idx);
	}
	rng = __atomic_add_fetch(&it->rng, 0x9E3779B97F4A7C15ULL, __ATOMIC_RELAXED);
	/* Re-queue while running, from whatever CPU this runs on, to another. */
	if (!READ_ONCE(wqt.stop) && prandom_next(&rng) % 2) {
		wqt_queue(it, wqt_random_cpu(&rng));
		__atomic_add_fetch(&wqt.requeues, 1, __ATOMIC_RELAXED);
	}
	udelay(prandom_next(&rng) % ((u64)wqt_hold_us + 1));
	__atomic_sub_fetch(&it->inside, 1, __ATOMIC_ACQ_REL);
	__atomic_add_fetch(&it->finishes, 1, __ATOMIC_RELAXED);
	atomic_max(&it->done_upto, idx);
}

static void wqt_flush(struct wqt_driver *d, struct wqt_item *it)
{
	u64 need = __atomic_load_n(&it->need, __ATOMIC_ACQUIRE);

	d->op = "flush_work";
	d->op_item = it->id;
	__atomic_store_n(&d->op_start_ns, ktime_get_ns(), __ATOMIC_RELEASE);
	flush_work(&it->work);
	__atomic_store_n(&d->op_start_ns, 0, __ATOMIC_RELEASE);
	u64 done = __atomic_load_n(&it->done_upto, __ATOMIC_ACQUIRE);

	if (done < need && !WQT_CANCEL_ITEM(it->id)) {
		__atomic_add_fetch(&wqt.early_flushes, 1, __ATOMIC_RELAXED);
		wqt_error("flush_work(item %d) returned before run %llu finished (done up to %llu)",
			  it->id, (unsigned long long)need, (unsigned long long)done);
	}
	__atomic_add_fetch(&wqt.flushes, 1, __ATOMIC_RELAXED);
}

static void wqt_cancel(struct wqt_driver *d, struct wqt_item *it)
{
	u64 started = __atomic_load_n(&it->starts, __ATOMIC_ACQUIRE);

	d->op = "cancel_work_sync";
	d->op_item = it->id;
	__atomic_store_n(&d->op_start_ns, ktime_get_ns(), __ATOMIC_RELEASE);
	bool was_pending = cancel_work_sync(&it->work);

	__atomic_store_n(&d->op_start_ns, 0, __ATOMIC_RELEASE);
	u64 finished = __atomic_load_n(&it->finishes, __ATOMIC_ACQUIRE);

	if (was_pending) {
		__atomic_add_fetch(&it->cancelled, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&wqt.cancels_pending, 1, __ATOMIC_RELAXED);
	}
	if (finished < started)
		wqt_error("cancel_work_sync(item %d) returned with a run still going (%llu started before, %llu finished)",
			  it->id, (unsigned long long)started, (unsigned long long)finished);
	__atomic_add_fetch(&wqt.cancels, 1, __ATOMIC_RELAXED);
}

static int wqt_driver_fn(void *arg)
{
	struct wqt_driver *d = arg;

	while (!READ_ONCE(wqt.stop)) {
		struct wqt_item *it = &wqt.items[prandom_next(&d->rng) % WQT_ITEMS];
		unsigned int op = (unsigned int)(prandom_next(&d->rng) % 10);

		if (op < 5) {
			wqt_queue(it, wqt_random_cpu(&d->rng));
		} else if (op < 7) {
			wqt_flush(d, it);
		} else if (op < 9) {
			if (WQT_CANCEL_ITEM(it->id))
				wqt_cancel(d, it);
			else
				wqt_flush(d, it);
		} else if (set_cpus_allowed_ptr(current, cpumask_of(wqt_random_cpu(&d->rng)))) {
			/* the CPU went inactive meanwhile: stay */
		}
		d->ops++;
		if (prandom_next(&d->rng) % 16 == 0)
			msleep(1);
		else
			cond_resched();
	}
	set_cpus_allowed_ptr(current, &cpu_possible_mask);
	__atomic_add_fetch(&wqt.exited, 1, __ATOMIC_RELEASE);
	return 0;
}

static int wqt_onoff_fn(void *arg)
{
	struct wqt_driver *d = arg;
	unsigned int n = cpumask_weight(&cpu_present_mask);

	while (!READ_ONCE(wqt.stop) && n > 1) {
		unsigned int pick = 1 + (unsigned int)(prandom_next(&d->rng) % (n - 1)), cpu = 0, c;

		for_each_cpu(c, &cpu_present_mask)
			if (c != 0 && --pick == 0)
				cpu = c;
		if (cpu) {
			bool up = cpuhp_get_state(cpu) != CPUHP_ONLINE;

			d->op = up ? "cpu_up" : "cpu_down";
			d->op_item = (int)cpu;
			__atomic_store_n(&d->op_start_ns, ktime_get_ns(), __ATOMIC_RELEASE);
			int ret = up ? cpu_up(cpu, CPUHP_ONLINE) : cpu_down(cpu, CPUHP_OFFLINE);

			__atomic_store_n(&d->op_start_ns, 0, __ATOMIC_RELEASE);
			wqt.onoff_ops++;
			if (ret)
				wqt.onoff_failed++;
		}
		msleep((unsigned int)wqt_onoff_ms);
	}
	__atomic_add_fetch(&wqt.exited, 1, __ATOMIC_RELEASE);
	return 0;
}

/* After the run: flush every item until nothing is pending (the last runs
 * may still have re-queued before they saw stop). */
static int wqt_final_fn(void *arg)
{
	struct wqt_driver *d = arg;

	for (int pass = 0; pass < 3; pass++) {
		for (int i = 0; i < WQT_ITEMS; i++) {
			d->op = "final flush_work";
			d->op_item = i;
			__atomic_store_n(&d->op_start_ns, ktime_get_ns(), __ATOMIC_RELEASE);
			flush_work(&wqt.items[i].work);
			__atomic_store_n(&d->op_start_ns, 0, __ATOMIC_RELEASE);
		}
	}
	__atomic_add_fetch(&wqt.exited, 1, __ATOMIC_RELEASE);
	return 0;
}

/* A thread in one operation for longer than stall_s: report it, true. */
static bool wqt_check_stuck(struct wqt_driver *d, const char *who)
{
	u64 t0 = __atomic_load_n(&d->op_start_ns, __ATOMIC_ACQUIRE);

	if (!t0 || ktime_get_ns() - t0 < (u64)wqt_stall_s * 1000000000ULL)
		return false;
	printk("!!! wqtorture: %s %u: %s(%d) has not returned for %d s (hang)\n",
	       who, d->id, d->op, d->op_item, wqt_stall_s);
	__atomic_add_fetch(&wqt.errors, 1, __ATOMIC_RELAXED);
	return true;
}

static void wqt_stats(u64 start, const char *what)
{
	u64 runs = 0;

	for (int i = 0; i < WQT_ITEMS; i++)
		runs += __atomic_load_n(&wqt.items[i].finishes, __ATOMIC_RELAXED);
	printk("wqtorture: %s t=%llus queues %llu (re-queued while running %llu) runs %llu flushes %llu "
	       "cancels %llu (pending %llu) hotplug %llu (failed %llu) online %u/%u "
	       "self-concurrent %llu early-flush %llu errors %d\n",
	       what, (ktime_get_ns() - start) / 1000000000ULL, wqt.queues, wqt.requeues,
	       (unsigned long long)runs, wqt.flushes, wqt.cancels, wqt.cancels_pending,
	       wqt.onoff_ops, wqt.onoff_failed,
	       num_online_cpus(), cpumask_weight(&cpu_present_mask), wqt.self_concurrent,
	       wqt.early_flushes, wqt.errors);
}

/* Wait until the drivers and the hotplug thread are done; false on a hang. */
static bool wqt_wait_exit(unsigned int nr)
{
	while (__atomic_load_n(&wqt.exited, __ATOMIC_ACQUIRE) < (int)nr) {
		bool stuck = wqt_check_stuck(&wqt.onoff, "hotplug thread");

		for (unsigned int i = 0; i < wqt.nr_drv; i++)
			stuck |= wqt_check_stuck(&wqt.drv[i], "driver");
		if (stuck)
			return false;
		msleep(20);
	}
	return true;
}

int wqtorture_run(int seconds)
{
	u64 start, end, next_stats;
	unsigned int nr, cpu;
	bool hung = false;

	if (__atomic_exchange_n(&wqt.busy, 1, __ATOMIC_ACQ_REL)) {
		printk("wqtorture: a run is in progress, or a thread of an earlier one is stuck\n");
		return -1;
	}
	if (!wqt.wq)
		wqt.wq = alloc_workqueue("wqtorture", 0);
	if (!wqt.wq) {
		printk("wqtorture: cannot allocate the workqueue\n");
		__atomic_store_n(&wqt.busy, 0, __ATOMIC_RELEASE);
		return -1;
	}
	wqt.stop = wqt.exited = wqt.errors = 0;
	wqt.self_concurrent = wqt.early_flushes = wqt.requeues = wqt.flushes = wqt.queues = 0;
	wqt.onoff_ops = wqt.onoff_failed = wqt.cancels = wqt.cancels_pending = 0;
	memset(wqt.items, 0, sizeof(wqt.items));
	memset(wqt.drv, 0, sizeof(wqt.drv));
	memset(&wqt.onoff, 0, sizeof(wqt.onoff));
	for (int i = 0; i < WQT_ITEMS; i++) {
		INIT_WORK(&wqt.items[i].work, wqt_work_fn);
		wqt.items[i].id = i;
		wqt.items[i].rng = 0xD1B54A32D192ED03ULL * (u64)(i + 1) ^ ktime_get_ns();
	}
	printk("wqtorture: %u CPUs online, %d items, %d s, hold up to %d us, hotplug %s every %d ms\n",
	       num_online_cpus(), WQT_ITEMS, seconds, wqt_hold_us, wqt_hotplug ? "on" : "off", wqt_onoff_ms);
	nr = 0;
	for_each_online_cpu(cpu) {
		struct wqt_driver *d = &wqt.drv[wqt.nr_drv];
		struct task_struct *t;

		d->id = wqt.nr_drv;
		d->rng = 0xA5A5A5A5ULL * (cpu + 1) ^ ktime_get_ns();
		t = kthread_create(wqt_driver_fn, d, "wqt-drv/%u", cpu);
		if (!t) {
			printk("wqtorture: cannot create driver %u\n", cpu);
			break;
		}
		kthread_bind_mask(t, cpumask_of(cpu));
		wqt.nr_drv++;
		nr++;
		wake_up_process(t);
	}
	if (wqt_hotplug) {
		wqt.onoff.rng = 0x1234567ULL ^ ktime_get_ns();
		if (kthread_run(wqt_onoff_fn, &wqt.onoff, "wqt-onoff"))
			nr++;
	}
	start = ktime_get_ns();
	end = start + (u64)seconds * 1000000000ULL;
	next_stats = start + 1000000000ULL;
	while (ktime_get_ns() < end && !hung) {
		msleep(50);
		hung = wqt_check_stuck(&wqt.onoff, "hotplug thread");
		for (unsigned int i = 0; i < wqt.nr_drv; i++)
			hung |= wqt_check_stuck(&wqt.drv[i], "driver");
		if (ktime_get_ns() >= next_stats) {
			wqt_stats(start, "");
			next_stats += 1000000000ULL;
		}
	}
	WRITE_ONCE(wqt.stop, 1);
	if (!hung)
		hung = !wqt_wait_exit(nr);
	if (!hung) {
		/* Every CPU back, then the final flushes. */
		for_each_cpu(cpu, &cpu_present_mask)
			if (cpuhp_get_state(cpu) != CPUHP_ONLINE && cpu_up(cpu, CPUHP_ONLINE))
				wqt_error("could not bring CPU %u back online at the end", cpu);
		/* The final flushes run in a thread of their own, so that
		 * one that hangs is reported like any other. */
		if (kthread_run(wqt_final_fn, &wqt.onoff, "wqt-final"))
			hung = !wqt_wait_exit(nr + 1);
		else
			wqt_error("cannot create the final flush thread");
		for (int i = 0; i < WQT_ITEMS && !hung; i++) {
			struct wqt_item *it = &wqt.items[i];

			if (work_pending(&it->work) || it->finishes != it->accepted - it->cancelled)
				wqt_error("item %d: %llu queueings accepted, %llu cancelled, %llu runs (exactly once broken)",
					  i, (unsigned long long)it->accepted, (unsigned long long)it->cancelled,
					  (unsigned long long)it->finishes);
		}
	}
	wqt_stats(start, "totals:");
	if (watchdog_soft_reports || watchdog_hard_reports)
		wqt_error("the lockup watchdog reported during the test");
	printk("End of test: %s\n", wqt.errors || hung ? "FAILURE" : "SUCCESS");
	/* A stuck thread still uses wqt: leave busy set so no run reuses it. */
	if (!hung)
		__atomic_store_n(&wqt.busy, 0, __ATOMIC_RELEASE);
	return wqt.errors || hung ? -1 : 0;
}

static int wqt_boot_thread(void *arg)
{
	int ret;

	(void)arg;
	ret = wqtorture_run(wqt_duration_s);
	if (wqt_poweroff)
		machine_poweroff(ret == 0);
	return ret;
}

void wqtorture_start(void)
{
	if (torture_wq)
		kthread_run(wqt_boot_thread, NULL, "wqtorture");
}

static int cmd_wqtorture(int argc, char **argv)
{
	int seconds = wqt_duration_s;

	if (argc > 2 || (argc > 1 && !strcmp(argv[1], "help")))
		return 1;   /* the shell prints the usage line */
	if (argc > 1) {
		long long v;

		if (kstrtoll(argv[1], 10, &v) || v < 1 || v > 86400) {
			printk("wqtorture: SECONDS must be 1..86400\n");
			return 1;
		}
		seconds = (int)v;
	}
	return wqtorture_run(seconds) ? SHELL_CMD_FAILED : 0;
}
SHELL_COMMAND(wqtorture, "wqtorture", "wqtorture [SECONDS]",
	      "run the workqueue torture test on all online CPUs", cmd_wqtorture);
