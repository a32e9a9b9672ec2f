/*
 * mm_test.c — in-kernel tests of memory management (`ktest=mm`).
 *
 * They run on the final page tables, after boot: page allocator traffic
 * checked against the buddy invariants, every heap class, the permissions
 * paging_init() promised (read from the PTEs, never by faulting), the guard
 * pages, device memory through ioremap, and RAM above 4 GiB when the
 * machine has some (scenario mem-6g). Misuse (double free and friends)
 * prints WARNINGs by design, so it is tested on the host instead
 * (tests/unit/test_buddy.c).
 */
#include <asm/cpu.h>
#include <asm/pgtable.h>
#include <grace/bootinfo.h>
#include <grace/buddy.h>
#include <grace/ktest.h>
#include <grace/mm.h>
#include <grace/string.h>

#define SZ_4G 0x100000000ULL

static u64 rng = 0x2545f4914f6cdd1dULL;
static u64 rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static bool is_ram(phys_addr_t p, u64 len)
{
	for (unsigned int i = 0; i < boot_info.nr_mem; i++) {
		const struct mem_region *m = &boot_info.mem[i];
		if (m->type == MEM_USABLE && p >= m->base && p + len <= m->base + m->len)
			return true;
	}
	return false;
}

/* Mixed-order traffic: blocks aligned, in RAM, disjoint (each stamped with
 * its own id, checked before freeing), and the free count restored. */
KTEST(pmm_alloc_free, "mm.pmm_alloc_free")
{
	enum { N = 256 };
	static phys_addr_t blk[N];
	static unsigned int ord[N];
	u64 free_before = pmm_free_pages();
	char why[96];

	for (int i = 0; i < N; i++) {
		ord[i] = rnd() % 8 == 0 ? rnd() % (BUDDY_MAX_ORDER + 1) : rnd() % 3;
		blk[i] = alloc_pages(ord[i]);
		KTEST_EXPECT_MSG(blk[i], "alloc_pages(%u) failed", ord[i]);
		if (!blk[i])
			continue;
		u64 size = PAGE_SIZE << ord[i];
		KTEST_EXPECT_MSG(IS_ALIGNED(blk[i], size), "block %#llx not aligned to order %u",
				 (unsigned long long)blk[i], ord[i]);
		KTEST_EXPECT_MSG(is_ram(blk[i], size), "block %#llx not in usable RAM",
				 (unsigned long long)blk[i]);
		unsigned int o;
		KTEST_EXPECT(pmm_lookup(blk[i], &o, NULL) && o == ord[i]);
		/* Stamp the first and last word of every page. */
		for (u64 off = 0; off < size; off += PAGE_SIZE) {
			u64 *w = phys_to_virt(blk[i] + off);
			w[0] = w[PAGE_SIZE / 8 - 1] = 0xb10c0000ULL + i;
		}
	}
	KTEST_EXPECT(pmm_free_pages() < free_before);
	for (int i = N - 1; i > 0; i--) {       /* free in random order */
		int j = rnd() % (i + 1);
		phys_addr_t tb = blk[i];
		unsigned int to = ord[i];
		blk[i] = blk[j]; ord[i] = ord[j];
		blk[j] = tb; ord[j] = to;
	}
	for (int i = 0; i < N; i++) {
		if (!blk[i])
			continue;
		u64 *w = phys_to_virt(blk[i]);
		KTEST_EXPECT_MSG((w[0] >> 16) == 0xb10c && w[0] == w[PAGE_SIZE / 8 - 1],
				 "block %#llx overwritten: blocks overlap", (unsigned long long)blk[i]);
		free_pages(blk[i], ord[i]);
	}
	KTEST_EXPECT_MSG(pmm_free_pages() == free_before, "free pages %llu, was %llu",
			 (unsigned long long)pmm_free_pages(), (unsigned long long)free_before);
	KTEST_EXPECT_MSG(pmm_check(why, sizeof(why)), "buddy invariant: %s", why);
}

