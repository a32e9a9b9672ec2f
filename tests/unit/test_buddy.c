// UNIT_SOURCES: mm/buddy.c
/*
 * test_buddy.c — host tests of the buddy allocator (mm/buddy.c).
 *
 * Random alloc/free sequences run against a shadow model (one owner id per
 * frame) and after each step the allocator must agree with it: blocks in the
 * arena, aligned, below the limit, made of frames the model says are free;
 * an allocation fails only if the model has no free aligned block of that
 * order; buddy_check() finds every invariant intact. Then: full coalescing,
 * exhaustion, and every kind of misuse refused without changing the arena.
 */
#include <grace/buddy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		failures++; \
		printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
		printf(__VA_ARGS__); \
		printf("\n"); \
	} \
} while (0)

static u64 rng_state;
static u64 rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* The shadow model: owner[i] = 0 reserved, 1 free, >= 2 block id. */
struct shadow {
	u64 base, n;
	u32 *owner;
};

struct blk { u64 pfn; unsigned int order; u32 id; };

static void check_arena(struct buddy_arena *a, const char *when)
{
	u64 bad;
	const char *why = buddy_check(a, &bad);
	CHECK(why == NULL, "%s: %s at pfn %llu", when, why, (unsigned long long)bad);
}

static u64 shadow_free(const struct shadow *s)
{
	u64 n = 0;
	for (u64 i = 0; i < s->n; i++)
		n += s->owner[i] == 1;
	return n;
}

/* Does the model hold a free, aligned 2^order block wholly below limit? */
static bool shadow_has_block(const struct shadow *s, unsigned int order, u64 limit)
{
	u64 size = 1ULL << order;
	u64 first = (s->base + size - 1) & ~(size - 1);
	for (u64 pfn = first; pfn + size <= s->base + s->n && pfn + size <= limit; pfn += size) {
		bool all = true;
		for (u64 j = 0; j < size && all; j++)
			all = s->owner[pfn - s->base + j] == 1;
		if (all)
			return true;
	}
	return false;
}

