/*
 * wait.h — wait queues: sleep until a condition becomes true.
 *
 *     static DECLARE_WAIT_QUEUE_HEAD(wq);
 *     waiter:  wait_event(wq, READ_ONCE(done));
 *     waker:   WRITE_ONCE(done, 1); wake_up(&wq);
 *
 * The waiter's loop (prepare_to_wait → test → schedule) is the whole
 * lost-wake-up argument: the waiter queues itself and sets its state to
 * sleeping *before* it tests the condition, and the waker changes the
 * condition *before* it walks the queue. So either the waiter sees the new
 * condition, or the waker finds it on the queue and makes it runnable again
 * (then schedule() returns at once). set_current_state() is a full barrier;
 * the wait-queue lock orders the rest.
 *
 * Entries marked exclusive (WQ_FLAG_EXCLUSIVE) are woken one at a time by
 * wake_up(); wake_up_all() wakes everyone. Wait queues may be woken from
 * interrupt context (a timer callback) but waited on only from a task.
 * Test: ktest "sched.waitqueue".
 */
#ifndef GRACE_WAIT_H
#define GRACE_WAIT_H

#include <grace/list.h>
#include <grace/spinlock.h>
#include <grace/types.h>

struct task_struct;
struct wait_queue_entry;
typedef int (*wait_queue_func_t)(struct wait_queue_entry *wq_entry, unsigned int mode, void *key);

#define WQ_FLAG_EXCLUSIVE 0x01

struct wait_queue_entry {
	unsigned int flags;
	struct task_struct *task;
	wait_queue_func_t func;
	struct list_head entry;
};

struct wait_queue_head {
	spinlock_t lock;
	struct list_head head;
};
typedef struct wait_queue_head wait_queue_head_t;

#define __WAIT_QUEUE_HEAD_INITIALIZER(name) { .lock = SPINLOCK_INIT, .head = LIST_HEAD_INIT((name).head) }
#define DECLARE_WAIT_QUEUE_HEAD(name) struct wait_queue_head name = __WAIT_QUEUE_HEAD_INITIALIZER(name)

void init_waitqueue_head(struct wait_queue_head *wq);

/* Wake the task of an entry (try_to_wake_up); removes nothing. */
int default_wake_function(struct wait_queue_entry *wq_entry, unsigned int mode, void *key);
/* Wake it and take the entry off the queue (what wait_event uses). */
int autoremove_wake_function(struct wait_queue_entry *wq_entry, unsigned int mode, void *key);

#define DEFINE_WAIT(name) \
	struct wait_queue_entry name = { .flags = 0, .task = current, \
		.func = autoremove_wake_function, .entry = LIST_HEAD_INIT((name).entry) }

void add_wait_queue(struct wait_queue_head *wq, struct wait_queue_entry *e);
void add_wait_queue_exclusive(struct wait_queue_head *wq, struct wait_queue_entry *e);
void remove_wait_queue(struct wait_queue_head *wq, struct wait_queue_entry *e);
void prepare_to_wait(struct wait_queue_head *wq, struct wait_queue_entry *e, unsigned int state);
void prepare_to_wait_exclusive(struct wait_queue_head *wq, struct wait_queue_entry *e, unsigned int state);
void finish_wait(struct wait_queue_head *wq, struct wait_queue_entry *e);

/* Debug: microseconds between the two stores of the waker's delete
 * (boot parameter wait.race_delay_us; ktest "wait.stack"). */
extern int wait_race_delay_us;

/* Wake up to nr_exclusive exclusive waiters (0: all) and every other waiter. */
void __wake_up(struct wait_queue_head *wq, unsigned int mode, int nr_exclusive, void *key);
/* The same with wq->lock already held (interrupts off). */
void __wake_up_locked(struct wait_queue_head *wq, unsigned int mode, int nr_exclusive);
#define wake_up(wq)     __wake_up((wq), TASK_NORMAL, 1, NULL)
#define wake_up_all(wq) __wake_up((wq), TASK_NORMAL, 0, NULL)
#define wake_up_nr(wq, n) __wake_up((wq), TASK_NORMAL, (n), NULL)

static inline bool waitqueue_active(struct wait_queue_head *wq)
{
	return !list_empty(&wq->head);
}

/* Sleep (uninterruptibly) until `cond` is true. */
#define wait_event(wq, cond) do { \
	if (cond) \
		break; \
	DEFINE_WAIT(__wait); \
	for (;;) { \
		prepare_to_wait(&(wq), &__wait, TASK_UNINTERRUPTIBLE); \
		if (cond) \
			break; \
		schedule(); \
	} \
	finish_wait(&(wq), &__wait); \
} while (0)

/*
 * Sleep until `cond` is true or `timeout` jiffies passed. Returns 0 if the
 * time ran out with `cond` still false, else the jiffies left (at least 1).
 */
#define wait_event_timeout(wq, cond, timeout) ({ \
	long __ret = (long)(timeout); \
	if (!(cond)) { \
		DEFINE_WAIT(__wait); \
		for (;;) { \
			prepare_to_wait(&(wq), &__wait, TASK_UNINTERRUPTIBLE); \
			if (cond) \
				break; \
			__ret = schedule_timeout(__ret); \
			if (!__ret) { \
				if (cond) \
					__ret = 1; \
				break; \
			} \
		} \
		finish_wait(&(wq), &__wait); \
	} else if (!__ret) { \
		__ret = 1; \
	} \
	__ret; })

/* The macros above use current, schedule() and the task states. Included
 * last, so that sched.h (which embeds completions) sees this file complete. */
#include <grace/sched.h>

#endif
