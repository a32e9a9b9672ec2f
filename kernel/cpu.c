/*
 * cpu.c — the CPU hotplug state machine.
 *
 * Every CPU has a current `state` and, while an operation runs, a `target`
 * in the ordered table of include/grace/cpuhotplug.h. cpu_up() and
 * cpu_down() move a CPU one state at a time; each step calls the startup
 * (going up) or teardown (going down) callback of the state being entered or
 * left, in the context that state's section demands:
 *
 *   section      states                          runs on            may fail
 *   PREPARE      CREATE_THREADS..BP_PREPARE_DYN  control CPU        yes (startup)
 *   BRINGUP      BRINGUP_CPU                     control CPU + AP   yes (AP silent)
 *   STARTING     AP_OFFLINE+1..AP_ONLINE         the AP, irqs off   never
 *   TEARDOWN     TEARDOWN_CPU (teardown only)    stop_machine       yes (refused)
 *   ONLINE       AP_ONLINE_IDLE+1..ONLINE        AP hotplug thread  yes (both ways)
 *
 * Going up from OFFLINE: PREPARE startups on this CPU; BRINGUP_CPU kicks the
 * AP, which runs the STARTING startups itself with interrupts off, marks
 * itself online, enters its idle loop and reports AP_ONLINE_IDLE
 * (cpuhp_online_idle); then each ONLINE startup is handed to the AP's
 * hotplug thread ("cpuhp/N") and waited for.
 *
 * Going down is the mirror: ONLINE teardowns on the AP's thread; then
 * TEARDOWN_CPU parks that thread and runs take_cpu_down() on the dying CPU
 * under stop_machine (every other CPU spinning with interrupts off): the CPU
 * leaves the online mask and runs the DYING (STARTING-section) teardowns.
 * Its idle loop then reports dead and parks in arch_play_dead(); the control
 * CPU waits for that and runs the DEAD (PREPARE-section) teardowns.
 *
 * Rollback: when a step fails, the CPU is walked back, in reverse, to the
 * state the operation started from (a failed startup → teardowns; a failed
 * teardown → startups). The walk back itself must not fail; if a callback
 * fails during rollback, that is reported loudly and the walk goes on.
 *
 * Consistency on return (shared/seeds 004): cpu_up()/cpu_down() return only
 * after every step has completed on its CPU — there is no deferred work left
 * behind. In particular after cpu_up(n) returns, n is active and a thread
 * can be bound to it.
 *
 * Invariants (checked):
 *  - operations are serialized by cpu_add_remove_lock;
 *  - a CPU at rest is only ever at a state where it can stop
 *    (cpuhp_state_is_target): never inside STARTING, BRINGUP or TEARDOWN;
 *  - st->state >= CPUHP_AP_ACTIVE ⇔ the CPU is active;
 *    st->state >= CPUHP_AP_ONLINE ⇒ the CPU is in cpu_online_mask.
 * Tests: ktests "hotplug.*" (rollback at every state that may fail, dynamic
 * states, bind-after-up), the hotplug torture (kernel/torture/hotplug.c).
 */
#include <asm/cpu.h>
#include <grace/completion.h>
#include <grace/cpuhotplug.h>
#include <grace/cpumask.h>
#include <grace/delay.h>
#include <grace/kthread.h>
#include <grace/mutex.h>
#include <grace/panic.h>
#include <grace/param.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/rcupdate.h>
#include <grace/sched.h>
#include <grace/smp.h>
#include <grace/wait.h>
#include <grace/workqueue.h>
#include <grace/stop_machine.h>
#include <grace/string.h>
#include <grace/time.h>

#include <grace/errno.h>

struct cpuhp_step {
	const char *name;
	int (*startup)(unsigned int cpu);
	int (*teardown)(unsigned int cpu);
};

/* The table. Fixed states carry their name; callbacks are installed by the
 * owning subsystem through cpuhp_setup_state(). */
static struct cpuhp_step cpuhp_steps[CPUHP_NR_STATES] = {
	[CPUHP_OFFLINE]              = { .name = "offline" },
	[CPUHP_CREATE_THREADS]       = { .name = "threads:prepare" },
	[CPUHP_WORKQUEUE_PREP]       = { .name = "workqueue:prepare" },
	[CPUHP_TIMERS_PREPARE]       = { .name = "timers:prepare" },
	[CPUHP_SMPCFD_PREPARE]       = { .name = "smpcfd:prepare" },
	[CPUHP_RCUTREE_PREP]         = { .name = "rcu:prepare" },
	[CPUHP_BRINGUP_CPU]          = { .name = "cpu:bringup" },
	[CPUHP_AP_OFFLINE]           = { .name = "ap:offline" },
	[CPUHP_AP_SCHED_STARTING]    = { .name = "sched:starting" },
	[CPUHP_AP_SMPCFD_DYING]      = { .name = "smpcfd:dying" },
	[CPUHP_AP_TIMERS_DYING]      = { .name = "timers:dying" },
	[CPUHP_AP_RCUTREE_DYING]     = { .name = "rcu:dying" },
	[CPUHP_AP_ONLINE]            = { .name = "ap:online" },
	[CPUHP_TEARDOWN_CPU]         = { .name = "cpu:teardown" },
	[CPUHP_AP_ONLINE_IDLE]       = { .name = "ap:online-idle" },
	[CPUHP_AP_SMPBOOT_THREADS]   = { .name = "smpboot:threads" },
	[CPUHP_AP_WORKQUEUE_ONLINE]  = { .name = "workqueue:online" },
	[CPUHP_AP_RCUTREE_ONLINE]    = { .name = "rcu:online" },
	[CPUHP_AP_WATCHDOG_ONLINE]   = { .name = "watchdog:online" },
	[CPUHP_AP_ACTIVE]            = { .name = "sched:active" },
	[CPUHP_ONLINE]               = { .name = "online" },
};

