/*
 * pmm.c — the physical page allocator: the firmware memory map turned into
 * buddy arenas (mm/buddy.c), plus the one page the AP trampoline needs.
 *
 * At pmm_init() (boot CPU, before paging_init, boot page tables: physical
 * 0..4 GiB visible at PHYS_OFFSET):
 *   1. RAM = the MEM_USABLE regions, shrunk to whole pages, sorted, merged,
 *      minus anything another region says is not usable (firmware maps may
 *      overlap; "not usable" wins).
 *   2. trampoline_phys = the highest RAM page in [4 KiB, 1 MiB) not holding
 *      the multiboot2 info (as Linux's top-down memblock does); 0 if none.
 *   3. Reserved, never handed out: all of the first 1 MiB (BIOS data, EBDA,
 *      the trampoline page), the kernel image including .boot, the multiboot2
 *      info, and the buddy metadata itself.
 *   4. One arena per RAM range at or above 1 MiB. The metadata (12 bytes per
 *      page) is placed in RAM below 4 GiB, where the boot map reaches it.
 *   5. Each arena's frames minus the reservations are added to the buddy.
 *
 * Counters: total = RAM pages in the map; reserved = RAM pages kept out of
 * the allocator by step 3; free = pages in the buddy free lists now.
 * total - reserved - free = pages allocated.
 *
 * Policy: allocations come from the highest arena that can serve them (as
 * Linux prefers ZONE_NORMAL over DMA32), which keeps low memory for those
 * who need it: alloc_pages_below() serves the page tables paging_init() must
 * write through the boot map, and future 32-bit DMA.
 *
 * Misuse of free_pages() (double free, never-allocated page, wrong order)
 * is detected from the buddy state in every build, since the state exists
 * anyway: it prints a WARNING with a backtrace and the free is ignored.
 *
 * Tests: tests/unit/test_buddy.c (the algorithm), ktests mm.pmm_* (this
 * glue), scenarios mem-64m and mem-6g.
 */
#include <grace/bootinfo.h>
#include <grace/buddy.h>
#include <grace/mm.h>
#include <grace/panic.h>
#include <grace/printk.h>
#include <grace/spinlock.h>
#include <grace/string.h>

#define LOW_MEMORY_END  0x100000ULL       /* 1 MiB: real-mode addressable memory */
#define BOOT_MAP_END    0x100000000ULL    /* the boot page tables map 0..4 GiB */
#define PMM_MAX_RANGES  (BOOT_MAX_MEM_REGIONS + 16)
#define PMM_MAX_ARENAS  32
#define PMM_MAX_RESV    8

struct range { u64 start, end; };         /* [start, end), bytes */

phys_addr_t trampoline_phys;

static struct range ram[PMM_MAX_RANGES];
static unsigned int nr_ram;
static struct range resv[PMM_MAX_RESV];
static unsigned int nr_resv;
static struct buddy_arena arenas[PMM_MAX_ARENAS];
static unsigned int nr_arenas;
static u64 total_pages, reserved_pages;
static phys_addr_t meta_phys;
static u64 meta_size;
static bool pmm_ready;
static DEFINE_SPINLOCK(pmm_lock);

/* ---- range lists ------------------------------------------------------ */

static void range_insert(struct range *list, unsigned int *n, unsigned int max, u64 s, u64 e)
{
	if (e <= s)
		return;
	if (*n == max) {
		printk("pmm: too many memory ranges; ignoring [%#llx-%#llx)\n",
		       (unsigned long long)s, (unsigned long long)e);
		return;
	}
	unsigned int i = *n;
	while (i > 0 && list[i - 1].start > s) {     /* keep sorted by start */
		list[i] = list[i - 1];
		i--;
	}
	list[i] = (struct range){ s, e };
	(*n)++;
}

static void range_merge(struct range *list, unsigned int *n)
{
	unsigned int out = 0;
	for (unsigned int i = 0; i < *n; i++) {
		if (out && list[i].start <= list[out - 1].end) {
			if (list[i].end > list[out - 1].end)
				list[out - 1].end = list[i].end;
		} else {
			list[out++] = list[i];
		}
	}
	*n = out;
}

