/*
 * pv_dynamic.c — `pvspin=dynamic`: boot with native spinlocks, measure how
 * much of its time the host takes from the guest, and switch to the PV
 * backend live (pv_spinlock_switch()) when the guest is overcommitted, back
 * to native when it no longer is.
 *
 * The signal, per CPU, from a pinned timer that fires on every tick:
 *  - KVM steal time, where KVM offers KVM_FEATURE_STEAL_TIME: the host
 *    writes how long this vCPU was runnable but not running into a 64-byte
 *    record whose address we give it (MSR_KVM_STEAL_TIME; Linux
 *    Documentation/virt/kvm/x86/msr.rst). Written to that document, NOT
 *    tested: this host's nested KVM does not boot Grace.
 *  - Elsewhere (QEMU TCG, where a vCPU is a host thread and the TSC follows
 *    host time): a TSC-gap window. On a tick that interrupted a task (not
 *    the idle loop) the timer spins pvdynamic.window_us with interrupts off
 *    reading the clock; any step longer than pvdynamic.gap_us is time the
 *    host did not run this vCPU. Lost time over window time, summed over
 *    CPUs and the sample period, is the sample (per mille). Interrupts are
 *    off, so nothing in the guest can make a gap: only the host can.
 *  - and the tick gaps: between two consecutive ticks that both interrupted
 *    a task (not idle; nohz=1 turns this part off), a gap longer than the
 *    period plus pvdynamic.tick_slack_pct (25 %) of it is lost time
 *    (gap - period) over the busy time between such ticks. (With "longer
 *    than two periods" it was blind to host descheduling shorter than a
 *    period, the common case with 4 hogs and 4 vCPU threads on 2 cores:
 *    CI's pvspin-dynamic read 10-45 %, averaged at most 22.8 % and never
 *    switched.) It misses host slices far below a period,
 *    which the window sees; the window is blind when the vCPU runs in short
 *    bursts after long waits, which the gaps see: in PV mode the vCPU
 *    threads halt and, woken, run a little before the host takes them again,
 *    and each window starts at a tick that just woke the vCPU. Measured here:
 *    4 host hogs on 2 cores, PV mode, windows 0-3 % while the gaps said
 *    27-65 % (docs/patching.md, "pvspin=dynamic", has the figures).
 *  - and, whatever the clock signal, the lock-holder-preemption signal the
 *    waiters themselves see: while the policy runs, a static key turns on
 *    timing of every spinlock slow path (native and PV; lock_env.h), and a
 *    wait longer than pvdynamic.long_wait_us (3 ms: above any hold,
 *    locktorture's rare 2 ms one included) counts whole, over the wall
 *    time of the sampled CPUs. (At 500 us, locktorture on 2 idle vCPUs
 *    read 14-17 % from long holds and hand-overs alone, above the 8 % that
 *    brings the policy back to native; at 3 ms, 0-0.4 % idle, 78-86 %
 *    native under the hogs, 35-55 % in PV under them.) A native waiter
 *    spins through the host's preemption of the holder (or of the next
 *    waiter in the queue), which is exactly
 *    the time PV locks exist to give back; the clock signals above only
 *    guess at it. Under 4 host hogs on 2 cores the windows read 0-10 % and
 *    the tick gaps 20-30 % (one CI run never switched) while locktorture's
 *    throughput fell by 90 %.
 *  The sample is the largest of them.
 * The window costs window_us per busy tick per CPU (2 % at 200 us, 100 Hz).
 *
 * The thread "pvdynamic" wakes every pvdynamic.period_ms, sums the per-CPU
 * counters (cumulative, written only by their CPU; the thread keeps the
 * previous snapshot), feeds pv_dyn_decide() (pv_dynamic_policy.c, pure:
 * thresholds, runs, dwell, back-off) and switches, printing one line:
 *
 *   pvspin: dynamic: native -> ipi at 12.3 s (lost 31.2% >= 15.0% for 2 samples, native for 12000 ms); switch 830 us
 *
 * A manual `pvspin off|ipi|kvm|flip` stops the policy first (pv_dynamic_stop).
 * Hotplug: a CPU that goes offline stops sampling (its timer, migrated,
 * fires once elsewhere and does not re-arm); each sample the thread re-arms
 * every online CPU whose timer is not armed, so a CPU that comes back
 * samples again. The first sample is a warm-up, not fed to the policy: it
 * covers start-up, whose text patching stops every vCPU under TCG (59.7 %
 * "lost" in one idle boot with hotplug torture, enough to switch at 2.3 s). The thread keeps the previous
 * counters per CPU and sums per-CPU differences, so a CPU leaving the sum
 * cannot make a difference negative (the sum over online CPUs would).
 * Parameters (pvdynamic.*, `params pvdynamic`): period_ms 500, up_pm 250,
 * down_pm 80, up_samples 2, down_samples 6, smooth_shift 2, min_windows 20,
 * min_dwell_ms 2000, max_dwell_ms 32000, flap_ms 10000, window_us 200,
 * gap_us 50, tick_slack_pct 25, long_wait_us 3000, signal auto|steal|tsc, verbose.
 * Tests: tests/unit/test_pv_dynamic_policy.c (the decision); scenarios
 * pvspin-dynamic (host load halfway: must go PV), pvspin-dynamic-idle (no
 * load: must stay native), pvspin-dynamic-native-load (the same load pinned
 * native, for comparison).
 */
