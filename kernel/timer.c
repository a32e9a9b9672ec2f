/*
 * timer.c — per-CPU timer bases driven by the tick (see timer.h).
 *
 * Each CPU has a base: a hashed timing wheel of TIMER_WHEEL_SIZE buckets
 * (Varghese & Lauck's scheme 4). A timer with expiry E sits in bucket
 * E mod SIZE (or the current one if E is already past); base->clk is the
 * next jiffy the base has not processed. Each tick, run_local_timers() walks
 * clk up to jiffies and, for every jiffy, fires the timers of that bucket
 * whose expiry has come; the others in the bucket belong to a later turn of
 * the wheel. Insert and delete are O(1); a tick costs one bucket per jiffy.
 *
 * Locking: base->lock (interrupts off) protects the buckets, base->clk,
 * base->running_timer, and timer->cpu of every timer on the base. A timer's
 * base is found by lock_timer_base(), which re-checks timer->cpu after
 * locking; timer->cpu changes only with both the old and the new base
 * locked (double_lock_bases, lower CPU first). Callbacks run with the lock
 * dropped and interrupts off; base->running_timer says which one runs, so
 * del_timer_sync() can wait for it.
 *
 * Expiry without losing or duplicating: a due timer is moved from its bucket
 * to a local `expired` list under the lock and stays pending there (so
 * del_timer still finds and removes it); it is detached, one at a time,
 * under the lock just before its callback runs.
 *
 * Hotplug (why timers move, and when; McKenney, "Can RCU and CPU Hotplug
 * Survive the Attack of the Killer Virtual Environments?", LCA 2018):
 *   A timer on a CPU that has stopped ticking never fires. Whoever waits for
 *   it then waits forever: a task in msleep()/schedule_timeout() whose timer
 *   sat on that CPU, a grace-period kthread sleeping between force-quiescent
 *   scans, a watchdog. If any step of taking the CPU down waits for such a
 *   task (synchronize_rcu(), flush_work(), a completion), and that step runs
 *   before the timers are moved, the teardown deadlocks: the step waits for
 *   the timer, the timer waits for the step to finish so that its migration
 *   can run. So the timers must be off the dying CPU before any teardown
 *   step that can wait:
 *     1. CPUHP_AP_TIMERS_DYING, on the dying CPU inside stop_machine with
 *        interrupts off, right after arch_cpu_disable() stopped its tick:
 *        every pending timer is pushed to the first online CPU (CPU 0 is
 *        always online). This is before every DEAD callback, whatever its
 *        number, so no DEAD callback can wait on a stranded timer.
 *     2. CPUHP_TIMERS_PREPARE teardown (DEAD, control CPU, the CPU is gone):
 *        whatever per-CPU threads queued on the dead CPU's base after step 1
 *        is moved to the control CPU, and the base is marked offline;
 *        add_timer_on() aimed at an offline base arms on this CPU instead.
 *   Each move takes the timer out of one bucket and puts it in another under
 *   both bases' locks: a timer is pending on exactly one base at any time, so
 *   it fires exactly once. A DEAD callback numbered above TIMERS_PREPARE runs
 *   before step 2, which is why step 1 exists: with only step 2, such a
 *   callback must not wait on anything a timer drives.
 *   timers.bug_late_migration=1 is the broken order (Linux before 4.8, as
 *   the talk tells it): no step 1, and step 2's move done by a DEAD callback
 *   registered first, so it runs after later-registered ones. rcutorture's
 *   DEAD step waits for a grace period; with nohz=1 idle CPUs report only
 *   through the GP kthread's FQS scans, and when the kthread slept on the
 *   dying CPU its timer never fires there: the CPU-down never returns.
 *   Scenario rcu-bug-late-timer-migration.
 * Tests: ktests timer.fire_once (timers armed on every CPU, several CPUs),
 * timer.del_sync; the hotplug torture checks exactly-once under churn.
 */
#include <asm/cpu.h>
#include <grace/cpuhotplug.h>
#include <grace/delay.h>
#include <grace/irq.h>
#include <grace/panic.h>
#include <grace/param.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/sched.h>
#include <grace/spinlock.h>
#include <grace/time.h>
#include <grace/timer.h>

#define TIMER_WHEEL_SIZE 64    /* a power of two */

struct timer_base {
	spinlock_t lock;
	unsigned long clk;                  /* next jiffy to process */
	struct timer_list *running_timer;   /* callback running now, or NULL */
	bool online;                        /* takes new timers */
	unsigned int nr_pending;
	struct list_head wheel[TIMER_WHEEL_SIZE];
};

