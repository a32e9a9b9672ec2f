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
 * Hotplug (CPUHP_AP_WORKQUEUE_ONLINE, on the CPU's hotplug thread):
 *   teardown: the pool is marked unbound ("disassociated") and its worker's
 *             affinity widened to every active CPU, so whatever is pending —
 *             and anything queued for the offline CPU meanwhile — still runs,
 *             exactly once, elsewhere;
 *   startup:  the worker is bound to its CPU again.
 * CPUHP_WORKQUEUE_PREP (PREPARE) creates the pool's worker for a new CPU the
 * first time it comes up.
 *
 * Invariants: `pending` bit set ⇔ the item is on exactly one pool list;
 * done_gen only grows and never passes queued_gen.
 * Test: ktest "workqueue.*"; the hotplug torture counts every item's runs.
 */
#include <grace/cpuhotplug.h>
#include <grace/ktest.h>
#include <grace/kthread.h>
#include <grace/mm.h>
#include <grace/panic.h>
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

static int worker_thread(void *arg)
{
	struct worker_pool *pool = arg;

	for (;;) {
		struct work_struct *w;
		unsigned long flags;

		wait_event(pool->more, READ_ONCE(pool->head) != NULL);
		spin_lock_irqsave(&pool->lock, flags);
		w = pool->head;
		if (w) {
			pool->head = w->next;
			if (!pool->head)
				pool->tail = &pool->head;
			/* From here it may be queued again (Linux semantics). */
			__atomic_and_fetch(&w->pending, ~1UL, __ATOMIC_RELEASE);
		}
		u64 gen = w ? w->queued_gen : 0;

		spin_unlock_irqrestore(&pool->lock, flags);
		if (!w)
			continue;
		w->func(w);
		/* Pairs with the acquire in flush_work's wait condition. */
		__atomic_store_n(&w->done_gen, gen, __ATOMIC_RELEASE);
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

static void insert_work(struct worker_pool *pool, struct work_struct *w)
{
	unsigned long flags;

	spin_lock_irqsave(&pool->lock, flags);
	w->next = NULL;
	w->pool = pool;
	w->queued_gen++;
	*pool->tail = w;
	pool->tail = &w->next;
	spin_unlock_irqrestore(&pool->lock, flags);
	wake_up(&pool->more);
}

bool queue_work_on(unsigned int cpu, struct workqueue_struct *wq, struct work_struct *w)
{
	struct worker_pool *pool;

	if (__atomic_fetch_or(&w->pending, 1UL, __ATOMIC_ACQ_REL) & 1)
		return false; /* already queued */
	if (wq->flags & WQ_UNBOUND)
		pool = wq->unbound;
	else {
		if (cpu >= NR_CPUS || !wq->pools[cpu])
			cpu = 0; /* a CPU that never came up: the boot CPU's pool */
		pool = wq->pools[cpu];
	}
	insert_work(pool, w);
	return true;
}

bool queue_work(struct workqueue_struct *wq, struct work_struct *w)
{
	/* Preemption may move us after reading the CPU: that only changes
	 * which pool gets the item, never whether it runs. */
	return queue_work_on(smp_processor_id(), wq, w);
}

bool flush_work(struct work_struct *w)
{
	struct worker_pool *pool = READ_ONCE(w->pool);
	u64 gen;

	if (!pool)
		return false;
	gen = READ_ONCE(w->queued_gen);
	if (__atomic_load_n(&w->done_gen, __ATOMIC_ACQUIRE) >= gen)
		return false;
	wait_event(pool->done, __atomic_load_n(&w->done_gen, __ATOMIC_ACQUIRE) >= gen);
	return true;
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
