/*
 * wait.c — wait queues (see wait.h for the lost-wake-up argument).
 *
 * The queue is a list of wait_queue_entry under wq->lock, non-exclusive
 * waiters first (added at the head), exclusive ones after (at the tail), so
 * __wake_up() can wake every non-exclusive waiter and then stop after
 * nr_exclusive exclusive ones. The lock is taken with interrupts off: timer
 * callbacks and interrupt handlers wake queues.
 * Test: ktest "sched.waitqueue"; ktest "wait.stack" (on-stack entries
 * against the waker's delete, widened by wait.race_delay_us).
 *
 *   wait.race_delay_us=N   debug: pause N us between the two stores that
 *                          re-initialise an entry the waker takes off the
 *                          queue (autoremove_wake_function)
 */
#include <grace/param.h>
#include <grace/sched.h>
#include <grace/time.h>
#include <grace/wait.h>

int wait_race_delay_us;
param_int("wait.race_delay_us", wait_race_delay_us, 0, 1000,
	  "debug: pause between the two stores of the waker's entry delete");

void init_waitqueue_head(struct wait_queue_head *wq)
{
	spin_lock_init(&wq->lock);
	INIT_LIST_HEAD(&wq->head);
}

int default_wake_function(struct wait_queue_entry *e, unsigned int mode, void *key)
{
	(void)key;
	return wake_up_state(e->task, mode);
}

int autoremove_wake_function(struct wait_queue_entry *e, unsigned int mode, void *key)
{
	int ret = default_wake_function(e, mode, key);

	if (ret) {
		struct list_head *l = &e->entry;

		l->next->prev = l->prev;
		l->prev->next = l->next;
		l->next = l;
		if (wait_race_delay_us)
			udelay((unsigned long)wait_race_delay_us);
		l->prev = l;
	}
	return ret;
}

void add_wait_queue(struct wait_queue_head *wq, struct wait_queue_entry *e)
{
	unsigned long flags;

	e->flags &= ~WQ_FLAG_EXCLUSIVE;
	spin_lock_irqsave(&wq->lock, flags);
	list_add(&e->entry, &wq->head);
	spin_unlock_irqrestore(&wq->lock, flags);
}

void add_wait_queue_exclusive(struct wait_queue_head *wq, struct wait_queue_entry *e)
{
	unsigned long flags;

	e->flags |= WQ_FLAG_EXCLUSIVE;
	spin_lock_irqsave(&wq->lock, flags);
	list_add_tail(&e->entry, &wq->head);
	spin_unlock_irqrestore(&wq->lock, flags);
}

void remove_wait_queue(struct wait_queue_head *wq, struct wait_queue_entry *e)
{
	unsigned long flags;

	spin_lock_irqsave(&wq->lock, flags);
	list_del_init(&e->entry);
	spin_unlock_irqrestore(&wq->lock, flags);
}

/* Queue (if not queued yet) and set the task state, in that order, under the
 * lock: a waker that changed the condition after this finds us queued. */
void prepare_to_wait(struct wait_queue_head *wq, struct wait_queue_entry *e, unsigned int state)
{
	unsigned long flags;

	might_sleep();
	e->flags &= ~WQ_FLAG_EXCLUSIVE;
	spin_lock_irqsave(&wq->lock, flags);
	if (list_empty(&e->entry))
		list_add(&e->entry, &wq->head);
	set_current_state(state);
	spin_unlock_irqrestore(&wq->lock, flags);
}

void prepare_to_wait_exclusive(struct wait_queue_head *wq, struct wait_queue_entry *e, unsigned int state)
{
	unsigned long flags;

	might_sleep();
	e->flags |= WQ_FLAG_EXCLUSIVE;
	spin_lock_irqsave(&wq->lock, flags);
	if (list_empty(&e->entry))
		list_add_tail(&e->entry, &wq->head);
	set_current_state(state);
	spin_unlock_irqrestore(&wq->lock, flags);
}

void finish_wait(struct wait_queue_head *wq, struct wait_queue_entry *e)
{
	unsigned long flags;

	__set_current_state(TASK_RUNNING);
	/* Unlocked peek is fine: only a waker under the lock removes us, and
	 * then it is done with the entry. */
	if (!list_empty(&e->entry)) {
		spin_lock_irqsave(&wq->lock, flags);
		list_del_init(&e->entry);
		spin_unlock_irqrestore(&wq->lock, flags);
	}
}

void __wake_up_locked(struct wait_queue_head *wq, unsigned int mode, int nr_exclusive)
{
	struct wait_queue_entry *e, *n;

	list_for_each_entry_safe(e, n, &wq->head, entry) {
		unsigned int eflags = e->flags;   /* e may be gone after func() */

		if (e->func(e, mode, NULL) && (eflags & WQ_FLAG_EXCLUSIVE) && !--nr_exclusive)
			break;
	}
}

void __wake_up(struct wait_queue_head *wq, unsigned int mode, int nr_exclusive, void *key)
{
	unsigned long flags;

	(void)key;
	spin_lock_irqsave(&wq->lock, flags);
	__wake_up_locked(wq, mode, nr_exclusive);
	spin_unlock_irqrestore(&wq->lock, flags);
}