/* Counters add up; the trampoline page is sane and not allocatable. */
KTEST(pmm_counters, "mm.pmm_counters")
{
	u64 total = pmm_total_pages(), resv = pmm_reserved_pages(), free = pmm_free_pages();

	KTEST_EXPECT(total > 0 && resv < total && free <= total - resv);
	KTEST_EXPECT_MSG(trampoline_phys, "no trampoline page below 1 MiB");
	KTEST_EXPECT(trampoline_phys < 0x100000 && IS_ALIGNED(trampoline_phys, PAGE_SIZE));
	KTEST_EXPECT(is_ram(trampoline_phys, PAGE_SIZE));
	KTEST_EXPECT(!pmm_lookup(trampoline_phys, NULL, NULL));
	/* The kernel image is never handed out. */
	KTEST_EXPECT(!pmm_lookup(virt_to_phys(__text_start), NULL, NULL));
}

/* Every class and some large sizes: alignment, usable size, zeroing. */
KTEST(kmalloc_classes, "mm.kmalloc_classes")
{
	static const size_t sizes[] = { 0, 1, 8, 16, 17, 32, 33, 64, 100, 128, 200, 256, 500,
					512, 1000, 1024, 1500, 2048, 2049, 4096, 4097, 10000, 65536 };

	for (unsigned int i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t n = sizes[i];
		u8 *p = kmalloc(n);
		KTEST_EXPECT_MSG(p, "kmalloc(%zu) failed", n);
		if (!p)
			continue;
		size_t align = n <= 16 ? 16 : n > 2048 ? PAGE_SIZE : 1;
		while (n <= 2048 && align < n)
			align <<= 1;
		KTEST_EXPECT_MSG(IS_ALIGNED((unsigned long)p, align), "kmalloc(%zu) = %p not %zu-aligned",
				 n, p, align);
		memset(p, 0xa5, n);
		kfree(p);
		u8 *z = kzalloc(n);
		KTEST_EXPECT_MSG(z, "kzalloc(%zu) failed", n);
		for (size_t j = 0; z && j < n; j++)
			if (z[j]) {
				KTEST_EXPECT_MSG(0, "kzalloc(%zu) byte %zu is %#x", n, j, z[j]);
				break;
			}
		kfree(z);
	}
	kfree(NULL);
}

/* Many live objects of random sizes, each filled with its id: none may
 * overlap another, and everything returns. */
KTEST(kmalloc_stress, "mm.kmalloc_stress")
{
	enum { N = 400 };
	static u8 *obj[N];
	static size_t len[N];
	u64 free_before = pmm_free_pages();

	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < N; i++) {
			len[i] = rnd() % 8 == 0 ? 2049 + rnd() % 9000 : 1 + rnd() % 2048;
			obj[i] = kmalloc(len[i]);
			KTEST_EXPECT_MSG(obj[i], "kmalloc(%zu) failed", len[i]);
			if (obj[i])
				memset(obj[i], (u8)i, len[i]);
		}
		for (int i = 0; i < N; i++) {
			if (!obj[i])
				continue;
			for (size_t j = 0; j < len[i]; j++)
				if (obj[i][j] != (u8)i) {
					KTEST_EXPECT_MSG(0, "object %d (%zu bytes) overwritten at %zu", i, len[i], j);
					break;
				}
			kfree(obj[i]);
		}
	}
	/* Only the size-class pages stay with the heap; large blocks came back. */
	u64 held = free_before - pmm_free_pages();
	KTEST_EXPECT_MSG(held < 512, "heap kept %llu pages after freeing everything",
			 (unsigned long long)held);
}

static bool pte_is(unsigned long va, u64 want_set, u64 want_clear, unsigned int want_level)
{
	unsigned int level;
	u64 *e = lookup_address(va, &level);

	return e && (*e & want_set) == want_set && !(*e & want_clear) &&
	       (!want_level || level == want_level);
}

