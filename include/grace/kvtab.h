/*
 * kvtab.h — a small RCU-protected table of records, key → value
 * (kernel/kvtab/kvtab.c; its torture is kernel/kvtab/kvtab_torture.c).
 *
 * Readers (kv_lookup, kv_sum) take no lock: rcu_read_lock() only.
 * Updaters (kv_insert, kv_delete, kv_update, kv_rename) serialise on one
 * spinlock and never change a record a reader may be looking at: they
 * build a new one, publish it, and free the old one after a grace period.
 * The subsystem of the using-rcu lab (docs/labs/using-rcu/README.md).
 */
#ifndef GRACE_KVTAB_H
#define GRACE_KVTAB_H

#include <grace/rculist.h>
#include <grace/rcupdate.h>
#include <grace/types.h>

#define KVTAB_BUCKETS 16
#define KV_MAGIC 0x6b7672656331ULL       /* "kvrec1": a live, complete record */

struct kv_rec {
	struct hlist_node node;
	u64 magic;          /* KV_MAGIC while live; the poison once freed */
	u32 key;
	u64 val;
	u64 check;          /* kv_check(key, val): a torn or half-built record fails it */
	struct rcu_head rh;
};

static inline u64 kv_check(u32 key, u64 val)
{
	return ((u64)key * 0x9e3779b97f4a7c15ULL) ^ val ^ KV_MAGIC;
}

static inline unsigned int kv_bucket(u32 key)
{
	return key % KVTAB_BUCKETS;
}

/* Updaters: 0, or -ENOENT (no such key), -EEXIST, -ENOMEM. Any context that may sleep. */
int kv_insert(u32 key, u64 val);
int kv_delete(u32 key);
int kv_update(u32 key, u64 val);
int kv_rename(u32 key, u32 new_key);
/* Readers: lock-free; kv_lookup may be called from any context. */
bool kv_lookup(u32 key, u64 *val);
u64 kv_sum(unsigned long *n);

/* What the torture inspects. */
struct kv_stats {
	unsigned long inserts, deletes, updates, renames, sums;
	unsigned long allocated, freed;
	u64 last_sum;
};
extern struct kv_stats kv_stats;
extern struct hlist_head kv_table[KVTAB_BUCKETS];
bool kv_rec_ok(const struct kv_rec *r, u32 key);
struct kv_rec *kv_find_rcu(u32 key);     /* caller in a reader */
/* Race-window stretchers for the torture (0 in normal use). */
extern int kvtab_update_delay_us, kvtab_reader_delay_us;

#endif
