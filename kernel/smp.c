/*
 * smp.c — making other CPUs run a function (call-function IPIs), reschedule
 * IPIs, and NMIs for panic stop and backtraces.
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
 * for the unlock before returning. smp_cfd_init() also installs the NMI hook.
 *
 * Hotplug: a sender checks cpu_online(target) and queues with preemption
 * off; cpu_down's TEARDOWN step runs under stop_machine, which cannot start
 * while any CPU is inside that window. So once the dying CPU is out of the
 * online mask nothing new is queued for it, and CPUHP_AP_SMPCFD_DYING (on the
 * dying CPU, interrupts off) runs whatever is left. The DEAD step checks the
 * queue really is empty.
 *
 * NMIs: the requester sets a reason bit in the target's `nmi_reasons` and
 * sends an NMI; the target's handler takes all bits with one exchange:
 * STOP (panic: halt forever with interrupts off), BACKTRACE (print the
 * interrupted context's call trace, then bump `nmi_bt_seq`), PING (tests).
 * Backtraces are collected one CPU at a time, so their lines never mix.
 * Tests: ktest smp.call_function, smp.nmi; `bt all` in the shell.
 */
#include <asm/apic.h>
#include <asm/barrier.h>
#include <asm/cpu.h>
#include <asm/irq_vectors.h>
#include <asm/traps.h>
#include <grace/backtrace.h>
#include <grace/cpuhotplug.h>
#include <grace/irq.h>
#include <grace/ktest.h>
#include <grace/mm.h>
#include <grace/panic.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/shell.h>
#include <grace/qspinlock_pv.h>
#include <grace/smp.h>
#include <grace/spinlock.h>
#include <grace/string.h>
#include <grace/time.h>

#define CSD_FLAG_LOCK 1u   /* queued or running: the owner must not touch it */
#define CSD_FLAG_SYNC 2u   /* the sender waits: unlock only after running */

#define SMP_ENOMEM 12

static DEFINE_PER_CPU(struct call_single_data *, call_single_queue);
static DEFINE_PER_CPU(struct call_single_data *, cfd_csd);   /* [nr_cpu_ids] */

