/*
 * lockbug.c — commit a spinlock mistake on purpose and watch the DEBUG
 * checks name it (coursework labs, and the lockdebug-* scenarios).
 *
 *   lockbug recursive      take a lock this CPU already holds (a timer on
 *                          this CPU drops the first hold 50 ms later, so the
 *                          demo ends instead of spinning forever)
 *   lockbug unlock         another CPU unlocks a lock this CPU holds
 *   lockbug sleep          msleep() with a spinlock held
 *   lockbug hotplug-held   install a hotplug state (its PREPARE step runs
 *                          right away) while holding a spinlock
 *   lockbug hotplug-leak   a hotplug callback returns holding a spinlock
 *
 * Each one is reported by the check that guards it (spinlock_debug.c, the
 * scheduler, the hotplug core) and then repaired by the demo so the machine
 * goes on. Release builds have no checks: the command says so and does
 * nothing.
 */
#include <grace/cpuhotplug.h>
#include <grace/delay.h>
#include <grace/kthread.h>
#include <grace/printk.h>
#include <grace/sched.h>
#include <grace/shell.h>
#include <grace/smp.h>
#include <grace/spinlock.h>
#include <grace/string.h>
#include <grace/timer.h>

#ifdef CONFIG_DEBUG
static DEFINE_SPINLOCK(bug_lock);

static void drop_first_hold(struct timer_list *t)
{
	(void)t;
	raw_spin_unlock(&bug_lock);   /* same CPU: the owner check is satisfied */
	preempt_enable_no_resched();
}

static void bug_recursive(void)
{
	static struct timer_list t;

	spin_lock(&bug_lock);
	timer_setup(&t, drop_first_hold, 0);
	mod_timer(&t, jiffies + msecs_to_jiffies(50));
	spin_lock(&bug_lock);   /* reported, then waits for the timer */
	spin_unlock(&bug_lock);
}

static void remote_unlock(void *arg)
{
	raw_spin_unlock(arg);   /* not the owner: reported */
}

static void bug_unlock(void)
{
	unsigned int me, other;

	spin_lock(&bug_lock);
	me = smp_processor_id();
	other = cpumask_next_from(me + 1, &cpu_online_mask);
	if (other >= nr_cpu_ids)
		other = cpumask_first(&cpu_online_mask);
	if (other == me) {
		printk("lockbug unlock: needs a second CPU\n");
		spin_unlock(&bug_lock);
		return;
	}
	smp_call_function_single(other, remote_unlock, &bug_lock, 1);
	/* Repair: it is unlocked; drop our preemption count and our record. */
	spin_debug_forget_held();
	preempt_enable();
}

static bool sleeper_done;
static int sleeper(void *arg)
{
	(void)arg;
	spin_lock(&bug_lock);
	msleep(5);            /* reported by schedule() */
	/* Repair: schedule() carried on with a zero count; give the lock's back. */
	preempt_count_inc();
	spin_unlock(&bug_lock);
	WRITE_ONCE(sleeper_done, true);
	while (!kthread_should_stop())
		msleep(1);
	return 0;
}

static void bug_sleep(void)
{
	struct task_struct *t = kthread_create(sleeper, NULL, "lockbug");

	if (!t)
		return;
	kthread_bind(t, smp_processor_id());   /* unlock where it locked */
	sleeper_done = false;
	wake_up_process(t);
	while (!READ_ONCE(sleeper_done))
		msleep(1);
	kthread_stop(t);
}

static int noop_cb(unsigned int cpu) { (void)cpu; return 0; }

static bool leaked;
static int leak_cb(unsigned int cpu)
{
	(void)cpu;
	if (!leaked) {
		leaked = true;
		spin_lock(&bug_lock);   /* and return holding it */
	}
	return 0;
}

static void bug_hotplug(bool leak)
{
	int s;

	if (!leak)
		spin_lock(&bug_lock);
	leaked = false;
	s = cpuhp_setup_state(CPUHP_BP_PREPARE_DYN, "lockbug:prepare", leak ? leak_cb : noop_cb, NULL);
	if (!leak || leaked)
		spin_unlock(&bug_lock);
	if (s >= 0)
		cpuhp_remove_state((enum cpuhp_state)s);
}
#endif

static int cmd_lockbug(int argc, char **argv)
{
	if (argc != 2)
		return 1;
#ifdef CONFIG_DEBUG
	if (!strcmp(argv[1], "recursive"))
		bug_recursive();
	else if (!strcmp(argv[1], "unlock"))
		bug_unlock();
	else if (!strcmp(argv[1], "sleep"))
		bug_sleep();
	else if (!strcmp(argv[1], "hotplug-held"))
		bug_hotplug(false);
	else if (!strcmp(argv[1], "hotplug-leak"))
		bug_hotplug(true);
	else
		return 1;
	printk("lockbug %s: done\n", argv[1]);
	return 0;
#else
	printk("lockbug: the lock checks exist only in DEBUG builds (make DEBUG=1)\n");
	return SHELL_CMD_FAILED;
#endif
}
SHELL_COMMAND(lockbug, "lockbug", "lockbug recursive|unlock|sleep|hotplug-held|hotplug-leak",
	      "commit a spinlock mistake on purpose (DEBUG builds report it)", cmd_lockbug);
