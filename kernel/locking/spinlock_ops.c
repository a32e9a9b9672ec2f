/*
 * spinlock_ops.c — the queued spinlock's lock and unlock, out of line.
 *
 * spin_lock() and spin_unlock() (include/grace/spinlock.h) stay inline for
 * their preemption and debug work and call these two, whose bodies are
 * __queued_spin_lock()/__queued_spin_unlock() (include/grace/qspinlock.h):
 * the fast-path cmpxchg, then the slow-path call site; the unlock site
 * (native release store, or a call of the PV unlock thunk). So the text that
 * differs between the native and the paravirt lock is two sites here plus
 * the PV wait/kick hooks in the slow path, and a live switch
 * (kernel/locking/lockop.c) patches four sites on two or three pages.
 *
 * Why not inline, as it first was: 297 sites across ~40 pages of kernel
 * text. Every text_poke_bp step wrote all of them, and under QEMU's TCG a
 * write into a page of code discards every translation of that page, so
 * after each step every vCPU re-translated most of what it ran (the sync's
 * IPI path included): writing alone took ~1.1 ms per step at -smp 8, five
 * steps per switch. Out of line costs one call and return per operation;
 * `bench pvswitch` (lock_after_switch_*) compares it with the same
 * out-of-line functions written without a site (the *_direct_* ones below,
 * for that benchmark only). All of them, and the PV unlock thunk, sit in
 * section .text.lockops, which linker.ld keeps together: under TCG a call
 * or return across a page costs a translation-cache lookup that one within
 * a page does not (blocks chain only inside a page), and the comparison
 * must not measure where the linker happened to put a function (first
 * measured with the comparators in pvswitch_bench.c: 24-61 cycles apart
 * with identical instructions).
 *
 * Invariants (checked by lockop.c's site table and patchcheck): exactly one
 * slow-path call site and one unlock site in the kernel image; V2's
 * emulation relies on the lock pointer being in RDI at both (the asm
 * constraints of lockop_slowpath_call()/lockop_unlock() pin it there).
 * Test: every lock test; ktest locking.*, scenarios pvswitch-*.
 */
#include <grace/compiler.h>
#include <grace/lockstat.h>
#include <grace/qspinlock.h>

#define __lockops __noinline __section(".text.lockops")

__lockops void queued_spin_lock(struct qspinlock *lock)
{
	__queued_spin_lock(lock);
}

__lockops void queued_spin_unlock(struct qspinlock *lock)
{
	__queued_spin_unlock(lock);
}

/*
 * bench pvswitch's comparators: a build without patch sites, the slow-path
 * call and the unlock written for one backend (the instruction the site
 * holds in that backend, compiled in). Global, so the compiler
 * cannot specialise them for the bench's one lock (as static functions they
 * were, and dropped the lock argument).
 */
/* The fast path of __queued_spin_lock() with the slow-path call compiled in. */
static __always_inline void lock_direct(struct qspinlock *q, bool pv)
{
	u32 old = 0;

	if (likely(__atomic_compare_exchange_n(&q->val, &old, _Q_LOCKED_VAL, false,
					       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)))
		lockstat_inc(lockstat_qspinlock_class(), LS_FAST);
	else if (pv)
		pv_queued_spin_lock_slowpath(q, old);
	else
		native_queued_spin_lock_slowpath(q, old);
}

__lockops void queued_spin_lock_direct_native(struct qspinlock *q) { lock_direct(q, false); }
__lockops void queued_spin_lock_direct_pv(struct qspinlock *q) { lock_direct(q, true); }

__lockops void queued_spin_unlock_direct_native(struct qspinlock *q)
{
	__atomic_store_n(&q->locked, 0, __ATOMIC_RELEASE);
}

/* The PV build's unlock: a call of the same thunk the PV site calls (as
 * Linux's PV build calls its callee-save unlock thunk), compiled in. */
__lockops void queued_spin_unlock_direct_pv(struct qspinlock *q)
{
	__asm__ __volatile__("call __pv_queued_spin_unlock_thunk" : : "D"(q) : "memory", "cc");
}
