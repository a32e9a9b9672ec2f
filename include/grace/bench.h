/*
 * bench.h — benchmarks that print `BENCH <name> <value> <unit>` lines.
 * `bench=NAME` on the command line runs one after SMP bring-up (kernel_init);
 * the `bench` shell command runs them on demand.
 */
#ifndef GRACE_BENCH_H
#define GRACE_BENCH_H

#include <grace/types.h>

void bench_from_param(void);          /* bench=locks */
int bench_locks(unsigned int ms);     /* kernel/locking/lock_bench.c; 0 = counts kept */
int bench_rcu(void);                  /* kernel/rcu/rcu_bench.c (also `rcu bench`) */
bool rcu_bench_from_param(void);      /* bench=rcu: true if it ran (kernel_init asks first) */

#endif
