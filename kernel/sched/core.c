/*
 * core.c — runqueues, schedule(), wake-ups, preemption and task placement.
 *
 * One runqueue per possible CPU (struct rq): a spinlock, the running task
 * (curr), the idle task, the stopper, and a FIFO of runnable tasks that are
 * not running. schedule() puts a still-runnable current task at the back of
 * the FIFO and runs the front one: round robin, `sched.timeslice` ticks each.
 *
 * Locking. rq->lock protects the queue and, for every task whose p->cpu is
 * this CPU, p->state (of a sleeping task), p->on_rq, p->on_cpu and p->cpu.
 * It is always taken with interrupts off (the tick and the wake-ups from
 * interrupt handlers take it too). Only one rq lock is ever held at a time:
 * a task moves between queues by being *detached* under the old lock
 * (on_rq = MIGRATING, p->cpu = new CPU), the old lock dropped, and
 * *attached* under the new one. task_rq_lock() waits out MIGRATING, so no
 * one acts on a task in transit. Lock order: wait-queue / mutex / timer-base
 * locks may be held when taking an rq lock, never the reverse.
 *
 * The switch. __schedule() holds this CPU's rq lock across the switch; the
 * task switched *to* releases it (finish_task_switch). So for any task p:
 * holding p's rq lock and seeing p->on_rq == 0 means p is completely off
 * every CPU — the wake-up race argument in one sentence. A task that must
 * leave this CPU while running (its affinity changed) is switched out first
 * and moved by finish_task_switch(), after it stopped using its stack.
 *
 * Preemption (preempt.h): the tick marks need_resched when the time slice is
 * used up and another task waits; a wake-up does when this CPU is idle or
 * the woken task is the stopper. The switch then happens at the next
 * preemption point: preempt_enable() at count 0, or the end of an interrupt
 * that hit code with interrupts on and count 0 (irq_exit_preempt).
 *
 * Checks (always on; they cost a compare): schedule() with a non-zero
 * preempt count ("BUG: scheduling while atomic"), or with interrupts off, or
 * in an interrupt handler, or by an idle task ("BUG: sleeping ..."); each
 * prints the task and a WARNING with a backtrace.
 *
 * Tests: ktests sched.* (sched_test.c); hotplug.bind and the hotplug torture
 * exercise migration.
 */
#include <asm/apic.h>
#include <asm/barrier.h>
#include <asm/cpu.h>
#include <asm/irq_vectors.h>
#include <grace/backtrace.h>
#include <grace/delay.h>
#include <grace/errno.h>
#include <grace/irq.h>
#include <grace/kthread.h>
#include <grace/mm.h>
#include <grace/panic.h>
#include <grace/param.h>
#include <grace/printk.h>
#include <grace/rcupdate.h>
#include <grace/rculist.h>
#include <grace/sched.h>
#include <grace/smp.h>
#include <grace/smpboot.h>
#include <grace/string.h>
#include <grace/timer.h>
#include <grace/workqueue.h>

#include "sched.h"

DEFINE_PER_CPU(struct task_struct *, current_task);
DEFINE_PER_CPU(int, sched_need_resched);
DEFINE_PER_CPU(struct rq, runqueues);

bool sched_ready;

static int sched_timeslice = 3;
param_int("sched.timeslice", sched_timeslice, 1, 1000, "round-robin time slice, in ticks");
/* Debug: a task in transit between runqueues stays MIGRATING (both locks
 * dropped) this long; ktest sched.migrate_race sets it to meet the window. */
int sched_migrate_delay_us;
param_int("sched.migrate_delay_us", sched_migrate_delay_us, 0, 10000,
	  "debug: pause N us in a task's move between runqueues, between the two locks");
static bool sched_preempt = true;
param_bool("sched.preempt", sched_preempt, "preempt tasks on the tick and at interrupt exit");

/* The boot CPU's idle task: kmain's context, on the boot stack. */
static struct task_struct init_task;

LIST_HEAD(task_list);
DEFINE_SPINLOCK(task_list_lock);
static int next_tid;

extern struct task_struct *__switch_to_asm(struct task_struct *prev, struct task_struct *next);
extern char ret_from_fork[];

/* ---- small helpers ------------------------------------------------------- */

static inline bool task_on_its_rq_running(struct rq *rq, struct task_struct *p)
{
	return rq->curr == p;
}

bool is_idle_task(const struct task_struct *p)
{
	return p && (p->flags & PF_IDLE);
}

