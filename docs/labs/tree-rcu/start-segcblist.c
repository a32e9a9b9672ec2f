/*
 * LAB tree-rcu, part 1: advance and accelerate (see the picture and the
 * invariants in rcu_segcblist.h; rcu_segcblist_check() checks them).
 *
 * rcu_segcblist_advance(s, seq): `seq` is the grace-period number the CPU's
 * leaf has reached. WAIT, then NEXT_READY, join DONE while their grace
 * period is over (rcu_seq_done_val(seq, s->gp_seq[seg])); stop at the first
 * segment that still waits. An empty segment's tail must end up equal to
 * the tail before it. Afterwards the earliest waiting callbacks are in WAIT
 * (a NEXT_READY left alone in front of an empty WAIT moves down).
 *
 * rcu_segcblist_accelerate(s, seq): `seq` is the grace period that new
 * callbacks would need (tree.c computes it). Give NEXT that number. Where
 * WAIT or NEXT_READY already waits for `seq` (or for a later one), NEXT
 * joins it; a segment that waits for an EARLIER grace period must stay as
 * it is. Return true when some callbacks now wait for `seq` (the caller
 * then asks for that grace period), false when nothing changed (no pending
 * callbacks, or both waiting segments are busy with earlier grace periods).
 *
 * Helpers above: seg_fold(s, into, from), rcu_segcblist_segempty(s, seg),
 * rcu_segcblist_pend_cbs(s); ULONG_CMP_LT() compares across the wrap.
 * Test on the host first: tests/run_scenarios.py unit:test_rcu_segcblist.
 *
 * Until you write them, callbacks never leave NEXT: call_rcu() callbacks
 * and kfree_rcu() never run.
 */
void rcu_segcblist_advance(struct rcu_segcblist *s, unsigned long seq)
{
	(void)s;
	(void)seq;
	(void)seg_fold;
}

bool rcu_segcblist_accelerate(struct rcu_segcblist *s, unsigned long seq)
{
	(void)s;
	(void)seq;
	return false;
}
