/*
 * cpu.c — the CPU hotplug state machine.
 *
 * Every CPU has a current `state` and, while an operation runs, a `target`
 * in the ordered table cpuhp_hp_states[] below (the states themselves are
 * enum cpuhp_state in include/grace/cpuhotplug.h). cpu_up() and cpu_down()
 * move a CPU one state at a time; each step calls the startup (going up) or
 * teardown (going down) callback of the state being entered or left, in the
 * context that state's section demands:
 *
 *   section      states                          runs on            may fail
 *   PREPARE      CREATE_THREADS..TIMERS_PREPARE  control CPU        yes (startup)
 *   BRINGUP      BRINGUP_CPU                     control CPU + AP   yes (AP silent)
 *   STARTING     AP_OFFLINE+1..AP_ONLINE         the AP, irqs off   never
 *   TEARDOWN     TEARDOWN_CPU (teardown only)    stop_machine       yes (refused)
 *   ONLINE       AP_ONLINE_IDLE+1..ONLINE        AP hotplug thread  yes (both ways)
 *
 * Going up from OFFLINE: PREPARE startups on this CPU; BRINGUP_CPU's startup
 * (bringup_cpu) kicks the AP, which runs the STARTING startups itself with
 * interrupts off, marks itself online, enters its idle loop and reports
 * AP_ONLINE_IDLE (cpuhp_online_idle); then each ONLINE startup is handed to
 * the AP's hotplug thread ("cpuhp/N") and waited for.
 *
 * Going down is the mirror: ONLINE teardowns on the AP's thread; then
 * TEARDOWN_CPU's teardown (takedown_cpu) runs take_cpu_down() on the dying
 * CPU under stop_machine (every other CPU spinning with interrupts off): the
 * CPU leaves the online mask and runs the DYING (STARTING-section)
 * teardowns. Its idle loop then reports dead and parks in arch_play_dead();
 * the control CPU waits for that and runs the DEAD (PREPARE-section)
 * teardowns.
 *
 * Rollback: when a step fails, the CPU is walked back, in reverse, to the
 * state the operation started from (a failed startup → teardowns; a failed
 * teardown → startups). The walk back itself must not fail; if a callback
 * fails during rollback, that is reported loudly and the walk goes on.
 *
 * Consistency on return: cpu_up()/cpu_down() return only after every step
 * has completed on its CPU — there is no deferred work left behind (Gleixner,
 * "cpu/hotplug: Cure the cpusets trainwreck", LKML 2021, is the story of a
 * kernel that deferred a step). In particular after cpu_up(n) returns, n is
 * active and a thread can be bound to it.
 *
 * Invariants (checked):
 *  - operations are serialized by cpu_add_remove_lock;
 *  - a CPU at rest is only ever at a state where it can stop
 *    (cpuhp_state_is_target): never inside STARTING, BRINGUP or TEARDOWN;
 *  - st->state >= CPUHP_AP_ACTIVE ⇔ the CPU is active;
 *    st->state >= CPUHP_AP_ONLINE ⇒ the CPU is in cpu_online_mask.
 *
 * Reading order: the table; the entry points (bringup_nonboot_cpus,
 * cpu_up, cpu_down); the walk with its rollback; one step; the two
 * callbacks that start and stop the CPU itself; what the AP calls; then
 * the dynamic states. Failure injection lives in cpuhp_inject.c and the
 * shell's window in cpuhp_cmd.c, each entered from here by one test.
 * Tests: ktests "hotplug.*" (kernel/cpuhp_test.c: rollback at every state
 * that may fail, dynamic states, bind-after-up), the hotplug torture
 * (kernel/torture/hotplug_torture.c).
 */
#include <asm/cpu.h>
#include <grace/cpumask.h>
#include <grace/errno.h>
#include <grace/kthread.h>
#include <grace/mutex.h>
#include <grace/panic.h>
#include <grace/param.h>
#include <grace/printk.h>
#include <grace/rcupdate.h>
#include <grace/sched.h>
#include <grace/smp.h>
#include <grace/stop_machine.h>
#include <grace/time.h>
#include <grace/trace.h>

#include "cpuhp.h"

static int bringup_cpu(unsigned int cpu);
static int takedown_cpu(unsigned int cpu);

/*
 * The table: every state in order, with its startup and teardown. A PREPARE
 * teardown is a DEAD callback and a STARTING teardown a DYING one; both run
 * in reverse order going down, the highest state first. Dynamic slots (the
 * *_DYN ranges) are filled at run time by cpuhp_setup_state().
 */