struct task_struct *idle_task(unsigned int cpu)
{
	return cpu_rq(cpu)->idle;
}

/* Mark the running task of `rq` for a switch and make its CPU notice. */
void resched_curr(struct rq *rq)
{
	unsigned int cpu = rq->cpu;

	if (per_cpu(sched_need_resched, cpu))
		return;
	per_cpu(sched_need_resched, cpu) = 1;
	if (cpu == smp_processor_id())
		return;
	/* Pairs with the interrupt: the flag is visible before the IPI lands
	 * (the ICR write is a serializing MMIO store after this one). */
	smp_mb();
	if (cpu_online(cpu))
		smp_send_reschedule(cpu);
}

/* Lock the runqueue `p` belongs to, waiting out a move in progress.
 * Interrupts must already be off. */
struct rq *task_rq_lock(struct task_struct *p)
{
	for (;;) {
		struct rq *rq = cpu_rq(task_cpu(p));

		spin_lock(&rq->lock);
		if (rq->cpu == task_cpu(p) && READ_ONCE(p->on_rq) != TASK_ON_RQ_MIGRATING)
			return rq;
		spin_unlock(&rq->lock);
		while (READ_ONCE(p->on_rq) == TASK_ON_RQ_MIGRATING)
			cpu_relax();
	}
}

/*
 * Invariants, checked on every enqueue (two loads and a compare): a task is
 * on at most one queue, and a task that is executing on a CPU is queued only
 * by that CPU's own __schedule() putting it back at the tail (rq->curr).
 * A wake-up that queues a task still running (ttwu forgetting the on_rq
 * case) breaks the second at once, before the list is corrupted.
 */
static void enqueue_task(struct rq *rq, struct task_struct *p)
{
	if (unlikely(!list_empty(&p->run_list)))
		panic("sched: enqueue of %s (tid %d) on CPU %u: already on a runqueue",
		      p->comm, p->tid, rq->cpu);
	if (unlikely(READ_ONCE(p->on_cpu) && p != rq->curr))
		panic("sched: enqueue of %s (tid %d) on CPU %u while it runs on CPU %u",
		      p->comm, p->tid, rq->cpu, task_cpu(p));
	if (p != rq->stop && p != rq->idle) {
		list_add_tail(&p->run_list, &rq->queue);
		rq->nr_queued++;
	}
}

static void dequeue_task(struct rq *rq, struct task_struct *p)
{
	if (!list_empty(&p->run_list)) {
		list_del_init(&p->run_list);
		rq->nr_queued--;
	}
}

/* A newly runnable task on `rq`: does it have to run before the current one? */
static void check_preempt(struct rq *rq, struct task_struct *p)
{
	if (rq->curr == rq->idle || (p == rq->stop && rq->curr != p))
		resched_curr(rq);
}

/* ---- placement ------------------------------------------------------------- */

bool is_cpu_allowed(struct task_struct *p, unsigned int cpu)
{
	if (!cpumask_test_cpu(cpu, &p->cpus_allowed))
		return false;
	if (p->flags & PF_PERCPU)
		return true;    /* its own CPU, online or about to be */
	return cpumask_test_cpu(cpu, &cpu_active_mask);
}

/*
 * Nowhere allowed to go: widen the task's affinity to every CPU, as Linux
 * does for a task whose CPUs all went away, and say so.
 */
static unsigned int select_fallback_rq(struct task_struct *p)
{
	unsigned int cpu;

	printk("sched: thread %d (%s) is no longer affine to CPU %u; it may now run anywhere\n",
	       p->tid, p->comm, task_cpu(p));
	cpumask_copy(&p->cpus_allowed, &cpu_possible_mask);
	p->flags &= ~(PF_PERCPU | PF_NO_SETAFFINITY);
	cpu = cpumask_first(&cpu_active_mask);
	return cpu < NR_CPUS ? cpu : 0;
}

/* Where should `p` (not running, on no queue) go? New tasks are spread over
 * the least loaded allowed CPUs; others stay where they were if they may. */
static unsigned int select_task_rq(struct task_struct *p, bool spread)
{
	unsigned int cpu, best = NR_CPUS, best_load = ~0u;

	if (!spread && is_cpu_allowed(p, task_cpu(p)))
		return task_cpu(p);
	for_each_cpu(cpu, &p->cpus_allowed) {
		if (!is_cpu_allowed(p, cpu))
			continue;
		struct rq *rq = cpu_rq(cpu);
		unsigned int load = READ_ONCE(rq->nr_queued) + (READ_ONCE(rq->curr) != rq->idle);

		if (load < best_load) {
			best = cpu;
			best_load = load;
		}
	}
	if (best == NR_CPUS)
		best = select_fallback_rq(p);
	return best;
}

