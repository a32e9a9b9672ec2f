/*
 * buddy.c — the binary buddy allocator (Knowlton 1965; the algorithm of
 * Linux's mm/page_alloc.c without zones or per-CPU lists).
 *
 * Allocation of order k: take a block from the smallest non-empty free list
 * of order j >= k; while j > k, split it: keep the lower half, put the upper
 * half (order j-1) on its free list. Freeing order k: while the buddy
 * (pfn ^ 2^k) is a FREE head of the same order, take it off its list and
 * merge; put the result on its list. Both are O(BUDDY_MAX_ORDER).
 *
 *        order 2:  [ A . . . ]              a free block of 4 frames
 *   alloc order 0: [ a | B ][ C . ]         a taken; B (order 0) and C
 *                                           (order 1) go on their lists
 *   free a:        a+B merge to order 1, which merges with C: [ A . . . ]
 *
 * State of each frame and the invariants: see include/grace/buddy.h. Frames
 * are named by index (pfn - base_pfn) inside the arena, so the metadata is
 * 12 bytes per frame and the links fit in 32 bits.
 *
 * Not locked: the caller (mm/pmm.c) serializes. Tested on the host by
 * tests/unit/test_buddy.c (random sequences against a shadow model, misuse)
 * and in the kernel by the mm.pmm_* ktests.
 */
#include <grace/buddy.h>

static struct buddy_page *frame(struct buddy_arena *a, u64 idx) { return &a->pages[idx]; }

static void list_push(struct buddy_arena *a, u32 idx, unsigned int order)
{
	struct buddy_page *p = frame(a, idx);
	u32 head = a->free_head[order];

	p->state = BUDDY_FREE;
	p->order = order;
	p->owner = 0;
	p->prev = BUDDY_NIL;
	p->next = head;
	if (head != BUDDY_NIL)
		frame(a, head)->prev = idx;
	a->free_head[order] = idx;
	a->nr_free_blocks[order]++;
	a->nr_free += 1ULL << order;
}

/* Take a FREE head off its list; the caller gives it its new state. */
static void list_remove(struct buddy_arena *a, u32 idx)
{
	struct buddy_page *p = frame(a, idx);
	unsigned int order = p->order;

	if (p->prev != BUDDY_NIL)
		frame(a, p->prev)->next = p->next;
	else
		a->free_head[order] = p->next;
	if (p->next != BUDDY_NIL)
		frame(a, p->next)->prev = p->prev;
	p->next = p->prev = BUDDY_NIL;
	a->nr_free_blocks[order]--;
	a->nr_free -= 1ULL << order;
}

void buddy_init(struct buddy_arena *a, u64 base_pfn, u64 nr_pages, struct buddy_page *meta)
{
	a->base_pfn = base_pfn;
	a->nr_pages = nr_pages;
	a->pages = meta;
	a->nr_free = 0;
	for (unsigned int k = 0; k <= BUDDY_MAX_ORDER; k++) {
		a->free_head[k] = BUDDY_NIL;
		a->nr_free_blocks[k] = 0;
	}
	for (u64 i = 0; i < nr_pages; i++)
		meta[i] = (struct buddy_page){ BUDDY_NIL, BUDDY_NIL, 0, BUDDY_RESERVED, 0 };
}

/* Is the block [pfn, pfn + 2^order) inside the arena? */
static bool block_in_arena(const struct buddy_arena *a, u64 pfn, unsigned int order)
{
	return pfn >= a->base_pfn && pfn - a->base_pfn + (1ULL << order) <= a->nr_pages;
}

/*
 * Merge the block at idx (already in state INSIDE, not on a list) with its
 * free buddies and put the result on its free list.
 */
