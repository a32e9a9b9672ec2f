/*
 * wait_test.c — ktest "wait.stack": a wait entry on the stack must be dead
 * to the waker once finish_wait() returns.
 *
 * The property: wait_event() and friends keep their wait_queue_entry in the
 * waiter's stack frame. A waker that takes the entry off the queue
 * (autoremove_wake_function) writes into that frame; the waiter's
 * finish_wait() may skip the lock when the entry already looks unlinked, and
 * then returns and reuses the stack. So the waker's *last* store to the entry
 * must be the one that makes it look unlinked, and it must be a release that
 * finish_wait()'s check acquires (list_del_init_careful/list_empty_careful).
 * If any store comes after it, it lands in whatever the waiter's stack holds
 * by then.
 *
 * The test, per round: a waiter thread pinned to one CPU queues an on-stack
 * entry, waits (spinning, in TASK_UNINTERRUPTIBLE, like a waiter between
 * prepare_to_wait() and schedule()) for the condition, pauses a random time
 * (a waiter interrupted between its condition check and finish_wait()), calls
 * finish_wait() and returns; a second function then fills the same stack
 * region with a canary pattern, waits longer than the waker can take, and
 * checks the pattern. The waker, the test thread on another CPU, sets the
 * condition and calls wake_up(). Boot with wait.race_delay_us=N to stretch the
 * waker's delete; the waiter's pause is drawn from the same range so that its
 * check falls inside the delete in most rounds.
 *
 * Verdict: FAIL when the canary changed (with the value written and where),
 * when the canary did not even cover the dead entry in most rounds (the test
 * would be blind), or when a round did not finish. One CPU cannot race (the
 * waker deletes with interrupts off): the test then says so and passes.
 * Also here: ktest "wait.exclusive" (below).
 * Scenarios: wait-stack-smp2/4/8 and wait-stack-nodelay (must pass),
 * wait-bug-early-empty (the pre-fix delete and check, wait.bug_early_empty=1:
 * must fail).
 */
#include <asm/barrier.h>
#include <asm/cpu.h>
#include <grace/cpumask.h>
#include <grace/ktest.h>
#include <grace/kthread.h>
#include <grace/printk.h>
#include <grace/random.h>
#include <grace/sched.h>
#include <grace/time.h>
#include <grace/wait.h>

#define WS_CANARY_WORDS 128          /* 1 KiB of the dead frames below the caller */
#define WS_CANARY       0xC0FFEE00DEADBEEFULL
#define WS_MAX_ROUNDS   4000
#define WS_SECONDS      2

static struct {
	struct wait_queue_head wq;
	int queued, go, done;        /* round numbers: waiter queued / condition / waiter finished */
	int stop;
	unsigned int pause_us;       /* upper bound of the waiter's random pause */
	uintptr_t dead_prev;         /* &entry.prev of the last round's (now dead) entry */
	u64 rng;
	int covered, hits;
	int hit_round, hit_off;
	u64 hit_val;
} ws;

/* One wait, with the entry in this frame. */
static __noinline void ws_wait_round(int r)
{
	DEFINE_WAIT(w);

	prepare_to_wait(&ws.wq, &w, TASK_UNINTERRUPTIBLE);
	WRITE_ONCE(ws.dead_prev, (uintptr_t)&w.entry.prev);
	smp_store_release(&ws.queued, r);
	/* The waker wakes only a queued waiter, and only once the condition
	 * is set, so this spin ends; the wake-up itself makes us RUNNING. */
	while (smp_load_acquire(&ws.go) != r && !READ_ONCE(ws.stop))
		cpu_relax();
	udelay(prandom_next(&ws.rng) % (ws.pause_us + 1));
	finish_wait(&ws.wq, &w);
}

/* Puts the entry 512 bytes below the caller's frame, well inside the
 * canary (whose own saved registers sit at the top of its frame: a stray
 * store there would corrupt the caller's registers instead of the canary). */
static __noinline void ws_wait_deep(int r)
{
	volatile u64 pad[64];

	pad[0] = (u64)r;
	ws_wait_round((int)pad[0]);
	pad[1] = 0;            /* no tail call: the frame stays under the entry */
}

/* The frame of the previous call is dead now: cover it with a canary and
 * see whether anybody still writes there. */
