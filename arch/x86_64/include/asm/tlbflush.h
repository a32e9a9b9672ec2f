/*
 * tlbflush.h — keeping every CPU's TLB in step with the kernel page tables.
 *
 * A CPU caches translations in its own TLB; changing a page-table entry does
 * not reach the other CPUs' TLBs. After unmapping or downgrading a kernel
 * mapping (unmap_page, changing protections, freeing page tables), call
 *     flush_tlb_kernel_range(start, end)   or   flush_tlb_all()
 * which flush this CPU and IPI every other online CPU (on_each_cpu, wait=1)
 * and return when all have flushed. Adding a mapping needs no flush: the
 * kernel never touches an address before mapping it, so no CPU can hold a
 * translation for it.
 * Must be called with interrupts on once other CPUs are online (waiting for
 * them with interrupts off could deadlock; it is refused with a WARNING).
 * Offline CPUs need nothing: INIT empties their TLB when they come back.
 * Test: ktest tlb.shootdown (arch/x86_64/tlb.c).
 */
#ifndef ASM_TLBFLUSH_H
#define ASM_TLBFLUSH_H

/* This CPU only. */
void local_flush_tlb_all(void);
void local_flush_tlb_range(unsigned long start, unsigned long end);
/* Every online CPU. */
void flush_tlb_all(void);
void flush_tlb_kernel_range(unsigned long start, unsigned long end);

#endif
