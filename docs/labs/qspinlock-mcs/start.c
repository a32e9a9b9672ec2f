	/*
	 * LAB qspinlock-mcs: queue on the lock and hand it over.
	 *
	 * You own node = &qnodes[cpu].node[idx] (initialised above) and the
	 * lock is still taken. Write the MCS part of the slow path:
	 *
	 *  1. Publish yourself as the tail: tail = qspinlock_encode_tail(cpu,
	 *     idx); old = xchg_tail(lock, tail)  (p,*,* -> n,*,*).
	 *  2. If there was a tail before you (old & _Q_TAIL_MASK), link behind
	 *     it — prev = decode_tail(old); prev->next = node — and wait until
	 *     prev makes you the head (node->locked becomes 1; pv_wait_node(node,
	 *     pv) does that wait, also for the paravirt backend; `pv` is this
	 *     function's constant: the slow path is built once native, once PV). Then read
	 *     node->next (acquire): who queued behind you meanwhile.
	 *  3. As the head, wait for the owner and any pending waiter to go:
	 *     spin until the locked and pending bits are both clear (acquire)
	 *     — or, when pv, pv_wait_head_or_lock(), which
	 *     returns owning the lock.
	 *  4. Take the lock. If you are still the tail, one cmpxchg takes it and
	 *     empties the queue (n,0,0 -> 0,0,1): done (goto release). Otherwise
	 *     set the locked byte (n',0,0 -> n',0,1), wait for your successor to
	 *     link in (node->next non-NULL), and make it the head:
	 *     mcs_pass_on(next, pv).
	 *
	 * Keep the injected bug's branch (qspinlock_bugs & QSPIN_BUG_MCS_HANDOVER)
	 * between 2 and 3 if you want the bug-* scenarios to keep working.
	 *
	 * Until you write it, a waiter spins on trylock: correct, but no queue
	 * (nobody ever uses a node, the nesting chain cannot see one, and the
	 * lock is as unfair as test-and-set).
	 */
	(void)prev;
	(void)old;
	(void)next;
	(void)tail;
	(void)handed_over;
	(void)pv_wait_node;            /* you will need these two */
	(void)pv_wait_head_or_lock;
	while (!(pv ? pv_try_steal(lock) : queued_spin_trylock(lock)))
		lock_cpu_relax();
