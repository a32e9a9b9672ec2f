/*
 * text_poke.c — write kernel text through a private, temporary alias.
 *
 * Kernel text is mapped read-only + executable everywhere (paging.c), also in
 * the direct map. To change it we never make it writable in the kernel's
 * page tables; instead the patching CPU switches to its own page-table root
 * for the duration of one write:
 *
 *   poke_pml4   a copy of the kernel half of kernel_pml4 (entries 256..511,
 *               refreshed on every poke, so later kernel mappings show
 *               through) plus one low-half slot that only this root has:
 *   POKE_VA     two 4 KiB PTEs, RW + NX, *not* global, mapping the physical
 *               page(s) of the target.
 *
 * Sequence, interrupts off on the patching CPU (an NMI still works: the
 * kernel half is the same):
 *     fill the PTEs -> CR3 := poke root -> memcpy via POKE_VA -> memcmp
 *     -> clear the PTEs -> CR3 := the kernel root
 * Loading CR3 drops every non-global translation (CR4.PCIDE is off), so the
 * alias cannot survive in the TLB, and no other CPU ever loads the poke root,
 * so no other CPU can see the alias. Kernel text stays RX in the kernel's
 * page tables throughout: `fault=textwrite` still faults, and a DEBUG build
 * walks the kernel tables during every poke (kernel_find_wx_page()) and
 * panics if any page is both writable and executable.
 *
 * Callers serialise themselves (text_mutex); text_poke() itself is safe
 * with interrupts on or off. Tests: ktest patching.poke (bytes, alias gone,
 * W^X, text still read-only), scenario fault-textwrite.
 */
#include <asm/cpu.h>
#include <asm/pgtable.h>
#include <asm/text-patching.h>
#include <grace/mm.h>
#include <grace/panic.h>
#include <grace/string.h>

#define POKE_VA 0x0000100000000000UL   /* PML4 slot 32: low half, never used otherwise */

static u64 *poke_pml4, *poke_pt;
static phys_addr_t poke_pml4_phys;
struct text_poke_stats text_poke_stats;

static u64 *new_table(phys_addr_t *phys)
{
	phys_addr_t p = alloc_page();

	if (!p)
		panic("text_poke: out of memory for the poking page tables");
	memset(phys_to_virt(p), 0, PAGE_SIZE);
	if (phys)
		*phys = p;
	return phys_to_virt(p);
}

static void poke_root_init(void)
{
	phys_addr_t pdpt_p, pd_p, pt_p;
	u64 *pdpt, *pd;

	poke_pml4 = new_table(&poke_pml4_phys);
	pdpt = new_table(&pdpt_p);
	pd = new_table(&pd_p);
	poke_pt = new_table(&pt_p);
	poke_pml4[(POKE_VA >> 39) & 511] = pdpt_p | _PAGE_PRESENT | _PAGE_RW;
	pdpt[(POKE_VA >> 30) & 511] = pd_p | _PAGE_PRESENT | _PAGE_RW;
	pd[(POKE_VA >> 21) & 511] = pt_p | _PAGE_PRESENT | _PAGE_RW;
}

void text_poke(void *addr, const void *bytes, size_t len)
{
	unsigned long a = (unsigned long)addr, off = a & (PAGE_SIZE - 1), flags;
	phys_addr_t p0, p1;
	const u64 *kpml4;
	unsigned long cr3;
	bool ok;

	if (!len)
		return;
	if (len > PAGE_SIZE || a < (unsigned long)__text_start || a + len > (unsigned long)__text_end)
		panic("text_poke(%p, %zu): not inside kernel text", addr, len);
	p0 = slow_virt_to_phys(a & PAGE_MASK);
	p1 = off + len > PAGE_SIZE ? slow_virt_to_phys((a & PAGE_MASK) + PAGE_SIZE) : 0;

	flags = local_irq_save();
	if (!poke_pml4)
		poke_root_init();
	kpml4 = phys_to_virt(kernel_pml4_phys);
	for (unsigned int i = 256; i < 512; i++)
		poke_pml4[i] = kpml4[i];
	/* RW, NX, not global: only in this root, gone from the TLB at the next CR3 load. */
	WRITE_ONCE(poke_pt[0], p0 | _PAGE_PRESENT | _PAGE_RW | _PAGE_NX);
	WRITE_ONCE(poke_pt[1], p1 ? (p1 | _PAGE_PRESENT | _PAGE_RW | _PAGE_NX) : 0);
	cr3 = read_cr3();
	write_cr3(poke_pml4_phys);

	memcpy((void *)(POKE_VA + off), bytes, len);
	ok = !memcmp((const void *)(POKE_VA + off), bytes, len) && !memcmp(addr, bytes, len);
#ifdef CONFIG_DEBUG
	{
		unsigned long wx = kernel_find_wx_page();

		if (wx)
			panic("text_poke: page %016lx is writable and executable in the kernel "
			      "page tables while patching", wx);
	}
#endif
	WRITE_ONCE(poke_pt[0], 0);
	WRITE_ONCE(poke_pt[1], 0);
	write_cr3(cr3);   /* drops the non-global alias from this CPU's TLB */
	local_irq_restore(flags);
	if (!ok)
		panic("text_poke(%p, %zu): the text does not read back as written", addr, len);
	text_poke_stats.pokes++;
}

/* ---- W^X: walk the kernel's own root (never the poke root) ---- */

static unsigned long wx_walk(const u64 *table, unsigned int level, unsigned long base,
			     bool writable, bool exec)
{
	for (unsigned int i = 0; i < 512; i++) {
		u64 e = table[i];
		unsigned long va = base + ((unsigned long)i << (PAGE_SHIFT + 9 * (level - 1)));
		bool w = writable && (e & _PAGE_RW), x = exec && !(e & _PAGE_NX);

		/* RW and NX combine down the walk: a subtree whose path already
		 * lacks RW, or has NX, cannot hold a W+X page. */
		if (!(e & _PAGE_PRESENT) || !(w && x))
			continue;
		if (level == 1 || (e & _PAGE_PSE))
			return va;
		va = wx_walk(phys_to_virt(e & PTE_ADDR_MASK), level - 1, va, w, x);
		if (va)
			return va;
	}
	return 0;
}

unsigned long kernel_find_wx_page(void)
{
	/* Only the kernel half exists after boot (the identity map is gone). */
	const u64 *pml4 = phys_to_virt(kernel_pml4_phys);
	unsigned long r = 0;

	for (unsigned int i = 256; i < 512 && !r; i++) {
		u64 e = pml4[i];
		unsigned long va = (unsigned long)((long)((unsigned long)i << 39 << 16) >> 16);

		if ((e & _PAGE_PRESENT) && (e & _PAGE_RW) && !(e & _PAGE_NX))
			r = wx_walk(phys_to_virt(e & PTE_ADDR_MASK), 3, va, true, true);
	}
	return r;
}
