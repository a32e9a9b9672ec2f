/*
 * tlb.c — TLB shootdown: flush a kernel range (or everything) on every online
 * CPU; see asm/tlbflush.h for when to call it.
 *
 * Global pages (CR4.PGE) survive a CR3 reload, so a full flush toggles
 * CR4.PGE off and on (Intel SDM Vol. 3A §4.10.4.1, "Operations that
 * Invalidate TLBs": "a MOV to CR4 that modifies CR4.PGE"). A short range is
 * cheaper with INVLPG per page, which also drops global entries; more than
 * FLUSH_ONE_BY_ONE_MAX pages falls back to the full flush.
 * Test: ktest tlb.shootdown.
 */
#include <asm/cpu.h>
#include <asm/tlbflush.h>
#include <grace/ktest.h>
#include <grace/mm.h>
#include <grace/smp.h>

#define CR4_PGE (1UL << 7)
#define FLUSH_ONE_BY_ONE_MAX 32

void local_flush_tlb_all(void)
{
	unsigned long flags = local_irq_save();
	unsigned long cr4 = read_cr4();

	if (cr4 & CR4_PGE) {
		write_cr4(cr4 & ~CR4_PGE);
		write_cr4(cr4);
	} else {
		write_cr3(read_cr3());
	}
	local_irq_restore(flags);
}

void local_flush_tlb_range(unsigned long start, unsigned long end)
{
	start &= PAGE_MASK;
	if (end <= start)
		return;
	if ((end - start) / PAGE_SIZE > FLUSH_ONE_BY_ONE_MAX) {
		local_flush_tlb_all();
		return;
	}
	for (unsigned long va = start; va < end; va += PAGE_SIZE)
		invlpg(va);
}

struct flush_range {
	unsigned long start, end;
};

static void do_flush_all(void *info)
{
	(void)info;
	local_flush_tlb_all();
}

static void do_flush_range(void *info)
{
	const struct flush_range *r = info;

	local_flush_tlb_range(r->start, r->end);
}

void flush_tlb_all(void)
{
	on_each_cpu(do_flush_all, NULL, 1);
}

void flush_tlb_kernel_range(unsigned long start, unsigned long end)
{
	struct flush_range r = { start, end };

	/* wait=1: `r` lives on this stack, and the caller may reuse the
	 * unmapped range as soon as we return. */
	on_each_cpu(do_flush_range, &r, 1);
}

static unsigned int tlb_test_flushes[NR_CPUS];

static void tlb_test_count(void *info)
{
	(void)info;
	local_flush_tlb_range(KERNEL_VMA, KERNEL_VMA + PAGE_SIZE);
	__atomic_fetch_add(&tlb_test_flushes[smp_processor_id()], 1, __ATOMIC_RELAXED);
}

KTEST(tlb_shootdown, "tlb.shootdown")
{
	unsigned int cpu;

	/* The flush entry points run on every online CPU and come back. */
	flush_tlb_all();
	flush_tlb_kernel_range(KERNEL_VMA, KERNEL_VMA + 4 * PAGE_SIZE);
	flush_tlb_kernel_range(KERNEL_VMA, KERNEL_VMA + 64 * PAGE_SIZE);
	for (cpu = 0; cpu < NR_CPUS; cpu++)
		tlb_test_flushes[cpu] = 0;
	on_each_cpu(tlb_test_count, NULL, 1);
	for_each_online_cpu(cpu)
		KTEST_EXPECT_MSG(tlb_test_flushes[cpu] == 1, "CPU %u flushed %u times",
				 cpu, tlb_test_flushes[cpu]);
}