#include <asm/cpu.h>
#include <grace/cpumask.h>
#include <grace/delay.h>
#include <grace/errno.h>
#include <grace/jump_label.h>
#include <grace/kthread.h>
#include <grace/param.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/mm.h>
#include <grace/pv_dynamic.h>
#include <grace/pv_dynamic_policy.h>
#include <grace/pv_policy.h>
#include <grace/sched.h>
#include <grace/smp.h>
#include <grace/string.h>
#include <grace/time.h>
#include <grace/timer.h>
#include "lock_env.h"

#define KVM_FEATURE_STEAL_TIME  5            /* KVM_CPUID_FEATURES EAX bit */
#define MSR_KVM_STEAL_TIME      0x4b564d03
#define KVM_MSR_ENABLED         1ULL

/* The record the host fills (Linux Documentation/virt/kvm/x86/msr.rst). */
struct kvm_steal_time {
	u64 steal;          /* ns this vCPU was runnable and not running */
	u32 version;        /* odd while the host writes */
	u32 flags;
	u8 preempted;
	u8 pad8[3];
	u32 pad[11];
} __aligned(64);

static int period_ms = 500;
static int up_pm = 250, down_pm = 80, up_samples = 2, down_samples = 6, min_windows = 20, smooth_shift = 2;
static int min_dwell_ms = 2000, max_dwell_ms = 32000, flap_ms = 10000;
static int window_us = 200, gap_us = 50, tick_slack_pct = 25, long_wait_us = 3000;
static bool verbose;
static char signal_param[8] = "auto";
param_int("pvdynamic.period_ms", period_ms, 20, 10000, "pvspin=dynamic: sample period");
param_int("pvdynamic.up_pm", up_pm, 1, 1000,
	  "pvspin=dynamic: lost time (per mille) that counts as overcommitted");
param_int("pvdynamic.down_pm", down_pm, 0, 999,
	  "pvspin=dynamic: lost time (per mille) that counts as not overcommitted");
param_int("pvdynamic.up_samples", up_samples, 1, 1000, "pvspin=dynamic: samples in a row to go PV");
param_int("pvdynamic.down_samples", down_samples, 1, 1000,
	  "pvspin=dynamic: samples in a row to go back native");
param_int("pvdynamic.min_windows", min_windows, 0, 100000,
	  "pvspin=dynamic: fewer measurements in a sample: no evidence");
param_int("pvdynamic.smooth_shift", smooth_shift, 0, 8,
	  "pvspin=dynamic: thresholds apply to a moving average of weight 1/2^N");
param_int("pvdynamic.min_dwell_ms", min_dwell_ms, 0, 3600000,
	  "pvspin=dynamic: no switch sooner after the last one");
param_int("pvdynamic.max_dwell_ms", max_dwell_ms, 0, 3600000,
	  "pvspin=dynamic: longest PV dwell after back-off");
