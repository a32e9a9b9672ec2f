/*
 * smpboot.c — per-CPU threads that follow their CPU through hotplug.
 *
 * A subsystem describes its thread once (struct smp_hotplug_thread,
 * smpboot.h); this file makes one thread per CPU and keeps it in step:
 *
 *   CPU n state            thread of CPU n
 *   CREATE_THREADS up      created (bound to n, per-CPU), parked
 *   SMPBOOT_THREADS up     unparked: runs setup() once, unpark() after parks
 *   SMPBOOT_THREADS down   park() called in the thread, then parked
 *   offline                parked (asleep; never runs, never migrated)
 *   unregister             stopped, cleanup() called in the thread
 *
 * The thread's loop (smpboot_thread_fn) checks, in order: stop, park, first
 * run / unpark, then runs thread_fn while thread_should_run, else sleeps.
 * The state is set to sleeping *before* thread_should_run is tested, so a
 * waker that makes it true and then calls wake_up_process() cannot be missed.
 *
 * Registered threads live on `hotplug_threads`, protected by smpboot_lock
 * (a mutex; hotplug callbacks and registration may sleep).
 * Test: ktest "sched.smpboot".
 */
#include <grace/cpuhotplug.h>
#include <grace/errno.h>
#include <grace/kthread.h>
#include <grace/mm.h>
#include <grace/mutex.h>
#include <grace/panic.h>
#include <grace/printk.h>
#include <grace/sched.h>
#include <grace/smpboot.h>

static LIST_HEAD(hotplug_threads);
static DEFINE_MUTEX(smpboot_lock);

enum { HP_THREAD_NONE, HP_THREAD_ACTIVE, HP_THREAD_PARKED };

struct smpboot_thread_data {
	unsigned int cpu;
	unsigned int status;
	struct smp_hotplug_thread *ht;
};

static int smpboot_thread_fn(void *data)
{
	struct smpboot_thread_data *td = data;
	struct smp_hotplug_thread *ht = td->ht;

	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		preempt_disable();
		if (kthread_should_stop()) {
			__set_current_state(TASK_RUNNING);
			preempt_enable();
			if (ht->cleanup && td->status != HP_THREAD_NONE)
				ht->cleanup(td->cpu, cpu_online(td->cpu));
			kfree(td);
			return 0;
		}
		if (kthread_should_park()) {
			__set_current_state(TASK_RUNNING);
			preempt_enable();
			if (ht->park && td->status == HP_THREAD_ACTIVE) {
				BUG_ON(td->cpu != smp_processor_id());
				ht->park(td->cpu);
				td->status = HP_THREAD_PARKED;
			}
			kthread_parkme();
			continue;   /* unparked: look again */
		}
		BUG_ON(td->cpu != smp_processor_id());
		switch (td->status) {
		case HP_THREAD_NONE:
			__set_current_state(TASK_RUNNING);
			preempt_enable();
			if (ht->setup)
				ht->setup(td->cpu);
			td->status = HP_THREAD_ACTIVE;
			continue;
		case HP_THREAD_PARKED:
			__set_current_state(TASK_RUNNING);
			preempt_enable();
			if (ht->unpark)
				ht->unpark(td->cpu);
			td->status = HP_THREAD_ACTIVE;
			continue;
		}
		if (!ht->thread_should_run(td->cpu)) {
			preempt_enable_no_resched();
			schedule();
		} else {
			__set_current_state(TASK_RUNNING);
			preempt_enable();
			ht->thread_fn(td->cpu);
		}
	}
}

static int __smpboot_create_thread(struct smp_hotplug_thread *ht, unsigned int cpu)
{
	struct task_struct **slot = per_cpu_ptr(ht->store, cpu);
	struct smpboot_thread_data *td;
	struct task_struct *tsk;

	if (*slot)
		return 0;
	td = kzalloc(sizeof(*td));
	if (!td)
		return -ENOMEM;
	td->cpu = cpu;
	td->ht = ht;
	tsk = kthread_create_on_cpu(smpboot_thread_fn, td, cpu, ht->thread_comm);
	if (!tsk) {
		kfree(td);
		return -ENOMEM;
	}
	/* Parked before it ever runs: it starts when its CPU unparks it. */
	kthread_park(tsk);
	*slot = tsk;
	if (ht->create)
		ht->create(cpu);
	return 0;
}

int smpboot_create_threads(unsigned int cpu)
{
	struct smp_hotplug_thread *ht;
	int ret = 0;

	mutex_lock(&smpboot_lock);
	list_for_each_entry(ht, &hotplug_threads, list) {
		ret = __smpboot_create_thread(ht, cpu);
		if (ret)
			break;
	}
	mutex_unlock(&smpboot_lock);
	return ret;
}

int smpboot_unpark_threads(unsigned int cpu)
{
	struct smp_hotplug_thread *ht;

	mutex_lock(&smpboot_lock);
	list_for_each_entry(ht, &hotplug_threads, list) {
		struct task_struct *tsk = *per_cpu_ptr(ht->store, cpu);

		if (tsk)
			kthread_unpark(tsk);
	}
	mutex_unlock(&smpboot_lock);
	return 0;
}

int smpboot_park_threads(unsigned int cpu)
{
	struct smp_hotplug_thread *ht;

	mutex_lock(&smpboot_lock);
	list_for_each_entry(ht, &hotplug_threads, list) {
		struct task_struct *tsk = *per_cpu_ptr(ht->store, cpu);

		if (tsk)
			kthread_park(tsk);
	}
	mutex_unlock(&smpboot_lock);
	return 0;
}

int smpboot_register_percpu_thread(struct smp_hotplug_thread *ht)
{
	unsigned int cpu;
	int ret = 0;

	cpus_read_lock();
	mutex_lock(&smpboot_lock);
	for_each_online_cpu(cpu) {
		ret = __smpboot_create_thread(ht, cpu);
		if (ret)
			break;
		kthread_unpark(*per_cpu_ptr(ht->store, cpu));
	}
	if (!ret)
		list_add_tail(&ht->list, &hotplug_threads);
	mutex_unlock(&smpboot_lock);
	cpus_read_unlock();
	if (ret)
		printk("smpboot: cannot create the %s threads (%d)\n", ht->thread_comm, ret);
	return ret;
}

void smpboot_unregister_percpu_thread(struct smp_hotplug_thread *ht)
{
	unsigned int cpu;

	cpus_read_lock();
	mutex_lock(&smpboot_lock);
	list_del_init(&ht->list);
	for_each_possible_cpu(cpu) {
		struct task_struct **slot = per_cpu_ptr(ht->store, cpu);

		if (*slot) {
			kthread_stop(*slot);
			*slot = NULL;
		}
	}
	mutex_unlock(&smpboot_lock);
	cpus_read_unlock();
}
