/*
 * paging.c — the kernel's page tables: built once at boot, then edited by
 * map_page/unmap_page/ioremap.
 *
 * paging_init() replaces the boot tables (boot/entry.asm: 0..4 GiB identity
 * and at PHYS_OFFSET, 1 GiB at KERNEL_VMA, all RW+X) with:
 *
 *   PHYS_OFFSET + p   all RAM of the memory map (usable, ACPI reclaimable,
 *                     ACPI NVS) wherever it is, the first 1 MiB, and the
 *                     "reserved" regions below 4 GiB: RW, NX, global,
 *                     write-back, 1 GiB pages where aligned (and the CPU has
 *                     them), else 2 MiB, else 4 KiB. Reserved regions are
 *                     included because firmware keeps its ACPI tables there
 *                     (SeaBIOS does); the MTRRs keep any MMIO inside them
 *                     uncached until ioremap() marks the pages UC itself.
 *                     Reserved regions above 4 GiB are address-space holes
 *                     (QEMU lists 12 GiB at 1 TiB): not mapped.
 *                     The alias of kernel text and rodata is read-only.
 *   KERNEL_VMA + p    the kernel image, 4 KiB pages, global:
 *                       .boot (32-bit entry, boot GDT)  R, NX (nothing runs
 *                         there after boot; the boot GDT stays readable and
 *                         its accessed bits are already set, so the CPU never
 *                         needs to write it)
 *                       .text RX, .rodata R+NX, .data/.bss RW+NX,
 *                       boot_stack_guard NOT mapped
 *   STACK_AREA        kernel stacks (mm/kstack.c), built with map_page
 *   (low half)        nothing: the identity map is gone
 *
 * Ordering: the new tables are written through the boot direct map, which
 * only reaches 0..4 GiB, so until the CR3 switch every table page comes from
 * alloc_pages_below(4 GiB). Afterwards any page will do.
 *
 * Invariants: tables are only edited under pgtable_lock; a live entry is
 * changed with one WRITE_ONCE and the stale TLB entry invalidated on this
 * CPU. SMP note: another CPU may still cache the old translation: every
 * place marked "TLB shootdown" must send an invalidation IPI to the other
 * online CPUs once they exist.
 *
 * Tests: ktests mm.paging_* (permissions of text/rodata/data, guard page,
 * LAPIC through ioremap, RAM above 4 GiB), scenarios boot-* and mem-*.
 */
#include <asm/cpu.h>
#include <asm/pgtable.h>
#include <grace/bootinfo.h>
#include <grace/mm.h>
#include <grace/panic.h>
#include <grace/printk.h>
#include <grace/spinlock.h>
#include <grace/string.h>

#define BOOT_MAP_END 0x100000000ULL  /* what the boot direct map reaches */
#define SZ_1M  0x100000ULL
#define SZ_2M  0x200000ULL
#define SZ_1G  0x40000000ULL

static u64 *kernel_pml4;
phys_addr_t kernel_pml4_phys;
static phys_addr_t trampoline_pml4_phys;
static bool paging_ready;            /* the final tables are in CR3 */
static bool have_1g_pages, have_pge;
static DEFINE_SPINLOCK(pgtable_lock);

static inline unsigned int pt_index(unsigned long va, unsigned int level)
{
	return (va >> (PAGE_SHIFT + 9 * (level - 1))) & 511;
}

static inline u64 level_size(unsigned int level) { return 1ULL << (PAGE_SHIFT + 9 * (level - 1)); }

static inline u64 *table_of(u64 entry) { return phys_to_virt(entry & PTE_ADDR_MASK); }

void flush_tlb_all(void)
{
	unsigned long cr4 = read_cr4();

	if (cr4 & X86_CR4_PGE) {      /* toggling PGE flushes global entries too (SDM 4.10.4.1) */
		write_cr4(cr4 & ~X86_CR4_PGE);
		write_cr4(cr4);
	} else {
		write_cr3(read_cr3());
	}
	/* TLB shootdown: other CPUs need a full flush as well. */
}

static phys_addr_t alloc_table(void)
{
	phys_addr_t p = paging_ready ? alloc_page() : alloc_pages_below(0, BOOT_MAP_END);

	if (p)
		memset(phys_to_virt(p), 0, PAGE_SIZE);
	return p;
}

/* Replace the large leaf *entry at `level` (3 or 2) by a table of 512
 * leaves one level down that map the same memory with the same flags. */
