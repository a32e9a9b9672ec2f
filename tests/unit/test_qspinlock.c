// UNIT_SOURCES: kernel/locking/qspinlock.c kernel/locking/pv_ops.c kernel/locking/tas.c kernel/locking/ticket.c kernel/locking/lockstat.c kernel/locking/pv_policy.c
/*
 * test_qspinlock.c — proves the lock algorithms under real concurrency.
 *
 * The kernel's own kernel/locking sources are compiled for the host (see
 * kernel/locking/lock_env.h) and driven by pthreads, one thread per
 * simulated CPU (smp_processor_id() = the thread's index). Each run has N
 * threads (2..16) hammer one or several locks; inside every critical section
 * a thread checks that the lock's `owner` is free, claims it, bumps a plain
 * (non-atomic) counter, holds a moment, and checks `owner` again. A run
 * passes when no overlap was seen and every lock's counter equals the
 * acquisitions made on it exactly.
 *
 * The machine model (what a run exercises):
 *  - Nesting, simulated: before a task-level acquisition a thread sets its
 *    CPU's nesting count to 0..4, as if 0..4 outer contexts were already
 *    waiting, so MCS nodes 1..3 and the overflow (trylock) path run under
 *    contention.
 *  - Nesting, asynchronous: another thread fires signals at the workers.
 *    SIGUSR1 is an interrupt (blocked by lock_irq_save, like cli), three more
 *    signals are NMI-like levels (never blocked, lock_in_nmi() is true).
 *    Level k's handler takes a lock of its own level only, so nothing can
 *    deadlock, and a handler landing in a slow path takes the next node.
 *  - Paravirt: `hlt` is a futex wait on a per-CPU "pending kick" word. A
 *    kick sets it. lock_irq_save() consumes it (an IPI arriving while
 *    interrupts are on is taken at once, not remembered), a halt waits for
 *    it, and an interrupt ends a halt. This is the halt+IPI semantics in
 *    which skipping pv_wait's re-check really loses wake-ups.
 *  - Injected bugs: each runs in a child process that must report the
 *    failure: an exclusivity violation, a panic from the PV invariant
 *    checks, or a hang seen by its watchdog (no progress for 2 s).
 *
 * main() returns 0 when every run passes and every injected bug is caught.
 * alarm() bounds the whole test, so a hang reports FAIL instead of hanging.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <grace/lockstat.h>
#include <grace/qspinlock.h>
#include <grace/qspinlock_lab.h>
#include <grace/qspinlock_pv.h>
#include <grace/simple_locks.h>
#include "../../kernel/locking/lock_env.h"

#define MAX_THREADS 16
#define NLEVELS 5          /* 0 task, 1 irq, 2..4 nmi-like */
#define LOCKS_PER_LEVEL 4

static int failures;
static bool in_child;

/* A child running an injected bug is expected to fail: don't shout FAIL. */
static const char *fail_tag(void) { return in_child ? "  child: " : "FAIL "; }

/* ------------------------------------------------------------------ */
/* The host side of lock_env.h and the kernel symbols the sources use. */

static _Thread_local int tl_cpu;
static _Thread_local int tl_irqs_off;
static _Thread_local int tl_nmi_depth;
static _Thread_local unsigned int tl_relax;
static int kick_word[MAX_THREADS];   /* futex: a kick is pending for this CPU */
static sigset_t irq_sigset;

unsigned int smp_processor_id(void) { return (unsigned int)tl_cpu; }

void lock_cpu_relax(void)
{
	__builtin_ia32_pause();
	/* More threads than host cores: let a preempted holder run. */
	if ((++tl_relax & 63) == 0)
		sched_yield();
}

bool lock_irq_save(void)
{
	bool were_on = !tl_irqs_off;

	if (were_on) {
		pthread_sigmask(SIG_BLOCK, &irq_sigset, NULL);
		tl_irqs_off = 1;
	}
	/* An IPI that arrived while interrupts were on was taken already. */
	__atomic_store_n(&kick_word[tl_cpu], 0, __ATOMIC_SEQ_CST);
	return were_on;
}

void lock_irq_restore(bool were_on)
{
	if (were_on) {
		tl_irqs_off = 0;
		pthread_sigmask(SIG_UNBLOCK, &irq_sigset, NULL);
	}
}

bool lock_in_nmi(void) { return tl_nmi_depth > 0; }

