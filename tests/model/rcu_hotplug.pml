/*
 * rcu_hotplug.pml — RCU's books against CPU hotplug, as a Promela model
 * checked by spin (tests/unit/test_rcu_model.py runs it in `make test`).
 *
 * What is modelled (kernel/rcu/tree.c, tree_hotplug.c): one leaf rcu_node,
 * CPU 0 always online, CPU 1 going up and down forever. CPU 1's life:
 *
 *   offline ─▶ STARTING report: qsmaskinitnext |= 2 (ofl_lock) ─▶ online bit
 *     ─▶ readers and quiescent states ─▶ online bit cleared (stop_machine)
 *     ─▶ "last gasps": more readers (the vCPU may stall here for long)
 *     ─▶ report dead: qsmaskinitnext &= ~2, and if the running GP still
 *        waits for CPU 1, its QS (ofl_lock) ─▶ offline
 *
 * The grace-period kthread: init (under ofl_lock: qsmask := qsmaskinit :=
 * qsmaskinitnext, or := the online mask with -DBUG=1, the injected bug
 * rcu.bug_gp_init_online_mask), then waits for qsmask == 0 and ends the GP.
 * CPU 0 reports its QS at any time; CPU 1 only outside a reader.
 *
 * The property, asserted at the end of every reader: no grace period that
 * started after the reader began has ended yet (gps_completed <= the number
 * of GPs started when the reader began). spin must find no violation in
 * the correct model and must find one, with its trail, with -DBUG=1.
 */
#ifndef BUG
#define BUG 0
#endif
#define MAXGP 3

byte qsmaskinitnext = 1;   /* CPU 0 */
byte online = 1;
byte qsmask = 0;
bool running = false;
byte gps_started = 0;
byte gps_completed = 0;
bool in_reader = false;

inline reader()
{
	byte s;
	d_step { in_reader = true; s = gps_started }
	/* ... the reader runs while everything else interleaves ... */
	assert(gps_completed <= s);
	in_reader = false
}

active proctype gp_kthread()
{
	do
	:: atomic { !running && gps_started < MAXGP ->
		/* ofl_lock held: no report interleaves with the copy */
		if
		:: BUG -> qsmask = online
		:: else -> qsmask = qsmaskinitnext
		fi;
		gps_started++;
		running = true }
	:: atomic { running && qsmask == 0 -> gps_completed++; running = false }
	od
}

active proctype cpu0()
{
	do
	:: atomic { qsmask & 1 -> qsmask = qsmask & ~1 }
	od
}

active proctype cpu1()
{
offline:
	atomic { qsmaskinitnext = qsmaskinitnext | 2 };   /* STARTING report */
	online = online | 2;
	do
	:: reader()
	:: atomic { !in_reader && (qsmask & 2) -> qsmask = qsmask & ~2 }
	:: break
	od;
	online = online & ~2;                            /* take_cpu_down */
	do
	:: reader()                                      /* last gasps */
	:: break
	od;
	atomic {                                         /* rcutree_report_cpu_dead */
		qsmaskinitnext = qsmaskinitnext & ~2;
		qsmask = qsmask & ~2
	};
	goto offline
}
