/*
 * pvswitch_bench.c — `bench=pvswitch` / `bench pvswitch`: what a live
 * lock-op switch costs.
 *
 * Printed as BENCH lines (never a pass/fail on time):
 *   static_key_flip_smpN            one flip of a static key with one site
 *                                   (a text_poke_bp batch: three syncs)
 *   pvswitch_{v1,v2}_{idle,busy}_smpN_{median,max}
 *                                   switches native <-> halt+IPI, the other
 *                                   CPUs idle, or every other CPU hammering
 *                                   one spinlock in a loop (busy)
 *   pvswitch_{v1,v2}_busy_lock_tput_smpN
 *                                   the busy CPUs' acquisitions per ms while
 *                                   the switches run, next to
 *   pvswitch_busy_lock_tput_noswitch_smpN  the same with no switch
 *   pvswitch_v1_over_v2_{idle,busy}_smpN   V1's median over V2's
 *   lock_after_switch_{native,pv}_{patched,direct}_smpN
 *                                   uncontended spin_lock+spin_unlock, one CPU,
 *                                   interrupts off, minimum over 5 rounds of
 *                                   20000, in TSC cycles: through the patch
 *                                   sites after a V2 switch into that backend
 *                                   ("patched"), next to the same fast path
 *                                   written as a build without patching would
 *                                   compile it ("direct": the release store, or
 *                                   a plain call of the PV unlock)
 * Scenarios bench-pvswitch-smp2/8 (long set); numbers in docs/patching.md.
 */
#include <grace/bench.h>
#include <grace/delay.h>
#include <grace/errno.h>
#include <grace/jump_label.h>
#include <grace/kthread.h>
#include <grace/printk.h>
#include <grace/qspinlock_pv.h>
#include <grace/sched.h>
#include <grace/smp.h>
#include <grace/spinlock.h>
#include <grace/string.h>
#include <grace/time.h>
#include "lockop.h"

#define PB_SWITCHES 20
#define PB_FLIPS    20

static DEFINE_STATIC_KEY_FALSE(pb_key);
static DEFINE_SPINLOCK(pb_lock);
static u64 pb_count;               /* plain, under pb_lock */
static bool pb_stop;
static u32 pb_running;

static __attribute__((noinline)) int pb_branch(void)
{
	return static_branch_unlikely(&pb_key) ? 1 : 0;
}

static int pb_hammer(void *arg)
{
	(void)arg;
	__atomic_add_fetch(&pb_running, 1, __ATOMIC_SEQ_CST);
	while (!READ_ONCE(pb_stop)) {
		for (int i = 0; i < 64; i++) {
			spin_lock(&pb_lock);
			pb_count++;
			spin_unlock(&pb_lock);
		}
		cond_resched();
	}
	__atomic_sub_fetch(&pb_running, 1, __ATOMIC_SEQ_CST);
	return 0;
}

static void pb_sort(u64 *t, unsigned int n)
{
	for (unsigned int i = 1; i < n; i++)
		for (unsigned int j = i; j > 0 && t[j - 1] > t[j]; j--) {
			u64 x = t[j];

			t[j] = t[j - 1];
			t[j - 1] = x;
		}
}

static u64 pb_read_count(void)
{
	u64 v;

	spin_lock(&pb_lock);
	v = pb_count;
	spin_unlock(&pb_lock);
	return v;
}

/* PB_SWITCHES switches by `method`, 5 ms apart; returns the median (ns) and in
 * *tput the hammer threads' acquisitions per ms meanwhile. */
static u64 pb_switches(const char *method, const char *load, u64 *tput)
{
	u64 t[PB_SWITCHES], c0 = pb_read_count(), t0 = ktime_get_ns(), el;
	unsigned int n = 0, cpus = num_online_cpus();
	enum pv_backend pv = PV_IPI;

	lockop_set_method(method);
	for (int i = 0; i < PB_SWITCHES; i++) {
		enum pv_backend b = pv_lock_ops.backend == PV_NATIVE ? pv : PV_NATIVE;
		int err, tries = 0;

		do
			err = pv_spinlock_switch(b);
		while (err == -EAGAIN && ++tries < 5);
		if (!err)
			t[n++] = lockop_stats.last_switch_ns;
		msleep(5);
	}
	el = ktime_get_ns() - t0;
	*tput = (pb_read_count() - c0) * 1000000ULL / (el ? el : 1);
	pb_sort(t, n);
	if (!n)
		return 0;
	printk("BENCH pvswitch_%s_%s_smp%u_median %llu us\nBENCH pvswitch_%s_%s_smp%u_max %llu us\n",
	       method, load, cpus, (unsigned long long)(t[n / 2] / 1000),
	       method, load, cpus, (unsigned long long)(t[n - 1] / 1000));
	return t[n / 2];
}

/* ---- the lock path after a switch ---- */

#define PB_UNC_ITERS 20000

static DEFINE_SPINLOCK(pb_unc_lock);

/* The comparators are next to the real operations (spinlock_ops.c). */
#define PB_DIRECT_LOOP(lockfn, unlockfn) do { \
	for (int i = 0; i < PB_UNC_ITERS; i++) { \
		preempt_disable(); \
		lockfn(&pb_unc_lock.q); \
		barrier(); \
		unlockfn(&pb_unc_lock.q); \
		preempt_enable(); \
	} \
} while (0)