static bool host_halt(bool irqs_were_on)
{
	int *w = &kick_word[tl_cpu];

	if (irqs_were_on) {   /* sti; hlt */
		tl_irqs_off = 0;
		pthread_sigmask(SIG_UNBLOCK, &irq_sigset, NULL);
	}
	while (!__atomic_exchange_n(w, 0, __ATOMIC_SEQ_CST)) {
		long r = syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);

		if (r == -1 && errno == EINTR)
			break;   /* an interrupt ends hlt */
	}
	if (irqs_were_on) {
		pthread_sigmask(SIG_BLOCK, &irq_sigset, NULL);
		tl_irqs_off = 1;
	}
	return true;
}

static void host_kick(int cpu)
{
	__atomic_store_n(&kick_word[cpu], 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &kick_word[cpu], FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static const struct pv_lock_ops host_pv_ops = {
	.backend = PV_IPI, .name = "host-futex", .halt = host_halt, .kick = host_kick,
};

#ifndef HAVE_HOST_SHIM
int printk(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: Kernel panic - not syncing: ", in_child ? "child" : "FAIL");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	_exit(in_child ? 12 : 1);
}
#endif

/* ------------------------------------------------------------------ */
/* Locks under test and the critical-section check. */

enum kind { K_QSPIN, K_QSPIN_PV, K_TAS, K_TICKET };
static const char *const kind_names[] = { "qspinlock", "qspinlock-pv", "tas", "ticket" };

struct tlock {
	union {
		struct qspinlock q;
		tas_lock_t t;
		ticket_lock_t k;
	} u;
	volatile int owner;
	volatile long count;        /* bumped non-atomically inside the lock */
	long acquired[MAX_THREADS]; /* per thread, to know the exact expected total */
} __attribute__((aligned(64)));

static struct tlock locks[NLEVELS][LOCKS_PER_LEVEL];
static enum kind cur_kind;
static long violations;
static int hold_spins = 100;

static void tl_lock(struct tlock *l)
{
	switch (cur_kind) {
	case K_QSPIN: case K_QSPIN_PV: queued_spin_lock(&l->u.q); break;
	case K_TAS: tas_spin_lock(&l->u.t); break;
	case K_TICKET: ticket_spin_lock(&l->u.k); break;
	}
}

static void tl_unlock(struct tlock *l)
{
	switch (cur_kind) {
	case K_QSPIN: case K_QSPIN_PV: queued_spin_unlock(&l->u.q); break;
	case K_TAS: tas_spin_unlock(&l->u.t); break;
	case K_TICKET: ticket_spin_unlock(&l->u.k); break;
	}
}

static void critical_section(struct tlock *l)
{
	int me = tl_cpu;

	tl_lock(l);
	if (l->owner != -1)
		__atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
	l->owner = me;
	l->count = l->count + 1;
	for (int i = 0; i < hold_spins; i++)
		__builtin_ia32_pause();
	if (l->owner != me)
		__atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
	l->owner = -1;
	l->acquired[me]++;
	tl_unlock(l);
}

/* ------------------------------------------------------------------ */
/* Signals as interrupts and NMIs. */

static int level_sig[NLEVELS];   /* [1] = SIGUSR1 (irq), [2..4] NMI-like */
static _Thread_local unsigned int tl_seed;
static long signal_acq[NLEVELS];

static unsigned int rnd(void)
{
	tl_seed = tl_seed * 1103515245u + 12345u;
	return tl_seed >> 16;
}

static void level_handler(int sig)
{
	int level = 0, saved_errno = errno;

	for (int k = 1; k < NLEVELS; k++)
		if (level_sig[k] == sig)
			level = k;
	if (level == 1)
		tl_irqs_off++;       /* interrupts are off in a handler */
	else
		tl_nmi_depth++;
	critical_section(&locks[level][rnd() % LOCKS_PER_LEVEL]);
	__atomic_fetch_add(&signal_acq[level], 1, __ATOMIC_RELAXED);
	if (level == 1) {
		tl_irqs_off--;
		/* Returning from an interrupt ends a `hlt` the task was in. */
		__atomic_store_n(&kick_word[tl_cpu], 1, __ATOMIC_SEQ_CST);
	} else {
		tl_nmi_depth--;
	}
	errno = saved_errno;
}

static void install_handlers(void)
{
	level_sig[1] = SIGUSR1;
	level_sig[2] = SIGUSR2;
	level_sig[3] = SIGRTMIN;
	level_sig[4] = SIGRTMIN + 1;
	sigemptyset(&irq_sigset);
	sigaddset(&irq_sigset, SIGUSR1);
	for (int k = 1; k < NLEVELS; k++) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = level_handler;
		sa.sa_flags = SA_RESTART;
		sigemptyset(&sa.sa_mask);
		/* Only higher levels may interrupt level k (and never the irq). */
		for (int j = 1; j <= k; j++)
			sigaddset(&sa.sa_mask, level_sig[j]);
		sigaddset(&sa.sa_mask, SIGUSR1);
		sigaction(level_sig[k], &sa, NULL);
	}
}

/* ------------------------------------------------------------------ */
/* One run. */

struct run_cfg {
	const char *name;
	enum kind kind;
	int threads;
	int nlocks;              /* task-level locks used (1..LOCKS_PER_LEVEL) */
	long iters;              /* task-level acquisitions per thread */
	bool sim_nesting;
	bool signals;
	int pv_spin;             /* pv_spin_threshold for PV runs */
	unsigned int bugs;
};

static const struct run_cfg *cfg;
static pthread_t workers[MAX_THREADS];
static long progress[MAX_THREADS];
static volatile bool workers_done;
static int workers_finished;
static pthread_barrier_t start_barrier;

static void *worker(void *arg)
{
	tl_cpu = (int)(long)arg;
	tl_seed = 0x9e3779b9u * (unsigned int)(tl_cpu + 1);
	pthread_barrier_wait(&start_barrier);
	for (long i = 0; i < cfg->iters; i++) {
		struct tlock *l = &locks[0][rnd() % (unsigned int)cfg->nlocks];
		int saved = 0;

		if (cfg->sim_nesting && (cur_kind == K_QSPIN || cur_kind == K_QSPIN_PV)) {
			/* Pretend 0..4 outer contexts of this CPU are waiting. */
			saved = qnodes[tl_cpu].nesting;
			qnodes[tl_cpu].nesting = (int)(rnd() % 5);
		}
		critical_section(l);
		if (cfg->sim_nesting && (cur_kind == K_QSPIN || cur_kind == K_QSPIN_PV))
			qnodes[tl_cpu].nesting = saved;
		__atomic_store_n(&progress[tl_cpu], i + 1, __ATOMIC_RELAXED);
	}
	/* Stay alive (and interruptible) until the interrupter has stopped. */
	__atomic_fetch_add(&workers_finished, 1, __ATOMIC_SEQ_CST);
	while (!workers_done)
		usleep(1000);
	return NULL;
}

static void *interrupter(void *arg)
{
	unsigned int seed = 12345;
	struct timespec ts = { 0, 20000 };   /* 20 us between signals */

	(void)arg;
	while (!workers_done) {
		seed = seed * 1103515245u + 12345u;
		int t = (int)((seed >> 16) % (unsigned int)cfg->threads);
		int level = 1 + (int)((seed >> 8) % (NLEVELS - 1));

		pthread_kill(workers[t], level_sig[level]);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static long total_progress(void)
{
	long sum = 0;

	for (int i = 0; i < cfg->threads; i++)
		sum += __atomic_load_n(&progress[i], __ATOMIC_RELAXED);
	return sum;
}

static void *watchdog(void *arg)
{
	long last = -1;
	int still = 0;

	(void)arg;
	while (!workers_done) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		long now = total_progress();

		nanosleep(&ts, NULL);
		still = (now == last) ? still + 1 : 0;
		last = now;
		if (still >= 20) {   /* 2 s without one acquisition */
			fprintf(in_child ? stderr : stdout, "%swatchdog: no progress for 2 s in %s (hang)\n",
				in_child ? "  " : "FAIL ", cfg->name);
			_exit(11);
		}
	}
	return NULL;
}

static void reset_state(void)
{
	memset(locks, 0, sizeof(locks));
	for (int k = 0; k < NLEVELS; k++)
		for (int i = 0; i < LOCKS_PER_LEVEL; i++)
			locks[k][i].owner = -1;
	memset(qnodes, 0, sizeof(qnodes));
	memset(progress, 0, sizeof(progress));
	memset(signal_acq, 0, sizeof(signal_acq));
	memset(kick_word, 0, sizeof(kick_word));
	violations = 0;
	lockstat_reset();
}

/* Returns 0 when the run was clean; prints FAIL lines otherwise. */
static int run(const struct run_cfg *c)
{
	pthread_t irq_thread, wd_thread;
	struct timespec t0, t1;
	int bad = 0;

	cfg = c;
	cur_kind = c->kind;
	reset_state();
	qspinlock_bugs = c->bugs;
	pv_spin_threshold = c->pv_spin ? c->pv_spin : 64;
	pv_lock_ops_install(c->kind == K_QSPIN_PV ? &host_pv_ops : &pv_lock_ops_native);
	workers_done = false;
	workers_finished = 0;
	pthread_barrier_init(&start_barrier, NULL, (unsigned int)c->threads);
	clock_gettime(CLOCK_MONOTONIC, &t0);

	for (int i = 0; i < c->threads; i++)
		pthread_create(&workers[i], NULL, worker, (void *)(long)i);
	pthread_create(&wd_thread, NULL, watchdog, NULL);
	if (c->signals)
		pthread_create(&irq_thread, NULL, interrupter, NULL);
	while (__atomic_load_n(&workers_finished, __ATOMIC_SEQ_CST) < c->threads)
		usleep(1000);
	workers_done = true;
	if (c->signals)
		pthread_join(irq_thread, NULL);
	for (int i = 0; i < c->threads; i++)
		pthread_join(workers[i], NULL);
	pthread_join(wd_thread, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	/* Exactness: every lock's plain counter equals its acquisitions. */
	long task_total = 0, all_total = 0;
	for (int k = 0; k < NLEVELS; k++) {
		for (int i = 0; i < LOCKS_PER_LEVEL; i++) {
			long expect = 0;

			for (int t = 0; t < c->threads; t++)
				expect += locks[k][i].acquired[t];
			if (locks[k][i].count != expect) {
				printf("%s%s: lock[%d][%d] counter %ld, acquisitions %ld\n",
				       fail_tag(), c->name, k, i, locks[k][i].count, expect);
				bad = 1;
			}
			if (k == 0)
				task_total += expect;
			all_total += expect;
		}
	}
	if (task_total != c->iters * c->threads) {
		printf("%s%s: %ld task acquisitions, expected %ld\n", fail_tag(), c->name, task_total,
		       c->iters * c->threads);
		bad = 1;
	}
	if (violations) {
		printf("%s%s: %ld exclusivity violations\n", fail_tag(), c->name, violations);
		bad = 1;
	}

	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	enum lock_class cls = c->kind == K_TAS ? LOCK_CLASS_TAS :
			      c->kind == K_TICKET ? LOCK_CLASS_TICKET : lockstat_qspinlock_class();
	u64 st[LS_NR_EVENTS];
	for (int e = 0; e < LS_NR_EVENTS; e++)
		st[e] = lockstat_total(cls, (enum lockstat_event)e);
	if (!in_child)
		printf("  %-34s %2d thr %7ld acq %5.2fs  fast %llu pend %llu queued %llu "
		       "wait %llu kick %llu spur %llu steal %llu ovf %llu\n",
		       c->name, c->threads, all_total, secs,
		       (unsigned long long)st[LS_FAST], (unsigned long long)st[LS_PENDING],
		       (unsigned long long)st[LS_QUEUED], (unsigned long long)st[LS_PV_WAIT],
		       (unsigned long long)st[LS_PV_KICK], (unsigned long long)st[LS_SPURIOUS],
		       (unsigned long long)st[LS_STEAL], (unsigned long long)st[LS_NEST_OVERFLOW]);

	/* Post-conditions of the algorithm itself. */
	for (int t = 0; t < MAX_THREADS; t++) {
		if (qnodes[t].nesting != 0) {
			printf("%s%s: CPU %d left nesting %d\n", fail_tag(), c->name, t, qnodes[t].nesting);
			bad = 1;
		}
	}
	for (int k = 0; k < NLEVELS; k++) {
		for (int i = 0; i < LOCKS_PER_LEVEL; i++) {
			u32 v = locks[k][i].u.q.val;

			if ((c->kind == K_QSPIN || c->kind == K_QSPIN_PV) && v != 0) {
				printf("%s%s: lock[%d][%d] word %#x after the run\n",
				       fail_tag(), c->name, k, i, v);
				bad = 1;
			}
		}
	}
	if (c->kind == K_QSPIN_PV && pv_hash_entries_in_use() != 0) {
		printf("%s%s: %u PV hash entries left\n", fail_tag(), c->name,
		       pv_hash_entries_in_use());
		bad = 1;
	}
	/* The run must have exercised what it claims to. */
	if (!in_child && (c->kind == K_QSPIN || c->kind == K_QSPIN_PV) && c->threads > 2 &&
	    !st[LS_QUEUED]) {
		printf("%s%s: the MCS queue was never used\n", fail_tag(), c->name);
		bad = 1;
	}
	if (!in_child && c->sim_nesting && !st[LS_NEST_OVERFLOW]) {
		printf("%s%s: the nesting overflow path was never taken\n", fail_tag(), c->name);
		bad = 1;
	}
	if (!in_child && c->kind == K_QSPIN_PV && c->threads > 2 &&
	    (!st[LS_PV_WAIT] || !st[LS_PV_KICK])) {
		printf("%s%s: PV waits/kicks never happened\n", fail_tag(), c->name);
		bad = 1;
	}
	if (!in_child && c->signals) {
		long deep = signal_acq[2] + signal_acq[3] + signal_acq[4];
		if (!signal_acq[1] || !deep) {
			printf("%s%s: interrupt levels not exercised (%ld irq, %ld nmi)\n",
			       fail_tag(), c->name, signal_acq[1], deep);
			bad = 1;
		}
	}
	return bad;
}

/* ------------------------------------------------------------------ */
/* Injected bugs: each must make a run fail, in a child process. */

static int expect_bug_detected(const struct run_cfg *c)
{
	pid_t pid;
	int status;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		in_child = true;
		alarm(10);   /* backstop; the watchdog should fire first */
		int bad = 0;
		for (int round = 0; round < 6 && !bad; round++)
			bad = run(c);
		_exit(bad ? 10 : 0);
	}
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		printf("%s%s: injected bug was NOT detected\n", fail_tag(), c->name);
		return 1;
	}
	const char *how = !WIFEXITED(status) ? "killed (alarm backstop)" :
			  WEXITSTATUS(status) == 10 ? "exclusivity/count check failed" :
			  WEXITSTATUS(status) == 11 ? "watchdog caught a hang" :
			  WEXITSTATUS(status) == 12 ? "invariant check panicked" : "failed";
	printf("  %-34s detected: %s\n", c->name, how);
	return 0;
}

static void on_alarm(int sig)
{
	static const char msg[] = "FAIL test_qspinlock: timed out (a hang?)\n";

	(void)sig;
	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

/* The 4-thread single-lock runs oversubscribe a 2-core host (a hand-over
 * waits for a descheduled thread: 9-13 s each under make test's load at
 * 6000/4000 per thread), so they are smaller. */
static const struct run_cfg runs[] = {
	{ "native 1 lock",                 K_QSPIN,    2, 1, 40000, false, false, 0, 0 },
	{ "native 1 lock",                 K_QSPIN,    4, 1,  3000, false, false, 0, 0 },
	{ "native 4 locks, nesting",       K_QSPIN,    8, 4,  8000, true,  false, 0, 0 },
	{ "native 4 locks, nesting+signals", K_QSPIN, 16, 4,  2500, true,  true,  0, 0 },
	{ "pv 1 lock",                     K_QSPIN_PV, 4, 1, 15000, false, false, 64, 0 },
	{ "pv 1 lock",                     K_QSPIN_PV, 16, 1, 2500, false, false, 16, 0 },
	{ "pv 4 locks, nesting+signals",   K_QSPIN_PV, 16, 4, 2500, true,  true,  32, 0 },
	{ "tas 1 lock",                    K_TAS,      8, 1,  8000, false, false, 0, 0 },
	{ "ticket 1 lock",                 K_TICKET,   4, 1,  2000, false, false, 0, 0 },
};

static const struct run_cfg bug_runs[] = {
	{ "bug mcs_handover (native)",     K_QSPIN,    8, 1, 20000, false, false, 0, QSPIN_BUG_MCS_HANDOVER },
	{ "bug mcs_handover (pv)",         K_QSPIN_PV, 8, 1, 20000, false, false, 32, QSPIN_BUG_MCS_HANDOVER },
	{ "bug pv_drop_kick",              K_QSPIN_PV, 8, 1, 20000, false, false, 32, QSPIN_BUG_PV_DROP_KICK },
	{ "bug pv_lost_wakeup",            K_QSPIN_PV, 8, 1, 20000, false, false, 8, QSPIN_BUG_PV_LOST_WAKEUP },
};

int main(int argc, char **argv)
{
	signal(SIGALRM, on_alarm);
	alarm(40);
	setvbuf(stdout, NULL, _IOLBF, 0);
	install_handlers();

	/* `test_qspinlock bugs` / `test_qspinlock clean` run one half only. */
	bool do_clean = argc < 2 || strcmp(argv[1], "bugs");
	bool do_bugs = argc < 2 || strcmp(argv[1], "clean");

	if (do_clean) {
		printf("concurrency runs (must be exact):\n");
		for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
			failures += run(&runs[i]);
	}
	if (do_bugs) {
		printf("injected bugs (each must be caught):\n");
		for (size_t i = 0; i < sizeof(bug_runs) / sizeof(bug_runs[0]); i++)
			failures += expect_bug_detected(&bug_runs[i]);
	}
	if (failures) {
		printf("test_qspinlock: %d FAILED\n", failures);
		return 1;
	}
	printf("test_qspinlock: all passed\n");
	return 0;
}