/* The permissions of the kernel image, from its PTEs (no faults taken). */
KTEST(paging_perms, "mm.paging_perms")
{
	KTEST_EXPECT_MSG(pte_is((unsigned long)__text_start, _PAGE_PRESENT, _PAGE_RW | _PAGE_NX, PG_LEVEL_4K),
			 "text is not RX 4 KiB");
	KTEST_EXPECT_MSG(pte_is((unsigned long)__text_end - 1, _PAGE_PRESENT, _PAGE_RW | _PAGE_NX, 0),
			 "end of text is not RX");
	KTEST_EXPECT_MSG(pte_is((unsigned long)__rodata_start, _PAGE_PRESENT | _PAGE_NX, _PAGE_RW, PG_LEVEL_4K),
			 "rodata is not R+NX");
	KTEST_EXPECT_MSG(pte_is((unsigned long)__data_start, _PAGE_PRESENT | _PAGE_RW | _PAGE_NX, 0, PG_LEVEL_4K),
			 "data is not RW+NX");
	KTEST_EXPECT_MSG(pte_is((unsigned long)__bss_end - 1, _PAGE_PRESENT | _PAGE_RW | _PAGE_NX, 0, 0),
			 "bss is not RW+NX");
	KTEST_EXPECT_MSG(pte_is((unsigned long)phys_to_virt(virt_to_phys(__text_start)), _PAGE_PRESENT | _PAGE_NX,
				_PAGE_RW, 0), "direct-map alias of text is writable");
	KTEST_EXPECT_MSG(pte_is((unsigned long)phys_to_virt(0x100000), _PAGE_PRESENT | _PAGE_RW | _PAGE_NX, 0, 0),
			 "direct map is not RW+NX");
	KTEST_EXPECT_MSG(!lookup_address(0x100000, NULL), "the low identity map is still there");
	KTEST_EXPECT_MSG(!lookup_address(0, NULL), "page 0 is mapped");
	KTEST_EXPECT(slow_virt_to_phys((unsigned long)__text_start) == virt_to_phys(__text_start));
}

/* What the AP trampoline will need: both PML4s below 4 GiB, the trampoline
 * page identity-mapped, the kernel half shared. */
KTEST(paging_trampoline, "mm.paging_trampoline")
{
	phys_addr_t tp_phys = trampoline_pml4();

	KTEST_EXPECT(kernel_pml4_phys && kernel_pml4_phys < SZ_4G);
	KTEST_EXPECT_MSG(tp_phys && tp_phys < SZ_4G, "trampoline PML4 at %#llx", (unsigned long long)tp_phys);
	if (!tp_phys)
		return;
	KTEST_EXPECT(trampoline_pml4() == tp_phys);
	const u64 *tp = phys_to_virt(tp_phys), *kp = phys_to_virt(kernel_pml4_phys);
	KTEST_EXPECT(tp[511] == kp[511] && tp[256] == kp[256]);
	KTEST_EXPECT(tp[0] & _PAGE_PRESENT);
	const u64 *pd = phys_to_virt(((const u64 *)phys_to_virt(tp[0] & PTE_ADDR_MASK))[0] & PTE_ADDR_MASK);
	KTEST_EXPECT(trampoline_phys < 0x200000 && (pd[0] & (_PAGE_PRESENT | _PAGE_PSE)) == (_PAGE_PRESENT | _PAGE_PSE));
}

KTEST(paging_boot_guard, "mm.paging_boot_guard")
{
	unsigned long g = (unsigned long)boot_stack_guard;

	KTEST_EXPECT_MSG(!lookup_address(g, NULL), "boot stack guard page is mapped");
	KTEST_EXPECT(addr_is_stack_guard(g) && addr_is_stack_guard(g + PAGE_SIZE - 1));
	KTEST_EXPECT(!addr_is_stack_guard((unsigned long)boot_stack_bottom));
	KTEST_EXPECT(pte_is((unsigned long)boot_stack_bottom, _PAGE_PRESENT | _PAGE_RW, 0, 0));
	KTEST_EXPECT(pte_is(g - 1, _PAGE_PRESENT, 0, 0));   /* bss below the guard is still there */
}

