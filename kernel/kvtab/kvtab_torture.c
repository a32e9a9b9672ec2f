/*
 * kvtab_torture.c — ktests that torture kvtab (kernel/kvtab/kvtab.c):
 * one updater at a time against readers on every other CPU that dawdle on
 * each record they meet, with kvtab.c's race windows stretched.
 *
 *   kvtab.delete   records deleted under readers: none is freed (poisoned)
 *                  while a reader holds it
 *   kvtab.update   records replaced under readers: no reader meets a
 *                  record that is not complete, or one that changes
 *   kvtab.rename   records moved between buckets under readers (a reader stands
 *                  on the record while it moves, kvt_mover): keys that
 *                  stay are always found, no reader ends up in another
 *                  bucket's chain
 *   kvtab.sum      kv_sum() adds up the table (and may be called where
 *                  sleeping is allowed: a "sleeping function called from
 *                  invalid context" report fails the run)
 *
 * A reader walks its bucket itself inside rcu_read_lock(): on every record
 * it checks kv_rec_ok() and that the record belongs to that bucket; on the
 * one it looks for it spins `dawdle` µs and checks again before leaving.
 * Half the lookups go to the key the updater is about to change (kvt_hot),
 * so the windows are hit in every run, not once in a while. After each
 * test the table is emptied with no reader running, and after
 * rcu_barrier() every allocated record must have been freed.
 */
#include <grace/kthread.h>
#include <grace/ktest.h>
#include <grace/kvtab.h>
#include <grace/printk.h>
#include <grace/random.h>
#include <grace/sched.h>
#include <grace/smp.h>
#include <grace/string.h>
#include <grace/time.h>

#define KVT_MAX_READERS 16
#define KVT_DAWDLE_US   20

static u32 kvt_nkeys;                 /* readers look up keys 0..nkeys-1 */
static u32 kvt_stable_from;           /* keys >= this are never deleted: must be found */
static u32 kvt_hot;                   /* the key the updater is about to change */
static unsigned int kvt_node_us = 1;  /* a reader spins this long on every record it passes */
/* kvtab.rename: a reader that meets the record about to move (key
 * kvt_mover) says so (kvt_standing) and stays on it until the updater has
 * moved it (kvt_moves changes) or 200 µs have passed; the updater waits up
 * to 300 µs for such a reader before it moves the record. So the window
 * "a reader stands on a record while it moves" is hit in most renames on
 * a loaded host too, not once in a few hundred. */
static u32 kvt_mover = ~0u, kvt_standing = ~0u;
static unsigned long kvt_moves;
static bool kvt_stop;
static unsigned long kvt_lookups, kvt_found, kvt_bad, kvt_missing;
static char kvt_why[160];

static void kvt_report(const char *fmt, u32 key, u32 seen)
{
	if (__atomic_fetch_add(&kvt_bad, 1, __ATOMIC_RELAXED) == 0) {
		snprintf(kvt_why, sizeof(kvt_why), fmt, key, seen);
		printk("kvtab torture: %s\n", kvt_why);
	}
}

static void kvt_lookup_one(u32 key)
{
	unsigned int b = kv_bucket(key);
	struct kv_rec *r, *found = NULL;

	rcu_read_lock();
	hlist_for_each_entry_rcu(r, &kv_table[b], node) {
		u32 k = READ_ONCE(r->key);

		if (!kv_rec_ok(r, k)) {
			kvt_report("looking up key %u, met a record that is not complete or is freed (key %#x)",
				   key, k);
			break;
		}
		if (kv_bucket(k) != b) {
			kvt_report("looking up key %u, the walk went into another bucket (met key %u)",
				   key, k);
			break;
		}
		udelay(READ_ONCE(kvt_node_us));
		if (k == READ_ONCE(kvt_mover) && k != key) {
			unsigned long moves = READ_ONCE(kvt_moves);

			WRITE_ONCE(kvt_standing, k);
			for (int i = 0; i < 200 && READ_ONCE(kvt_moves) == moves; i++)
				udelay(1);
		}
		if (k == key) {
			found = r;
			break;
		}
	}
	if (found) {
		udelay(KVT_DAWDLE_US);
		if (!kv_rec_ok(found, key))
			kvt_report("key %u: the record changed or was freed under the reader (key now %#x)",
				   key, READ_ONCE(found->key));
	}
	rcu_read_unlock();
	__atomic_add_fetch(&kvt_lookups, 1, __ATOMIC_RELAXED);
	if (found)
		__atomic_add_fetch(&kvt_found, 1, __ATOMIC_RELAXED);
	else if (key >= kvt_stable_from && key < kvt_nkeys &&
		 __atomic_fetch_add(&kvt_missing, 1, __ATOMIC_RELAXED) == 0)
		printk("kvtab torture: key %u, never deleted, was not found\n", key);
}