static __noinline void ws_canary_round(int r)
{
	volatile u64 buf[WS_CANARY_WORDS];
	uintptr_t prev = READ_ONCE(ws.dead_prev);

	for (int i = 0; i < WS_CANARY_WORDS; i++)
		buf[i] = WS_CANARY ^ (u64)i;
	if (prev >= (uintptr_t)&buf[0] && prev < (uintptr_t)&buf[WS_CANARY_WORDS])
		ws.covered++;
	udelay(2 * (unsigned long)wait_race_delay_us + 20);
	for (int i = 0; i < WS_CANARY_WORDS; i++) {
		if (buf[i] != (WS_CANARY ^ (u64)i)) {
			if (!ws.hits++) {
				ws.hit_round = r;
				ws.hit_off = (int)((uintptr_t)&buf[i] - prev);
				ws.hit_val = buf[i];
			}
			break;
		}
	}
}

static int ws_waiter(void *arg)
{
	struct completion *exited = arg;

	for (int r = 1; !READ_ONCE(ws.stop); r++) {
		ws_wait_deep(r);
		if (READ_ONCE(ws.stop))
			break;
		ws_canary_round(r);
		smp_store_release(&ws.done, r);
	}
	complete(exited);
	return 0;
}

/* Spin until *p == want or 1 s passed; false on timeout. */
static bool ws_wait_for(int *p, int want)
{
	u64 deadline = ktime_get_ns() + 1000000000ULL;

	while (smp_load_acquire(p) != want) {
		if (ktime_get_ns() > deadline)
			return false;
		cpu_relax();
	}
	return true;
}

KTEST(wait_stack, "wait.stack")
{
	static struct completion exited;
	unsigned int me, other;
	int rounds = 0;
	u64 end;

	if (num_online_cpus() < 2) {
		printk("wait.stack: one CPU online: the waker cannot race the waiter, nothing to check\n");
		return;
	}
	init_waitqueue_head(&ws.wq);
	ws.queued = ws.go = ws.done = ws.stop = 0;
	ws.covered = ws.hits = 0;
	ws.rng = 0x5DEECE66DULL ^ ktime_get_ns();
	/* Without the debug delay the waker's two stores are nanoseconds
	 * apart; a pause of a few microseconds still probes that window. */
	ws.pause_us = (unsigned int)wait_race_delay_us + 3;
	init_completion(&exited);

	preempt_disable();
	me = smp_processor_id();
	preempt_enable();
	other = cpumask_next_from(me + 1, &cpu_online_mask);
	if (other >= NR_CPUS)
		other = cpumask_first(&cpu_online_mask);
	KTEST_EXPECT(set_cpus_allowed_ptr(current, cpumask_of(me)) == 0);
	struct task_struct *waiter = kthread_create(ws_waiter, &exited, "waitstack");

	KTEST_EXPECT(waiter != NULL);
	if (!waiter)
		goto out;
	kthread_bind(waiter, other);
	wake_up_process(waiter);

	end = ktime_get_ns() + (u64)WS_SECONDS * 1000000000ULL;
	for (int r = 1; r <= WS_MAX_ROUNDS && ktime_get_ns() < end; r++) {
		if (!ws_wait_for(&ws.queued, r)) {
			KTEST_EXPECT_MSG(0, "round %d: the waiter never queued itself", r);
			break;
		}
		smp_store_release(&ws.go, r);
		wake_up(&ws.wq);
		if (!ws_wait_for(&ws.done, r)) {
			KTEST_EXPECT_MSG(0, "round %d: the waiter did not finish within 1 s", r);
			break;
		}
		rounds = r;
	}
	WRITE_ONCE(ws.stop, 1);
	wake_up(&ws.wq);
	KTEST_EXPECT_MSG(wait_for_completion_timeout(&exited, msecs_to_jiffies(5000)),
			 "the waiter thread did not exit");
	printk("wait.stack: %d rounds, waiter on CPU %u, waker on CPU %u, race delay %d us: "
	       "canary covered the dead entry %d times, overwritten %d times\n",
	       rounds, other, me, wait_race_delay_us, ws.covered, ws.hits);
	KTEST_EXPECT_MSG(ws.hits == 0,
			 "round %d: the waker wrote %#llx into the waiter's dead frame "
			 "(%+d bytes from the dead entry's prev), %d of %d rounds",
			 ws.hit_round, (unsigned long long)ws.hit_val, ws.hit_off, ws.hits, rounds);
	KTEST_EXPECT_MSG(ws.covered * 2 > rounds,
			 "the canary covered the dead entry in only %d of %d rounds", ws.covered, rounds);
	KTEST_EXPECT(!waitqueue_active(&ws.wq));
out:
	set_cpus_allowed_ptr(current, &cpu_possible_mask);
}