static void smp_nmi_handler(struct pt_regs *regs);

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
		ret = -SMP_ENXIO;
	} else if (WARN_ON(refuse_to_wait(wait))) {
		ret = -SMP_EDEADLK;
	} else if (!per_cpu(cfd_csd, this)) {
		ret = -SMP_ENXIO;   /* smp_cfd_init() has not run: no CPU is up yet */
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
			return -SMP_ENOMEM;
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

/*
 * The halt+IPI paravirt lock backend: a waiter halts with interrupts on, the
 * unlocker kicks it with this IPI. The handler only counts the kick: the
 * waiter halts again after any wake-up that brought no kick (pv_spinlock.c).
 */
static void pv_kick_interrupt(struct pt_regs *regs, void *data)
{
	(void)regs;
	(void)data;
	pv_kick_received();
}

static void smp_pv_kick(int cpu)
{
	lapic_send_ipi(cpu_physical_id((unsigned int)cpu), APIC_ICR_FIXED, PV_KICK_VECTOR);
}

static u32 smp_cpu_apicid(int cpu)
{
	return cpu_physical_id((unsigned int)cpu);
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
	nmi_handler_hook = smp_nmi_handler;
	if (request_irq_vector(PV_KICK_VECTOR, pv_kick_interrupt, NULL, "pv-kick"))
		panic("smp: vector %#x already taken", PV_KICK_VECTOR);
	pv_set_cpu_apicid(smp_cpu_apicid);
	pv_set_kick_ipi(smp_pv_kick);
	if (smpcfd_prepare_cpu(smp_processor_id()))
		panic("smp: no memory for the boot CPU's call-function data");
}

/* ---- reschedule ----------------------------------------------------------- */

void smp_send_reschedule(unsigned int cpu)
{
	if (cpu < nr_cpu_ids && cpu_online(cpu))
		lapic_send_ipi(cpu_physical_id(cpu), APIC_ICR_FIXED, RESCHEDULE_VECTOR);
}

/* ---- NMI ------------------------------------------------------------------ */

#define NMI_REASON_STOP      1u
#define NMI_REASON_BACKTRACE 2u
#define NMI_REASON_PING      4u
#define NMI_REASON_CALL      8u

static DEFINE_PER_CPU(u32, nmi_reasons);
static DEFINE_PER_CPU(u32, nmi_bt_seq);    /* bumped after each backtrace */
static DEFINE_PER_CPU(u32, nmi_pings);
static DEFINE_PER_CPU(nmi_call_fn, nmi_call);
static u32 nmi_unknown;                    /* NMIs with no reason (latched extras, hardware) */
static u32 cpus_stopped;

void smp_send_nmi(unsigned int cpu)
{
	/* Delivery mode NMI: the vector field is ignored (SDM Vol. 3A §10.6.1). */
	lapic_send_ipi(cpu_physical_id(cpu), APIC_ICR_NMI, 0);
}

static void nmi_request(unsigned int cpu, u32 reason)
{
	/* Release: whatever the requester wrote before is visible to the
	 * handler's acquire exchange. */
	__atomic_fetch_or(&per_cpu(nmi_reasons, cpu), reason, __ATOMIC_RELEASE);
	smp_send_nmi(cpu);
}

bool smp_send_nmi_call(unsigned int cpu, nmi_call_fn fn)
{
	nmi_call_fn none = NULL;

	if (cpu >= nr_cpu_ids || !cpu_online(cpu) || !fn)
		return false;
	/* Release: the callback's data is visible to the handler's acquire. */
	if (!__atomic_compare_exchange_n(&per_cpu(nmi_call, cpu), &none, fn, false,
					 __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		return false;   /* one call already pending there */
	nmi_request(cpu, NMI_REASON_CALL);
	return true;
}

static __noreturn void stop_this_cpu(void)
{
	cli();
	cpumask_clear_cpu(smp_processor_id(), &cpu_online_mask);
	__atomic_fetch_add(&cpus_stopped, 1, __ATOMIC_RELEASE);
	for (;;)
		hlt();
}

static void smp_nmi_handler(struct pt_regs *regs)
{
	unsigned int cpu = smp_processor_id();
	u32 r = __atomic_exchange_n(this_cpu_ptr(&nmi_reasons), 0, __ATOMIC_ACQUIRE);

	if (r & NMI_REASON_STOP)
		stop_this_cpu();
	if (r & NMI_REASON_BACKTRACE) {
		printk("NMI backtrace for CPU %u:\n", cpu);
		print_backtrace(regs->rip, regs->rbp);
		/* Pairs with the acquire in trigger_single_cpu_backtrace. */
		__atomic_fetch_add(this_cpu_ptr(&nmi_bt_seq), 1, __ATOMIC_RELEASE);
	}
	if (r & NMI_REASON_PING)
		__atomic_fetch_add(this_cpu_ptr(&nmi_pings), 1, __ATOMIC_RELEASE);
	if (r & NMI_REASON_CALL) {
		nmi_call_fn fn = __atomic_exchange_n(this_cpu_ptr(&nmi_call), NULL, __ATOMIC_ACQUIRE);

		if (fn)
			fn(regs);
	}
	if (!r)
		__atomic_fetch_add(&nmi_unknown, 1, __ATOMIC_RELAXED);
}

/* Wait until *p != old, up to ms milliseconds. */
static bool wait_change(const u32 *p, u32 old, unsigned int ms)
{
	u64 deadline = ktime_get_ns() + (u64)ms * 1000000ULL;

	while (__atomic_load_n(p, __ATOMIC_ACQUIRE) == old) {
		if (ktime_get_ns() > deadline)
			return __atomic_load_n(p, __ATOMIC_ACQUIRE) != old;
		cpu_relax();
	}
	return true;
}

bool trigger_single_cpu_backtrace(unsigned int cpu)
{
	u32 seq;

	if (cpu == smp_processor_id()) {
		printk("Backtrace for CPU %u (this CPU):\n", cpu);
		dump_stack();
		return true;
	}
	if (cpu >= nr_cpu_ids || !cpu_online(cpu))
		return false;
	seq = __atomic_load_n(&per_cpu(nmi_bt_seq, cpu), __ATOMIC_ACQUIRE);
	nmi_request(cpu, NMI_REASON_BACKTRACE);
	if (wait_change(&per_cpu(nmi_bt_seq, cpu), seq, 1000))
		return true;
	printk("smp: CPU %u did not answer the backtrace NMI within 1000 ms\n", cpu);
	return false;
}

bool trigger_all_cpu_backtrace(void)
{
	static DEFINE_SPINLOCK(bt_lock);
	unsigned int this = smp_get_cpu(), cpu;
	bool all = true;

	spin_lock(&bt_lock);
	for_each_online_cpu(cpu)
		if (cpu != this && !trigger_single_cpu_backtrace(cpu))
			all = false;
	trigger_single_cpu_backtrace(this);
	spin_unlock(&bt_lock);
	smp_put_cpu();
	return all;
}

void smp_stop_other_cpus(void)
{
	static int stopping;
	unsigned int this = smp_processor_id(), cpu, n = 0;

	if (__atomic_exchange_n(&stopping, 1, __ATOMIC_SEQ_CST))
		return;
	if (num_online_cpus() <= 1)
		return;
	for_each_online_cpu(cpu) {
		if (cpu == this)
			continue;
		nmi_request(cpu, NMI_REASON_STOP);
		n++;
	}
	/* udelay, not ktime: bounded even if the clock is what broke. */
	for (int i = 0; i < 1000 && __atomic_load_n(&cpus_stopped, __ATOMIC_ACQUIRE) < n; i++)
		udelay(1000);
	unsigned int stopped = __atomic_load_n(&cpus_stopped, __ATOMIC_ACQUIRE);

	if (stopped < n)
		printk("smp: %u of %u other CPUs did not stop\n", n - stopped, n);
	else
		printk("smp: stopped the %u other CPUs\n", n);
}

/* `bt`, `bt all`, `bt N`. */
static int cmd_bt(int argc, char **argv)
{
	unsigned long long n;

	if (argc == 1) {
		trigger_single_cpu_backtrace(smp_processor_id());
		return 0;
	}
	if (argc != 2)
		return 1;
	if (strcmp(argv[1], "all") == 0) {
		trigger_all_cpu_backtrace();
		return 0;
	}
	if (kstrtoull(argv[1], 10, &n) || n >= nr_cpu_ids || !cpu_online((unsigned int)n)) {
		printk("bt: \"%s\" is not an online CPU\n", argv[1]);
		return 0;
	}
	trigger_single_cpu_backtrace((unsigned int)n);
	return 0;
}
SHELL_COMMAND(bt, "bt", "bt [all|CPU]", "backtrace of this CPU, one CPU (NMI), or every CPU", cmd_bt);

/* ---- tests ---------------------------------------------------------------- */

static u32 cf_hits[NR_CPUS];
static u32 cf_bad_context;

static void cf_count(void *info)
{
	(void)info;
	if (!irqs_disabled())
		__atomic_fetch_add(&cf_bad_context, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&cf_hits[smp_processor_id()], 1, __ATOMIC_RELAXED);
}

static void cf_whoami(void *info)
{
	*(unsigned int *)info = smp_processor_id();
}

static void cf_reset(void)
{
	for (unsigned int i = 0; i < NR_CPUS; i++)
		__atomic_store_n(&cf_hits[i], 0, __ATOMIC_RELAXED);
}

/* Every online CPU has `want[cpu]` hits within 2 s (async calls). */
static bool cf_wait_counts(const u32 *want)
{
	u64 deadline = ktime_get_ns() + 2000000000ULL;

	for (;;) {
		bool ok = true;

		for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++)
			if (__atomic_load_n(&cf_hits[cpu], __ATOMIC_ACQUIRE) != want[cpu])
				ok = false;
		if (ok || ktime_get_ns() > deadline)
			return ok;
		cpu_relax();
	}
}

KTEST(smp_call_function, "smp.call_function")
{
	static u32 want[NR_CPUS];
	unsigned int this = smp_processor_id(), cpu, who;
	const int rounds = 50;

	/* single, wait: runs on exactly that CPU, once, interrupts off */
	cf_reset();
	for_each_online_cpu(cpu) {
		who = NR_CPUS;
		KTEST_EXPECT(smp_call_function_single(cpu, cf_whoami, &who, 1) == 0);
		KTEST_EXPECT_MSG(who == cpu, "call for CPU %u ran on CPU %u", cpu, who);
		KTEST_EXPECT(smp_call_function_single(cpu, cf_count, NULL, 1) == 0);
		KTEST_EXPECT_MSG(cf_hits[cpu] == 1, "CPU %u: %u hits after one wait=1 call",
				 cpu, cf_hits[cpu]);
	}
	/* to a CPU that is not online */
	KTEST_EXPECT(smp_call_function_single(NR_CPUS - 1, cf_count, NULL, 1) == -SMP_ENXIO ||
		     cpu_online(NR_CPUS - 1));

	/* many, wait: every other online CPU once, not this one */
	cf_reset();
	smp_call_function_many(&cpu_online_mask, cf_count, NULL, 1);
	for_each_online_cpu(cpu)
		KTEST_EXPECT_MSG(cf_hits[cpu] == (cpu == this ? 0u : 1u),
				 "many: CPU %u has %u hits", cpu, cf_hits[cpu]);

	/* on_each_cpu, wait: every online CPU once, this one too */
	cf_reset();
	on_each_cpu(cf_count, NULL, 1);
	for_each_online_cpu(cpu)
		KTEST_EXPECT_MSG(cf_hits[cpu] == 1, "on_each_cpu: CPU %u has %u hits", cpu, cf_hits[cpu]);

	/* async: rounds of on_each_cpu and single, counts exact */
	cf_reset();
	memset(want, 0, sizeof(want));
	for (int i = 0; i < rounds; i++) {
		on_each_cpu(cf_count, NULL, 0);
		for_each_online_cpu(cpu) {
			want[cpu]++;
			KTEST_EXPECT(smp_call_function_single(cpu, cf_count, NULL, 0) == 0);
			want[cpu]++;
		}
	}
	KTEST_EXPECT_MSG(cf_wait_counts(want), "async calls: counts not exact after 2 s");
	for_each_online_cpu(cpu)
		KTEST_EXPECT_MSG(cf_hits[cpu] == want[cpu], "async: CPU %u has %u hits, want %u",
				 cpu, cf_hits[cpu], want[cpu]);
	KTEST_EXPECT_MSG(cf_bad_context == 0, "%u calls ran with interrupts on", cf_bad_context);
}

KTEST(smp_nmi, "smp.nmi")
{
	unsigned int this = smp_processor_id(), cpu;

	for_each_online_cpu(cpu) {
		if (cpu == this)
			continue;
		u32 before = __atomic_load_n(&per_cpu(nmi_pings, cpu), __ATOMIC_ACQUIRE);

		nmi_request(cpu, NMI_REASON_PING);
		KTEST_EXPECT_MSG(wait_change(&per_cpu(nmi_pings, cpu), before, 1000),
				 "CPU %u did not answer an NMI within 1 s", cpu);
	}
	KTEST_EXPECT_MSG(trigger_all_cpu_backtrace(), "some CPU gave no NMI backtrace");
}
