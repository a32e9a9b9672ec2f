/*
 * workqueue.h — deferred work run by kernel threads.
 *
 *     static void fn(struct work_struct *w) { ... }
 *     INIT_WORK(&w, fn);
 *     queue_work_on(cpu, system_wq, &w);    on CPU `cpu`'s worker
 *     queue_work(system_unbound_wq, &w);    on any CPU
 *     flush_work(&w);                       wait until it has run
 *     cancel_work_sync(&w);                 unqueue it, wait out a running instance
 *
 * A work item is queued at most once at a time: queueing a pending item does
 * nothing and returns false. Once it starts running it may be queued again;
 * it never runs concurrently with itself: queued again while it runs, it
 * goes to the pool where it runs, whichever CPU was asked for (Linux's rule).
 * flush_work() waits for the last queueing before the call to finish.
 * Every queued item runs exactly once, also across CPU hotplug: when a CPU
 * goes offline its worker is unbound and finishes the CPU's pending items on
 * another CPU; when the CPU returns the worker is bound to it again.
 */
#ifndef GRACE_WORKQUEUE_H
#define GRACE_WORKQUEUE_H

#include <grace/types.h>

struct work_struct;
typedef void (*work_func_t)(struct work_struct *work);

struct worker_pool;

struct work_struct {
	struct work_struct *next;
	work_func_t func;
	unsigned long pending;        /* bit 0: queued, not yet started */
	struct worker_pool *pool;     /* where it was last queued */
	u64 queued_gen, done_gen;     /* flush_work waits for done_gen >= queued_gen */
};

#define INIT_WORK(w, f) do { \
	(w)->next = NULL; (w)->func = (f); (w)->pending = 0; (w)->pool = NULL; \
	(w)->queued_gen = (w)->done_gen = 0; \
} while (0)

#define WQ_UNBOUND (1u << 1)

struct workqueue_struct;
extern struct workqueue_struct *system_wq;          /* per-CPU */
extern struct workqueue_struct *system_unbound_wq;  /* any CPU */

struct workqueue_struct *alloc_workqueue(const char *name, unsigned int flags);
bool queue_work_on(unsigned int cpu, struct workqueue_struct *wq, struct work_struct *work);
bool queue_work(struct workqueue_struct *wq, struct work_struct *work);
static inline bool schedule_work(struct work_struct *w) { return queue_work(system_wq, w); }
/* Wait until the last queueing of `work` has finished running; true if it waited. */
bool flush_work(struct work_struct *work);
/* Take a pending `work` off its queue and wait for a running instance to
 * finish; true if it was pending. Queueing it meanwhile from elsewhere is
 * the caller's race to avoid (as in Linux). */
bool cancel_work_sync(struct work_struct *work);
static inline bool work_pending(const struct work_struct *w) { return __atomic_load_n(&w->pending, __ATOMIC_ACQUIRE) & 1; }

void workqueue_init(void);

#endif
