/*
 * LAB tree-rcu, part 2: rcu_barrier() — wait for every callback queued
 * before the call to have been invoked (read docs/rcu.md, "Callbacks").
 *
 * Each CPU invokes its callbacks in order, so one callback entrained behind
 * the last callback of every CPU that has any is enough. The pieces:
 *
 * rcu_barrier_entrain(rdp): called with rcu_state.barrier_lock held and
 *   interrupts off, on rdp's own CPU or (for a CPU out of RCU's books) on
 *   any CPU; also by the callback migration of a dead CPU (tree_hotplug.c),
 *   for a barrier that has not reached that CPU yet. Once per barrier
 *   (rdp->barrier_seq_snap against rcu_state.barrier_sequence): count the
 *   CPU in (rcu_state.barrier_cpu_count), put rdp->barrier_head with
 *   rcu_barrier_callback behind the last callback (rcu_segcblist_entrain);
 *   a CPU with nothing queued is counted out again. Count
 *   rcu_state.n_barrier_cbs.
 *
 * rcu_barrier(): might sleep; one barrier at a time (rcu_barrier_mutex);
 *   a barrier that ran completely after the call already did our work
 *   (rcu_seq_snap / rcu_seq_done on rcu_state.barrier_sequence); otherwise
 *   start one (rcu_seq_start), hold the count at 2 while posting, visit
 *   every possible CPU:
 *     - no callbacks: nothing to wait for, and nothing posted (a CPU that
 *       never came online has none: with -smp 2,maxcpus=8 six CPUs would
 *       never invoke anything you post to them);
 *     - out of RCU's books (!rdp->rcu_online): entrain directly;
 *     - in the books: the CPU entrains for itself, by IPI
 *       (smp_call_function_single, wait=1); it fails for a CPU between
 *       leaving cpu_online_mask and leaving RCU's books: sleep a tick and
 *       look again.
 *   Then drop the 2, wait for rcu_barrier_completion, rcu_seq_end.
 *   Do NOT take the CPU hotplug lock: hotplug callbacks call rcu_barrier().
 *
 * Until you write it, rcu_barrier() returns at once, waiting for nothing.
 */
void rcu_barrier_entrain(struct rcu_data *rdp)
{
	(void)rdp;
	(void)rcu_barrier_callback;
}

void rcu_barrier(void)
{
	might_sleep();
	mutex_lock(&rcu_barrier_mutex);
	(void)rcu_barrier_completion;
	mutex_unlock(&rcu_barrier_mutex);
}
