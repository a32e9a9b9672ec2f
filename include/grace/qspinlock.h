/*
 * qspinlock.h — the queued spinlock: a 32-bit lock word and an MCS queue.
 *
 * Idea (Mellor-Crummey & Scott's MCS lock, squeezed into one word as Linux
 * does): waiters queue on per-CPU nodes and each spins on its *own* node, so
 * a contended lock costs one cache-line transfer per hand-over instead of a
 * storm of them. Because a CPU can be waiting for at most one lock per
 * context (task, irq, nmi, plus one spare), a waiter is named by
 * (CPU, nesting index) and that name fits in 16 bits: the queue tail lives
 * inside the lock word and a spinlock_t stays 4 bytes.
 *
 * The lock word (little-endian; `val` is the whole word):
 *
 *   31                    18 17 16 15      9  8  7          0
 *  +------------------------+-----+---------+---+------------+
 *  |        tail CPU+1      | idx |  (zero) | P |   locked   |
 *  +------------------------+-----+---------+---+------------+
 *     tail: 16 bits = the last queued waiter, 0 = no queue
 *     idx : nesting index of that waiter's node (0 task, 1 irq, 2 nmi, 3 spare)
 *     CPU+1: 14 bits, so at most 16383 CPUs (NR_CPUS_MAX must fit)
 *     P   : pending — one waiter spinning on the word itself, not queued
 *     locked: 0 free, 1 held, 3 held and "slow" (paravirt: the queue head
 *             sleeps and the unlocker must kick it; qspinlock_paravirt.h)
 *
 * The byte and half-word views (locked, pending, locked_pending, tail) let
 * one plain store change exactly the field its owner owns.
 *
 * Every transition, written (tail, pending, locked); `*` = any value,
 * n = our tail, p = a previous tail, n' = a tail queued after ours:
 *
 *   fast path        0,0,0 -> 0,0,1   cmpxchg of the word (acquire)
 *   unlock           *,*,1 -> *,*,0   release store of the locked byte
 *   hand-over wait   0,1,0 ~> 0,0,1   a newcomer waits (bounded) while a
 *                                     pending owner takes the lock
 *   pending          0,0,* -> 0,1,*   fetch_or (acquire); if the old value
 *                                     had a tail or pending, undo and queue
 *   pending owner    *,1,1 ~> *,1,0   wait for the owner's unlock, then
 *                    *,1,0 -> *,0,1   one 16-bit store (clear P, set locked)
 *   enqueue          p,*,* -> n,*,*   xchg of the tail half-word
 *   head sole        n,0,0 -> 0,0,1   cmpxchg: nobody queued behind us
 *   head with queue n',0,0 -> n',0,1  byte store; then next->locked = 1
 *   (paravirt only, see qspinlock_paravirt.h)
 *   steal            *,0,0 -> *,0,1   byte cmpxchg past the queue
 *   head sleeps      *,0,1 -> *,0,3   xchg after hashing lock -> node
 *   slow unlock      *,0,3 -> *,0,0   unhash, release store, kick the head
 *
 * The slow path (kernel/locking/qspinlock.c):
 *
 *   spin_lock: cmpxchg 0,0,0 -> 0,0,1 ------------------------> owner
 *      | failed
 *      v
 *   0,1,0?  wait <= _Q_PENDING_LOOPS for the pending owner
 *      |
 *      +-- tail or pending set ---------------------------+
 *      v                                                  |
 *   fetch_or P: 0,0,* -> 0,1,*                            |
 *      +-- saw tail or P: clear our P ------------------->+
 *      v                                                  v
 *   spin until locked == 0                 node = this CPU's node[nesting++]
 *   *,1,0 -> *,0,1 --------> owner         (nesting >= 4: trylock loop, counted)
 *                                          xchg tail p -> n
 *                                             | p != 0: prev->next = node,
 *                                             |         spin on node->locked
 *                                             v         (PV: halt after a while)
 *                                          head: spin until locked,P == 0,0
 *                                             | (PV: hash, mark 3, halt)
 *                                             | tail == n: cmpxchg -> 0,0,1
 *                                             | else set locked,
 *                                             |      next->locked = 1 (PV: kick)
 *                                             v
 *                                           owner
 *
 * Memory ordering: acquiring (fast-path cmpxchg, the pending owner's and
 * the head's acquire loads) is ACQUIRE and pairs with the RELEASE store of
 * the previous owner's unlock, so the critical sections are ordered. Each
 * helper in qspinlock.c says which access its barrier pairs with.
 *
 * Exercised by: tests/unit/test_qspinlock.c (pthreads, native and PV,
 * injected bugs) and KTEST locking.qspinlock_uncontended.
 */
