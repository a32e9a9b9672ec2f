/*
 * timer_test.c — in-kernel tests of the timer bases (timer.c):
 *   timer.fire_once  many timers armed from a thread on every online CPU
 *                    (mod_timer) and from here onto every CPU (add_timer_on),
 *                    with spread expiries: each fires exactly once, on the
 *                    CPU it was armed for, not before its expiry
 *   timer.del_sync   a deleted timer never fires; del_timer_sync waits for a
 *                    running callback; re-arming a pending timer moves it
 *   timer.hotplug    timers and a sleeper on a CPU taken offline: each timer
 *                    fires once, elsewhere; the sleeper wakes; far timers
 *                    moved off it are deleted from the base they moved to
 *   timer.pinned_add_on  add_timer_on() moves a pinned timer to the CPU it
 *                    names (fails if it stays on the base it last ran on)
 */
#include <grace/completion.h>
#include <grace/cpuhotplug.h>
#include <grace/ktest.h>
#include <grace/kthread.h>
#include <grace/mm.h>
#include <grace/printk.h>
#include <grace/sched.h>
#include <grace/time.h>
#include <grace/timer.h>

#define FIRE_PER_CPU 24

struct fire_timer {
	struct timer_list timer;
	unsigned int want_cpu;
	int fired;
	int cpu_seen;
	unsigned long armed_at, expires, fired_at;
	bool early;
};

static struct fire_timer *fire_timers;
static unsigned int nr_fire;

static void fire_fn(struct timer_list *t)
{
	struct fire_timer *ft = from_timer(ft, t, timer);

	__atomic_add_fetch(&ft->fired, 1, __ATOMIC_RELAXED);
	ft->cpu_seen = (int)smp_processor_id();
	ft->fired_at = READ_ONCE(jiffies);
	if (time_before(READ_ONCE(jiffies), ft->expires))
		ft->early = true;
}

struct arm_job {
	unsigned int cpu, first, count;
	struct completion *done;
};

static int arm_fn(void *data)
{
	struct arm_job *job = data;

	for (unsigned int i = 0; i < job->count; i++) {
		struct fire_timer *ft = &fire_timers[job->first + i];

		timer_setup(&ft->timer, fire_fn, 0);
		ft->want_cpu = job->cpu;
		ft->armed_at = jiffies;
		ft->expires = ft->armed_at + 1 + (i * 7) % 20;
		mod_timer(&ft->timer, ft->expires);
	}
	complete(job->done);
	return 0;
}

KTEST(timer_fire_once, "timer.fire_once")
{
	static struct arm_job jobs[NR_CPUS];
	unsigned int cpu, ncpu = num_online_cpus(), i = 0;
	DECLARE_COMPLETION(armed);

	nr_fire = ncpu * FIRE_PER_CPU * 2;
	fire_timers = kzalloc(nr_fire * sizeof(*fire_timers));
	KTEST_EXPECT(fire_timers != NULL);
	if (!fire_timers)
		return;
	/* Half armed locally by a thread bound to each CPU... */
	for_each_online_cpu(cpu) {
		struct arm_job *job = &jobs[cpu];

		job->cpu = cpu;
		job->first = i;
		job->count = FIRE_PER_CPU;
		job->done = &armed;
		i += FIRE_PER_CPU;
		struct task_struct *k = kthread_create(arm_fn, job, "timerarm/%u", cpu);

		KTEST_EXPECT(k != NULL);
		kthread_bind(k, cpu);
		wake_up_process(k);
	}
	/* ... half from here onto each CPU. */
	for_each_online_cpu(cpu) {
		for (unsigned int j = 0; j < FIRE_PER_CPU; j++, i++) {
			struct fire_timer *ft = &fire_timers[i];

			timer_setup(&ft->timer, fire_fn, 0);
			ft->want_cpu = cpu;
			ft->armed_at = jiffies;
			ft->expires = ft->timer.expires = ft->armed_at + 1 + (j * 5) % 17;
			add_timer_on(&ft->timer, cpu);
		}
	}
	for_each_online_cpu(cpu)
		KTEST_EXPECT(wait_for_completion_timeout(&armed, msecs_to_jiffies(5000)) != 0);
	msleep(jiffies_to_msecs(25) + 100);
	msleep(100);   /* and a while longer: nothing may fire twice */
	for (i = 0; i < nr_fire && !t->failed; i++) {
		struct fire_timer *ft = &fire_timers[i];

		KTEST_EXPECT_MSG(ft->fired == 1, "timer %u (CPU %u) fired %d times", i, ft->want_cpu, ft->fired);
		KTEST_EXPECT_MSG(ft->cpu_seen == (int)ft->want_cpu || !cpu_online(ft->want_cpu),
				 "timer %u for CPU %u fired on CPU %d", i, ft->want_cpu, ft->cpu_seen);
		KTEST_EXPECT_MSG(!ft->early, "timer %u fired before its expiry", i);
		KTEST_EXPECT(!timer_pending(&ft->timer));
	}
	kfree(fire_timers);
	fire_timers = NULL;
}