param_int("pvdynamic.flap_ms", flap_ms, 0, 3600000,
	  "pvspin=dynamic: back to PV sooner than this after going native doubles the PV dwell");
param_int("pvdynamic.window_us", window_us, 10, 5000, "pvspin=dynamic: TSC-gap window per busy tick");
param_int("pvdynamic.gap_us", gap_us, 1, 100000,
	  "pvspin=dynamic: a clock step longer than this in the window is lost time");
param_int("pvdynamic.tick_slack_pct", tick_slack_pct, 1, 1000,
	  "pvspin=dynamic: a busy tick-to-tick gap longer than the period plus this share of it counts as lost (gap - period)");
param_int("pvdynamic.long_wait_us", long_wait_us, 1, 1000000,
	  "pvspin=dynamic: a spinlock slow-path wait longer than this counts (lock-holder preemption)");
param_bool("pvdynamic.verbose", verbose, "pvspin=dynamic: print every sample");
param_string("pvdynamic.signal", signal_param, "pvspin=dynamic: auto|steal|tsc");

/* Per CPU; the counters are cumulative and written only by their CPU. */
struct pv_dyn_cpu {
	struct timer_list timer;
	unsigned int cpu;
	bool armed, stopped;
	bool last_busy;
	bool steal_on;
	u64 last_tick_ns;
	u64 win_ns, win_lost_ns, windows;     /* the TSC-gap windows */
	u64 tick_ns, tick_lost_ns;            /* busy tick-to-tick gaps */
	u64 steal_ns;                         /* KVM steal time */
	u64 wait_long_ns;                     /* slow-path waits > long_wait_us */
};
static DEFINE_PER_CPU(struct pv_dyn_cpu, pv_dyn_cpu);
static struct kvm_steal_time steal_rec[NR_CPUS_MAX];

enum pv_dyn_signal { SIG_TSC, SIG_STEAL };
static const char *const signal_names[] = { [SIG_TSC] = "tsc", [SIG_STEAL] = "steal" };

static struct {
	bool enabled;              /* pvspin=dynamic */
	enum pv_backend pv;        /* the PV backend to switch to */
	enum pv_dyn_signal sig;
	struct task_struct *thread;
	struct pv_dyn_params p;
	struct pv_dyn_state s;
	struct pv_dyn_sample last;
	u64 last_tick_pm;
	unsigned int last_win_pm;
	u64 samples;
	char stopped_why[64];
} dyn;

static u64 now_ms(void) { return ktime_get_ns() / 1000000; }

/* The waiters' signal (lock_env.h's lock_wait_start/done, both slow paths). */
DEFINE_STATIC_KEY_FALSE(pv_dyn_wait_key);

u64 pv_dynamic_wait_clock(void)
{
	return ktime_get_ns();
}

void pv_dynamic_wait_done(u64 t0)
{
	u64 d = ktime_get_ns() - t0;

	/* Only this CPU writes its counter; an NMI's wait that lands between
	 * the load and the store of an interrupted one is lost (rare, small). */
	if (t0 && d > (u64)long_wait_us * 1000) {
		struct pv_dyn_cpu *c = this_cpu_ptr(&pv_dyn_cpu);

		WRITE_ONCE(c->wait_long_ns, c->wait_long_ns + d);
	}
}

void pv_dynamic_enable(enum pv_backend pv)
{
	dyn.enabled = true;
	dyn.pv = pv;
}

bool pv_dynamic_running(void) { return dyn.thread != NULL; }

static u64 read_steal(const struct kvm_steal_time *st)
{
	u32 v;
	u64 steal;

	do {
		v = __atomic_load_n(&st->version, __ATOMIC_ACQUIRE);
		steal = __atomic_load_n(&st->steal, __ATOMIC_ACQUIRE);
	} while ((v & 1) || v != __atomic_load_n(&st->version, __ATOMIC_ACQUIRE));
	return steal;
}