#ifndef GRACE_QSPINLOCK_H
#define GRACE_QSPINLOCK_H

#include <grace/compiler.h>
#include <grace/cpumask_limits.h>
#include <grace/lockstat.h>
#include <grace/types.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the qspinlock byte/half-word views assume a little-endian word"
#endif

struct qspinlock {
	union {
		u32 val;
		struct {
			u8 locked;
			u8 pending;
		};
		struct {
			u16 locked_pending;
			u16 tail;
		};
	};
};

#define _Q_LOCKED_OFFSET   0
#define _Q_LOCKED_BITS     8
#define _Q_LOCKED_MASK     0x000000ffU
#define _Q_PENDING_OFFSET  8
#define _Q_PENDING_MASK    0x00000100U
#define _Q_TAIL_IDX_OFFSET 16
#define _Q_TAIL_IDX_BITS   2
#define _Q_TAIL_IDX_MASK   0x00030000U
#define _Q_TAIL_CPU_OFFSET 18
#define _Q_TAIL_CPU_BITS   14
#define _Q_TAIL_CPU_MASK   0xfffc0000U
#define _Q_TAIL_MASK       (_Q_TAIL_IDX_MASK | _Q_TAIL_CPU_MASK)
#define _Q_LOCKED_PENDING_MASK (_Q_LOCKED_MASK | _Q_PENDING_MASK)

#define _Q_LOCKED_VAL      1U
#define _Q_SLOW_VAL        3U   /* paravirt: held, and the head is asleep */
#define _Q_PENDING_VAL     (1U << _Q_PENDING_OFFSET)

#define _Q_MAX_NODES       4    /* task, irq, nmi, spare */
#define _Q_MAX_CPUS        ((1U << _Q_TAIL_CPU_BITS) - 1)   /* 16383 */
#define _Q_PENDING_LOOPS   512  /* bound on the pending->locked hand-over wait */

BUILD_BUG_ON(NR_CPUS_MAX > _Q_MAX_CPUS);
BUILD_BUG_ON(_Q_MAX_NODES > (1 << _Q_TAIL_IDX_BITS));

#define __QSPINLOCK_INIT { { .val = 0 } }

/* Tail encoding: (cpu + 1, idx) so that 0 means "no queue". Pure. */
static inline u32 qspinlock_encode_tail(unsigned int cpu, unsigned int idx)
{
	return ((cpu + 1) << _Q_TAIL_CPU_OFFSET) | (idx << _Q_TAIL_IDX_OFFSET);
}
static inline unsigned int qspinlock_tail_cpu(u32 val)
{
	return ((val & _Q_TAIL_CPU_MASK) >> _Q_TAIL_CPU_OFFSET) - 1;
}
static inline unsigned int qspinlock_tail_idx(u32 val)
{
	return (val & _Q_TAIL_IDX_MASK) >> _Q_TAIL_IDX_OFFSET;
}
/* Build a whole word from a (tail, pending, locked) triple (tests, docs). */
static inline u32 qspinlock_word(u32 tail, bool pending, u8 locked)
{
	return (tail & _Q_TAIL_MASK) | (pending ? _Q_PENDING_VAL : 0) | locked;
}

/*
 * The MCS node. `locked` is set to 1 by the predecessor when it hands us the
 * head of the queue; `state` and `cpu` are used by the paravirt path only.
 */
struct mcs_node {
	struct mcs_node *next;
	u32 locked;
	u16 cpu;
	u8 state;      /* PV: PV_NODE_RUNNING / PV_NODE_HALTED */
	u8 idx;
};

/*
 * One CPU's nodes. `nesting` counts the nodes in use on this CPU; it is
 * only touched by this CPU, so interrupts nest on it like a stack.
 * Public (not static) so GDB, `lockstat` and the host tests can read it.
 */
struct qnode_cpu {
	struct mcs_node node[_Q_MAX_NODES];
	int nesting;
} __aligned(64);
extern struct qnode_cpu qnodes[NR_CPUS_MAX];

