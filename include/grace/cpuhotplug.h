/*
 * cpuhotplug.h — the CPU hotplug state machine (kernel/cpu.c).
 *
 * A CPU is not on or off: it is at a STATE in this ordered table, and each
 * state is a service its subsystem starts when the CPU passes it going up and
 * stops when it passes it going down. cpu_up(cpu, target) walks upward one
 * state at a time, cpu_down(cpu, target) downward; boot-time bring-up and
 * run-time onlining are the same walk.
 *
 * Sections, and where their callbacks run:
 *
 *   OFFLINE
 *   PREPARE   ... CPUHP_BRINGUP_CPU   control CPU, may sleep, may fail.
 *                                     Teardowns here are the "DEAD" callbacks,
 *                                     run after the CPU is gone.
 *   BRINGUP_CPU                       control CPU kicks the AP (INIT-SIPI)
 *   AP_OFFLINE .. AP_ONLINE           STARTING: on the AP, interrupts off,
 *                                     cannot fail. Teardowns: "DYING", on the
 *                                     dying CPU inside stop_machine.
 *   TEARDOWN_CPU                      teardown: stop_machine(take_cpu_down)
 *   AP_ONLINE_IDLE .. ONLINE          ONLINE: on the AP's hotplug thread,
 *                                     may sleep, may fail.
 *
 * Rollback: a failing startup makes the machine walk back, in reverse, to the
 * state the operation started from; a failing teardown walks forward again.
 * STARTING/DYING callbacks cannot fail (the CPU is half there), so failure
 * injection into them is refused.
 */
#ifndef GRACE_CPUHOTPLUG_H
#define GRACE_CPUHOTPLUG_H

#include <grace/types.h>

enum cpuhp_state {
	CPUHP_INVALID = -1,
	CPUHP_OFFLINE = 0,
	/* PREPARE (control CPU). Going down these teardowns are the DEAD
	 * callbacks and run in reverse, top first: timers are migrated off the
	 * dead CPU before anything else, then RCU adopts its callbacks and its
	 * IPI queue is checked empty, and only then run the callbacks that may
	 * wait for a timer, a grace period or a work item (docs/hotplug.md). */
	CPUHP_CREATE_THREADS,       /* sched: per-CPU kthreads for the new CPU */
	CPUHP_WORKQUEUE_PREP,       /* workqueue: per-CPU pool */
	CPUHP_BP_PREPARE_DYN,
	CPUHP_BP_PREPARE_DYN_END = CPUHP_BP_PREPARE_DYN + 4,
	CPUHP_SMPCFD_PREPARE,       /* smp call-function queue; DEAD: check it drained */
	CPUHP_RCUTREE_PREP,         /* RCU per-CPU data; DEAD: adopt its callbacks */
	CPUHP_TIMERS_PREPARE,       /* timers: per-CPU base; DEAD: migrate pending timers */
	CPUHP_BRINGUP_CPU,          /* kick the AP and wait until it reached AP_ONLINE_IDLE */
	/* STARTING (on the AP, interrupts off; teardown = DYING) */
	CPUHP_AP_OFFLINE,
	CPUHP_AP_SCHED_STARTING,    /* sched: runqueue usable */
	CPUHP_AP_SMPCFD_DYING,      /* DYING: run what is still queued for this CPU */
	CPUHP_AP_TIMERS_DYING,
	CPUHP_AP_RCUTREE_DYING,     /* RCU: "this CPU is leaving" report */
	CPUHP_AP_STARTING_DYN,
	CPUHP_AP_STARTING_DYN_END = CPUHP_AP_STARTING_DYN + 4,
	CPUHP_AP_ONLINE,            /* marked online, interrupts on */
	CPUHP_TEARDOWN_CPU,         /* teardown: stop_machine(take_cpu_down) */
	CPUHP_AP_ONLINE_IDLE,       /* AP in its idle loop; hotplug thread takes over */
	/* ONLINE (on the AP's hotplug thread) */
	CPUHP_AP_SMPBOOT_THREADS,   /* unpark / park per-CPU kthreads */
	CPUHP_AP_WORKQUEUE_ONLINE,
	CPUHP_AP_RCUTREE_ONLINE,
	CPUHP_AP_WATCHDOG_ONLINE,
	CPUHP_AP_ONLINE_DYN,
	CPUHP_AP_ONLINE_DYN_END = CPUHP_AP_ONLINE_DYN + 8,
	CPUHP_AP_ACTIVE,            /* sched: CPU active / DOWN: inactive, migrate threads away */
	CPUHP_ONLINE,
	CPUHP_NR_STATES,
};

