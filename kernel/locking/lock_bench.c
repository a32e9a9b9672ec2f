/*
 * lock_bench.c — the spinlock benchmark: TAS, ticket, queued and paravirt
 * queued spinlocks side by side in one boot.
 *
 * `bench locks [MS]` in the shell, or `bench=locks` on the command line (runs
 * after SMP bring-up, before the shell; `bench.locks_ms=` sets the window).
 * Prints BENCH lines:
 *
 *   lock_uncontended_<type>        lock+unlock, one CPU, interrupts off:
 *                                  minimum over 5 rounds of 20000, in TSC cycles
 *   lock_<type>_n<N>_throughput    N workers (one per CPU, CPUs 0..N-1) hammer
 *                                  one lock for MS ms: acquisitions per second
 *   lock_<type>_n<N>_fairness      most / fewest acquisitions of one worker
 *   lock_<type>_n<N>_maxwait       longest single wait, lock call to owner, µs
 *   lock_pv_over_native_all        PV / native qspinlock throughput, all CPUs
 *
 * for N = 1, 2, 4 and all online CPUs, and types tas, ticket, qspinlock (the
 * native slow path) and pvqspinlock (the boot's PV backend if it is one, else
 * halt+IPI; switched live with pv_spinlock_switch() around those runs, and
 * back to the boot choice afterwards).
 *
 * A worker's critical section bumps a shared plain counter, touches one more
 * cache line of shared data and holds the lock bench.locks_hold_ns (1000);
 * outside it waits a random 0..bench.locks_think_ns (1000), so the lock is
 * contended but not every cycle — a critical section of the size kernels
 * really have, which is what makes a preempted holder or waiter expensive. Preemption is off while holding,
 * interrupts stay on. The counter must equal the sum of the workers'
 * acquisitions (else `TEST bench.locks: FAIL`); at the end
 * `TEST bench.locks: PASS`.
 *
 * Reading the numbers (see docs/locking.md): under QEMU TCG each vCPU is a
 * host thread, so with more vCPUs than host cores a lock can be handed to a
 * vCPU that is not running. That is the case the paravirt lock is for.
 */
#include <asm/cpu.h>
#include <grace/bench.h>
#include <grace/cpumask.h>
#include <grace/delay.h>
#include <grace/kthread.h>
#include <grace/lock_types.h>
#include <grace/param.h>
#include <grace/preempt.h>
#include <grace/printk.h>
#include <grace/qspinlock.h>
#include <grace/qspinlock_pv.h>
#include <grace/random.h>
#include <grace/sched.h>
#include <grace/shell.h>
#include <grace/smp.h>
#include <grace/string.h>
#include <grace/time.h>

static char bench_param[16];
static int bench_locks_ms = 500;
param_string("bench", bench_param, "run a benchmark after boot: locks, pvswitch");
param_int("bench.locks_ms", bench_locks_ms, 10, 60000, "length of each contended lock run");
static int bench_hold_ns = 1000;
static int bench_think_ns = 1000;
param_int("bench.locks_hold_ns", bench_hold_ns, 0, 1000000, "time a worker holds the lock");
param_int("bench.locks_think_ns", bench_think_ns, 0, 1000000, "most time a worker waits between acquisitions (random)");

/* BL_PVIPI runs only when the PV backend is KVM: then the bench compares the
 * KVM kick hypercall with halt+IPI on the same guest (the seed experiment). */
enum bl_type { BL_TAS, BL_TICKET, BL_QSPIN, BL_PVQSPIN, BL_PVIPI, BL_NR };
static const char *const bl_names[BL_NR] = { "tas", "ticket", "qspinlock", "pvqspinlock",
					     "pvqspinlock_ipi" };

static union any_lock bl_lock;

/* The lock a benchmark type runs on: pvqspinlock is the same spinlock_t
 * with a paravirt backend installed (bl_backend_for). */
static __always_inline enum lock_type bl_lock_type(enum bl_type t)
{
	return t == BL_TAS ? LOCK_TAS : t == BL_TICKET ? LOCK_TICKET : LOCK_QSPINLOCK;
}

/* The shared data the critical section writes: the counter and one line. */
static struct {
	u64 counter;
	u64 line[8];
} bl_shared __aligned(64);

static __always_inline void bl_acquire(enum bl_type t)
{
	any_lock_acquire(bl_lock_type(t), &bl_lock);
}

static __always_inline void bl_release(enum bl_type t)
{
	any_lock_release(bl_lock_type(t), &bl_lock);
}

static void bl_init(enum bl_type t)
{
	any_lock_init(bl_lock_type(t), &bl_lock);
	memset(&bl_shared, 0, sizeof(bl_shared));
}