enum cpuhp_section { SEC_PREPARE, SEC_BRINGUP, SEC_STARTING, SEC_TEARDOWN, SEC_ONLINE };

static enum cpuhp_section section_of(enum cpuhp_state s)
{
	if (s < CPUHP_BRINGUP_CPU)
		return SEC_PREPARE;
	if (s == CPUHP_BRINGUP_CPU)
		return SEC_BRINGUP;
	if (s <= CPUHP_AP_ONLINE)
		return SEC_STARTING;
	if (s == CPUHP_TEARDOWN_CPU)
		return SEC_TEARDOWN;
	return SEC_ONLINE;
}

/* Where a CPU may be left at rest: the PREPARE section, AP_ONLINE_IDLE and
 * the ONLINE section. Inside BRINGUP/STARTING/TEARDOWN the CPU is half there. */
static bool cpuhp_state_is_target(enum cpuhp_state s)
{
	return s == CPUHP_OFFLINE || section_of(s) == SEC_PREPARE ||
	       s == CPUHP_AP_ONLINE_IDLE || (section_of(s) == SEC_ONLINE && s <= CPUHP_ONLINE);
}

/* May the callback of `s` in this direction fail (and so be failure-injected)? */
static bool cpuhp_step_may_fail(enum cpuhp_state s, bool bringup)
{
	switch (section_of(s)) {
	case SEC_PREPARE:  return bringup && s != CPUHP_OFFLINE; /* DEAD teardowns: CPU already gone */
	case SEC_BRINGUP:  return bringup;      /* the AP may not answer */
	case SEC_STARTING: return false;        /* interrupts off, CPU half up */
	case SEC_TEARDOWN: return !bringup;     /* the CPU may refuse to go */
	case SEC_ONLINE:   return s != CPUHP_AP_ONLINE_IDLE && s != CPUHP_ONLINE &&
				  (cpuhp_steps[s].startup || cpuhp_steps[s].teardown);
	}
	return false;
}

/* Per-CPU bookkeeping; visible in GDB as per_cpu(cpuhp_state, N). */
struct cpuhp_cpu_state {
	enum cpuhp_state state;
	enum cpuhp_state target;
	enum cpuhp_state fail;        /* one-shot injected failure, or CPUHP_INVALID */
	bool rollback;
	/* request to the hotplug thread: one step */
	bool should_run;
	enum cpuhp_state req_state;
	bool req_bringup;
	int result;
	struct task_struct *thread;   /* cpuhp/N */
	bool thread_started;
	struct wait_queue_head wq;    /* the thread waits here for should_run */
	struct completion done;       /* a thread step finished */
	struct completion alive;      /* the AP reached AP_ONLINE_IDLE */
	struct completion dead;       /* the AP is about to play dead */
};
static DEFINE_PER_CPU(struct cpuhp_cpu_state, cpuhp_state);

static bool cpuhp_trace;
param_bool("cpuhp.trace", cpuhp_trace, "print every hotplug step as it happens");

static DEFINE_PER_CPU(u64, cpuhp_last_ns);   /* duration of the last operation */
static DEFINE_MUTEX(cpu_add_remove_lock);
static struct task_struct *hotplug_owner;
static bool cpuhp_ready;              /* threads exist: hotplug may run */

const char *cpuhp_state_name(enum cpuhp_state s)
{
	if (s < 0 || s >= CPUHP_NR_STATES)
		return "?";
	if (cpuhp_steps[s].name)
		return cpuhp_steps[s].name;
	if (s >= CPUHP_BP_PREPARE_DYN && s <= CPUHP_BP_PREPARE_DYN_END)
		return "prepare:dyn";
	if (s >= CPUHP_AP_STARTING_DYN && s <= CPUHP_AP_STARTING_DYN_END)
		return "starting:dyn";
	if (s >= CPUHP_AP_ONLINE_DYN && s <= CPUHP_AP_ONLINE_DYN_END)
		return "online:dyn";
	return "unused";
}

enum cpuhp_state cpuhp_get_state(unsigned int cpu)
{
	return per_cpu(cpuhp_state, cpu).state;
}

static enum cpuhp_state cpuhp_state_from_string(const char *s)
{
	long long n;

