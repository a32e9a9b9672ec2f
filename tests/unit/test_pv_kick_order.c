// UNIT_SOURCES: kernel/locking/pv_ops.c kernel/locking/tas.c kernel/locking/ticket.c kernel/locking/lockstat.c kernel/locking/pv_policy.c
/*
 * test_pv_kick_order.c — the Dekker pair of the PV hand-over, on the host's
 * real memory model.
 *
 * A queued PV waiter going to sleep (pv_wait_node) stores state = HALTED,
 * fences, and reads node->locked; its predecessor handing over
 * (mcs_pass_on -> pv_kick_node) stores node->locked = 1, fences, and reads
 * state with a cmpxchg. With both fences, at least one side sees the
 * other's store: the waiter does not halt, or the predecessor kicks it.
 * x86 keeps a store in the store buffer past a later load, so without the
 * waiter's fence both can miss — a waiter that halts with nobody left to
 * kick it. A VM under TCG hardly ever shows this (the store and the load
 * are adjacent instructions of one vCPU), but the host CPU does, so this
 * test runs the kernel's own functions (qspinlock.c is #included: they are
 * static) on two host threads, started together each round by a spin
 * barrier, and counts the rounds where the waiter halted and no kick came.
 *
 * The kicker's fence is followed by a `lock cmpxchg`, itself a full barrier
 * on x86, so removing only that fence cannot fail here (nor on any x86):
 * tests/mutants/33 is an equivalent mutant on this architecture.
 * Needs two host CPUs to run at once; with one, it says so and passes.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../kernel/locking/qspinlock.c"

static _Thread_local int tl_cpu;
unsigned int smp_processor_id(void) { return (unsigned int)tl_cpu; }
void lock_cpu_relax(void) { __builtin_ia32_pause(); }
static _Thread_local bool tl_irqs_off;
bool lock_irq_save(void) { bool on = !tl_irqs_off; tl_irqs_off = true; return on; }
void lock_irq_restore(bool were_on) { if (were_on) tl_irqs_off = false; }
bool lock_in_nmi(void) { return false; }

#define ROUNDS_MAX 4000000L
#define SECONDS 2

static struct mcs_node node;
static long round_no;            /* the round both threads are in */
static int arrived;              /* spin barrier */
static long kicked_round, kicker_done_round;
static long halts, lost, rounds_run;
static volatile bool stop;

static void spin_barrier(long r)
{
	/* Two threads: the second to arrive for round r opens it. */
	if (__atomic_add_fetch(&arrived, 1, __ATOMIC_ACQ_REL) == 2) {
		__atomic_store_n(&arrived, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&round_no, r, __ATOMIC_RELEASE);
	} else {
		while (__atomic_load_n(&round_no, __ATOMIC_ACQUIRE) != r)
			__builtin_ia32_pause();
	}
}

/* "hlt": the waiter would sleep until kicked. Wait for the kicker to finish
 * this round; if it did not kick, the real waiter would sleep for good. */
static bool litmus_halt(bool irqs_were_on)
{
	long r = __atomic_load_n(&round_no, __ATOMIC_ACQUIRE);

	(void)irqs_were_on;
	halts++;
	while (__atomic_load_n(&kicker_done_round, __ATOMIC_ACQUIRE) != r)
		__builtin_ia32_pause();
	if (__atomic_load_n(&kicked_round, __ATOMIC_ACQUIRE) != r)
		lost++;
	return true;
}

static void litmus_kick(int cpu)
{
	(void)cpu;
	__atomic_store_n(&kicked_round, __atomic_load_n(&round_no, __ATOMIC_RELAXED), __ATOMIC_RELEASE);
}

static const struct pv_lock_ops litmus_ops = {
	.backend = PV_IPI, .name = "litmus", .halt = litmus_halt, .kick = litmus_kick,
};

static void *waiter(void *arg)
{
	(void)arg;
	tl_cpu = 0;
	for (long r = 1; !stop; r++) {
		spin_barrier(r);
		pv_wait_node(&node, true);   /* spins once, announces HALTED, maybe halts */
		rounds_run = r;
		/* Next round's node: the kicker has finished with it (it is done
		 * before the barrier opens again). */
		while (__atomic_load_n(&kicker_done_round, __ATOMIC_ACQUIRE) != r)
			__builtin_ia32_pause();
		node.locked = 0;
		node.state = PV_NODE_RUNNING;
	}
	return NULL;
}

static void *kicker(void *arg)
{
	(void)arg;
	tl_cpu = 1;
	for (long r = 1; !stop; r++) {
		spin_barrier(r);
		mcs_pass_on(&node, true);    /* locked = 1, fence, cmpxchg state, kick */
		__atomic_store_n(&kicker_done_round, r, __ATOMIC_RELEASE);
		while (__atomic_load_n(&rounds_run, __ATOMIC_ACQUIRE) != r && !stop)
			__builtin_ia32_pause();
	}
	return NULL;
}

int main(void)
{
	pthread_t w, k;   /* never joined: see the end */
	struct timespec t0, t;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("test_pv_kick_order: one host CPU, the two sides never run at once: nothing to check\n");
		return 0;
	}
	pv_lock_ops = litmus_ops;
	pv_spin_threshold = 1;
	node.cpu = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_create(&w, NULL, waiter, NULL);
	pthread_create(&k, NULL, kicker, NULL);
	do {
		usleep(20000);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < SECONDS && __atomic_load_n(&rounds_run, __ATOMIC_RELAXED) < ROUNDS_MAX &&
		 !__atomic_load_n(&lost, __ATOMIC_RELAXED));
	stop = true;   /* the threads may sit in a wait: returning from main ends them */
	printf("test_pv_kick_order: %ld rounds, waiter halted in %ld, %ld lost wake-ups\n",
	       rounds_run, halts, lost);
	if (lost) {
		printf("FAIL test_pv_kick_order: %ld rounds where the waiter halted and its predecessor did not "
		       "kick (the HALTED store and the locked load reordered)\n", lost);
		return 1;
	}
	printf("PASS test_pv_kick_order\n");
	return 0;
}
