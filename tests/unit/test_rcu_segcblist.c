// UNIT_SOURCES: kernel/rcu/rcu_segcblist.c
// UNIT_CFLAGS: -Ikernel/rcu
/*
 * test_rcu_segcblist.c — the kernel's segmented callback list, driven by a
 * fake grace-period counter (started just below the wrap-around) and
 * checked against what RCU promises:
 *
 *  - safety: a callback is invoked only once the grace period it needed
 *    when it was queued (the cookie rcu_seq_snap gave then) has ended;
 *  - order: each CPU's callbacks come out in the order they went in, also
 *    after a merge (migration) and with an entrained barrier callback,
 *    which comes out after every callback queued before it;
 *  - liveness: enough grace periods drain everything;
 *  - structure: rcu_segcblist_check() after every operation.
 * Plus directed cases for each operation. The same scenario is also run
 * with rcu_bug_seq_cmp on, which must break safety across the wrap.
 */
#include "host_shim.h"
#include <stdlib.h>
#include <string.h>
#include "rcu_segcblist.h"
#include "rcu_seq.h"

bool rcu_bug_seq_cmp;

struct cb {
	struct rcu_head h;
	int origin;            /* which list it was queued on */
	long id;               /* per-origin sequence number */
	unsigned long need;    /* cookie at enqueue time */
	bool invoked, barrier;
};

#define NCB 20000
static struct cb cbs[NCB];
static int ncb;
static unsigned long gp;          /* the fake rcu_state.gp_seq */
static long last_id[8192];   /* per origin (a list in one epoch) */
static int unsafe, disorder;

static void check_list(const struct rcu_segcblist *s, const char *where)
{
	const char *why = rcu_segcblist_check(s);

	CHECK_MSG(!why, "%s: %s", where, why ? why : "");
}

static void invoke(struct cb *c)
{
	CHECK(!c->invoked);
	c->invoked = true;
	if (!rcu_seq_done_val(gp, c->need) || !ULONG_CMP_GE(gp, c->need))
		unsafe++;
	if (!c->barrier) {
		if (c->id <= last_id[c->origin] && !disorder++)
			printf("first disorder: origin %d id %ld after %ld\n", c->origin, c->id,
			       last_id[c->origin]);
		last_id[c->origin] = c->id;
	}
}

/* Invoke up to `limit` DONE callbacks, put the rest back. */
static void do_batch(struct rcu_segcblist *s, long limit)
{
	struct rcu_cblist l;
	struct rcu_head *h;

	rcu_segcblist_extract_done_cbs(s, &l);
	check_list(s, "after extract_done");
	while (limit-- > 0 && (h = rcu_cblist_dequeue(&l)))
		invoke(container_of(h, struct cb, h));
	rcu_segcblist_insert_done_cbs(s, &l);
	check_list(s, "after insert_done");
}

static struct cb *new_cb(int origin, long id)
{
	struct cb *c = &cbs[ncb++];

	memset(c, 0, sizeof(*c));
	c->origin = origin;
	c->id = id;
	c->need = rcu_seq_snap_val(gp);
	return c;
}

static void gp_step(void)
{
	if (rcu_seq_state(gp))
		rcu_seq_end(&gp);
	else
		rcu_seq_start(&gp);
}

/* The kernel's per-tick sequence: advance to what has ended, give the new
 * callbacks a number, invoke a batch. */
static void core(struct rcu_segcblist *s, long limit)
{
	rcu_segcblist_advance(s, gp);
	check_list(s, "after advance");
	rcu_segcblist_accelerate(s, rcu_seq_snap_val(gp));
	check_list(s, "after accelerate");
	do_batch(s, limit);
}

static int random_run(unsigned int seed, bool bug)
{
	struct rcu_segcblist a, b;
	long ids[8192] = { 0 };
	int ob = 1;            /* b's origin: a fresh one after each merge */
	struct cb *barrier = NULL;
	long before_barrier = -1;

	srand(seed);
	rcu_bug_seq_cmp = bug;
	ncb = 0;
	unsafe = disorder = 0;
	for (int i = 0; i < 8192; i++)
		last_id[i] = -1;
	gp = rcu_seq_from_ctr((unsigned long)-300);  /* 150 GPs to the wrap */
	rcu_segcblist_init(&a);
	rcu_segcblist_init(&b);
	while (ncb < NCB - 10) {
		int r = rand() % 100;

		if (r < 40) {
			struct rcu_segcblist *s = (r & 1) ? &b : &a;
			int o = (r & 1) ? ob : 0;

			rcu_segcblist_enqueue(s, &new_cb(o, ids[o]++)->h);
			check_list(s, "after enqueue");
		} else if (r < 55) {
			gp_step();
		} else if (r < 75) {
			core(&a, rand() % 5);
		} else if (r < 90) {
			core(&b, rand() % 5);
		} else if (r < 92) {
			/* Migration: b's CPU died; a adopts everything. Order per
			 * origin is preserved, so last_id checks still hold. */
			rcu_segcblist_merge(&a, &b);
			check_list(&a, "after merge (dst)");
			check_list(&b, "after merge (src)");
			CHECK(rcu_segcblist_empty(&b) && rcu_segcblist_n_cbs(&b) == 0);
			rcu_segcblist_accelerate(&a, rcu_seq_snap_val(gp));
			check_list(&a, "after merge+accelerate");
			if (ob < 8191)
				ob++;
		} else if (r < 94 && !barrier) {
			/* rcu_barrier: entrain behind a's last callback. */
			struct cb *c = new_cb(0, 0);

			c->barrier = true;
			c->need = gp;   /* needs nothing beyond the list */
			if (rcu_segcblist_entrain(&a, &c->h)) {
				barrier = c;
				before_barrier = ids[0] - 1;
			} else {
				CHECK(rcu_segcblist_n_cbs(&a) == 0);
				c->invoked = true;   /* nothing to wait for */
			}
			check_list(&a, "after entrain");
		}
		if (barrier && barrier->invoked) {
			/* Everything a had queued before the barrier went first. */
			CHECK_MSG(last_id[0] >= before_barrier, "barrier before %ld (last %ld)",
				  before_barrier, last_id[0]);
			barrier = NULL;
		}
	}
	/* Liveness: a few grace periods drain both lists. */
	for (int i = 0; i < 12; i++) {
		gp_step();
		core(&a, 1 << 30);
		core(&b, 1 << 30);
	}
	rcu_bug_seq_cmp = false;
	if (!bug) {
		CHECK(rcu_segcblist_empty(&a) && rcu_segcblist_empty(&b));
		for (int i = 0; i < ncb; i++)
			CHECK_MSG(cbs[i].invoked, "callback %d never invoked", i);
		CHECK_MSG(!unsafe, "%d callbacks invoked before their grace period", unsafe);
		CHECK_MSG(!disorder, "%d callbacks out of order", disorder);
		CHECK(ULONG_CMP_LT(rcu_seq_from_ctr(1), gp));  /* we did cross the wrap */
	}
	return unsafe;
}

