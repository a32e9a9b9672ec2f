/*
 * smp.c — making other CPUs run a function: call-function IPIs.
 *
 * Call function. Every CPU owns a queue of struct call_single_data: a
 * lock-free singly linked stack (`call_single_queue`), pushed by any CPU with
 * a compare-and-swap, emptied by its owner with one exchange. A sender pushes
 * a csd and sends CALL_FUNCTION_SINGLE_VECTOR only when the queue was empty
 * (otherwise an IPI is already on its way and the handler's exchange will
 * take the new entry too). The handler reverses the stack to run calls in the
 * order they were queued.
 *
 * A csd's life, flags word:        sender                  target
 *     0           free           csd_lock: wait for 0,
 *                                set LOCK [|SYNC], fill
 *     LOCK        queued         push (release) ───────▶   exchange (acquire)
 *     LOCK|SYNC   queued, waited                           run, then unlock
 *     LOCK        async                                    read fn/info/next,
 *                                                          unlock, then run
 *     0           free again ◀── csd_lock_wait (acquire) ─ unlock (release)
 * A sender always uses its own per-CPU csd for that target (`cfd_csd`, one
 * csd per possible target, made by CPUHP_SMPCFD_PREPARE); wait=1 just waits
 * for the unlock before returning.
 *
 * Hotplug: a sender checks cpu_online(target) and queues with preemption
 * off; cpu_down's TEARDOWN step runs under stop_machine, which cannot start
 * while any CPU is inside that window. So once the dying CPU is out of the
 * online mask nothing new is queued for it, and CPUHP_AP_SMPCFD_DYING (on the
 * dying CPU, interrupts off) runs whatever is left. The DEAD step checks the
 * queue really is empty.
 *
 * The other IPIs have their own files: NMIs for stop, backtrace and
 * tests (kernel/nmi.c), the reschedule IPI (kernel/sched/core.c), the PV
 * lock kick (kernel/locking/pv_ipi.c).
 * Tests: ktest smp.call_function (kernel/smp_test.c); tests/scenarios/smp-*.scn.
 */
#include <asm/apic.h>
#include <asm/barrier.h>
#include <asm/cpu.h>
#include <asm/irq_vectors.h>
#include <grace/cpuhotplug.h>
#include <grace/errno.h>
#include <grace/irq.h>
#include <grace/mm.h>
#include <grace/panic.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/smp.h>
#include <grace/time.h>

#define CSD_FLAG_LOCK 1u   /* queued or running: the owner must not touch it */
#define CSD_FLAG_SYNC 2u   /* the sender waits: unlock only after running */

static DEFINE_PER_CPU(struct call_single_data *, call_single_queue);
static DEFINE_PER_CPU(struct call_single_data *, cfd_csd);   /* [nr_cpu_ids] */

/*
 * Preemption off around "which CPU am I / is the target online / queue":
 * the scheduler honours cpu_local.preempt_count, and stop_machine (hence
 * cpu_down's TEARDOWN) cannot run on this CPU meanwhile.
 */
static unsigned int smp_get_cpu(void)
{
	this_cpu_inc(cpu_local.preempt_count);
	barrier();
	return smp_processor_id();
}

static void smp_put_cpu(void)
{
	barrier();
	this_cpu_dec(cpu_local.preempt_count);
}

/* ---- the queue ------------------------------------------------------------ */

/* Push; true if the queue was empty (the caller must send the IPI). */
static bool csd_queue_push(struct call_single_data **head, struct call_single_data *csd)
{
	struct call_single_data *first = __atomic_load_n(head, __ATOMIC_RELAXED);

	do {
		csd->next = first;
		/* Release: the csd's fields are visible before it is reachable;
		 * pairs with the acquire exchange in flush_smp_call_function_queue. */
	} while (!__atomic_compare_exchange_n(head, &first, csd, true,
					      __ATOMIC_RELEASE, __ATOMIC_RELAXED));
	return first == NULL;
}

static void csd_unlock(struct call_single_data *csd)
{
	/* Pairs with the acquire in csd_lock_wait: the call's effects are
	 * visible to whoever sees the csd free. */
	__atomic_store_n(&csd->flags, 0, __ATOMIC_RELEASE);
}

static void csd_lock_wait(struct call_single_data *csd)
{
	u64 t0 = 0;
	bool told = false;

	while (__atomic_load_n(&csd->flags, __ATOMIC_ACQUIRE) & CSD_FLAG_LOCK) {
		cpu_relax();
		if (told)
			continue;
		if (!t0) {
			t0 = ktime_get_ns();
		} else if (ktime_get_ns() - t0 > 5000000000ULL) {
			printk("smp: CPU %u has waited 5 s for CPU %u to run a call (still waiting)\n",
			       smp_processor_id(), csd->dst);
			told = true;
		}
	}
}

void flush_smp_call_function_queue(void)
{
	struct call_single_data *list, *prev = NULL;

	list = __atomic_exchange_n(this_cpu_ptr(&call_single_queue), NULL, __ATOMIC_ACQUIRE);
	/* The queue is a stack: reverse it to run calls in queuing order. */
	while (list) {
		struct call_single_data *next = list->next;

		list->next = prev;
		prev = list;
		list = next;
	}
	while (prev) {
		struct call_single_data *csd = prev;
		smp_call_func_t func = csd->func;
		void *info = csd->info;

		prev = csd->next;   /* read before unlock: the csd may be reused */
		if (csd->flags & CSD_FLAG_SYNC) {
			func(info);
			csd_unlock(csd);
		} else {
			csd_unlock(csd);
			func(info);
		}
	}
}