/* Remove [s, e) from a sorted, merged list (may split one range in two). */
static void range_subtract(struct range *list, unsigned int *n, unsigned int max, u64 s, u64 e)
{
	for (unsigned int i = 0; i < *n; i++) {
		struct range r = list[i];
		if (e <= r.start || s >= r.end)
			continue;
		if (s > r.start && e < r.end) {          /* a hole in the middle */
			list[i].end = s;
			range_insert(list, n, max, e, r.end);
			return;
		}
		if (s <= r.start && e >= r.end) {        /* swallowed whole */
			for (unsigned int j = i; j + 1 < *n; j++)
				list[j] = list[j + 1];
			(*n)--;
			i--;
			continue;
		}
		if (s <= r.start)
			list[i].start = e;
		else
			list[i].end = s;
	}
}

static bool overlaps_resv(u64 s, u64 e, u64 *past)
{
	for (unsigned int i = 0; i < nr_resv; i++)
		if (s < resv[i].end && e > resv[i].start) {
			*past = resv[i].end;
			return true;
		}
	return false;
}

static void reserve(u64 s, u64 e)
{
	BUG_ON(nr_resv == PMM_MAX_RESV);
	resv[nr_resv++] = (struct range){ ALIGN_DOWN(s, PAGE_SIZE), ALIGN_UP(e, PAGE_SIZE) };
}

/* ---- boot-time setup -------------------------------------------------- */

static void collect_ram(void)
{
	const struct boot_info *bi = &boot_info;

	for (unsigned int i = 0; i < bi->nr_mem; i++) {
		const struct mem_region *m = &bi->mem[i];
		u64 end = m->base + m->len < m->base ? ~0ULL : m->base + m->len;
		if (m->type == MEM_USABLE)
			range_insert(ram, &nr_ram, PMM_MAX_RANGES,
				     ALIGN_UP(m->base, PAGE_SIZE), ALIGN_DOWN(end, PAGE_SIZE));
	}
	range_merge(ram, &nr_ram);
	for (unsigned int i = 0; i < bi->nr_mem; i++) {
		const struct mem_region *m = &bi->mem[i];
		u64 end = m->base + m->len < m->base ? ~0ULL : m->base + m->len;
		if (m->type != MEM_USABLE)
			range_subtract(ram, &nr_ram, PMM_MAX_RANGES,
				       ALIGN_DOWN(m->base, PAGE_SIZE), ALIGN_UP(end, PAGE_SIZE));
	}
	for (unsigned int i = 0; i < nr_ram; i++)
		total_pages += (ram[i].end - ram[i].start) >> PAGE_SHIFT;
}

/*
 * The AP trampoline page: real-mode code the SIPI starts at vector << 12,
 * so it must lie below 1 MiB (Intel SDM Vol. 3A, 9.4.4.1 "Typical BSP
 * Initialization Sequence" / MP spec B.4). Page 0 is skipped: under BIOS it
 * holds the real-mode IVT and BIOS data area.
 */
static void pick_trampoline(void)
{
	u64 mbi_s = boot_info.mbi_phys, mbi_e = boot_info.mbi_phys + boot_info.mbi_size;

	for (unsigned int i = nr_ram; i-- > 0; ) {
		u64 lo = MAX(ram[i].start, (u64)PAGE_SIZE);
		u64 hi = MIN(ram[i].end, LOW_MEMORY_END);
		for (u64 p = hi; p >= lo + PAGE_SIZE; p -= PAGE_SIZE) {
			u64 page = p - PAGE_SIZE;
			if (page < mbi_e && page + PAGE_SIZE > mbi_s)
				continue;
			trampoline_phys = page;
			return;
		}
	}
	trampoline_phys = 0;
	printk("pmm: no usable page below 1 MiB for the AP trampoline; "
	       "secondary CPUs cannot be started (trampoline_phys = 0)\n");
}

/* Room for `size` bytes of metadata in RAM in [1 MiB, 4 GiB), clear of the reservations. */
static phys_addr_t place_metadata(u64 size)
{
	for (unsigned int i = 0; i < nr_ram; i++) {
		u64 lo = MAX(ram[i].start, LOW_MEMORY_END);
		u64 hi = MIN(ram[i].end, BOOT_MAP_END);
		u64 p = lo, past;
		while (p + size <= hi && p + size > p) {
			if (!overlaps_resv(p, p + size, &past))
				return p;
			p = past;
		}
	}
	return 0;
}