/* The TSC-gap window: spin window_us with interrupts off (we are in the tick). */
static void tsc_window(struct pv_dyn_cpu *c, u64 t0)
{
	u64 w = (u64)window_us * 1000, g = (u64)gap_us * 1000;
	u64 prev = t0, t, lost = 0;

	do {
		t = ktime_get_ns();
		if (t - prev > g)
			lost += t - prev;
		prev = t;
	} while (t - t0 < w);
	WRITE_ONCE(c->win_ns, c->win_ns + (t - t0));
	WRITE_ONCE(c->win_lost_ns, c->win_lost_ns + lost);
	WRITE_ONCE(c->windows, c->windows + 1);
}

static void pv_dyn_tick(struct timer_list *t)
{
	struct pv_dyn_cpu *c = from_timer(c, t, timer);
	u64 now = ktime_get_ns(), period = 1000000000ULL / (tick_hz ? tick_hz : 100);
	bool busy = !is_idle_task(current);

	if (smp_processor_id() != c->cpu || READ_ONCE(c->stopped)) {
		WRITE_ONCE(c->armed, false);   /* migrated by hotplug, or stopping */
		return;
	}
	if (c->steal_on)
		WRITE_ONCE(c->steal_ns, read_steal(&steal_rec[c->cpu]));
	if (busy && c->last_busy && c->last_tick_ns && !nohz_idle) {
		u64 gap = now - c->last_tick_ns;

		WRITE_ONCE(c->tick_ns, c->tick_ns + gap);
		if (gap > period + period * (u64)tick_slack_pct / 100)
			WRITE_ONCE(c->tick_lost_ns, c->tick_lost_ns + gap - period);
	}
	if (busy && dyn.sig == SIG_TSC)
		tsc_window(c, now);
	c->last_busy = busy;
	c->last_tick_ns = ktime_get_ns();
	mod_timer(&c->timer, jiffies + 1);
}

static void enable_steal_here(void *unused)
{
	struct pv_dyn_cpu *c = this_cpu_ptr(&pv_dyn_cpu);

	(void)unused;
	wrmsr(MSR_KVM_STEAL_TIME, virt_to_phys(&steal_rec[c->cpu]) | KVM_MSR_ENABLED);
	c->steal_ns = read_steal(&steal_rec[c->cpu]);
	c->steal_on = true;
}

struct pv_dyn_snap {
	u64 win_ns, win_lost_ns, windows, tick_ns, tick_lost_ns, steal_ns, wait_long_ns;
	unsigned int cpus;
};

/* Each CPU's counters at the last sample (the thread's alone). */
static struct pv_dyn_snap snap_prev[NR_CPUS_MAX];

static void snapshot_cpu(unsigned int cpu, struct pv_dyn_snap *s)
{
	struct pv_dyn_cpu *c = per_cpu_ptr(&pv_dyn_cpu, cpu);

	/* The tick adds to a total before its lost part, so read the lost
	 * parts first: on x86 (TSO) the total then read is at least as new,
	 * and lost <= total holds in every snapshot (checked below). */
	s->win_lost_ns = READ_ONCE(c->win_lost_ns);
	s->tick_lost_ns = READ_ONCE(c->tick_lost_ns);
	barrier();
	s->win_ns = READ_ONCE(c->win_ns);
	s->windows = READ_ONCE(c->windows);
	s->tick_ns = READ_ONCE(c->tick_ns);
	s->steal_ns = READ_ONCE(c->steal_ns);
	s->wait_long_ns = READ_ONCE(c->wait_long_ns);
}

static bool books_warned;

/* The invariants of one CPU's difference: every counter only grows, and
 * lost time is part of the time it was measured in. A difference of sums
 * over the online CPUs (the first version) broke the first when a CPU left
 * (and read as 100 % lost); this check makes such a bug loud. */
static void check_delta(unsigned int cpu, const struct pv_dyn_snap *now, const struct pv_dyn_snap *was)
{
	const char *bad = NULL;

	if (now->win_ns < was->win_ns || now->win_lost_ns < was->win_lost_ns ||
	    now->tick_ns < was->tick_ns || now->tick_lost_ns < was->tick_lost_ns ||
	    now->windows < was->windows || now->wait_long_ns < was->wait_long_ns)
		bad = "a counter went backwards";
	else if (now->win_lost_ns - was->win_lost_ns > now->win_ns - was->win_ns)
		bad = "more time lost in windows than the windows lasted";
	else if (now->tick_lost_ns - was->tick_lost_ns > now->tick_ns - was->tick_ns)
		bad = "more time lost in tick gaps than the gaps lasted";
	if (bad && !__atomic_exchange_n(&books_warned, true, __ATOMIC_RELAXED))
		printk("pvdynamic: BUG: CPU %u: %s\n", cpu, bad);
}