/*
 * Paravirt switch: true when a PV backend (KVM or halt+IPI) is active. It
 * changes at boot, before other CPUs run, and at run time only inside
 * stop_machine with every CPU out of the lock slow path (pv_switch.c),
 * because a lock marked slow by a PV head must be released by the PV unlock.
 */
extern bool qspinlock_pv_active;

void queued_spin_lock_slowpath(struct qspinlock *lock, u32 val);
void native_queued_spin_lock_slowpath(struct qspinlock *lock, u32 val);
void pv_queued_spin_lock_slowpath(struct qspinlock *lock, u32 val);
void __pv_queued_spin_unlock_slowpath(struct qspinlock *lock, u8 locked);
void __pv_queued_spin_unlock(struct qspinlock *lock);
/* The native backend's halt and kick (pv_ops.c): do nothing. */
bool pv_native_halt(bool irqs_were_on);
void pv_native_kick(int cpu);

#if !__STDC_HOSTED__
/*
 * In the kernel the two lock operations that differ between the native and
 * the paravirt lock are patch sites (kind lock op, asm/patch_site.h),
 * rewritten live by kernel/locking/lockop.c:
 *
 *   slow-path call   call native_queued_spin_lock_slowpath
 *                 or call pv_queued_spin_lock_slowpath
 *   unlock           movb $0,0(%rdi,%riz,1)         (native: the release store)
 *                 or call __pv_queued_spin_unlock_thunk   (PV: cmpxchg, kick)
 *
 * The slow-path call follows the C calling convention (lock in RDI, val in
 * ESI, caller-saved registers clobbered). The unlock site clobbers nothing:
 * the PV thunk saves every register it touches, so the native build of
 * spin_unlock is exactly the one store.
 */
extern u8 lockop_slot_slowpath, lockop_slot_unlock, lockop_slot_pv_halt, lockop_slot_pv_kick;

static __always_inline void lockop_slowpath_call(struct qspinlock *lock, u32 val)
{
	/* kind 3 = PATCH_SITE_LOCK_OP */
	__asm__ __volatile__("1: call native_queued_spin_lock_slowpath\n"
			     ".pushsection .patch_sites, \"a\"\n.balign 4\n"
			     ".long 1b - .\n.long 0\n.long %c[slot] - .\n.byte 5, 3\n.short 0\n"
			     ".popsection\n"
			     : "+D"(lock), "+S"(val)
			     : [slot] "i"(&lockop_slot_slowpath)
			     : "rax", "rcx", "rdx", "r8", "r9", "r10", "r11", "memory", "cc");
}

static __always_inline void lockop_unlock(struct qspinlock *lock)
{
	__asm__ __volatile__("1: .byte 0xc6, 0x44, 0x27, 0x00, 0x00\n"   /* movb $0,0(%rdi,%riz,1) */
			     ".pushsection .patch_sites, \"a\"\n.balign 4\n"
			     ".long 1b - .\n.long 0\n.long %c[slot] - .\n.byte 5, 3\n.short 0\n"
			     ".popsection\n"
			     : : "D"(lock), [slot] "i"(&lockop_slot_unlock) : "memory", "cc");
}

/*
 * The PV backend's wait and kick hooks, called only from the PV slow path and
 * the PV unlock (qspinlock_paravirt.h): `call <backend>_halt` and
 * `call <backend>_kick`, patch sites of their own slots switched in the same
 * batch as the two above (lockop.c); as compiled they call the native ones
 * (pv_ops.c), which do nothing. C calling convention: the argument in RDI,
 * halt's bool result in AL, caller-saved registers clobbered.
 */
static __always_inline bool lockop_pv_halt(bool irqs_were_on)
{
	unsigned long rdi = irqs_were_on, rax;

	__asm__ __volatile__("1: call pv_native_halt\n"
			     ".pushsection .patch_sites, \"a\"\n.balign 4\n"
			     ".long 1b - .\n.long 0\n.long %c[slot] - .\n.byte 5, 3\n.short 0\n"
			     ".popsection\n"
			     : "=a"(rax), "+D"(rdi)
			     : [slot] "i"(&lockop_slot_pv_halt)
			     : "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11", "memory", "cc");
	return (u8)rax != 0;
}

