/*
 * workqueue.c — per-CPU and unbound worker pools.
 *
 * A workqueue is a name and a kind: per-CPU (work runs on the CPU it was
 * queued for) or unbound (any CPU). Work goes to a worker_pool: one per
 * possible CPU per per-CPU workqueue, one per unbound workqueue. Each pool has
 * one worker thread, which runs items strictly in queueing order; there is no
 * concurrency management, so an item must not wait for a later item of the
 * same pool (use another workqueue).
 *
 * Linux's guarantees, and how they are kept:
 *  - An item never runs concurrently with itself. The worker notes the item
 *    it runs in pool->current_work, under the pool lock, in the same critical
 *    section that takes the item off the list and clears `pending`. Whoever
 *    queues it next (and so owns `pending`) first locks the item's last pool;
 *    if the item is running there, the new queueing goes to that pool, behind
 *    the running instance, whatever CPU was asked for.
 *  - flush_work() waits for the last queueing before the call. Every
 *    queueing bumps w->queued_gen under its pool's lock; the worker snapshots
 *    it in the critical section that starts the run, so the run covers every
 *    queueing up to that generation; when the run ends, done_gen becomes the
 *    snapshot — never less than before (runs of one item are serialised, and
 *    the update is a max under the pool lock anyway). flush_work() reads
 *    w->pool and w->queued_gen under that pool's lock (re-checking the pool),
 *    so it waits on the pool where that generation will run.
 *  - cancel_work_sync() grabs `pending` (taking the item off its list if it
 *    was queued), waits for a running instance, and marks the cancelled
 *    generation done so that flushers of it return.
 *
 * Hotplug (CPUHP_AP_WORKQUEUE_ONLINE, on the CPU's hotplug thread):
 *   teardown: the pool is marked unbound ("disassociated") and its worker's
 *             affinity widened to every active CPU, so whatever is pending —
 *             and anything queued for the offline CPU meanwhile — still runs,
 *             exactly once, elsewhere;
 *   startup:  the worker is bound to its CPU again.
 * CPUHP_WORKQUEUE_PREP (PREPARE) creates the pool's worker for a new CPU the
 * first time it comes up.
 *
 * Invariants: `pending` bit set ⇔ the item is on exactly one pool list, or
 * its owner is about to insert it, or cancel_work_sync() holds it; an item
 * runs only on w->pool, and only one instance at a time; done_gen only grows
 * and never passes queued_gen.
 *
 * Injected bugs (scenarios wqtorture-bug-*):
 *   workqueue.bug_requeue_elsewhere=1  a re-queue while running goes to the
 *                                      CPU asked for (concurrent self-execution)
 *   workqueue.bug_late_gen=1           the run records queued_gen when it ends,
 *                                      not when it starts (early flush)
 * Test: ktest "workqueue.*"; the workqueue torture (torture.wq=1,
 * kernel/torture/wq_torture.c); the hotplug torture counts every item's runs.
 */
#include <asm/cpu.h>
#include <grace/cpuhotplug.h>
#include <grace/ktest.h>
#include <grace/kthread.h>
#include <grace/mm.h>
#include <grace/panic.h>
#include <grace/param.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/sched.h>
#include <grace/spinlock.h>
#include <grace/string.h>
#include <grace/wait.h>
#include <grace/workqueue.h>

struct worker_pool {
	spinlock_t lock;
	struct work_struct *head, **tail;
	int cpu;                      /* -1: unbound */
	bool disassociated;           /* per-CPU pool whose CPU is offline */
	struct task_struct *worker;
	struct work_struct *current_work;   /* the item the worker runs (pool->lock) */
	struct wait_queue_head more;  /* the worker waits for work */
	struct wait_queue_head done;  /* flush_work waits for completions */
	const char *name;
};

struct workqueue_struct {
	const char *name;
	unsigned int flags;
	struct worker_pool *pools[NR_CPUS];   /* per-CPU; NULL until the CPU is prepared */
	struct worker_pool *unbound;
	struct workqueue_struct *next;
};

struct workqueue_struct *system_wq, *system_unbound_wq;
static struct workqueue_struct *all_wqs;
static DEFINE_SPINLOCK(wq_list_lock);