static void call_function_interrupt(struct pt_regs *regs, void *data)
{
	(void)regs;
	(void)data;
	flush_smp_call_function_queue();
}

static void send_call_function_ipi(unsigned int cpu)
{
	lapic_send_ipi(cpu_physical_id(cpu), APIC_ICR_FIXED, CALL_FUNCTION_SINGLE_VECTOR);
}

/*
 * Take this CPU's csd for `cpu`, fill it and queue it. Interrupts are off
 * from the final "is it free" check to the push, so an interrupt handler on
 * this CPU cannot grab the same csd half way.
 */
static struct call_single_data *queue_call(unsigned int this, unsigned int cpu,
					    smp_call_func_t func, void *info, bool wait)
{
	struct call_single_data *csd = &per_cpu(cfd_csd, this)[cpu];
	unsigned long flags;

	for (;;) {
		csd_lock_wait(csd);
		flags = local_irq_save();
		if (!(csd->flags & CSD_FLAG_LOCK))
			break;
		local_irq_restore(flags);
	}
	csd->flags = CSD_FLAG_LOCK | (wait ? CSD_FLAG_SYNC : 0);
	csd->func = func;
	csd->info = info;
	csd->dst = cpu;
	if (csd_queue_push(&per_cpu(call_single_queue, cpu), csd))
		send_call_function_ipi(cpu);
	local_irq_restore(flags);
	return csd;
}

/* Waiting with interrupts off (or from an NMI) can deadlock: two CPUs each
 * waiting for the other to take its IPI. */
static bool refuse_to_wait(int wait)
{
	if (in_nmi())
		return true;
	return wait && irqs_disabled();
}

int smp_call_function_single(unsigned int cpu, smp_call_func_t func, void *info, int wait)
{
	unsigned int this = smp_get_cpu();
	int ret = 0;

	if (cpu == this) {
		unsigned long flags = local_irq_save();

		func(info);
		local_irq_restore(flags);
	} else if (cpu >= nr_cpu_ids || !cpu_online(cpu)) {
		ret = -ENXIO;
	} else if (WARN_ON(refuse_to_wait(wait))) {
		ret = -EDEADLK;
	} else if (!per_cpu(cfd_csd, this)) {
		ret = -ENXIO;   /* smp_cfd_init() has not run: no CPU is up yet */
	} else {
		struct call_single_data *csd = queue_call(this, cpu, func, info, wait);

		if (wait)
			csd_lock_wait(csd);
	}
	smp_put_cpu();
	return ret;
}

static void call_many(const struct cpumask *mask, smp_call_func_t func, void *info,
		      int wait, bool run_local)
{
	unsigned int this = smp_get_cpu();
	unsigned int cpu;
	bool remote = false;

	for_each_cpu(cpu, mask)
		if (cpu != this && cpu < nr_cpu_ids && cpu_online(cpu))
			remote = true;
	if (remote && (WARN_ON(refuse_to_wait(wait)) || !per_cpu(cfd_csd, this)))
		remote = false;
	if (remote) {
		for_each_cpu(cpu, mask)
			if (cpu != this && cpu < nr_cpu_ids && cpu_online(cpu))
				queue_call(this, cpu, func, info, wait);
	}
	if (run_local) {
		unsigned long flags = local_irq_save();

		func(info);
		local_irq_restore(flags);
	}
	if (remote && wait) {
		/* Every csd we queued is this CPU's; wait for each to come back. */
		for_each_cpu(cpu, mask)
			if (cpu != this && cpu < nr_cpu_ids)
				csd_lock_wait(&per_cpu(cfd_csd, this)[cpu]);
	}
	smp_put_cpu();
}

void smp_call_function_many(const struct cpumask *mask, smp_call_func_t func, void *info, int wait)
{
	call_many(mask, func, info, wait, false);
}

void smp_call_function(smp_call_func_t func, void *info, int wait)
{
	call_many(&cpu_online_mask, func, info, wait, false);
}

void on_each_cpu(smp_call_func_t func, void *info, int wait)
{
	call_many(&cpu_online_mask, func, info, wait, true);
}

/* ---- hotplug states ------------------------------------------------------- */

int smpcfd_prepare_cpu(unsigned int cpu)
{
	if (!per_cpu(cfd_csd, cpu)) {
		struct call_single_data *csd = kzalloc(nr_cpu_ids * sizeof(*csd));

		if (!csd)
			return -ENOMEM;
		per_cpu(cfd_csd, cpu) = csd;
	}
	/* Kept while the CPU is offline: another CPU may still be running an
	 * async call this CPU sent before it died. */
	return 0;
}

int smpcfd_dead_cpu(unsigned int cpu)
{
	if (WARN_ON(__atomic_load_n(&per_cpu(call_single_queue, cpu), __ATOMIC_ACQUIRE)))
		printk("smp: CPU %u died with calls still queued for it\n", cpu);
	return 0;
}

int smpcfd_dying_cpu(unsigned int cpu)
{
	(void)cpu;
	/* Interrupts are off and this CPU has left the online mask: nothing
	 * new arrives; run what did (its IPI may never be taken now). */
	flush_smp_call_function_queue();
	return 0;
}

void smp_cfd_init(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	if (request_irq_vector(CALL_FUNCTION_SINGLE_VECTOR, call_function_interrupt, NULL,
			       "call-function"))
		panic("smp: vector %#x already taken", CALL_FUNCTION_SINGLE_VECTOR);
	if (smpcfd_prepare_cpu(smp_processor_id()))
		panic("smp: no memory for the boot CPU's call-function data");
}