/*
 * Move `p` (detached: on no queue, not running) from `src` (locked) to
 * `dest_cpu`. Returns with `src` unlocked and `p` queued on dest_cpu.
 * Interrupts stay off throughout.
 */
static void move_task_unlock(struct rq *src, struct task_struct *p, unsigned int dest_cpu)
{
	struct rq *dst = cpu_rq(dest_cpu);

	WRITE_ONCE(p->on_rq, TASK_ON_RQ_MIGRATING);
	WRITE_ONCE(p->cpu, dest_cpu);
	spin_unlock(&src->lock);
	if (unlikely(READ_ONCE(sched_migrate_delay_us)))
		udelay((unsigned long)sched_migrate_delay_us);   /* in transit, no lock held */

	spin_lock(&dst->lock);
	enqueue_task(dst, p);
	/* Pairs with the spin in task_rq_lock(): cpu and queue are set first. */
	smp_store_release(&p->on_rq, TASK_ON_RQ_QUEUED);
	check_preempt(dst, p);
	spin_unlock(&dst->lock);
}

/* ---- wake-ups ---------------------------------------------------------------- */

static int try_to_wake_up(struct task_struct *p, unsigned int state)
{
	unsigned long flags = local_irq_save();
	struct rq *rq = task_rq_lock(p);
	int ret = 0;

	if (!(p->state & state))
		goto out;
	ret = 1;
	if (p->on_rq == TASK_ON_RQ_QUEUED) {
		/* Still runnable (between set_current_state and schedule, or
		 * preempted there): it only has to not go to sleep. */
		WRITE_ONCE(p->state, TASK_RUNNING);
		goto out;
	}
	/* Asleep and, since we hold its rq lock, completely off its CPU. */
	unsigned int cpu = select_task_rq(p, !p->ran);

	WRITE_ONCE(p->state, TASK_RUNNING);
	if (cpu != rq->cpu) {
		move_task_unlock(rq, p, cpu);
		local_irq_restore(flags);
		return ret;
	}
	enqueue_task(rq, p);
	WRITE_ONCE(p->on_rq, TASK_ON_RQ_QUEUED);
	check_preempt(rq, p);
out:
	spin_unlock(&rq->lock);
	local_irq_restore(flags);
	return ret;
}

int wake_up_process(struct task_struct *p)
{
	return try_to_wake_up(p, TASK_NORMAL | TASK_NEW);
}

int wake_up_state(struct task_struct *p, unsigned int state)
{
	return try_to_wake_up(p, state);
}

/* ---- the switch ------------------------------------------------------------------ */

static struct task_struct *pick_next_task(struct rq *rq)
{
	struct task_struct *p;

	if (rq->stop && rq->stop->on_rq == TASK_ON_RQ_QUEUED)
		return rq->stop;
	if (list_empty(&rq->queue))
		return rq->idle;
	p = list_first_entry(&rq->queue, struct task_struct, run_list);
	dequeue_task(rq, p);
	return p;
}

/*
 * After the switch, on the new task's stack, with this CPU's rq lock held
 * and interrupts off: let go of the previous task. Every variable is read
 * afresh: the task that resumes here may have left from another CPU.
 */
static void finish_task_switch(struct task_struct *prev)
{
	struct rq *rq = this_rq();
	struct task_struct *mig = rq->migrate_prev;
	bool prev_dead = prev->state == TASK_DEAD && !prev->on_rq;

	rq->migrate_prev = NULL;
	/* Pairs with the waits on on_cpu (set_cpus_allowed_ptr, kthread_park):
	 * everything prev did is visible once it reads as off the CPU. */
	smp_store_release(&prev->on_cpu, 0);
	if (mig) {
		/* prev must run elsewhere (its affinity changed while it ran). */
		move_task_unlock(rq, mig, select_task_rq(mig, false));
	} else {
		spin_unlock(&rq->lock);
	}
	if (prev_dead)
		put_task_struct(prev);   /* the reference the task held on itself */
}

/* The first thing a new task runs (from ret_from_fork). */
void schedule_tail(struct task_struct *prev);
void schedule_tail(struct task_struct *prev)
{
	finish_task_switch(prev);
	sti();
	preempt_enable();
}

/*
 * Pick the next task and switch to it. `preempt`: the current task is being
 * preempted, so it stays runnable whatever its state says (it may be between
 * set_current_state() and schedule()).
 */