static bool split_large(u64 *entry, unsigned int level)
{
	u64 e = *entry;
	phys_addr_t t = alloc_table();

	if (!t)
		return false;
	u64 *child = phys_to_virt(t);
	u64 base = e & PTE_ADDR_MASK & ~(level_size(level) - 1);  /* bit 12 is PAT here; never set */
	u64 flags = e & ~PTE_ADDR_MASK;
	if (level == PG_LEVEL_2M)
		flags &= ~_PAGE_PSE;                                  /* 4 KiB leaves have no PS bit */
	for (unsigned int i = 0; i < 512; i++)
		child[i] = (base + i * level_size(level - 1)) | flags;
	WRITE_ONCE(*entry, t | _PAGE_PRESENT | _PAGE_RW);
	if (paging_ready)
		flush_tlb_all();   /* the large translation may be cached; TLB shootdown */
	return true;
}

/*
 * The entry for va at `level`, creating missing tables and splitting large
 * pages on the way down. NULL when out of memory. Caller holds pgtable_lock
 * (or is paging_init, alone on the boot CPU).
 */
static u64 *walk_create(unsigned long va, unsigned int level)
{
	u64 *table = kernel_pml4;

	for (unsigned int l = 4; l > level; l--) {
		u64 *e = &table[pt_index(va, l)];
		if (!(*e & _PAGE_PRESENT)) {
			phys_addr_t t = alloc_table();
			if (!t)
				return NULL;
			WRITE_ONCE(*e, t | _PAGE_PRESENT | _PAGE_RW);
		} else if (*e & _PAGE_PSE) {
			if (!split_large(e, l))
				return NULL;
		}
		table = table_of(*e);
	}
	return &table[pt_index(va, level)];
}

u64 *lookup_address(unsigned long va, unsigned int *level)
{
	u64 *table = kernel_pml4 ? kernel_pml4 : phys_to_virt(read_cr3() & PTE_ADDR_MASK);

	for (unsigned int l = 4; l >= 1; l--) {
		u64 *e = &table[pt_index(va, l)];
		u64 v = READ_ONCE(*e);
		if (!(v & _PAGE_PRESENT))
			return NULL;
		if (l == 1 || (l <= 3 && (v & _PAGE_PSE))) {
			if (level)
				*level = l;
			return e;
		}
		table = table_of(v);
	}
	return NULL;
}

phys_addr_t slow_virt_to_phys(unsigned long va)
{
	unsigned int level;
	u64 *e = lookup_address(va, &level);

	if (!e)
		return 0;
	u64 size = level_size(level);
	return (*e & PTE_ADDR_MASK & ~(size - 1)) | (va & (size - 1));
}

/* ---- building the tables ---------------------------------------------- */

/* Map [va, va+size) to [pa, ...) with the largest pages alignment allows. */
static void map_range(unsigned long va, phys_addr_t pa, u64 size, u64 flags, bool large)
{
	while (size) {
		unsigned int level = PG_LEVEL_4K;
		if (large && have_1g_pages && IS_ALIGNED(va | pa, SZ_1G) && size >= SZ_1G)
			level = PG_LEVEL_1G;
		else if (large && IS_ALIGNED(va | pa, SZ_2M) && size >= SZ_2M)
			level = PG_LEVEL_2M;
		u64 *e = walk_create(va, level);
		if (!e)
			panic("paging: out of memory for page tables at %#lx", va);
		WRITE_ONCE(*e, pa | flags | (level > PG_LEVEL_4K ? _PAGE_PSE : 0));
		va += level_size(level);
		pa += level_size(level);
		size -= level_size(level);
	}
}

struct prange { u64 start, end; };

/* The physical ranges the direct map covers: see the header comment. */
static unsigned int direct_map_ranges(struct prange *r, unsigned int max)
{
	unsigned int n = 0;

	r[n++] = (struct prange){ 0, SZ_1M };
	for (unsigned int i = 0; i < boot_info.nr_mem && n < max; i++) {
		const struct mem_region *m = &boot_info.mem[i];
		if (m->type == MEM_BAD || !m->len)
			continue;
		u64 end = m->base + m->len < m->base ? ~0ULL : m->base + m->len;
		if (m->type == MEM_RESERVED) {   /* firmware tables live below 4 GiB */
			if (m->base >= BOOT_MAP_END)
				continue;
			end = MIN(end, BOOT_MAP_END);
		}
		r[n++] = (struct prange){ ALIGN_DOWN(m->base, PAGE_SIZE), ALIGN_UP(end, PAGE_SIZE) };
	}
	for (unsigned int i = 1; i < n; i++)          /* insertion sort by start */
		for (unsigned int j = i; j > 0 && r[j - 1].start > r[j].start; j--) {
			struct prange t = r[j];
			r[j] = r[j - 1];
			r[j - 1] = t;
		}
	unsigned int out = 0;
	for (unsigned int i = 0; i < n; i++) {
		if (out && r[i].start <= r[out - 1].end)
			r[out - 1].end = MAX(r[out - 1].end, r[i].end);
		else
			r[out++] = r[i];
	}
	return out;
}