/* An arena at an awkward base with reserved holes, then random traffic. */
static void test_random(u64 seed)
{
	const u64 base = 1000 + (seed % 7) * 13, n = 6000 + (seed % 5) * 511;
	struct buddy_page *meta = calloc(n, sizeof(*meta));
	struct shadow s = { base, n, calloc(n, sizeof(u32)) };
	struct blk *live = calloc(n, sizeof(*live));
	size_t nlive = 0;
	u32 next_id = 2;
	struct buddy_arena a;

	rng_state = seed * 0x9e3779b97f4a7c15ULL + 1;
	buddy_init(&a, base, n, meta);
	/* Free everything except a few holes, added in random-sized pieces. */
	for (u64 pfn = base; pfn < base + n; ) {
		u64 len = 1 + rnd() % 700;
		if (pfn + len > base + n)
			len = base + n - pfn;
		if (rnd() % 5 != 0) {
			CHECK(buddy_add_range(&a, pfn, len) == BUDDY_OK, "add_range");
			for (u64 j = 0; j < len; j++)
				s.owner[pfn - base + j] = 1;
		}
		pfn += len;
	}
	check_arena(&a, "after add_range");
	CHECK(a.nr_free == shadow_free(&s), "nr_free %llu vs model %llu",
	      (unsigned long long)a.nr_free, (unsigned long long)shadow_free(&s));
	/* Adding a range twice is refused. */
	for (u64 i = 0; i < n; i++)
		if (s.owner[i] == 1) {
			CHECK(buddy_add_range(&a, base + i, 1) != BUDDY_OK, "re-adding a free frame");
			break;
		}

	for (int step = 0; step < 8000; step++) {
		bool do_alloc = nlive == 0 || rnd() % 100 < 55;
		if (do_alloc) {
			unsigned int order = rnd() % 4 == 0 ? rnd() % (BUDDY_MAX_ORDER + 1) : rnd() % 3;
			u64 limit = rnd() % 4 == 0 ? base + rnd() % (n + 1) : ~0ULL;
			u64 pfn;
			if (buddy_alloc(&a, order, limit, &pfn)) {
				u64 size = 1ULL << order;
				CHECK(pfn >= base && pfn + size <= base + n, "block outside arena");
				CHECK((pfn & (size - 1)) == 0, "block pfn %llu not aligned to order %u",
				      (unsigned long long)pfn, order);
				CHECK(pfn + size <= limit, "block above the limit");
				for (u64 j = 0; j < size; j++) {
					CHECK(s.owner[pfn - base + j] == 1, "frame %llu handed out twice",
					      (unsigned long long)(pfn + j));
					s.owner[pfn - base + j] = next_id;
				}
				u16 owner = 0xffff;
				unsigned int o = 99;
				CHECK(buddy_lookup(&a, pfn, &o, &owner) && o == order && owner == 0, "lookup");
				buddy_set_owner(&a, pfn, (u16)next_id);
				live[nlive++] = (struct blk){ pfn, order, next_id++ };
			} else {
				CHECK(!shadow_has_block(&s, order, limit),
				      "alloc of order %u failed but the model has a free block", order);
			}
		} else {
			size_t k = rnd() % nlive;
			struct blk b = live[k];
			u16 owner;
			CHECK(buddy_lookup(&a, b.pfn, NULL, &owner) && owner == (u16)b.id, "owner kept");
			CHECK(buddy_free(&a, b.pfn, b.order) == BUDDY_OK, "free");
			for (u64 j = 0; j < (1ULL << b.order); j++)
				s.owner[b.pfn - base + j] = 1;
			live[k] = live[--nlive];
			/* A second free of the same block is refused. */
			u64 before = a.nr_free;
			int err = buddy_free(&a, b.pfn, b.order);
			CHECK(err == BUDDY_ERR_DOUBLE_FREE || err == BUDDY_ERR_NOT_ALLOCATED,
			      "double free not detected (%s)", buddy_strerror(err));
			CHECK(a.nr_free == before, "refused free changed the arena");
		}
		if (step % 997 == 0)
			check_arena(&a, "random step");
		CHECK(a.nr_free == shadow_free(&s) || step % 50, "nr_free drifted from the model");
		if (failures > 20)
			break;
	}
	/* Free everything: the arena must coalesce back to what it started as. */
	while (nlive) {
		struct blk b = live[--nlive];
		CHECK(buddy_free(&a, b.pfn, b.order) == BUDDY_OK, "final free");
		for (u64 j = 0; j < (1ULL << b.order); j++)
			s.owner[b.pfn - base + j] = 1;
	}
	check_arena(&a, "after freeing all");
	CHECK(a.nr_free == shadow_free(&s), "nr_free after freeing all");
	free(meta);
	free(s.owner);
	free(live);
}

/* 4096 aligned frames: split to single pages, freed in random order,
 * they must merge back to four order-10 blocks. */
static void test_coalescing(void)
{
	const u64 n = 4096;
	struct buddy_page *meta = calloc(n, sizeof(*meta));
	u64 *pfns = calloc(n, sizeof(u64));
	struct buddy_arena a;

	rng_state = 42;
	buddy_init(&a, 8192, n, meta);
	CHECK(buddy_add_range(&a, 8192, n) == BUDDY_OK, "add");
	CHECK(a.nr_free_blocks[BUDDY_MAX_ORDER] == 4, "4 max blocks at start, got %llu",
	      (unsigned long long)a.nr_free_blocks[BUDDY_MAX_ORDER]);
	u64 got = 0, pfn;
	while (buddy_alloc(&a, 0, ~0ULL, &pfn))
		pfns[got++] = pfn;
	CHECK(got == n, "exhaustion: got %llu of %llu pages", (unsigned long long)got, (unsigned long long)n);
	CHECK(a.nr_free == 0, "nothing free when exhausted");
	CHECK(!buddy_alloc(&a, 0, ~0ULL, &pfn), "alloc after exhaustion fails");
	check_arena(&a, "exhausted");
	for (u64 i = n - 1; i > 0; i--) {        /* shuffle */
		u64 j = rnd() % (i + 1), t = pfns[i];
		pfns[i] = pfns[j];
		pfns[j] = t;
	}
	for (u64 i = 0; i < n; i++)
		CHECK(buddy_free(&a, pfns[i], 0) == BUDDY_OK, "free page");
	check_arena(&a, "refilled");
	CHECK(a.nr_free_blocks[BUDDY_MAX_ORDER] == 4 && a.nr_free == n, "not fully coalesced");
	for (unsigned int k = 0; k < BUDDY_MAX_ORDER; k++)
		CHECK(a.nr_free_blocks[k] == 0, "leftover order-%u blocks", k);
	/* Order too big for the allocator fails cleanly. */
	CHECK(!buddy_alloc(&a, BUDDY_MAX_ORDER + 1, ~0ULL, &pfn), "order 11 alloc");
	/* Limit: nothing lies below the arena start. */
	CHECK(!buddy_alloc(&a, 0, 8192, &pfn), "limit below arena");
	CHECK(buddy_alloc(&a, 0, 8193, &pfn) && pfn == 8192, "limit of one page");
	CHECK(buddy_free(&a, pfn, 0) == BUDDY_OK, "free limited");
	free(meta);
	free(pfns);
}

