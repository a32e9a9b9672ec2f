		/*
		 * LAB hotplug-rollback: write the rollback.
		 *
		 * cpuhp_walk(cpu, target) has just failed: the CPU stands at
		 * st->state, somewhere between `start` and `target`, and a
		 * callback refused. Put it back exactly where the operation
		 * began, in reverse order, so that every startup that ran is
		 * undone by its teardown (and every teardown by its startup).
		 *
		 * - While walking back, st->rollback is true (the injection code
		 *   and the shell read it) and st->target says where the CPU is
		 *   going now.
		 * - A rollback step can fail too. Then there is nothing left to
		 *   undo with: say so and stop the machine (panic), naming the CPU,
		 *   where it was going and where it is stuck.
		 *
		 * Until you write it, a failed operation leaves the CPU half-way.
		 */
		(void)start;
