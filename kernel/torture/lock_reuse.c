/*
 * lock_reuse.c — ktest "locking.reuse": once a spinlock is released, the
 * releasing CPU must not touch the lock's memory again.
 *
 * The property: a lock is often embedded in an object that its *next* owner
 * may free as soon as it has released it (take the lock, drop the last
 * reference, unlock, free). So after spin_unlock()'s release store — the one
 * that lets the next owner in — the unlocker may not write the lock word,
 * its pending byte, or anything else in the lock: that memory may already be
 * somebody else's. The paravirt slow unlock (unhash the head, release, kick)
 * is where such a late access would hide.
 *
 * Pairs of threads on neighbouring CPUs share one lock slot (the lock and 56
 * bytes after it, a cache line). Per round: A takes the lock and holds it a
 * random time (long enough, some rounds, for B to halt under a PV backend),
 * then releases it. B, which queued on the lock while A held it, takes it,
 * releases it and at once "frees" the slot: fills the whole line with a
 * poison pattern, waits, checks the pattern, then initialises a fresh lock
 * for the next round. Any store A's unlock makes after its release lands in
 * the poison; qspinlock.race_delay_us stretches the PV slow unlock after its
 * kick (also inside pv_kick(), right after the kick itself), so that the
 * kicked B can get there first. It runs 2 s and at least LR_MIN_ROUNDS
 * rounds in all (at most 4 s more). A round that does not finish within
 * 2 s (a lost wake-up) is a failure too.
 *
 * The hash entry is the other thing the unlocker must be done with before
 * its release: every other round B waits with interrupts off, so under a PV
 * backend it cannot halt and, as queue head, hashes itself, writes 3 and
 * spins on the locked byte, seeing the release at once. Just after taking
 * the lock B looks the lock up in the PV hash: nobody else waits for it, so
 * an entry there is B's own stale one, left because the unlocker released
 * before it unhashed (qspinlock.race_delay_us also stretches the slow unlock
 * just before its unhash). Scenarios locking-reuse-pv (pvspin=ipi, a low spin threshold
 * so waiters halt) and locking-reuse-native.
 */
#include <asm/barrier.h>
#include <asm/cpu.h>
#include <grace/cpumask.h>
#include <grace/kthread.h>
#include <grace/ktest.h>
#include <grace/printk.h>
#include <grace/qspinlock.h>
#include <grace/qspinlock_pv.h>
#include <grace/random.h>
#include <grace/sched.h>
#include <grace/spinlock.h>
#include <grace/string.h>
#include <grace/time.h>

#define LR_MAX_PAIRS 4
#define LR_POISON    0x6B
#define LR_SECONDS   2

struct lr_slot {
	union {
		spinlock_t lock;
		unsigned char bytes[64];
	};
} __aligned(64);

struct lr_pair {
	struct lr_slot slot;
	int phase;               /* 0: A's turn to take it; 1: A holds it; 2: B is done */
	int round;
	int a_cpu, b_cpu;
	int stop, exited;
	u64 rng;
	int bad, bad_round, bad_off, bad_val;
	int stale, stale_round;  /* B owned the lock with an entry in the PV hash */
	u64 rounds, contended, irqsoff;
};

static struct lr_pair lr_pairs[LR_MAX_PAIRS];

#define LR_MIN_ROUNDS 1000   /* in all pairs together */

static u64 lr_total_rounds(unsigned int npairs)
{
	u64 n = 0;

	for (unsigned int i = 0; i < npairs; i++)
		n += READ_ONCE(lr_pairs[i].rounds);
	return n;
}


static void lr_wait_phase(struct lr_pair *p, int want)
{
	while (__atomic_load_n(&p->phase, __ATOMIC_ACQUIRE) != want && !READ_ONCE(p->stop))
		cpu_relax();
}

static int lr_a_fn(void *arg)
{
	struct lr_pair *p = arg;

	while (!READ_ONCE(p->stop)) {
		lr_wait_phase(p, 0);
		if (READ_ONCE(p->stop))
			break;
		spin_lock(&p->slot.lock);
		__atomic_store_n(&p->phase, 1, __ATOMIC_RELEASE);
		u64 r = prandom_next(&p->rng);
		/* Mostly short holds; one in four long enough to halt B. */
		udelay(r % 4 ? 1 + r % 8 : 50 + r % 150);
		spin_unlock(&p->slot.lock);
		/* Now the slot is B's to free: whatever this CPU's unlock
		 * still did after its release store happened in its poison. */
		lr_wait_phase(p, 2);
		__atomic_store_n(&p->phase, 0, __ATOMIC_RELEASE);
	}
	__atomic_add_fetch(&p->exited, 1, __ATOMIC_RELEASE);
	return 0;
}

static int lr_b_fn(void *arg)
{
	struct lr_pair *p = arg;

	while (!READ_ONCE(p->stop)) {
		lr_wait_phase(p, 1);
		if (READ_ONCE(p->stop))
			break;
		if (p->round & 1) {
			unsigned long flags;

			spin_lock_irqsave(&p->slot.lock, flags);
			/* Ours, and nobody waits for it: no entry may be left. */
			if (pv_lock_hashed(&p->slot.lock.q) && !p->stale++)
				p->stale_round = p->round;
			spin_unlock_irqrestore(&p->slot.lock, flags);
			p->irqsoff++;
		} else {
			spin_lock(&p->slot.lock);
			spin_unlock(&p->slot.lock);
		}
		/* "Free" and reuse the slot at once. */
		for (int i = 0; i < 64; i++)
			WRITE_ONCE(p->slot.bytes[i], LR_POISON);
		udelay(30);
		for (int i = 0; i < 64; i++) {
			unsigned char v = READ_ONCE(p->slot.bytes[i]);

			if (v != LR_POISON && !p->bad++) {
				p->bad_round = p->round;
				p->bad_off = i;
				p->bad_val = v;
			}
		}
		spin_lock_init(&p->slot.lock);
		p->round++;
		p->rounds++;
		__atomic_store_n(&p->phase, 2, __ATOMIC_RELEASE);
	}
	__atomic_add_fetch(&p->exited, 1, __ATOMIC_RELEASE);
	return 0;
}

