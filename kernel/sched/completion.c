/*
 * completion.c — counted events (see completion.h).
 *
 * x->done and the waiters are protected by x->wait.lock (interrupts off).
 * A waiter sleeps only after seeing done == 0 under the lock, with its state
 * set and itself queued before the lock is dropped; complete() increments
 * done and wakes under the same lock — no window for a lost wake-up.
 * Waiters are exclusive and woken one per complete(), in FIFO order.
 * Test: ktest "sched.completion".
 */
#include <grace/completion.h>
#include <grace/sched.h>

void init_completion(struct completion *x)
{
	x->done = 0;
	init_waitqueue_head(&x->wait);
}

void reinit_completion(struct completion *x)
{
	WRITE_ONCE(x->done, 0);
}

void complete(struct completion *x)
{
	unsigned long flags;

	spin_lock_irqsave(&x->wait.lock, flags);
	if (x->done != COMPLETION_ALL)
		x->done++;
	__wake_up_locked(&x->wait, TASK_NORMAL, 1);
	spin_unlock_irqrestore(&x->wait.lock, flags);
}

void complete_all(struct completion *x)
{
	unsigned long flags;
	spin_lock_irqsave(&x->wait.lock, flags);
	x->done = COMPLETION_ALL;
	__wake_up_locked(&x->wait, TASK_NORMAL, 0);
	spin_unlock_irqrestore(&x->wait.lock, flags);
}

static long do_wait_for_common(struct completion *x, long timeout)
{
	unsigned long flags;

	might_sleep();
	spin_lock_irqsave(&x->wait.lock, flags);
	if (!x->done) {
		DEFINE_WAIT(wait);

		/* Stays queued until we leave (default_wake_function does not
		 * dequeue), so a wake-up that finds done taken by another
		 * waiter cannot strand us off the queue. */
		wait.func = default_wake_function;
		wait.flags |= WQ_FLAG_EXCLUSIVE;
		list_add_tail(&wait.entry, &x->wait.head);
		do {
			set_current_state(TASK_UNINTERRUPTIBLE);
			spin_unlock_irqrestore(&x->wait.lock, flags);
			timeout = schedule_timeout(timeout);
			spin_lock_irqsave(&x->wait.lock, flags);
		} while (!x->done && timeout);
		__set_current_state(TASK_RUNNING);
		if (!list_empty(&wait.entry))
			list_del_init(&wait.entry);
		if (!x->done) {
			spin_unlock_irqrestore(&x->wait.lock, flags);
			return 0;
		}
	}
	if (x->done != COMPLETION_ALL)
		x->done--;
	spin_unlock_irqrestore(&x->wait.lock, flags);
	return timeout ? timeout : 1;
}

void wait_for_completion(struct completion *x)
{
	do_wait_for_common(x, MAX_SCHEDULE_TIMEOUT);
}

unsigned long wait_for_completion_timeout(struct completion *x, unsigned long timeout)
{
	return (unsigned long)do_wait_for_common(x, (long)timeout);
}

bool try_wait_for_completion(struct completion *x)
{
	unsigned long flags;
	bool ret = false;

	spin_lock_irqsave(&x->wait.lock, flags);
	if (x->done) {
		if (x->done != COMPLETION_ALL)
			x->done--;
		ret = true;
	}
	spin_unlock_irqrestore(&x->wait.lock, flags);
	return ret;
}

bool completion_done(struct completion *x)
{
	return READ_ONCE(x->done) != 0;
}
