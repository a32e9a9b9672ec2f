/*
 * qspinlock_lab.c — the lock code's lab switches.
 *
 *   locktorture.bug=NAME[,NAME]  inject a bug into the lock code:
 *       pv_lost_wakeup  pv_wait halts without re-checking the value
 *       pv_drop_kick    PV kicks are never sent
 *       mcs_handover    a new queue head passes the head on before it owns
 *                       the lock (two CPUs in the critical section)
 *   qspinlock.race_delay_us=N    a random 0..N-1 µs pause at the race windows
 *
 * The lock code tests `qspinlock_bugs` and `lock_race_delay_us`, both 0
 * unless a lab asks: off, a switch costs one predictable branch and the
 * pause is never called (lock_env.h). Every bug has a scenario that must
 * catch it (locktorture-bug-*) and a case in tests/unit/test_qspinlock.c.
 */
#include <asm/cpu.h>
#include <grace/param.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/qspinlock_lab.h>
#include <grace/random.h>
#include <grace/time.h>
#include "lock_env.h"

static char lock_bug[48];
param_string("locktorture.bug", lock_bug,
	     "inject a lock bug: pv_lost_wakeup, pv_drop_kick, mcs_handover");

void qspinlock_lab_init(void)
{
	unsigned int bugs;

	if (lock_bug[0]) {
		if (qspinlock_parse_bugs(lock_bug, &bugs))
			printk("locktorture.bug=%s: unknown name (known: pv_lost_wakeup, "
			       "pv_drop_kick, mcs_handover), ignored\n", lock_bug);
		else {
			qspinlock_bugs = bugs;
			printk("locking: injected bug \"%s\" is ON\n", lock_bug);
		}
	}
}

/*
 * qspinlock.race_delay_us=N: a random 0..N-1 µs pause at the points where
 * the paravirt protocol races with a concurrent kick (lock_race_delay() in
 * qspinlock_paravirt.h: before the slow unlock's unhash and after its kick,
 * too), and at the native handovers (qspinlock.c: the pending waiter between
 * seeing the owner leave and taking the lock, the queue head before it takes
 * it). Widens those windows so locktorture meets the races in seconds
 * instead of hours; the correct code must pass with it on.
 */
int lock_race_delay_us;
param_int("qspinlock.race_delay_us", lock_race_delay_us, 0, 1000,
	  "random pause at the PV lock's race windows (torture)");
static DEFINE_PER_CPU(u64, race_rng);
DEFINE_STATIC_KEY_FALSE(lock_race_delay_key);   /* on iff lock_race_delay_us > 0 */

/* For a ktest that needs a window wide: set the delay (0 = off) and return
 * the old one. Patches the key's sites, so never with a spinlock held. */
int qspinlock_race_delay_set(int us)
{
	int old = lock_race_delay_us;

	if (us > 0) {
		WRITE_ONCE(lock_race_delay_us, us);
		static_branch_enable(&lock_race_delay_key);
	} else {
		static_branch_disable(&lock_race_delay_key);
		WRITE_ONCE(lock_race_delay_us, 0);
	}
	return old;
}

void __lock_race_delay(void)
{
	u64 *rng;

	rng = this_cpu_ptr(&race_rng);
	if (!*rng)
		*rng = rdtsc() | 1;
	int us = READ_ONCE(lock_race_delay_us);

	if (us > 0)   /* 0 while a test turns the key off */
		udelay(prandom_next(rng) % (u64)us);
}
