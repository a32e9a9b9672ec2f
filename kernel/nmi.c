/*
 * nmi.c — NMIs between CPUs: panic stop, backtraces, calls into whatever a
 * CPU is doing, and pings for tests.
 *
 * The requester sets a reason bit in the target's `nmi_reasons` and sends an
 * NMI; the target's handler takes all bits with one exchange:
 *   STOP       panic: halt forever with interrupts off
 *   BACKTRACE  print the interrupted context's call trace, then bump
 *              `nmi_bt_seq` (the requester waits for that)
 *   CALL       run the one pending nmi_call_fn (locktorture's NMI locks)
 *   PING       count it (ktest smp.nmi)
 * Several requests may share one NMI (NMIs do not queue: a second one sent
 * while the first is handled is latched once); a reason bit is never lost
 * because the handler exchanges the whole word. An NMI with no bit set is
 * counted in nmi_unknown (unless another handler on the NMI handler list,
 * kernel/nmi_handlers.c, claims it). Backtraces are collected one CPU at a time, so
 * their lines never mix.
 * Tests: ktest smp.nmi (kernel/smp_test.c); `bt all` (scenario smp-bt-all);
 * smp-panic-stop.
 */
#include <asm/apic.h>
#include <asm/cpu.h>
#include <asm/traps.h>
#include <grace/backtrace.h>
#include <grace/delay.h>
#include <grace/nmi.h>
#include <grace/percpu.h>
#include <grace/preempt.h>
#include <grace/printk.h>
#include <grace/pv_kvm.h>
#include <grace/smp.h>
#include <grace/spinlock.h>
#include <grace/time.h>

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

static int smp_nmi_handler(struct pt_regs *regs, struct nmiaction *a)
{
	unsigned int cpu = smp_processor_id();
	u32 r = __atomic_exchange_n(this_cpu_ptr(&nmi_reasons), 0, __ATOMIC_ACQUIRE);

	if (r & NMI_REASON_STOP)
		stop_this_cpu();
	if (r & NMI_REASON_BACKTRACE) {
		printk("NMI backtrace for CPU %u:\n", cpu);
		print_backtrace_regs(regs);
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
	(void)a;
	return r != 0;
}

/* Every NMI: the handler list (kernel/nmi_handlers.c), ours first. */
static struct nmiaction smp_nmi_action = { .handler = smp_nmi_handler, .name = "smp" };

static void nmi_entry(struct pt_regs *regs)
{
	pv_kvm_nmi_fixup(regs);   /* before anything: it may be the kick a halt waits for */
	if (!nmi_handle_list(regs))
		__atomic_fetch_add(&nmi_unknown, 1, __ATOMIC_RELAXED);
}

/* Spin until *p != old, up to ms milliseconds. Acquire: pairs with the
 * release increment in the handler, so what it printed or did is visible. */
static bool wait_change(const u32 *p, u32 old, unsigned int ms)
{
	return spin_until(__atomic_load_n(p, __ATOMIC_ACQUIRE) != old, ms);
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
	unsigned int this, cpu;
	bool all = true;

	preempt_disable();
	this = smp_processor_id();

	spin_lock(&bt_lock);
	for_each_online_cpu(cpu)
		if (cpu != this && !trigger_single_cpu_backtrace(cpu))
			all = false;
	trigger_single_cpu_backtrace(this);
	spin_unlock(&bt_lock);
	preempt_enable_no_resched();
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


bool smp_nmi_ping(unsigned int cpu, unsigned int ms)
{
	u32 before = __atomic_load_n(&per_cpu(nmi_pings, cpu), __ATOMIC_ACQUIRE);

	nmi_request(cpu, NMI_REASON_PING);
	return wait_change(&per_cpu(nmi_pings, cpu), before, ms);
}

void nmi_ipi_init(void)
{
	register_nmi_handler(&smp_nmi_action);
	nmi_handler_hook = nmi_entry;
}
