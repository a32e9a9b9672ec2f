/*
 * rcu_fwd_progress.h — rcutorture's callback-flood forward-progress test
 * (rcu_fwd_progress.c), as rcutorture.c drives it.
 */
#ifndef GRACE_RCU_FWD_PROGRESS_H
#define GRACE_RCU_FWD_PROGRESS_H

#include <grace/types.h>

struct rcu_fwd_result {
	unsigned int cpu_first, cpu_last;   /* where the flood started and ended */
	u64 flood_ns;                       /* how long it posted */
	unsigned long posted, invoked;      /* callbacks, during the flood */
	unsigned long fresh;                /* posted for the first time (the rest were laundered) */
	unsigned long max_in_flight, cap_waits;
	unsigned int max_laps;              /* most trips one callback made through call_rcu */
	unsigned long gps;                  /* grace periods that ended during the flood */
	u64 backlog_ns, bound_ns;           /* max in flight as posting time; its bound */
	u64 drain_ns;                       /* flood end to the last callback's invocation */
	bool drained;                       /* every callback ran within the drain bound */
};

/*
 * One flood: call_rcu() as fast as this thread can for flood_ms, reusing
 * ("laundering") each callback as soon as it has been invoked and drawing a
 * fresh one only while fewer than max_cbs are in flight. Returns 0 when the
 * flood made forward progress (see rcu_fwd_progress.c), -1 with a reason in
 * why, 1 if *stop ended it early. Then rcu_fwd_drain() waits up to drain_ms
 * for every callback to run (0; -1 with a reason; 1 if *stop came first)
 * and frees them. Both sleep; call from one kernel thread.
 */
int rcu_fwd_flood(unsigned int flood_ms, unsigned int max_cbs, const volatile bool *stop,
		  struct rcu_fwd_result *r, char *why, size_t why_len);
int rcu_fwd_drain(unsigned int drain_ms, const volatile bool *stop, struct rcu_fwd_result *r,
		  char *why, size_t why_len);

#endif
