/*
 * kthread.h — kernel threads.
 *
 *     struct task_struct *t = kthread_run(worker, arg, "worker/%d", n);
 *     ... in worker: while (!kthread_should_stop()) { ...; msleep(10); }
 *     int ret = kthread_stop(t);        sets "should stop", waits, returns fn's result
 *
 * A kthread is created asleep (TASK_NEW) and starts at its function on the
 * first wake_up_process(). kthread_bind() pins a not-yet-started thread to
 * one CPU (any possible CPU); kthread_create_on_cpu() does that and marks it a
 * per-CPU thread of that CPU, allowed there while the CPU is online but not
 * (yet, or any more) active.
 *
 * Parking (what per-CPU threads do while their CPU is offline):
 *
 *   running ──kthread_park()──▶ sees kthread_should_park() ──kthread_parkme()──▶ PARKED
 *      ▲                                                                          │
 *      └──────────────────────────── kthread_unpark() ◀──────────────────────────┘
 *
 * kthread_park() returns once the thread is parked and off its CPU; parking
 * a thread that never ran parks it on the spot (it will start when
 * unparked). kthread_unpark() re-binds a per-CPU thread to its CPU first.
 * Tests: ktests "sched.kthread", "sched.park".
 */
#ifndef GRACE_KTHREAD_H
#define GRACE_KTHREAD_H

#include <grace/compiler.h>
#include <grace/sched.h>

#define KTHREAD_SHOULD_STOP  (1UL << 0)
#define KTHREAD_SHOULD_PARK  (1UL << 1)
#define KTHREAD_IS_PARKED    (1UL << 2)

struct task_struct *kthread_create(int (*threadfn)(void *data), void *data,
				   const char *namefmt, ...) __printf(3, 4);
/* namefmt may use the CPU number once, e.g. "migration/%u". */
struct task_struct *kthread_create_on_cpu(int (*threadfn)(void *data), void *data,
					  unsigned int cpu, const char *namefmt);

#define kthread_run(threadfn, data, namefmt, ...) ({ \
	struct task_struct *__k = kthread_create(threadfn, data, namefmt, ##__VA_ARGS__); \
	if (__k) \
		wake_up_process(__k); \
	__k; })

void kthread_bind(struct task_struct *k, unsigned int cpu);
void kthread_bind_mask(struct task_struct *k, const struct cpumask *mask);

int kthread_stop(struct task_struct *k);
bool kthread_should_stop(void);

int kthread_park(struct task_struct *k);
void kthread_unpark(struct task_struct *k);
bool kthread_should_park(void);
void kthread_parkme(void);
bool kthread_is_parked(struct task_struct *k);

/* End the calling kthread with `ret` (what returning from threadfn does). */
__noreturn void kthread_exit(int ret);

/* Free tasks that died since the last call (task context, interrupts on). */
void reap_dead_tasks(void);

#endif
