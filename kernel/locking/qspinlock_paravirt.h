/*
 * qspinlock_paravirt.h — the paravirt half of the queued spinlock slow path.
 * Included by qspinlock.c only; every helper begins with "native? do the
 * plain thing", so with no PV backend the slow path is the MCS lock.
 *
 * Protocol. Spinning is only useful while the CPU we wait for is running;
 * under a hypervisor it may not be. So a waiter spins pv_spin_threshold
 * times, then sleeps through the backend's halt and is kicked awake:
 *
 *  queued waiter (not head)            its predecessor, becoming owner
 *  ------------------------            -------------------------------
 *  spin on node->locked                ...
 *  state = HALTED; full barrier        node->locked = 1 (release)
 *  if (!node->locked)                  full barrier
 *      pv_wait(&state, HALTED)         if cmpxchg(state, HALTED->RUNNING)
 *                                          kick(node->cpu)
 *  (a Dekker pair: at least one side sees the other's store, so the waiter
 *   never sleeps through its hand-over)
 *
 *  queue head                          owner, unlocking
 *  ----------                          ----------------
 *  P = 1 (no stealing while awake),
 *  spin: cmpxchg *,1,0 -> *,0,1
 *  P = 0
 *  hash[lock] = node
 *  xchg(locked, 3)  (full barrier)     cmpxchg locked 1 -> 0  fails: saw 3
 *    was 0: it is ours; locked = 1,    node = unhash(lock)  (must exist)
 *           unhash                     locked = 0 (release)
 *    was 1: pv_wait(&locked, 3)        kick(node->cpu)
 *           until locked != 3
 *
 * Invariant (checked always for the "=>" direction, which a broken
 * protocol turns into a lost wake-up, and for uniqueness in DEBUG builds):
 *   an unlock that sees the slow value 3 <=> a hash entry for the lock
 *   exists. Precisely: locked == 3 implies an entry (the head hashes before
 *   it writes 3 and the unlocker unhashes before it writes 0); an entry
 *   implies locked == 3, except in the head's window between hashing and
 *   its xchg, which ends either in 3 or in the head unhashing itself. There
 *   is never more than one entry per lock (one head per lock).
 *
 * pv_wait() is where lost wake-ups are avoided: with interrupts off it
 * re-checks that the awaited value is still there and only then halts. A kick
 * sent after the re-check cannot be lost (an IPI stays pending until
 * `sti; hlt`, a KVM kick is latched); a kick sent before it was preceded by
 * the change of the value, which the re-check sees. The injected bug
 * pv_lost_wakeup skips that re-check. It never halts in NMI context: the
 * NMI may have interrupted the very code that would kick it.
 */

enum { PV_NODE_RUNNING = 0, PV_NODE_HALTED = 1 };

int pv_spin_threshold = 1 << 12;

/*
 * The lock -> head-node hash: open addressing, linear probing. At most one
 * entry per CPU and nesting level exists at a time, and the table has twice
 * that many slots, so an insert always finds a free one. Lookups scan until
 * they find the key: removed entries leave holes and there are no
 * tombstones, so "an empty slot" does not end a search.
 */
#define PV_HASH_SIZE (2 * _Q_MAX_NODES * NR_CPUS_MAX)
BUILD_BUG_ON((PV_HASH_SIZE & (PV_HASH_SIZE - 1)) != 0);

struct pv_hash_entry {
	struct qspinlock *lock;
	struct mcs_node *node;
};
static struct pv_hash_entry pv_hash_table[PV_HASH_SIZE];

static inline unsigned int pv_hash_index(const struct qspinlock *lock)
{
	/* Fibonacci hashing of the address: spreads neighbouring locks. */
	u64 h = (u64)(uintptr_t)lock * 0x9e3779b97f4a7c15ULL;
	return (unsigned int)(h >> 32) & (PV_HASH_SIZE - 1);
}

static struct pv_hash_entry *pv_hash_find(const struct qspinlock *lock)
{
	unsigned int h = pv_hash_index(lock);

