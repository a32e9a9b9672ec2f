/*
 * idle.c — what a CPU does when it has nothing to do, and how it leaves.
 *
 * Every CPU runs its idle task ("swapper/N") when its runqueue is empty.
 * The idle task never sleeps; it halts the CPU until an interrupt:
 *
 *   loop:
 *     interrupts off
 *     CPU no longer online and nothing left to run?  → report dead, play dead
 *     something to run (need_resched / queue)?        → interrupts on, schedule()
 *     else                                            → sti; hlt
 *
 * The test and the halt are one step as far as wake-ups are concerned: the
 * test runs with interrupts off, and `sti; hlt` enables them only for the
 * hlt (sti takes effect after the next instruction), so a wake-up IPI sent
 * after the test is taken *by* the hlt and ends it. No wake-up is lost.
 *
 * Hotplug: an AP enters cpu_startup_entry(CPUHP_AP_ONLINE_IDLE) from
 * start_secondary() on its boot stack as its idle task (made `current` by
 * CPUHP_CREATE_THREADS) and first tells the state machine it is up
 * (cpuhp_online_idle: the hotplug thread takes over from here). Going down,
 * take_cpu_down() clears the CPU from the online mask inside stop_machine;
 * the stopper returns, per-CPU threads still runnable there finish, and the
 * idle loop finds the CPU offline with an empty queue: it reports
 * (cpuhp_report_idle_dead) and halts for good in arch_play_dead(), interrupts
 * off. Only INIT-SIPI brings it back, into a fresh start_secondary().
 * The boot CPU enters from rest_init() and never goes offline.
 * Test: every scenario (idle CPUs halt); hotplug tests (play dead).
 */
#include <asm/cpu.h>
#include <asm/smpboot.h>
#include <grace/cpuhotplug.h>
#include <grace/kthread.h>
#include <grace/panic.h>
#include <grace/rcupdate.h>
#include <grace/sched.h>
#include <grace/time.h>

#include "sched.h"

void cpu_startup_entry(enum cpuhp_state state)
{
	unsigned int cpu = smp_processor_id();
	struct rq *rq = this_rq();

	BUG_ON(current != rq->idle);
	local_irq_enable();
	if (state == CPUHP_AP_ONLINE_IDLE)
		cpuhp_online_idle(state);
	for (;;) {
		watchdog_touch();
		cli();
		if (!cpu_online(cpu) && !rq_has_runnable(rq)) {
			rcutree_report_cpu_dead();   /* after this CPU's last reader */
			cpuhp_report_idle_dead();
			arch_play_dead();
		}
		if (need_resched() || rq_has_runnable(rq)) {
			sti();
			schedule();
			continue;
		}
		tick_nohz_idle_enter();   /* nohz=1: no tick if nothing needs one */
		rcu_idle_enter();      /* an extended quiescent state until woken */
		safe_halt();
		rcu_idle_exit();
		tick_nohz_idle_exit();
	}
}

void rest_init(int (*fn)(void *), void *arg)
{
	struct task_struct *init = kthread_create(fn, arg, "init");

	if (!init)
		panic("sched: cannot create the init thread");
	wake_up_process(init);
	cpu_startup_entry(CPUHP_ONLINE);
}