static void __schedule(bool preempt)
{
	unsigned long flags = local_irq_save();
	unsigned int cpu = smp_processor_id();
	struct rq *rq = cpu_rq(cpu);
	struct task_struct *prev = rq->curr, *next;

	/* A quiescent state for RCU (before the rq lock: it may wake rcu_gp). */
	rcu_note_context_switch();
	spin_lock(&rq->lock);
	per_cpu(sched_need_resched, cpu) = 0;

	if (!preempt && prev->state != TASK_RUNNING && prev != rq->idle) {
		WRITE_ONCE(prev->on_rq, 0);   /* asleep: off the runqueue */
	} else if (prev != rq->idle && prev != rq->stop) {
		if (is_cpu_allowed(prev, cpu)) {
			enqueue_task(rq, prev);  /* round robin: to the back */
		} else {
			/* Moved after the switch by finish_task_switch(). */
			rq->migrate_prev = prev;
			WRITE_ONCE(prev->on_rq, TASK_ON_RQ_MIGRATING);
		}
	}
	next = pick_next_task(rq);
	/* This CPU reached the scheduler: not a soft lockup, switch or not. */
	watchdog_touch();

	if (next == prev) {
		spin_unlock(&rq->lock);
		local_irq_restore(flags);
		return;
	}
	if (preempt || prev->state == TASK_RUNNING)
		prev->nivcsw++;
	else
		prev->nvcsw++;
	next->time_slice = sched_timeslice;
	next->on_cpu = 1;
	next->ran = true;
	rq->curr = next;
	rq->nr_switches++;
	this_cpu_write(current_task, next);

	prev = __switch_to_asm(prev, next);
	/* Now running as `next` (which may have left from another CPU). */
	finish_task_switch(prev);
	local_irq_restore(flags);
}

static void schedule_bug(const char *what)
{
	struct task_struct *p = current;

	printk("BUG: %s: %s/%d/%#x on CPU %u\n", what, p ? p->comm : "?", p ? p->tid : -1,
	       preempt_count(), smp_processor_id());
	WARN_ON(1);
}

void schedule(void)
{
	if (!sched_ready)
		return;
	if (unlikely(preempt_count() != 0)) {
		if (spin_held_count()) {
			/* DEBUG builds name the lock; the task sleeps with it. */
			schedule_bug("scheduling while holding a spinlock");
			spin_debug_print_held();
			spin_debug_forget_held();
		} else {
			schedule_bug("scheduling while atomic");
		}
		/* Like Linux: carry on with the count the switch expects. */
		this_cpu_write(cpu_local.preempt_count, 0);
	}
	if (unlikely(irqs_disabled())) {
		schedule_bug("sleeping with interrupts off");
		sti();
	}
	if (unlikely(in_irq()))
		schedule_bug("scheduling in an interrupt handler");
	if (unlikely(is_idle_task(current) && current->state != TASK_RUNNING)) {
		schedule_bug("the idle task tried to sleep");
		current->state = TASK_RUNNING;
	}
	do {
		preempt_disable();
		__schedule(false);
		preempt_enable_no_resched();
	} while (need_resched());
}

void schedule_preempt_disabled(void)
{
	preempt_enable_no_resched();
	schedule();
	preempt_disable();
}

/* From preempt_enable() when the count reached zero with a reschedule due. */
void preempt_schedule(void)
{
	/* Not from a hardware interrupt, even one that turned interrupts back
	 * on (locktorture's nesting handlers): a switch there would strand the
	 * interrupted context; irq_exit_preempt is that path's preemption point. */
	if (!sched_ready || preempt_count() != 0 || irqs_disabled() || !current || in_irq())
		return;
	do {
		preempt_disable();
		__schedule(true);
		preempt_enable_no_resched();
	} while (need_resched());
}

/* From the end of an interrupt; interrupts are off and stay off on return. */
void preempt_schedule_irq(void)
{
	do {
		preempt_disable();
		sti();
		__schedule(true);
		cli();
		preempt_enable_no_resched();
	} while (need_resched());
}

void irq_exit_preempt(struct pt_regs *regs)
{
	if (!sched_ready || !current || !cpu_online(smp_processor_id()))
		return;
	if (!(regs->rflags & X86_RFLAGS_IF) || preempt_count() != 0 || in_irq())
		return;
	/* The idle task switches from its loop, which tests need_resched after
	 * every halt; preempting it here would start a task while RCU still
	 * counts this CPU idle. */
	if (is_idle_task(current))
		return;
	/* Preemptible here: this CPU is not stuck (the soft-lockup criterion),
	 * even if nothing else wants it and it never switches. */
	watchdog_touch();
	if (sched_preempt && need_resched())
		preempt_schedule_irq();
}

