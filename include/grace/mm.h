/*
 * mm.h — the kernel's address space and memory allocators.
 *
 * Virtual layout (48-bit canonical):
 *   0x0000000000000000 ... identity map of low memory: boot only, removed
 *                          when the final page tables are loaded
 *   0xffff800000000000 PHYS_OFFSET: direct map of all RAM (RW, NX)
 *   0xffffc90000000000 STACK_AREA: kernel stacks, each under an unmapped guard page
 *   0xffffffff80000000 KERNEL_VMA: the kernel image (text RX, rodata R, data RW NX)
 *
 * Physical: the kernel is loaded at KERNEL_LMA (2 MiB). The allocator never
 * hands out the kernel image, the multiboot2 info, ACPI tables, or the low
 * page reserved for the AP trampoline (`trampoline_phys`, below 1 MiB).
 */
#ifndef GRACE_MM_H
#define GRACE_MM_H

#include <grace/types.h>

#define PAGE_SHIFT   12
#define PAGE_SIZE    (1UL << PAGE_SHIFT)
#define PAGE_MASK    (~(PAGE_SIZE - 1))

#define KERNEL_VMA   0xffffffff80000000UL
#define KERNEL_LMA   0x200000UL
#define PHYS_OFFSET  0xffff800000000000UL
#define STACK_AREA   0xffffc90000000000UL

#define KERNEL_STACK_SIZE (16 * 1024)

static inline void *phys_to_virt(phys_addr_t p) { return (void *)(p + PHYS_OFFSET); }
static inline phys_addr_t virt_to_phys(const void *v)
{
	unsigned long a = (unsigned long)v;
	return a >= KERNEL_VMA ? a - KERNEL_VMA : a - PHYS_OFFSET;
}

/* Linker-script symbols (linker.ld). */
extern char __kernel_phys_start[], __kernel_phys_end[];
extern char __text_start[], __text_end[];
extern char __rodata_start[], __rodata_end[];
extern char __data_start[], __data_end[];
extern char __bss_start[], __bss_end[];
/* The boot CPU's stack (boot/entry.asm); the page below it is a guard. */
extern char boot_stack_guard[], boot_stack_bottom[], boot_stack_top[];

/* Physical page allocator (mm/pmm.c). */
void pmm_init(void);
phys_addr_t alloc_pages(unsigned int order); /* 0 on failure */
void free_pages(phys_addr_t p, unsigned int order);
static inline phys_addr_t alloc_page(void) { return alloc_pages(0); }
static inline void free_page(phys_addr_t p) { free_pages(p, 0); }
u64 pmm_free_pages(void);
u64 pmm_total_pages(void);
extern phys_addr_t trampoline_phys; /* a page below 1 MiB for the AP trampoline */
/* Pages wholly below `limit` (0 on failure): for tables written before the
 * final page tables exist, and devices that cannot address all of memory. */
phys_addr_t alloc_pages_below(unsigned int order, phys_addr_t limit);
u64 pmm_reserved_pages(void);
/* Allocators built on pages (kmalloc) label their blocks: the label lives
 * in the page metadata, like Linux's struct page fields. pmm_lookup() is
 * false unless p is the first page of an allocated block. */
void pmm_set_owner(phys_addr_t p, u16 owner);
bool pmm_lookup(phys_addr_t p, unsigned int *order, u16 *owner);
bool pmm_check(char *why, size_t len);  /* every buddy invariant; O(pages) */
void pmm_print(void);                   /* for the `mem` command */

/* Kernel page tables (arch/x86_64/paging.c). */
void paging_init(void);
void *ioremap(phys_addr_t phys, size_t size);          /* uncached, in the direct map */
int map_page(unsigned long va, phys_addr_t pa, u64 flags);
void unmap_page(unsigned long va);
/* A stack of KERNEL_STACK_SIZE with an unmapped guard page below it; returns the top. */
void *alloc_kernel_stack(void);
void free_kernel_stack(void *top);
unsigned int nr_kernel_stacks(void);   /* allocated now */
bool addr_is_stack_guard(unsigned long va);

/* Kernel heap (mm/kmalloc.c). */
void kmalloc_init(void);
void *kmalloc(size_t size);
void *kzalloc(size_t size);
void kfree(void *p);
void kmalloc_print(void);               /* per-class statistics, for `mem` */

#endif