struct cpuhp_step cpuhp_hp_states[CPUHP_NR_STATES] = {
	[CPUHP_OFFLINE]             = { "offline",           NULL, NULL },
	/* PREPARE — on the control CPU, before the AP runs / after it died. */
	/* The AP's idle task and its per-CPU kthreads must exist before it
	 * can run; DEAD: they are last to go, so that every other DEAD
	 * callback may still wait for them. */
	[CPUHP_CREATE_THREADS]      = { "threads:prepare",   sched_create_threads, sched_dead_cpu },
	/* The per-CPU worker pool exists before anything can queue work there. */
	[CPUHP_WORKQUEUE_PREP]      = { "workqueue:prepare", workqueue_prepare_cpu, NULL },
	/* CPUHP_BP_PREPARE_DYN..END: dynamic. */
	/* The call-function queue exists before any CPU may IPI the AP;
	 * DEAD: it must have drained (the DYING step below ran it). */
	[CPUHP_SMPCFD_PREPARE]      = { "smpcfd:prepare",    smpcfd_prepare_cpu, smpcfd_dead_cpu },
	/* RCU's per-CPU data before the AP can read; DEAD: a check that the
	 * books let the CPU go (its callbacks moved in takedown_cpu, first). */
	[CPUHP_RCUTREE_PREP]        = { "rcu:prepare",       rcutree_prepare_cpu, rcutree_dead_cpu },
	/* Highest PREPARE state, so its DEAD teardown runs first: the dead
	 * CPU's timers move before any DEAD callback that may wait on one. */
	[CPUHP_TIMERS_PREPARE]      = { "timers:prepare",    timers_prepare_cpu, timers_dead_cpu },
	/* BRINGUP — kick the AP; it walks STARTING itself and returns at
	 * AP_ONLINE_IDLE. Going down the CPU is dead already: nothing to do. */
	[CPUHP_BRINGUP_CPU]         = { "cpu:bringup",       bringup_cpu, NULL },
	/* STARTING — on the AP, interrupts off, cannot fail; teardown = DYING,
	 * on the dying CPU inside stop_machine. */
	[CPUHP_AP_OFFLINE]          = { "ap:offline",        NULL, NULL },
	/* The runqueue takes tasks first; DYING: it is emptied last. */
	[CPUHP_AP_SCHED_STARTING]   = { "sched:starting",    sched_cpu_starting, sched_cpu_dying },
	/* DYING: run what other CPUs queued for this one before it left. */
	[CPUHP_AP_SMPCFD_DYING]     = { "smpcfd:dying",      NULL, smpcfd_dying_cpu },
	/* DYING: push pending timers away right after the tick stopped
	 * (before every DEAD callback; kernel/timer.c explains why). */
	[CPUHP_AP_TIMERS_DYING]     = { "timers:dying",      NULL, timers_dying_cpu },
	/* STARTING: the incoming CPU enters RCU's books (qsmaskinitnext) before
	 * it can run a reader, interrupts off. DYING: "this CPU is leaving";
	 * its last report comes later, from the idle loop before play_dead. */
	[CPUHP_AP_RCUTREE_DYING]    = { "rcu:dying",         rcutree_report_cpu_starting, rcutree_dying_cpu },
	/* CPUHP_AP_STARTING_DYN..END: dynamic. */
	[CPUHP_AP_ONLINE]           = { "ap:online",         NULL, NULL },
	/* TEARDOWN — stop_machine(take_cpu_down); the way up never passes here. */
	[CPUHP_TEARDOWN_CPU]        = { "cpu:teardown",      NULL, takedown_cpu },
	/* ONLINE — on the AP's hotplug thread; may sleep, may fail. */
	[CPUHP_AP_ONLINE_IDLE]      = { "ap:online-idle",    NULL, NULL },
	/* Per-CPU kthreads run before the services that use them. */
	[CPUHP_AP_SMPBOOT_THREADS]  = { "smpboot:threads",   smpboot_unpark_threads, smpboot_park_threads },
	[CPUHP_AP_WORKQUEUE_ONLINE] = { "workqueue:online",  workqueue_online_cpu, workqueue_offline_cpu },
	/* RCU: checks that the books already say online (the STARTING report
	 * did it); going down nothing yet: the CPU leaves the books last. */
	[CPUHP_AP_RCUTREE_ONLINE]   = { "rcu:online",        rcutree_online_cpu, rcutree_offline_cpu },
	[CPUHP_AP_WATCHDOG_ONLINE]  = { "watchdog:online",   watchdog_enable, watchdog_disable },
	/* CPUHP_AP_ONLINE_DYN..END: dynamic. */
	/* Last up, first down: the CPU takes ordinary tasks only when every
	 * service is there, and gives them away before any service stops. */
	[CPUHP_AP_ACTIVE]           = { "sched:active",      sched_cpu_activate, sched_cpu_deactivate },
	[CPUHP_ONLINE]              = { "online",            NULL, NULL },
};