	if (!kstrtoll(s, 0, &n))
		return n >= 0 && n < CPUHP_NR_STATES ? (enum cpuhp_state)n : CPUHP_INVALID;
	for (int i = 0; i < CPUHP_NR_STATES; i++)
		if (cpuhp_steps[i].name && !strcmp(cpuhp_steps[i].name, s))
			return (enum cpuhp_state)i;
	return CPUHP_INVALID;
}

/* ---- locking ---------------------------------------------------------- */

void cpus_read_lock(void)
{
	if (hotplug_owner == current)
		return; /* a hotplug callback reading the masks: already serialized */
	mutex_lock(&cpu_add_remove_lock);
}

void cpus_read_unlock(void)
{
	if (hotplug_owner == current)
		return;
	mutex_unlock(&cpu_add_remove_lock);
}

static void cpu_maps_update_begin(void)
{
	mutex_lock(&cpu_add_remove_lock);
	hotplug_owner = current;
}

static void cpu_maps_update_done(void)
{
	hotplug_owner = NULL;
	mutex_unlock(&cpu_add_remove_lock);
}

/* ---- one callback ----------------------------------------------------- */

/*
 * Call the callback of `state` for `cpu` in the current context, honouring a
 * one-shot injected failure. Returns its result.
 */
static int cpuhp_invoke_callback(unsigned int cpu, enum cpuhp_state state, bool bringup)
{
	struct cpuhp_cpu_state *st = per_cpu_ptr(&cpuhp_state, cpu);
	struct cpuhp_step *step = &cpuhp_steps[state];
	int (*cb)(unsigned int) = bringup ? step->startup : step->teardown;

	if (st->fail == state && !st->rollback && cpuhp_step_may_fail(state, bringup)) {
		st->fail = CPUHP_INVALID;
		printk("cpuhp: injected failure: CPU %u %s at %s\n", cpu,
		       bringup ? "startup" : "teardown", cpuhp_state_name(state));
		return -EAGAIN;
	}
	if (!cb)
		return 0;
	/* DEBUG: no spinlock across a step that may sleep (every section but
	 * STARTING, which runs on the AP with interrupts off), and no callback
	 * returns holding one. Release builds: spin_held_count() is 0. */
	int held = spin_held_count();

	if (held && section_of(state) != SEC_STARTING) {
		printk("cpuhp: BUG: spinlock held across hotplug step %s (%s, CPU %u): it may sleep\n",
		       cpuhp_state_name(state), bringup ? "startup" : "teardown", cpu);
		spin_debug_print_held();
		WARN_ON(1);
	}
	int ret = cb(cpu);

	if (spin_held_count() != held) {
		printk("cpuhp: BUG: %s callback of hotplug step %s returned holding %d spinlock(s) more than it got (CPU %u)\n",
		       bringup ? "startup" : "teardown", cpuhp_state_name(state),
		       spin_held_count() - held, cpu);
		spin_debug_print_held();
		WARN_ON(1);
	}

	if (ret && !cpuhp_step_may_fail(state, bringup)) {
		/* Nothing can be undone here: say so and carry on. */
		printk("cpuhp: BUG: %s callback of %s failed (%d) for CPU %u where failure is impossible\n",
		       bringup ? "startup" : "teardown", cpuhp_state_name(state), ret, cpu);
		WARN_ON(1);
		ret = 0;
	}
	return ret;
}

/* ---- the AP's hotplug thread ------------------------------------------ */

/*
 * "cpuhp/N": a kthread bound to CPU N, created for every possible CPU at
 * boot. It sleeps until the control CPU asks for one ONLINE-section step,
 * runs it on CPU N and completes st->done. While CPU N is offline nobody
 * wakes it, so it needs no parking.
 */
static int cpuhp_thread_fn(void *arg)
{
	unsigned int cpu = (unsigned int)(unsigned long)arg;
	struct cpuhp_cpu_state *st = per_cpu_ptr(&cpuhp_state, cpu);

	for (;;) {
		wait_event(st->wq, READ_ONCE(st->should_run));
		/* Pairs with smp_wmb() in cpuhp_invoke_ap(): the request is visible. */
		smp_rmb();
		DEBUG_CHECK(smp_processor_id() == cpu);
		st->result = cpuhp_invoke_callback(cpu, st->req_state, st->req_bringup);
		WRITE_ONCE(st->should_run, false);
		complete(&st->done);
	}
	return 0;
}

/*
 * Injected bug (shared/seeds 004): cpuhp.bug_deferred_active=1 hands the last
 * step up, sched:active, to a work item and reports success at once — as the
 * kernel in the seed's thread deferred cpuset updates to a workqueue. cpu_up()
 * then returns before the CPU is active, and binding a thread to it right
 * away fails. ktest hotplug.bind (scenario hotplug-bug-deferred) catches it.
 */
static bool bug_deferred_active;
param_bool("cpuhp.bug_deferred_active", bug_deferred_active,
	   "INJECTED BUG: finish sched:active in a work item after cpu_up() returned (seed 004)");