/* Every misuse is refused with its own error and leaves the arena as it was. */
static void test_misuse(void)
{
	const u64 base = 256, n = 512;
	struct buddy_page *meta = calloc(n, sizeof(*meta));
	struct buddy_arena a;
	u64 p2, p0, tmp;

	buddy_init(&a, base, n, meta);
	CHECK(buddy_add_range(&a, base, 256) == BUDDY_OK, "add");   /* [512, 768) stays reserved */
	CHECK(buddy_alloc(&a, 2, ~0ULL, &p2), "alloc order 2");
	CHECK(buddy_alloc(&a, 0, ~0ULL, &p0), "alloc order 0");
	u64 before = a.nr_free;

	CHECK(buddy_free(&a, p2, 1) == BUDDY_ERR_WRONG_ORDER, "wrong (smaller) order");
	CHECK(buddy_free(&a, p2, 3) == BUDDY_ERR_WRONG_ORDER || buddy_free(&a, p2, 3) == BUDDY_ERR_UNALIGNED,
	      "wrong (bigger) order");
	CHECK(buddy_free(&a, p2 + 1, 0) == BUDDY_ERR_NOT_ALLOCATED, "interior frame");
	CHECK(buddy_free(&a, p2 + 1, 2) == BUDDY_ERR_UNALIGNED, "unaligned");
	CHECK(buddy_free(&a, base + 300, 0) == BUDDY_ERR_NOT_ALLOCATED, "reserved frame");
	CHECK(buddy_free(&a, base + n, 0) == BUDDY_ERR_RANGE, "past the end");
	CHECK(buddy_free(&a, base - 1, 0) == BUDDY_ERR_RANGE, "before the start");
	CHECK(buddy_free(&a, p0, BUDDY_MAX_ORDER + 1) == BUDDY_ERR_ORDER, "order too big");
	CHECK(!buddy_lookup(&a, p2 + 1, NULL, NULL), "lookup of an interior frame");
	CHECK(!buddy_set_owner(&a, base + 300, 7), "owner on a reserved frame");
	CHECK(a.nr_free == before, "misuse changed nr_free");
	check_arena(&a, "after misuse");

	/* A never-allocated free frame: find one (any free head). */
	for (unsigned int k = 0; k <= BUDDY_MAX_ORDER; k++)
		if (a.free_head[k] != BUDDY_NIL) {
			u64 pfn = base + a.free_head[k];
			CHECK(buddy_free(&a, pfn, k) == BUDDY_ERR_DOUBLE_FREE, "free of a free block");
			break;
		}
	CHECK(buddy_free(&a, p0, 0) == BUDDY_OK, "free p0");
	CHECK(buddy_free(&a, p2, 2) == BUDDY_OK, "free p2");
	CHECK(a.nr_free == 256, "all back");
	CHECK(buddy_alloc(&a, 8, ~0ULL, &tmp) && tmp == base + 0, "whole range merged into order 8");
	check_arena(&a, "end of misuse");
	free(meta);
}

int main(void)
{
	test_coalescing();
	test_misuse();
	for (u64 seed = 1; seed <= 10; seed++)
		test_random(seed);
	if (failures) {
		printf("test_buddy: %d failure(s)\n", failures);
		return 1;
	}
	printf("test_buddy: all passed\n");
	return 0;
}
