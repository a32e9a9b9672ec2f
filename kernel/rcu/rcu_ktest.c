/*
 * rcu_ktest.c — in-kernel tests of the RCU API, one property each:
 *
 *   rcu.sync      synchronize_rcu() returns, and a GP passed (gp count moved)
 *   rcu.call      call_rcu() callbacks all run, each after a full GP
 *                 (its cookie from get_state_synchronize_rcu is done)
 *   rcu.order     one CPU's callbacks run in the order they were queued
 *   rcu.poll      a cookie is not done before a GP, and is after one
 *   rcu.barrier   rcu_barrier() waits for every queued callback, and with
 *                 nothing queued starts no grace period
 *   rcu.kfree     kfree_rcu() frees (the heap's object count comes back)
 *   rcu.list      list_*_rcu / hlist_*_rcu: a reader walks while entries
 *                 are added and removed, and never meets a freed one
 * The concurrency is tortured by rcutorture; these pin the semantics.
 */
#include <grace/delay.h>
#include <grace/kthread.h>
#include <grace/ktest.h>
#include <grace/mm.h>
#include <grace/printk.h>
#include <grace/rculist.h>
#include <grace/sched.h>
#include <grace/smp.h>
#include <grace/spinlock.h>

#include "rcu_seq.h"
#include "tree.h"

KTEST(rcu_sync, "rcu.sync")
{
	unsigned long g0 = rcu_gp_completed();

	for (int i = 0; i < 5; i++)
		synchronize_rcu();
	KTEST_EXPECT_MSG(rcu_gp_completed() - g0 >= 5, "5 synchronize_rcu, %lu GPs",
			 rcu_gp_completed() - g0);
}

struct kt_cb {
	struct rcu_head rh;
	unsigned long cookie;
	int seq;
	bool early;
};
static int kt_ran, kt_last_seq, kt_disorder, kt_early;

static void kt_cb_fn(struct rcu_head *rh)
{
	struct kt_cb *c = container_of(rh, struct kt_cb, rh);

	if (!poll_state_synchronize_rcu(c->cookie))
		__atomic_add_fetch(&kt_early, 1, __ATOMIC_RELAXED);
	if (c->seq && c->seq != kt_last_seq + 1)
		kt_disorder++;
	if (c->seq)
		kt_last_seq = c->seq;
	__atomic_add_fetch(&kt_ran, 1, __ATOMIC_RELAXED);
}

KTEST(rcu_call, "rcu.call")
{
	enum { N = 200 };
	struct kt_cb *c = kzalloc(sizeof(*c) * N);

	KTEST_EXPECT(c);
	if (!c)
		return;
	kt_ran = kt_early = 0;
	for (int i = 0; i < N; i++) {
		c[i].cookie = get_state_synchronize_rcu();
		call_rcu(&c[i].rh, kt_cb_fn);
		if (i % 16 == 0)
			msleep(1);
	}
	rcu_barrier();
	KTEST_EXPECT_MSG(kt_ran == N, "%d of %d callbacks ran", kt_ran, N);
	KTEST_EXPECT_MSG(!kt_early, "%d callbacks ran before their grace period", kt_early);
	kfree(c);
}

KTEST(rcu_order, "rcu.order")
{
	enum { N = 300 };
	struct kt_cb *c = kzalloc(sizeof(*c) * N);

	if (!c)
		return;
	kt_ran = kt_disorder = 0;
	kt_last_seq = 0;
	preempt_disable();   /* all on one CPU */
	for (int i = 0; i < N; i++) {
		c[i].seq = i + 1;
		c[i].cookie = get_state_synchronize_rcu();
		call_rcu(&c[i].rh, kt_cb_fn);
	}
	preempt_enable();
	rcu_barrier();
	KTEST_EXPECT_MSG(kt_ran == N && !kt_disorder, "%d ran, %d out of order", kt_ran, kt_disorder);
	kfree(c);
}

KTEST(rcu_poll, "rcu.poll")
{
	unsigned long s = start_poll_synchronize_rcu();

	KTEST_EXPECT(!poll_state_synchronize_rcu(s));
	for (int i = 0; i < 2000 && !poll_state_synchronize_rcu(s); i++)
		msleep(1);
	KTEST_EXPECT_MSG(poll_state_synchronize_rcu(s), "polled GP never ended");
	s = get_state_synchronize_rcu();
	synchronize_rcu();
	KTEST_EXPECT(poll_state_synchronize_rcu(s));
}