struct deferred_step {
	struct work_struct work;
	unsigned int cpu;
};
static struct deferred_step deferred_steps[NR_CPUS];

static int cpuhp_invoke_ap(unsigned int cpu, enum cpuhp_state state, bool bringup);
static void cpu_maps_update_begin(void);
static void cpu_maps_update_done(void);

static void deferred_active_fn(struct work_struct *w)
{
	struct deferred_step *d = container_of(w, struct deferred_step, work);

	msleep(20);
	/* Late, but serialized like any step, so the only damage is the one
	 * the bug is about: cpu_up() returned before the CPU was active. */
	cpu_maps_update_begin();
	if (per_cpu(cpuhp_state, d->cpu).state >= CPUHP_AP_ACTIVE)
		cpuhp_invoke_ap(d->cpu, CPUHP_AP_ACTIVE, true);
	cpu_maps_update_done();
}

/* Run one ONLINE-section step on the AP's hotplug thread and wait for it. */
static int cpuhp_invoke_ap(unsigned int cpu, enum cpuhp_state state, bool bringup)
{
	struct cpuhp_cpu_state *st = per_cpu_ptr(&cpuhp_state, cpu);

	reinit_completion(&st->done);
	st->req_state = state;
	st->req_bringup = bringup;
	/* Pairs with smp_rmb() in cpuhp_thread_fun(). */
	smp_wmb();
	WRITE_ONCE(st->should_run, true);
	wake_up(&st->wq);
	wait_for_completion(&st->done);
	return st->result;
}

/* ---- BRINGUP_CPU and TEARDOWN_CPU -------------------------------------- */

static int bringup_cpu(unsigned int cpu)
{
	struct cpuhp_cpu_state *st = per_cpu_ptr(&cpuhp_state, cpu);
	int ret;

	reinit_completion(&st->alive);
	ret = arch_cpu_up(cpu);
	if (ret)
		return ret;
	/* The AP runs STARTING, comes online and reports from its idle loop. */
	wait_for_completion(&st->alive);
	if (st->state != CPUHP_AP_ONLINE_IDLE) {
		printk("cpuhp: CPU %u came up at %s, not ap:online-idle\n", cpu,
		       cpuhp_state_name(st->state));
		return -EIO;
	}
	return 0;
}

/* On the dying CPU, inside stop_machine: every other CPU spins irqs-off. */
static int take_cpu_down(void *arg)
{
	unsigned int cpu = smp_processor_id();
	struct cpuhp_cpu_state *st = this_cpu_ptr(&cpuhp_state);

	(void)arg;
	if (st->fail == CPUHP_TEARDOWN_CPU && !st->rollback) {
		st->fail = CPUHP_INVALID;
		printk("cpuhp: injected failure: CPU %u teardown at cpu:teardown\n", cpu);
		return -EBUSY;
	}
	cpumask_clear_cpu(cpu, &cpu_online_mask);
	arch_cpu_disable();
	/* The DYING callbacks: the STARTING section in reverse. */
	for (int s = CPUHP_AP_ONLINE; s > CPUHP_AP_OFFLINE; s--) {
		st->state = (enum cpuhp_state)s;
		cpuhp_invoke_callback(cpu, (enum cpuhp_state)s, false);
	}
	st->state = CPUHP_AP_OFFLINE;
	return 0;
}

static int takedown_cpu(unsigned int cpu)
{
	struct cpuhp_cpu_state *st = per_cpu_ptr(&cpuhp_state, cpu);
	int ret;

	reinit_completion(&st->dead);
	ret = stop_machine_cpuslocked(take_cpu_down, NULL, cpumask_of(cpu));
	if (ret)
		return ret;
	if (cpuhp_trace)
		printk("cpuhp: CPU %u: take_cpu_down done under stop_machine\n", cpu);
	/* The dying CPU's idle loop reports, then plays dead. */
	wait_for_completion(&st->dead);
	ret = arch_cpu_wait_dead(cpu);
	if (ret)
		printk("cpuhp: CPU %u did not reach play_dead (%d); it stays offline\n", cpu, ret);
	/* The first DEAD step: the dead CPU's RCU callbacks to this CPU, before
	 * any DEAD callback may wait for a grace period or rcu_barrier(). */
	rcutree_migrate_callbacks(cpu);
	return 0;
}

/* ---- called on the AP -------------------------------------------------- */

void notify_cpu_starting(unsigned int cpu)
{
	struct cpuhp_cpu_state *st = per_cpu_ptr(&cpuhp_state, cpu);

	DEBUG_CHECK(irqs_disabled());
	for (int s = CPUHP_AP_OFFLINE + 1; s <= CPUHP_AP_ONLINE; s++) {
		st->state = (enum cpuhp_state)s;
		cpuhp_invoke_callback(cpu, (enum cpuhp_state)s, true);
	}
}