/* ---- wait.exclusive: wake_up() wakes every non-exclusive waiter and one
 * exclusive one; the count of exclusive wake-ups is not spent on the others. */

#define WX_SHARED    3
#define WX_EXCLUSIVE 3

static struct {
	struct wait_queue_head wq;
	int go;
	int woken_shared, woken_excl, ready;
} wx;

/* An exclusive waiter may pass once per exclusive wake-up so far. */
static bool wx_claim(void)
{
	int c = __atomic_load_n(&wx.woken_excl, __ATOMIC_ACQUIRE);

	while (c < READ_ONCE(wx.go))
		if (__atomic_compare_exchange_n(&wx.woken_excl, &c, c + 1, false,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return true;
	return false;
}

static int wx_waiter(void *arg)
{
	bool excl = arg != NULL;
	DEFINE_WAIT(w);

	__atomic_add_fetch(&wx.ready, 1, __ATOMIC_RELEASE);
	for (;;) {
		if (excl)
			prepare_to_wait_exclusive(&wx.wq, &w, TASK_UNINTERRUPTIBLE);
		else
			prepare_to_wait(&wx.wq, &w, TASK_UNINTERRUPTIBLE);
		if (excl ? wx_claim() : READ_ONCE(wx.go) > 0)
			break;
		schedule();
	}
	finish_wait(&wx.wq, &w);
	if (!excl)
		__atomic_add_fetch(&wx.woken_shared, 1, __ATOMIC_RELEASE);
	return 0;
}

KTEST(wait_exclusive, "wait.exclusive")
{
	u64 deadline;

	init_waitqueue_head(&wx.wq);
	wx.go = wx.woken_shared = wx.woken_excl = wx.ready = 0;
	/* Exclusive waiters first: they queue at the tail, the others at the
	 * head, so a wrong count would stop before the exclusive ones. */
	for (int i = 0; i < WX_EXCLUSIVE; i++)
		kthread_run(wx_waiter, (void *)1, "wxexcl/%d", i);
	for (int i = 0; i < WX_SHARED; i++)
		kthread_run(wx_waiter, NULL, "wxshared/%d", i);
	deadline = ktime_get_ns() + 2000000000ULL;
	while ((__atomic_load_n(&wx.ready, __ATOMIC_ACQUIRE) < WX_SHARED + WX_EXCLUSIVE ||
		!waitqueue_active(&wx.wq)) && ktime_get_ns() < deadline)
		msleep(1);
	msleep(20);   /* every waiter asleep on the queue */
	WRITE_ONCE(wx.go, 1);
	wake_up(&wx.wq);
	msleep(50);
	KTEST_EXPECT_MSG(__atomic_load_n(&wx.woken_shared, __ATOMIC_ACQUIRE) == WX_SHARED,
			 "wake_up() woke %d of %d non-exclusive waiters", wx.woken_shared, WX_SHARED);
	KTEST_EXPECT_MSG(__atomic_load_n(&wx.woken_excl, __ATOMIC_ACQUIRE) == 1,
			 "wake_up() let %d exclusive waiters through, want 1", wx.woken_excl);
	/* The rest, one wake_up() each. */
	for (int i = 2; i <= WX_EXCLUSIVE; i++) {
		WRITE_ONCE(wx.go, i);
		wake_up(&wx.wq);
		msleep(20);
	}
	deadline = ktime_get_ns() + 2000000000ULL;
	while (__atomic_load_n(&wx.woken_excl, __ATOMIC_ACQUIRE) < WX_EXCLUSIVE && ktime_get_ns() < deadline)
		msleep(1);
	KTEST_EXPECT_MSG(wx.woken_excl == WX_EXCLUSIVE, "%d of %d exclusive waiters got through",
			 wx.woken_excl, WX_EXCLUSIVE);
	deadline = ktime_get_ns() + 1000000000ULL;
	while (waitqueue_active(&wx.wq) && ktime_get_ns() < deadline)
		msleep(1);
	KTEST_EXPECT(!waitqueue_active(&wx.wq));
}