/* Install the backend a type needs; false if it cannot be had. */
static bool bl_backend_for(enum bl_type t, enum pv_backend pv)
{
	enum pv_backend want = t == BL_PVQSPIN ? pv : t == BL_PVIPI ? PV_IPI : PV_NATIVE;

	if (t == BL_TAS || t == BL_TICKET)
		return true;
	if (t == BL_PVIPI && pv != PV_KVM)
		return false;
	return pv_spinlock_switch(want) == 0;
}

static u64 cycles_to_us_x100(u64 cycles)
{
	return tsc_khz ? cycles * 100000ULL / tsc_khz : 0;
}

/* ---- uncontended ---- */

#define UNC_ITERS 20000

static u64 bench_uncontended(enum bl_type t)
{
	u64 best = ~0ULL;

	for (int round = 0; round < 5; round++) {
		unsigned long flags = local_irq_save();
		u64 t0 = rdtsc();

		for (int i = 0; i < UNC_ITERS; i++) {
			bl_acquire(t);
			barrier();
			bl_release(t);
		}
		u64 d = rdtsc() - t0;

		local_irq_restore(flags);
		if (d < best)
			best = d;
	}
	return best / UNC_ITERS;
}

/* ---- contended ---- */

struct bl_worker {
	struct task_struct *task;
	u64 count, maxwait;
	u64 finished_tsc;
	bool done;
} __aligned(64);

static struct {
	enum bl_type type;
	u64 start_tsc, end_tsc;
	u64 hold_cycles, think_cycles;
	struct bl_worker w[NR_CPUS_MAX];
} br;

static int bl_worker_fn(void *arg)
{
	struct bl_worker *w = arg;
	enum bl_type t = br.type;
	u64 rng = rdtsc() | 1, now;

	/* Sleep until just before the common start, then wait it out. */
	while ((now = rdtsc()) + tsc_khz * 2 < br.start_tsc)
		msleep(1);
	while (rdtsc() < br.start_tsc)
		cpu_relax();

	while ((now = rdtsc()) < br.end_tsc) {
		u64 got;

		preempt_disable();
		bl_acquire(t);
		got = rdtsc();
		bl_shared.counter++;
		for (int k = 0; k < 8; k++)
			bl_shared.line[k] += k;
		while (rdtsc() - got < br.hold_cycles)
			cpu_relax();
		bl_release(t);
		preempt_enable();
		w->count++;
		if (got - now > w->maxwait)
			w->maxwait = got - now;
		if (br.think_cycles) {
			u64 until = rdtsc() + prandom_next(&rng) % br.think_cycles;

			while (rdtsc() < until)
				cpu_relax();
		}
	}
	w->finished_tsc = rdtsc();
	__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
	while (!kthread_should_stop())
		msleep(1);
	return 0;
}

struct bl_result {
	u64 per_s, fairness_x100, maxwait_us_x100;
	bool starved, ok;
};

static struct bl_result bench_contended(enum bl_type t, unsigned int n, unsigned int ms)
{
	struct bl_result r = { .ok = true };
	unsigned int cpu, i = 0;
	u64 sum = 0, max = 0, min = ~0ULL, maxwait = 0, last = 0;

	bl_init(t);
	memset(br.w, 0, sizeof(br.w[0]) * n);
	br.type = t;
	br.hold_cycles = tsc_khz * (u64)bench_hold_ns / 1000000ULL;
	br.think_cycles = tsc_khz * (u64)bench_think_ns / 1000000ULL;
	br.start_tsc = rdtsc() + tsc_khz * 30;              /* 30 ms from now */
	br.end_tsc = br.start_tsc + tsc_khz * ms;
	for_each_online_cpu(cpu) {
		if (i == n)
			break;
		br.w[i].task = kthread_create(bl_worker_fn, &br.w[i], "bench/%u", i);
		if (!br.w[i].task)
			break;
		kthread_bind(br.w[i].task, cpu);
		wake_up_process(br.w[i].task);
		i++;
	}
	n = i;
	for (i = 0; i < n; i++) {
		while (!__atomic_load_n(&br.w[i].done, __ATOMIC_ACQUIRE))
			msleep(5);
		kthread_stop(br.w[i].task);
		sum += br.w[i].count;
		max = br.w[i].count > max ? br.w[i].count : max;
		min = br.w[i].count < min ? br.w[i].count : min;
		maxwait = br.w[i].maxwait > maxwait ? br.w[i].maxwait : maxwait;
		last = br.w[i].finished_tsc > last ? br.w[i].finished_tsc : last;
	}
	/* The run lasts until its last worker got out of the lock. */
	u64 elapsed = last > br.start_tsc ? last - br.start_tsc : 1;