static bool bug_requeue_elsewhere, bug_late_gen;
param_bool("workqueue.bug_requeue_elsewhere", bug_requeue_elsewhere,
	   "injected bug: a re-queue while running goes to the CPU asked for (wqtorture catches it)");
param_bool("workqueue.bug_late_gen", bug_late_gen,
	   "injected bug: a run records queued_gen when it ends (wqtorture catches the early flush)");

static int worker_thread(void *arg)
{
	struct worker_pool *pool = arg;

	for (;;) {
		struct work_struct *w;
		unsigned long flags;
		u64 gen;

		wait_event(pool->more, READ_ONCE(pool->head) != NULL);
		spin_lock_irqsave(&pool->lock, flags);
		w = pool->head;
		if (!w) {
			spin_unlock_irqrestore(&pool->lock, flags);
			continue;
		}
		pool->head = w->next;
		if (!pool->head)
			pool->tail = &pool->head;
		/* One critical section: this run covers every queueing up to
		 * gen, and a queuer that finds pending clear (release, pairs
		 * with queue_work_on's acquire) then finds us running here. */
		gen = w->queued_gen;
		pool->current_work = w;
		__atomic_and_fetch(&w->pending, ~1UL, __ATOMIC_RELEASE);
		spin_unlock_irqrestore(&pool->lock, flags);

		w->func(w);

		spin_lock_irqsave(&pool->lock, flags);
		if (bug_late_gen)
			gen = w->queued_gen;
		pool->current_work = NULL;
		/* Pairs with the acquire in flush_work's wait condition. */
		if (gen > w->done_gen)
			__atomic_store_n(&w->done_gen, gen, __ATOMIC_RELEASE);
		spin_unlock_irqrestore(&pool->lock, flags);
		wake_up_all(&pool->done);
	}
	return 0;
}

static struct worker_pool *pool_create(const char *wqname, int cpu)
{
	struct worker_pool *pool = kzalloc(sizeof(*pool));

	if (!pool)
		return NULL;
	spin_lock_init(&pool->lock);
	pool->tail = &pool->head;
	pool->cpu = cpu;
	pool->name = wqname;
	init_waitqueue_head(&pool->more);
	init_waitqueue_head(&pool->done);
	if (cpu >= 0)
		pool->worker = kthread_create_on_cpu(worker_thread, pool, (unsigned int)cpu, "kworker/%u");
	else
		pool->worker = kthread_create(worker_thread, pool, "kworker/u");
	if (!pool->worker) {
		kfree(pool);
		return NULL;
	}
	/* A pool made for a CPU that is not online yet works unbound until
	 * workqueue:online binds it. */
	if (cpu >= 0 && !cpu_online((unsigned int)cpu)) {
		pool->disassociated = true;
		set_cpus_allowed_ptr(pool->worker, &cpu_active_mask);
	}
	wake_up_process(pool->worker);
	return pool;
}

/* Append w to pool's list; pool->lock held, the caller owns w's pending bit. */
static void insert_work_locked(struct worker_pool *pool, struct work_struct *w)
{
	w->next = NULL;
	w->pool = pool;
	w->queued_gen++;
	*pool->tail = w;
	pool->tail = &w->next;
}

bool queue_work_on(unsigned int cpu, struct workqueue_struct *wq, struct work_struct *w)
{
	struct worker_pool *pool, *last;
	unsigned long flags;

	/* Acquire: pairs with the worker's release of pending, so that we see
	 * its current_work (and it is ours to insert from here on). */
	if (__atomic_fetch_or(&w->pending, 1UL, __ATOMIC_ACQ_REL) & 1)
		return false; /* already queued */
	if (wq->flags & WQ_UNBOUND)
		pool = wq->unbound;
	else {
		if (cpu >= NR_CPUS || !wq->pools[cpu])
			cpu = 0; /* a CPU that never came up: the boot CPU's pool */
		pool = wq->pools[cpu];
	}
	/* Running on its last pool? Then behind itself, there. w->pool is
	 * only written by the owner of pending, which we are. */
	last = w->pool;
	if (last && last != pool) {
		spin_lock_irqsave(&last->lock, flags);
		if (last->current_work == w && !bug_requeue_elsewhere) {
			insert_work_locked(last, w);
			spin_unlock_irqrestore(&last->lock, flags);
			wake_up(&last->more);
			return true;
		}
		spin_unlock_irqrestore(&last->lock, flags);
		/* Not running there, and it cannot start: nothing is queued. */
	}
	spin_lock_irqsave(&pool->lock, flags);
	insert_work_locked(pool, w);
	spin_unlock_irqrestore(&pool->lock, flags);
	wake_up(&pool->more);
	return true;
}