	for (unsigned int i = 0; i < PV_HASH_SIZE; i++, h = (h + 1) & (PV_HASH_SIZE - 1)) {
		struct pv_hash_entry *e = &pv_hash_table[h];

		if (__atomic_load_n(&e->lock, __ATOMIC_ACQUIRE) == lock)
			return e;
	}
	return NULL;
}

static void pv_hash(struct qspinlock *lock, struct mcs_node *node)
{
	unsigned int h = pv_hash_index(lock);

	if (QSPINLOCK_DEBUG && pv_hash_find(lock))
		panic("qspinlock: lock %p hashed twice (two queue heads?)", (void *)lock);
	for (unsigned int i = 0; i < PV_HASH_SIZE; i++, h = (h + 1) & (PV_HASH_SIZE - 1)) {
		struct pv_hash_entry *e = &pv_hash_table[h];
		struct qspinlock *empty = NULL;

		/* Acquire pairs with the release in pv_unhash(): its read of
		 * e->node is over before we overwrite it. */
		if (!__atomic_load_n(&e->lock, __ATOMIC_RELAXED) &&
		    __atomic_compare_exchange_n(&e->lock, &empty, lock, false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			/* Published before locked = 3 by the caller's xchg. */
			__atomic_store_n(&e->node, node, __ATOMIC_RELAXED);
			return;
		}
	}
	panic("qspinlock: PV hash table full");
}

static struct mcs_node *pv_unhash(struct qspinlock *lock)
{
	struct pv_hash_entry *e = pv_hash_find(lock);
	struct mcs_node *node;

	if (!e)
		panic("qspinlock: lock %p is marked slow but has no PV hash entry", (void *)lock);
	node = __atomic_load_n(&e->node, __ATOMIC_RELAXED);
	/* Release: the read of e->node is done before the slot can be reused. */
	__atomic_store_n(&e->lock, NULL, __ATOMIC_RELEASE);
	return node;
}

/* Is `lock` in the hash now? For tests: an owner whose lock nobody waits
 * for must find no entry (a stale one means the unlocker released before
 * unhashing). Scans the whole table when the answer is no. */
bool pv_lock_hashed(const struct qspinlock *lock)
{
	return pv_hash_find(lock) != NULL;
}

/* Entries now in the hash (0 whenever no PV head sleeps); for tests and lockstat. */
unsigned int pv_hash_entries_in_use(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < PV_HASH_SIZE; i++)
		n += __atomic_load_n(&pv_hash_table[i].lock, __ATOMIC_RELAXED) != NULL;
	return n;
}

/* >>> LAB pv-lost-wakeup (docs/labs/pv-lost-wakeup/README.md) */
/*
 * Halt until kicked if *ptr still holds val. Returns whether it halted.
 * See the header comment for why the re-check must happen with interrupts
 * off and why NMI context never halts.
 */
static bool pv_wait(u8 *ptr, u8 val)
{
	bool irqs_were_on, halted = false;

	if (lock_in_nmi())
		return false;
	/* The race: the kick may land right here, before interrupts go off. */
	lock_race_delay();
	irqs_were_on = lock_irq_save();
	if ((qspinlock_bugs & QSPIN_BUG_PV_LOST_WAKEUP) ||
	    __atomic_load_n(ptr, __ATOMIC_ACQUIRE) == val) {
		u64 t0 = lock_trace_clock();

#if __STDC_HOSTED__
		halted = pv_lock_ops.halt(irqs_were_on);
#else
		halted = lockop_pv_halt(irqs_were_on);   /* a patch site: the backend's halt */
#endif
		if (halted) {
			lockstat_inc(lockstat_qspinlock_class(), LS_PV_WAIT);
			lock_trace(TRACE_PV_WAIT, ptr, 0, t0);   /* one event: the halt's span */
		}
	}
	lock_irq_restore(irqs_were_on);
	return halted;
}

