/*
 * watchdog.c — lockup detectors.
 *
 * Soft lockup. A tick that interrupts preemptible code (preempt count 0,
 * interrupts were on) stamps this CPU's wd_touch_ns: the scheduler could have
 * run there; so does every entry into the scheduler. Once the stamp is half
 * a threshold old the tick asks for a reschedule (need_resched), so code that
 * still passes preemption points — a thread taking and dropping a contended
 * spinlock — enters the scheduler at its next preempt_enable() and stamps it
 * (Linux gets the same effect by waking its per-CPU watchdog thread). More
 * than watchdog.softlockup_s seconds then means the CPU did not reach a
 * preemption point for that long: stuck with preemption disabled.
 * Reported once per episode.
 *
 * Hard lockup (buddy). A CPU spinning with interrupts off takes no ticks, so
 * it cannot notice itself. Every CPU watches its buddy — the next online CPU
 * with the watchdog enabled — by sampling the buddy's tick count
 * (cpu_local.ticks) every watchdog.hardlockup_s seconds; an unchanged count
 * over a whole period means the buddy's tick is dead. The watcher reports and
 * asks for the buddy's backtrace by NMI, which gets through irqs-off code.
 *
 * Hotplug (CPUHP_AP_WATCHDOG_ONLINE, on the CPU's hotplug thread): the CPU's
 * watchdog is enabled only while the CPU is fully up. Teardown disables it
 * before the CPU's tick stops (TEARDOWN_CPU comes later), so no buddy mistakes
 * a departing CPU for a locked-up one; each enable bumps a generation so a
 * watcher never compares samples across an offline/online cycle.
 *
 * watchdog.panic=1 panics right after a report: a test run whose kernel hangs
 * (locktorture-bug-* scenarios) then ends at once with a failing status.
 *
 * Invariant: a report names a CPU that really went a full threshold without
 * scheduling (soft) or ticking (hard) while its watchdog was enabled.
 * Tests: scenarios watchdog-soft / watchdog-hard (`lockup soft|hard` command)
 * expect the report; every other scenario expects none.
 */
#include <asm/cpu.h>
#include <grace/backtrace.h>
#include <grace/cpuhotplug.h>
#include <grace/panic.h>
#include <grace/param.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/sched.h>
#include <grace/shell.h>
#include <grace/smp.h>
#include <grace/string.h>
#include <grace/time.h>
#include <grace/watchdog.h>

static int softlockup_s = 10;
static int hardlockup_s = 10;
static bool watchdog_on = true;
param_int("watchdog.softlockup_s", softlockup_s, 1, 600, "report a CPU that has not scheduled for this long");
param_int("watchdog.hardlockup_s", hardlockup_s, 1, 600, "report a CPU whose tick stopped for this long");
param_bool("watchdog.enabled", watchdog_on, "run the lockup detectors");
static bool watchdog_panic;
param_bool("watchdog.panic", watchdog_panic, "panic after a lockup report (end a test run at once)");

static DEFINE_PER_CPU(bool, wd_enabled);
static DEFINE_PER_CPU(u64, wd_gen);            /* bumped at each enable */
static DEFINE_PER_CPU(u64, wd_touch_ns);
static DEFINE_PER_CPU(bool, wd_soft_reported);
/* The watcher's view of its buddy. */
static DEFINE_PER_CPU(int, wd_buddy);
static DEFINE_PER_CPU(u64, wd_buddy_gen);
static DEFINE_PER_CPU(u64, wd_buddy_ticks);
static DEFINE_PER_CPU(u64, wd_buddy_since);
static DEFINE_PER_CPU(bool, wd_buddy_reported);

unsigned long watchdog_soft_reports, watchdog_hard_reports;

void watchdog_touch(void)
{
	this_cpu_write(wd_touch_ns, ktime_get_ns());
	this_cpu_write(wd_soft_reported, false);
}

static int next_enabled_cpu(unsigned int me)
{
	for (unsigned int i = 1; i < NR_CPUS; i++) {
		unsigned int c = (me + i) % NR_CPUS;

		if (c == me)
			break;
		if (cpu_online(c) && READ_ONCE(per_cpu(wd_enabled, c)))
			return (int)c;
	}
	return -1;
}

static void check_soft(struct pt_regs *regs, unsigned int cpu, u64 now)
{
	u64 touched = this_cpu_read(wd_touch_ns);

	if (now - touched < (u64)softlockup_s * 1000000000ULL || this_cpu_read(wd_soft_reported))
		return;
	this_cpu_write(wd_soft_reported, true);
	__atomic_add_fetch(&watchdog_soft_reports, 1, __ATOMIC_RELAXED);
	printk("!!! watchdog: BUG: soft lockup - CPU#%u stuck for %llus! [%s]\n", cpu,
	       (unsigned long long)((now - touched) / 1000000000ULL), current ? current->comm : "?");
	print_backtrace_regs(regs);
	if (watchdog_panic)
		panic("soft lockup on CPU#%u (watchdog.panic=1)", cpu);
}

