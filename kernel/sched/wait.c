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
 * The waker's delete and the waiter's unlocked check (list.h):
 * autoremove_wake_function() takes the entry off with
 * list_del_init_careful(), whose last store — next, a release — is what makes
 * the entry look empty; finish_wait() acquires that with list_empty_careful()
 * and only then skips the lock. The entry usually lives in the waiter's stack
 * frame, dead as soon as finish_wait() returns, so the waker must not store
 * to it after that point.
 *
 *   wait.race_delay_us=N   debug: pause N us between the two stores that
 *                          re-initialise an entry the waker takes off the
 *                          queue (autoremove_wake_function)
 *   wait.bug_early_empty=1 injected bug: the waker stores next first (plain
 *                          INIT_LIST_HEAD order) and finish_wait() trusts
 *                          next alone (plain list_empty), so the waiter sees
 *                          the entry empty before the waker's last store
 *                          (scenario wait-bug-early-empty)
 */
#include <grace/param.h>
#include <grace/sched.h>
#include <grace/time.h>
#include <grace/wait.h>

int wait_race_delay_us;
param_int("wait.race_delay_us", wait_race_delay_us, 0, 1000,
	  "debug: pause between the two stores of the waker's entry delete");
static bool bug_early_empty;
param_bool("wait.bug_early_empty", bug_early_empty,
	   "injected bug: delete stores next first, finish_wait checks next alone (wait.stack catches it)");

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

	if (!ret)
		return 0;
	struct list_head *l = &e->entry;

	if (!wait_race_delay_us && !bug_early_empty) {
		list_del_init_careful(l);
		return ret;
	}
	/* list_del_init_careful() with a pause between its two stores: prev,
	 * then next with release (the injected bug: next first). */
	struct list_head **first = bug_early_empty ? &l->next : &l->prev;
	struct list_head **last = bug_early_empty ? &l->prev : &l->next;

	l->next->prev = l->prev;
	l->prev->next = l->next;
	WRITE_ONCE(*first, l);
	udelay((unsigned long)wait_race_delay_us);
	smp_store_release(last, l);
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
	/* Without the lock only if the waker's list_del_init_careful() is
	 * complete (its release of next, acquired here): after that it never
	 * touches the entry again, and our caller may reuse its memory.
	 * Anything less — the entry still queued, or a delete half done —
	 * and we take the lock, which waits the waker out. */
	if (bug_early_empty ? !list_empty(&e->entry) : !list_empty_careful(&e->entry)) {
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
