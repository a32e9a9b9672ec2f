/*
 * kmalloc.c — the kernel heap: power-of-two size classes carved from pages.
 *
 * Requests up to 2048 bytes are rounded up to a class (16, 32, ..., 2048).
 * A class keeps a LIFO free list of objects threaded through their first
 * 8 bytes; when it runs dry, one page is taken from the page allocator and
 * cut into PAGE_SIZE / size objects. Since every class size divides the page
 * size, an object is aligned to its size. Pages, once carved, stay with
 * their class (no shrinking: a teaching simplification; the statistics show
 * what that costs). Bigger requests take 2^order whole pages straight from
 * the page allocator.
 *
 * kfree() needs no header: the page allocator's metadata labels each page
 * (pmm_set_owner): OWNER_SLAB(c) for a page of class c objects, OWNER_LARGE
 * for a big block. So kfree finds the class (or the order) from the page,
 * and refuses pointers that are not the start of a live kmalloc object.
 *
 * Invariants: an object is on its class's free list iff it is free; per
 * class, inuse + free == pages * (PAGE_SIZE / size). Protected by
 * kmalloc_lock (irqsave: usable from interrupt handlers); the lock order is
 * kmalloc_lock -> pmm_lock.
 *
 * CONFIG_DEBUG: freed objects are filled with 0x6b past the link word;
 * kmalloc checks the poison is intact (a write after free) and kfree of an
 * object that looks poisoned is checked against the free list (double free).
 *
 * Tests: ktests mm.kmalloc_*.
 */
#include <grace/buddy.h>
#include <grace/mm.h>
#include <grace/panic.h>
#include <grace/printk.h>
#include <grace/spinlock.h>
#include <grace/string.h>

#define KMALLOC_MIN_SHIFT 4                    /* 16 bytes */
#define KMALLOC_MAX_SHIFT 11                   /* 2048 bytes */
#define NR_CLASSES        (KMALLOC_MAX_SHIFT - KMALLOC_MIN_SHIFT + 1)
#define OWNER_SLAB(c)     (0x100 + (c))
#define OWNER_LARGE       0x200
#define POISON_FREE       0x6b

struct free_obj {
	struct free_obj *next;
};

struct kmem_class {
	size_t size;
	struct free_obj *free;
	u64 nr_pages, nr_free, nr_inuse, nr_allocs;
};

static struct kmem_class classes[NR_CLASSES];
static u64 large_blocks, large_pages;
static DEFINE_SPINLOCK(kmalloc_lock);

static unsigned int class_of(size_t size)
{
	unsigned int c = 0;
	while (((size_t)1 << (KMALLOC_MIN_SHIFT + c)) < size)
		c++;
	return c;
}

#ifdef CONFIG_DEBUG
static void poison(struct kmem_class *cl, struct free_obj *o)
{
	memset((char *)o + sizeof(*o), POISON_FREE, cl->size - sizeof(*o));
}

static bool poisoned(struct kmem_class *cl, struct free_obj *o)
{
	const u8 *b = (const u8 *)o;
	for (size_t i = sizeof(*o); i < cl->size; i++)
		if (b[i] != POISON_FREE)
			return false;
	return true;
}

static bool on_free_list(struct kmem_class *cl, struct free_obj *o)
{
	for (struct free_obj *f = cl->free; f; f = f->next)
		if (f == o)
			return true;
	return false;
}
#else
static void poison(struct kmem_class *cl, struct free_obj *o) { }
#endif

/* Give class cl a fresh page of objects. Called with kmalloc_lock held. */
static bool refill(struct kmem_class *cl, unsigned int c)
{
	phys_addr_t p = alloc_page();

	if (!p)
		return false;
	pmm_set_owner(p, OWNER_SLAB(c));
	char *page = phys_to_virt(p);
	/* Push from the top so the page's objects come out in address order. */
	for (size_t off = PAGE_SIZE; off >= cl->size; off -= cl->size) {
		struct free_obj *o = (struct free_obj *)(page + off - cl->size);
		poison(cl, o);
		o->next = cl->free;
		cl->free = o;
	}
	cl->nr_pages++;
	cl->nr_free += PAGE_SIZE / cl->size;
	return true;
}

void kmalloc_init(void)
{
	for (unsigned int c = 0; c < NR_CLASSES; c++)
		classes[c].size = (size_t)1 << (KMALLOC_MIN_SHIFT + c);
}