void cpuhp_online_idle(enum cpuhp_state state)
{
	struct cpuhp_cpu_state *st = this_cpu_ptr(&cpuhp_state);

	if (state != CPUHP_AP_ONLINE_IDLE)
		return;
	/* Passing TEARDOWN_CPU needs no action going up. */
	st->state = CPUHP_AP_ONLINE_IDLE;
	if (!st->thread_started) {
		st->thread_started = true;
		wake_up_process(st->thread);
	}
	complete(&st->alive);
}

void cpuhp_report_idle_dead(void)
{
	struct cpuhp_cpu_state *st = this_cpu_ptr(&cpuhp_state);

	complete(&st->dead);
}

/* ---- the walk ---------------------------------------------------------- */

/*
 * One step from st->state toward `target`: up enters the next state and runs
 * its startup; down runs the teardown of the current state and leaves it.
 * BRINGUP_CPU (up) carries the CPU across STARTING to AP_ONLINE_IDLE;
 * TEARDOWN_CPU (down) carries it back across DYING to BRINGUP_CPU.
 */
static int cpuhp_step(unsigned int cpu, bool bringup)
{
	struct cpuhp_cpu_state *st = per_cpu_ptr(&cpuhp_state, cpu);
	enum cpuhp_state s = bringup ? st->state + 1 : st->state;
	int ret;

	switch (section_of(s)) {
	case SEC_PREPARE:
		ret = cpuhp_invoke_callback(cpu, s, bringup);
		break;
	case SEC_BRINGUP:
		if (bringup) {
			ret = cpuhp_invoke_callback(cpu, s, true);
			if (!ret)
				ret = bringup_cpu(cpu); /* st->state is now AP_ONLINE_IDLE */
			return ret;
		}
		ret = cpuhp_invoke_callback(cpu, s, false); /* CPU is dead: cleanup */
		break;
	case SEC_TEARDOWN:
		/* Reached only going down from AP_ONLINE_IDLE. */
		ret = takedown_cpu(cpu);
		if (!ret)
			st->state = CPUHP_BRINGUP_CPU;
		return ret;
	case SEC_STARTING:
		/* Never stepped through here: BRINGUP/TEARDOWN carry the CPU. */
		BUG_ON(1);
		return -EINVAL;
	case SEC_ONLINE:
	default:
		if (s == CPUHP_AP_ONLINE_IDLE && !bringup) {
			/* Leaving AP_ONLINE_IDLE downward means entering TEARDOWN_CPU. */
			st->state = CPUHP_TEARDOWN_CPU;
			return 0;
		}
		/* Nothing to run there (no callback, no failure armed): no need
		 * to wake the AP's thread just to pass the state. */
		if (!(bringup ? cpuhp_steps[s].startup : cpuhp_steps[s].teardown) && st->fail != s) {
			ret = 0;
		} else if (bug_deferred_active && bringup && s == CPUHP_AP_ACTIVE && !st->rollback) {
			deferred_steps[cpu].cpu = cpu;
			INIT_WORK(&deferred_steps[cpu].work, deferred_active_fn);
			queue_work(system_unbound_wq, &deferred_steps[cpu].work);
			ret = 0;
		} else
			ret = cpuhp_invoke_ap(cpu, s, bringup);
		break;
	}
	if (!ret)
		st->state = bringup ? s : s - 1;
	return ret;
}

static int cpuhp_walk(unsigned int cpu, enum cpuhp_state target)
{
	struct cpuhp_cpu_state *st = per_cpu_ptr(&cpuhp_state, cpu);

	while (st->state != target) {
		bool up = st->state < target;

		if (cpuhp_trace)
			printk("cpuhp: CPU %u %s %s%s\n", cpu, up ? "up from" : "down from",
			       cpuhp_state_name(st->state), st->rollback ? " (rollback)" : "");
		int ret = cpuhp_step(cpu, up);

		if (ret)
			return ret;
	}
	return 0;
}

/* Walk to `target`; on failure walk back to where we started. */
static int cpuhp_run(unsigned int cpu, enum cpuhp_state target)
{
	struct cpuhp_cpu_state *st = per_cpu_ptr(&cpuhp_state, cpu);
	enum cpuhp_state start = st->state;
	u64 t0 = ktime_get_ns();
	int ret;

	st->target = target;
	ret = cpuhp_walk(cpu, target);
	if (ret) {
		enum cpuhp_state failed_at = st->state;

		printk("cpuhp: CPU %u: %s toward %s failed at %s (%d); rolling back to %s\n",
		       cpu, target > start ? "up" : "down", cpuhp_state_name(target),
		       cpuhp_state_name(target > start ? failed_at + 1 : failed_at), ret,
		       cpuhp_state_name(start));
		st->rollback = true;
		st->target = start;
		int rb = cpuhp_walk(cpu, start);

		st->rollback = false;
		if (rb)
			panic("cpuhp: CPU %u: rollback to %s failed at %s (%d)", cpu,
			      cpuhp_state_name(start), cpuhp_state_name(st->state), rb);
	}
	st->target = st->state;
	DEBUG_CHECK(cpuhp_state_is_target(st->state));
	DEBUG_CHECK((st->state >= CPUHP_AP_ACTIVE) == cpumask_test_cpu(cpu, &cpu_active_mask));
	DEBUG_CHECK(st->state < CPUHP_AP_ONLINE || cpumask_test_cpu(cpu, &cpu_online_mask));
	per_cpu(cpuhp_last_ns, cpu) = ktime_get_ns() - t0;
	return ret;
}

