/*
 * time.c — the periodic tick.
 *
 * Each CPU's LAPIC timer interrupts it timer.hz times a second on
 * LOCAL_TIMER_VECTOR. The boot CPU keeps `jiffies` at real time (never ahead:
 * catch-up bursts are absorbed; never behind: lost ticks are made up); every CPU counts its
 * own ticks in struct cpu_local (the lockup watchdogs and the scheduler build
 * on those). The tick handler runs with interrupts off and does O(1) work.
 *
 * nohz=1 (off by default): an idle CPU other than the boot CPU stops its
 * tick when nothing on it needs one — no timer pending on its base, no RCU
 * callbacks queued (they advance and run from the tick) — and starts it
 * again when it leaves idle. Whoever arms a timer on a CPU whose tick is
 * stopped kicks it with an IPI (kernel/timer.c). RCU is what changes: a
 * tickless idle CPU never reports a quiescent state itself, so grace
 * periods end only through the GP kthread's FQS scans of the dynticks
 * counters, which wait on the kthread's timer. That is the configuration
 * of McKenney's hotplug-timer deadlock story (LCA 2018): a DEAD step that
 * waits for a GP while the kthread's timer sits on the dead CPU
 * (timers.bug_late_migration, scenario rcu-bug-late-timer-migration).
 * Ordering: the idle CPU sets tick_stopped before it looks at its timer
 * base; an arming CPU enqueues before it looks at tick_stopped; a full
 * barrier on each side, so one of them sees the other.
 * Tests: ktest "time.tick"; scenarios rcutorture-nohz-hotplug (with nohz=1),
 * rcu-bug-late-timer-migration.
 */
#include <asm/apic.h>
#include <asm/cpu.h>
#include <asm/irq_vectors.h>
#include <grace/irq.h>
#include <grace/ktest.h>
#include <grace/param.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/rcupdate.h>
#include <grace/sched.h>
#include <grace/time.h>
#include <grace/watchdog.h>
#include <grace/timer.h>

volatile u64 jiffies;
static int timer_hz = 100;
unsigned int tick_hz;
static u64 tick_start_ns;      /* when the boot CPU's tick started */
param_int("timer.hz", timer_hz, 10, 1000, "timer ticks per second (HZ)");

/* The jiffy real time is in: one more per 1/hz since the tick started. */
static u64 jiffies_due(void)
{
	return (ktime_get_ns() - tick_start_ns) * tick_hz / 1000000000ULL + 1;
}

u64 jiffies_now(void)
{
	u64 j = READ_ONCE(jiffies);

	if (!tick_hz)
		return j;
	u64 due = jiffies_due();

	return j > due ? j : due;
}

bool nohz_idle;
param_bool("nohz", nohz_idle, "stop an idle CPU's tick when no timer or RCU callback needs it (not the boot CPU)");
static DEFINE_PER_CPU(bool, tick_stopped);
unsigned long tick_nohz_stops;   /* idle entries that stopped the tick */

bool tick_stopped_on(unsigned int cpu)
{
	return READ_ONCE(per_cpu(tick_stopped, cpu));
}

void tick_nohz_idle_enter(void)
{
	unsigned int cpu = smp_processor_id();

	if (!nohz_idle || cpu == 0 || !tick_hz)
		return;
	WRITE_ONCE(per_cpu(tick_stopped, cpu), true);
	smp_mb();   /* pairs with the one after enqueue_timer() in kernel/timer.c */
	if (timers_pending_on(cpu) || rcu_needs_cpu()) {
		WRITE_ONCE(per_cpu(tick_stopped, cpu), false);
		return;
	}
	lapic_timer_stop();
	__atomic_add_fetch(&tick_nohz_stops, 1, __ATOMIC_RELAXED);
}

void tick_nohz_idle_exit(void)
{
	unsigned long flags;

	if (!this_cpu_read(tick_stopped))
		return;
	flags = local_irq_save();
	lapic_timer_start(tick_hz);
	WRITE_ONCE(per_cpu(tick_stopped, smp_processor_id()), false);
	local_irq_restore(flags);
}

