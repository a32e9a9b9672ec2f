/*
 * hotplug_torture.c — random CPU offline/online under load.
 *
 * Boot with torture.hotplug=1. For torture.duration_s seconds an "onoff"
 * thread takes a random non-boot CPU down (to OFFLINE or to a random
 * resting state) or up (to ONLINE or a random resting state) every
 * torture.onoff_interval_ms, and with probability 1/torture.fail_ratio arms a
 * one-shot failure at a random state that may fail, to exercise rollback.
 * Meanwhile one workload thread per possible CPU keeps
 *   - arming timers on random online CPUs   (each must fire exactly once)
 *   - queueing work on random CPUs          (each must run exactly once)
 *   - moving itself between CPUs            (set_cpus_allowed_ptr)
 * and bumps a heartbeat.
 *
 * Checked: after every operation the CPU rests at a valid state, a failed
 * operation left it exactly where it started, and the masks agree with the
 * state; each interval every workload thread made progress; at the end (all
 * CPUs back online, everything flushed) every timer fired once and every
 * work item ran once, and no watchdog report appeared.
 * Prints one stats line per second and "End of test: SUCCESS|FAILURE".
 */
#include <grace/cpuhotplug.h>
#include <grace/cpumask.h>
#include <grace/kthread.h>
#include <grace/mm.h>
#include <grace/param.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/random.h>
#include <grace/reboot.h>
#include <grace/sched.h>
#include <grace/time.h>
#include <grace/timer.h>
#include <grace/torture.h>
#include <grace/watchdog.h>
#include <grace/workqueue.h>

static bool torture_hotplug;
static int onoff_interval_ms = 100;
static int duration_s = 10;
static int fail_ratio = 8;
static bool torture_poweroff = true;
param_bool("torture.hotplug", torture_hotplug, "run the CPU-hotplug torture test at boot");
param_int("torture.onoff_interval_ms", onoff_interval_ms, 1, 60000, "time between hotplug operations");
param_int("torture.duration_s", duration_s, 1, 86400, "how long the torture test runs");
param_int("torture.fail_ratio", fail_ratio, 0, 1000, "inject a failure in 1 of this many operations (0: never)");
param_bool("torture.poweroff", torture_poweroff, "power off when the torture test ends");

#define TIMERS_PER_THREAD 16
#define WORKS_PER_THREAD  16

struct tt_timer {
	struct timer_list timer;
	int armed;               /* times armed */
	int fired;               /* times fired */
};

struct tt_work {
	struct work_struct work;
	int queued;
	int runs;
};

struct tt_thread {
	struct task_struct *task;
	unsigned int id;
	u64 rng;
	u64 heartbeat;
	u64 seen_heartbeat;      /* onoff thread's last look */
	int stalled_intervals;
	struct tt_timer timers[TIMERS_PER_THREAD];
	struct tt_work works[WORKS_PER_THREAD];
	unsigned long long migrations, migrate_refused;
};

static struct tt_thread *threads[NR_CPUS];
static unsigned int nr_threads;
static int tt_errors;
static struct {
	unsigned long long ops, ups, downs, failed, injected, rollbacks_ok;
} st;

static void tt_error(const char *what)
{
	__atomic_add_fetch(&tt_errors, 1, __ATOMIC_RELAXED);
	printk("!!! hotplug-torture: %s\n", what);
}

static void tt_timer_fn(struct timer_list *t)
{
	struct tt_timer *tt = container_of(t, struct tt_timer, timer);

	__atomic_add_fetch(&tt->fired, 1, __ATOMIC_RELAXED);
}

static void tt_work_fn(struct work_struct *w)
{
	struct tt_work *tw = container_of(w, struct tt_work, work);

	__atomic_add_fetch(&tw->runs, 1, __ATOMIC_RELAXED);
}

static unsigned int random_online_cpu(u64 *rng)
{
	unsigned int n = num_online_cpus(), pick = (unsigned int)(prandom_next(rng) % (n ? n : 1)), cpu;

	for_each_online_cpu(cpu)
		if (pick-- == 0)
			return cpu;
	return 0;
}

static int tt_workload(void *arg)
{
	struct tt_thread *t = arg;

	/* Until kthread_stop(): a thread that is going to be stopped must not
	 * return on its own, or kthread_stop() would touch a freed task. */
	while (!kthread_should_stop()) {
		/* A timer whose last arming has fired may be armed again. */
		struct tt_timer *tm = &t->timers[prandom_next(&t->rng) % TIMERS_PER_THREAD];

		if (READ_ONCE(tm->fired) == tm->armed) {
			tm->armed++;
			tm->timer.expires = jiffies + 1 + prandom_next(&t->rng) % 5;
			add_timer_on(&tm->timer, random_online_cpu(&t->rng));
		}
		/* A work item that has run as often as it was queued may go again. */
		struct tt_work *wk = &t->works[prandom_next(&t->rng) % WORKS_PER_THREAD];

		if (READ_ONCE(wk->runs) == wk->queued) {
			wk->queued++;
			if (!queue_work_on((unsigned int)(prandom_next(&t->rng) % num_possible_cpus()),
					   system_wq, &wk->work))
				tt_error("queue_work_on refused an idle work item");
		}
		/* Move somewhere else now and then. */
		if (prandom_next(&t->rng) % 4 == 0) {
			if (set_cpus_allowed_ptr(t->task, cpumask_of(random_online_cpu(&t->rng))))
				t->migrate_refused++;   /* the CPU went inactive meanwhile */
			else
				t->migrations++;
		}
		t->heartbeat++;
		msleep(1 + prandom_next(&t->rng) % 3);
	}
	set_cpus_allowed_ptr(t->task, &cpu_possible_mask);
	return 0;
}

