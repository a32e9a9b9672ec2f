/*
 * smpboot.h — a thread per CPU that follows its CPU through hotplug.
 *
 *     static DEFINE_PER_CPU(struct task_struct *, my_thread);
 *     static struct smp_hotplug_thread my_threads = {
 *         .store = &my_thread, .thread_comm = "mine/%u",
 *         .thread_should_run = my_should_run, .thread_fn = my_fn,
 *     };
 *     smpboot_register_percpu_thread(&my_threads);
 *     ... later: wake_up_process(per_cpu(my_thread, cpu)) after making
 *         my_should_run(cpu) true.
 *
 * Life cycle of the thread of CPU n (kernel/smpboot.c):
 *   CPUHP_CREATE_THREADS (control CPU, before n starts): created and parked
 *   CPUHP_AP_SMPBOOT_THREADS startup (on n): unparked → setup() the first
 *       time, unpark() after a park; then loops: thread_fn(n) while
 *       thread_should_run(n), else sleeps
 *   CPUHP_AP_SMPBOOT_THREADS teardown (on n, going down): park() then parked
 *   the thread is never destroyed by hotplug; unregistering stops it.
 * thread_should_run and thread_fn are called with preemption enabled, on
 * CPU n, in the thread. Test: ktest "sched.smpboot".
 */
#ifndef GRACE_SMPBOOT_H
#define GRACE_SMPBOOT_H

#include <grace/list.h>
#include <grace/types.h>

struct task_struct;

struct smp_hotplug_thread {
	struct task_struct **store;          /* address of a DEFINE_PER_CPU pointer */
	struct list_head list;
	int (*thread_should_run)(unsigned int cpu);
	void (*thread_fn)(unsigned int cpu);
	void (*create)(unsigned int cpu);    /* optional, after creation */
	void (*setup)(unsigned int cpu);     /* optional, first run */
	void (*cleanup)(unsigned int cpu, bool online); /* optional, on unregister */
	void (*park)(unsigned int cpu);      /* optional, before parking */
	void (*unpark)(unsigned int cpu);    /* optional, after unparking */
	const char *thread_comm;             /* name; may use the CPU number once */
};

int smpboot_register_percpu_thread(struct smp_hotplug_thread *plug_thread);
void smpboot_unregister_percpu_thread(struct smp_hotplug_thread *plug_thread);

/* Called by the scheduler's CPUHP_CREATE_THREADS startup; the
 * CPUHP_AP_SMPBOOT_THREADS callbacks are declared in <grace/cpuhotplug.h>. */
int smpboot_create_threads(unsigned int cpu);

#endif