/*
 * What every online CPU counted since the last sample, summed. Per CPU,
 * because each counter only grows: a CPU that left or joined since then
 * adds what it counted, never a negative amount.
 */
static void sample_deltas(struct pv_dyn_snap *d)
{
	unsigned int cpu;

	memset(d, 0, sizeof(*d));
	for_each_online_cpu(cpu) {
		struct pv_dyn_snap now, *was = &snap_prev[cpu];

		snapshot_cpu(cpu, &now);
		check_delta(cpu, &now, was);
		d->win_ns += now.win_ns - was->win_ns;
		d->win_lost_ns += now.win_lost_ns - was->win_lost_ns;
		d->windows += now.windows - was->windows;
		d->tick_ns += now.tick_ns - was->tick_ns;
		d->tick_lost_ns += now.tick_lost_ns - was->tick_lost_ns;
		d->steal_ns += now.steal_ns - was->steal_ns;
		d->wait_long_ns += now.wait_long_ns - was->wait_long_ns;
		d->cpus++;
		*was = now;
	}
}

static void arm_cpu(struct pv_dyn_cpu *c, unsigned int cpu)
{
	c->cpu = cpu;
	c->timer.expires = jiffies + 1;
	WRITE_ONCE(c->armed, true);
	add_timer_on(&c->timer, cpu);
}

/* A CPU that came back online after its timer left it samples again. */
static void rearm_online_cpus(void)
{
	unsigned int cpu;

	/* No cpus_read_lock(): the thread must not wait out hotplug operations
	 * (seconds each under load). A CPU that goes down right after this
	 * check keeps the timer on its base; it fires there when it is back. */
	for_each_online_cpu(cpu) {
		struct pv_dyn_cpu *c = per_cpu_ptr(&pv_dyn_cpu, cpu);

		if (READ_ONCE(c->armed) || READ_ONCE(c->stopped))
			continue;
		del_timer_sync(&c->timer);   /* its last run (elsewhere) is over */
		c->last_tick_ns = 0;         /* no gap across the time it was away */
		c->last_busy = false;
		arm_cpu(c, cpu);
	}
}

static unsigned int pm(u64 part, u64 whole)
{
	if (!whole)
		return 0;
	return part >= whole ? 1000 : (unsigned int)(part * 1000 / whole);
}

static void do_switch(enum pv_dyn_action a, const char *why, u64 t_ms)
{
	enum pv_backend to = a == PV_DYN_TO_PV ? dyn.pv : PV_NATIVE;
	const char *from = pv_lock_ops.name;
	u64 t0 = ktime_get_ns();
	int err, tries = 0;

	do {
		err = pv_spinlock_switch(to);
	} while (err == -EAGAIN && ++tries < 3);
	if (err) {
		printk("pvspin: dynamic: switch %s -> %s failed (error %d); asking again at the next sample\n",
		       from, pv_backend_name(to), err);
	} else {
		printk("pvspin: dynamic: %s -> %s at %llu.%llu s (%s); switch %llu us\n", from,
		       pv_backend_name(to), (unsigned long long)(t_ms / 1000),
		       (unsigned long long)(t_ms % 1000 / 100), why,
		       (unsigned long long)((ktime_get_ns() - t0) / 1000));
	}
	pv_dyn_switched(&dyn.s, &dyn.p, a, err == 0, now_ms());
}

