/*
 * qspinlock.c — the queued spinlock's slow path.
 *
 * The lock word, every (tail, pending, locked) transition and the slow-path
 * diagram are in include/grace/qspinlock.h; the paravirt additions are in
 * qspinlock_paravirt.h (included below, so the native build of each helper
 * is a plain inline spin). This file holds the per-CPU MCS nodes and the one
 * function that ties the paths together.
 *
 * Invariants:
 *  - A CPU uses node[i] of its own qnodes[] row only while nesting > i; an
 *    interrupt arriving in the slow path therefore takes node[i + 1], and a
 *    fifth nested slow path (nesting >= 4) does not queue at all.
 *  - Only the queue head looks at the lock word; every other waiter spins on
 *    its own node->locked, written once (to 1) by its predecessor.
 *  - The locked byte is written only by the owner, by the one waiter that
 *    the word's state entitles to take it (pending owner, or queue head with
 *    locked == pending == 0), or by a cmpxchg.
 *
 * Tested by tests/unit/test_qspinlock.c: up to 16 threads hammering one and
 * several locks with an exclusivity check, with simulated and signal-driven
 * nesting, native and paravirt, and with each injected bug (which it must
 * catch). KTEST locking.qspinlock_uncontended checks the word in the kernel.
 */
#include <grace/lockstat.h>
#include <grace/panic.h>
#include <grace/percpu.h>
#include <grace/qspinlock.h>
#include <grace/qspinlock_lab.h>
#include <grace/qspinlock_pv.h>
#include "lock_env.h"

struct qnode_cpu qnodes[NR_CPUS_MAX];
unsigned int qspinlock_bugs;

static inline struct mcs_node *decode_tail(u32 val)
{
	return &qnodes[qspinlock_tail_cpu(val)].node[qspinlock_tail_idx(val)];
}

/*
 * p,*,* -> n,*,*. Returns the previous word's tail bits.
 * ACQ_REL: the release half publishes our initialised node to the waiter
 * that will read our tail and link behind us; the acquire half makes the
 * predecessor's node initialisation (next = NULL) visible before we store
 * into prev->next, so its initialisation cannot overwrite our link.
 */
static inline u32 xchg_tail(struct qspinlock *lock, u32 tail)
{
	u16 old = __atomic_exchange_n(&lock->tail, (u16)(tail >> _Q_TAIL_IDX_OFFSET),
				      __ATOMIC_ACQ_REL);
	return (u32)old << _Q_TAIL_IDX_OFFSET;
}

/* t,1,* -> t,0,*: only the CPU that set P clears it. */
static inline void clear_pending(struct qspinlock *lock)
{
	__atomic_store_n(&lock->pending, 0, __ATOMIC_RELAXED);
}

/*
 * *,1,0 -> *,0,1 in one 16-bit store. Nobody else writes the low half while
 * P is set and locked is 0 (the head waits for both to be 0). Ordering was
 * already obtained by the acquire load that saw locked == 0.
 */
static inline void clear_pending_set_locked(struct qspinlock *lock)
{
	__atomic_store_n(&lock->locked_pending, (u16)_Q_LOCKED_VAL, __ATOMIC_RELAXED);
}

/* n',0,0 -> n',0,1 by the queue head (see the invariant above). */
static inline void set_locked(struct qspinlock *lock)
{
	__atomic_store_n(&lock->locked, (u8)_Q_LOCKED_VAL, __ATOMIC_RELAXED);
}

/*
 * Native MCS wait: spin on our own node. The acquire pairs with the release
 * store of node->locked in mcs_pass_on() by our predecessor, so everything
 * it did as head (including its link to us) is visible.
 */
static inline void mcs_spin_native(struct mcs_node *node)
{
	while (!__atomic_load_n(&node->locked, __ATOMIC_ACQUIRE))
		lock_cpu_relax();
}

#include "qspinlock_paravirt.h"