static void pv_kick(int cpu)
{
	lockstat_inc(lockstat_qspinlock_class(), LS_PV_KICK);
	if (unlikely(qspinlock_bugs & QSPIN_BUG_PV_DROP_KICK))
		return;   /* INJECTED BUG: the kick is lost */
	lock_trace(TRACE_PV_KICK, cpu, 0, 0);
#if __STDC_HOSTED__
	pv_lock_ops.kick(cpu);
#else
	lockop_pv_kick(cpu);   /* a patch site: the backend's kick */
#endif
	/* Torture: the kicked CPU runs on while we are held up here (a vCPU
	 * preempted right after its kick); whatever we still touch after the
	 * kick, it may have taken, released and freed (ktest locking.reuse). */
	lock_race_delay();
}

static inline void pv_init_node(struct mcs_node *node)
{
	node->state = PV_NODE_RUNNING;
}

/* *,0,0 -> *,0,1 past the queue while the head is not spinning (P == 0). */
static inline bool pv_try_steal(struct qspinlock *lock)
{
	u32 val = queued_spin_value(lock);
	u8 zero = 0;

	if (val & _Q_LOCKED_PENDING_MASK)
		return false;
	/* Acquire pairs with the owner's release of the locked byte. */
	if (!__atomic_compare_exchange_n(&lock->locked, &zero, (u8)_Q_LOCKED_VAL, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return false;
	if (val & _Q_TAIL_MASK)
		lockstat_inc(lockstat_qspinlock_class(), LS_STEAL);
	return true;
}

/* Wait to become queue head: spin, then halt until the predecessor kicks. */
static __always_inline void pv_wait_node(struct mcs_node *node, const bool pv)
{
	if (!pv) {
		mcs_spin_native(node);
		return;
	}
	for (;;) {
		bool halted = false;

		for (int loop = pv_spin_threshold; loop > 0; loop--) {
			if (__atomic_load_n(&node->locked, __ATOMIC_ACQUIRE))
				return;
			lock_cpu_relax();
		}
		/* Torture: the predecessor may pass the lock on right here, and
		 * look at our state before we announce HALTED. */
		lock_race_delay();
		/* Dekker with pv_kick_node(): announce, full barrier, look again. */
		__atomic_store_n(&node->state, PV_NODE_HALTED, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&node->locked, __ATOMIC_RELAXED))
			halted = pv_wait(&node->state, PV_NODE_HALTED);
		__atomic_store_n(&node->state, PV_NODE_RUNNING, __ATOMIC_RELAXED);
		/* Acquire pairs with the release in mcs_pass_on(). */
		if (__atomic_load_n(&node->locked, __ATOMIC_ACQUIRE))
			return;
		if (halted)
			lockstat_inc(lockstat_qspinlock_class(), LS_SPURIOUS);
	}
}

/* Called by the new head's predecessor right after node->locked = 1. */
static void pv_kick_node(struct mcs_node *next)
{
	u8 halted = PV_NODE_HALTED;

	/* Orders our store of next->locked before the read of next->state:
	 * pairs with the fence in pv_wait_node(). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_compare_exchange_n(&next->state, &halted, PV_NODE_RUNNING, false,
					__ATOMIC_RELAXED, __ATOMIC_RELAXED))
		pv_kick(next->cpu);
}
/* <<< LAB pv-lost-wakeup */

/*
 * The head's wait: spin with P set, then hash, mark the lock slow and halt
 * until the slow unlock kicks us. Returns the lock word with the lock ours.
 */
static u32 pv_wait_head_or_lock(struct qspinlock *lock, struct mcs_node *node)
{
	for (;;) {
		u8 old;

		/* *,0,* -> *,1,*: "the head is awake", which stops stealing. */
		__atomic_store_n(&lock->pending, 1, __ATOMIC_RELAXED);
		for (int loop = pv_spin_threshold; loop > 0; loop--) {
			u16 expect = (u16)_Q_PENDING_VAL;

			/* *,1,0 -> *,0,1. Acquire pairs with the owner's release. */
			if (__atomic_load_n(&lock->locked_pending, __ATOMIC_RELAXED) == expect &&
			    __atomic_compare_exchange_n(&lock->locked_pending, &expect,
							(u16)_Q_LOCKED_VAL, false,
							__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
				goto gotlock;
			lock_cpu_relax();
		}
		__atomic_store_n(&lock->pending, 0, __ATOMIC_RELAXED);   /* *,1,* -> *,0,* */

		/*
		 * Hash before marking: an unlocker that sees 3 must find the
		 * entry. The xchg is a full barrier ordering the hash stores before
		 * the 3; it pairs with the acquire of the unlocker's cmpxchg that
		 * reads 3 before it calls pv_unhash().
		 */
		pv_hash(lock, node);
		old = __atomic_exchange_n(&lock->locked, (u8)_Q_SLOW_VAL, __ATOMIC_SEQ_CST);
		if (old == 0) {
			/* *,0,0 -> *,0,3: it was free, so it is ours. Nobody else
			 * writes a held locked byte: back to 1, and unhash. */
			__atomic_store_n(&lock->locked, (u8)_Q_LOCKED_VAL, __ATOMIC_RELAXED);
			if (pv_unhash(lock) != node)
				panic("qspinlock: PV hash entry of %p is not its head's", (void *)lock);
			goto gotlock;
		}
		if (old != _Q_LOCKED_VAL)
			panic("qspinlock: head of %p found locked byte %u", (void *)lock, old);

		/* *,0,1 -> *,0,3: sleep until the slow unlock clears it and kicks. */
		for (;;) {
			bool halted = pv_wait(&lock->locked, (u8)_Q_SLOW_VAL);

			if (__atomic_load_n(&lock->locked, __ATOMIC_ACQUIRE) != _Q_SLOW_VAL)
				break;
			/* Still 3, so still hashed: wait again, do not re-hash. */
			if (halted)
				lockstat_inc(lockstat_qspinlock_class(), LS_SPURIOUS);
			else
				lock_cpu_relax();   /* NMI, or a backend that cannot halt */
		}
	}
gotlock:
	return __atomic_load_n(&lock->val, __ATOMIC_RELAXED);
}

void __pv_queued_spin_unlock_slowpath(struct qspinlock *lock, u8 locked)
{
	struct mcs_node *node;
	int cpu;

	if (unlikely(locked != _Q_SLOW_VAL)) {
		if (QSPINLOCK_DEBUG)
			panic("qspinlock: unlock of %p with locked byte %u (not held?)",
			      (void *)lock, locked);
		return;
	}
	/* We read 3 with acquire (the failed cmpxchg in queued_spin_unlock),
	 * which pairs with the head's xchg: its hash entry is visible. */
	/* Torture: a head spinning with interrupts off (it cannot halt) sees
	 * the release at once; an unlocker that released before unhashing
	 * lets it own the lock with its stale entry still there (ktest
	 * locking.reuse checks the new owner finds none). */
	lock_race_delay();
	node = pv_unhash(lock);
	cpu = node->cpu;
	/* *,0,3 -> *,0,0. Release pairs with the next owner's acquire. */
	__atomic_store_n(&lock->locked, 0, __ATOMIC_RELEASE);
	/* From here the lock may be another CPU's, even freed: only `cpu`
	 * (read above) may be used. */
	pv_kick(cpu);
	/* Torture: the kicked head may take, release and free the lock while
	 * we are still here (ktest locking.reuse). */
	lock_race_delay();
}

/* The PV unlock, out of line: what the unlock patch site calls (through
 * __pv_queued_spin_unlock_thunk in the kernel). */
void __pv_queued_spin_unlock(struct qspinlock *lock)
{
	u8 old = _Q_LOCKED_VAL;

	/* *,*,1 -> *,*,0; release pairs with the next owner's acquire. */
	if (likely(__atomic_compare_exchange_n(&lock->locked, &old, 0, false,
					       __ATOMIC_RELEASE, __ATOMIC_ACQUIRE)))
		return;
	__pv_queued_spin_unlock_slowpath(lock, old);
}