static volatile int slow_running, slow_done, quick_fired;

static void slow_fn(struct timer_list *t)
{
	(void)t;
	WRITE_ONCE(slow_running, 1);
	mdelay(30);               /* interrupts are off: keep it short in real code */
	WRITE_ONCE(slow_done, 1);
}

static void quick_fn(struct timer_list *t)
{
	(void)t;
	__atomic_add_fetch(&quick_fired, 1, __ATOMIC_RELAXED);
}

static int slow_arm_fn(void *data)
{
	struct timer_list *tl = data;

	mod_timer(tl, jiffies + 1);
	return 0;
}

KTEST(timer_del_sync, "timer.del_sync")
{
	struct timer_list a;
	static struct timer_list slow;

	quick_fired = 0;
	timer_setup(&a, quick_fn, 0);
	KTEST_EXPECT(!timer_pending(&a));
	KTEST_EXPECT(mod_timer(&a, jiffies + msecs_to_jiffies(100)) == 0);
	KTEST_EXPECT(timer_pending(&a));
	KTEST_EXPECT(mod_timer(&a, jiffies + msecs_to_jiffies(200)) == 1);
	KTEST_EXPECT(del_timer(&a) == 1);
	KTEST_EXPECT(del_timer(&a) == 0);
	msleep(jiffies_to_msecs(msecs_to_jiffies(200)) + 50);
	KTEST_EXPECT_MSG(quick_fired == 0, "a deleted timer fired");

	/* del_timer_sync must wait for a callback running on another CPU. */
	unsigned int cpu = 0, c;

	for_each_online_cpu(c)
		cpu = c;
	if (cpu == smp_processor_id())
		return;   /* needs two CPUs */
	slow_running = slow_done = 0;
	timer_setup(&slow, slow_fn, 0);
	struct task_struct *k = kthread_create(slow_arm_fn, &slow, "slowarm");

	kthread_bind(k, cpu);
	wake_up_process(k);
	u64 deadline = ktime_get_ns() + 2000000000ULL;

	while (!READ_ONCE(slow_running) && ktime_get_ns() < deadline)
		cpu_relax();
	KTEST_EXPECT(slow_running);
	del_timer_sync(&slow);
	KTEST_EXPECT_MSG(slow_done, "del_timer_sync returned while the callback ran");
}

/*
 * timer.hotplug — timers pending on a CPU that goes offline fire exactly
 * once, elsewhere; a task sleeping in msleep() on that CPU wakes up (its
 * timer moved, and the task itself is placed on a live CPU). Needs a CPU
 * other than 0 that can go offline.
 */
static volatile int hp_sleeper_done;

static int hp_sleeper(void *data)
{
	(void)data;
	msleep(300);
	WRITE_ONCE(hp_sleeper_done, 1);
	return 0;
}

static int far_fired;

static void fire_fn_never(struct timer_list *t)
{
	(void)t;
	far_fired++;
}

