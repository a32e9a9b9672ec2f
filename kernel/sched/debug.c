/*
 * debug.c — `ps`: every task with its scheduler state, like Linux's ps with
 * the columns a student needs to watch placement and preemption.
 *
 *   TID  NAME            CPU STATE    ALLOWED  PREEMPT  SWITCHES(vol/invol)
 *
 * STATE: O idle task of an offline CPU, R running now, I idle task waiting for an empty queue, Q queued (runnable), S sleeping, P parked, N new
 * (never woken), M moving between CPUs, X dead. PREEMPT is the CPU's preempt
 * count for a running task ("-" otherwise: a switched-out task has none of
 * its own). Rows are copied under the task-list lock and printed after it,
 * so printing never holds a lock the scheduler needs.
 * Test: scenarios run `ps` from autorun (sched-smp*.scn).
 */
#include <grace/mm.h>
#include <grace/printk.h>
#include <grace/rculist.h>
#include <grace/sched.h>
#include <grace/shell.h>
#include <grace/string.h>

#include "sched.h"

struct ps_row {
	int tid;
	char comm[TASK_COMM_LEN];
	unsigned int cpu;
	char state;
	struct cpumask allowed;
	int preempt;
	u64 nvcsw, nivcsw;
};

static char task_state_char(struct task_struct *p)
{
	if ((p->flags & PF_IDLE) && !cpu_online(p->cpu))
		return 'O';
	if (p->on_cpu && cpu_rq(p->cpu)->curr == p)
		return 'R';
	if (p->flags & PF_IDLE)
		return 'I';
	if (p->on_rq == TASK_ON_RQ_MIGRATING)
		return 'M';
	if (p->on_rq)
		return 'Q';
	switch (p->state) {
	case TASK_PARKED: return 'P';
	case TASK_NEW:    return 'N';
	case TASK_DEAD:   return 'X';
	default:          return 'S';
	}
}

/* "0-3,5" or "all" into buf. */
static void cpulist(char *buf, size_t size, const struct cpumask *m)
{
	unsigned int cpu, start = NR_CPUS, prev = NR_CPUS;
	size_t n = 0;

	buf[0] = '\0';
	if (cpumask_weight(m) == cpumask_weight(&cpu_possible_mask) && cpumask_weight(m) > 1) {
		strlcpy(buf, "all", size);
		return;
	}
	for (cpu = 0; cpu <= NR_CPUS; cpu++) {
		bool in = cpu < NR_CPUS && cpumask_test_cpu(cpu, m);

		if (in && start == NR_CPUS)
			start = cpu;
		if (!in && start != NR_CPUS) {
			prev = cpu - 1;
			if (n < size)
				n += (size_t)snprintf(buf + n, size - n, n ? ",%u" : "%u", start);
			if (prev != start && n < size)
				n += (size_t)snprintf(buf + n, size - n, "-%u", prev);
			start = NR_CPUS;
		}
	}
	if (!n)
		strlcpy(buf, "-", size);
}

static int cmd_ps(int argc, char **argv)
{
	unsigned int max = 512, n = 0;
	struct ps_row *rows = kmalloc(max * sizeof(*rows));
	struct task_struct *p;

	(void)argc;
	(void)argv;
	if (!rows) {
		printk("ps: out of memory\n");
		return 0;
	}
	/* A reader: tasks are freed a grace period after they leave the list
	 * (reap_dead_tasks), so every one met here is still there to read. */
	rcu_read_lock();
	list_for_each_entry_rcu(p, &task_list, tasks) {
		if (n == max)
			break;
		struct ps_row *r = &rows[n++];

		r->tid = p->tid;
		memcpy(r->comm, p->comm, sizeof(r->comm));
		r->cpu = task_cpu(p);
		r->state = task_state_char(p);
		cpumask_copy(&r->allowed, &p->cpus_allowed);
		r->preempt = r->state == 'R' ? per_cpu(cpu_local, r->cpu).preempt_count : -1;
		if (p == current)
			r->preempt--;   /* not counting the reader ps is in right now */
		r->nvcsw = p->nvcsw;
		r->nivcsw = p->nivcsw;
	}
	rcu_read_unlock();

	printk("  TID NAME                     CPU S ALLOWED      PREEMPT  SWITCHES vol/invol\n");
	for (unsigned int i = 0; i < n; i++) {
		struct ps_row *r = &rows[i];
		char allowed[40], pc[12];

		cpulist(allowed, sizeof(allowed), &r->allowed);
		if (r->preempt >= 0)
			snprintf(pc, sizeof(pc), "%d", r->preempt);
		else
			strlcpy(pc, "-", sizeof(pc));
		printk("%5d %-24s %3u %c %-12s %7s  %llu/%llu\n", r->tid, r->comm, r->cpu, r->state,
		       allowed, pc, (unsigned long long)r->nvcsw, (unsigned long long)r->nivcsw);
	}
	kfree(rows);
	return 0;
}
SHELL_COMMAND(ps, "ps", "ps", "list tasks: tid, name, CPU, state, allowed CPUs, preempt count, switches", cmd_ps);
