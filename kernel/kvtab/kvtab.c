/*
 * kvtab.c — a small RCU-protected table of records, key → value: the
 * textbook RCU-protected hash table, and the subsystem of the using-rcu
 * bug hunt (docs/labs/using-rcu/README.md).
 *
 * Readers walk a bucket inside rcu_read_lock() and take no lock at all.
 * Updaters serialise on kv_lock and follow the three RCU rules (McKenney,
 * *What is RCU, fundamentally?*, 2007):
 *   publish   a record is complete before rcu_assign_pointer() (or an
 *             hlist_*_rcu() helper) makes it reachable;
 *   retire    a record a reader may still hold is freed only after a grace
 *             period (call_rcu), never reused in place;
 *   read      a reader holds nothing past rcu_read_unlock() and never
 *             sleeps inside the read-side critical section.
 * So an update is copy-then-swap: kv_update builds a new record and
 * replaces the old one in its chain; kv_rename inserts the copy under its
 * new key before removing the old one, so a key being moved is never
 * absent and a reader standing on the old record still walks its own
 * bucket.
 *
 * Invariants, each checked by kernel/kvtab/kvtab_torture.c (ktests
 * kvtab.*) with readers dawdling on every record they meet:
 *  - every record a reader can reach is complete (kv_rec_ok: magic, key
 *    and the check word over key and value) and sits in its key's bucket;
 *  - it stays unchanged until the reader's rcu_read_unlock() (freed memory
 *    is poisoned, new memory starts as a different poison);
 *  - a key that is never deleted is always found, also while others move;
 *  - every record allocated is freed once (after rcu_barrier()).
 */
#include <grace/errno.h>
#include <grace/kvtab.h>
#include <grace/mm.h>
#include <grace/mutex.h>
#include <grace/param.h>
#include <grace/spinlock.h>
#include <grace/string.h>
#include <grace/time.h>

#define KV_POISON_ALLOC 0xa5     /* memory not yet initialised */
#define KV_POISON_FREE  0x6b     /* memory freed */

struct hlist_head kv_table[KVTAB_BUCKETS];
static DEFINE_SPINLOCK(kv_lock);          /* serialises the updaters */
static DEFINE_MUTEX(kv_stats_mutex);      /* kv_stats.sums and .last_sum, read together */
struct kv_stats kv_stats;

int kvtab_update_delay_us;
param_int("kvtab.update_delay_us", kvtab_update_delay_us, 0, 10000,
	  "TEST: updaters spin this long between the steps of an update (race windows)");
int kvtab_reader_delay_us;
param_int("kvtab.reader_delay_us", kvtab_reader_delay_us, 0, 10000,
	  "TEST: kv_lookup spins this long on every record it passes");

static void kv_update_delay(void)
{
	int us = READ_ONCE(kvtab_update_delay_us);

	if (us)
		udelay((unsigned long)us);
}

static struct kv_rec *kv_alloc(void)
{
	struct kv_rec *r = kmalloc(sizeof(*r));

	if (r) {
		memset(r, KV_POISON_ALLOC, sizeof(*r));
		__atomic_add_fetch(&kv_stats.allocated, 1, __ATOMIC_RELAXED);
	}
	return r;
}

/* Poison, then free: a reader that still holds the record sees the poison. */
static void kv_free(struct kv_rec *r)
{
	memset(r, KV_POISON_FREE, sizeof(*r));
	kfree(r);
	__atomic_add_fetch(&kv_stats.freed, 1, __ATOMIC_RELAXED);
}

static void kv_free_rcu(struct rcu_head *rh)
{
	kv_free(container_of(rh, struct kv_rec, rh));
}

static void kv_init(struct kv_rec *r, u32 key, u64 val)
{
	r->key = key;
	r->val = val;
	r->check = kv_check(key, val);
	r->magic = KV_MAGIC;
}

bool kv_rec_ok(const struct kv_rec *r, u32 key)
{
	u64 val = READ_ONCE(r->val);

	return READ_ONCE(r->magic) == KV_MAGIC && READ_ONCE(r->key) == key &&
	       READ_ONCE(r->check) == kv_check(key, val);
}

/* The record with `key`, or NULL; inside a reader, or under kv_lock. */
struct kv_rec *kv_find_rcu(u32 key)
{
	struct kv_rec *r;

	hlist_for_each_entry_rcu(r, &kv_table[kv_bucket(key)], node) {
		int us = READ_ONCE(kvtab_reader_delay_us);

		if (us)
			udelay((unsigned long)us);
		if (READ_ONCE(r->key) == key)
			return r;
	}
	return NULL;
}

