/*
 * flip.c - /init for the Linux anchor measurement (tools/linux-anchor).
 *
 * Times how long Linux takes to flip one static key when the flip is
 * driven from user space: each write of "1" or "0" to
 * /proc/sys/kernel/sched_schedstats enables or disables the
 * sched_schedstats static key, which patches every site of that key
 * with text_poke_bp (int3 + three cross-CPU syncs).  Each write(2) is
 * timed with CLOCK_MONOTONIC.
 *
 * Phases: IDLE (other CPUs idle) and BUSY (one spinning child pinned
 * to each CPU 1..N-1, parent pinned to CPU 0).  Prints
 *   BENCH linux_static_key_flip_{idle,busy}_smp<N>_{median,max} <us> us
 * then a control with the CPUs idle again, writes that do not change
 * the key (sysctl path only):
 *   BENCH linux_sysctl_noop_write_idle_smp<N>_{median,max} <us> us
 * and powers the machine off.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FLIPS 20
#define MAXCPU 64

static const char *knob = "/proc/sys/kernel/sched_schedstats";

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void sleep_us(long us)
{
	struct timespec t = { us / 1000000, (us % 1000000) * 1000 };
	while (nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

static void pin(int cpu)
{
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	if (sched_setaffinity(0, sizeof s, &s) != 0)
		printf("flip: sched_setaffinity(%d): %s\n", cpu, strerror(errno));
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* One flip: write the value, return microseconds spent in write(2). */
static double flip(int value)
{
	char c = value ? '1' : '0';
	int fd = open(knob, O_WRONLY);
	if (fd < 0) {
		printf("flip: open %s: %s\n", knob, strerror(errno));
		return -1;
	}
	double t0 = now_us();
	ssize_t n = write(fd, &c, 1);
	double t1 = now_us();
	if (n != 1)
		printf("flip: write: %s\n", strerror(errno));
	close(fd);
	return t1 - t0;
}

/*
 * FLIPS timed writes, 5 ms apart.  noop == 0: alternate 1, 0, 1, 0 (the
 * key starts off, so every write changes it).  noop == 1: write 0 each
 * time to a key that is already off, which costs the sysctl path without
 * any patching - the control.
 */
static void phase(const char *name, int ncpu, int noop)
{
	double t[FLIPS];
	for (int i = 0; i < FLIPS; i++) {
		t[i] = flip(noop ? 0 : (i & 1) == 0);
		sleep_us(5000);
	}
	printf("RAW %s_smp%d", name, ncpu);
	for (int i = 0; i < FLIPS; i++)
		printf(" %.0f", t[i]);
	printf("\n");
	qsort(t, FLIPS, sizeof t[0], cmp);
	double med = (t[FLIPS / 2 - 1] + t[FLIPS / 2]) / 2;
	const char *what = noop ? "sysctl_noop_write" : "static_key_flip";
	printf("BENCH linux_%s_%s_smp%d_median %.0f us\n", what, name, ncpu, med);
	printf("BENCH linux_%s_%s_smp%d_max %.0f us\n", what, name, ncpu, t[FLIPS - 1]);
	fflush(stdout);
}

int main(void)
{
	pid_t kids[MAXCPU];
	int nk = 0;

	mkdir("/proc", 0555);
	if (mount("proc", "/proc", "proc", 0, NULL) != 0)
		printf("flip: mount proc: %s\n", strerror(errno));
	setvbuf(stdout, NULL, _IOLBF, 0);

	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu > MAXCPU)
		ncpu = MAXCPU;
	printf("flip: %d CPUs online\n", ncpu);
	sleep_us(1000000); /* let boot-time work settle */

	/* Start from a known state: key off. */
	flip(0);
	sleep_us(5000);

	pin(0);
	phase("idle", ncpu, 0);

	for (int c = 1; c < ncpu; c++) {
		pid_t p = fork();
		if (p == 0) {
			pin(c);
			for (volatile unsigned long x = 0;; x++)
				;
		}
		if (p > 0)
			kids[nk++] = p;
	}
	sleep_us(200000); /* let the spinners reach their CPUs */
	phase("busy", ncpu, 0);

	for (int i = 0; i < nk; i++)
		kill(kids[i], SIGKILL);
	for (int i = 0; i < nk; i++)
		waitpid(kids[i], NULL, 0);

	/* Control, CPUs idle again: the key is off, write 0 again. */
	sleep_us(200000);
	flip(0);
	phase("idle", ncpu, 1);

	printf("flip: done\n");
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