/* Pick a resting state: mostly the ends, sometimes in between. */
static enum cpuhp_state random_target(u64 *rng, bool up)
{
	if (prandom_next(rng) % 4)
		return up ? CPUHP_ONLINE : CPUHP_OFFLINE;
	for (int tries = 0; tries < 32; tries++) {
		enum cpuhp_state s = (enum cpuhp_state)(prandom_next(rng) % CPUHP_NR_STATES);
		struct cpuhp_state_info i;

		cpuhp_describe(s, &i);
		if (i.used && i.can_rest)
			return s;
	}
	return up ? CPUHP_ONLINE : CPUHP_OFFLINE;
}

static void arm_random_failure(unsigned int cpu, u64 *rng)
{
	for (int tries = 0; tries < 32; tries++) {
		enum cpuhp_state s = (enum cpuhp_state)(1 + prandom_next(rng) % (CPUHP_ONLINE - 1));
		const char *why;

		if (!cpuhp_inject_fail(cpu, s, &why)) {
			st.injected++;
			return;
		}
	}
}

static void check_cpu(unsigned int cpu, const char *when)
{
	enum cpuhp_state s, tgt, fail;
	struct cpuhp_state_info i;
	u64 last;
	char msg[160];

	cpuhp_cpu_info(cpu, &s, &tgt, &fail, &last);
	cpuhp_describe(s, &i);
	if (!i.can_rest || tgt != s) {
		snprintf(msg, sizeof(msg), "%s: CPU %u stuck at %s (target %s)", when, cpu,
			 cpuhp_state_name(s), cpuhp_state_name(tgt));
		tt_error(msg);
	}
	if ((s >= CPUHP_AP_ACTIVE) != cpumask_test_cpu(cpu, &cpu_active_mask) ||
	    (s >= CPUHP_AP_ONLINE) != cpu_online(cpu)) {
		snprintf(msg, sizeof(msg), "%s: CPU %u at %s but online=%d active=%d", when, cpu,
			 cpuhp_state_name(s), cpu_online(cpu), cpumask_test_cpu(cpu, &cpu_active_mask));
		tt_error(msg);
	}
}

static void onoff_once(u64 *rng)
{
	unsigned int n = cpumask_weight(&cpu_present_mask);

	if (n < 2)
		return;
	unsigned int pick = 1 + (unsigned int)(prandom_next(rng) % (n - 1)), cpu = 0, c;

	for_each_cpu(c, &cpu_present_mask)
		if (c != 0 && --pick == 0)
			cpu = c;
	if (!cpu)
		return;
	enum cpuhp_state before = cpuhp_get_state(cpu);
	bool up = before != CPUHP_ONLINE && (before == CPUHP_OFFLINE || prandom_next(rng) % 2);
	enum cpuhp_state target = random_target(rng, up);

	if (up ? target <= before : target >= before)
		target = up ? CPUHP_ONLINE : CPUHP_OFFLINE;
	if (fail_ratio && prandom_next(rng) % (u64)fail_ratio == 0)
		arm_random_failure(cpu, rng);
	int ret = up ? cpu_up(cpu, target) : cpu_down(cpu, target);

	/* An injection belongs to this operation only: if the walk never
	 * crossed the armed state, disarm it. */
	cpuhp_clear_fail(cpu);
	st.ops++;
	if (up)
		st.ups++;
	else
		st.downs++;
	if (ret) {
		st.failed++;
		if (cpuhp_get_state(cpu) != before) {
			char msg[128];

			snprintf(msg, sizeof(msg), "failed %s of CPU %u left it at %s, not %s",
				 up ? "up" : "down", cpu, cpuhp_state_name(cpuhp_get_state(cpu)),
				 cpuhp_state_name(before));
			tt_error(msg);
		} else {
			st.rollbacks_ok++;
		}
	}
	check_cpu(cpu, "after operation");
}

static void check_progress(void)
{
	for (unsigned int i = 0; i < nr_threads; i++) {
		struct tt_thread *t = threads[i];
		u64 hb = READ_ONCE(t->heartbeat);

		if (hb == t->seen_heartbeat) {
			/* 5 s without a heartbeat: the thread is lost. */
			if (++t->stalled_intervals == 5) {
				char msg[80];

				snprintf(msg, sizeof(msg), "workload thread %u made no progress for 5 s", i);
				tt_error(msg);
			}
		} else {
			t->stalled_intervals = 0;
		}
		t->seen_heartbeat = hb;
	}
}

