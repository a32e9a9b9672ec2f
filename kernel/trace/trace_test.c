/*
 * trace_test.c — in-kernel tests of the event rings (kernel/trace/trace.c).
 *
 *   trace.ring   events from task context and from an interrupt that lands
 *                between them come out of this CPU's ring in order and
 *                committed; a wrapped ring keeps exactly the newest events
 * Run with `ktest=trace`.
 */
#include <asm/cpu.h>
#include <grace/irq.h>
#include <grace/ktest.h>
#include <grace/smp.h>
#include <grace/trace.h>

#define TEST_VECTOR 0xd1

static void mark_in_irq(struct pt_regs *regs, void *data)
{
	(void)regs;
	(void)data;
	trace_event(TRACE_MARK, 0x7e5a, 1, 0);
}

KTEST(trace_ring, "trace.ring")
{
	bool was_on = trace_enabled;
	unsigned int cpu;
	unsigned long flags;
	const struct trace_entry *e;
	u64 h0, h1, n;

	KTEST_EXPECT(trace_start() == 0);
	KTEST_EXPECT(request_irq_vector(TEST_VECTOR, mark_in_irq, NULL, "ktest") == 0);
	flags = local_irq_save();   /* stay on this CPU; the int below still runs */
	cpu = smp_processor_id();
	h0 = trace_cpu_head(cpu);
	trace_event(TRACE_MARK, 0x7e5a, 0, 0);
	__asm__ __volatile__("int %0" :: "i"(TEST_VECTOR) : "memory");
	trace_event(TRACE_MARK, 0x7e5a, 2, 0);
	h1 = trace_cpu_head(cpu);
	local_irq_restore(flags);
	free_irq_vector(TEST_VECTOR);
	/* mark 0, the interrupt's own ipi_recv event, mark 1 (in the
	 * interrupt), mark 2: each committed, in this order. */
	KTEST_EXPECT_MSG(h1 - h0 == 4, "%llu events recorded, expected 4", (unsigned long long)(h1 - h0));
	for (u64 i = 0, m = 0; i < h1 - h0 && i < 4; i++) {
		e = trace_entry_at(cpu, h0 + i);
		KTEST_EXPECT_MSG(e != NULL, "entry %llu not committed", (unsigned long long)i);
		if (e && e->type == TRACE_IPI_RECV) {
			KTEST_EXPECT(i == 1 && e->b == TEST_VECTOR);
			continue;
		}
		KTEST_EXPECT_MSG(e && e->type == TRACE_MARK && e->a == 0x7e5a && e->b == m,
				 "entry %llu out of order", (unsigned long long)i);
		m++;
	}

	/* Wrap the ring: the newest ring-size events survive, the one before
	 * them is gone. */
	n = trace_ring_size();
	flags = local_irq_save();
	cpu = smp_processor_id();
	h0 = trace_cpu_head(cpu);
	for (u64 i = 0; i < n + 5; i++)
		trace_event(TRACE_MARK, 0x7e5b, i, 0);
	h1 = trace_cpu_head(cpu);
	local_irq_restore(flags);
	e = trace_entry_at(cpu, h1 - 1);
	KTEST_EXPECT(e && e->a == 0x7e5b && e->b == n + 4);
	e = trace_entry_at(cpu, h1 - n);
	KTEST_EXPECT(e && e->b == 5);
	KTEST_EXPECT(trace_entry_at(cpu, h1 - n - 1) == NULL);
	if (!was_on)
		trace_stop();
}