static void map_kernel_image(void)
{
	u64 boot_phys = (u64)__kernel_phys_start;
	u64 text_phys = virt_to_phys(__text_start);
	unsigned long guard = (unsigned long)boot_stack_guard;

	/* .boot: read-only, no execute (see the header comment). */
	map_range(KERNEL_VMA + boot_phys, boot_phys, text_phys - boot_phys, PAGE_KERNEL_RO, false);
	map_range((unsigned long)__text_start, text_phys,
		  (unsigned long)__rodata_start - (unsigned long)__text_start, PAGE_KERNEL_EXEC, false);
	map_range((unsigned long)__rodata_start, virt_to_phys(__rodata_start),
		  (unsigned long)__rodata_end - (unsigned long)__rodata_start, PAGE_KERNEL_RO, false);
	/* .data and .bss, except the boot stack's guard page. */
	for (unsigned long va = (unsigned long)__rodata_end; va < (unsigned long)__bss_end; va += PAGE_SIZE)
		if (va != guard)
			map_range(va, virt_to_phys((void *)va), PAGE_SIZE, PAGE_KERNEL, false);

	/* The direct-map alias of text and rodata: read-only too, so a stray
	 * pointer into the direct map cannot rewrite code (text_poke makes its
	 * own temporary writable alias). */
	for (u64 p = text_phys; p < virt_to_phys(__rodata_end); p += PAGE_SIZE)
		map_range(PHYS_OFFSET + p, p, PAGE_SIZE, PAGE_KERNEL_RO, false);
}

void paging_init(void)
{
	u32 a, b, c, d;
	struct prange r[BOOT_MAX_MEM_REGIONS + 1];

	cpuid(0x80000001, &a, &b, &c, &d);
	have_1g_pages = d & (1u << 26);   /* CPUID.80000001H:EDX.Page1GB (SDM Vol. 2A) */
	cpuid(1, &a, &b, &c, &d);
	have_pge = d & (1u << 13);        /* CPUID.01H:EDX.PGE */
	if (!(rdmsr(MSR_EFER) & (1UL << 11)))   /* NX bits are reserved without EFER.NXE */
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | (1UL << 11));

	kernel_pml4_phys = alloc_table();
	if (!kernel_pml4_phys)
		panic("paging: no memory below 4 GiB for the page tables");
	kernel_pml4 = phys_to_virt(kernel_pml4_phys);

	unsigned int n = direct_map_ranges(r, ARRAY_SIZE(r));
	u64 mapped = 0;
	for (unsigned int i = 0; i < n; i++) {
		map_range(PHYS_OFFSET + r[i].start, r[i].start, r[i].end - r[i].start, PAGE_KERNEL, true);
		mapped += r[i].end - r[i].start;
	}
	map_kernel_image();

	/* The switch. Everything the CPU touches from here on (this code, the
	 * boot stack, GS-based per-CPU data, the boot GDT) is mapped above. */
	write_cr3(kernel_pml4_phys);
	paging_ready = true;
	if (have_pge)
		write_cr4(read_cr4() | X86_CR4_PGE);
	printk("paging: direct map %llu MiB in %u ranges (%s pages), kernel text RX, "
	       "rodata R, data NX, boot stack guard unmapped\n",
	       (unsigned long long)(mapped >> 20), n, have_1g_pages ? "1 GiB/2 MiB" : "2 MiB");
}

/* ---- run-time edits --------------------------------------------------- */

int map_page(unsigned long va, phys_addr_t pa, u64 flags)
{
	unsigned long irq;
	int ret = 0;

	spin_lock_irqsave(&pgtable_lock, irq);
	u64 *e = walk_create(va & PAGE_MASK, PG_LEVEL_4K);
	if (e) {
		WRITE_ONCE(*e, (pa & PTE_ADDR_MASK) | flags | _PAGE_PRESENT);
		invlpg(va);   /* an old translation may be cached; TLB shootdown */
	} else {
		ret = -1;
	}
	spin_unlock_irqrestore(&pgtable_lock, irq);
	return ret;
}