static int pv_dyn_thread(void *unused)
{
	struct pv_dyn_snap d;
	u64 prev_ns = ktime_get_ns();

	(void)unused;
	sample_deltas(&d);   /* the starting counters */
	while (!kthread_should_stop()) {
		struct pv_dyn_sample x;
		char why[128];
		enum pv_dyn_action a;
		u64 t, wall;
		unsigned int waits;

		msleep((unsigned int)period_ms);
		if (kthread_should_stop())
			break;
		t = ktime_get_ns();
		wall = t - prev_ns;
		sample_deltas(&d);
		x.now_ms = t / 1000000;
		waits = pm(d.wait_long_ns, wall * (d.cpus ? d.cpus : 1));
		if (dyn.sig == SIG_STEAL) {
			/* Steal over the wall time of every sampled CPU. */
			x.lost_pm = pm(d.steal_ns, wall * (d.cpus ? d.cpus : 1));
			x.windows = (unsigned int)-1;   /* steal time needs no busy CPU */
		} else {
			unsigned int win = pm(d.win_lost_ns, d.win_ns);
			unsigned int gaps = pm(d.tick_lost_ns, d.tick_ns);

			x.lost_pm = win > gaps ? win : gaps;
			x.windows = (unsigned int)d.windows;
			dyn.last_win_pm = win;
		}
		if (waits > x.lost_pm)
			x.lost_pm = waits;
		dyn.last_tick_pm = pm(d.tick_lost_ns, d.tick_ns);
		dyn.last = x;
		dyn.samples++;
		a = PV_DYN_STAY;
		if (dyn.samples > 1)   /* the first is the warm-up (header) */
			a = pv_dyn_decide(&dyn.s, &dyn.p, &x, why, sizeof(why));
		if (verbose)
			printk("pvdynamic: sample %llu at %llu ms: lost %u.%u%% (%s: windows %u.%u%% in %u), "
			       "average %u.%u%%, tick gaps %llu.%llu%%, long waits %u.%u%%, backend %s\n", (unsigned long long)dyn.samples,
			       (unsigned long long)x.now_ms, x.lost_pm / 10, x.lost_pm % 10, signal_names[dyn.sig],
			       dyn.last_win_pm / 10, dyn.last_win_pm % 10,
			       dyn.sig == SIG_STEAL ? 0 : x.windows, dyn.s.avg_pm / 10, dyn.s.avg_pm % 10,
			       (unsigned long long)(dyn.last_tick_pm / 10), (unsigned long long)(dyn.last_tick_pm % 10),
			       waits / 10, waits % 10, pv_lock_ops.name);
		if (a != PV_DYN_STAY)
			do_switch(a, why, x.now_ms);
		prev_ns = t;
		rearm_online_cpus();
	}
	return 0;
}

static bool steal_available(void)
{
	struct pv_cpuid_facts f;

	pv_read_cpuid_facts(&f);
	return f.kvm && (f.kvm_features & (1U << KVM_FEATURE_STEAL_TIME));
}

