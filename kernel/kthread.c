/*
 * kthread.c — creating, binding, parking and stopping kernel threads.
 *
 * A kthread is a task whose first code is kthread_entry(): it starts only
 * when first woken, runs threadfn(data), and ends in kthread_exit(), which
 * publishes the result through the `exited` completion that kthread_stop()
 * waits on. Requests to a thread are bits in p->kthread_flags (SHOULD_STOP,
 * SHOULD_PARK) that the thread polls at points of its choosing
 * (kthread_should_stop(), kthread_should_park()); nothing is forced on it.
 *
 * Parking handshake (kthread_park ↔ kthread_parkme):
 *
 *   parker                              thread
 *   reinit parked; set SHOULD_PARK
 *   wake it                   ───────▶  sees SHOULD_PARK → kthread_parkme():
 *                                         preempt off; state = PARKED;
 *   wait for `parked`         ◀───────    complete(parked); schedule()
 *   wait until it is off the CPU         (sleeps; on_rq 0, then on_cpu 0)
 *
 * kthread_unpark clears SHOULD_PARK first and wakes TASK_PARKED tasks only,
 * so an unpark racing with the thread's way into schedule() just makes that
 * schedule() return (the state is RUNNING again) and the loop sees no
 * request. A thread that never ran is parked on the spot (TASK_NEW →
 * TASK_PARKED) and starts when unparked: that is how per-CPU threads of a
 * CPU that is not up yet wait for it.
 *
 * References: a task holds one on itself until it is dead and off its CPU;
 * kthread_stop() holds one while it waits. A thread that returns by itself
 * is freed when it is gone: kthread_stop() on it after that is a bug, as in
 * Linux, unless the caller holds a reference (get_task_struct) taken while
 * the thread was alive. So a thread meant to be stopped either runs until
 * kthread_should_stop(), or its creator holds a reference from creation to
 * after kthread_stop(). kthread_stop() on a thread that already dropped its
 * last reference (dead, not yet reaped) says so and returns -ESRCH instead
 * of counting the reference up from 0 and queueing the task to be freed a
 * second time; once reaped, its memory is gone and nothing can tell.
 * Tests: ktests sched.kthread, sched.park, sched.bind, sched.reap.
 */
#include <asm/barrier.h>
#include <grace/kthread.h>
#include <grace/panic.h>
#include <grace/printk.h>
#include <grace/sched.h>

#include "sched/sched.h"

#include <grace/errno.h>

static void kthread_entry(void *unused)
{
	struct task_struct *self = current;
	int ret = -EINTR;

	(void)unused;
	if (!kthread_should_stop()) {
		kthread_parkme();   /* parked before it ever ran */
		if (!kthread_should_stop())
			ret = self->threadfn(self->data);
	}
	kthread_exit(ret);
}

void kthread_exit(int ret)
{
	struct task_struct *self = current;

	self->exit_code = ret;
	complete_all(&self->exited);
	do_task_dead();
}

static struct task_struct *kthread_create_named(int (*threadfn)(void *), void *data, const char *name)
{
	struct task_struct *p;

	reap_dead_tasks();
	p = create_task(name, kthread_entry, NULL);
	if (!p) {
		printk("kthread: no memory for thread \"%s\"\n", name);
		return NULL;
	}
	p->threadfn = threadfn;
	p->data = data;
	return p;
}

struct task_struct *kthread_create(int (*threadfn)(void *data), void *data, const char *namefmt, ...)
{
	char name[TASK_COMM_LEN];
	va_list ap;

	va_start(ap, namefmt);
	vsnprintf(name, sizeof(name), namefmt, ap);
	va_end(ap);
	return kthread_create_named(threadfn, data, name);
}

struct task_struct *kthread_create_on_cpu(int (*threadfn)(void *data), void *data,
					  unsigned int cpu, const char *namefmt)
{
	char name[TASK_COMM_LEN];
	struct task_struct *p;

	snprintf(name, sizeof(name), namefmt, cpu);
	p = kthread_create_named(threadfn, data, name);
	if (!p)
		return NULL;
	kthread_bind(p, cpu);
	p->kthread_cpu = (int)cpu;
	p->flags |= PF_PERCPU;
	return p;
}

/* Pin a thread that is not running (never started, or parked) to `mask`. */
void kthread_bind_mask(struct task_struct *k, const struct cpumask *mask)
{
	unsigned long flags = local_irq_save();
	struct rq *rq = task_rq_lock(k);
	unsigned int cpu = cpumask_first(mask);

	if ((k->state != TASK_NEW && k->state != TASK_PARKED) || k->on_rq || cpu >= NR_CPUS) {
		spin_unlock(&rq->lock);
		local_irq_restore(flags);
		printk("kthread: cannot bind %s (tid %d): it is not new or parked\n", k->comm, k->tid);
		return;
	}
	cpumask_copy(&k->cpus_allowed, mask);
	k->flags |= PF_NO_SETAFFINITY;
	/* Off every CPU (on no queue, under its rq lock): re-home it. */
	WRITE_ONCE(k->cpu, cpu);
	spin_unlock(&rq->lock);
	local_irq_restore(flags);
}

void kthread_bind(struct task_struct *k, unsigned int cpu)
{
	struct cpumask m;

	cpumask_clear(&m);
	cpumask_set_cpu(cpu, &m);
	kthread_bind_mask(k, &m);
}