void unmap_page(unsigned long va)
{
	unsigned long irq;
	unsigned int level;

	va &= PAGE_MASK;
	spin_lock_irqsave(&pgtable_lock, irq);
	u64 *e = lookup_address(va, &level);
	if (e && level > PG_LEVEL_4K)
		e = walk_create(va, PG_LEVEL_4K);   /* unmap 4 KiB out of a large page */
	if (e) {
		WRITE_ONCE(*e, 0);
		invlpg(va);   /* TLB shootdown: other CPUs may still map va */
	}
	spin_unlock_irqrestore(&pgtable_lock, irq);
}

/* Is [p, p+size) wholly inside usable RAM? */
static bool range_is_ram(phys_addr_t p, u64 size)
{
	for (unsigned int i = 0; i < boot_info.nr_mem; i++) {
		const struct mem_region *m = &boot_info.mem[i];
		if (m->type == MEM_USABLE && p >= m->base && p + size <= m->base + m->len)
			return true;
	}
	return false;
}

/*
 * Device memory, uncached (PCD|PWT: UC with the power-on PAT, SDM Vol. 3A
 * 11.12.3), at its direct-map address: the direct map's pages there are
 * created or re-marked in place, so there is never a cached alias of the
 * same device page. RAM stays write-back and is returned as is. Before
 * paging_init() the boot map (cached) is returned for the low 4 GiB.
 */
void *ioremap(phys_addr_t phys, size_t size)
{
	unsigned long irq;

	if (!size)
		size = 1;
	if (!paging_ready)
		return phys + size <= BOOT_MAP_END ? phys_to_virt(phys) : NULL;
	if (range_is_ram(phys, size))
		return phys_to_virt(phys);

	spin_lock_irqsave(&pgtable_lock, irq);
	for (u64 p = ALIGN_DOWN(phys, PAGE_SIZE); p < phys + size; p += PAGE_SIZE) {
		u64 *e = walk_create(PHYS_OFFSET + p, PG_LEVEL_4K);
		if (!e) {
			spin_unlock_irqrestore(&pgtable_lock, irq);
			printk("paging: ioremap(%#llx, %#zx): out of memory for page tables\n",
			       (unsigned long long)phys, size);
			return NULL;
		}
		WRITE_ONCE(*e, p | PAGE_KERNEL_NOCACHE);
		invlpg(PHYS_OFFSET + p);   /* may have been cached write-back; TLB shootdown */
	}
	spin_unlock_irqrestore(&pgtable_lock, irq);
	return phys_to_virt(phys);
}

/*
 * A CPU coming up through the real-mode trampoline turns paging on while it
 * still runs at the trampoline's low physical address, and loads CR3 in
 * 32-bit mode. So it needs a PML4 below 4 GiB that identity-maps the low
 * memory it runs from and holds the kernel half to jump to; it switches to
 * kernel_pml4 as soon as it runs in the higher half. Built once, under
 * 4 GiB; the kernel-half entries are copied (their lower levels are shared,
 * so later mappings show through as long as no new PML4 slot is created).
 */
phys_addr_t trampoline_pml4(void)
{
	unsigned long irq;

	spin_lock_irqsave(&pgtable_lock, irq);
	if (!trampoline_pml4_phys) {
		phys_addr_t pml4 = alloc_pages_below(0, BOOT_MAP_END);
		phys_addr_t pdpt = alloc_pages_below(0, BOOT_MAP_END);
		phys_addr_t pd = alloc_pages_below(0, BOOT_MAP_END);
		if (pml4 && pdpt && pd) {
			u64 *t4 = phys_to_virt(pml4), *t3 = phys_to_virt(pdpt), *t2 = phys_to_virt(pd);
			memset(t4, 0, PAGE_SIZE);
			memset(t3, 0, PAGE_SIZE);
			memset(t2, 0, PAGE_SIZE);
			t2[0] = 0 | _PAGE_PRESENT | _PAGE_RW | _PAGE_PSE;   /* 0..2 MiB, RWX */
			t3[0] = pd | _PAGE_PRESENT | _PAGE_RW;
			t4[0] = pdpt | _PAGE_PRESENT | _PAGE_RW;
			for (unsigned int i = 256; i < 512; i++)
				t4[i] = kernel_pml4[i];
			trampoline_pml4_phys = pml4;
		} else {
			if (pml4)
				free_page(pml4);
			if (pdpt)
				free_page(pdpt);
			if (pd)
				free_page(pd);
		}
	}
	spin_unlock_irqrestore(&pgtable_lock, irq);
	return trampoline_pml4_phys;
}
