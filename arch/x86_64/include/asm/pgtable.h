/*
 * pgtable.h — x86-64 4-level page-table entries and the walkers over the
 * kernel's tables (arch/x86_64/paging.c).
 *
 * Entry bits: Intel SDM Vol. 3A, 4.5 "4-Level Paging", Tables 4-15..4-20.
 * Levels are numbered as in the SDM walk: 4 = PML4, 3 = PDPT (a leaf there
 * maps 1 GiB), 2 = page directory (leaf: 2 MiB), 1 = page table (4 KiB).
 */
#ifndef ASM_PGTABLE_H
#define ASM_PGTABLE_H

#include <grace/types.h>

#define _PAGE_PRESENT  (1UL << 0)
#define _PAGE_RW       (1UL << 1)
#define _PAGE_USER     (1UL << 2)
#define _PAGE_PWT      (1UL << 3)   /* write-through */
#define _PAGE_PCD      (1UL << 4)   /* cache disable; PCD|PWT = UC with the default PAT */
#define _PAGE_ACCESSED (1UL << 5)
#define _PAGE_DIRTY    (1UL << 6)
#define _PAGE_PSE      (1UL << 7)   /* in a PDPTE/PDE: this entry maps a 1 GiB / 2 MiB page */
#define _PAGE_GLOBAL   (1UL << 8)   /* survives CR3 writes when CR4.PGE is set */
#define _PAGE_NX       (1UL << 63)  /* no execute; needs EFER.NXE */
#define PTE_ADDR_MASK  0x000ffffffffff000UL

/* Leaf permissions for kernel mappings. */
#define PAGE_KERNEL         (_PAGE_PRESENT | _PAGE_RW | _PAGE_GLOBAL | _PAGE_NX)  /* RW, NX */
#define PAGE_KERNEL_RO      (_PAGE_PRESENT | _PAGE_GLOBAL | _PAGE_NX)             /* R, NX */
#define PAGE_KERNEL_EXEC    (_PAGE_PRESENT | _PAGE_GLOBAL)                        /* RX */
#define PAGE_KERNEL_NOCACHE (PAGE_KERNEL | _PAGE_PCD | _PAGE_PWT)                 /* RW, NX, UC */

enum pg_level { PG_LEVEL_4K = 1, PG_LEVEL_2M = 2, PG_LEVEL_1G = 3 };

#define X86_CR4_PGE (1UL << 7)

/* The leaf entry that maps va in the current kernel tables, and its level;
 * NULL when va is not mapped. Lock-free read: fine for reports and tests. */
u64 *lookup_address(unsigned long va, unsigned int *level);
/* The physical address va maps to, or 0 if unmapped (Linux's slow_virt_to_phys). */
phys_addr_t slow_virt_to_phys(unsigned long va);
/* Every TLB entry on this CPU, global ones included. */
void flush_tlb_all(void);

/* The kernel's PML4, below 4 GiB (so even 32-bit code can load it into CR3). */
extern phys_addr_t kernel_pml4_phys;
/* For the AP trampoline: a PML4 below 4 GiB with physical 0..2 MiB
 * identity-mapped (RWX) plus the kernel half of kernel_pml4. An AP loads it,
 * enables paging, jumps to the higher half, then loads kernel_pml4_phys.
 * Built on first call; 0 if out of memory. */
phys_addr_t trampoline_pml4(void);

#endif
