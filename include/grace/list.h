/*
 * list.h — circular doubly linked lists with a sentinel head (Linux's list_head).
 *
 *     struct list_head queue = LIST_HEAD_INIT(queue);
 *     list_add_tail(&task->run_list, &queue);
 *     list_for_each_entry(t, &queue, run_list) ...
 *
 * Invariant: for every node n in a list, n->next->prev == n and
 * n->prev->next == n; an empty list is a head pointing at itself. A node
 * removed with list_del_init() points at itself again, so list_empty() on
 * the node tells whether it is on a list. No locking: the owner of the list
 * says which lock protects it.
 *
 * One lockless pattern is allowed: list_del_init_careful() by a lock holder
 * paired with list_empty_careful() by the node's owner, who does not hold the
 * lock (finish_wait() against autoremove_wake_function()). The delete writes
 * the node's next *last*, with release; a reader that acquires next == node
 * (and sees prev == node too) knows the deleter will not touch the node
 * again, so it may free or reuse the node's memory at once. Test: ktest
 * "wait.stack".
 */
#ifndef GRACE_LIST_H
#define GRACE_LIST_H

#include <asm/barrier.h>
#include <grace/compiler.h>
#include <grace/types.h>

struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD_INIT(name) { &(name), &(name) }
#define LIST_HEAD(name) struct list_head name = LIST_HEAD_INIT(name)

static inline void INIT_LIST_HEAD(struct list_head *h)
{
	h->next = h;
	h->prev = h;
}

static inline void __list_add(struct list_head *n, struct list_head *prev, struct list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}

/* Insert after the head (stack order). */
static inline void list_add(struct list_head *n, struct list_head *head)
{
	__list_add(n, head, head->next);
}

/* Insert before the head (queue order). */
static inline void list_add_tail(struct list_head *n, struct list_head *head)
{
	__list_add(n, head->prev, head);
}

static inline void list_del_init(struct list_head *e)
{
	e->next->prev = e->prev;
	e->prev->next = e->next;
	INIT_LIST_HEAD(e);
}

static inline bool list_empty(const struct list_head *h)
{
	return READ_ONCE(h->next) == h;
}

/*
 * Unlink and re-initialise e so that a lockless list_empty_careful() on e
 * sees it empty only when this function is done with e: prev first, then
 * next with release (pairs with the acquire in list_empty_careful()). The
 * caller holds the list's lock.
 */
static inline void list_del_init_careful(struct list_head *e)
{
	e->next->prev = e->prev;
	e->prev->next = e->next;
	WRITE_ONCE(e->prev, e);
	smp_store_release(&e->next, e);
}

/*
 * Is e unlinked and done with, without the list's lock? Only against
 * list_del_init_careful(): acquire next (pairs with its release), then check
 * prev as well, so that a half-done INIT_LIST_HEAD() does not count.
 */
static inline bool list_empty_careful(const struct list_head *e)
{
	struct list_head *next = smp_load_acquire(&e->next);

	return next == e && next == READ_ONCE(e->prev);
}

static inline void list_move_tail(struct list_head *e, struct list_head *head)
{
	list_del_init(e);
	list_add_tail(e, head);
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_first_entry(head, type, member) list_entry((head)->next, type, member)

#define list_for_each_entry(pos, head, member) \
	for (pos = list_entry((head)->next, __typeof__(*pos), member); \
	     &pos->member != (head); \
	     pos = list_entry(pos->member.next, __typeof__(*pos), member))

/* Safe against removal of `pos` inside the loop body. */
#define list_for_each_entry_safe(pos, n, head, member) \
	for (pos = list_entry((head)->next, __typeof__(*pos), member), \
	     n = list_entry(pos->member.next, __typeof__(*pos), member); \
	     &pos->member != (head); \
	     pos = n, n = list_entry(n->member.next, __typeof__(*n), member))

#endif