KTEST(timer_hotplug, "timer.hotplug")
{
	unsigned int victim = 0, cpu, n = 40;
	struct cpumask m;

	for_each_online_cpu(cpu)
		victim = cpu;
	if (victim == 0) {
		printk("timer.hotplug: needs a second online CPU; nothing to do\n");
		return;
	}
	far_fired = 0;
	fire_timers = kzalloc(n * sizeof(*fire_timers));
	KTEST_EXPECT(fire_timers != NULL);
	if (!fire_timers)
		return;
	for (unsigned int i = 0; i < n; i++) {
		struct fire_timer *ft = &fire_timers[i];

		timer_setup(&ft->timer, fire_fn, 0);
		ft->want_cpu = victim;
		/* Most expire after the offline; a slow offline lets early ones
		 * fire on the victim first, which is fine. */
		ft->expires = ft->timer.expires = jiffies + msecs_to_jiffies(200) + i;
		add_timer_on(&ft->timer, victim);
	}
	/* Far timers, still pending after the offline: deleting them must
	 * find them on the base they were moved to. */
	static struct timer_list far[8];

	for (unsigned int i = 0; i < 8; i++) {
		timer_setup(&far[i], fire_fn_never, 0);
		far[i].expires = jiffies + msecs_to_jiffies(20000) + i;
		add_timer_on(&far[i], victim);
	}
	hp_sleeper_done = 0;
	struct task_struct *k = kthread_create(hp_sleeper, NULL, "hpsleeper");

	cpumask_clear(&m);
	cpumask_set_cpu(victim, &m);
	KTEST_EXPECT(set_cpus_allowed_ptr(k, &m) == 0);
	wake_up_process(k);
	msleep(20);           /* the sleeper's timer is now on the victim */
	KTEST_EXPECT_MSG(cpu_down(victim, CPUHP_OFFLINE) == 0, "CPU %u did not go offline", victim);
	unsigned long offline_at = READ_ONCE(jiffies);

	KTEST_EXPECT_MSG(timers_pending_on(victim) == 0, "%u timers left on offline CPU %u",
			 timers_pending_on(victim), victim);
	for (unsigned int i = 0; i < 8; i++) {
		KTEST_EXPECT_MSG(del_timer(&far[i]) == 1, "far timer %u was not pending after the offline", i);
		KTEST_EXPECT_MSG(!timer_pending(&far[i]), "far timer %u still pending after del_timer", i);
	}
	/* del_timer must have locked, and counted down, the base that holds
	 * them now, not the offline CPU's. */
	KTEST_EXPECT_MSG(timers_pending_on(victim) == 0, "offline CPU %u counts %u pending timers after "
			 "deleting the migrated ones", victim, timers_pending_on(victim));
	msleep(jiffies_to_msecs(n + 20) + 400);
	for (unsigned int i = 0; i < n && !t->failed; i++) {
		struct fire_timer *ft = &fire_timers[i];

		KTEST_EXPECT_MSG(ft->fired == 1, "timer %u of offlined CPU %u fired %d times",
				 i, victim, ft->fired);
		KTEST_EXPECT_MSG(ft->cpu_seen != (int)victim || time_before(ft->fired_at, offline_at),
				 "timer %u fired on CPU %u after it went offline", i, victim);
	}
	KTEST_EXPECT_MSG(hp_sleeper_done, "a task sleeping on the offlined CPU never woke");
	KTEST_EXPECT_MSG(far_fired == 0, "%d deleted timers fired", far_fired);
	KTEST_EXPECT_MSG(cpu_up(victim, CPUHP_ONLINE) == 0, "CPU %u did not come back", victim);
	kfree(fire_timers);
	fire_timers = NULL;
}

/*
 * add_timer_on() names the CPU, also for a TIMER_PINNED timer that last
 * ran elsewhere: armed on one CPU, fired, then added on another, it must
 * fire on the other. (It stayed on its old base: a pinned per-CPU sampler
 * that hotplug had moved away was put back on the wrong CPU for good.)
 */
static volatile int pin_seen = -1;

static void pin_fn(struct timer_list *t)
{
	(void)t;
	WRITE_ONCE(pin_seen, (int)smp_processor_id());
}

KTEST(timer_pinned_add_on, "timer.pinned_add_on")
{
	static struct timer_list pt;
	unsigned int first = cpumask_first(&cpu_online_mask), other = first, cpu;

	for_each_online_cpu(cpu)
		if (cpu != first)
			other = cpu;
	cpus_read_lock();   /* both stay online */
	timer_setup(&pt, pin_fn, TIMER_PINNED);
	for (int round = 0; round < 2; round++) {
		unsigned int want = round ? other : first;

		pin_seen = -1;
		pt.expires = jiffies + 1;
		add_timer_on(&pt, want);
		for (int i = 0; i < 100 && READ_ONCE(pin_seen) < 0; i++)
			msleep(5);
		KTEST_EXPECT_MSG(READ_ONCE(pin_seen) == (int)want,
				 "pinned timer added on CPU %u fired on CPU %d", want, READ_ONCE(pin_seen));
	}
	del_timer_sync(&pt);
	cpus_read_unlock();
}