DEFINE_PER_CPU(struct cpuhp_cpu_state, cpuhp_state);

static bool cpuhp_trace;
param_bool("cpuhp.trace", cpuhp_trace, "print every hotplug step as it happens");
/* Debug: the dead CPU's RCU callbacks stay on its list this long before they
 * migrate (its RCU report is done; an rcu_barrier() meanwhile must entrain
 * there itself). ktest rcu_windows.barrier_dead sets it. */
int cpuhp_migrate_delay_ms;
param_int("cpuhp.migrate_delay_ms", cpuhp_migrate_delay_ms, 0, 10000,
	  "debug: pause N ms between a CPU's death and the migration of its RCU callbacks");

static DEFINE_MUTEX(cpu_add_remove_lock);
static struct task_struct *hotplug_owner;
static bool cpuhp_ready;              /* threads exist: hotplug may run */

/* Where a CPU may be left at rest: the PREPARE section, AP_ONLINE_IDLE and
 * the ONLINE section. Inside BRINGUP/STARTING/TEARDOWN the CPU is half there. */
bool cpuhp_state_is_target(enum cpuhp_state s)
{
	return s == CPUHP_OFFLINE || cpuhp_section_of(s) == SEC_PREPARE ||
	       s == CPUHP_AP_ONLINE_IDLE || (cpuhp_section_of(s) == SEC_ONLINE && s <= CPUHP_ONLINE);
}

/* May the callback of `s` in this direction fail (and so be failure-injected)? */
bool cpuhp_step_may_fail(enum cpuhp_state s, bool bringup)
{
	switch (cpuhp_section_of(s)) {
	case SEC_PREPARE:  return bringup && s != CPUHP_OFFLINE; /* DEAD teardowns: CPU already gone */
	case SEC_BRINGUP:  return bringup;      /* the AP may not answer */
	case SEC_STARTING: return false;        /* interrupts off, CPU half up */
	case SEC_TEARDOWN: return !bringup;     /* the CPU may refuse to go */
	case SEC_ONLINE:   return s != CPUHP_AP_ONLINE_IDLE && s != CPUHP_ONLINE &&
				  (cpuhp_hp_states[s].startup || cpuhp_hp_states[s].teardown);
	}
	return false;
}

/* ---- entry points --------------------------------------------------------- */

static int cpuhp_run(unsigned int cpu, enum cpuhp_state target);
static int cpuhp_thread_fn(void *arg);

/* Bring the present CPUs online at boot, at most `max` CPUs in all. */
void bringup_nonboot_cpus(unsigned int max)
{
	unsigned int cpu, n = 1;

	/* Now every subsystem is initialized and the dynamic states exist: a
	 * boot-time injected failure can be checked against them. */
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

int add_cpu(unsigned int cpu)
{
	return cpu_up(cpu, CPUHP_ONLINE);
}

int remove_cpu(unsigned int cpu)
{
	return cpu_down(cpu, CPUHP_OFFLINE);
}

static int cpuhp_check(unsigned int cpu, enum cpuhp_state target, bool up);

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
		/* Under the lock: no other operation changes the count meanwhile. */
		printk("cpuhp: CPU %u is the last online CPU\n", cpu);
		ret = -EBUSY;
	} else {
		ret = cpuhp_run(cpu, target);
	}
	cpu_maps_update_done();
	return ret;
}

/* The requests that can be refused without looking at the CPU's state. */
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
	return 0;
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

/* ---- the walk ------------------------------------------------------------- */