static void free_and_merge(struct buddy_arena *a, u64 pfn, unsigned int order)
{
	while (order < BUDDY_MAX_ORDER) {
		u64 buddy = pfn ^ (1ULL << order);

		if (!block_in_arena(a, buddy, order))
			break;
		struct buddy_page *b = frame(a, buddy - a->base_pfn);
		if (b->state != BUDDY_FREE || b->order != order)
			break;
		list_remove(a, (u32)(buddy - a->base_pfn));
		b->state = BUDDY_INSIDE;   /* the merged block's head is the lower one */
		if (buddy < pfn)
			pfn = buddy;
		order++;
	}
	list_push(a, (u32)(pfn - a->base_pfn), order);
}

int buddy_add_range(struct buddy_arena *a, u64 pfn, u64 n)
{
	if (n == 0)
		return BUDDY_OK;
	if (pfn < a->base_pfn || pfn - a->base_pfn > a->nr_pages || n > a->nr_pages - (pfn - a->base_pfn))
		return BUDDY_ERR_RANGE;
	for (u64 i = 0; i < n; i++)
		if (frame(a, pfn - a->base_pfn + i)->state != BUDDY_RESERVED)
			return BUDDY_ERR_DOUBLE_FREE;
	for (u64 i = 0; i < n; i++)
		frame(a, pfn - a->base_pfn + i)->state = BUDDY_INSIDE;
	/* Largest aligned blocks first; each then merges with what is already free. */
	u64 end = pfn + n;
	while (pfn < end) {
		unsigned int order = 0;
		while (order < BUDDY_MAX_ORDER && (pfn & ((2ULL << order) - 1)) == 0 &&
		       pfn + (2ULL << order) <= end)
			order++;
		free_and_merge(a, pfn, order);
		pfn += 1ULL << order;
	}
	return BUDDY_OK;
}

/* The first block on list[order] lying wholly below limit_pfn, or BUDDY_NIL. */
static u32 find_below(struct buddy_arena *a, unsigned int order, unsigned int want, u64 limit_pfn)
{
	for (u32 idx = a->free_head[order]; idx != BUDDY_NIL; idx = frame(a, idx)->next)
		/* We hand out the lowest 2^want frames of this block. */
		if (a->base_pfn + idx + (1ULL << want) <= limit_pfn)
			return idx;
	return BUDDY_NIL;
}

bool buddy_alloc(struct buddy_arena *a, unsigned int order, u64 limit_pfn, u64 *pfn)
{
	if (order > BUDDY_MAX_ORDER)
		return false;
	for (unsigned int j = order; j <= BUDDY_MAX_ORDER; j++) {
		u32 idx = find_below(a, j, order, limit_pfn);
		if (idx == BUDDY_NIL)
			continue;
		list_remove(a, idx);
		frame(a, idx)->state = BUDDY_INSIDE;
		while (j > order) {       /* split: the upper half goes back */
			j--;
			list_push(a, idx + (1u << j), j);
		}
		struct buddy_page *p = frame(a, idx);
		p->state = BUDDY_ALLOCATED;
		p->order = order;
		p->owner = 0;
		*pfn = a->base_pfn + idx;
		return true;
	}
	return false;
}

int buddy_free(struct buddy_arena *a, u64 pfn, unsigned int order)
{
	if (order > BUDDY_MAX_ORDER)
		return BUDDY_ERR_ORDER;
	if (!buddy_contains(a, pfn))
		return BUDDY_ERR_RANGE;
	if (pfn & ((1ULL << order) - 1))
		return BUDDY_ERR_UNALIGNED;
	struct buddy_page *p = frame(a, pfn - a->base_pfn);
	switch (p->state) {
	case BUDDY_FREE:
		return BUDDY_ERR_DOUBLE_FREE;
	case BUDDY_ALLOCATED:
		break;
	default:
		return BUDDY_ERR_NOT_ALLOCATED;
	}
	if (p->order != order)
		return BUDDY_ERR_WRONG_ORDER;
	p->state = BUDDY_INSIDE;
	p->owner = 0;
	free_and_merge(a, pfn, order);
	return BUDDY_OK;
}

bool buddy_lookup(const struct buddy_arena *a, u64 pfn, unsigned int *order, u16 *owner)
{
	if (!buddy_contains(a, pfn))
		return false;
	const struct buddy_page *p = &a->pages[pfn - a->base_pfn];
	if (p->state != BUDDY_ALLOCATED)
		return false;
	if (order)
		*order = p->order;
	if (owner)
		*owner = p->owner;
	return true;
}

