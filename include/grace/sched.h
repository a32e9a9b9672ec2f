/*
 * sched.h — tasks and the scheduler.
 *
 * Every thread of control in Grace is a task (struct task_struct): a kernel
 * stack, a saved stack pointer, a state and the CPUs it may run on. Each
 * CPU has one runqueue (kernel/sched/core.c) holding its runnable tasks in
 * FIFO order, and a task that runs for `sched.timeslice` ticks while others
 * wait goes to the back (round robin). Two tasks per CPU are special: the
 * idle task (runs when nothing else can, never sleeps) and the stopper
 * (stop_machine's thread, always picked first when runnable).
 *
 * Task states (a task that is not TASK_RUNNING is asleep and on no queue):
 *
 *   TASK_NEW ──wake_up_process──▶ RUNNING ◀──wake_up──┐
 *                                 │   │               │
 *          set_current_state + schedule()             │
 *                                 ▼   ▼               │
 *                  UNINTERRUPTIBLE / PARKED ──────────┘
 *                                 │
 *                      kthread exit ──▶ TASK_DEAD (freed once unreferenced)
 *
 * Fields are protected by the runqueue lock of the task's CPU (p->cpu), which
 * is found with task_rq_lock(); p->cpu itself changes only under the old
 * runqueue's lock while the task is on no queue (on_rq 0 or MIGRATING).
 *
 * Placement rule: a task may run on CPU c if c is in p->cpus_allowed and c
 * is *active* — or, for a per-CPU kthread of c (kthread_create_on_cpu), if c
 * is merely online (or not yet online: the thread waits in c's queue).
 *
 * Tests: ktests "sched.*" (kernel/sched/sched_test.c).
 */
#ifndef GRACE_SCHED_H
#define GRACE_SCHED_H

#include <asm/barrier.h>
#include <asm/ptrace.h>
#include <grace/completion.h>
#include <grace/cpuhotplug.h>
#include <grace/cpumask.h>
#include <grace/delay.h>
#include <grace/list.h>
#include <grace/percpu.h>
#include <grace/preempt.h>
#include <grace/rcupdate.h>
#include <grace/types.h>

/* Task states (Linux's values). */
#define TASK_RUNNING          0x0000
#define TASK_INTERRUPTIBLE    0x0001  /* Grace has no signals: treated as uninterruptible */
#define TASK_UNINTERRUPTIBLE  0x0002
#define TASK_PARKED           0x0040
#define TASK_DEAD             0x0080
#define TASK_NEW              0x0800
#define TASK_NORMAL           (TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE)

/* p->on_rq */
#define TASK_ON_RQ_QUEUED     1       /* runnable: running, or in a queue */
#define TASK_ON_RQ_MIGRATING  2       /* in transit between two runqueues */

/* p->flags */
#define PF_IDLE               0x00000002
#define PF_EXITING            0x00000004
#define PF_KTHREAD            0x00200000
#define PF_PERCPU             0x00400000  /* a per-CPU kthread of p->kthread_cpu */
#define PF_NO_SETAFFINITY     0x04000000  /* kthread_bind()-ed */
#define PF_STOPPER            0x08000000

#define TASK_COMM_LEN 24
#define MAX_SCHEDULE_TIMEOUT  ((long)(~0UL >> 1))

struct task_struct {
	unsigned long rsp;              /* saved stack pointer; offset 0: switch_to.asm */
	volatile unsigned int state;    /* TASK_* */
	unsigned int flags;             /* PF_* */
	int on_rq;                      /* 0, TASK_ON_RQ_QUEUED, TASK_ON_RQ_MIGRATING */
	int on_cpu;                     /* executing, or still switching out */
	unsigned int cpu;               /* the runqueue it belongs to */
	int tid;
	char comm[TASK_COMM_LEN];
	struct cpumask cpus_allowed;
	int time_slice;                 /* ticks left before round robin */
	bool ran;                       /* has been switched to at least once */
	struct list_head run_list;      /* in rq->queue while queued and not running */
	struct list_head tasks;         /* in the global task list (ps), under RCU */
	struct rcu_head rcu;            /* last reference gone: call_rcu, then the reaper */
	struct task_struct *reap_next;  /* on the reaper's list once its grace period ended */
	int usage;                      /* references; freed at 0 (after TASK_DEAD) */
	void *stack;                    /* top of the kernel stack (NULL: boot/AP stack) */
	u64 nvcsw, nivcsw;              /* voluntary / involuntary switches */