void pmm_init(void)
{
	collect_ram();
	pick_trampoline();

	reserve(0, LOW_MEMORY_END);
	reserve((u64)__kernel_phys_start, (u64)__kernel_phys_end);
	if (boot_info.mbi_size)
		reserve(boot_info.mbi_phys, boot_info.mbi_phys + boot_info.mbi_size);

	/* Arenas: the RAM ranges above 1 MiB. */
	u64 managed = 0;
	for (unsigned int i = 0; i < nr_ram; i++) {
		u64 s = MAX(ram[i].start, LOW_MEMORY_END), e = ram[i].end;
		if (e <= s)
			continue;
		if (nr_arenas == PMM_MAX_ARENAS) {
			printk("pmm: more than %d RAM ranges; [%#llx-%#llx) not used\n", PMM_MAX_ARENAS,
			       (unsigned long long)s, (unsigned long long)e);
			continue;
		}
		arenas[nr_arenas].base_pfn = s >> PAGE_SHIFT;
		arenas[nr_arenas].nr_pages = (e - s) >> PAGE_SHIFT;
		managed += arenas[nr_arenas].nr_pages;
		nr_arenas++;
	}
	if (!nr_arenas)
		panic("pmm: no usable RAM above 1 MiB in the memory map");

	meta_size = ALIGN_UP(managed * sizeof(struct buddy_page), PAGE_SIZE);
	meta_phys = place_metadata(meta_size);
	if (!meta_phys)
		panic("pmm: no room below 4 GiB for %llu KiB of page metadata",
		      (unsigned long long)(meta_size >> 10));
	reserve(meta_phys, meta_phys + meta_size);

	struct buddy_page *meta = phys_to_virt(meta_phys);
	u64 nr_free = 0;
	for (unsigned int i = 0; i < nr_arenas; i++) {
		struct buddy_arena *a = &arenas[i];
		u64 s = a->base_pfn << PAGE_SHIFT, e = (a->base_pfn + a->nr_pages) << PAGE_SHIFT;
		struct range pieces[PMM_MAX_RESV + 2] = { { s, e } };
		unsigned int n = 1;

		buddy_init(a, a->base_pfn, a->nr_pages, meta);
		meta += a->nr_pages;
		for (unsigned int j = 0; j < nr_resv; j++)
			range_subtract(pieces, &n, ARRAY_SIZE(pieces), resv[j].start, resv[j].end);
		for (unsigned int j = 0; j < n; j++)
			BUG_ON(buddy_add_range(a, pieces[j].start >> PAGE_SHIFT,
					       (pieces[j].end - pieces[j].start) >> PAGE_SHIFT) != BUDDY_OK);
		nr_free += a->nr_free;
	}
	reserved_pages = total_pages - nr_free;
	pmm_ready = true;
	printk("pmm: %llu pages of RAM in %u ranges, %llu free, %llu reserved; "
	       "metadata %llu KiB at %#llx; trampoline page %#llx\n",
	       (unsigned long long)total_pages, nr_ram, (unsigned long long)nr_free,
	       (unsigned long long)reserved_pages, (unsigned long long)(meta_size >> 10),
	       (unsigned long long)meta_phys, (unsigned long long)trampoline_phys);
}

/* ---- allocation ------------------------------------------------------- */

phys_addr_t alloc_pages_below(unsigned int order, phys_addr_t limit)
{
	unsigned long flags;
	u64 pfn = 0;
	bool ok = false;

	if (order > BUDDY_MAX_ORDER || !pmm_ready)
		return 0;
	spin_lock_irqsave(&pmm_lock, flags);
	/* Highest arena first: see "Policy" above. */
	for (unsigned int i = nr_arenas; i-- > 0 && !ok; )
		if ((arenas[i].base_pfn << PAGE_SHIFT) < limit)
			ok = buddy_alloc(&arenas[i], order, limit >> PAGE_SHIFT, &pfn);
	spin_unlock_irqrestore(&pmm_lock, flags);
	return ok ? pfn << PAGE_SHIFT : 0;
}

phys_addr_t alloc_pages(unsigned int order)
{
	return alloc_pages_below(order, ~0ULL);
}

