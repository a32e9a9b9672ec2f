/*
 * kstack.c — kernel stacks with guard pages, in STACK_AREA.
 *
 * STACK_AREA is cut into slots of one guard page plus KERNEL_STACK_SIZE:
 *
 *   STACK_AREA + i * SLOT:  [ guard (never mapped) | stack pages ... ] <- top
 *
 * A stack grows down from its top; running off its bottom touches the
 * guard, which is never mapped, so the overflow faults at once (the traps
 * code asks addr_is_stack_guard() to name it) instead of silently
 * corrupting whatever lies below. The stack pages are separate physical
 * pages (no need for contiguous memory), zeroed.
 *
 * Invariants: slot i is in use iff bit i of slot_used is set; an in-use
 * slot has all its stack pages mapped RW+NX and its guard unmapped; a free
 * slot has nothing mapped; nr_stacks is the number of bits set in slot_used
 * (both change together, under kstack_lock). The boot CPU's stack
 * (boot/entry.asm) lives in .bss with its own guard, left unmapped by
 * paging_init().
 *
 * Tests: ktest mm.kstack; ktest sched.reap checks that stopped threads give
 * their stacks back (nr_kernel_stacks()).
 */
#include <asm/pgtable.h>
#include <grace/mm.h>
#include <grace/panic.h>
#include <grace/printk.h>
#include <grace/spinlock.h>
#include <grace/string.h>

#define KSTACK_SLOT   (KERNEL_STACK_SIZE + PAGE_SIZE)
#define KSTACK_SLOTS  1024          /* 20 MiB of address space */
#define KSTACK_PAGES  (KERNEL_STACK_SIZE / PAGE_SIZE)

static u64 slot_used[KSTACK_SLOTS / 64];
static unsigned int nr_stacks;
static DEFINE_SPINLOCK(kstack_lock);

static bool slot_in_use(unsigned long slot)
{
	return READ_ONCE(slot_used[slot / 64]) & (1ULL << (slot % 64));
}

static void unmap_stack_pages(unsigned long base, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		unsigned long va = base + PAGE_SIZE + i * PAGE_SIZE;
		phys_addr_t p = slow_virt_to_phys(va);
		unmap_page(va);
		if (p)
			free_page(p);
	}
}

void *alloc_kernel_stack(void)
{
	unsigned long irq, slot = KSTACK_SLOTS;

	spin_lock_irqsave(&kstack_lock, irq);
	for (unsigned long i = 0; i < KSTACK_SLOTS; i++)
		if (!slot_in_use(i)) {
			slot_used[i / 64] |= 1ULL << (i % 64);
			nr_stacks++;
			slot = i;
			break;
		}
	spin_unlock_irqrestore(&kstack_lock, irq);
	if (slot == KSTACK_SLOTS) {
		printk("kstack: all %d stack slots in use\n", KSTACK_SLOTS);
		return NULL;
	}

	unsigned long base = STACK_AREA + slot * KSTACK_SLOT;   /* the guard page */
	for (unsigned int i = 0; i < KSTACK_PAGES; i++) {
		phys_addr_t p = alloc_page();
		if (!p || map_page(base + PAGE_SIZE + i * PAGE_SIZE, p, PAGE_KERNEL)) {
			if (p)
				free_page(p);
			unmap_stack_pages(base, i);
			spin_lock_irqsave(&kstack_lock, irq);
			slot_used[slot / 64] &= ~(1ULL << (slot % 64));
			nr_stacks--;
			spin_unlock_irqrestore(&kstack_lock, irq);
			return NULL;
		}
		memset(phys_to_virt(p), 0, PAGE_SIZE);
	}
	return (void *)(base + KSTACK_SLOT);
}

void free_kernel_stack(void *top)
{
	unsigned long t = (unsigned long)top, irq;

	if (!top)
		return;
	unsigned long slot = (t - STACK_AREA) / KSTACK_SLOT - 1;
	if (t < STACK_AREA + KSTACK_SLOT || (t - STACK_AREA) % KSTACK_SLOT ||
	    slot >= KSTACK_SLOTS || !slot_in_use(slot)) {
		printk("kstack: free_kernel_stack(%p): not the top of an allocated stack\n", top);
		__warn(__FILE__, __LINE__, "free_kernel_stack misuse");
		return;
	}
	unmap_stack_pages(STACK_AREA + slot * KSTACK_SLOT, KSTACK_PAGES);
	spin_lock_irqsave(&kstack_lock, irq);
	slot_used[slot / 64] &= ~(1ULL << (slot % 64));
	nr_stacks--;
	spin_unlock_irqrestore(&kstack_lock, irq);
}

/* How many stacks are allocated now (for leak checks in tests). */
unsigned int nr_kernel_stacks(void)
{
	return READ_ONCE(nr_stacks);
}

/* Called from fault handlers: no locks, just reads. */
bool addr_is_stack_guard(unsigned long va)
{
	unsigned long g = (unsigned long)boot_stack_guard;

	if (va >= g && va < g + PAGE_SIZE)
		return true;
	if (va < STACK_AREA || va >= STACK_AREA + (unsigned long)KSTACK_SLOTS * KSTACK_SLOT)
		return false;
	unsigned long slot = (va - STACK_AREA) / KSTACK_SLOT;
	return slot_in_use(slot) && (va - STACK_AREA) % KSTACK_SLOT < PAGE_SIZE;
}