static void check_hard(unsigned int cpu, u64 now)
{
	int buddy = next_enabled_cpu(cpu);

	if (buddy < 0)
		return;
	u64 gen = READ_ONCE(per_cpu(wd_gen, buddy));
	u64 ticks = READ_ONCE(per_cpu(cpu_local, buddy).ticks);

	if (buddy != this_cpu_read(wd_buddy) || gen != this_cpu_read(wd_buddy_gen) ||
	    ticks != this_cpu_read(wd_buddy_ticks) || tick_stopped_on((unsigned int)buddy)) {
		/* (nohz: an idle CPU that stopped its tick is not locked up.) */
		/* New buddy, new life of the buddy, or it ticked: restart the clock. */
		this_cpu_write(wd_buddy, buddy);
		this_cpu_write(wd_buddy_gen, gen);
		this_cpu_write(wd_buddy_ticks, ticks);
		this_cpu_write(wd_buddy_since, now);
		this_cpu_write(wd_buddy_reported, false);
		return;
	}
	if (now - this_cpu_read(wd_buddy_since) < (u64)hardlockup_s * 1000000000ULL ||
	    this_cpu_read(wd_buddy_reported))
		return;
	this_cpu_write(wd_buddy_reported, true);
	__atomic_add_fetch(&watchdog_hard_reports, 1, __ATOMIC_RELAXED);
	printk("!!! watchdog: BUG: hard LOCKUP on CPU#%d (its tick stopped %llus ago; noticed by CPU#%u)\n",
	       buddy, (unsigned long long)((now - this_cpu_read(wd_buddy_since)) / 1000000000ULL), cpu);
	trigger_single_cpu_backtrace((unsigned int)buddy);
	if (watchdog_panic)
		panic("hard lockup on CPU#%d (watchdog.panic=1)", buddy);
}

void watchdog_tick(struct pt_regs *regs)
{
	if (!watchdog_on || !this_cpu_read(wd_enabled))
		return;
	unsigned int cpu = smp_processor_id();

	if (this_cpu_read(cpu_local.preempt_count) == 0 && (regs->rflags & X86_RFLAGS_IF))
		watchdog_touch();
	/* Sampled after the touch: a stamp can never be later than `now`. */
	u64 now = ktime_get_ns();

	if (now - this_cpu_read(wd_touch_ns) > (u64)softlockup_s * 500000000ULL)
		this_cpu_write(sched_need_resched, 1);   /* come through the scheduler */
	check_soft(regs, cpu, now);
	check_hard(cpu, now);
}

int watchdog_enable(unsigned int cpu)
{
	per_cpu(wd_touch_ns, cpu) = ktime_get_ns();
	per_cpu(wd_soft_reported, cpu) = false;
	per_cpu(wd_buddy, cpu) = -1;
	__atomic_add_fetch(&per_cpu(wd_gen, cpu), 1, __ATOMIC_RELEASE);
	WRITE_ONCE(per_cpu(wd_enabled, cpu), true);
	return 0;
}

int watchdog_disable(unsigned int cpu)
{
	WRITE_ONCE(per_cpu(wd_enabled, cpu), false);
	return 0;
}

void watchdog_init(void)
{
	watchdog_enable(0);
	printk("watchdog: softlockup %ds, hardlockup %ds%s\n", softlockup_s, hardlockup_s,
	       watchdog_on ? "" : " (disabled)");
}

/* ---- make a lockup on purpose ---------------------------------------------- */

static int cmd_lockup(int argc, char **argv)
{
	unsigned long long secs;

	if (argc != 3 || kstrtoull(argv[2], 0, &secs) || secs > 600)
		return 1;
	u64 end = ktime_get_ns() + secs * 1000000000ULL;

	if (!strcmp(argv[1], "soft")) {
		printk("lockup: spinning with preemption off for %llus on CPU %u\n", secs, smp_processor_id());
		preempt_disable();
		while (ktime_get_ns() < end)
			cpu_relax();
		preempt_enable();
	} else if (!strcmp(argv[1], "hard")) {
		printk("lockup: spinning with interrupts off for %llus on CPU %u\n", secs, smp_processor_id());
		unsigned long flags = local_irq_save();

		while (ktime_get_ns() < end)
			cpu_relax();
		local_irq_restore(flags);
	} else {
		return 1;
	}
	printk("lockup: done (reports so far: %lu soft, %lu hard)\n",
	       watchdog_soft_reports, watchdog_hard_reports);
	return 0;
}
SHELL_COMMAND(lockup, "lockup", "lockup soft|hard SECONDS",
	      "spin on this CPU with preemption (soft) or interrupts (hard) off, to test the watchdog", cmd_lockup);