/*
 * Install callbacks in a dynamic slot: `state` is CPUHP_BP_PREPARE_DYN,
 * CPUHP_AP_STARTING_DYN or CPUHP_AP_ONLINE_DYN, and the first free slot of
 * that range is returned. The startup runs at once on every CPU already past
 * the state; if it fails on one, the CPUs done so far are torn down again and
 * the error returned. (The fixed states have their callbacks in the table in
 * kernel/cpu.c, not here.)
 */
int cpuhp_setup_state(enum cpuhp_state state, const char *name,
		      int (*startup)(unsigned int cpu), int (*teardown)(unsigned int cpu));
/* Run the teardown on every CPU past the state, then free the slot. */
void cpuhp_remove_state(enum cpuhp_state state);

/* Walk `cpu` to `target`; 0, or a negative error after a full rollback. */
int cpu_up(unsigned int cpu, enum cpuhp_state target);
int cpu_down(unsigned int cpu, enum cpuhp_state target);
int add_cpu(unsigned int cpu);      /* cpu_up(cpu, CPUHP_ONLINE) */
int remove_cpu(unsigned int cpu);   /* cpu_down(cpu, CPUHP_OFFLINE) */

/* Called on the AP: run the STARTING callbacks (interrupts off). */
void notify_cpu_starting(unsigned int cpu);
/* Called on the AP from its idle loop once: hand over to the hotplug thread. */
void cpuhp_online_idle(enum cpuhp_state state);
/* Called by the dying CPU's idle loop right before arch_play_dead(). */
void cpuhp_report_idle_dead(void);

/* Serialize against hotplug (readers of the online mask that must not race). */
void cpus_read_lock(void);
void cpus_read_unlock(void);

enum cpuhp_state cpuhp_get_state(unsigned int cpu);
/* Debug (cpuhp.migrate_delay_ms, kernel/cpu.c): ms between a CPU's death and
 * the migration of its RCU callbacks; set by ktest rcu_windows.barrier_dead. */
extern int cpuhp_migrate_delay_ms;
const char *cpuhp_state_name(enum cpuhp_state state);

/* Introspection and failure injection (shell, tests). */
struct cpuhp_state_info {
	const char *name, *section;
	bool has_startup, has_teardown;
	bool may_fail_up, may_fail_down;
	bool can_rest;     /* a valid target */
	bool used;         /* a state exists in this slot */
};
void cpuhp_describe(enum cpuhp_state s, struct cpuhp_state_info *info);
void cpuhp_cpu_info(unsigned int cpu, enum cpuhp_state *state, enum cpuhp_state *target,
		    enum cpuhp_state *fail, u64 *last_ns);
int cpuhp_inject_fail(unsigned int cpu, enum cpuhp_state state, const char **why);
void cpuhp_clear_fail(unsigned int cpu);   /* disarm an unconsumed injection */
enum cpuhp_state cpuhp_state_parse(const char *s);   /* name or number; CPUHP_INVALID */

void cpuhp_init(void);                     /* after the scheduler, before any AP */
void bringup_nonboot_cpus(unsigned int max);

/*
 * The callbacks of the fixed states, named in kernel/cpu.c's table and
 * defined by their subsystems (the file is given). Tree RCU's are declared
 * for its three states, whose table lines name them once kernel/rcu/ defines
 * them.
 */
int sched_create_threads(unsigned int cpu);     /* sched/hotplug.c */
int sched_dead_cpu(unsigned int cpu);
int sched_cpu_starting(unsigned int cpu);
int sched_cpu_dying(unsigned int cpu);
int sched_cpu_activate(unsigned int cpu);
int sched_cpu_deactivate(unsigned int cpu);
int workqueue_prepare_cpu(unsigned int cpu);    /* workqueue.c */
int workqueue_online_cpu(unsigned int cpu);
int workqueue_offline_cpu(unsigned int cpu);
int smpcfd_prepare_cpu(unsigned int cpu);       /* smp.c */
int smpcfd_dead_cpu(unsigned int cpu);
int smpcfd_dying_cpu(unsigned int cpu);
int timers_prepare_cpu(unsigned int cpu);       /* timer.c */
int timers_dead_cpu(unsigned int cpu);
int timers_dying_cpu(unsigned int cpu);
int smpboot_unpark_threads(unsigned int cpu);   /* smpboot.c */
int smpboot_park_threads(unsigned int cpu);
int watchdog_enable(unsigned int cpu);          /* watchdog.c */
int watchdog_disable(unsigned int cpu);
int rcutree_prepare_cpu(unsigned int cpu);      /* tree RCU */
int rcutree_dead_cpu(unsigned int cpu);
int rcutree_report_cpu_starting(unsigned int cpu);
int rcutree_dying_cpu(unsigned int cpu);
int rcutree_online_cpu(unsigned int cpu);
int rcutree_offline_cpu(unsigned int cpu);

/* The arch hooks the state machine calls are in <asm/smpboot.h>. */

#endif