/* ---- public operations ------------------------------------------------- */

static int cpuhp_check(unsigned int cpu, enum cpuhp_state target, bool up)
{
	if (!cpuhp_ready) {
		printk("cpuhp: hotplug is not ready yet\n");
		return -EBUSY;
	}
	if (cpu >= NR_CPUS || !cpu_possible(cpu)) {
		printk("cpuhp: CPU %u is not a possible CPU\n", cpu);
		return -EINVAL;
	}
	if (!cpumask_test_cpu(cpu, &cpu_present_mask) && up && target > CPUHP_BRINGUP_CPU) {
		printk("cpuhp: CPU %u is not present\n", cpu);
		return -EINVAL;
	}
	if (!cpuhp_state_is_target(target)) {
		printk("cpuhp: %s (%d) is not a state a CPU can rest at\n",
		       cpuhp_state_name(target), target);
		return -EINVAL;
	}
	if (!up && cpu == 0) {
		printk("cpuhp: CPU 0 (the boot CPU) cannot go offline\n");
		return -EBUSY;
	}
	if (!up && target < CPUHP_AP_ONLINE_IDLE && cpu_online(cpu) && num_online_cpus() <= 1) {
		printk("cpuhp: CPU %u is the last online CPU\n", cpu);
		return -EBUSY;
	}
	return 0;
}

int cpu_up(unsigned int cpu, enum cpuhp_state target)
{
	int ret = cpuhp_check(cpu, target, true);

	if (ret)
		return ret;
	cpu_maps_update_begin();
	if (per_cpu(cpuhp_state, cpu).state > target) {
		printk("cpuhp: CPU %u is already past %s; use cpu_down\n", cpu, cpuhp_state_name(target));
		ret = -EINVAL;
	} else {
		ret = cpuhp_run(cpu, target);
	}
	cpu_maps_update_done();
	return ret;
}

int cpu_down(unsigned int cpu, enum cpuhp_state target)
{
	int ret = cpuhp_check(cpu, target, false);

	if (ret)
		return ret;
	cpu_maps_update_begin();
	if (per_cpu(cpuhp_state, cpu).state < target) {
		printk("cpuhp: CPU %u is below %s already; use cpu_up\n", cpu, cpuhp_state_name(target));
		ret = -EINVAL;
	} else if (target < CPUHP_AP_ONLINE_IDLE && cpu_online(cpu) && num_online_cpus() <= 1) {
		printk("cpuhp: CPU %u is the last online CPU\n", cpu);
		ret = -EBUSY;
	} else {
		ret = cpuhp_run(cpu, target);
	}
	cpu_maps_update_done();
	return ret;
}

int add_cpu(unsigned int cpu)
{
	return cpu_up(cpu, CPUHP_ONLINE);
}

int remove_cpu(unsigned int cpu)
{
	return cpu_down(cpu, CPUHP_OFFLINE);
}

/* ---- installing states ------------------------------------------------- */

static bool cpuhp_is_dyn(int s)
{
	return (s >= CPUHP_BP_PREPARE_DYN && s <= CPUHP_BP_PREPARE_DYN_END) ||
	       (s >= CPUHP_AP_STARTING_DYN && s <= CPUHP_AP_STARTING_DYN_END) ||
	       (s >= CPUHP_AP_ONLINE_DYN && s <= CPUHP_AP_ONLINE_DYN_END);
}

/* Forget a state's callbacks; a dynamic slot also loses its name (is free). */
static void cpuhp_release(int s)
{
	cpuhp_steps[s].startup = NULL;
	cpuhp_steps[s].teardown = NULL;
	if (cpuhp_is_dyn(s))
		cpuhp_steps[s].name = NULL;
}

static int cpuhp_find_dyn(enum cpuhp_state first, enum cpuhp_state last)
{
	for (int s = first; s <= last; s++)
		if (!cpuhp_steps[s].name)
			return s;
	return -1;
}