int _cond_resched(void)
{
	if (!need_resched() || preempt_count() != 0 || irqs_disabled())
		return 0;
	preempt_schedule();
	return 1;
}

/* The end of a task: off the CPU for good, freed when unreferenced. */
void do_task_dead(void)
{
	preempt_disable();     /* no preemption between the state and the switch */
	current->flags |= PF_EXITING;
	WRITE_ONCE(current->state, TASK_DEAD);
	__schedule(false);
	BUG_ON(1);
	for (;;)
		;
}

void yield(void)
{
	__set_current_state(TASK_RUNNING);
	preempt_disable();
	__schedule(true);
	preempt_enable_no_resched();
}

void __might_sleep(const char *file, int line)
{
	if (!sched_ready)
		return;
	if (preempt_count() != 0 || irqs_disabled() || in_irq()) {
		printk("BUG: sleeping function called from invalid context at %s:%d "
		       "(preempt_count %d, irqs %s, in_irq %d)\n", file, line, preempt_count(),
		       irqs_disabled() ? "off" : "on", in_irq());
		if (spin_held_count())
			spin_debug_print_held();
		WARN_ON(1);
	}
}

/* ---- the tick and the reschedule IPI ---------------------------------------------------- */

void scheduler_tick(void)
{
	struct rq *rq;
	struct task_struct *curr;

	if (!sched_ready || !current)
		return;
	rq = this_rq();
	spin_lock(&rq->lock);
	curr = rq->curr;
	rq->ticks++;
	if (curr == rq->idle) {
		if (rq->nr_queued)
			resched_curr(rq);
	} else if (curr != rq->stop && --curr->time_slice <= 0) {
		curr->time_slice = sched_timeslice;
		if (rq->nr_queued)
			resched_curr(rq);
	}
	spin_unlock(&rq->lock);
}

/* The IPI only interrupts; irq_exit_preempt() does the work on the way out. */
static void scheduler_ipi(struct pt_regs *regs, void *data)
{
	(void)regs;
	(void)data;
	this_rq()->nr_ipis++;
}

/* The sender's half: RESCHEDULE_VECTOR to `cpu` (handled just above). */
void smp_send_reschedule(unsigned int cpu)
{
	if (cpu < nr_cpu_ids && cpu_online(cpu))
		lapic_send_ipi(cpu_physical_id(cpu), APIC_ICR_FIXED, RESCHEDULE_VECTOR);
}

/* ---- affinity -------------------------------------------------------------------------------- */

void sched_set_stop_task(unsigned int cpu, struct task_struct *stop)
{
	struct rq *rq = cpu_rq(cpu);
	unsigned long flags = local_irq_save();

	spin_lock(&rq->lock);
	rq->stop = stop;
	stop->flags |= PF_STOPPER;
	spin_unlock(&rq->lock);
	local_irq_restore(flags);
}

static bool cpumask_is_single(const struct cpumask *m, unsigned int cpu)
{
	return cpumask_test_cpu(cpu, m) && cpumask_weight(m) == 1;
}

int set_cpus_allowed_ptr(struct task_struct *p, const struct cpumask *mask)
{
	bool percpu = p->kthread_cpu >= 0 && cpumask_is_single(mask, (unsigned int)p->kthread_cpu);
	const struct cpumask *valid = percpu ? &cpu_online_mask : &cpu_active_mask;
	unsigned int cpu;
	bool any = false;

	if (p->flags & (PF_IDLE | PF_STOPPER))
		return -EINVAL;
	for_each_cpu(cpu, mask) {
		if (cpumask_test_cpu(cpu, valid)) {
			any = true;
			break;
		}
	}
	if (!any)
		return -EINVAL;   /* no CPU of the mask can take it now */

	unsigned long flags = local_irq_save();
	struct rq *rq = task_rq_lock(p);

	cpumask_copy(&p->cpus_allowed, mask);
	if (percpu)
		p->flags |= PF_PERCPU;
	else
		p->flags &= ~PF_PERCPU;
	if (is_cpu_allowed(p, rq->cpu)) {
		spin_unlock(&rq->lock);
		local_irq_restore(flags);
		return 0;
	}
	if (task_on_its_rq_running(rq, p)) {
		/* Running there: switch it out; finish_task_switch moves it. */
		resched_curr(rq);
		spin_unlock(&rq->lock);
		local_irq_restore(flags);
		if (p == current) {
			schedule();
		} else {
			/* Pairs with the release of on_cpu in finish_task_switch. */
			while (smp_load_acquire(&p->on_cpu) && task_cpu(p) == rq->cpu)
				cpu_relax();
		}
		return 0;
	}
	if (p->on_rq == TASK_ON_RQ_QUEUED) {
		dequeue_task(rq, p);
		move_task_unlock(rq, p, select_task_rq(p, false));
		local_irq_restore(flags);
		return 0;
	}
	/* Asleep (or never started): it is off every CPU; re-home it now so
	 * `ps` is right; the wake-up would do the same. */
	WRITE_ONCE(p->cpu, select_task_rq(p, false));
	spin_unlock(&rq->lock);
	local_irq_restore(flags);
	return 0;
}