static int kvt_reader(void *arg)
{
	u64 seed = 0x9e3779b97f4a7c15ULL ^ ((u64)(unsigned long)arg << 17) ^ 1;

	while (!READ_ONCE(kvt_stop)) {
		u64 x = prandom_next(&seed);
		u32 key = (x & 1) ? READ_ONCE(kvt_hot) : (u32)((x >> 8) % kvt_nkeys);

		kvt_lookup_one(key);
		if (!(x & 0x3f0))
			cond_resched();
	}
	return 0;
}

static struct task_struct *kvt_readers[KVT_MAX_READERS];
static unsigned int kvt_nreaders;

static void kvt_start(u32 nkeys, u32 stable_from)
{
	unsigned int me = smp_processor_id(), cpu;

	kvt_nkeys = nkeys;
	kvt_stable_from = stable_from;
	kvt_stop = false;
	kvt_lookups = kvt_found = kvt_bad = kvt_missing = 0;
	kvt_why[0] = 0;
	kvt_nreaders = 0;
	for_each_online_cpu(cpu) {
		struct task_struct *k;

		if ((cpu == me && num_online_cpus() > 1) || kvt_nreaders == KVT_MAX_READERS)
			continue;
		k = kthread_create_on_cpu(kvt_reader, (void *)(unsigned long)cpu, cpu, "kvt-reader/%u");
		if (!k)
			continue;
		get_task_struct(k);
		wake_up_process(k);
		kvt_readers[kvt_nreaders++] = k;
	}
}

static void kvt_finish(struct ktest_ctx *t, const char *what)
{
	WRITE_ONCE(kvt_stop, true);
	for (unsigned int i = 0; i < kvt_nreaders; i++) {
		kthread_stop(kvt_readers[i]);
		put_task_struct(kvt_readers[i]);
	}
	printk("kvtab torture %s: %u readers, %lu lookups, %lu found, %lu bad, %lu missing\n", what,
	       kvt_nreaders, kvt_lookups, kvt_found, kvt_bad, kvt_missing);
	KTEST_EXPECT_MSG(!kvt_bad, "%lu bad reads; first: %s", kvt_bad, kvt_why);
	KTEST_EXPECT_MSG(!kvt_missing, "%lu lookups missed a key that is never deleted", kvt_missing);
	KTEST_EXPECT_MSG(kvt_lookups > 100, "only %lu lookups: the readers did not run", kvt_lookups);
}

/* Empty the table with no reader running; every record must come back. */
static void kvt_clear(struct ktest_ctx *t)
{
	for (u32 b = 0; b < KVTAB_BUCKETS; b++)
		while (READ_ONCE(kv_table[b].first)) {
			struct kv_rec *r = container_of(kv_table[b].first, struct kv_rec, node);

			if (kv_delete(r->key))
				break;
		}
	rcu_barrier();
	for (u32 b = 0; b < KVTAB_BUCKETS; b++)
		KTEST_EXPECT_MSG(!kv_table[b].first, "bucket %u not empty after deleting everything", b);
	KTEST_EXPECT_MSG(kv_stats.allocated == kv_stats.freed, "%lu records allocated, %lu freed",
			 kv_stats.allocated, kv_stats.freed);
}

static void kvt_fill(struct ktest_ctx *t, u32 from, u32 to)
{
	for (u32 k = from; k < to; k++)
		KTEST_EXPECT_MSG(kv_insert(k, (u64)k * 3) == 0, "kv_insert(%u) failed", k);
}

