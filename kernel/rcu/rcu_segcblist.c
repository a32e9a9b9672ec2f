/*
 * rcu_segcblist.c — the segmented callback list (see rcu_segcblist.h for
 * the picture and the invariants).
 *
 * Everything here is pointer surgery on one list. The moves, in segment
 * terms:
 *
 *   enqueue      NEXT grows at the tail
 *   advance      WAIT (and NEXT_READY) whose gp_seq has been reached join
 *                DONE; what is left slides down so WAIT is the earliest
 *   accelerate   NEXT gets a grace-period number; it joins WAIT/NEXT_READY
 *                if one of them already waits for that same (or a later)
 *                number, else takes the first free segment
 *   entrain      one callback behind the last one, in its segment
 *   extract/insert  DONE for invocation in batches; the pending part for
 *                migration (merge)
 *
 * Pure logic, compiled into the host unit test as it is.
 * Test: tests/unit/test_rcu_segcblist.c.
 */
#include "rcu_segcblist.h"
#include "rcu_seq.h"

const char *const rcu_segcblist_seg_names[RCU_CBLIST_NSEGS] = {
	"DONE", "WAIT", "NEXT_READY", "NEXT",
};

void rcu_cblist_init(struct rcu_cblist *l)
{
	l->head = NULL;
	l->tail = &l->head;
	l->len = 0;
}

struct rcu_head *rcu_cblist_dequeue(struct rcu_cblist *l)
{
	struct rcu_head *rhp = l->head;

	if (!rhp)
		return NULL;
	l->len--;
	l->head = rhp->next;
	if (!l->head)
		l->tail = &l->head;
	return rhp;
}

void rcu_segcblist_init(struct rcu_segcblist *s)
{
	s->head = NULL;
	s->len = 0;
	for (int i = 0; i < RCU_CBLIST_NSEGS; i++) {
		s->tails[i] = &s->head;
		s->gp_seq[i] = 0;
		s->seglen[i] = 0;
	}
}

/* The tail that ends the segment before `seg` (&head for DONE). */
static struct rcu_head **seg_start(const struct rcu_segcblist *s, int seg)
{
	return seg == RCU_DONE_TAIL ? (struct rcu_head **)&s->head : s->tails[seg - 1];
}

bool rcu_segcblist_segempty(const struct rcu_segcblist *s, int seg)
{
	return s->tails[seg] == seg_start(s, seg);
}

bool rcu_segcblist_ready_cbs(const struct rcu_segcblist *s)
{
	return !rcu_segcblist_segempty(s, RCU_DONE_TAIL);
}

bool rcu_segcblist_pend_cbs(const struct rcu_segcblist *s)
{
	return s->tails[RCU_DONE_TAIL] != s->tails[RCU_NEXT_TAIL];
}

bool rcu_segcblist_next_pend(const struct rcu_segcblist *s)
{
	return !rcu_segcblist_segempty(s, RCU_NEXT_TAIL);
}

void rcu_segcblist_enqueue(struct rcu_segcblist *s, struct rcu_head *rhp)
{
	rhp->next = NULL;
	*s->tails[RCU_NEXT_TAIL] = rhp;
	s->tails[RCU_NEXT_TAIL] = &rhp->next;
	s->len++;
	s->seglen[RCU_NEXT_TAIL]++;
}

bool rcu_segcblist_entrain(struct rcu_segcblist *s, struct rcu_head *rhp)
{
	int seg = RCU_NEXT_TAIL;

	if (!s->len)
		return false;
	while (seg > RCU_DONE_TAIL && rcu_segcblist_segempty(s, seg))
		seg--;
	/* Every segment after `seg` is empty: its tail is seg's tail, and the
	 * new callback becomes the end of all of them. */
	rhp->next = NULL;
	*s->tails[seg] = rhp;
	for (int i = seg; i < RCU_CBLIST_NSEGS; i++)
		s->tails[i] = &rhp->next;
	s->len++;
	s->seglen[seg]++;
	return true;
}

/* Fold segment `from` into the (adjacent, earlier) segment `into`. */
static void seg_fold(struct rcu_segcblist *s, int into, int from)
{
	s->tails[into] = s->tails[from];
	s->seglen[into] += s->seglen[from];
	s->seglen[from] = 0;
}

/* >>> LAB tree-rcu:segcblist (docs/labs/tree-rcu/README.md) */
void rcu_segcblist_advance(struct rcu_segcblist *s, unsigned long seq)
{
	/* WAIT, then NEXT_READY, join DONE while their grace period is over
	 * (the empty ones pass trivially). A segment emptied this way keeps
	 * its place: its tail becomes DONE's. */
	for (int seg = RCU_WAIT_TAIL; seg < RCU_NEXT_TAIL; seg++) {
		if (!rcu_segcblist_segempty(s, seg) && !rcu_seq_done_val(seq, s->gp_seq[seg]))
			break;
		seg_fold(s, RCU_DONE_TAIL, seg);
		for (int i = RCU_WAIT_TAIL; i <= seg; i++)
			s->tails[i] = s->tails[RCU_DONE_TAIL];
	}
	/* Keep the earliest waiting callbacks in WAIT. */
	if (rcu_segcblist_segempty(s, RCU_WAIT_TAIL) &&
	    !rcu_segcblist_segempty(s, RCU_NEXT_READY_TAIL)) {
		s->gp_seq[RCU_WAIT_TAIL] = s->gp_seq[RCU_NEXT_READY_TAIL];
		seg_fold(s, RCU_WAIT_TAIL, RCU_NEXT_READY_TAIL);
	}
}