static int cpuhp_reserve(enum cpuhp_state state, const char *name,
			 int (*startup)(unsigned int), int (*teardown)(unsigned int))
{
	int s = state;

	if (state == CPUHP_BP_PREPARE_DYN)
		s = cpuhp_find_dyn(CPUHP_BP_PREPARE_DYN, CPUHP_BP_PREPARE_DYN_END);
	else if (state == CPUHP_AP_STARTING_DYN)
		s = cpuhp_find_dyn(CPUHP_AP_STARTING_DYN, CPUHP_AP_STARTING_DYN_END);
	else if (state == CPUHP_AP_ONLINE_DYN)
		s = cpuhp_find_dyn(CPUHP_AP_ONLINE_DYN, CPUHP_AP_ONLINE_DYN_END);
	if (s < 0) {
		printk("cpuhp: no free dynamic state for %s\n", name);
		return -EBUSY;
	}
	if (s <= CPUHP_OFFLINE || s >= CPUHP_ONLINE || s == CPUHP_BRINGUP_CPU ||
	    s == CPUHP_TEARDOWN_CPU || s == CPUHP_AP_ONLINE_IDLE || s == CPUHP_AP_OFFLINE ||
	    s == CPUHP_AP_ONLINE) {
		printk("cpuhp: state %d is reserved for the core\n", s);
		return -EINVAL;
	}
	if (cpuhp_steps[s].startup || cpuhp_steps[s].teardown) {
		printk("cpuhp: state %s already has callbacks\n", cpuhp_state_name((enum cpuhp_state)s));
		return -EBUSY;
	}
	cpuhp_steps[s].name = name;
	cpuhp_steps[s].startup = startup;
	cpuhp_steps[s].teardown = teardown;
	return s;
}

int cpuhp_setup_state_nocalls(enum cpuhp_state state, const char *name,
			      int (*startup)(unsigned int), int (*teardown)(unsigned int))
{
	bool locked = cpuhp_ready && hotplug_owner != current;
	int s;

	if (locked)
		cpu_maps_update_begin();
	s = cpuhp_reserve(state, name, startup, teardown);
	if (locked)
		cpu_maps_update_done();
	return s;
}

struct starting_call {
	enum cpuhp_state state;
	bool bringup;
	int ret;
};

static void cpuhp_starting_call(void *arg)
{
	struct starting_call *c = arg;

	c->ret = cpuhp_invoke_callback(smp_processor_id(), c->state, c->bringup);
}

/* Run one state's callback on `cpu` from outside a walk (setup/remove). */
static int cpuhp_issue_call(unsigned int cpu, enum cpuhp_state s, bool bringup)
{
	switch (section_of(s)) {
	case SEC_PREPARE:
		return cpuhp_invoke_callback(cpu, s, bringup);
	case SEC_STARTING: {
		/* On the CPU itself with interrupts off (an IPI), like the real thing. */
		struct starting_call c = { s, bringup, 0 };

		if (cpu == smp_processor_id()) {
			unsigned long flags = local_irq_save();

			cpuhp_starting_call(&c);
			local_irq_restore(flags);
		} else {
			smp_call_function_single(cpu, cpuhp_starting_call, &c, 1);
		}
		return c.ret;
	}
	default:
		return cpuhp_invoke_ap(cpu, s, bringup);
	}
}

int cpuhp_setup_state(enum cpuhp_state state, const char *name,
		      int (*startup)(unsigned int), int (*teardown)(unsigned int))
{
	unsigned int cpu;
	int s, ret = 0;

	cpu_maps_update_begin();
	s = cpuhp_reserve(state, name, startup, teardown);
	if (s < 0 || !startup)
		goto out;
	for_each_possible_cpu(cpu) {
		if (per_cpu(cpuhp_state, cpu).state < s)
			continue;
		ret = cpuhp_issue_call(cpu, (enum cpuhp_state)s, true);
		if (ret) {
			/* Undo on the CPUs done so far, then forget the state. */
			unsigned int c;

			printk("cpuhp: %s startup failed on CPU %u (%d); undoing\n", name, cpu, ret);
			for_each_possible_cpu(c) {
				if (c == cpu)
					break;
				if (per_cpu(cpuhp_state, c).state >= s && teardown)
					cpuhp_issue_call(c, (enum cpuhp_state)s, false);
			}
			cpuhp_release(s);
			s = ret;
			break;
		}
	}
out:
	cpu_maps_update_done();
	return s;
}

void cpuhp_remove_state(enum cpuhp_state state)
{
	unsigned int cpu;

	cpu_maps_update_begin();
	if (cpuhp_steps[state].teardown) {
		for_each_possible_cpu(cpu)
			if (per_cpu(cpuhp_state, cpu).state >= state)
				cpuhp_issue_call(cpu, state, false);
	}
	cpuhp_release(state);
	cpu_maps_update_done();
}

/* ---- failure injection -------------------------------------------------- */

/*
 * Arm a one-shot failure of `state` for `cpu`. Refused, with the reason, for
 * states whose callbacks can never fail (the STARTING section runs with
 * interrupts off on a half-up CPU: there is no way back from there) and for
 * states that have nothing to fail.
 */
int cpuhp_inject_fail(unsigned int cpu, enum cpuhp_state state, const char **why)
{
	*why = NULL;
	if (cpu >= NR_CPUS || !cpu_possible(cpu)) {
		*why = "not a possible CPU";
		return -EINVAL;
	}
	if (state <= CPUHP_OFFLINE || state >= CPUHP_ONLINE) {
		*why = "offline/online are the ends of the table, not steps";
		return -EINVAL;
	}
	if (!cpuhp_step_may_fail(state, true) && !cpuhp_step_may_fail(state, false)) {
		*why = section_of(state) == SEC_STARTING ?
		       "STARTING/DYING callbacks run on the CPU with interrupts off and cannot fail" :
		       "this state's callbacks cannot fail";
		return -EINVAL;
	}
	if (state != CPUHP_BRINGUP_CPU && state != CPUHP_TEARDOWN_CPU &&
	    !cpuhp_steps[state].startup && !cpuhp_steps[state].teardown) {
		*why = "no callbacks are installed at this state";
		return -EINVAL;
	}
	per_cpu(cpuhp_state, cpu).fail = state;
	return 0;
}