static DEFINE_PER_CPU(struct timer_base, timer_bases);
static bool timers_ready;

static struct timer_base *timer_base(unsigned int cpu)
{
	return per_cpu_ptr(&timer_bases, cpu);
}

void timer_setup(struct timer_list *timer, void (*fn)(struct timer_list *), unsigned int flags)
{
	INIT_LIST_HEAD(&timer->entry);
	timer->function = fn;
	timer->flags = flags;
	timer->expires = 0;
	timer->cpu = smp_processor_id();
}

bool timer_pending(const struct timer_list *timer)
{
	return !list_empty(&timer->entry);
}

/* Lock the base `timer` belongs to. Interrupts must be off. */
static struct timer_base *lock_timer_base(struct timer_list *timer)
{
	for (;;) {
		unsigned int cpu = READ_ONCE(timer->cpu);
		struct timer_base *base = timer_base(cpu);

		spin_lock(&base->lock);
		if (READ_ONCE(timer->cpu) == cpu)
			return base;
		spin_unlock(&base->lock);
	}
}

static void double_lock_bases(unsigned int a, unsigned int b)
{
	if (a == b) {
		spin_lock(&timer_base(a)->lock);
	} else if (a < b) {
		spin_lock(&timer_base(a)->lock);
		spin_lock(&timer_base(b)->lock);
	} else {
		spin_lock(&timer_base(b)->lock);
		spin_lock(&timer_base(a)->lock);
	}
}

static void double_unlock_bases(unsigned int a, unsigned int b)
{
	spin_unlock(&timer_base(a)->lock);
	if (a != b)
		spin_unlock(&timer_base(b)->lock);
}

static void enqueue_timer(struct timer_base *base, struct timer_list *timer)
{
	unsigned long slot = time_after(timer->expires, base->clk) ? timer->expires : base->clk;

	list_add_tail(&timer->entry, &base->wheel[slot & (TIMER_WHEEL_SIZE - 1)]);
	base->nr_pending++;
}

static void detach_timer(struct timer_base *base, struct timer_list *timer)
{
	list_del_init(&timer->entry);
	base->nr_pending--;
}

/* The base a timer armed from here should go to, given where it wants to be. */
static unsigned int pick_online_base(unsigned int want)
{
	if (timer_base(want)->online)
		return want;
	unsigned int self = smp_processor_id();

	if (timer_base(self)->online)
		return self;
	return cpumask_first(&cpu_online_mask);
}

/*
 * Arm `timer` at `expires` on base `cpu` (re-homing it there if it was
 * pending elsewhere). A TIMER_PINNED timer re-armed by mod_timer() stays on
 * its base; add_timer_on() (`rehome`) names the CPU and moves even a pinned
 * one there (a pinned timer that hotplug had moved to another CPU was put
 * back on that other CPU by add_timer_on(), for good: pvspin=dynamic's
 * samplers of CPUs that had been offline never sampled again, seen by the
 * scenario pvspin-dynamic-hotplug). A timer whose callback is running stays
 * on that base, so del_timer_sync() keeps finding it. Returns whether it was
 * pending.
 */
static int __mod_timer_on(struct timer_list *timer, unsigned long expires, unsigned int cpu,
			  bool rehome)
{
	unsigned long flags = local_irq_save();
	int was_pending;

	bool stay = (timer->flags & TIMER_PINNED) && !rehome;

	for (;;) {
		unsigned int old = READ_ONCE(timer->cpu);
		unsigned int new = stay ? old : pick_online_base(cpu);

		double_lock_bases(old, new);
		if (READ_ONCE(timer->cpu) != old) {
			double_unlock_bases(old, new);
			continue;
		}
		if (new != old && timer_base(old)->running_timer == timer) {
			/* Its callback runs there: stay, so del_timer_sync sees it. */
			double_unlock_bases(old, new);
			stay = true;
			continue;
		}
		if (new != old && !timer_base(new)->online) {
			double_unlock_bases(old, new);
			continue;
		}
		was_pending = timer_pending(timer);
		if (was_pending)
			detach_timer(timer_base(old), timer);
		timer->expires = expires;
		WRITE_ONCE(timer->cpu, new);
		enqueue_timer(timer_base(new), timer);
		double_unlock_bases(old, new);
		/* nohz: a CPU idling without a tick would never fire it. Pairs
		 * with the barrier in tick_nohz_idle_enter() (kernel/time.c);
		 * without nohz=1 no tick ever stops, and no barrier is paid. */
		if (unlikely(nohz_idle) && new != smp_processor_id()) {
			smp_mb();
			if (tick_stopped_on(new))
				smp_send_reschedule(new);
		}
		break;
	}
	local_irq_restore(flags);
	return was_pending;
}

