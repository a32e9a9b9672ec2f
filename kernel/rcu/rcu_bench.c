/*
 * rcu_bench.c — bench=rcu: what RCU costs, in one boot, as BENCH lines.
 *
 *   rcu_gp_{idle,busy,hotplug}_{median,p99,max}   synchronize_rcu() latency, us
 *   rcu_exp_{idle,busy,hotplug}_{median,p99,max}  synchronize_rcu_expedited(), us
 *       (101 calls each, 5 ms apart, so each starts from a quiet tree)
 *       idle: the other CPUs have nothing to do; busy: every other online
 *       CPU runs a kernel thread that never sleeps (rcu_busy_start); hotplug:
 *       a thread takes a random non-boot CPU offline or online every 100 ms
 *   rcu_{gp,exp}_{idle,busy}_<N>cpu_*   the same with N = 4, 2, 1 CPUs online
 *       (below the boot's count; the rest taken down by hotplug, then back)
 *   rcu_cb_latency_{median,p99,max}   call_rcu() to the callback's invocation, us
 *   rcu_cb_flood_per_s            callbacks invoked per second while one
 *       thread per online CPU keeps RCU_BENCH_FLOOD (12000, above the default
 *       rcu.qhimark, so the batch limit lifts) callbacks in flight
 *   rcu_read_lock_unlock          cycles for one empty reader (rdtsc over a
 *       loop, the loop's own cost subtracted)
 * Then `TEST bench.rcu: PASS` (every figure taken) or FAIL. Numbers are not
 * judged: docs/rcu.md has the table against Linux. Scenario bench-rcu-smp8.
 * rcu_bench_reader() is noinline so that its code can be read: one
 * increment of the per-CPU preempt count, one decrement and a test of the
 * count and need-resched (`objdump -d build/grace.elf
 * --disassemble=rcu_bench_reader`, docs/rcu.md).
 */
#include <asm/cpu.h>
#include <grace/bench.h>
#include <grace/cpuhotplug.h>
#include <grace/mm.h>
#include <grace/cpumask.h>
#include <grace/delay.h>
#include <grace/kthread.h>
#include <grace/param.h>
#include <grace/printk.h>
#include <grace/random.h>
#include <grace/rcupdate.h>
#include <grace/sched.h>
#include <grace/smp.h>
#include <grace/string.h>
#include <grace/time.h>

#include "tree.h"

#define RCU_BENCH_N     101          /* samples per latency figure (p99: the 100th) */
#define RCU_BENCH_FLOOD 12000        /* callbacks in flight per flooding CPU: above rcu.qhimark */