static void *kmalloc_large(size_t size)
{
	unsigned int order = 0;
	unsigned long irq;

	while ((PAGE_SIZE << order) < size)
		if (++order > BUDDY_MAX_ORDER)
			return NULL;
	phys_addr_t p = alloc_pages(order);
	if (!p)
		return NULL;
	pmm_set_owner(p, OWNER_LARGE);
	spin_lock_irqsave(&kmalloc_lock, irq);
	large_blocks++;
	large_pages += 1ULL << order;
	spin_unlock_irqrestore(&kmalloc_lock, irq);
	return phys_to_virt(p);
}

void *kmalloc(size_t size)
{
	unsigned long irq;

	if (size > ((size_t)1 << KMALLOC_MAX_SHIFT))
		return kmalloc_large(size);
	unsigned int c = class_of(size ? size : 1);
	struct kmem_class *cl = &classes[c];

	spin_lock_irqsave(&kmalloc_lock, irq);
	if (!cl->free && !refill(cl, c)) {
		spin_unlock_irqrestore(&kmalloc_lock, irq);
		return NULL;
	}
	struct free_obj *o = cl->free;
	cl->free = o->next;
	cl->nr_free--;
	cl->nr_inuse++;
	cl->nr_allocs++;
#ifdef CONFIG_DEBUG
	bool intact = poisoned(cl, o);
#endif
	spin_unlock_irqrestore(&kmalloc_lock, irq);
#ifdef CONFIG_DEBUG
	if (!intact) {
		printk("kmalloc: object %p (size %zu) was written after it was freed\n", o, cl->size);
		__warn(__FILE__, __LINE__, "use after free");
	}
#endif
	o->next = NULL;
	return o;
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);

	if (p)
		memset(p, 0, size);
	return p;
}

static void bad_kfree(const void *p, const char *why)
{
	printk("kmalloc: kfree(%p) refused: %s\n", p, why);
	__warn(__FILE__, __LINE__, "kfree misuse");
}

void kfree(void *p)
{
	unsigned long va = (unsigned long)p, irq;
	unsigned int order;
	u16 owner;

	if (!p)
		return;
	if (va < PHYS_OFFSET || va >= STACK_AREA)
		return bad_kfree(p, "not a direct-map address");
	phys_addr_t phys = va - PHYS_OFFSET, page = ALIGN_DOWN(phys, PAGE_SIZE);
	if (!pmm_lookup(page, &order, &owner))
		return bad_kfree(p, "not in a page allocated by kmalloc");

	if (owner == OWNER_LARGE) {
		if (phys != page)
			return bad_kfree(p, "inside a large allocation");
		spin_lock_irqsave(&kmalloc_lock, irq);
		large_blocks--;
		large_pages -= 1ULL << order;
		spin_unlock_irqrestore(&kmalloc_lock, irq);
		free_pages(page, order);
		return;
	}
	if (owner < OWNER_SLAB(0) || owner >= OWNER_SLAB(NR_CLASSES))
		return bad_kfree(p, "page belongs to someone else");
	struct kmem_class *cl = &classes[owner - OWNER_SLAB(0)];
	if ((phys - page) % cl->size)
		return bad_kfree(p, "not the start of an object");

	struct free_obj *o = p;
	spin_lock_irqsave(&kmalloc_lock, irq);
#ifdef CONFIG_DEBUG
	if (poisoned(cl, o) && on_free_list(cl, o)) {
		spin_unlock_irqrestore(&kmalloc_lock, irq);
		return bad_kfree(p, "double free");
	}
#endif
	poison(cl, o);
	o->next = cl->free;
	cl->free = o;
	cl->nr_free++;
	cl->nr_inuse--;
	spin_unlock_irqrestore(&kmalloc_lock, irq);
}

void kmalloc_print(void)
{
	unsigned long irq;
	struct kmem_class snap[NR_CLASSES];
	u64 lb, lp;

	spin_lock_irqsave(&kmalloc_lock, irq);
	memcpy(snap, classes, sizeof(snap));
	lb = large_blocks;
	lp = large_pages;
	spin_unlock_irqrestore(&kmalloc_lock, irq);

	printk("heap:  size   pages  in-use    free   allocs\n");
	for (unsigned int c = 0; c < NR_CLASSES; c++)
		printk("heap: %5zu %7llu %7llu %7llu %8llu\n", snap[c].size,
		       (unsigned long long)snap[c].nr_pages, (unsigned long long)snap[c].nr_inuse,
		       (unsigned long long)snap[c].nr_free, (unsigned long long)snap[c].nr_allocs);
	printk("heap: large (> 2048 bytes): %llu blocks, %llu pages\n",
	       (unsigned long long)lb, (unsigned long long)lp);
}