int mod_timer(struct timer_list *timer, unsigned long expires)
{
	unsigned int cpu;
	int ret;

	preempt_disable();
	cpu = smp_processor_id();
	ret = __mod_timer_on(timer, expires, cpu, false);
	preempt_enable();
	return ret;
}

void add_timer(struct timer_list *timer)
{
	if (WARN_ON(timer_pending(timer)))
		return;
	mod_timer(timer, timer->expires);
}

void add_timer_on(struct timer_list *timer, unsigned int cpu)
{
	if (WARN_ON(timer_pending(timer)) || cpu >= NR_CPUS || !cpu_possible(cpu))
		return;
	preempt_disable();
	__mod_timer_on(timer, timer->expires, cpu, true);
	preempt_enable();
}

int del_timer(struct timer_list *timer)
{
	unsigned long flags = local_irq_save();
	struct timer_base *base = lock_timer_base(timer);
	int ret = 0;

	if (timer_pending(timer)) {
		detach_timer(base, timer);
		ret = 1;
	}
	spin_unlock(&base->lock);
	local_irq_restore(flags);
	return ret;
}

int del_timer_sync(struct timer_list *timer)
{
	for (;;) {
		unsigned long flags = local_irq_save();
		struct timer_base *base = lock_timer_base(timer);
		int ret = 0;

		if (base->running_timer == timer && base == this_cpu_ptr(&timer_bases) && in_irq()) {
			/* Called from its own callback: it would wait for itself. */
			spin_unlock(&base->lock);
			local_irq_restore(flags);
			printk("BUG: del_timer_sync() from the timer's own callback\n");
			WARN_ON(1);
			return 0;
		}
		if (timer_pending(timer)) {
			detach_timer(base, timer);
			ret = 1;
		}
		bool running = base->running_timer == timer;

		spin_unlock(&base->lock);
		local_irq_restore(flags);
		if (!running)
			return ret;
		cpu_relax();
	}
}

/* Fire the due timers of one jiffy. Base locked, interrupts off. */
static void expire_bucket(struct timer_base *base, unsigned long clk)
{
	struct list_head *bucket = &base->wheel[clk & (TIMER_WHEEL_SIZE - 1)];
	struct timer_list *t, *n;
	LIST_HEAD(expired);

	list_for_each_entry_safe(t, n, bucket, entry)
		if (time_after_eq(clk, t->expires))
			list_move_tail(&t->entry, &expired);   /* still pending */
	while (!list_empty(&expired)) {
		struct timer_list *timer = list_first_entry(&expired, struct timer_list, entry);
		void (*fn)(struct timer_list *) = timer->function;

		detach_timer(base, timer);
		base->running_timer = timer;
		spin_unlock(&base->lock);
		fn(timer);
		spin_lock(&base->lock);
		base->running_timer = NULL;
	}
}

void run_local_timers(void)
{
	struct timer_base *base;

	if (!timers_ready)
		return;
	base = this_cpu_ptr(&timer_bases);
	spin_lock(&base->lock);
	while (time_after_eq(READ_ONCE(jiffies), base->clk)) {
		if (base->nr_pending)
			expire_bucket(base, base->clk);
		base->clk++;
	}
	spin_unlock(&base->lock);
}

/* Move every pending timer of base `from` to base `to`. Interrupts off. */
static unsigned int migrate_timers(unsigned int from, unsigned int to)
{
	struct timer_base *old = timer_base(from), *new = timer_base(to);
	unsigned int moved = 0;

	double_lock_bases(from, to);
	for (int i = 0; i < TIMER_WHEEL_SIZE; i++) {
		while (!list_empty(&old->wheel[i])) {
			struct timer_list *t = list_first_entry(&old->wheel[i], struct timer_list, entry);

			detach_timer(old, t);
			WRITE_ONCE(t->cpu, to);
			enqueue_timer(new, t);
			moved++;
		}
	}
	double_unlock_bases(from, to);
	return moved;
}

unsigned int timers_pending_on(unsigned int cpu)
{
	return READ_ONCE(timer_base(cpu)->nr_pending);
}