static void sort_ns(u64 *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			u64 t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

static void report(const char *name, u64 *ns, int n)
{
	sort_ns(ns, n);
	printk("BENCH %s_median %llu.%01llu us\nBENCH %s_p99 %llu.%01llu us\nBENCH %s_max %llu us\n",
	       name, (unsigned long long)(ns[n / 2] / 1000), (unsigned long long)(ns[n / 2] % 1000 / 100),
	       name, (unsigned long long)(ns[n * 99 / 100] / 1000),
	       (unsigned long long)(ns[n * 99 / 100] % 1000 / 100),
	       name, (unsigned long long)(ns[n - 1] / 1000));
}

static void time_gps(const char *what, bool exp)
{
	u64 ns[RCU_BENCH_N];
	char name[40];

	for (int i = 0; i < RCU_BENCH_N; i++) {
		u64 t0 = ktime_get_ns();

		if (exp)
			synchronize_rcu_expedited();
		else
			synchronize_rcu();
		ns[i] = ktime_get_ns() - t0;
		msleep(5);   /* the next one starts from a quiet tree */
	}
	snprintf(name, sizeof(name), "rcu_%s_%s", exp ? "exp" : "gp", what);
	report(name, ns, RCU_BENCH_N);
}

/* ---- hotplug running underneath ---- */

static volatile bool hp_stop;
static unsigned long hp_ops;

static int hp_fn(void *arg)
{
	u64 rng = 0xB3ACULL ^ ktime_get_ns();

	(void)arg;
	while (!READ_ONCE(hp_stop)) {
		unsigned int cpu;

		msleep(100);
		if (READ_ONCE(hp_stop) || nr_cpu_ids < 2)
			continue;
		cpu = 1 + (unsigned int)(prandom_next(&rng) % (nr_cpu_ids - 1));
		if (!cpumask_test_cpu(cpu, &cpu_present_mask))
			continue;
		if (!(cpu_online(cpu) ? remove_cpu(cpu) : add_cpu(cpu)))
			hp_ops++;
	}
	return 0;
}

/* ---- call_rcu latency and the flood ---- */

struct bench_cb {
	struct rcu_head rh;
	u64 posted_ns, ran_ns;
	int in_flight;
};

static struct bench_cb lat_cb;

static void lat_cb_fn(struct rcu_head *rh)
{
	struct bench_cb *b = container_of(rh, struct bench_cb, rh);

	b->ran_ns = ktime_get_ns();
	smp_store_release(&b->in_flight, 0);
}

static void time_callbacks(void)
{
	u64 ns[RCU_BENCH_N];

	for (int i = 0; i < RCU_BENCH_N; i++) {
		lat_cb.in_flight = 1;
		lat_cb.posted_ns = ktime_get_ns();
		call_rcu(&lat_cb.rh, lat_cb_fn);
		while (smp_load_acquire(&lat_cb.in_flight))
			msleep(1);
		ns[i] = lat_cb.ran_ns - lat_cb.posted_ns;
	}
	report("rcu_cb_latency", ns, RCU_BENCH_N);
}

static volatile bool flood_stop;
static unsigned long flood_invoked;   /* atomic */
static struct bench_cb *flood_pool[NR_CPUS_MAX];

static void flood_cb_fn(struct rcu_head *rh)
{
	WRITE_ONCE(container_of(rh, struct bench_cb, rh)->in_flight, 0);
	__atomic_add_fetch(&flood_invoked, 1, __ATOMIC_RELAXED);
}

static int flood_fn(void *arg)
{
	struct bench_cb *pool = arg;
	unsigned long n = 0;

	while (!READ_ONCE(flood_stop)) {
		for (int i = 0; i < RCU_BENCH_FLOOD; i++)
			if (!READ_ONCE(pool[i].in_flight)) {
				pool[i].in_flight = 1;
				call_rcu(&pool[i].rh, flood_cb_fn);
			}
		if (++n % 4 == 0)
			msleep(1);   /* let this CPU pass quiescent states and invoke */
		else
			cond_resched();
	}
	return 0;
}

static bool time_flood(void)
{
	struct task_struct *t[NR_CPUS_MAX];
	unsigned int cpu, nt = 0;
	unsigned long before;
	u64 t0, dt;
	bool ok = true;

	memset(t, 0, sizeof(t));
	WRITE_ONCE(flood_stop, false);
	for_each_online_cpu(cpu) {
		flood_pool[cpu] = kzalloc(sizeof(struct bench_cb) * RCU_BENCH_FLOOD);
		if (!flood_pool[cpu]) {
			ok = false;
			continue;
		}
		t[cpu] = kthread_create(flood_fn, flood_pool[cpu], "rcu-flood/%u", cpu);
		if (!t[cpu]) {
			ok = false;
			continue;
		}
		kthread_bind(t[cpu], cpu);
		get_task_struct(t[cpu]);
		wake_up_process(t[cpu]);
		nt++;
	}
	msleep(200);   /* ramp up */
	before = __atomic_load_n(&flood_invoked, __ATOMIC_RELAXED);
	t0 = ktime_get_ns();
	msleep(1000);
	dt = ktime_get_ns() - t0;
	printk("BENCH rcu_cb_flood_per_s %llu cb/s\n",
	       (unsigned long long)((__atomic_load_n(&flood_invoked, __ATOMIC_RELAXED) - before) *
				    1000000000ULL / (dt ? dt : 1)));
	WRITE_ONCE(flood_stop, true);
	for (cpu = 0; cpu < NR_CPUS_MAX; cpu++)
		if (t[cpu]) {
			kthread_stop(t[cpu]);
			put_task_struct(t[cpu]);
		}
	rcu_barrier();   /* every pool callback has run: the pools can go */
	for (cpu = 0; cpu < NR_CPUS_MAX; cpu++)
		if (cpu_possible(cpu) && flood_pool[cpu]) {
			kfree(flood_pool[cpu]);
			flood_pool[cpu] = NULL;
		}
	printk("rcu bench: flood by %u threads, %lu callbacks invoked in all\n", nt, flood_invoked);
	return ok && nt;
}

/* ---- the reader ---- */

__attribute__((noinline)) void rcu_bench_reader(void);
__attribute__((noinline)) void rcu_bench_reader(void)
{
	rcu_read_lock();
	rcu_read_unlock();
}

__attribute__((noinline)) void rcu_bench_empty(void);
__attribute__((noinline)) void rcu_bench_empty(void)
{
	barrier();
}

/* The least of 8 rounds: a round the host preempted QEMU in is longer,
 * never shorter (seen: 11.8 and 113 cycles from single rounds). */
static void time_reader(void)
{
	const int n = 200000;
	u64 with = ~0ULL, without = ~0ULL;

	for (int r = 0; r < 8; r++) {
		unsigned long flags = local_irq_save();
		u64 t0 = rdtsc(), a, b;

		for (int i = 0; i < n; i++)
			rcu_bench_empty();
		a = rdtsc() - t0;
		t0 = rdtsc();
		for (int i = 0; i < n; i++)
			rcu_bench_reader();
		b = rdtsc() - t0;
		local_irq_restore(flags);
		without = MIN(without, a);
		with = MIN(with, b);
	}
	/* Hundredths of a cycle: under TCG a pair is a few host instructions. */
	u64 x100 = with > without ? (with - without) * 100 / (u64)n : 0;

	printk("BENCH rcu_read_lock_unlock %llu.%02llu cycles\n", (unsigned long long)(x100 / 100),
	       (unsigned long long)(x100 % 100));
}

/*
 * The idle and busy figures again with 4, 2 and 1 CPUs online (those
 * below the boot's count), the others taken down by CPU hotplug, highest
 * first; then every CPU comes back. Names carry the count:
 * rcu_{gp,exp}_{idle,busy}_<N>cpu_{median,p99,max}.
 */
static bool time_cpu_counts(void)
{
	static const unsigned int counts[] = { 4, 2, 1 };
	bool ok = true;

	for (unsigned int i = 0; i < ARRAY_SIZE(counts) && ok; i++) {
		unsigned int n = counts[i];
		char what[24];

		if (n >= num_online_cpus())
			continue;
		for (unsigned int cpu = nr_cpu_ids - 1; cpu > 0 && num_online_cpus() > n; cpu--)
			if (cpu_online(cpu) && remove_cpu(cpu))
				ok = false;
		if (num_online_cpus() != n) {
			printk("rcu bench: could not take CPUs down to %u online\n", n);
			ok = false;
			break;
		}
		printk("rcu bench: %u CPU%s online\n", n, n == 1 ? "" : "s");
		snprintf(what, sizeof(what), "idle_%ucpu", n);
		time_gps(what, false);
		time_gps(what, true);
		if (n > 1) {
			rcu_busy_start(true);
			msleep(100);
			snprintf(what, sizeof(what), "busy_%ucpu", n);
			time_gps(what, false);
			time_gps(what, true);
			rcu_busy_start(false);
		}
	}
	for (unsigned int cpu = 1; cpu < nr_cpu_ids; cpu++)
		if (cpumask_test_cpu(cpu, &cpu_present_mask) && !cpu_online(cpu))
			add_cpu(cpu);
	return ok;
}

int bench_rcu(void)
{
	struct task_struct *hp;
	bool ok = true;

	printk("rcu bench: %u CPUs online\n", num_online_cpus());
	time_reader();
	time_gps("idle", false);
	time_gps("idle", true);
	rcu_busy_start(true);
	msleep(100);
	time_gps("busy", false);
	time_gps("busy", true);
	rcu_busy_start(false);
	time_callbacks();
	ok &= time_flood();

	WRITE_ONCE(hp_stop, false);
	hp_ops = 0;
	hp = kthread_run(hp_fn, NULL, "rcu-bench-hp");
	if (hp) {
		get_task_struct(hp);
		msleep(300);
		time_gps("hotplug", false);
		time_gps("hotplug", true);
		WRITE_ONCE(hp_stop, true);
		kthread_stop(hp);
		put_task_struct(hp);
		printk("rcu bench: %lu hotplug operations meanwhile\n", hp_ops);
		ok &= hp_ops > 0 || nr_cpu_ids < 2;
		/* Every CPU back, as the boot left them. */
		for (unsigned int cpu = 1; cpu < nr_cpu_ids; cpu++)
			if (cpumask_test_cpu(cpu, &cpu_present_mask) && !cpu_online(cpu))
				add_cpu(cpu);
	} else {
		ok = false;
	}
	ok &= time_cpu_counts();
	printk("TEST bench.rcu: %s\n", ok ? "PASS" : "FAIL a part could not run");
	return ok ? 0 : -1;
}

/* bench=rcu (kernel_init): true if it was ours; other names go to
 * bench_from_param() (the locks benchmark's dispatcher). */
bool rcu_bench_from_param(void)
{
	const struct kernel_param *kp = param_find("bench");

	if (!kp || strcmp((const char *)kp->var, "rcu"))
		return false;
	bench_rcu();
	return true;
}