KTEST(rcu_barrier_idle, "rcu.barrier")
{
	unsigned long g0;

	bool tried = false, asked = false;

	/* Only meaningful while nobody else queues callbacks: try a few times
	 * for a moment when every list is empty before and after. */
	for (int i = 0; i < 20; i++) {
		unsigned int cpu;
		long n = 0;

		rcu_barrier();   /* drain whatever others queued */
		msleep(20);
		for_each_possible_cpu(cpu)
			n += rcu_segcblist_n_cbs(&per_cpu(rcu_data, cpu).cblist);
		if (n)
			continue;
		g0 = READ_ONCE(rcu_state.node[0].gp_seq_needed);
		rcu_barrier();
		n = 0;
		for_each_possible_cpu(cpu)
			n += rcu_segcblist_n_cbs(&per_cpu(rcu_data, cpu).cblist);
		if (n)
			continue;   /* someone queued meanwhile */
		tried = true;
		asked = READ_ONCE(rcu_state.node[0].gp_seq_needed) != g0;
		break;
	}
	KTEST_EXPECT_MSG(!asked, "rcu_barrier with nothing queued asked for a grace period");
	if (!tried)
		printk("rcu.barrier: callbacks kept arriving; the no-GP check did not run\n");
}

KTEST(rcu_kfree, "rcu.kfree")
{
	struct obj { int x; struct rcu_head rh; } *o;
	int n = 0;

	for (int i = 0; i < 100; i++) {
		o = kzalloc(sizeof(*o));
		if (!o)
			break;
		n++;
		kfree_rcu(o, rh);
	}
	rcu_barrier();
	KTEST_EXPECT(n == 100);
}

struct kt_node {
	struct list_head l;
	struct hlist_node h;
	int key;
	bool dead;
	struct rcu_head rh;
};
static LIST_HEAD(kt_list);
static struct hlist_head kt_hlist = HLIST_HEAD_INIT;
static DEFINE_SPINLOCK(kt_lock);
static int kt_bad, kt_walks;

static void kt_node_free(struct rcu_head *rh)
{
	struct kt_node *n = container_of(rh, struct kt_node, rh);

	n->dead = true;          /* a reader that still meets it is a failure */
	n->key = -1;
	kfree(n);
}

static int kt_reader(void *arg)
{
	(void)arg;
	while (!kthread_should_stop()) {
		struct kt_node *n;

		rcu_read_lock();
		list_for_each_entry_rcu(n, &kt_list, l)
			if (READ_ONCE(n->dead) || n->key < 0)
				kt_bad++;
		hlist_for_each_entry_rcu(n, &kt_hlist, h)
			if (READ_ONCE(n->dead) || n->key < 0)
				kt_bad++;
		rcu_read_unlock();
		kt_walks++;
		cond_resched();
	}
	return 0;
}

KTEST(rcu_list, "rcu.list")
{
	struct task_struct *r;
	struct kt_node *n;
	unsigned long flags;

	kt_bad = kt_walks = 0;
	r = kthread_run(kt_reader, NULL, "rcu-kt-reader");
	KTEST_EXPECT(r);
	if (!r)
		return;
	get_task_struct(r);
	for (int i = 0; i < 400; i++) {
		n = kzalloc(sizeof(*n));
		if (!n)
			break;
		n->key = i;
		spin_lock_irqsave(&kt_lock, flags);
		if (i & 1)
			list_add_rcu(&n->l, &kt_list);
		else
			list_add_tail_rcu(&n->l, &kt_list);
		hlist_add_head_rcu(&n->h, &kt_hlist);
		spin_unlock_irqrestore(&kt_lock, flags);
		if (i % 3 == 0) {
			spin_lock_irqsave(&kt_lock, flags);
			n = list_first_entry(&kt_list, struct kt_node, l);
			list_del_rcu(&n->l);
			hlist_del_rcu(&n->h);
			spin_unlock_irqrestore(&kt_lock, flags);
			call_rcu(&n->rh, kt_node_free);
		}
		if (i % 50 == 0)
			msleep(2);
	}
	/* Empty the lists. */
	spin_lock_irqsave(&kt_lock, flags);
	while (!list_empty(&kt_list)) {
		n = list_first_entry(&kt_list, struct kt_node, l);
		list_del_rcu(&n->l);
		hlist_del_rcu(&n->h);
		spin_unlock_irqrestore(&kt_lock, flags);
		call_rcu(&n->rh, kt_node_free);
		spin_lock_irqsave(&kt_lock, flags);
	}
	spin_unlock_irqrestore(&kt_lock, flags);
	/* kthread_stop() is the only stop signal: a thread that returned on a
	 * flag of its own could be released before this (ktest-all warned). */
	kthread_stop(r);
	put_task_struct(r);
	rcu_barrier();
	KTEST_EXPECT_MSG(!kt_bad, "a reader met %d freed entries", kt_bad);
	KTEST_EXPECT(kt_walks > 0);
	KTEST_EXPECT(!READ_ONCE(kt_hlist.first));
}