bool queue_work(struct workqueue_struct *wq, struct work_struct *w)
{
	/* Preemption may move us after reading the CPU: that only changes
	 * which pool gets the item, never whether it runs. */
	return queue_work_on(smp_processor_id(), wq, w);
}

/* Lock w's pool, re-checking that it is still w's pool; NULL if never queued. */
static struct worker_pool *lock_work_pool(struct work_struct *w, unsigned long *flags)
{
	for (;;) {
		struct worker_pool *pool = READ_ONCE(w->pool);

		if (!pool)
			return NULL;
		spin_lock_irqsave(&pool->lock, *flags);
		if (READ_ONCE(w->pool) == pool)
			return pool;
		spin_unlock_irqrestore(&pool->lock, *flags);
	}
}

bool flush_work(struct work_struct *w)
{
	struct worker_pool *pool;
	unsigned long flags;
	u64 gen;

	might_sleep();
	pool = lock_work_pool(w, &flags);
	if (!pool)
		return false;
	/* Under the lock that orders queueings on this pool: gen is the last
	 * queueing before this call, and it runs (or ran) on this pool. */
	gen = w->queued_gen;
	spin_unlock_irqrestore(&pool->lock, flags);
	if (__atomic_load_n(&w->done_gen, __ATOMIC_ACQUIRE) >= gen)
		return false;
	wait_event(pool->done, __atomic_load_n(&w->done_gen, __ATOMIC_ACQUIRE) >= gen);
	return true;
}

/* Take w off pool's list; pool->lock held. True if it was there. */
static bool unlink_work_locked(struct worker_pool *pool, struct work_struct *w)
{
	for (struct work_struct **pp = &pool->head; *pp; pp = &(*pp)->next) {
		if (*pp != w)
			continue;
		*pp = w->next;
		if (pool->tail == &w->next)
			pool->tail = pp;
		w->next = NULL;
		return true;
	}
	return false;
}

bool cancel_work_sync(struct work_struct *w)
{
	struct worker_pool *pool;
	unsigned long flags;
	bool was_pending = false;

	might_sleep();
	/* Own pending: either it was clear (nothing queued) or the item is on
	 * a list we can take it off — or its queuer has not inserted it yet,
	 * then retry. */
	while (__atomic_fetch_or(&w->pending, 1UL, __ATOMIC_ACQ_REL) & 1) {
		pool = lock_work_pool(w, &flags);
		if (pool && unlink_work_locked(pool, w)) {
			spin_unlock_irqrestore(&pool->lock, flags);
			was_pending = true;
			break;
		}
		if (pool)
			spin_unlock_irqrestore(&pool->lock, flags);
		cpu_relax();
	}
	pool = READ_ONCE(w->pool);
	if (pool) {
		/* A running instance runs on w->pool, and no new one can start:
		 * we hold pending. */
		wait_event(pool->done, READ_ONCE(pool->current_work) != w);
		spin_lock_irqsave(&pool->lock, flags);
		/* The cancelled queueing counts as done for its flushers. */
		if (w->queued_gen > w->done_gen)
			__atomic_store_n(&w->done_gen, w->queued_gen, __ATOMIC_RELEASE);
		spin_unlock_irqrestore(&pool->lock, flags);
	}
	__atomic_and_fetch(&w->pending, ~1UL, __ATOMIC_RELEASE);
	if (pool)
		wake_up_all(&pool->done);
	return was_pending;
}

struct workqueue_struct *alloc_workqueue(const char *name, unsigned int flags)
{
	struct workqueue_struct *wq = kzalloc(sizeof(*wq));
	unsigned int cpu;