static void directed(void)
{
	struct rcu_segcblist s;
	struct cb x[6];

	memset(x, 0, sizeof(x));
	rcu_segcblist_init(&s);
	gp = 0;
	CHECK(!rcu_segcblist_entrain(&s, &x[5].h));
	rcu_segcblist_enqueue(&s, &x[0].h);
	rcu_segcblist_enqueue(&s, &x[1].h);
	CHECK(rcu_segcblist_n_cbs(&s) == 2 && rcu_segcblist_next_pend(&s));
	/* Idle counter 0: they need GP 1 to end (4). */
	CHECK(rcu_segcblist_accelerate(&s, rcu_seq_snap_val(gp)));
	CHECK(s.gp_seq[RCU_WAIT_TAIL] == 4 && s.seglen[RCU_WAIT_TAIL] == 2);
	rcu_seq_start(&gp);   /* 1: GP 1 running */
	rcu_segcblist_enqueue(&s, &x[2].h);
	/* Queued during GP 1: needs GP 2 (8): NEXT_READY. */
	CHECK(rcu_segcblist_accelerate(&s, rcu_seq_snap_val(gp)));
	CHECK(s.gp_seq[RCU_NEXT_READY_TAIL] == 8 && s.seglen[RCU_NEXT_READY_TAIL] == 1);
	rcu_segcblist_enqueue(&s, &x[3].h);
	/* Same need as NEXT_READY: joins it. */
	CHECK(rcu_segcblist_accelerate(&s, rcu_seq_snap_val(gp)));
	CHECK(s.seglen[RCU_NEXT_READY_TAIL] == 2 && s.seglen[RCU_NEXT_TAIL] == 0);
	rcu_segcblist_advance(&s, gp);
	CHECK(!rcu_segcblist_ready_cbs(&s));
	rcu_seq_end(&gp);     /* 4 */
	rcu_segcblist_advance(&s, gp);
	CHECK(s.seglen[RCU_DONE_TAIL] == 2 && s.seglen[RCU_WAIT_TAIL] == 2);
	CHECK(s.gp_seq[RCU_WAIT_TAIL] == 8);   /* NEXT_READY slid into WAIT */
	/* Entrain lands behind x[3], in WAIT. */
	CHECK(rcu_segcblist_entrain(&s, &x[5].h));
	CHECK(s.seglen[RCU_WAIT_TAIL] == 3 && *s.tails[RCU_WAIT_TAIL] == NULL);
	CHECK(!rcu_segcblist_check(&s));
	/* Extract DONE, put one back. */
	struct rcu_cblist l;

	rcu_segcblist_extract_done_cbs(&s, &l);
	CHECK(l.len == 2 && l.head == &x[0].h && rcu_segcblist_n_cbs(&s) == 3);
	CHECK(rcu_cblist_dequeue(&l) == &x[0].h);
	rcu_segcblist_insert_done_cbs(&s, &l);
	CHECK(s.head == &x[1].h && s.seglen[RCU_DONE_TAIL] == 1 && !rcu_segcblist_check(&s));
	/* Pending out and back into NEXT. */
	rcu_segcblist_extract_pend_cbs(&s, &l);
	CHECK(l.len == 3 && !rcu_segcblist_pend_cbs(&s) && !rcu_segcblist_check(&s));
	rcu_segcblist_insert_pend_cbs(&s, &l);
	CHECK(s.seglen[RCU_NEXT_TAIL] == 3 && !rcu_segcblist_check(&s));
}

int main(void)
{
	directed();
	for (unsigned int seed = 1; seed <= 20; seed++)
		random_run(seed, false);
	/* The injected comparison bug must be visible to the same checks. */
	int broken = 0;

	for (unsigned int seed = 1; seed <= 5; seed++)
		broken += random_run(seed, true) > 0;
	CHECK_MSG(broken > 0, "rcu_bug_seq_cmp went unnoticed across the wrap");
	return host_test_result("test_rcu_segcblist");
}