/* Put `new` where `old` is in its chain (Linux: hlist_replace_rcu). */
static void kv_replace_rcu(struct kv_rec *old, struct kv_rec *new)
{
	struct hlist_node *next = old->node.next;

	new->node.next = next;
	new->node.pprev = old->node.pprev;
	rcu_assign_pointer(*new->node.pprev, &new->node);
	if (next)
		next->pprev = &new->node.next;
	old->node.pprev = NULL;
}

/* >>> LAB using-rcu (docs/labs/using-rcu/README.md) */
int kv_insert(u32 key, u64 val)
{
	struct kv_rec *r = kv_alloc();
	unsigned long flags;

	if (!r)
		return -ENOMEM;
	kv_init(r, key, val);
	spin_lock_irqsave(&kv_lock, flags);
	if (kv_find_rcu(key)) {
		spin_unlock_irqrestore(&kv_lock, flags);
		kv_free(r);
		return -EBUSY;
	}
	hlist_add_head_rcu(&r->node, &kv_table[kv_bucket(key)]);
	kv_stats.inserts++;
	spin_unlock_irqrestore(&kv_lock, flags);
	return 0;
}

int kv_delete(u32 key)
{
	struct kv_rec *r;
	unsigned long flags;

	spin_lock_irqsave(&kv_lock, flags);
	r = kv_find_rcu(key);
	if (!r) {
		spin_unlock_irqrestore(&kv_lock, flags);
		return -ENOENT;
	}
	hlist_del_rcu(&r->node);
	kv_stats.deletes++;
	spin_unlock_irqrestore(&kv_lock, flags);
	kv_update_delay();
	call_rcu(&r->rh, kv_free_rcu);
	return 0;
}

/* Copy, change the copy, swap it in, retire the original. */
int kv_update(u32 key, u64 val)
{
	struct kv_rec *old, *new = kv_alloc();
	unsigned long flags;

	if (!new)
		return -ENOMEM;
	spin_lock_irqsave(&kv_lock, flags);
	old = kv_find_rcu(key);
	if (!old) {
		spin_unlock_irqrestore(&kv_lock, flags);
		kv_free(new);
		return -ENOENT;
	}
	kv_init(new, key, val);
	kv_update_delay();
	kv_replace_rcu(old, new);
	kv_stats.updates++;
	spin_unlock_irqrestore(&kv_lock, flags);
	call_rcu(&old->rh, kv_free_rcu);
	return 0;
}

/* Move a record to another key (usually another bucket): the copy goes in
 * under the new key first, then the original leaves and is retired. */
int kv_rename(u32 key, u32 new_key)
{
	struct kv_rec *old, *new = kv_alloc();
	unsigned long flags;

	if (!new)
		return -ENOMEM;
	spin_lock_irqsave(&kv_lock, flags);
	old = kv_find_rcu(key);
	if (!old || kv_find_rcu(new_key)) {
		spin_unlock_irqrestore(&kv_lock, flags);
		kv_free(new);
		return old ? -EBUSY : -ENOENT;
	}
	kv_init(new, new_key, old->val);
	hlist_add_head_rcu(&new->node, &kv_table[kv_bucket(new_key)]);
	kv_update_delay();
	hlist_del_rcu(&old->node);
	kv_stats.renames++;
	spin_unlock_irqrestore(&kv_lock, flags);
	call_rcu(&old->rh, kv_free_rcu);
	return 0;
}

bool kv_lookup(u32 key, u64 *val)
{
	struct kv_rec *r;
	bool found = false;

	rcu_read_lock();
	r = kv_find_rcu(key);
	if (r && kv_rec_ok(r, key)) {
		*val = READ_ONCE(r->val);
		found = true;
	}
	rcu_read_unlock();
	return found;
}

/* The sum of all values, and how many records (a snapshot per bucket). */
u64 kv_sum(unsigned long *n)
{
	struct kv_rec *r;
	unsigned long count = 0;
	u64 sum = 0;

	rcu_read_lock();
	for (unsigned int b = 0; b < KVTAB_BUCKETS; b++)
		hlist_for_each_entry_rcu(r, &kv_table[b], node) {
			sum += READ_ONCE(r->val);
			count++;
		}
	rcu_read_unlock();
	mutex_lock(&kv_stats_mutex);
	kv_stats.sums++;
	kv_stats.last_sum = sum;
	mutex_unlock(&kv_stats_mutex);
	if (n)
		*n = count;
	return sum;
}
/* <<< LAB using-rcu */