KTEST(kvtab_delete, "kvtab.delete")
{
	enum { N = 256, ROUNDS = 2 };
	int saved = kvtab_update_delay_us;

	kvt_fill(t, 0, N);
	kvtab_update_delay_us = 0;
	kvt_start(N, N);
	for (int round = 0; round < ROUNDS; round++) {
		for (u32 k = 0; k < N; k++) {
			WRITE_ONCE(kvt_hot, k);
			udelay(50);              /* let readers find it */
			KTEST_EXPECT(kv_delete(k) == 0);
			udelay(50);              /* ... and dawdle on it */
		}
		if (round + 1 < ROUNDS) {
			WRITE_ONCE(kvt_hot, N);
			kvt_fill(t, 0, N);
		}
	}
	kvt_finish(t, "delete");
	kvtab_update_delay_us = saved;
	kvt_clear(t);
}

KTEST(kvtab_update, "kvtab.update")
{
	enum { N = 64, UPDATES = 300 };
	int saved = kvtab_update_delay_us;

	kvt_fill(t, 0, N);
	kvtab_update_delay_us = 20;
	kvt_start(N, 0);                 /* nothing is deleted: every key must be found */
	for (u32 i = 0; i < UPDATES; i++) {
		u32 k = (i * 7) % N;

		WRITE_ONCE(kvt_hot, k);
		udelay(20);
		KTEST_EXPECT(kv_update(k, (u64)i << 8) == 0);
	}
	kvt_finish(t, "update");
	kvtab_update_delay_us = saved;
	kvt_clear(t);
	KTEST_EXPECT(kv_stats.updates >= UPDATES);
}

KTEST(kvtab_rename, "kvtab.rename")
{
	/* Keys 0..S-1 stay (inserted first, so they sit behind the movers in
	 * each chain); movers 2S.. go back and forth between key and key^1,
	 * which is always another bucket. */
	enum { S = 64, MOVERS = 16, RENAMES = 300 };
	u32 mover[MOVERS];
	int saved = kvtab_update_delay_us;
	unsigned long kvt_stood = 0;

	kvt_fill(t, 0, S);
	for (u32 i = 0; i < MOVERS; i++) {
		mover[i] = 2 * S + 2 * i;
		KTEST_EXPECT(kv_insert(mover[i], i) == 0);
	}
	/* No gap between the updater's steps here: what a reader must survive
	 * is standing on a record while it is moved (see kvt_mover). */
	kvtab_update_delay_us = 0;
	kvt_start(S, 0);                 /* readers look up the stable keys */
	for (u32 i = 0; i < RENAMES; i++) {
		u32 m = i % MOVERS;

		WRITE_ONCE(kvt_standing, ~0u);
		WRITE_ONCE(kvt_mover, mover[m]);
		WRITE_ONCE(kvt_hot, kv_bucket(mover[m]));  /* a stable key in the mover's bucket */
		for (int w = 0; w < 300 && READ_ONCE(kvt_standing) != mover[m]; w++)
			udelay(1);
		if (READ_ONCE(kvt_standing) == mover[m])
			kvt_stood++;
		KTEST_EXPECT(kv_rename(mover[m], mover[m] ^ 1) == 0);
		__atomic_add_fetch(&kvt_moves, 1, __ATOMIC_RELEASE);
		mover[m] ^= 1;
	}
	WRITE_ONCE(kvt_mover, ~0u);
	printk("kvtab torture rename: a reader stood on the record in %lu of %u renames\n",
	       kvt_stood, RENAMES);
	kvt_finish(t, "rename");
	kvtab_update_delay_us = saved;
	kvt_clear(t);
}

KTEST(kvtab_sum, "kvtab.sum")
{
	enum { N = 100 };
	u64 want = 0, sum;
	unsigned long n = 0;

	kvt_fill(t, 0, N);
	for (u32 k = 0; k < N; k++)
		want += (u64)k * 3;
	for (int i = 0; i < 20; i++) {
		sum = kv_sum(&n);
		KTEST_EXPECT_MSG(sum == want && n == N, "kv_sum: %llu over %lu records, expected %llu over %u",
				 (unsigned long long)sum, n, (unsigned long long)want, N);
	}
	KTEST_EXPECT(kv_stats.last_sum == want);
	kvt_clear(t);
}