static struct buddy_arena *arena_of(phys_addr_t p)
{
	for (unsigned int i = 0; i < nr_arenas; i++)
		if (buddy_contains(&arenas[i], p >> PAGE_SHIFT))
			return &arenas[i];
	return NULL;
}

void free_pages(phys_addr_t p, unsigned int order)
{
	unsigned long flags;
	int err;

	spin_lock_irqsave(&pmm_lock, flags);
	struct buddy_arena *a = arena_of(p);
	if (!a)
		err = BUDDY_ERR_RANGE;
	else if (p & (PAGE_SIZE - 1))
		err = BUDDY_ERR_UNALIGNED;
	else
		err = buddy_free(a, p >> PAGE_SHIFT, order);
	spin_unlock_irqrestore(&pmm_lock, flags);
	if (err != BUDDY_OK) {
		printk("pmm: free_pages(%#llx, order %u) refused: %s\n",
		       (unsigned long long)p, order, buddy_strerror(err));
		__warn(__FILE__, __LINE__, "free_pages misuse");
	}
}

bool pmm_lookup(phys_addr_t p, unsigned int *order, u16 *owner)
{
	unsigned long flags;
	bool ok = false;

	spin_lock_irqsave(&pmm_lock, flags);
	struct buddy_arena *a = arena_of(p);
	if (a && !(p & (PAGE_SIZE - 1)))
		ok = buddy_lookup(a, p >> PAGE_SHIFT, order, owner);
	spin_unlock_irqrestore(&pmm_lock, flags);
	return ok;
}

void pmm_set_owner(phys_addr_t p, u16 owner)
{
	unsigned long flags;

	spin_lock_irqsave(&pmm_lock, flags);
	struct buddy_arena *a = arena_of(p);
	bool ok = a && buddy_set_owner(a, p >> PAGE_SHIFT, owner);
	spin_unlock_irqrestore(&pmm_lock, flags);
	WARN_ON(!ok);
}

/* ---- counters and reports --------------------------------------------- */

u64 pmm_total_pages(void) { return total_pages; }
u64 pmm_reserved_pages(void) { return reserved_pages; }

u64 pmm_free_pages(void)
{
	u64 n = 0;
	for (unsigned int i = 0; i < nr_arenas; i++)
		n += READ_ONCE(arenas[i].nr_free);
	return n;
}

bool pmm_check(char *why, size_t len)
{
	unsigned long flags;
	const char *err = NULL;
	u64 bad = 0;

	spin_lock_irqsave(&pmm_lock, flags);
	for (unsigned int i = 0; i < nr_arenas && !err; i++)
		err = buddy_check(&arenas[i], &bad);
	spin_unlock_irqrestore(&pmm_lock, flags);
	if (err)
		snprintf(why, len, "%s (page %#llx)", err, (unsigned long long)(bad << PAGE_SHIFT));
	return !err;
}

void pmm_print(void)
{
	printk("pages: %llu total, %llu free, %llu reserved, %llu allocated\n",
	       (unsigned long long)total_pages, (unsigned long long)pmm_free_pages(),
	       (unsigned long long)reserved_pages,
	       (unsigned long long)(total_pages - reserved_pages - pmm_free_pages()));
	printk("trampoline page: %#llx%s\n", (unsigned long long)trampoline_phys,
	       trampoline_phys ? "" : " (none: APs cannot start)");
	printk("page metadata: %llu KiB at %#llx\n", (unsigned long long)(meta_size >> 10),
	       (unsigned long long)meta_phys);
	for (unsigned int i = 0; i < nr_arenas; i++) {
		const struct buddy_arena *a = &arenas[i];
		char line[160];
		int n = 0;
		for (unsigned int k = 0; k <= BUDDY_MAX_ORDER; k++)
			n += snprintf(line + n, sizeof(line) - n, " %llu",
				      (unsigned long long)READ_ONCE(a->nr_free_blocks[k]));
		printk("arena %u: [%#llx-%#llx) %llu pages, %llu free; free blocks by order 0..%d:%s\n",
		       i, (unsigned long long)(a->base_pfn << PAGE_SHIFT),
		       (unsigned long long)((a->base_pfn + a->nr_pages) << PAGE_SHIFT),
		       (unsigned long long)a->nr_pages, (unsigned long long)READ_ONCE(a->nr_free),
		       BUDDY_MAX_ORDER, line);
	}
}
