/*
 * buddy.h — the binary buddy allocator over one arena of page frames.
 *
 * Pure logic: an arena is a run of page frame numbers plus a metadata array
 * (one struct buddy_page per frame) that the caller provides. Nothing here
 * touches the frames themselves, so the same code runs in the kernel
 * (mm/pmm.c) and on the host (tests/unit/test_buddy.c).
 *
 * A block of order k is 2^k frames whose first pfn is a multiple of 2^k (in
 * absolute pfns, so an order-9 block is a 2 MiB-aligned 2 MiB of memory).
 * Its buddy is the block at pfn ^ 2^k; the two merge into one block of order
 * k+1 when both are free. Per-frame state:
 *
 *   RESERVED   never handed to the allocator (a hole, the kernel, ...)
 *   FREE       first frame of a free block; `order` = its order; on list[order]
 *   ALLOCATED  first frame of an allocated block; `order` = its order
 *   INSIDE     any other frame of a free or allocated block
 *
 * Invariants (buddy_check() verifies all of them):
 *   - every FREE head is on exactly the free list of its order, and nothing
 *     else is on any list;
 *   - no two free buddies of the same order exist (they would have merged);
 *   - nr_free == sum over free blocks of 2^order.
 * Misuse of buddy_free() (double free, wrong order, a frame that is not the
 * head of an allocated block) is detected from the state and refused.
 */
#ifndef GRACE_BUDDY_H
#define GRACE_BUDDY_H

#include <grace/types.h>

#define BUDDY_MAX_ORDER 10           /* largest block: 2^10 pages = 4 MiB */
#define BUDDY_NIL       0xffffffffu  /* end of a free list */

enum buddy_state {
	BUDDY_RESERVED = 0,  /* zeroed metadata means "not ours" */
	BUDDY_FREE,
	BUDDY_ALLOCATED,
	BUDDY_INSIDE,
};

/* 12 bytes per 4 KiB frame (0.3%). */
struct buddy_page {
	u32 next, prev;  /* free-list links: frame indices within the arena */
	u8 order;        /* FREE / ALLOCATED heads: the block's order */
	u8 state;        /* enum buddy_state */
	u16 owner;       /* ALLOCATED heads: a label for the user (0 = none) */
};

struct buddy_arena {
	u64 base_pfn;
	u64 nr_pages;
	struct buddy_page *pages;             /* nr_pages entries */
	u32 free_head[BUDDY_MAX_ORDER + 1];   /* frame index or BUDDY_NIL */
	u64 nr_free_blocks[BUDDY_MAX_ORDER + 1];
	u64 nr_free;                          /* free frames */
};

enum buddy_error {
	BUDDY_OK = 0,
	BUDDY_ERR_RANGE,          /* the block is not inside the arena */
	BUDDY_ERR_ORDER,          /* order > BUDDY_MAX_ORDER */
	BUDDY_ERR_UNALIGNED,      /* pfn is not a multiple of 2^order */
	BUDDY_ERR_NOT_ALLOCATED,  /* reserved frame, or inside a block */
	BUDDY_ERR_DOUBLE_FREE,    /* the head of a block that is already free */
	BUDDY_ERR_WRONG_ORDER,    /* allocated with another order */
};

/* All frames start RESERVED; `meta` must hold nr_pages entries. */
void buddy_init(struct buddy_arena *a, u64 base_pfn, u64 nr_pages, struct buddy_page *meta);
/* Give the RESERVED frames [pfn, pfn+n) to the allocator (coalescing). */
int buddy_add_range(struct buddy_arena *a, u64 pfn, u64 n);
/* Allocate 2^order frames lying wholly below limit_pfn (use ~0 for no limit);
 * returns true and the first pfn, or false when no such block is free. */
bool buddy_alloc(struct buddy_arena *a, unsigned int order, u64 limit_pfn, u64 *pfn);
/* Free a block; returns BUDDY_OK or the misuse found (the arena is unchanged then). */
int buddy_free(struct buddy_arena *a, u64 pfn, unsigned int order);
/* The allocated block whose head is pfn: its order and owner; false if pfn
 * is not the head of an allocated block. */
bool buddy_lookup(const struct buddy_arena *a, u64 pfn, unsigned int *order, u16 *owner);
bool buddy_set_owner(struct buddy_arena *a, u64 pfn, u16 owner);
static inline bool buddy_contains(const struct buddy_arena *a, u64 pfn)
{
	return pfn >= a->base_pfn && pfn - a->base_pfn < a->nr_pages;
}
const char *buddy_strerror(int err);
/* Verify every invariant above: NULL if all hold, else the first violation
 * found (and the frame concerned in *bad_pfn). O(nr_pages): for tests. */
const char *buddy_check(const struct buddy_arena *a, u64 *bad_pfn);

#endif