static void tick_handler(struct pt_regs *regs, void *data)
{
	(void)data;
	struct cpu_local *c = this_cpu();

	c->ticks++;
	if (c->cpu == 0) {
		/*
		 * jiffies follows real time, within one tick either way: it never
		 * runs ahead (when QEMU's main loop was descheduled its periodic
		 * APIC timer delivers the missed ticks in a burst; counting each
		 * would make a 50 ms timeout end after 20 ms), and it never stays
		 * behind (ticks lost while interrupts were off, or a vCPU the host
		 * did not run, are made up at once: jiffies may step by more than
		 * one, and the timer wheel walks every value it passes). A lag
		 * would shorten the next timeout counted from it, when the burst
		 * comes: jiffies_now() is what timeouts count from.
		 */
		u64 due = jiffies_due();

		if (READ_ONCE(jiffies) < due)
			__atomic_store_n(&jiffies, due, __ATOMIC_RELAXED);
	}
	/* This CPU's expired timers (callbacks run here, interrupts off), then
	 * the scheduler's time slice; a switch it asks for happens at the end
	 * of this interrupt (irq_exit_preempt). */
	run_local_timers();
	scheduler_tick();
	rcu_sched_clock_irq();
	watchdog_tick(regs);
}

void timer_tick_init(void)
{
	if (!tick_hz) {
		tick_hz = (unsigned int)timer_hz;
		request_irq_vector(LOCAL_TIMER_VECTOR, tick_handler, NULL, "timer");
		tick_start_ns = ktime_get_ns();
	}
	lapic_timer_start(tick_hz);
}

KTEST(time_tick, "time.tick")
{
	/*
	 * What must hold even on a loaded host: ticks arrive, and they never run
	 * ahead of real time (at most one per 1/hz since the tick started, plus
	 * one in flight). A rate over a short window is NOT checked: when QEMU's
	 * main loop is descheduled its periodic APIC timer falls behind and then
	 * catches up in a burst (seen: 61 ticks in 200 ms at 100 Hz), so jiffies
	 * is only right on average.
	 */
	u64 j0 = READ_ONCE(jiffies), deadline = ktime_get_ns() + 2000000000ULL;

	while (READ_ONCE(jiffies) - j0 < 5 && ktime_get_ns() < deadline)
		cpu_relax();
	KTEST_EXPECT_MSG(READ_ONCE(jiffies) - j0 >= 5, "fewer than 5 ticks in 2 s");

	u64 elapsed = ktime_get_ns() - tick_start_ns;
	u64 most = elapsed * tick_hz / 1000000000ULL + 2;
	u64 got = READ_ONCE(jiffies);

	KTEST_EXPECT_MSG(got <= most, "%llu ticks in %llu ms at %u Hz: ahead of real time",
			 (unsigned long long)got, (unsigned long long)(elapsed / 1000000), tick_hz);
}

/*
 * Ticks lost while this CPU had interrupts off (35 ms here: three periods
 * at 100 Hz, of which the LAPIC keeps only one pending) do not leave jiffies
 * behind: the next tick brings it back to real time, so a timeout started
 * after a stall is not cut short by a later catch-up burst.
 */
KTEST(time_catch_up, "time.catch_up")
{
	unsigned long flags;
	u64 j0, deadline;

	if (smp_processor_id() != 0 || !tick_hz) {
		printk("time.catch_up: runs on CPU 0 with the tick started; skipped\n");
		return;
	}
	flags = local_irq_save();
	mdelay(35);
	local_irq_restore(flags);
	j0 = READ_ONCE(jiffies);
	deadline = ktime_get_ns() + 1000000000ULL;
	while (READ_ONCE(jiffies) == j0 && ktime_get_ns() < deadline)
		cpu_relax();   /* the next tick */
	KTEST_EXPECT_MSG(READ_ONCE(jiffies) + 1 >= jiffies_due(),
			 "jiffies %llu stays behind real time (%llu) after a 35 ms stall",
			 (unsigned long long)READ_ONCE(jiffies), (unsigned long long)jiffies_due());
	KTEST_EXPECT(jiffies_now() >= READ_ONCE(jiffies));
}

KTEST(time_monotonic, "time.monotonic")
{
	u64 prev = ktime_get_ns();

	for (int i = 0; i < 100000; i++) {
		u64 now = ktime_get_ns();

		KTEST_EXPECT_MSG(now >= prev, "ktime went back %llu -> %llu",
				 (unsigned long long)prev, (unsigned long long)now);
		if (now < prev)
			break;
		prev = now;
	}
}

KTEST(time_udelay, "time.udelay")
{
	u64 t0 = ktime_get_ns();

	udelay(2000);
	u64 dt = ktime_get_ns() - t0;

	KTEST_EXPECT_MSG(dt >= 2000000, "udelay(2000) took only %llu ns", (unsigned long long)dt);
}
