/*
 * trace.c — the per-CPU event rings (the concept is in grace/trace.h).
 *
 * Each possible CPU owns a ring of `trace.size` entries (a power of two).
 * Writer, on its own CPU only, in any context (task, irq, NMI):
 *
 *     idx = xadd(%gs:trace_head, 1)       reserve: one instruction, so a
 *                                          nested writer gets idx + 1
 *     e = &ring[idx & mask]
 *     e->seq = 0                           the slot is being written
 *     fill tsc, type, a, b, c
 *     store-release e->seq = idx + 1       commit (pairs with the dump's
 *                                          load-acquire)
 *
 * The ring overwrites its oldest entries (a flight recorder): the dump
 * shows the last `trace.size` events of each CPU and says how many were
 * lost. The dump runs with tracing off; an entry whose seq does not match
 * its slot (overwritten or half written when tracing stopped) is skipped.
 *
 * Invariant: only CPU n writes ring n. Checked by trace.ring (trace_test.c).
 */
#include <asm/cpu.h>
#include <asm/smpboot.h>
#include <grace/cpuhotplug.h>
#include <grace/errno.h>
#include <grace/mm.h>
#include <grace/param.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/smp.h>
#include <grace/string.h>
#include <grace/time.h>
#include <grace/trace.h>

bool trace_enabled;
static bool trace_boot, trace_dump_exit;
static int trace_size = 4096;
param_bool("trace", trace_boot, "record the event trace from boot (see `trace`)");
param_bool("trace.dump", trace_dump_exit, "dump the event trace to the console at power-off");
param_int("trace.size", trace_size, 64, 1 << 20, "events kept per CPU (rounded up to a power of two)");

static DEFINE_PER_CPU(u64, trace_head);
static struct trace_entry *rings[NR_CPUS];
static u64 ring_mask;

static const char *const event_names[TRACE_NR_EVENTS] = {
	[TRACE_NONE] = "none",
	[TRACE_CPUHP_STEP] = "cpuhp_step",
	[TRACE_IPI_SEND] = "ipi_send",
	[TRACE_IPI_RECV] = "ipi_recv",
	[TRACE_LOCK_SLOWPATH] = "lock_slowpath",
	[TRACE_LOCK_ACQUIRED] = "lock_acquired",
	[TRACE_LOCK_HANDOVER] = "lock_handover",
	[TRACE_PV_WAIT] = "pv_wait",
	[TRACE_PV_KICK] = "pv_kick",
	[TRACE_RCU_GP_START] = "rcu_gp_start",
	[TRACE_RCU_GP_END] = "rcu_gp_end",
	[TRACE_RCU_QS] = "rcu_qs",
	[TRACE_RCU_CB] = "rcu_cb",
	[TRACE_PATCH_STEP] = "patch_step",
	[TRACE_MARK] = "mark",
};

const char *trace_event_name(enum trace_event_type type)
{
	return (unsigned int)type < TRACE_NR_EVENTS ? event_names[type] : "?";
}

void __trace_event(enum trace_event_type type, u32 a, u64 b, u64 c)
{
	struct trace_entry *ring = rings[smp_processor_id()];
	struct trace_entry *e;
	u64 idx = 1;

	if (!ring)
		return;
	/* Reserve: one xadd on this CPU's head, atomic against interrupts
	 * and NMIs on this CPU (they come before or after it). */
	__asm__ __volatile__("xaddq %0, %%gs:%P1" : "+r"(idx), "+m"(trace_head) :: "memory");
	e = &ring[idx & ring_mask];
	__atomic_store_n(&e->seq, 0, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);   /* seq = 0 before the fields, same CPU */
	e->tsc = rdtsc();
	e->type = type;
	e->a = a;
	e->b = b;
	e->c = c;
	/* Commit; pairs with the load-acquire of seq in trace_dump(). */
	__atomic_store_n(&e->seq, idx + 1, __ATOMIC_RELEASE);
}

int trace_start(void)
{
	if (!rings[0]) {
		u64 n = 64;
		unsigned int cpu;

		while (n < (u64)trace_size)
			n <<= 1;
		for_each_possible_cpu(cpu) {
			rings[cpu] = kzalloc(n * sizeof(struct trace_entry));
			if (!rings[cpu]) {
				printk("trace: no memory for %llu events on CPU %u\n",
				       (unsigned long long)n, cpu);
				return -ENOMEM;
			}
		}
		ring_mask = n - 1;
	}
	__atomic_store_n(&trace_enabled, true, __ATOMIC_RELEASE);
	return 0;
}

void trace_stop(void)
{
	__atomic_store_n(&trace_enabled, false, __ATOMIC_RELEASE);
}

