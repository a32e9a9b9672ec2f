/*
 * kernel/sched/sched.h — the scheduler's private interfaces: the runqueue
 * and the helpers the scheduler's files (core, idle, hotplug, kthread,
 * smpboot) share. Not for use outside kernel/sched/ and kernel/kthread.c.
 */
#ifndef KERNEL_SCHED_SCHED_H
#define KERNEL_SCHED_SCHED_H

#include <grace/list.h>
#include <grace/percpu.h>
#include <grace/sched.h>
#include <grace/spinlock.h>

struct rq {
	spinlock_t lock;
	unsigned int cpu;
	struct task_struct *curr;         /* running now */
	struct task_struct *idle;         /* runs when nothing else is runnable */
	struct task_struct *stop;         /* stop_machine's stopper: first when runnable */
	struct list_head queue;           /* runnable, not running: FIFO */
	unsigned int nr_queued;
	struct task_struct *migrate_prev; /* switched out, to be moved elsewhere */
	u64 nr_switches;
	u64 ticks;
	u64 nr_ipis;
};

DECLARE_PER_CPU(struct rq, runqueues);
#define cpu_rq(cpu) per_cpu_ptr(&runqueues, (cpu))
#define this_rq()   this_cpu_ptr(&runqueues)

extern int sched_migrate_delay_us;         /* debug (core.c); sched.migrate_race */
extern struct list_head task_list;        /* every task, for ps */
extern spinlock_t task_list_lock;

struct rq *task_rq_lock(struct task_struct *p);
void resched_curr(struct rq *rq);
bool is_cpu_allowed(struct task_struct *p, unsigned int cpu);
struct task_struct *create_task(const char *name, void (*fn)(void *), void *arg);
void init_idle(struct task_struct *p, unsigned int cpu);
__noreturn void do_task_dead(void);
void sched_hotplug_init(void);
unsigned int sched_migrate_tasks_away(unsigned int cpu, bool dying);
bool rq_has_runnable(struct rq *rq);
bool tryget_task_struct(struct task_struct *p);

#endif