static __always_inline void lockop_pv_kick(int cpu)
{
	unsigned long rdi = (unsigned long)(long)cpu;

	__asm__ __volatile__("1: call pv_native_kick\n"
			     ".pushsection .patch_sites, \"a\"\n.balign 4\n"
			     ".long 1b - .\n.long 0\n.long %c[slot] - .\n.byte 5, 3\n.short 0\n"
			     ".popsection\n"
			     : "+D"(rdi)
			     : [slot] "i"(&lockop_slot_pv_kick)
			     : "rax", "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11", "memory", "cc");
}
#endif

static inline u32 queued_spin_value(const struct qspinlock *lock)
{
	return __atomic_load_n(&lock->val, __ATOMIC_RELAXED);
}

static inline bool queued_spin_is_locked(const struct qspinlock *lock)
{
	return (queued_spin_value(lock) & _Q_LOCKED_MASK) != 0;
}

/* The word is 0 when nobody holds, waits for or queues on the lock. */
static inline bool queued_spin_is_contended(const struct qspinlock *lock)
{
	return (queued_spin_value(lock) & ~_Q_LOCKED_MASK) != 0;
}

/* 0,0,0 -> 0,0,1 or fail. Acquire pairs with the release in unlock. */
static inline bool queued_spin_trylock(struct qspinlock *lock)
{
	u32 old = queued_spin_value(lock);

	if (old)
		return false;
	return __atomic_compare_exchange_n(&lock->val, &old, _Q_LOCKED_VAL, false,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

/*
 * The two lock operations. In the kernel they exist once, out of line
 * (kernel/locking/spinlock_ops.c), so the whole native/PV difference is four
 * patch sites in two functions rather than one pair in every caller: with
 * the operations inlined, a switch rewrote 297 sites spread over ~40 pages of
 * text, and under QEMU's TCG each write step made every vCPU re-translate
 * most of the kernel (a V2 switch at -smp 8 took ~12 ms idle, half of it
 * writing). Linux keeps them out of line on x86 too (_raw_spin_lock,
 * _raw_spin_unlock). The host tests compile these bodies inline.
 */
static __always_inline void __queued_spin_lock(struct qspinlock *lock)
{
	u32 old = 0;

	/* Fast path 0,0,0 -> 0,0,1; acquire pairs with the unlock's release. */
	if (likely(__atomic_compare_exchange_n(&lock->val, &old, _Q_LOCKED_VAL, false,
					       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))) {
		lockstat_inc(lockstat_qspinlock_class(), LS_FAST);
		return;
	}
#if __STDC_HOSTED__
	queued_spin_lock_slowpath(lock, old);
#else
	lockop_slowpath_call(lock, old);
#endif
}

static __always_inline void __queued_spin_unlock(struct qspinlock *lock)
{
#if !__STDC_HOSTED__
	lockop_unlock(lock);   /* the native store, or a call of __pv_queued_spin_unlock */
	return;
#endif
	if (qspinlock_pv_active) {
		/*
		 * PV unlock: *,*,1 -> *,*,0 by cmpxchg, because the head may have
		 * turned 1 into 3 (asleep) and then we must kick it. Release
		 * ordering pairs with the acquire of the next owner.
		 */
		u8 old = _Q_LOCKED_VAL;

		if (likely(__atomic_compare_exchange_n(&lock->locked, &old, 0, false,
						       __ATOMIC_RELEASE, __ATOMIC_ACQUIRE)))
			return;
		__pv_queued_spin_unlock_slowpath(lock, old);
		return;
	}
	/*
	 * Native unlock: one release store of the locked byte. On x86 a plain
	 * mov; everything in the critical section is ordered before it (TSO),
	 * pairing with the acquire of whoever takes the lock next.
	 */
	__atomic_store_n(&lock->locked, 0, __ATOMIC_RELEASE);
}

#if __STDC_HOSTED__
static inline void queued_spin_lock(struct qspinlock *lock) { __queued_spin_lock(lock); }
static inline void queued_spin_unlock(struct qspinlock *lock) { __queued_spin_unlock(lock); }
#else
void queued_spin_lock(struct qspinlock *lock);     /* out of line: spinlock_ops.c */
void queued_spin_unlock(struct qspinlock *lock);
/* bench pvswitch's comparators (spinlock_ops.c): the same, without a site. */
void queued_spin_lock_direct_native(struct qspinlock *q);
void queued_spin_lock_direct_pv(struct qspinlock *q);
void queued_spin_unlock_direct_native(struct qspinlock *q);
void queued_spin_unlock_direct_pv(struct qspinlock *q);
#endif

#endif