	if (!wq)
		return NULL;
	wq->name = name;
	wq->flags = flags;
	if (flags & WQ_UNBOUND) {
		wq->unbound = pool_create(name, -1);
		if (!wq->unbound)
			panic("workqueue: cannot create the unbound pool of %s", name);
	} else {
		/* Pools for CPUs already up; workqueue:prepare makes the rest. */
		cpus_read_lock();
		for_each_possible_cpu(cpu)
			if (cpuhp_get_state(cpu) >= CPUHP_WORKQUEUE_PREP)
				wq->pools[cpu] = pool_create(name, (int)cpu);
		cpus_read_unlock();
	}
	spin_lock(&wq_list_lock);
	wq->next = all_wqs;
	all_wqs = wq;
	spin_unlock(&wq_list_lock);
	return wq;
}

/* ---- hotplug -------------------------------------------------------------- */

int workqueue_prepare_cpu(unsigned int cpu)
{
	for (struct workqueue_struct *wq = all_wqs; wq; wq = wq->next) {
		if ((wq->flags & WQ_UNBOUND) || wq->pools[cpu])
			continue;
		wq->pools[cpu] = pool_create(wq->name, (int)cpu);
		if (!wq->pools[cpu])
			return -12; /* ENOMEM; pools made so far stay for next time */
	}
	return 0;
}

int workqueue_online_cpu(unsigned int cpu)
{
	for (struct workqueue_struct *wq = all_wqs; wq; wq = wq->next) {
		struct worker_pool *pool = wq->pools[cpu];

		if (!pool || !pool->disassociated)
			continue;
		pool->disassociated = false;
		if (set_cpus_allowed_ptr(pool->worker, cpumask_of(cpu)))
			printk("workqueue: could not bind kworker/%u to its CPU\n", cpu);
	}
	return 0;
}

int workqueue_offline_cpu(unsigned int cpu)
{
	for (struct workqueue_struct *wq = all_wqs; wq; wq = wq->next) {
		struct worker_pool *pool = wq->pools[cpu];

		if (!pool || pool->disassociated)
			continue;
		pool->disassociated = true;
		/* Leave the CPU before it goes inactive; pending work follows. */
		if (set_cpus_allowed_ptr(pool->worker, &cpu_active_mask))
			printk("workqueue: could not unbind kworker/%u\n", cpu);
	}
	return 0;
}

void workqueue_init(void)
{
	system_wq = alloc_workqueue("events", 0);
	system_unbound_wq = alloc_workqueue("events_unbound", WQ_UNBOUND);
	if (!system_wq || !system_unbound_wq)
		panic("workqueue: cannot create the system workqueues");
}

/* ---- tests ---------------------------------------------------------------- */

struct wq_test_item {
	struct work_struct work;
	int runs;
	int ran_on;
};

static void wq_test_fn(struct work_struct *w)
{
	struct wq_test_item *it = container_of(w, struct wq_test_item, work);

	it->runs++;
	it->ran_on = (int)smp_processor_id();
}

KTEST(workqueue_on_cpu, "workqueue.on_cpu")
{
	static struct wq_test_item items[NR_CPUS];
	unsigned int cpu;

	for_each_online_cpu(cpu) {
		INIT_WORK(&items[cpu].work, wq_test_fn);
		items[cpu].runs = 0;
		KTEST_EXPECT(queue_work_on(cpu, system_wq, &items[cpu].work));
	}
	for_each_online_cpu(cpu) {
		flush_work(&items[cpu].work);
		KTEST_EXPECT_MSG(items[cpu].runs == 1, "CPU %u item ran %d times", cpu, items[cpu].runs);
		KTEST_EXPECT_MSG(items[cpu].ran_on == (int)cpu, "item for CPU %u ran on %d",
				 cpu, items[cpu].ran_on);
	}
}

KTEST(workqueue_pending_once, "workqueue.pending")
{
	static struct wq_test_item it;

	INIT_WORK(&it.work, wq_test_fn);
	preempt_disable();   /* keep the worker from running between the two queues */
	KTEST_EXPECT(queue_work(system_unbound_wq, &it.work));
	bool again = queue_work(system_unbound_wq, &it.work);

	preempt_enable();
	flush_work(&it.work);
	KTEST_EXPECT_MSG(it.runs == (again ? 2 : 1), "ran %d times, second queue %s",
			 it.runs, again ? "accepted" : "refused");
	KTEST_EXPECT(!work_pending(&it.work));
}
