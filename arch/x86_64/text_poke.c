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
 *   POKE_VA     a window as large as kernel text: while a poke runs, the
 *               PTEs of the pages it writes are RW + NX, *not* global, and
 *               map those text pages (text page i at POKE_VA + i * 4 KiB).
 * text_poke_many() writes any number of pieces with one pair of CR3 loads,
 * which is what makes a batch of hundreds of sites cheap.
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

/* The alias covers all of kernel text: page i of text is POKE_VA + i * 4 KiB. */
#define POKE_MAX_PT 8   /* 16 MiB of text */
static u64 *poke_pml4, *poke_pt[POKE_MAX_PT];
static phys_addr_t poke_pml4_phys;
static unsigned int poke_text_pages;
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
	unsigned long text = (unsigned long)__text_start & PAGE_MASK;
	phys_addr_t pdpt_p, pd_p, pt_p;
	u64 *pdpt, *pd;

	poke_text_pages = (unsigned int)((ALIGN_UP((unsigned long)__text_end, PAGE_SIZE) - text) >> PAGE_SHIFT);
	if (poke_text_pages > POKE_MAX_PT * 512)
		panic("text_poke: kernel text (%u pages) larger than the poking window", poke_text_pages);
	poke_pml4 = new_table(&poke_pml4_phys);
	pdpt = new_table(&pdpt_p);
	pd = new_table(&pd_p);
	poke_pml4[(POKE_VA >> 39) & 511] = pdpt_p | _PAGE_PRESENT | _PAGE_RW;
	pdpt[(POKE_VA >> 30) & 511] = pd_p | _PAGE_PRESENT | _PAGE_RW;
	for (unsigned int i = 0; i * 512 < poke_text_pages; i++) {
		poke_pt[i] = new_table(&pt_p);
		pd[((POKE_VA >> 21) & 511) + i] = pt_p | _PAGE_PRESENT | _PAGE_RW;
	}
}

static u64 *poke_pte(unsigned int page)
{
	return &poke_pt[page / 512][page % 512];
}

static unsigned int text_page(unsigned long a)
{
	return (unsigned int)((a - ((unsigned long)__text_start & PAGE_MASK)) >> PAGE_SHIFT);
}

/*
 * Copy with the widest stores that fit (8, 4, 2, 1 bytes), not memcpy's
 * byte loop: under QEMU's TCG every store into a page holding translated
 * code checks and invalidates translations, so a 5-byte site written in
 * two stores costs two checks, not five (a V2 switch writes every lock-op
 * site four times: this halved its time).
 */
static void poke_copy(u8 *dst, const u8 *src, size_t len)
{
	while (len) {
		if (len >= 8) {
			u64 x;

			__builtin_memcpy(&x, src, 8);
			__builtin_memcpy(dst, &x, 8);
			dst += 8, src += 8, len -= 8;
		} else if (len >= 4) {
			u32 x;

			__builtin_memcpy(&x, src, 4);
			__builtin_memcpy(dst, &x, 4);
			dst += 4, src += 4, len -= 4;
		} else if (len >= 2) {
			u16 x;

			__builtin_memcpy(&x, src, 2);
			__builtin_memcpy(dst, &x, 2);
			dst += 2, src += 2, len -= 2;
		} else {
			*dst++ = *src++;
			len--;
		}
	}
}

void text_poke_many(const struct text_poke_vec *v, unsigned int n)
{
	unsigned long flags, cr3, ts = (unsigned long)__text_start & PAGE_MASK;
	const u64 *kpml4;
	unsigned int bad = n;

	for (unsigned int i = 0; i < n; i++) {
		unsigned long a = (unsigned long)v[i].addr;

		if (!v[i].len || v[i].len > PAGE_SIZE || a < (unsigned long)__text_start ||
		    a + v[i].len > (unsigned long)__text_end)
			panic("text_poke(%p, %zu): not inside kernel text", v[i].addr, v[i].len);
	}
	flags = local_irq_save();
	if (!poke_pml4)
		poke_root_init();
	kpml4 = phys_to_virt(kernel_pml4_phys);
	for (unsigned int i = 256; i < 512; i++)
		poke_pml4[i] = kpml4[i];
	/* RW, NX, not global: only in this root, gone from the TLB at the next CR3 load. */
	for (unsigned int i = 0; i < n; i++) {
		unsigned long a = (unsigned long)v[i].addr;

		for (unsigned int p = text_page(a); p <= text_page(a + v[i].len - 1); p++)
			WRITE_ONCE(*poke_pte(p), slow_virt_to_phys(ts + ((unsigned long)p << PAGE_SHIFT)) |
				   _PAGE_PRESENT | _PAGE_RW | _PAGE_NX);
	}
	cr3 = read_cr3();
	write_cr3(poke_pml4_phys);

	for (unsigned int i = 0; i < n; i++) {
		void *alias = (void *)(POKE_VA + ((unsigned long)v[i].addr - ts));

		poke_copy(alias, v[i].bytes, v[i].len);
		if (bad == n && (memcmp(alias, v[i].bytes, v[i].len) || memcmp(v[i].addr, v[i].bytes, v[i].len)))
			bad = i;
	}
#ifdef CONFIG_DEBUG
	{
		unsigned long wx = kernel_find_wx_page();

		if (wx)
			panic("text_poke: page %016lx is writable and executable in the kernel "
			      "page tables while patching", wx);
	}
#endif
	for (unsigned int i = 0; i < n; i++) {
		unsigned long a = (unsigned long)v[i].addr;

		for (unsigned int p = text_page(a); p <= text_page(a + v[i].len - 1); p++)
			WRITE_ONCE(*poke_pte(p), 0);
	}
	write_cr3(cr3);   /* drops the non-global alias from this CPU's TLB */
	local_irq_restore(flags);
	if (bad != n)
		panic("text_poke(%p, %zu): the text does not read back as written", v[bad].addr, v[bad].len);
	text_poke_stats.pokes += n;
}

void text_poke(void *addr, const void *bytes, size_t len)
{
	struct text_poke_vec v = { .addr = addr, .bytes = bytes, .len = len };

	if (len)
		text_poke_many(&v, 1);
}

/* For ktest patching.poke: PTEs of the poke window still present (0 between
 * pokes: "clear the PTEs" above). */
unsigned int text_poke_alias_ptes(void)
{
	unsigned int n = 0;

	for (unsigned int p = 0; poke_pml4 && p < poke_text_pages; p++)
		n += (READ_ONCE(*poke_pte(p)) & _PAGE_PRESENT) != 0;
	return n;
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