static int cpuhp_walk(unsigned int cpu, enum cpuhp_state target);

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
		/* >>> LAB hotplug-rollback (docs/labs/hotplug-rollback/README.md) */
		st->rollback = true;
		st->target = start;
		int rb = cpuhp_walk(cpu, start);

		st->rollback = false;
		if (rb)
			panic("cpuhp: CPU %u: rollback to %s failed at %s (%d)", cpu,
			      cpuhp_state_name(start), cpuhp_state_name(st->state), rb);
		/* <<< LAB hotplug-rollback */
	}
	st->target = st->state;
	DEBUG_CHECK(cpuhp_state_is_target(st->state));
	DEBUG_CHECK((st->state >= CPUHP_AP_ACTIVE) == cpumask_test_cpu(cpu, &cpu_active_mask));
	DEBUG_CHECK(st->state < CPUHP_AP_ONLINE || cpumask_test_cpu(cpu, &cpu_online_mask));
	st->last_ns = ktime_get_ns() - t0;
	return ret;
}

static int cpuhp_step(unsigned int cpu, bool bringup);

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

/* ---- one step ------------------------------------------------------------- */

static int cpuhp_invoke_callback(unsigned int cpu, enum cpuhp_state state, bool bringup);

/*
 * One step from st->state toward the target: up enters the next state and
 * runs its startup; down runs the teardown of the current state and leaves
 * it. Where the callback runs follows the section. Two callbacks move the
 * CPU further themselves: BRINGUP_CPU's startup carries it across STARTING
 * to AP_ONLINE_IDLE (the AP walks those states), TEARDOWN_CPU's teardown
 * carries it back across DYING to BRINGUP_CPU.
 */
static int cpuhp_step(unsigned int cpu, bool bringup)
{
	struct cpuhp_cpu_state *st = per_cpu_ptr(&cpuhp_state, cpu);
	enum cpuhp_state s = bringup ? st->state + 1 : st->state;
	enum cpuhp_state from = st->state;
	int ret;

	switch (cpuhp_section_of(s)) {
	case SEC_STARTING:
		/* Never stepped through here: BRINGUP/TEARDOWN carry the CPU. */
		BUG_ON(1);
		return -EINVAL;
	case SEC_ONLINE:
		/* Nothing to run there (no callback, no failure armed): no need
		 * to wake the AP's thread just to pass the state. */
		if (!(bringup ? cpuhp_hp_states[s].startup : cpuhp_hp_states[s].teardown) &&
		    st->fail != s) {
			trace_event(TRACE_CPUHP_STEP, cpu, s, bringup);
			ret = 0;
		}
		else if (unlikely(cpuhp_bug_deferred_active) && cpuhp_defer_step(cpu, s, bringup))
			ret = 0;
		else
			ret = cpuhp_invoke_ap(cpu, s, bringup);
		break;
	default:
		/* PREPARE, BRINGUP, TEARDOWN: on this, the control CPU. */
		ret = cpuhp_invoke_callback(cpu, s, bringup);
		break;
	}
	if (!ret && st->state == from)
		st->state = bringup ? s : s - 1;
	return ret;
}

/*
 * Call the callback of `state` for `cpu` in the current context, honouring a
 * one-shot injected failure. Returns its result.
 */
