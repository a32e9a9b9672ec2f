/*
 * mutex.h — a sleeping lock for task context.
 *
 *     static DEFINE_MUTEX(cfg_lock);
 *     mutex_lock(&cfg_lock); ... may sleep here ...; mutex_unlock(&cfg_lock);
 *
 * A task that finds the mutex taken queues itself (FIFO) and sleeps. Unlock
 * hands the mutex directly to the first waiter (owner = that task) before
 * waking it, so a waiter never has to race for the lock again and waiters
 * are served in arrival order. The owner is recorded: unlocking a mutex one
 * does not own and locking one already held by oneself are reported
 * ("BUG: ..." + a WARNING with a backtrace). Never from interrupt context
 * or with preemption/interrupts off (mutex_lock may sleep).
 * Test: ktest "sched.mutex".
 */
#ifndef GRACE_MUTEX_H
#define GRACE_MUTEX_H

#include <grace/list.h>
#include <grace/spinlock.h>

struct task_struct;

struct mutex {
	spinlock_t wait_lock;            /* protects owner and wait_list */
	struct task_struct *owner;       /* NULL when free */
	struct list_head wait_list;      /* struct mutex_waiter, FIFO */
	const char *name;
};

#define __MUTEX_INITIALIZER(lockname) { .wait_lock = SPINLOCK_INIT, .owner = NULL, \
	.wait_list = LIST_HEAD_INIT((lockname).wait_list), .name = #lockname }
#define DEFINE_MUTEX(lockname) struct mutex lockname = __MUTEX_INITIALIZER(lockname)

void mutex_init(struct mutex *m);
void mutex_lock(struct mutex *m);
/* 1 if taken, 0 if it is held by someone. Never sleeps. */
int mutex_trylock(struct mutex *m);
void mutex_unlock(struct mutex *m);
bool mutex_is_locked(struct mutex *m);

#endif