/*
 * Hotplug: move every queued task off `cpu` that may not stay there. A
 * per-CPU kthread stays. A task with no other allowed CPU stays unless the
 * CPU is `dying`: then its affinity is broken (select_fallback_rq).
 * Returns how many tasks remain queued that are not per-CPU kthreads.
 */
unsigned int sched_migrate_tasks_away(unsigned int cpu, bool dying)
{
	struct rq *rq = cpu_rq(cpu);
	unsigned long flags = local_irq_save();
	unsigned int left;
	struct task_struct *p;

again:
	spin_lock(&rq->lock);
	left = 0;
	list_for_each_entry(p, &rq->queue, run_list) {
		if (p->flags & PF_PERCPU)
			continue;
		unsigned int dest = NR_CPUS, c;

		for_each_cpu(c, &p->cpus_allowed) {
			if (c != cpu && is_cpu_allowed(p, c)) {
				dest = c;
				break;
			}
		}
		if (dest == NR_CPUS) {
			if (!dying) {
				left++;
				continue;
			}
			dest = select_fallback_rq(p);
		}
		dequeue_task(rq, p);
		move_task_unlock(rq, p, dest);
		goto again;
	}
	spin_unlock(&rq->lock);
	local_irq_restore(flags);
	return left;
}

/* Anything for this CPU to run besides its idle task? */
bool rq_has_runnable(struct rq *rq)
{
	return READ_ONCE(rq->nr_queued) != 0 ||
	       (rq->stop && READ_ONCE(rq->stop->on_rq) == TASK_ON_RQ_QUEUED);
}

/* ---- tasks -------------------------------------------------------------------------------------- */

/*
 * References (p->usage): a new task holds one on itself until it is dead and
 * off its CPU (dropped in finish_task_switch); anyone else who keeps a
 * pointer across the task's exit holds one too. A new reference can only be
 * taken from an existing one: at 0 the task is already queued for freeing,
 * and counting it up again would queue it (and free its stack) twice.
 */
void get_task_struct(struct task_struct *p)
{
	if (unlikely(__atomic_fetch_add(&p->usage, 1, __ATOMIC_RELAXED) <= 0)) {
		printk("sched: get_task_struct on task %d (%s), which was already released\n",
		       p->tid, p->comm);
		__warn(__FILE__, __LINE__, "get_task_struct on a released task");
	}
}

/* A reference unless the task was already released (then false). Only
 * meaningful while the memory is still there, i.e. not yet reaped. */
