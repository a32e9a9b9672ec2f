/*
 * rcu_bugs.c — the injected RCU bugs: one boot parameter each, all off by
 * default, each caught by rcutorture in a scenario tests/scenarios/rcu-bug-*.
 * They live here so the algorithm's files carry only a flag test at the
 * point each bug bends; docs/rcu.md has the table of what catches what.
 */
#include <grace/param.h>
#include <grace/types.h>

#include "rcu_seq.h"

bool rcu_bug_seq_cmp;
param_bool("rcu.bug_seq_cmp", rcu_bug_seq_cmp,
	   "INJECTED BUG: compare gp_seq with >=, wrong after the wrap (use with rcu.seq_wrap_gps)");