	r.per_s = tsc_khz ? sum * tsc_khz * 1000ULL / elapsed : 0;
	r.starved = min == 0;
	r.fairness_x100 = min ? max * 100 / min : max * 100;
	r.maxwait_us_x100 = cycles_to_us_x100(maxwait);
	if (bl_shared.counter != sum) {
		printk("TEST bench.locks: FAIL %s with %u CPUs: counter %llu != %llu acquisitions\n",
		       bl_names[t], n, (unsigned long long)bl_shared.counter, (unsigned long long)sum);
		r.ok = false;
	}
	return r;
}

/* Run the whole benchmark; 0 if every run kept its count. */
int bench_locks(unsigned int ms)
{
	enum pv_backend boot = pv_lock_ops.backend;
	enum pv_backend pv = boot == PV_KVM ? PV_KVM : PV_IPI;
	unsigned int online = num_online_cpus(), ns[4], nr_ns = 0;
	u64 all_tput[BL_NR] = { 0 };
	bool ok = true;

	if (!tsc_khz) {
		printk("bench locks: the TSC is not calibrated\n");
		return -1;
	}
	printk("bench locks: %u CPUs online, %u ms per run, hold %d ns, think 0-%d ns, "
	       "PV backend for pvqspinlock: %s\n", online, ms, bench_hold_ns, bench_think_ns,
	       pv_backend_name(pv));

	for (int t = 0; t < BL_NR; t++) {
		if (!bl_backend_for((enum bl_type)t, pv))
			continue;
		bl_init((enum bl_type)t);
		printk("BENCH lock_uncontended_%s %llu cycles\n", bl_names[t],
		       (unsigned long long)bench_uncontended((enum bl_type)t));
	}

	for (unsigned int n = 1; n < online; n *= 2)
		if (n <= 4)
			ns[nr_ns++] = n;
	ns[nr_ns++] = online;

	for (unsigned int k = 0; k < nr_ns; k++) {
		for (int t = 0; t < BL_NR; t++) {
			struct bl_result r;

			if (!bl_backend_for((enum bl_type)t, pv))
				continue;
			r = bench_contended((enum bl_type)t, ns[k], ms);
			ok &= r.ok;
			if (ns[k] == online)
				all_tput[t] = r.per_s;
			printk("BENCH lock_%s_n%u_throughput %llu acq/s\n", bl_names[t], ns[k],
			       (unsigned long long)r.per_s);
			printk("BENCH lock_%s_n%u_fairness %llu.%02llu max/min%s\n", bl_names[t], ns[k],
			       (unsigned long long)(r.fairness_x100 / 100),
			       (unsigned long long)(r.fairness_x100 % 100),
			       r.starved ? " (a worker starved: max/1)" : "");
			printk("BENCH lock_%s_n%u_maxwait %llu.%02llu us\n", bl_names[t], ns[k],
			       (unsigned long long)(r.maxwait_us_x100 / 100),
			       (unsigned long long)(r.maxwait_us_x100 % 100));
			msleep(20);   /* let the stragglers' CPUs settle, watchdogs see a switch */
		}
	}
	if (all_tput[BL_QSPIN] && all_tput[BL_PVQSPIN]) {
		u64 x100 = all_tput[BL_PVQSPIN] * 100 / all_tput[BL_QSPIN];

		printk("BENCH lock_pv_over_native_all %llu.%02llu x\n",
		       (unsigned long long)(x100 / 100), (unsigned long long)(x100 % 100));
	}
	if (pv_spinlock_switch(boot))
		ok = false;
	printk("TEST bench.locks: %s\n", ok ? "PASS" : "FAIL see above");
	return ok ? 0 : -1;
}

void bench_from_param(void)
{
	if (!bench_param[0])
		return;
	if (!strcmp(bench_param, "locks"))
		bench_locks((unsigned int)bench_locks_ms);
	else if (!strcmp(bench_param, "pvswitch"))
		bench_pvswitch();
	else
		printk("bench=%s: unknown benchmark (known: locks, pvswitch), ignored\n", bench_param);
}

static int cmd_bench(int argc, char **argv)
{
	unsigned int ms = (unsigned int)bench_locks_ms;

	if (argc == 2 && !strcmp(argv[1], "pvswitch"))
		return bench_pvswitch() ? SHELL_CMD_FAILED : 0;
	if (argc < 2 || argc > 3 || strcmp(argv[1], "locks"))
		return 1;   /* the shell prints the usage line */
	if (argc == 3) {
		long long v;

		if (kstrtoll(argv[2], 10, &v) || v < 10 || v > 60000) {
			printk("bench locks: MS must be 10..60000\n");
			return 1;
		}
		ms = (unsigned int)v;
	}
	return bench_locks(ms) ? SHELL_CMD_FAILED : 0;
}
SHELL_COMMAND(bench, "bench", "bench locks [MS] | bench pvswitch",
	      "spinlock benchmark: TAS, ticket, qspinlock, PV qspinlock at 1, 2, 4, all CPUs", cmd_bench);
