/*
 * hotplug.c — the scheduler's states in the CPU hotplug table.
 *
 *   CPUHP_CREATE_THREADS     startup (control CPU, before the AP starts):
 *                            the AP's idle task (made once, reused on every
 *                            onlining) becomes its `current`; the smpboot
 *                            threads of the CPU are created, parked.
 *                            teardown (DEAD, after the CPU is gone): sweep
 *                            whatever is still queued there (nothing should).
 *   CPUHP_AP_SCHED_STARTING  startup (on the AP, interrupts off): the
 *                            runqueue takes tasks; teardown = DYING: below.
 *   CPUHP_AP_ACTIVE          startup: the CPU is active — from now on any
 *                            task may be placed there (set_cpus_allowed_ptr
 *                            succeeds: "bind right after cpu_up", ktest hotplug.bind).
 *                            teardown (on the AP's hotplug thread): inactive,
 *                            then every queued task that may run elsewhere
 *                            is moved away; only per-CPU kthreads and tasks
 *                            bound to this CPU alone stay.
 *   DYING (on the dying CPU inside stop_machine, interrupts off, after it
 *   left the online mask): what is still queued and not a per-CPU kthread
 *   moves away; a task bound to this CPU alone has its affinity broken, with
 *   a message, as in Linux.
 *
 * After DYING the CPU runs what per-CPU work is left, then its idle loop
 * reports it dead (idle.c). Wake-ups never choose an inactive CPU for
 * ordinary tasks, so nothing new arrives meanwhile.
 * Tests: hotplug.bind, the hotplug torture; ktest sched.bind.
 */
#include <asm/cpu.h>
#include <grace/cpuhotplug.h>
#include <grace/errno.h>
#include <grace/mm.h>
#include <grace/printk.h>
#include <grace/rculist.h>
#include <grace/sched.h>
#include <grace/smpboot.h>
#include <grace/string.h>

#include "sched.h"

static struct task_struct *idle_tasks[NR_CPUS];

int sched_create_threads(unsigned int cpu)
{
	struct task_struct *idle = idle_tasks[cpu];

	if (cpu != 0) {
		if (!idle) {
			idle = kzalloc(sizeof(*idle));
			if (!idle)
				return -ENOMEM;
			char name[TASK_COMM_LEN];

			snprintf(name, sizeof(name), "swapper/%u", cpu);
			strlcpy(idle->comm, name, sizeof(idle->comm));
			INIT_LIST_HEAD(&idle->run_list);
			INIT_LIST_HEAD(&idle->tasks);
			init_completion(&idle->parked);
			init_completion(&idle->exited);
			idle->usage = 1;
			idle->tid = 0;           /* every idle task is tid 0, as in Linux */
			unsigned long flags;

			spin_lock_irqsave(&task_list_lock, flags);
			list_add_tail_rcu(&idle->tasks, &task_list);
			spin_unlock_irqrestore(&task_list_lock, flags);
			idle_tasks[cpu] = idle;
		}
		idle->rsp = 0;   /* it runs on the AP's boot stack from the top */
		init_idle(idle, cpu);
		per_cpu(cpu_local, cpu).preempt_count = 0;
	}
	return smpboot_create_threads(cpu);
}

int sched_dead_cpu(unsigned int cpu)
{
	unsigned int left = sched_migrate_tasks_away(cpu, true);

	if (left)
		printk("sched: CPU %u died with %u tasks queued\n", cpu, left);
	return 0;
}

int sched_cpu_starting(unsigned int cpu)
{
	(void)cpu;
	return 0;
}

int sched_cpu_dying(unsigned int cpu)
{
	sched_migrate_tasks_away(cpu, true);
	return 0;
}

int sched_cpu_activate(unsigned int cpu)
{
	cpumask_set_cpu(cpu, &cpu_active_mask);
	return 0;
}

int sched_cpu_deactivate(unsigned int cpu)
{
	cpumask_clear_cpu(cpu, &cpu_active_mask);
	/* The cleared bit is visible to every wake-up that takes this CPU's
	 * runqueue lock after we do (the lock orders it): such wake-ups go
	 * elsewhere; the ones before are in the queue we now sweep. */
	smp_mb();
	sched_migrate_tasks_away(cpu, false);
	return 0;
}

void sched_hotplug_init(void)
{
	idle_tasks[0] = idle_task(0);
}