static int cpuhp_invoke_callback(unsigned int cpu, enum cpuhp_state state, bool bringup)
{
	struct cpuhp_cpu_state *st = per_cpu_ptr(&cpuhp_state, cpu);
	struct cpuhp_step *step = &cpuhp_hp_states[state];
	int (*cb)(unsigned int) = bringup ? step->startup : step->teardown;

	trace_event(TRACE_CPUHP_STEP, cpu, state, bringup);
	/* cpu:teardown takes its injected failure inside take_cpu_down(),
	 * under stop_machine, where a real refusal happens. */
	if (unlikely(st->fail == state) && state != CPUHP_TEARDOWN_CPU &&
	    cpuhp_inject_hit(cpu, state, bringup))
		return -EAGAIN;
	if (!cb)
		return 0;
	/* DEBUG: no spinlock across a step that may sleep (every section but
	 * STARTING, which runs on the AP with interrupts off), and no callback
	 * returns holding one. Release builds: spin_held_count() is 0. */
	int held = spin_held_count();

	if (held && cpuhp_section_of(state) != SEC_STARTING) {
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

/* Run one ONLINE-section step on the AP's hotplug thread and wait for it. */
int cpuhp_invoke_ap(unsigned int cpu, enum cpuhp_state state, bool bringup)
{
	struct cpuhp_cpu_state *st = per_cpu_ptr(&cpuhp_state, cpu);

	reinit_completion(&st->done);
	st->req_state = state;
	st->req_bringup = bringup;
	/* Pairs with smp_rmb() in cpuhp_thread_fn(). */
	smp_wmb();
	WRITE_ONCE(st->should_run, true);
	wake_up(&st->wq);
	wait_for_completion(&st->done);
	return st->result;
}

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

/* ---- BRINGUP_CPU and TEARDOWN_CPU: starting and stopping the CPU itself ---- */

/* BRINGUP_CPU startup: on return the AP is at AP_ONLINE_IDLE. */
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
	if (unlikely(st->fail == CPUHP_TEARDOWN_CPU) && cpuhp_inject_hit(cpu, CPUHP_TEARDOWN_CPU, false))
		return -EBUSY;
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

/* TEARDOWN_CPU teardown: on return the CPU is dead, at BRINGUP_CPU. */
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
	if (unlikely(READ_ONCE(cpuhp_migrate_delay_ms)))
		msleep((unsigned int)cpuhp_migrate_delay_ms);
	rcutree_migrate_callbacks(cpu);
	st->state = CPUHP_BRINGUP_CPU;
	return 0;
}

/* ---- called on the AP ----------------------------------------------------- */

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

/* ---- locking -------------------------------------------------------------- */

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

void cpu_maps_update_begin(void)
{
	mutex_lock(&cpu_add_remove_lock);
	hotplug_owner = current;
}

void cpu_maps_update_done(void)
{
	hotplug_owner = NULL;
	mutex_unlock(&cpu_add_remove_lock);
}

/* ---- dynamic states ------------------------------------------------------- */

static bool cpuhp_is_dyn(int s)
{
	return (s >= CPUHP_BP_PREPARE_DYN && s <= CPUHP_BP_PREPARE_DYN_END) ||
	       (s >= CPUHP_AP_STARTING_DYN && s <= CPUHP_AP_STARTING_DYN_END) ||
	       (s >= CPUHP_AP_ONLINE_DYN && s <= CPUHP_AP_ONLINE_DYN_END);
}

/* The free slot of a dynamic range, or -1. */
static int cpuhp_find_dyn(enum cpuhp_state first, enum cpuhp_state last)
{
	for (int s = first; s <= last; s++)
		if (!cpuhp_hp_states[s].name)
			return s;
	return -1;
}

static int cpuhp_reserve(enum cpuhp_state state, const char *name,
			 int (*startup)(unsigned int), int (*teardown)(unsigned int))
{
	int s;

	if (state == CPUHP_BP_PREPARE_DYN)
		s = cpuhp_find_dyn(CPUHP_BP_PREPARE_DYN, CPUHP_BP_PREPARE_DYN_END);
	else if (state == CPUHP_AP_STARTING_DYN)
		s = cpuhp_find_dyn(CPUHP_AP_STARTING_DYN, CPUHP_AP_STARTING_DYN_END);
	else if (state == CPUHP_AP_ONLINE_DYN)
		s = cpuhp_find_dyn(CPUHP_AP_ONLINE_DYN, CPUHP_AP_ONLINE_DYN_END);
	else {
		printk("cpuhp: %s: state %d is a fixed state; its callbacks are in the table in kernel/cpu.c\n",
		       name, state);
		return -EINVAL;
	}
	if (s < 0) {
		printk("cpuhp: no free dynamic state for %s\n", name);
		return -EBUSY;
	}
	cpuhp_hp_states[s].name = name;
	cpuhp_hp_states[s].startup = startup;
	cpuhp_hp_states[s].teardown = teardown;
	return s;
}

/* Forget a dynamic state: its slot is free again. */
static void cpuhp_release(int s)
{
	cpuhp_hp_states[s] = (struct cpuhp_step){ NULL, NULL, NULL };
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
	switch (cpuhp_section_of(s)) {
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

	if (!cpuhp_is_dyn(state)) {
		printk("cpuhp: state %d is not a dynamic state; it cannot be removed\n", state);
		return;
	}
	cpu_maps_update_begin();
	if (cpuhp_hp_states[state].teardown) {
		for_each_possible_cpu(cpu)
			if (per_cpu(cpuhp_state, cpu).state >= state)
				cpuhp_issue_call(cpu, state, false);
	}
	cpuhp_release(state);
	cpu_maps_update_done();
}

/* ---- names ---------------------------------------------------------------- */

const char *cpuhp_state_name(enum cpuhp_state s)
{
	if (s < 0 || s >= CPUHP_NR_STATES)
		return "?";
	if (cpuhp_hp_states[s].name)
		return cpuhp_hp_states[s].name;
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
