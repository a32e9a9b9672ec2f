/*
 * rculist.h — lists that readers walk under rcu_read_lock() while one
 * updater (holding the list's lock) adds and removes entries.
 *
 *   reader:  rcu_read_lock();
 *            list_for_each_entry_rcu(p, &head, node) use(p);
 *            rcu_read_unlock();
 *   updater: spin_lock(&l); list_add_rcu(&p->node, &head); spin_unlock(&l);
 *            spin_lock(&l); list_del_rcu(&p->node); spin_unlock(&l);
 *            kfree_rcu(p, rcu);      (not kfree: a reader may be on p)
 *
 * Insertion publishes the new node's pointers before linking it
 * (rcu_assign_pointer); deletion unlinks the node but leaves its ->next
 * intact, so a reader standing on it walks on into the list. Readers only
 * follow ->next; ->prev is for the updater. hlist is the same with a
 * single-pointer head (hash tables).
 * Test: ktest rcu.list (kernel/rcu/rcu_ktest.c), rcutorture's reader list.
 */
#ifndef GRACE_RCULIST_H
#define GRACE_RCULIST_H

#include <grace/list.h>
#include <grace/rcupdate.h>

#define LIST_POISON2 ((struct list_head *)0xdead000000000122UL)

static inline void list_add_rcu(struct list_head *n, struct list_head *head)
{
	struct list_head *next = head->next;

	n->next = next;
	n->prev = head;
	rcu_assign_pointer(head->next, n);   /* readers may now reach n */
	next->prev = n;
}

static inline void list_add_tail_rcu(struct list_head *n, struct list_head *head)
{
	struct list_head *prev = head->prev;

	n->next = head;
	n->prev = prev;
	rcu_assign_pointer(prev->next, n);
	head->prev = n;
}

/* Unlink; e->next stays valid for readers already on e. Free after a GP. */
static inline void list_del_rcu(struct list_head *e)
{
	e->next->prev = e->prev;
	WRITE_ONCE(e->prev->next, e->next);
	e->prev = LIST_POISON2;
}

#define list_entry_rcu(ptr, type, member) container_of(READ_ONCE(ptr), type, member)

#define list_for_each_entry_rcu(pos, head, member) \
	for (pos = list_entry_rcu((head)->next, __typeof__(*pos), member); \
	     &pos->member != (head); \
	     pos = list_entry_rcu(pos->member.next, __typeof__(*pos), member))

/* ---- hlist ---- */

struct hlist_node {
	struct hlist_node *next, **pprev;
};
struct hlist_head {
	struct hlist_node *first;
};
#define HLIST_HEAD_INIT { .first = NULL }

static inline void INIT_HLIST_NODE(struct hlist_node *n)
{
	n->next = NULL;
	n->pprev = NULL;
}

static inline bool hlist_unhashed(const struct hlist_node *n)
{
	return !n->pprev;
}

static inline void hlist_add_head_rcu(struct hlist_node *n, struct hlist_head *h)
{
	struct hlist_node *first = h->first;

	n->next = first;
	n->pprev = &h->first;
	rcu_assign_pointer(h->first, n);
	if (first)
		first->pprev = &n->next;
}

static inline void hlist_del_rcu(struct hlist_node *n)
{
	struct hlist_node *next = n->next;

	WRITE_ONCE(*n->pprev, next);
	if (next)
		next->pprev = n->pprev;
	n->pprev = NULL;    /* unhashed; n->next kept for readers */
}

#define hlist_entry_safe(ptr, type, member) ({ \
	__typeof__(ptr) ____p = (ptr); \
	____p ? container_of(____p, type, member) : NULL; })

#define hlist_for_each_entry_rcu(pos, head, member) \
	for (pos = hlist_entry_safe(READ_ONCE((head)->first), __typeof__(*(pos)), member); \
	     pos; \
	     pos = hlist_entry_safe(READ_ONCE((pos)->member.next), __typeof__(*(pos)), member))

#endif
