/*
 * pv_switch.c — change the paravirt spinlock backend on a running system.
 *
 * pv_spinlock_switch(b) installs backend b (native, kvm or ipi) and rewrites
 * the lock-op patch sites (kernel/locking/lockop.c) — by default with
 * Arora's V2 int3 + global barrier, no stop_machine (`pvswitch.method=v2`);
 * with `pvswitch.method=v1`, and for PV <-> PV changes (no text changes),
 * from inside stop_machine(), as below. What makes the stop_machine switch safe: the unlock form (store
 * or cmpxchg), the slow path's pending protocol (native) and the PV "head
 * awake" meaning of the same bit differ between backends, so no CPU may be in
 * a slow path, and no lock may hold the slow value 3, while the flag flips.
 *
 *  - A task in a slow path has preemption off (spin_lock does it), so its
 *    CPU's stopper thread cannot run until the task has the lock.
 *  - An interrupt handler's slow path ends before the interrupted task (and
 *    so the stopper) resumes; in the DISABLE_IRQ stage no new one starts.
 *  - NMIs are the exception: an NMI can land in the RUN stage. Code that
 *    takes spinlocks in NMI context (locktorture's NMI locks) brackets them
 *    with pv_nmi_lock_enter()/exit(); the switch sets pv_switch_in_progress,
 *    waits until no NMI user is inside, and new ones stay away.
 * Once every CPU is in the stopper, a lock word is 0 or "held, nobody
 * waiting" (0,0,1), which both backends read the same way. The PV hash is
 * then empty and every CPU's MCS nesting count 0; the switch checks both
 * and refuses (-EBUSY) otherwise.
 *
 * Shell: `pvspin` (pvspin_cmd.c). Test: ktest locking.pv_switch
 * (pv_switch_test.c: switches back and forth under contention, exact
 * counts); lock_bench.c switches around its PV runs; locktorture-pv-switch.
 */
#include <asm/cpu.h>
#include <grace/errno.h>
#include <grace/printk.h>
#include <grace/qspinlock.h>
#include <grace/qspinlock_pv.h>
#include <grace/sched.h>
#include <grace/smp.h>
#include <grace/spinlock.h>
#include <grace/stop_machine.h>
#include <grace/string.h>
#include <grace/time.h>
#include "lockop.h"

bool pv_switch_in_progress;
static u32 pv_nmi_users;   /* NMI-context lock users inside a lock section now */

/*
 * A gate: users count themselves in and then read the flag; the switcher
 * sets the flag and then waits for the count to drain. With both sides
 * sequentially consistent, either a user sees the flag and stays away, or
 * the switcher sees the user and waits for it.
 */
static bool gate_enter(u32 *inside, const bool *closed)
{
	__atomic_add_fetch(inside, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(closed, __ATOMIC_SEQ_CST)) {
		__atomic_sub_fetch(inside, 1, __ATOMIC_SEQ_CST);
		return false;
	}
	return true;
}

/* NMI-context lock users bracket their spin_lock..spin_unlock with these. */
bool pv_nmi_lock_enter(void)
{
	return gate_enter(&pv_nmi_users, &pv_switch_in_progress);
}

void pv_nmi_lock_exit(void)
{
	__atomic_sub_fetch(&pv_nmi_users, 1, __ATOMIC_SEQ_CST);
}

/*
 * Sections that depend on the backend staying put (pv_switch_exclude_enter/
 * exit, qspinlock_pv.h) have a gate of their own: V2 lets NMI lock users
 * run during a switch, but not these.
 */
static bool pv_switch_excluding;
static u32 pv_exclude_users;

bool pv_switch_exclude_enter(void)
{
	return gate_enter(&pv_exclude_users, &pv_switch_excluding);
}

void pv_switch_exclude_exit(void)
{
	__atomic_sub_fetch(&pv_exclude_users, 1, __ATOMIC_SEQ_CST);
}

static enum pv_backend boot_backend;   /* the boot choice and its reason */
static char boot_reason[sizeof(pv_spinlock_reason)];
static bool boot_saved;

struct pv_switch_req {
	const struct pv_lock_ops *ops;
	int ret;
};

int pv_spinlock_switch(enum pv_backend b)
{
	struct pv_switch_req r = { .ops = b < PV_NR_BACKENDS ? pv_backend_ops(b) : NULL, .ret = 0 };
	int err;

	if (!r.ops) {
		printk("pvspin: backend %s is not available here%s\n",
		       b < PV_NR_BACKENDS ? pv_backend_name(b) : "?",
		       b == PV_KVM ? " (needs KVM with PV_UNHALT)" : "");
		return -EINVAL;
	}
	if (pv_lock_ops.backend == b)
		return 0;
	if (!boot_saved) {
		boot_backend = pv_lock_ops.backend;
		memcpy(boot_reason, pv_spinlock_reason, sizeof(boot_reason));
		boot_saved = true;
	}
	__atomic_store_n(&pv_switch_excluding, true, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&pv_exclude_users, __ATOMIC_SEQ_CST))
		cond_resched();   /* such a section may run on this CPU's other threads */
	/* V1 keeps NMI lock users out; V2 counts them like any other context. */
	if (strcmp(lockop_method(), "v2") || qspinlock_pv_active == (b != PV_NATIVE)) {
		__atomic_store_n(&pv_switch_in_progress, true, __ATOMIC_SEQ_CST);
		while (__atomic_load_n(&pv_nmi_users, __ATOMIC_SEQ_CST))
			cpu_relax();
	}
	err = lockop_switch(r.ops);   /* patches the lock-op sites: lockop.c */
	__atomic_store_n(&pv_switch_in_progress, false, __ATOMIC_SEQ_CST);
	__atomic_store_n(&pv_switch_excluding, false, __ATOMIC_SEQ_CST);
	r.ret = err;
	if (err == -EAGAIN) {
		printk("pvspin: the V2 barrier did not complete in time (%u of %u CPUs crossed, "
		       "%u old lock operations still counted); old lock text restored\n",
		       lockop_stats.last_abort_crossed, num_online_cpus(), lockop_stats.last_abort_active);
		return err;
	}
	if (r.ret) {
		printk("pvspin: a lock slow path is in progress with every CPU stopped "
		       "(%u PV hash entries): not switching\n", pv_hash_entries_in_use());
		return r.ret;
	}
	if (b == boot_backend)
		memcpy(pv_spinlock_reason, boot_reason, sizeof(boot_reason));
	else
		snprintf(pv_spinlock_reason, sizeof(pv_spinlock_reason), "switched live; boot choice %s",
			 pv_backend_name(boot_backend));
	return 0;
}
