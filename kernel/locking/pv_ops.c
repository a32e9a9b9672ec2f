/*
 * pv_ops.c — the installed paravirt lock backend.
 *
 * `pv_lock_ops` is what the PV slow path calls (halt, kick); a copy, so the
 * hot path reads it without a pointer chase. `qspinlock_pv_active` says
 * whether a PV backend is in: the slow path and the unlock choose their
 * form by it. pv_lock_ops_install() changes both; it is safe only while no
 * CPU is in a lock slow path — at boot before the other CPUs run
 * (pv_spinlock.c), or inside stop_machine (pv_switch.c).
 * Compiled into the host tests too (tests/unit/test_qspinlock.c installs
 * its own backend).
 */
#include <grace/lockstat.h>
#include <grace/qspinlock.h>
#include <grace/qspinlock_pv.h>

bool qspinlock_pv_active;

/* Native "hooks": what the halt and kick patch sites call as compiled and
 * with the native backend in (never reached then: only PV code calls them). */
bool pv_native_halt(bool irqs_were_on) { (void)irqs_were_on; return false; }
void pv_native_kick(int cpu) { (void)cpu; }

const struct pv_lock_ops pv_lock_ops_native = {
	.backend = PV_NATIVE, .name = "native",
	.halt = pv_native_halt, .kick = pv_native_kick,
};
struct pv_lock_ops pv_lock_ops = {
	.backend = PV_NATIVE, .name = "native",
	.halt = pv_native_halt, .kick = pv_native_kick,
};
char pv_spinlock_reason[96];
void pv_lock_ops_install(const struct pv_lock_ops *ops)
{
	pv_lock_ops = *ops;
	lockstat_qspin_class = (u8)(LOCK_CLASS_QSPIN_NATIVE + ops->backend);
	/* Unlocks must switch to the cmpxchg form before any head can write 3;
	 * the caller guarantees no CPU is in a slow path right now. */
	__atomic_store_n(&qspinlock_pv_active, ops->backend != PV_NATIVE, __ATOMIC_SEQ_CST);
}