static void final_checks(void)
{
	unsigned int cpu;
	u64 timers = 0, works = 0;

	for_each_cpu(cpu, &cpu_present_mask)
		if (cpuhp_get_state(cpu) != CPUHP_ONLINE && cpu_up(cpu, CPUHP_ONLINE))
			tt_error("could not bring a CPU back online at the end");
	for (unsigned int i = 0; i < nr_threads; i++)
		kthread_stop(threads[i]->task);
	msleep(100); /* the longest timer is 5 jiffies away */
	for (unsigned int i = 0; i < nr_threads; i++) {
		struct tt_thread *t = threads[i];

		for (int k = 0; k < TIMERS_PER_THREAD; k++) {
			struct tt_timer *tm = &t->timers[k];

			del_timer_sync(&tm->timer);
			if (tm->fired != tm->armed) {
				char msg[96];

				snprintf(msg, sizeof(msg), "thread %u timer %d armed %d times, fired %d",
					 i, k, tm->armed, tm->fired);
				tt_error(msg);
			}
			timers += (u64)tm->fired;
		}
		for (int k = 0; k < WORKS_PER_THREAD; k++) {
			struct tt_work *wk = &t->works[k];

			flush_work(&wk->work);
			if (wk->runs != wk->queued) {
				char msg[96];

				snprintf(msg, sizeof(msg), "thread %u work %d queued %d times, ran %d",
					 i, k, wk->queued, wk->runs);
				tt_error(msg);
			}
			works += (u64)wk->runs;
		}
	}
	for_each_possible_cpu(cpu)
		check_cpu(cpu, "at the end");
	if (watchdog_soft_reports || watchdog_hard_reports)
		tt_error("the lockup watchdog reported during the test");
	printk("hotplug-torture: totals: %llu operations (%llu up, %llu down), %llu failed "
	       "(%llu injected), %llu rolled back exactly; %llu timers fired once, %llu work items ran once\n",
	       st.ops, st.ups, st.downs, st.failed, st.injected, st.rollbacks_ok,
	       (unsigned long long)timers, (unsigned long long)works);
}

static int onoff_thread(void *arg)
{
	u64 rng = 0x9E3779B97F4A7C15ULL ^ ktime_get_ns();
	u64 start = ktime_get_ns(), next_stats = start + 1000000000ULL;
	u64 end = start + (u64)duration_s * 1000000000ULL;

	(void)arg;
	printk("hotplug-torture: %u CPUs present, interval %d ms, %d s, failure 1/%d\n",
	       cpumask_weight(&cpu_present_mask), onoff_interval_ms, duration_s, fail_ratio);
	while (ktime_get_ns() < end) {
		onoff_once(&rng);
		msleep((unsigned int)onoff_interval_ms);
		if (ktime_get_ns() >= next_stats) {
			unsigned long long mig = 0, ref = 0;

			for (unsigned int i = 0; i < nr_threads; i++) {
				mig += threads[i]->migrations;
				ref += threads[i]->migrate_refused;
			}
			check_progress();
			printk("hotplug-torture: t=%llus ops %llu (up %llu down %llu) failed %llu "
			       "(injected %llu, rolled back %llu) migrations %llu (refused %llu) online %u/%u errors %d\n",
			       (ktime_get_ns() - start) / 1000000000ULL, st.ops, st.ups, st.downs, st.failed,
			       st.injected, st.rollbacks_ok, mig, ref, num_online_cpus(),
			       cpumask_weight(&cpu_present_mask), tt_errors);
			next_stats += 1000000000ULL;
		}
	}
	final_checks();
	printk("End of test: %s\n", tt_errors ? "FAILURE" : "SUCCESS");
	if (torture_poweroff)
		machine_poweroff(tt_errors == 0);
	return 0;
}

void hotplug_torture_start(void)
{
	unsigned int cpu;

	if (!torture_hotplug)
		return;
	for_each_possible_cpu(cpu) {
		struct tt_thread *t = kzalloc(sizeof(*t));

		if (!t)
			break;
		t->id = nr_threads;
		t->rng = 0xA5A5A5A5ULL * (cpu + 1) ^ ktime_get_ns();
		for (int k = 0; k < TIMERS_PER_THREAD; k++)
			timer_setup(&t->timers[k].timer, tt_timer_fn, 0);
		for (int k = 0; k < WORKS_PER_THREAD; k++)
			INIT_WORK(&t->works[k].work, tt_work_fn);
		t->task = kthread_create(tt_workload, t, "tt-work/%u", cpu);
		if (!t->task)
			break;
		threads[nr_threads++] = t;
		wake_up_process(t->task);
	}
	kthread_run(onoff_thread, NULL, "tt-onoff");
}