	/* kthread (kernel/kthread.c) */
	int (*threadfn)(void *data);
	void *data;
	unsigned long kthread_flags;    /* KTHREAD_* bits */
	int kthread_cpu;                /* CPU it was created for, or -1 */
	int exit_code;
	struct completion parked;
	struct completion exited;
};

DECLARE_PER_CPU(struct task_struct *, current_task);

/* The running task: one %gs-relative load. */
static __always_inline struct task_struct *get_current(void)
{
	return this_cpu_read(current_task);
}
#define current get_current()

static inline unsigned int task_cpu(const struct task_struct *p)
{
	return READ_ONCE(p->cpu);
}

/* set_current_state: the state store is ordered before every later load
 * (the condition test) — pairs with the waker's lock/wake-up. */
#define __set_current_state(s) WRITE_ONCE(current->state, (s))
#define set_current_state(s) do { WRITE_ONCE(current->state, (s)); smp_mb(); } while (0)

/* ---- the scheduler (kernel/sched/core.c) ---- */

void sched_init(void);            /* boot CPU: its context becomes swapper/0 */
extern bool sched_ready;

void schedule(void);
void schedule_preempt_disabled(void);
void preempt_schedule_irq(void);
/* From the IRQ dispatcher after EOI: preempt if allowed and wanted. */
void irq_exit_preempt(struct pt_regs *regs);
/* From the tick handler (interrupts off): time slice accounting. */
void scheduler_tick(void);

/* A voluntary preemption point for long loops in task context. */
int _cond_resched(void);
#define cond_resched() _cond_resched()
/* Go to the back of this CPU's queue. */
void yield(void);

int wake_up_process(struct task_struct *p);
int wake_up_state(struct task_struct *p, unsigned int state);
/* Sleep `timeout` jiffies (state set by the caller); returns jiffies left. */
long schedule_timeout(long timeout);
long schedule_timeout_uninterruptible(long timeout);

/* Affinity: 0, or -EINVAL (22) when no CPU of `mask` may take the task now
 * (no active CPU; for a per-CPU kthread bound to its own CPU: not online). */
int set_cpus_allowed_ptr(struct task_struct *p, const struct cpumask *mask);
/* The stop_machine stopper of `cpu`: always picked first when runnable. */
void sched_set_stop_task(unsigned int cpu, struct task_struct *stop);

struct task_struct *idle_task(unsigned int cpu);
bool is_idle_task(const struct task_struct *p);
bool sched_cpu_idle(unsigned int cpu);   /* nothing but idle runs there */
u64 sched_nr_switches(unsigned int cpu);

void get_task_struct(struct task_struct *p);
void put_task_struct(struct task_struct *p);

/* Print a task's backtrace (from its saved context when it is not running). */
void sched_show_task(struct task_struct *p);

/* Debug: warn when called where sleeping is not allowed. */
void __might_sleep(const char *file, int line);
#define might_sleep() __might_sleep(__FILE__, __LINE__)

/*
 * The idle loop (kernel/sched/idle.c): the boot CPU enters it from
 * rest_init(), an AP from start_secondary() with CPUHP_AP_ONLINE_IDLE.
 */
__attribute__((noreturn)) void cpu_startup_entry(enum cpuhp_state state);
/* kmain's tail: start `fn` as the "init" thread, become the idle task. */
__attribute__((noreturn)) void rest_init(int (*fn)(void *), void *arg);

/* The softlockup watchdog's "this CPU could schedule" stamp (kernel/watchdog.c);
 * called on every switch, every idle loop pass, and at every interrupt exit
 * that finds the interrupted code preemptible. */
void watchdog_touch(void);

/* The reschedule IPI (kernel/smp.c, smp branch). */
void smp_send_reschedule(unsigned int cpu);

/* Time: jiffies helpers (wrap-safe comparisons, Linux's). */
#define time_after(a, b)     ((long)((b) - (a)) < 0)
#define time_before(a, b)    time_after(b, a)
#define time_after_eq(a, b)  ((long)((a) - (b)) >= 0)
#define time_before_eq(a, b) time_after_eq(b, a)
unsigned long msecs_to_jiffies(unsigned int ms);
unsigned int jiffies_to_msecs(unsigned long j);

#endif