bool kthread_should_stop(void)
{
	return READ_ONCE(current->kthread_flags) & KTHREAD_SHOULD_STOP;
}

bool kthread_should_park(void)
{
	return READ_ONCE(current->kthread_flags) & KTHREAD_SHOULD_PARK;
}

bool kthread_is_parked(struct task_struct *k)
{
	return READ_ONCE(k->kthread_flags) & KTHREAD_IS_PARKED;
}

static void kthread_set_flag(struct task_struct *k, unsigned long bit)
{
	__atomic_fetch_or(&k->kthread_flags, bit, __ATOMIC_SEQ_CST);
}

static void kthread_clear_flag(struct task_struct *k, unsigned long bit)
{
	__atomic_fetch_and(&k->kthread_flags, ~bit, __ATOMIC_SEQ_CST);
}

void kthread_parkme(void)
{
	struct task_struct *self = current;

	for (;;) {
		/* No preemption from the state change to the switch: the parker
		 * waits for us to be off the CPU and should not wait long. */
		preempt_disable();
		set_current_state(TASK_PARKED);
		if (!kthread_should_park()) {
			preempt_enable();
			break;
		}
		kthread_set_flag(self, KTHREAD_IS_PARKED);
		complete(&self->parked);
		schedule_preempt_disabled();
		preempt_enable();
	}
	__set_current_state(TASK_RUNNING);
	kthread_clear_flag(self, KTHREAD_IS_PARKED);
}

/* Wait until `k` is on no queue and on no CPU (it sleeps for good). */
static void wait_task_inactive(struct task_struct *k)
{
	/* Pairs with the release of on_cpu in finish_task_switch. */
	while (READ_ONCE(k->on_rq) || smp_load_acquire(&k->on_cpu)) {
		if (task_cpu(k) == smp_processor_id())
			yield();
		else
			cpu_relax();
	}
}

int kthread_park(struct task_struct *k)
{
	unsigned long flags;
	struct rq *rq;

	if (k->flags & PF_EXITING)
		return -ENOSYS;
	if (READ_ONCE(k->kthread_flags) & KTHREAD_SHOULD_PARK)
		return -EBUSY;
	reinit_completion(&k->parked);
	flags = local_irq_save();
	rq = task_rq_lock(k);
	kthread_set_flag(k, KTHREAD_SHOULD_PARK);
	if (k->state == TASK_NEW) {
		/* Never ran: parked where it stands. */
		WRITE_ONCE(k->state, TASK_PARKED);
		kthread_set_flag(k, KTHREAD_IS_PARKED);
		spin_unlock(&rq->lock);
		local_irq_restore(flags);
		return 0;
	}
	spin_unlock(&rq->lock);
	local_irq_restore(flags);
	if (k != current) {
		wake_up_process(k);
		wait_for_completion(&k->parked);
		wait_task_inactive(k);
	}
	return 0;
}

void kthread_unpark(struct task_struct *k)
{
	if (!(READ_ONCE(k->kthread_flags) & KTHREAD_SHOULD_PARK))
		return;
	/* A per-CPU thread goes back to its own CPU (parking may have found it
	 * elsewhere if its affinity was broken meanwhile). */
	if (k->kthread_cpu >= 0 && k->state == TASK_PARKED && !k->on_rq &&
	    !cpumask_test_cpu((unsigned int)k->kthread_cpu, &k->cpus_allowed)) {
		kthread_bind(k, (unsigned int)k->kthread_cpu);
		k->flags |= PF_PERCPU;
	}
	kthread_clear_flag(k, KTHREAD_SHOULD_PARK);
	wake_up_state(k, TASK_PARKED);
}

int kthread_stop(struct task_struct *k)
{
	unsigned long flags;
	struct rq *rq;
	int ret;

	if (!tryget_task_struct(k)) {
		printk("kthread: kthread_stop on thread %d (%s), which already ended and was released: "
		       "hold a reference across its exit, or let it run until kthread_should_stop()\n",
		       k->tid, k->comm);
		__warn(__FILE__, __LINE__, "kthread_stop on a released thread");
		return -ESRCH;
	}
	kthread_set_flag(k, KTHREAD_SHOULD_STOP);
	flags = local_irq_save();
	rq = task_rq_lock(k);
	if (!k->ran && (k->state == TASK_NEW || k->state == TASK_PARKED)) {
		/* Never ran (possibly waiting for a CPU that is not up): it dies
		 * here without running, as if threadfn had not been called. */
		k->exit_code = -EINTR;
		k->flags |= PF_EXITING;
		WRITE_ONCE(k->state, TASK_DEAD);
		spin_unlock(&rq->lock);
		local_irq_restore(flags);
		complete_all(&k->exited);
		put_task_struct(k);   /* its reference on itself */
	} else {
		if ((k->flags & PF_PERCPU) && !cpu_online(task_cpu(k)) && !k->on_rq) {
			/* Its CPU is gone: let it end anywhere rather than wait
			 * for a CPU that may never return. Off every CPU, under
			 * its rq lock, so it may be re-homed. */
			cpumask_copy(&k->cpus_allowed, &cpu_possible_mask);
			k->flags &= ~PF_PERCPU;
			k->kthread_cpu = -1;
		}
		spin_unlock(&rq->lock);
		local_irq_restore(flags);
		kthread_unpark(k);
		wake_up_process(k);
		wait_for_completion(&k->exited);
	}
	ret = k->exit_code;
	put_task_struct(k);
	reap_dead_tasks();
	return ret;
}