void trace_clear(void)
{
	bool was_on = trace_enabled;
	unsigned int cpu;

	trace_stop();
	for_each_possible_cpu(cpu) {
		if (rings[cpu])
			memset(rings[cpu], 0, (ring_mask + 1) * sizeof(struct trace_entry));
		per_cpu(trace_head, cpu) = 0;
	}
	if (was_on)
		trace_start();
}

static u64 tsc_to_ns(u64 tsc)
{
	/* Split so that tsc * 10^6 cannot overflow for long uptimes. */
	return tsc_khz ? tsc / tsc_khz * 1000000ULL + tsc % tsc_khz * 1000000ULL / tsc_khz : tsc;
}

/* The oldest committed entry of `cpu` at or after position *pos, or NULL. */
static struct trace_entry *next_entry(unsigned int cpu, u64 *pos)
{
	u64 head = __atomic_load_n(&per_cpu(trace_head, cpu), __ATOMIC_ACQUIRE);

	for (; *pos < head; (*pos)++) {
		struct trace_entry *e = &rings[cpu][*pos & ring_mask];

		if (__atomic_load_n(&e->seq, __ATOMIC_ACQUIRE) == *pos + 1)
			return e;
	}
	return NULL;
}

void trace_dump(void)
{
	u64 pos[NR_CPUS], total = 0, lost = 0;
	unsigned int cpu, ncpu = 0;
	bool was_on = trace_enabled;

	if (!rings[0]) {
		printk("trace: nothing recorded (trace on, or boot with trace=1)\n");
		return;
	}
	trace_stop();
	for_each_possible_cpu(cpu) {
		u64 head = per_cpu(trace_head, cpu);

		pos[cpu] = head > ring_mask + 1 ? head - (ring_mask + 1) : 0;
		lost += pos[cpu];
		total += head - pos[cpu];
		ncpu++;
	}
	printk("TRACE-BEGIN cpus=%u events=%llu lost=%llu tsc_khz=%llu\n", ncpu,
	       (unsigned long long)total, (unsigned long long)lost, (unsigned long long)tsc_khz);
	for_each_possible_cpu(cpu)   /* ipi_send names its target by APIC ID */
		printk("TRACE-CPU %u apic=%u\n", cpu, cpu_physical_id(cpu));
	for (int s = 0; s < CPUHP_NR_STATES; s++)   /* cpuhp_step names a state by number */
		if (strcmp(cpuhp_state_name((enum cpuhp_state)s), "unused"))
			printk("TRACE-HPSTATE %d %s\n", s, cpuhp_state_name((enum cpuhp_state)s));
	/* Merge the rings by time: repeatedly print the oldest head entry. */
	for (;;) {
		struct trace_entry *best = NULL;
		unsigned int best_cpu = 0;

		for_each_possible_cpu(cpu) {
			struct trace_entry *e = next_entry(cpu, &pos[cpu]);

			if (e && (!best || e->tsc < best->tsc)) {
				best = e;
				best_cpu = cpu;
			}
		}
		if (!best)
			break;
		u64 c = best->c;

		if (best->type == TRACE_PV_WAIT)   /* c is a TSC: the halt's start */
			c = tsc_to_ns(c);
		printk("TRACE %u %llu %s %u %llu %llu\n", best_cpu,
		       (unsigned long long)tsc_to_ns(best->tsc),
		       trace_event_name((enum trace_event_type)best->type), best->a,
		       (unsigned long long)best->b, (unsigned long long)c);
		pos[best_cpu]++;
	}
	printk("TRACE-END\n");
	if (was_on)
		trace_start();
}

void trace_dump_at_exit(void)
{
	static bool dumping;

	if (trace_dump_exit && !dumping) {   /* once, even if the dump faults */
		dumping = true;
		trace_dump();
	}
}

/* For trace_test.c: CPU `cpu`'s next write position and the committed entry
 * at `pos` (NULL if overwritten or not committed). */
u64 trace_cpu_head(unsigned int cpu)
{
	return __atomic_load_n(&per_cpu(trace_head, cpu), __ATOMIC_ACQUIRE);
}

const struct trace_entry *trace_entry_at(unsigned int cpu, u64 pos)
{
	const struct trace_entry *e;

	if (!rings[cpu])
		return NULL;
	e = &rings[cpu][pos & ring_mask];
	return __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE) == pos + 1 ? e : NULL;
}

u64 trace_ring_size(void)
{
	return ring_mask + 1;
}

void trace_init(void)
{
	if (trace_boot && !trace_start())
		printk("trace: recording from boot, %llu events per CPU\n",
		       (unsigned long long)(ring_mask + 1));
}
