/*
 * mutex.c — the sleeping lock (see mutex.h).
 *
 * State: m->owner (NULL = free) and the FIFO m->wait_list, both under
 * m->wait_lock. Lock: free → take it; else queue a mutex_waiter and sleep
 * until m->owner == current. Unlock with waiters: hand-off — the first
 * waiter becomes owner *before* it is woken, so no third task can slip in
 * and the waiter need not retry. The waiter sets its state before testing
 * m->owner (set_current_state is a full barrier) and the hand-off writes the
 * owner before waking: the owner test cannot miss the hand-off.
 *
 *   free ──lock──▶ owned(T) ──unlock, no waiters──▶ free
 *                     │ ▲
 *           lock by U │ │ unlock by T: owner = U, wake U
 *                     ▼ │
 *               owned(T), U waiting
 *
 * Reported bugs: recursive lock (owner == current: it would sleep forever,
 * so it is reported and refused), unlock by a task that is not the owner
 * (reported, ignored), lock from atomic context (might_sleep).
 * Test: ktest "sched.mutex".
 */
#include <grace/mutex.h>
#include <grace/panic.h>
#include <grace/printk.h>
#include <grace/sched.h>

struct mutex_waiter {
	struct list_head list;
	struct task_struct *task;
};

void mutex_init(struct mutex *m)
{
	spin_lock_init(&m->wait_lock);
	m->owner = NULL;
	INIT_LIST_HEAD(&m->wait_list);
	m->name = "mutex";
}

void mutex_lock(struct mutex *m)
{
	struct mutex_waiter w;
	unsigned long flags;

	might_sleep();
	spin_lock_irqsave(&m->wait_lock, flags);
	if (!m->owner) {
		m->owner = current;
		spin_unlock_irqrestore(&m->wait_lock, flags);
		return;
	}
	if (m->owner == current) {
		spin_unlock_irqrestore(&m->wait_lock, flags);
		printk("BUG: recursive mutex_lock of %s by %s (tid %d): would deadlock; refused\n",
		       m->name ? m->name : "?", current->comm, current->tid);
		WARN_ON(1);
		return;
	}
	w.task = current;
	list_add_tail(&w.list, &m->wait_list);
	for (;;) {
		set_current_state(TASK_UNINTERRUPTIBLE);
		if (READ_ONCE(m->owner) == current)
			break;
		spin_unlock_irqrestore(&m->wait_lock, flags);
		schedule();
		spin_lock_irqsave(&m->wait_lock, flags);
	}
	__set_current_state(TASK_RUNNING);
	spin_unlock_irqrestore(&m->wait_lock, flags);
}

int mutex_trylock(struct mutex *m)
{
	unsigned long flags;
	int ret = 0;

	spin_lock_irqsave(&m->wait_lock, flags);
	if (!m->owner) {
		m->owner = current;
		ret = 1;
	}
	spin_unlock_irqrestore(&m->wait_lock, flags);
	return ret;
}

void mutex_unlock(struct mutex *m)
{
	struct task_struct *next = NULL;
	unsigned long flags;

	spin_lock_irqsave(&m->wait_lock, flags);
	if (m->owner != current) {
		struct task_struct *o = m->owner;

		spin_unlock_irqrestore(&m->wait_lock, flags);
		printk("BUG: mutex_unlock of %s by %s (tid %d), owner %s; ignored\n",
		       m->name ? m->name : "?", current->comm, current->tid, o ? o->comm : "none");
		WARN_ON(1);
		return;
	}
	if (!list_empty(&m->wait_list)) {
		struct mutex_waiter *w = list_first_entry(&m->wait_list, struct mutex_waiter, list);

		list_del_init(&w->list);
		next = w->task;
	}
	/* Hand-off: the waiter owns it before it runs again. */
	m->owner = next;
	if (next)
		wake_up_process(next);
	spin_unlock_irqrestore(&m->wait_lock, flags);
}

bool mutex_is_locked(struct mutex *m)
{
	return READ_ONCE(m->owner) != NULL;
}