bool rcu_segcblist_accelerate(struct rcu_segcblist *s, unsigned long seq)
{
	int seg;

	if (!rcu_segcblist_pend_cbs(s))
		return false;
	/* The last waiting segment that needs an EARLIER grace period than
	 * `seq` must stay as it is; everything after it can wait for `seq`. */
	for (seg = RCU_NEXT_READY_TAIL; seg > RCU_DONE_TAIL; seg--)
		if (!rcu_segcblist_segempty(s, seg) && ULONG_CMP_LT(s->gp_seq[seg], seq))
			break;
	if (seg + 1 >= RCU_NEXT_TAIL)
		return false;   /* WAIT and NEXT_READY both busy with earlier GPs */
	if (s->tails[seg] == s->tails[RCU_NEXT_TAIL])
		return false;   /* nothing after it */
	/* Segments seg+1 .. NEXT become one segment seg+1 waiting for `seq`;
	 * the ones after it are empty. */
	for (int i = seg + 2; i < RCU_CBLIST_NSEGS; i++)
		seg_fold(s, seg + 1, i);
	for (int i = seg + 2; i < RCU_CBLIST_NSEGS; i++)
		s->tails[i] = s->tails[seg + 1];
	s->gp_seq[seg + 1] = seq;
	if (seg + 1 < RCU_NEXT_READY_TAIL)
		s->gp_seq[RCU_NEXT_READY_TAIL] = seq;
	return true;
}
/* <<< LAB tree-rcu:segcblist */

void rcu_segcblist_extract_done_cbs(struct rcu_segcblist *s, struct rcu_cblist *l)
{
	struct rcu_head **done_tail = s->tails[RCU_DONE_TAIL];

	rcu_cblist_init(l);
	if (done_tail == &s->head)
		return;
	l->head = s->head;
	l->tail = done_tail;
	l->len = s->seglen[RCU_DONE_TAIL];
	s->head = *done_tail;
	*done_tail = NULL;
	for (int i = 0; i < RCU_CBLIST_NSEGS; i++)
		if (s->tails[i] == done_tail)
			s->tails[i] = &s->head;
	s->len -= l->len;
	s->seglen[RCU_DONE_TAIL] = 0;
}

void rcu_segcblist_insert_done_cbs(struct rcu_segcblist *s, struct rcu_cblist *l)
{
	if (!l->head)
		return;
	*l->tail = s->head;
	s->head = l->head;
	/* Segments that were empty at the front now end where l ends. */
	for (int i = 0; i < RCU_CBLIST_NSEGS && s->tails[i] == &s->head; i++)
		s->tails[i] = l->tail;
	s->len += l->len;
	s->seglen[RCU_DONE_TAIL] += l->len;
	rcu_cblist_init(l);
}

void rcu_segcblist_extract_pend_cbs(struct rcu_segcblist *s, struct rcu_cblist *l)
{
	struct rcu_head **done_tail = s->tails[RCU_DONE_TAIL];

	rcu_cblist_init(l);
	if (!rcu_segcblist_pend_cbs(s))
		return;
	l->head = *done_tail;
	l->tail = s->tails[RCU_NEXT_TAIL];
	*done_tail = NULL;
	for (int i = RCU_WAIT_TAIL; i < RCU_CBLIST_NSEGS; i++) {
		l->len += s->seglen[i];
		s->seglen[i] = 0;
		s->tails[i] = done_tail;
	}
	s->len -= l->len;
}

void rcu_segcblist_insert_pend_cbs(struct rcu_segcblist *s, struct rcu_cblist *l)
{
	if (!l->head)
		return;
	*s->tails[RCU_NEXT_TAIL] = l->head;
	s->tails[RCU_NEXT_TAIL] = l->tail;
	s->len += l->len;
	s->seglen[RCU_NEXT_TAIL] += l->len;
	rcu_cblist_init(l);
}

void rcu_segcblist_merge(struct rcu_segcblist *dst, struct rcu_segcblist *src)
{
	struct rcu_cblist done, pend;

	rcu_segcblist_extract_done_cbs(src, &done);
	rcu_segcblist_extract_pend_cbs(src, &pend);
	rcu_segcblist_insert_done_cbs(dst, &done);
	rcu_segcblist_insert_pend_cbs(dst, &pend);
	rcu_segcblist_init(src);
}

const char *rcu_segcblist_check(const struct rcu_segcblist *s)
{
	struct rcu_head *const *p = &s->head;
	long n = 0, total = 0;
	int seg = 0;

	/* Walk the list once, meeting each tail where its segment ends. */
	for (;;) {
		while (seg < RCU_CBLIST_NSEGS && s->tails[seg] == p) {
			if (s->seglen[seg] != n)
				return "a segment's length is wrong";
			total += n;
			n = 0;
			seg++;
		}
		if (!*p)
			break;
		if (seg == RCU_CBLIST_NSEGS)
			return "callbacks after the NEXT tail";
		n++;
		p = &(*p)->next;
		if (n > (1L << 40))
			return "the list loops";
	}
	if (seg != RCU_CBLIST_NSEGS)
		return "a tail is not on the list (or out of order)";
	if (total != s->len)
		return "len does not match the nodes";
	if (!rcu_segcblist_segempty(s, RCU_WAIT_TAIL) &&
	    !rcu_segcblist_segempty(s, RCU_NEXT_READY_TAIL) &&
	    !ULONG_CMP_LT(s->gp_seq[RCU_WAIT_TAIL], s->gp_seq[RCU_NEXT_READY_TAIL]))
		return "WAIT does not precede NEXT_READY";
	return NULL;
}