KTEST(locking_reuse, "locking.reuse")
{
	unsigned int cpus[NR_CPUS], n = 0, cpu, npairs;
	u64 end, last_rounds[LR_MAX_PAIRS] = { 0 }, last_change[LR_MAX_PAIRS];

	for_each_online_cpu(cpu)
		cpus[n++] = cpu;
	npairs = n / 2 < LR_MAX_PAIRS ? n / 2 : LR_MAX_PAIRS;
	if (!npairs) {
		printk("locking.reuse: one CPU online: no second CPU to reuse the lock, nothing to check\n");
		return;
	}
	for (unsigned int i = 0; i < npairs; i++) {
		struct lr_pair *p = &lr_pairs[i];

		memset(p, 0, sizeof(*p));
		spin_lock_init(&p->slot.lock);
		p->a_cpu = (int)cpus[2 * i];
		p->b_cpu = (int)cpus[2 * i + 1];
		p->rng = 0xC0DEULL * (i + 1) ^ ktime_get_ns();
		struct task_struct *a = kthread_create(lr_a_fn, p, "reuseA/%u", i);
		struct task_struct *b = kthread_create(lr_b_fn, p, "reuseB/%u", i);

		KTEST_EXPECT(a && b);
		if (!a || !b)
			return;   /* (a thread made already waits for phase 0 forever: harmless) */
		kthread_bind(a, (unsigned int)p->a_cpu);
		kthread_bind(b, (unsigned int)p->b_cpu);
		wake_up_process(a);
		wake_up_process(b);
		last_change[i] = ktime_get_ns();
	}
	end = ktime_get_ns() + (u64)LR_SECONDS * 1000000000ULL;
	bool stuck = false;

	/* At least LR_MIN_ROUNDS rounds (a loaded host gives few in 2 s; a late
	 * store shows in a few percent of rounds), at most 4 s more. */
	u64 hard_end = end + 4000000000ULL;

	while (!stuck && ktime_get_ns() < hard_end &&
	       (ktime_get_ns() < end || lr_total_rounds(npairs) < LR_MIN_ROUNDS)) {
		msleep(20);
		for (unsigned int i = 0; i < npairs; i++) {
			u64 r = READ_ONCE(lr_pairs[i].rounds);

			if (r != last_rounds[i]) {
				last_rounds[i] = r;
				last_change[i] = ktime_get_ns();
			} else if (ktime_get_ns() - last_change[i] > 2000000000ULL) {
				KTEST_EXPECT_MSG(0, "pair %u (CPUs %d, %d): round %llu made no progress for 2 s "
						 "(phase %d; a lost wake-up?)", i, lr_pairs[i].a_cpu,
						 lr_pairs[i].b_cpu, (unsigned long long)r, lr_pairs[i].phase);
				stuck = true;
			}
		}
	}
	for (unsigned int i = 0; i < npairs; i++)
		WRITE_ONCE(lr_pairs[i].stop, 1);
	if (stuck)
		return;   /* the stuck threads still use their slots: never reused */
	for (unsigned int i = 0; i < npairs; i++) {
		u64 deadline = ktime_get_ns() + 2000000000ULL;

		while (__atomic_load_n(&lr_pairs[i].exited, __ATOMIC_ACQUIRE) < 2 && ktime_get_ns() < deadline)
			msleep(1);
	}
	u64 total = 0, irqsoff = 0;
	int bad = 0, stale = 0;

	for (unsigned int i = 0; i < npairs; i++) {
		total += lr_pairs[i].rounds;
		irqsoff += lr_pairs[i].irqsoff;
		bad += lr_pairs[i].bad;
		stale += lr_pairs[i].stale;
	}
	printk("locking.reuse: %u pairs, %llu rounds, PV %s; %d freed lock slots written after release; "
	       "%llu rounds waiting irqs-off, %d stale PV hash entries\n",
	       npairs, (unsigned long long)total, qspinlock_pv_active ? "active" : "off", bad,
	       (unsigned long long)irqsoff, stale);
	for (unsigned int i = 0; i < npairs; i++) {
		struct lr_pair *p = &lr_pairs[i];

		KTEST_EXPECT_MSG(p->bad == 0, "pair %u (CPUs %d, %d), round %d: byte %d of the freed lock "
				 "slot is %#x, not the poison %#x: the unlocker wrote it after its release "
				 "(%d rounds bad)", i, p->a_cpu, p->b_cpu, p->bad_round, p->bad_off,
				 p->bad_val, LR_POISON, p->bad);
		KTEST_EXPECT_MSG(p->stale == 0, "pair %u (CPUs %d, %d), round %d: B owns the lock and its "
				 "PV hash entry is still there: the unlocker released before unhashing "
				 "(%d rounds)", i, p->a_cpu, p->b_cpu, p->stale_round, p->stale);
	}
	KTEST_EXPECT_MSG(total >= npairs * 20ULL, "only %llu rounds in %d s", (unsigned long long)total,
			 LR_SECONDS);
}