void pv_dynamic_start(void)
{
	const char *bad;
	unsigned int cpu;
	bool steal;

	if (!dyn.enabled)
		return;
	dyn.p = (struct pv_dyn_params){
		.up_pm = (unsigned int)up_pm, .down_pm = (unsigned int)down_pm,
		.up_samples = (unsigned int)up_samples, .down_samples = (unsigned int)down_samples,
		.min_windows = (unsigned int)min_windows, .smooth_shift = (unsigned int)smooth_shift,
		.min_dwell_ms = (u64)min_dwell_ms, .max_dwell_ms = (u64)max_dwell_ms,
		.flap_ms = (u64)flap_ms,
	};
	bad = pv_dyn_params_check(&dyn.p);
	if (bad) {
		printk("pvspin: dynamic: bad parameters (%s): staying %s\n", bad, pv_lock_ops.name);
		dyn.enabled = false;
		return;
	}
	steal = steal_available();
	if (!strcmp(signal_param, "steal") && !steal) {
		printk("pvspin: dynamic: pvdynamic.signal=steal but KVM offers no steal time here; using tsc\n");
		dyn.sig = SIG_TSC;
	} else if (!strcmp(signal_param, "tsc")) {
		dyn.sig = SIG_TSC;
	} else if (!strcmp(signal_param, "auto") || !strcmp(signal_param, "steal")) {
		dyn.sig = steal ? SIG_STEAL : SIG_TSC;
	} else {
		printk("pvspin: dynamic: pvdynamic.signal=%s: unknown (auto|steal|tsc), using auto\n",
		       signal_param);
		dyn.sig = steal ? SIG_STEAL : SIG_TSC;
	}
	if (dyn.sig == SIG_STEAL)
		on_each_cpu(enable_steal_here, NULL, true);
	pv_dyn_init(&dyn.s, &dyn.p, pv_lock_ops.backend != PV_NATIVE, now_ms());
	for_each_online_cpu(cpu) {
		struct pv_dyn_cpu *c = per_cpu_ptr(&pv_dyn_cpu, cpu);

		c->stopped = false;
		timer_setup(&c->timer, pv_dyn_tick, TIMER_PINNED);
		arm_cpu(c, cpu);
	}
	static_branch_enable(&pv_dyn_wait_key);
	dyn.thread = kthread_run(pv_dyn_thread, NULL, "pvdynamic");
	if (!dyn.thread) {
		printk("pvspin: dynamic: cannot create the pvdynamic thread: staying %s\n", pv_lock_ops.name);
		pv_dynamic_stop("no thread");
		return;
	}
	printk("pvspin: dynamic: watching %s (signal %s, sample %d ms): to %s at >= %d.%d%% lost for %d "
	       "samples, back at <= %d.%d%% for %d, dwell %d ms\n", pv_lock_ops.name, signal_names[dyn.sig],
	       period_ms, pv_backend_name(dyn.pv), up_pm / 10, up_pm % 10, up_samples, down_pm / 10,
	       down_pm % 10, down_samples, min_dwell_ms);
}

bool pv_dynamic_stop(const char *why)
{
	unsigned int cpu;
	bool was = dyn.thread != NULL;

	if (!dyn.enabled)
		return false;
	if (dyn.thread)
		kthread_stop(dyn.thread);
	dyn.thread = NULL;
	for_each_online_cpu(cpu)
		WRITE_ONCE(per_cpu_ptr(&pv_dyn_cpu, cpu)->stopped, true);
	for_each_online_cpu(cpu) {
		struct pv_dyn_cpu *c = per_cpu_ptr(&pv_dyn_cpu, cpu);

		/* Twice: a callback that read `stopped` before we set it re-arms once. */
		del_timer_sync(&c->timer);
		del_timer_sync(&c->timer);
		c->armed = false;
	}
	if (static_key_enabled(&pv_dyn_wait_key.key))
		static_branch_disable(&pv_dyn_wait_key);
	dyn.enabled = false;
	snprintf(dyn.stopped_why, sizeof(dyn.stopped_why), "%s", why);
	if (was)
		printk("pvspin: dynamic policy stopped (%s); backend stays %s\n", why, pv_lock_ops.name);
	return was;
}

void pv_dynamic_show(void)
{
	unsigned int cpu, online = 0, sampling = 0;

	if (!dyn.thread) {
		if (dyn.stopped_why[0])
			printk("pvspin: dynamic: stopped (%s)\n", dyn.stopped_why);
		return;
	}
	for_each_online_cpu(cpu) {
		struct pv_dyn_cpu *c = per_cpu_ptr(&pv_dyn_cpu, cpu);

		online++;
		if (READ_ONCE(c->armed) && !READ_ONCE(c->stopped) && READ_ONCE(c->cpu) == cpu)
			sampling++;
	}
	printk("pvspin: dynamic: sampling %u of %u online CPUs\n", sampling, online);
	printk("pvspin: dynamic: %s, signal %s, %llu samples, average lost %u.%u%%, last %u.%u%% (%u windows), "
	       "%u switches, %u flaps, PV dwell %llu ms\n", pv_lock_ops.name, signal_names[dyn.sig],
	       (unsigned long long)dyn.samples, dyn.s.avg_pm / 10, dyn.s.avg_pm % 10,
	       dyn.last.lost_pm / 10, dyn.last.lost_pm % 10,
	       dyn.sig == SIG_STEAL ? 0 : dyn.last.windows, dyn.s.switches, dyn.s.flaps,
	       (unsigned long long)dyn.s.pv_dwell_ms);
}