static u64 pb_uncontended(bool direct, bool pv)
{
	u64 best = ~0ULL;

	for (int round = 0; round < 5; round++) {
		unsigned long flags = local_irq_save();
		u64 t0 = rdtsc();

		if (direct && pv) {
			PB_DIRECT_LOOP(queued_spin_lock_direct_pv, queued_spin_unlock_direct_pv);
		} else if (direct) {
			PB_DIRECT_LOOP(queued_spin_lock_direct_native, queued_spin_unlock_direct_native);
		} else {
			for (int i = 0; i < PB_UNC_ITERS; i++) {
				spin_lock(&pb_unc_lock);
				barrier();
				spin_unlock(&pb_unc_lock);
			}
		}
		u64 d = rdtsc() - t0;

		local_irq_restore(flags);
		if (d < best)
			best = d;
	}
	return best / PB_UNC_ITERS;
}

/* V2-switch into each backend, then time the patched and the direct path. */
static void pb_after_switch(void)
{
	static const struct { enum pv_backend b; const char *name; } to[] = {
		{ PV_IPI, "pv" }, { PV_NATIVE, "native" },
	};
	unsigned int cpus = num_online_cpus();

	lockop_set_method("v2");
	for (unsigned int i = 0; i < ARRAY_SIZE(to); i++) {
		int err, tries = 0;

		do
			err = pv_spinlock_switch(to[i].b);
		while (err == -EAGAIN && ++tries < 5);
		if (err) {
			printk("bench pvswitch: could not switch to %s (%d): no after-switch figures\n",
			       pv_backend_name(to[i].b), err);
			continue;
		}
		bool pv = to[i].b != PV_NATIVE;
		u64 patched = pb_uncontended(false, pv), direct = pb_uncontended(true, pv);

		printk("BENCH lock_after_switch_%s_patched_smp%u %llu cycles\n"
		       "BENCH lock_after_switch_%s_direct_smp%u %llu cycles\n",
		       to[i].name, cpus, (unsigned long long)patched,
		       to[i].name, cpus, (unsigned long long)direct);
	}
}

int bench_pvswitch(void)
{
	enum pv_backend boot = pv_lock_ops.backend;
	unsigned int cpus = num_online_cpus(), me, cpu, started = 0;
	char method[4];
	u64 f[PB_FLIPS], v1i, v2i, v1b, v2b, tp1, tp2, tpn, c0, t0;

	if (!pv_backend_ops(PV_IPI)) {
		printk("bench pvswitch: needs the IPI backend\n");
		return -1;
	}
	memcpy(method, lockop_method(), 3);
	method[3] = 0;
	for (int i = 0; i < PB_FLIPS; i++) {
		u64 s = ktime_get_ns();

		if (i & 1)
			static_branch_disable(&pb_key);
		else
			static_branch_enable(&pb_key);
		f[i] = ktime_get_ns() - s;
		if (pb_branch() != !(i & 1))
			printk("bench pvswitch: the static branch does not follow its key\n");
	}
	if (pb_branch())
		static_branch_disable(&pb_key);
	pb_sort(f, PB_FLIPS);
	printk("BENCH static_key_flip_smp%u %llu us\n", cpus, (unsigned long long)(f[PB_FLIPS / 2] / 1000));

	pb_after_switch();
	v1i = pb_switches("v1", "idle", &tpn);
	v2i = pb_switches("v2", "idle", &tpn);

	/* Every other CPU busy: one hammer thread bound to each. */
	preempt_disable();
	me = smp_processor_id();
	preempt_enable();
	set_cpus_allowed_ptr(current, cpumask_of(me));
	WRITE_ONCE(pb_stop, false);
	for_each_online_cpu(cpu) {
		struct task_struct *t;

		if (cpu == me)
			continue;
		t = kthread_create(pb_hammer, NULL, "pvbench/%u", cpu);
		if (!t)
			break;
		kthread_bind(t, cpu);
		wake_up_process(t);
		started++;
	}
	while (__atomic_load_n(&pb_running, __ATOMIC_SEQ_CST) < started)
		msleep(1);
	c0 = pb_read_count();
	t0 = ktime_get_ns();
	msleep(200);
	tpn = (pb_read_count() - c0) * 1000000ULL / (ktime_get_ns() - t0);
	v1b = pb_switches("v1", "busy", &tp1);
	v2b = pb_switches("v2", "busy", &tp2);
	WRITE_ONCE(pb_stop, true);
	while (__atomic_load_n(&pb_running, __ATOMIC_SEQ_CST))
		msleep(1);
	set_cpus_allowed_ptr(current, &cpu_possible_mask);

	printk("BENCH pvswitch_busy_lock_tput_noswitch_smp%u %llu acq/ms\n", cpus, (unsigned long long)tpn);
	printk("BENCH pvswitch_v1_busy_lock_tput_smp%u %llu acq/ms\n", cpus, (unsigned long long)tp1);
	printk("BENCH pvswitch_v2_busy_lock_tput_smp%u %llu acq/ms\n", cpus, (unsigned long long)tp2);
	if (v2i && v2b)
		printk("BENCH pvswitch_v1_over_v2_idle_smp%u %llu.%02llu x\n"
		       "BENCH pvswitch_v1_over_v2_busy_smp%u %llu.%02llu x\n",
		       cpus, (unsigned long long)(v1i / v2i), (unsigned long long)(v1i * 100 / v2i % 100),
		       cpus, (unsigned long long)(v1b / v2b), (unsigned long long)(v1b * 100 / v2b % 100));
	if (pv_lock_ops.backend != boot)
		pv_spinlock_switch(boot);
	lockop_set_method(method);
	printk("bench pvswitch: done\n");
	return 0;
}