/* Make `next` the queue head: release pairs with mcs_spin_native / pv_wait_node. */
static __always_inline void mcs_pass_on(struct mcs_node *next, const bool pv)
{
	lock_trace(TRACE_LOCK_HANDOVER, 0, next->cpu, 0);
	__atomic_store_n(&next->locked, 1, __ATOMIC_RELEASE);
	if (pv)
		pv_kick_node(next);
}

/*
 * The slow path, built twice: native_queued_spin_lock_slowpath (pv false:
 * no paravirt test or call left in it) and pv_queued_spin_lock_slowpath.
 * In the kernel the call in queued_spin_lock() is a patch site that calls
 * one or the other (lockop.h); queued_spin_lock_slowpath() picks by
 * qspinlock_pv_active for the host tests and any caller outside a site.
 */
static __always_inline void __queued_spin_lock_slowpath(struct qspinlock *lock, u32 val,
							const bool pv)
{
	enum lock_class cls = lockstat_qspinlock_class();
	struct mcs_node *prev, *next, *node;
	struct qnode_cpu *qn;
	unsigned int cpu, idx;
	bool handed_over = false;
	u32 old, tail;

	if (pv) {
		/* PV never uses the pending path: its P bit means "head awake". */
		if (pv_try_steal(lock))
			return;
		goto queue;
	}

	/*
	 * 0,1,0 ~> 0,0,1: a pending waiter saw the owner leave and is about to
	 * set locked. Wait a bounded time for that instead of queueing behind a
	 * hand-over that takes a few cycles.
	 */
	if (val == _Q_PENDING_VAL) {
		for (int cnt = _Q_PENDING_LOOPS; cnt > 0; cnt--) {
			val = queued_spin_value(lock);
			if (val != _Q_PENDING_VAL)
				break;
			lock_cpu_relax();
		}
	}
	if (val & ~_Q_LOCKED_MASK)
		goto queue;   /* a queue or a pending waiter exists: join the queue */

	/* 0,0,* -> 0,1,*. Acquire: pairs with the owner's unlock (see below). */
	val = __atomic_fetch_or(&lock->val, _Q_PENDING_VAL, __ATOMIC_ACQUIRE);
	if (val & ~_Q_LOCKED_MASK) {
		/* Lost a race with an enqueuer or another pending waiter. */
		if (!(val & _Q_PENDING_MASK))
			clear_pending(lock);   /* t,1,* -> t,0,*: undo our P */
		goto queue;
	}

	/* *,1,1 ~> *,1,0. The acquire load pairs with the owner's release store. */
	while (__atomic_load_n(&lock->locked, __ATOMIC_ACQUIRE))
		lock_cpu_relax();
	/* Torture: *,1,0 is ours though nobody holds the lock — the queue head
	 * must wait for P too (locktorture-qspinlock-native stretches this). */
	lock_race_delay();
	clear_pending_set_locked(lock);   /* *,1,0 -> *,0,1 */
	lockstat_inc(cls, LS_PENDING);
	return;

queue:
	lockstat_inc(cls, LS_QUEUED);
	cpu = smp_processor_id();
	qn = &qnodes[cpu];
	idx = (unsigned int)qn->nesting++;
	if (unlikely(idx >= _Q_MAX_NODES)) {
		/*
		 * A fifth nested slow path on this CPU (e.g. an NMI inside an NMI
		 * inside an irq inside a task, all waiting): no node left. Spin on
		 * trylock instead; it can be starved, which is why this is counted.
		 */
		lockstat_inc(cls, LS_NEST_OVERFLOW);
		while (!(pv ? pv_try_steal(lock) : queued_spin_trylock(lock)))
			lock_cpu_relax();
		goto release;
	}
	node = &qn->node[idx];
	lock_trace(TRACE_LOCK_SLOWPATH, lock, idx, 0);
	/*
	 * From here on an interrupt on this CPU takes node[idx + 1]: keep the
	 * compiler from sinking the nesting++ below the node's initialisation.
	 * (Same CPU only, so a compiler barrier suffices.)
	 */
	barrier();
	node->locked = 0;
	node->next = NULL;
	node->cpu = (u16)cpu;
	node->idx = (u8)idx;
	pv_init_node(node);

	/* The owner may have left while we set up: try once before queueing. */
	if (queued_spin_trylock(lock))
		goto release;

	/* >>> LAB qspinlock-mcs (docs/labs/qspinlock-mcs/README.md) */
	tail = qspinlock_encode_tail(cpu, idx);
	old = xchg_tail(lock, tail);   /* p,*,* -> n,*,* */
	next = NULL;

	if (old & _Q_TAIL_MASK) {
		prev = decode_tail(old);
		/* Link behind prev; prev waits for this store before passing on. */
		__atomic_store_n(&prev->next, node, __ATOMIC_RELAXED);
		pv_wait_node(node, pv);   /* returns once prev made us the head */
		next = __atomic_load_n(&node->next, __ATOMIC_ACQUIRE);
	}

	/* We are the queue head. */
	if (unlikely(qspinlock_bugs & QSPIN_BUG_MCS_HANDOVER) && next) {
		/* INJECTED BUG: pass the head on before we own the lock word. */
		mcs_pass_on(next, pv);
		handed_over = true;
	}

	if (pv) {
		val = pv_wait_head_or_lock(lock, node);   /* returns owning it */
		/* n,0,1 -> 0,0,1 if nobody queued behind us. */
		if ((val & _Q_TAIL_MASK) == tail &&
		    __atomic_compare_exchange_n(&lock->val, &val, _Q_LOCKED_VAL, false,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			goto release;
	} else {
		/*
		 * n,*,* ~> n,0,0: wait for the owner and for a pending waiter.
		 * The acquire pairs with the release in their unlock.
		 */
		while ((val = __atomic_load_n(&lock->val, __ATOMIC_ACQUIRE)) & _Q_LOCKED_PENDING_MASK)
			lock_cpu_relax();
		/* Nobody else may take the lock now (see set_locked): torture may
		 * stretch this window to prove it. */
		lock_race_delay();
		/* n,0,0 -> 0,0,1 if nobody queued behind us. */
		if ((val & _Q_TAIL_MASK) == tail &&
		    __atomic_compare_exchange_n(&lock->val, &val, _Q_LOCKED_VAL, false,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			goto release;
		set_locked(lock);   /* n',0,0 -> n',0,1 */
	}

	/* Somebody queued behind us: wait until it has linked in, then pass on. */
	if (!next) {
		while (!(next = __atomic_load_n(&node->next, __ATOMIC_ACQUIRE)))
			lock_cpu_relax();
	}
	if (!handed_over)
		mcs_pass_on(next, pv);
	/* <<< LAB qspinlock-mcs */

release:
	lock_trace(TRACE_LOCK_ACQUIRED, lock, idx, 0);
	barrier();   /* done with node[idx] before an interrupt may reuse it */
	qn->nesting--;
}

/* Each slow path is timed for pvspin=dynamic while its policy runs (its
 * lock-holder-preemption signal: waits far longer than any hold). */
void native_queued_spin_lock_slowpath(struct qspinlock *lock, u32 val)
{
	u64 t0 = lock_wait_start();

	__queued_spin_lock_slowpath(lock, val, false);
	lock_wait_done(t0);
}

void pv_queued_spin_lock_slowpath(struct qspinlock *lock, u32 val)
{
	u64 t0 = lock_wait_start();

	__queued_spin_lock_slowpath(lock, val, true);
	lock_wait_done(t0);
}

void queued_spin_lock_slowpath(struct qspinlock *lock, u32 val)
{
	if (__atomic_load_n(&qspinlock_pv_active, __ATOMIC_RELAXED))
		pv_queued_spin_lock_slowpath(lock, val);
	else
		native_queued_spin_lock_slowpath(lock, val);
}

