/*
 * irq_free_test.c — ktest irq.free_waits: free_irq_vector() returns only
 * once no CPU is still inside the handler it removed, so the caller may
 * free the handler's data (irq.c: the vector table under RCU).
 *
 * 16 rounds: register a handler on IRQ_FREE_TEST_VECTOR with a fresh data
 * block, send that vector to another CPU, whose handler marks itself inside
 * and spins 5 ms with interrupts off; as soon as it is inside, free the
 * vector here (the handler stays until this CPU has seen it, then 5 ms
 * more). When free_irq_vector() returns the handler must have left,
 * and only then is the block poisoned and freed (the handler re-checks the
 * block's magic after its spin: it would see the poison). With
 * irq.bug_free_no_gp=1 every round finds the handler still inside
 * (scenario irq-bug-free-no-gp).
 */
#include <asm/apic.h>
#include <grace/cpumask.h>
#include <grace/irq.h>
#include <grace/ktest.h>
#include <grace/mm.h>
#include <grace/printk.h>
#include <grace/sched.h>
#include <grace/smp.h>
#include <grace/string.h>
#include <grace/time.h>

#define IRQ_FREE_TEST_VECTOR 0xa8   /* dynamic range, unused otherwise */
#define IRQ_FREE_MAGIC       0x1f5eedULL

struct irq_free_data {
	u64 magic;
	int round;
};

static int if_inside, if_seen, if_bad_data;

static void if_handler(struct pt_regs *regs, void *data)
{
	struct irq_free_data *d = data;
	u64 t0 = ktime_get_ns(), end;

	(void)regs;
	__atomic_store_n(&if_inside, d->round, __ATOMIC_SEQ_CST);
	/* Until the freeing CPU has seen us inside (its vCPU may not run for a
	 * while on a loaded host; at most 1 s), then 5 ms more. */
	while (__atomic_load_n(&if_seen, __ATOMIC_SEQ_CST) != d->round && ktime_get_ns() - t0 < 1000000000ULL)
		cpu_relax();
	end = ktime_get_ns() + 5000000ULL;
	while (ktime_get_ns() < end)
		cpu_relax();
	if (READ_ONCE(d->magic) != IRQ_FREE_MAGIC)
		__atomic_add_fetch(&if_bad_data, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&if_inside, 0, __ATOMIC_SEQ_CST);
}

KTEST(irq_free_waits, "irq.free_waits")
{
	const int rounds = 16;
	struct cpumask saved;
	int early = 0, ran = 0;
	/* Stay here: sent from the target itself, the IPI would run the
	 * handler at once, before this thread looks. */
	unsigned int other = ktest_pin_pick_other(&saved);

	if (other >= nr_cpu_ids) {
		printk("irq.free_waits: one CPU: nothing to check\n");
		return;
	}
	if_bad_data = if_seen = 0;
	for (int n = 1; n <= rounds; n++) {
		struct irq_free_data *d = kzalloc(sizeof(*d));
		u64 deadline;

		KTEST_EXPECT(d != NULL);
		if (!d)
			break;
		d->magic = IRQ_FREE_MAGIC;
		d->round = n;
		if (request_irq_vector(IRQ_FREE_TEST_VECTOR, if_handler, d, "ktest-free")) {
			KTEST_EXPECT_MSG(false, "vector %#x is taken", IRQ_FREE_TEST_VECTOR);
			kfree(d);
			break;
		}
		lapic_send_ipi(cpu_physical_id(other), APIC_ICR_FIXED, IRQ_FREE_TEST_VECTOR);
		deadline = ktime_get_ns() + 1000000000ULL;
		while (__atomic_load_n(&if_inside, __ATOMIC_SEQ_CST) != n && ktime_get_ns() < deadline)
			cpu_relax();
		ran += __atomic_load_n(&if_inside, __ATOMIC_SEQ_CST) == n;
		__atomic_store_n(&if_seen, n, __ATOMIC_SEQ_CST);
		free_irq_vector(IRQ_FREE_TEST_VECTOR);
		if (__atomic_load_n(&if_inside, __ATOMIC_SEQ_CST) == n) {
			early++;
			/* Let it finish before the block goes (the test reports;
			 * it does not want to crash the handler). */
			while (__atomic_load_n(&if_inside, __ATOMIC_SEQ_CST) == n)
				cpu_relax();
		}
		memset(d, 0x6b, sizeof(*d));
		kfree(d);
	}
	ktest_unpin(&saved);
	printk("irq.free_waits: %d rounds, handler inside when freed in %d; free_irq_vector() returned "
	       "with it still inside %d times\n", rounds, ran, early);
	KTEST_EXPECT_MSG(ran == rounds, "the handler was seen inside in only %d of %d rounds", ran, rounds);
	KTEST_EXPECT_MSG(early == 0, "free_irq_vector() returned while CPU %u was still inside the "
			 "handler it removed (%d of %d rounds)", other, early, rounds);
	KTEST_EXPECT_MSG(if_bad_data == 0, "a handler ran on freed data %d times", if_bad_data);
}