bool buddy_set_owner(struct buddy_arena *a, u64 pfn, u16 owner)
{
	if (!buddy_contains(a, pfn) || a->pages[pfn - a->base_pfn].state != BUDDY_ALLOCATED)
		return false;
	a->pages[pfn - a->base_pfn].owner = owner;
	return true;
}

const char *buddy_strerror(int err)
{
	switch (err) {
	case BUDDY_OK: return "ok";
	case BUDDY_ERR_RANGE: return "not a page of the allocator";
	case BUDDY_ERR_ORDER: return "order too large";
	case BUDDY_ERR_UNALIGNED: return "address not aligned to the order";
	case BUDDY_ERR_NOT_ALLOCATED: return "page was never allocated (reserved or inside a block)";
	case BUDDY_ERR_DOUBLE_FREE: return "double free";
	case BUDDY_ERR_WRONG_ORDER: return "freed with a different order than allocated";
	}
	return "unknown error";
}

const char *buddy_check(const struct buddy_arena *a, u64 *bad_pfn)
{
	u64 free_frames = 0;

	*bad_pfn = 0;
	/* Walk each list: heads of the right order, links consistent, counted. */
	for (unsigned int k = 0; k <= BUDDY_MAX_ORDER; k++) {
		u64 n = 0;
		u32 prev = BUDDY_NIL;
		for (u32 idx = a->free_head[k]; idx != BUDDY_NIL; idx = a->pages[idx].next) {
			const struct buddy_page *p = &a->pages[idx];
			*bad_pfn = a->base_pfn + idx;
			if (idx >= a->nr_pages)
				return "free-list link outside the arena";
			if (p->state != BUDDY_FREE || p->order != k)
				return "block on a free list is not a free head of that order";
			if (p->prev != prev)
				return "free-list back link broken";
			if (!block_in_arena(a, a->base_pfn + idx, k) || ((a->base_pfn + idx) & ((1ULL << k) - 1)))
				return "free block misaligned or past the arena end";
			if (++n > a->nr_pages)
				return "free list has a cycle";
			prev = idx;
		}
		if (n != a->nr_free_blocks[k])
			return "per-order free-block count wrong";
		free_frames += n << k;
	}
	if (free_frames != a->nr_free)
		return "nr_free disagrees with the free lists";
	/* Walk the frames: each block's interior is INSIDE, free buddies merged. */
	u64 heads_free = 0;
	for (u64 i = 0; i < a->nr_pages; ) {
		const struct buddy_page *p = &a->pages[i];
		u64 pfn = a->base_pfn + i;
		*bad_pfn = pfn;
		if (p->state == BUDDY_RESERVED) {
			i++;
			continue;
		}
		if (p->state == BUDDY_INSIDE)
			return "INSIDE frame outside any block";
		u64 size = 1ULL << p->order;
		if (p->order > BUDDY_MAX_ORDER || size > a->nr_pages - i)
			return "block runs past the arena end";
		for (u64 j = 1; j < size; j++)
			if (a->pages[i + j].state != BUDDY_INSIDE) {
				*bad_pfn = pfn + j;
				return "frame inside a block is not INSIDE";
			}
		if (p->state == BUDDY_FREE) {
			heads_free++;
			u64 buddy = pfn ^ size;
			if (p->order < BUDDY_MAX_ORDER && block_in_arena(a, buddy, p->order)) {
				const struct buddy_page *b = &a->pages[buddy - a->base_pfn];
				if (b->state == BUDDY_FREE && b->order == p->order)
					return "two free buddies not merged";
			}
		}
		i += size;
	}
	u64 listed = 0;
	for (unsigned int k = 0; k <= BUDDY_MAX_ORDER; k++)
		listed += a->nr_free_blocks[k];
	if (heads_free != listed)
		return "a free head is not on any list";
	return NULL;
}
