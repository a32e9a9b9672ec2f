/*
 * rcu_segcblist.h — a CPU's RCU callbacks: one singly linked list cut into
 * four segments by tail pointers, each segment tagged with the grace period
 * its callbacks wait for.
 *
 *   head ─▶ [a]─▶[b] ─▶ [c] ─▶ [d]─▶[e] ─▶ [f] ─▶ NULL
 *          └─DONE──┘   └WAIT┘  └NEXT_READY┘  └NEXT┘
 *                      gp_seq   gp_seq        (no number yet)
 *   tails[DONE] = &b->next, tails[WAIT] = &c->next, tails[NEXT_READY] =
 *   &e->next, tails[NEXT] = &f->next. An empty segment's tail equals the
 *   tail before it (or &head).
 *
 *   DONE        its grace period has ended: invoke, in order.
 *   WAIT        waiting for gp_seq[WAIT] (normally the running GP).
 *   NEXT_READY  waiting for gp_seq[NEXT_READY] (normally the one after).
 *   NEXT        just queued; no grace period assigned yet.
 *
 * Invariants (checked by rcu_segcblist_check(), used by the unit test):
 *  - following next from head meets the tails in order DONE..NEXT, the
 *    last one's target is NULL, and len / seglen[] count the nodes;
 *  - gp_seq[WAIT] precedes gp_seq[NEXT_READY] when both are non-empty;
 *  - callbacks leave only from the head (DONE), so each CPU invokes its
 *    callbacks in the order they were queued — what rcu_barrier() needs.
 *
 * Pure data structure: no locking, no memory barriers. The owner (tree.c)
 * touches a CPU's list only on that CPU with interrupts off, or, once the
 * CPU is dead, on the control CPU under the barrier lock.
 * Test: tests/unit/test_rcu_segcblist.c.
 */
#ifndef GRACE_RCU_SEGCBLIST_H
#define GRACE_RCU_SEGCBLIST_H

#include <grace/rcupdate.h>
#include <grace/types.h>

enum {
	RCU_DONE_TAIL,
	RCU_WAIT_TAIL,
	RCU_NEXT_READY_TAIL,
	RCU_NEXT_TAIL,
	RCU_CBLIST_NSEGS,
};

struct rcu_segcblist {
	struct rcu_head *head;
	struct rcu_head **tails[RCU_CBLIST_NSEGS];
	unsigned long gp_seq[RCU_CBLIST_NSEGS];
	long len;
	long seglen[RCU_CBLIST_NSEGS];
};

/* A plain list of callbacks taken out of (or going into) a segmented one. */
struct rcu_cblist {
	struct rcu_head *head;
	struct rcu_head **tail;
	long len;
};

extern const char *const rcu_segcblist_seg_names[RCU_CBLIST_NSEGS];

void rcu_cblist_init(struct rcu_cblist *l);
struct rcu_head *rcu_cblist_dequeue(struct rcu_cblist *l);

void rcu_segcblist_init(struct rcu_segcblist *s);
static inline long rcu_segcblist_n_cbs(const struct rcu_segcblist *s) { return s->len; }
static inline bool rcu_segcblist_empty(const struct rcu_segcblist *s) { return !s->head; }
bool rcu_segcblist_segempty(const struct rcu_segcblist *s, int seg);
bool rcu_segcblist_ready_cbs(const struct rcu_segcblist *s);     /* DONE non-empty */
bool rcu_segcblist_pend_cbs(const struct rcu_segcblist *s);      /* anything after DONE */
bool rcu_segcblist_next_pend(const struct rcu_segcblist *s);     /* NEXT non-empty */

/* Queue at the tail of NEXT. */
void rcu_segcblist_enqueue(struct rcu_segcblist *s, struct rcu_head *rhp);
/* Append behind the last callback, in that callback's segment, so it waits
 * for nothing more than the list already waits for (rcu_barrier). False
 * (and nothing queued) when the list is empty. */
bool rcu_segcblist_entrain(struct rcu_segcblist *s, struct rcu_head *rhp);
/* Move every segment whose grace period `seq` has reached to DONE. */
void rcu_segcblist_advance(struct rcu_segcblist *s, unsigned long seq);
/* Give NEXT (and any later-waiting segment) grace period `seq`, merging
 * where possible; true if some callbacks now wait for `seq` (request it). */
bool rcu_segcblist_accelerate(struct rcu_segcblist *s, unsigned long seq);
/* Take DONE out / put callbacks back at the head of DONE. */
void rcu_segcblist_extract_done_cbs(struct rcu_segcblist *s, struct rcu_cblist *l);
void rcu_segcblist_insert_done_cbs(struct rcu_segcblist *s, struct rcu_cblist *l);
/* Take everything after DONE out / append it to NEXT. */
void rcu_segcblist_extract_pend_cbs(struct rcu_segcblist *s, struct rcu_cblist *l);
void rcu_segcblist_insert_pend_cbs(struct rcu_segcblist *s, struct rcu_cblist *l);
/* All of src into dst (src's DONE first in dst's DONE, the rest into dst's
 * NEXT, to be accelerated by the caller); src ends empty. */
void rcu_segcblist_merge(struct rcu_segcblist *dst, struct rcu_segcblist *src);
/* Check every invariant; NULL when fine, else what is wrong. */
const char *rcu_segcblist_check(const struct rcu_segcblist *s);

#endif