/* Disarm a failure that nothing has consumed yet. */
void cpuhp_clear_fail(unsigned int cpu)
{
	if (cpu < NR_CPUS && cpu_possible(cpu))
		per_cpu(cpuhp_state, cpu).fail = CPUHP_INVALID;
}

enum cpuhp_state cpuhp_state_parse(const char *s)
{
	return cpuhp_state_from_string(s);
}

void cpuhp_describe(enum cpuhp_state s, struct cpuhp_state_info *info)
{
	static const char *const sec[] = { "prepare", "bringup", "starting", "teardown", "online" };

	info->name = cpuhp_state_name(s);
	info->section = sec[section_of(s)];
	info->has_startup = cpuhp_steps[s].startup != NULL;
	info->has_teardown = cpuhp_steps[s].teardown != NULL;
	info->may_fail_up = cpuhp_step_may_fail(s, true);
	info->may_fail_down = cpuhp_step_may_fail(s, false);
	info->can_rest = cpuhp_state_is_target(s);
	info->used = cpuhp_steps[s].name != NULL;
}

void cpuhp_cpu_info(unsigned int cpu, enum cpuhp_state *state, enum cpuhp_state *target,
		    enum cpuhp_state *fail, u64 *last_ns)
{
	struct cpuhp_cpu_state *st = per_cpu_ptr(&cpuhp_state, cpu);

	*state = READ_ONCE(st->state);
	*target = READ_ONCE(st->target);
	*fail = READ_ONCE(st->fail);
	*last_ns = per_cpu(cpuhp_last_ns, cpu);
}

/* ---- boot ---------------------------------------------------------------- */

static char cpuhp_fail_param[32];
param_string("cpuhp.fail", cpuhp_fail_param,
	     "inject one failure at boot: CPU:STATE (state by name or number)");

static void cpuhp_apply_fail_param(void)
{
	char buf[sizeof(cpuhp_fail_param)];
	char *colon;
	unsigned long long cpu;
	const char *why;

	if (!cpuhp_fail_param[0])
		return;
	strlcpy(buf, cpuhp_fail_param, sizeof(buf));
	colon = strchr(buf, ':');
	if (!colon) {
		printk("cpuhp: cpuhp.fail=%s: expected CPU:STATE\n", cpuhp_fail_param);
		return;
	}
	*colon = '\0';
	enum cpuhp_state s = cpuhp_state_from_string(colon + 1);

	if (kstrtoull(buf, 0, &cpu) || s == CPUHP_INVALID) {
		printk("cpuhp: cpuhp.fail=%s: unknown CPU or state\n", cpuhp_fail_param);
		return;
	}
	if (cpuhp_inject_fail((unsigned int)cpu, s, &why))
		printk("cpuhp: cpuhp.fail=%s refused: %s\n", cpuhp_fail_param, why);
	else
		printk("cpuhp: will fail CPU %llu at %s once\n", cpu, cpuhp_state_name(s));
}

/*
 * Before any AP starts: every possible CPU gets its bookkeeping and its
 * cpuhp/N thread (started the first time the CPU reaches AP_ONLINE_IDLE).
 * The boot CPU is ONLINE by definition.
 */
void cpuhp_init(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		struct cpuhp_cpu_state *st = per_cpu_ptr(&cpuhp_state, cpu);

		st->state = st->target = cpu == 0 ? CPUHP_ONLINE : CPUHP_OFFLINE;
		st->fail = CPUHP_INVALID;
		init_waitqueue_head(&st->wq);
		init_completion(&st->done);
		init_completion(&st->alive);
		init_completion(&st->dead);
		st->thread = kthread_create_on_cpu(cpuhp_thread_fn, (void *)(unsigned long)cpu,
						   cpu, "cpuhp/%u");
		if (!st->thread)
			panic("cpuhp: cannot create the hotplug thread of CPU %u", cpu);
		if (cpu == 0)
			wake_up_process(st->thread);
	}
	cpuhp_ready = true;
}

/* Bring the present CPUs online at boot, at most `max` CPUs in all. */
void bringup_nonboot_cpus(unsigned int max)
{
	unsigned int cpu, n = 1;

	/* Now every subsystem has installed its states: a boot-time injected
	 * failure can be checked against them. */
	cpuhp_apply_fail_param();
	for_each_cpu(cpu, &cpu_present_mask) {
		if (cpu == 0)
			continue;
		if (n >= max)
			break;
		if (!add_cpu(cpu))
			n++;
	}
}
