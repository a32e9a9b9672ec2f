/*
 * cpuhp_inject.c — failure injection into the hotplug state machine.
 *
 * A lab switch, not part of the algorithm: it makes one chosen step fail
 * once so that the rollback in kernel/cpu.c is exercised at every state
 * where a real callback could fail.
 *
 *   cpuhp_inject_fail(cpu, state)  arm a one-shot failure (shell
 *                                  `hotplug fail`, ktests, the torture)
 *   cpuhp.fail=CPU:STATE           the same at boot
 *   cpuhp.bug_deferred_active=1    INJECTED BUG: sched:active deferred
 *
 * The core walk enters here only through a test that is false when nothing
 * is armed (st->fail == state, cpuhp_bug_deferred_active), so the lab costs
 * an ordinary operation one predictable branch per step.
 *
 * Refused: states whose callbacks can never fail (the STARTING section runs
 * with interrupts off on a half-up CPU: there is no way back from there),
 * the two ends of the table, and states with no callback to fail. An armed
 * failure is not consumed during a rollback (the walk back must not fail).
 * Tests: ktest hotplug.rollback, scenario hotplug-fail-param,
 * hotplug-bug-deferred; the hotplug torture's fail_ratio.
 */
#include <grace/cpumask.h>
#include <grace/errno.h>
#include <grace/param.h>
#include <grace/printk.h>
#include <grace/string.h>
#include <grace/time.h>
#include <grace/workqueue.h>

#include "cpuhp.h"

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
		*why = cpuhp_section_of(state) == SEC_STARTING ?
		       "STARTING/DYING callbacks run on the CPU with interrupts off and cannot fail" :
		       "this state's callbacks cannot fail";
		return -EINVAL;
	}
	if (!cpuhp_hp_states[state].startup && !cpuhp_hp_states[state].teardown) {
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

bool cpuhp_inject_hit(unsigned int cpu, enum cpuhp_state state, bool bringup)
{
	struct cpuhp_cpu_state *st = per_cpu_ptr(&cpuhp_state, cpu);

	if (st->rollback || !cpuhp_step_may_fail(state, bringup))
		return false;
	st->fail = CPUHP_INVALID;
	printk("cpuhp: injected failure: CPU %u %s at %s\n", cpu,
	       bringup ? "startup" : "teardown", cpuhp_state_name(state));
	return true;
}

/* ---- at boot: cpuhp.fail=CPU:STATE -------------------------------------- */

static char cpuhp_fail_param[32];
param_string("cpuhp.fail", cpuhp_fail_param,
	     "inject one failure at boot: CPU:STATE (state by name or number)");

void cpuhp_apply_fail_param(void)
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
	enum cpuhp_state s = cpuhp_state_parse(colon + 1);

	if (kstrtoull(buf, 0, &cpu) || s == CPUHP_INVALID) {
		printk("cpuhp: cpuhp.fail=%s: unknown CPU or state\n", cpuhp_fail_param);
		return;
	}
	if (cpuhp_inject_fail((unsigned int)cpu, s, &why))
		printk("cpuhp: cpuhp.fail=%s refused: %s\n", cpuhp_fail_param, why);
	else
		printk("cpuhp: will fail CPU %llu at %s once\n", cpu, cpuhp_state_name(s));
}

/* ---- injected bug: a step finished after cpu_up() returned --------------- */

/*
 * cpuhp.bug_deferred_active=1 hands the last step up, sched:active, to a
 * work item and reports success at once — as the kernel in Gleixner's
 * "cpu/hotplug: Cure the cpusets trainwreck" (LKML 2021) deferred cpuset
 * updates to a workqueue. cpu_up() then returns before the CPU is active,
 * and binding a thread to it right away fails. ktest hotplug.bind (scenario
 * hotplug-bug-deferred) catches it.
 */
bool cpuhp_bug_deferred_active;
param_bool("cpuhp.bug_deferred_active", cpuhp_bug_deferred_active,
	   "INJECTED BUG: finish sched:active in a work item after cpu_up() returned");

struct deferred_step {
	struct work_struct work;
	unsigned int cpu;
};
static struct deferred_step deferred_steps[NR_CPUS];

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

bool cpuhp_defer_step(unsigned int cpu, enum cpuhp_state state, bool bringup)
{
	if (!bringup || state != CPUHP_AP_ACTIVE || per_cpu(cpuhp_state, cpu).rollback)
		return false;
	deferred_steps[cpu].cpu = cpu;
	INIT_WORK(&deferred_steps[cpu].work, deferred_active_fn);
	queue_work(system_unbound_wq, &deferred_steps[cpu].work);
	return true;
}