int timers_prepare_cpu(unsigned int cpu)
{
	struct timer_base *base = timer_base(cpu);
	unsigned long flags = local_irq_save();

	spin_lock(&base->lock);
	base->clk = READ_ONCE(jiffies);
	base->running_timer = NULL;
	base->online = true;
	spin_unlock(&base->lock);
	local_irq_restore(flags);
	return 0;
}

static bool timers_bug_late_migration;
param_bool("timers.bug_late_migration", timers_bug_late_migration,
	   "INJECTED BUG: a dead CPU's timers move in a late DEAD callback, after ones that wait for RCU");

/* DYING: on the dying CPU, interrupts off, its tick already stopped. */
int timers_dying_cpu(unsigned int cpu)
{
	unsigned int to = cpumask_first(&cpu_online_mask);

	if (unlikely(timers_bug_late_migration))
		return 0;   /* INJECTED BUG: step 1 left out */

	if (to < NR_CPUS && to != cpu)
		migrate_timers(cpu, to);
	return 0;
}

/* DEAD: on the control CPU, the CPU is gone. */
int timers_dead_cpu(unsigned int cpu)
{
	struct timer_base *base = timer_base(cpu);
	unsigned long flags = local_irq_save();
	unsigned int self = smp_processor_id();

	spin_lock(&base->lock);
	base->online = false;
	spin_unlock(&base->lock);
	if (likely(!timers_bug_late_migration))
		migrate_timers(cpu, self);
	local_irq_restore(flags);
	return 0;
}

/* timers.bug_late_migration: the move as an ordinary dynamic DEAD callback,
 * registered before any other, so it runs after every later one. */
static int timers_late_migrate_dead(unsigned int cpu)
{
	unsigned long flags = local_irq_save();
	unsigned int n = migrate_timers(cpu, smp_processor_id());

	local_irq_restore(flags);
	if (n)
		printk("timers: late migration moved %u timers off dead CPU %u\n", n, cpu);
	return 0;
}

/* From kernel_init, after rcu_init: only the injected bug adds a state. */
void timers_register_hotplug(void)
{
	if (!timers_bug_late_migration)
		return;
	printk("timers: injected bug \"late_migration\" is ON\n");
	if (cpuhp_setup_state(CPUHP_BP_PREPARE_DYN, "timers:late-migrate", NULL,
			      timers_late_migrate_dead) < 0)
		printk("timers: timers.bug_late_migration: no free dynamic PREPARE slot\n");
}

void init_timers(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		struct timer_base *base = timer_base(cpu);

		spin_lock_init(&base->lock);
		for (int i = 0; i < TIMER_WHEEL_SIZE; i++)
			INIT_LIST_HEAD(&base->wheel[i]);
	}
	timers_prepare_cpu(0);
	timers_ready = true;
}

/* ---- sleeping on a timer ---------------------------------------------- */

struct process_timer {
	struct timer_list timer;
	struct task_struct *task;
};

static void process_timeout(struct timer_list *t)
{
	struct process_timer *pt = from_timer(pt, t, timer);

	wake_up_process(pt->task);
}

/*
 * Sleep until woken or `timeout` jiffies passed; the caller has set its
 * state (set_current_state) before testing whatever it waits for.
 * Returns the jiffies left (0 when the time ran out).
 */
long schedule_timeout(long timeout)
{
	struct process_timer pt;
	unsigned long expire;

	if (timeout == MAX_SCHEDULE_TIMEOUT) {
		schedule();
		return timeout;
	}
	if (timeout < 0) {
		printk("schedule_timeout: negative timeout %ld\n", timeout);
		__set_current_state(TASK_RUNNING);
		return 0;
	}
	/* From real time's jiffy: a tick that is late now (and catches up
	 * later) must not cut the sleep short. */
	expire = jiffies_now() + (unsigned long)timeout;
	pt.task = current;
	timer_setup(&pt.timer, process_timeout, 0);
	mod_timer(&pt.timer, expire);
	schedule();
	/* Off the stack before we return: wait out a callback in flight. */
	del_timer_sync(&pt.timer);
	timeout = (long)(expire - READ_ONCE(jiffies));
	return timeout < 0 ? 0 : timeout;
}

long schedule_timeout_uninterruptible(long timeout)
{
	__set_current_state(TASK_UNINTERRUPTIBLE);
	return schedule_timeout(timeout);
}

void msleep(unsigned int ms)
{
	/* +1: the current jiffy is already partly gone. */
	long timeout = (long)msecs_to_jiffies(ms) + 1;

	while (timeout)
		timeout = schedule_timeout_uninterruptible(timeout);
}
