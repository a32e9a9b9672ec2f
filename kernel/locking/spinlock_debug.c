/*
 * spinlock_debug.c — DEBUG-build checks around spin_lock/spin_unlock.
 *
 * With CONFIG_DEBUG each spinlock_t records the CPU that holds it, so two
 * mistakes that otherwise hang or corrupt silently are reported at once:
 *   - recursive acquire: this CPU already holds the lock it is about to wait
 *     for (it would spin forever; typically an interrupt handler taking a
 *     lock its interrupted task holds without _irqsave);
 *   - unlock of a lock this CPU does not hold (or that is not held at all).
 * Each report is a WARN_ON (a backtrace and "WARNING:", which the scenario
 * harness counts as failure).
 *
 * Locks that are variables are named (the kernel's data-symbol table), others
 * shown by address.
 *
 * Each CPU also keeps a small stack of the spinlocks it holds and the call
 * site that took each (HELD_MAX deep; deeper nesting is counted, not
 * tracked). Its users report, by name, a lock held where that is forbidden:
 *   - schedule() and might_sleep() (kernel/sched/core.c): sleeping or a
 *     context switch with a spinlock held ("BUG: scheduling while holding a
 *     spinlock", then the list);
 *   - the hotplug core (kernel/cpu.c): a spinlock held when a step that may
 *     sleep is invoked, or a callback that returns holding one.
 * The list is per CPU, not per task: a spinlock holder cannot leave its CPU
 * (preemption is off), and the runqueue lock that the scheduler takes in one
 * task and drops in the next stays on the same CPU.
 *
 * Interrupts and NMIs take and drop locks on the same stack, always
 * balanced before they return. So a push first reserves its slot (depth++)
 * and only then fills it: an interrupt arriving in between works above the
 * reserved slot and leaves it alone. A pop removes its lock wherever it is
 * (locks may be dropped out of order) by shifting the entries above it down
 * and then decrementing depth; an interrupt in the middle pushes and pops at
 * the old top, beyond the entries being moved.
 *
 * Tests: scenarios lockdebug-* (the `lockbug` command commits each mistake on
 * purpose, DEBUG build) and every DEBUG-build scenario (no false reports).
 * Release builds compile none of this.
 */
#include <grace/backtrace.h>
#include <grace/panic.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/spinlock.h>
#include <grace/string.h>

#ifdef CONFIG_DEBUG
#define HELD_MAX 8

struct spin_held {
	int depth;                       /* entries in use, may exceed HELD_MAX */
	struct {
		spinlock_t *lock;
		unsigned long ip;
	} e[HELD_MAX];
};
static DEFINE_PER_CPU(struct spin_held, spin_held);

/* "bug_lock", "runqueue_lock+0x40" for a variable (ksym data table), else the address. */
static const char *lock_name(spinlock_t *l, char *buf, size_t len)
{
	unsigned long off, size;
	const char *name = ksym_data_lookup((unsigned long)l, &off, &size);

	if (!name)
		snprintf(buf, len, "%p", (void *)l);
	else if (off)
		snprintf(buf, len, "%s+0x%lx", name, off);
	else
		snprintf(buf, len, "%s", name);
	return buf;
}

void spin_debug_before_acquire(spinlock_t *l)
{
	if (spin_is_locked(l) && READ_ONCE(l->owner_cpu) == (int)smp_processor_id()) {
		char nm[64];

		printk("BUG: recursive spin_lock of %s on CPU %u: this CPU already holds it\n",
		       lock_name(l, nm, sizeof(nm)), smp_processor_id());
		spin_debug_print_held();
		WARN_ON(1);
	}
}

void spin_debug_acquire(spinlock_t *l)
{
	struct spin_held *h = this_cpu_ptr(&spin_held);
	int d = h->depth;

	WRITE_ONCE(l->owner_cpu, (int)smp_processor_id());
	WRITE_ONCE(h->depth, d + 1);   /* reserve, then fill (see above) */
	barrier();
	if (d < HELD_MAX) {
		h->e[d].lock = l;
		/* The spin_lock*() caller: every debug hook is called from an
		 * inline in spinlock.h, so one frame up is the code that locks. */
		h->e[d].ip = (unsigned long)__builtin_return_address(0);
	}
}

static void held_pop(spinlock_t *l)
{
	struct spin_held *h = this_cpu_ptr(&spin_held);
	int d = h->depth, top = d < HELD_MAX ? d : HELD_MAX;

	if (d == 0)
		return;   /* forgotten after a report */
	for (int i = top - 1; i >= 0; i--) {
		if (h->e[i].lock != l)
			continue;
		for (int j = i; j < top - 1; j++)
			h->e[j] = h->e[j + 1];
		barrier();
		WRITE_ONCE(h->depth, d - 1);
		return;
	}
	if (d > HELD_MAX)   /* an untracked deep one */
		WRITE_ONCE(h->depth, d - 1);
}

void spin_debug_release(spinlock_t *l)
{
	if (!spin_is_locked(l) || READ_ONCE(l->owner_cpu) != (int)smp_processor_id()) {
		char nm[64];

		printk("BUG: spin_unlock of %s on CPU %u: %s\n", lock_name(l, nm, sizeof(nm)),
		       smp_processor_id(), spin_is_locked(l) ? "held by another CPU" : "not held");
		WARN_ON(1);
	}
	WRITE_ONCE(l->owner_cpu, -1);
	held_pop(l);
}

int spin_held_count(void)
{
	return READ_ONCE(this_cpu_ptr(&spin_held)->depth);
}

void spin_debug_print_held(void)
{
	struct spin_held *h = this_cpu_ptr(&spin_held);
	int d = h->depth;

	printk("%d spinlock%s held by CPU %u:\n", d, d == 1 ? "" : "s", smp_processor_id());
	for (int i = 0; i < d && i < HELD_MAX; i++) {
		unsigned long off, size;
		const char *fn = ksym_lookup(h->e[i].ip, &off, &size);
		char nm[64];

		printk("  #%d: lock %s taken at %s+0x%lx\n", i, lock_name(h->e[i].lock, nm, sizeof(nm)),
		       fn ? fn : "?", fn ? off : 0UL);
	}
	if (d > HELD_MAX)
		printk("  ... and %d more (not tracked)\n", d - HELD_MAX);
}

void spin_debug_forget_held(void)
{
	WRITE_ONCE(this_cpu_ptr(&spin_held)->depth, 0);
}
#endif