KTEST(kstack, "mm.kstack")
{
	/* A first round may create page tables in STACK_AREA that stay. */
	free_kernel_stack(alloc_kernel_stack());
	u64 free_before = pmm_free_pages();
	u8 *top = alloc_kernel_stack(), *top2 = alloc_kernel_stack();

	KTEST_EXPECT(top && top2 && top != top2);
	if (!top || !top2)
		return;
	unsigned long bottom = (unsigned long)top - KERNEL_STACK_SIZE;
	KTEST_EXPECT((unsigned long)top >= STACK_AREA && IS_ALIGNED((unsigned long)top, PAGE_SIZE));
	KTEST_EXPECT_MSG(!lookup_address(bottom - 1, NULL), "guard page below the stack is mapped");
	KTEST_EXPECT(addr_is_stack_guard(bottom - 1) && addr_is_stack_guard(bottom - PAGE_SIZE));
	KTEST_EXPECT(!addr_is_stack_guard(bottom) && !addr_is_stack_guard((unsigned long)top - 1));
	for (unsigned long va = bottom; va < (unsigned long)top; va += PAGE_SIZE)
		KTEST_EXPECT(pte_is(va, _PAGE_PRESENT | _PAGE_RW | _PAGE_NX, 0, PG_LEVEL_4K));
	memset((void *)bottom, 0x5a, KERNEL_STACK_SIZE);
	KTEST_EXPECT(top[-1] == 0x5a && ((u8 *)bottom)[0] == 0x5a);
	free_kernel_stack(top);
	free_kernel_stack(top2);
	KTEST_EXPECT_MSG(!lookup_address(bottom, NULL), "freed stack still mapped");
	KTEST_EXPECT(!addr_is_stack_guard(bottom - 1));
	KTEST_EXPECT(pmm_free_pages() == free_before);
}

/* The local APIC's registers through ioremap: uncached and readable.
 * Version register at offset 0x30 (SDM Vol. 3A, 11.4.8): bits 0-7 are the
 * version (0x1X for integrated APICs), never all ones. */
KTEST(ioremap_lapic, "mm.ioremap_lapic")
{
	phys_addr_t base = rdmsr(MSR_APIC_BASE) & 0xffffff000ULL;   /* IA32_APIC_BASE[35:12] */
	volatile u32 *lapic = ioremap(base, PAGE_SIZE);

	KTEST_EXPECT_MSG(lapic, "ioremap(%#llx) failed", (unsigned long long)base);
	if (!lapic)
		return;
	u32 ver = lapic[0x30 / 4];
	KTEST_EXPECT_MSG((ver & 0xff) >= 0x10 && ver != 0xffffffff, "LAPIC version %#x", ver);
	KTEST_EXPECT_MSG(pte_is((unsigned long)lapic, _PAGE_PRESENT | _PAGE_PCD | _PAGE_PWT | _PAGE_NX, 0,
				PG_LEVEL_4K), "LAPIC mapping is not UC 4 KiB");
	/* RAM is returned cached, at its direct-map address. */
	void *ram = ioremap(0x100000, PAGE_SIZE);
	KTEST_EXPECT(ram == phys_to_virt(0x100000) && pte_is((unsigned long)ram, _PAGE_PRESENT, _PAGE_PCD, 0));
}

/* RAM above 4 GiB (the mem-6g scenario): the allocator hands it out first,
 * and it is reachable through the direct map. */
KTEST(high_memory, "mm.high_memory")
{
	phys_addr_t top_ram = 0;

	for (unsigned int i = 0; i < boot_info.nr_mem; i++) {
		const struct mem_region *m = &boot_info.mem[i];
		if (m->type == MEM_USABLE && m->base + m->len > top_ram)
			top_ram = m->base + m->len;
	}
	if (top_ram <= SZ_4G)
		return;   /* nothing to test on this machine */

	phys_addr_t p = alloc_page();
	KTEST_EXPECT_MSG(p >= SZ_4G, "first page %#llx is below 4 GiB although RAM reaches %#llx",
			 (unsigned long long)p, (unsigned long long)top_ram);
	if (!p)
		return;
	volatile u64 *w = phys_to_virt(p);
	for (unsigned int i = 0; i < PAGE_SIZE / 8; i++)
		w[i] = p + i;
	for (unsigned int i = 0; i < PAGE_SIZE / 8; i++)
		if (w[i] != p + i) {
			KTEST_EXPECT_MSG(0, "page %#llx word %u reads back wrong", (unsigned long long)p, i);
			break;
		}
	/* And the last page of RAM is mapped. */
	KTEST_EXPECT_MSG(lookup_address((unsigned long)phys_to_virt(top_ram - PAGE_SIZE), NULL),
			 "last RAM page %#llx not in the direct map", (unsigned long long)(top_ram - PAGE_SIZE));
	free_page(p);
}