bool tryget_task_struct(struct task_struct *p)
{
	int old = __atomic_load_n(&p->usage, __ATOMIC_RELAXED);

	do {
		if (old <= 0)
			return false;
	} while (!__atomic_compare_exchange_n(&p->usage, &old, old + 1, false,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return true;
}

/*
 * Freeing a task whose last reference is gone. task_list is read under RCU
 * (`ps`, tests), so a reader may still be looking at a task that has just
 * left it: the RCU pattern "wait for readers before freeing" (McKenney et
 * al., "RCU in the Linux Kernel: One Decade Later"), here asynchronous,
 * as Linux's delayed_put_task_struct is:
 *
 *   put_task_struct()    list_del_rcu, call_rcu          (any context)
 *   task_rcu_free()      a grace period later: onto reap_list, kick the
 *                        reap work                       (RCU callback)
 *   reap_dead_tasks()    free stack and task_struct      (task context)
 *
 * The callback does not free: freeing a stack unmaps it, which shoots down
 * TLBs and must wait for the other CPUs (task context, interrupts on); an
 * RCU callback runs from the tick with interrupts off. Nobody ever waits
 * for a grace period here: kthread_create() and kthread_stop() reap what
 * is ready and go on, even while another CPU holds a long reader (ktest
 * sched.reap_no_gp). Test: ktest sched.task_rcu; sched.bug_free_task_no_gp=1
 * puts the task on reap_list at once, without the grace period (scenario
 * sched-bug-free-task-no-gp, a DEBUG build: freed memory is poisoned).
 */
static struct task_struct *reap_list;   /* grace period over: free these */
static DEFINE_SPINLOCK(reap_lock);
static void reap_work_fn(struct work_struct *w);
static struct work_struct reap_work = { .func = reap_work_fn };
static bool sched_bug_free_task_no_gp;
param_bool("sched.bug_free_task_no_gp", sched_bug_free_task_no_gp,
	   "INJECTED BUG: free a dead task without waiting for RCU readers of the task list");

static void reap_list_add(struct task_struct *p)
{
	unsigned long flags;

	spin_lock_irqsave(&reap_lock, flags);
	p->reap_next = reap_list;
	reap_list = p;
	spin_unlock_irqrestore(&reap_lock, flags);
}

static void reap_work_fn(struct work_struct *w)
{
	(void)w;
	reap_dead_tasks();
}

/* RCU callback: every reader that could find p in task_list has ended. */
static void task_rcu_free(struct rcu_head *rh)
{
	reap_list_add(container_of(rh, struct task_struct, rcu));
	if (READ_ONCE(system_unbound_wq))
		queue_work(system_unbound_wq, &reap_work);   /* else the next kthread_create */
}

void put_task_struct(struct task_struct *p)
{
	if (__atomic_sub_fetch(&p->usage, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	unsigned long flags;

	spin_lock_irqsave(&task_list_lock, flags);
	list_del_rcu(&p->tasks);
	spin_unlock_irqrestore(&task_list_lock, flags);
	if (unlikely(sched_bug_free_task_no_gp))
		reap_list_add(p);   /* freed by the next reap, readers or not */
	else
		call_rcu(&p->rcu, task_rcu_free);
}

/* Free every task whose grace period has ended. Task context; never waits
 * for a grace period. */
void reap_dead_tasks(void)
{
	struct task_struct *p;
	unsigned long flags;

	spin_lock_irqsave(&reap_lock, flags);
	p = reap_list;
	reap_list = NULL;
	spin_unlock_irqrestore(&reap_lock, flags);
	while (p) {
		struct task_struct *next = p->reap_next;

		if (p->stack)
			free_kernel_stack(p->stack);
#ifdef CONFIG_DEBUG
		/* A task_struct is a large allocation, which kfree does not
		 * poison: do it here, so a reader that still holds it sees 0x6b. */
		memset(p, 0x6b, sizeof(*p));
#endif
		kfree(p);
		p = next;
	}
}

/* Build a new task's stack so that its first switch-in "returns" into
 * ret_from_fork with rbx = fn and r12 = arg (see switch_to.asm). */
static void task_init_stack(struct task_struct *p, void (*fn)(void *), void *arg)
{
	unsigned long *sp = (unsigned long *)p->stack;

	*--sp = 0;                        /* end of the frame chain */
	*--sp = 0;
	*--sp = (unsigned long)ret_from_fork;
	*--sp = 0;                        /* rbp */
	*--sp = (unsigned long)fn;        /* rbx */
	*--sp = (unsigned long)arg;       /* r12 */
	*--sp = 0;                        /* r13 */
	*--sp = 0;                        /* r14 */
	*--sp = 0;                        /* r15 */
	p->rsp = (unsigned long)sp;
}

static void task_init_common(struct task_struct *p, const char *name)
{
	unsigned long flags;

	strlcpy(p->comm, name, sizeof(p->comm));
	INIT_LIST_HEAD(&p->run_list);
	INIT_LIST_HEAD(&p->tasks);
	init_completion(&p->parked);
	init_completion(&p->exited);
	p->kthread_cpu = -1;
	p->usage = 1;
	p->tid = __atomic_fetch_add(&next_tid, 1, __ATOMIC_RELAXED);
	spin_lock_irqsave(&task_list_lock, flags);
	list_add_tail_rcu(&p->tasks, &task_list);
	spin_unlock_irqrestore(&task_list_lock, flags);
}

/*
 * A new task, asleep in TASK_NEW, that will start with fn(arg) on its own
 * stack on its first wake-up. Allowed on every CPU; placed at wake-up.
 */
struct task_struct *create_task(const char *name, void (*fn)(void *), void *arg)
{
	struct task_struct *p = kzalloc(sizeof(*p));

	if (!p)
		return NULL;
	p->stack = alloc_kernel_stack();
	if (!p->stack) {
		kfree(p);
		return NULL;
	}
	task_init_stack(p, fn, arg);
	p->state = TASK_NEW;
	p->flags = PF_KTHREAD;
	p->cpu = smp_processor_id();
	cpumask_copy(&p->cpus_allowed, &cpu_possible_mask);
	task_init_common(p, name);
	return p;
}

/* Make `p` the idle task of `cpu`, running now (the boot CPU) or the moment
 * the CPU starts (an AP: it enters cpu_startup_entry as this task). */
void init_idle(struct task_struct *p, unsigned int cpu)
{
	struct rq *rq = cpu_rq(cpu);
	unsigned long flags = local_irq_save();

	spin_lock(&rq->lock);
	p->state = TASK_RUNNING;
	p->flags = PF_IDLE | PF_KTHREAD | PF_PERCPU;
	p->on_rq = TASK_ON_RQ_QUEUED;
	p->on_cpu = 1;
	p->ran = true;
	p->cpu = cpu;
	p->kthread_cpu = (int)cpu;
	cpumask_clear(&p->cpus_allowed);
	cpumask_set_cpu(cpu, &p->cpus_allowed);
	rq->idle = p;
	rq->curr = p;
	rq->migrate_prev = NULL;
	per_cpu(current_task, cpu) = p;
	per_cpu(sched_need_resched, cpu) = rq->nr_queued != 0;
	spin_unlock(&rq->lock);
	local_irq_restore(flags);
}

static void rq_init(unsigned int cpu)
{
	struct rq *rq = cpu_rq(cpu);

	spin_lock_init(&rq->lock);
	rq->cpu = cpu;
	INIT_LIST_HEAD(&rq->queue);
}

u64 sched_nr_switches(unsigned int cpu)
{
	return cpu_rq(cpu)->nr_switches;
}

bool sched_cpu_idle(unsigned int cpu)
{
	struct rq *rq = cpu_rq(cpu);

	return READ_ONCE(rq->curr) == rq->idle && !READ_ONCE(rq->nr_queued);
}

void sched_show_task(struct task_struct *p)
{
	printk("task %d (%s) on CPU %u, state %#x\n", p->tid, p->comm, task_cpu(p), p->state);
	if (p == current) {
		dump_stack();
		return;
	}
	if (READ_ONCE(p->on_cpu) || !p->rsp) {
		printk("  (running on CPU %u; no saved context)\n", task_cpu(p));
		return;
	}
	/* Saved by __switch_to_asm: r15 r14 r13 r12 rbx rbp ret. */
	const unsigned long *sp = (const unsigned long *)p->rsp;

	print_backtrace(sp[6], sp[5]);
}

unsigned long msecs_to_jiffies(unsigned int ms)
{
	unsigned int hz = tick_hz ? tick_hz : 100;

	return ((unsigned long)ms * hz + 999) / 1000;
}

unsigned int jiffies_to_msecs(unsigned long j)
{
	unsigned int hz = tick_hz ? tick_hz : 100;

	return (unsigned int)(j * 1000 / hz);
}

/*
 * The boot CPU: every possible CPU gets a runqueue, kmain's context becomes
 * CPU 0's idle task "swapper/0" (it must not sleep: rest_init() hands the
 * rest of boot to a real thread).
 * Call after smp_prepare_cpus() (masks and per-CPU areas) and irq_init().
 */
void sched_init(void)
{
	unsigned int cpu;

	/* smp_prepare_cpus() made the boot CPU possible, present, online and
	 * active; every possible CPU is known. */
	DEBUG_CHECK(cpumask_test_cpu(0, &cpu_active_mask));
	for_each_possible_cpu(cpu)
		rq_init(cpu);
	task_init_common(&init_task, "swapper/0");
	init_idle(&init_task, 0);
	if (request_irq_vector(RESCHEDULE_VECTOR, scheduler_ipi, NULL, "resched"))
		printk("sched: reschedule vector %#x already taken\n", RESCHEDULE_VECTOR);
	init_timers();
	sched_hotplug_init();
	sched_ready = true;
	printk("sched: per-CPU runqueues, time slice %d ticks, preemption %s\n",
	       sched_timeslice, sched_preempt ? "on" : "off");
}
