/*
 * cpuhp.h — what the hotplug state machine (cpu.c) shares with its lab
 * files: failure injection (cpuhp_inject.c) and introspection
 * (cpuhp_cmd.c). Not for the rest of the kernel, which uses
 * <grace/cpuhotplug.h>.
 *
 * The lab hooks cost the core walk one predictable test each when off:
 * `st->fail == state` (st->fail is CPUHP_INVALID unless a failure is armed)
 * and `cpuhp_bug_deferred_active` (false unless the injected bug is on).
 */
#ifndef KERNEL_CPUHP_H
#define KERNEL_CPUHP_H

#include <grace/completion.h>
#include <grace/cpuhotplug.h>
#include <grace/percpu.h>
#include <grace/wait.h>

/* One line of the table: a state's name and its two callbacks. */
struct cpuhp_step {
	const char *name;
	int (*startup)(unsigned int cpu);
	int (*teardown)(unsigned int cpu);
};
extern struct cpuhp_step cpuhp_hp_states[CPUHP_NR_STATES];

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
	u64 last_ns;                  /* duration of the last operation */
};
DECLARE_PER_CPU(struct cpuhp_cpu_state, cpuhp_state);

/* The sections of the table (cpu.c's header comment says what each means). */
enum cpuhp_section { SEC_PREPARE, SEC_BRINGUP, SEC_STARTING, SEC_TEARDOWN, SEC_ONLINE };

static inline enum cpuhp_section cpuhp_section_of(enum cpuhp_state s)
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

bool cpuhp_state_is_target(enum cpuhp_state s);
bool cpuhp_step_may_fail(enum cpuhp_state s, bool bringup);

/* cpu.c, for the injected bug's late step. */
void cpu_maps_update_begin(void);
void cpu_maps_update_done(void);
int cpuhp_invoke_ap(unsigned int cpu, enum cpuhp_state state, bool bringup);

/* cpuhp_inject.c. Called when st->fail == state: consume the armed failure
 * if this step may fail, returning true (the step then fails). */
bool cpuhp_inject_hit(unsigned int cpu, enum cpuhp_state state, bool bringup);
/* Arm the boot-time failure of cpuhp.fail= (once the states exist). */
void cpuhp_apply_fail_param(void);
/* The injected bug cpuhp.bug_deferred_active: true when this step was
 * handed to a work item instead of being run (and so "succeeded"). */
extern bool cpuhp_bug_deferred_active;
bool cpuhp_defer_step(unsigned int cpu, enum cpuhp_state state, bool bringup);

#endif
