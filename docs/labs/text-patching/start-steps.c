	/*
	 * LAB text-patching, part 2: the steps of text_poke_bp (read this
	 * file's header comment and docs/patching.md first).
	 *
	 * The batch is published in bp_desc, so a CPU that hits an int3 at one
	 * of its sites emulates the site's new instruction. Now change the
	 * sites so that a CPU executing one sees the old instruction, int3, or
	 * the new instruction, never a mix. The tools, each for every site of
	 * the batch: write_int3(), write_tails(), write_byte0(tp, nr, new),
	 * step_sync(step, tp, nr) (the sync that ends step 1, 2 or 3: the
	 * byte trace of ktest patching.byte_trace records each), refresh() (see
	 * "Stale int3"; after the int3 step, follow it by a plain sync:
	 * bp_desc_storage.sync if set, else text_poke_sync()).
	 *
	 * ctl->after_int3, if set, runs once every CPU has seen the int3s
	 * (the live lock-op switch waits there for its barrier). If it fails,
	 * give up: put the old byte 0 back (step 3 with the old byte) and
	 * return its error in `err`.
	 *
	 * The injected bugs (tp_bugs: TPBUG_BYTE0_FIRST, and TPBUG_SKIP_SYNC in
	 * step_sync) are the reference's business; you may leave them out.
	 *
	 * Until you write it, the sites are overwritten in place, tails then
	 * byte 0, with one sync at the end: what the SDM says is unsafe while
	 * another CPU may execute them.
	 */
	(void)write_int3;
	(void)step_sync;
	(void)refresh;
	if (ctl->after_int3)
		err = ctl->after_int3(ctl->arg);
	if (!err) {
		write_tails(tp, nr);
		write_byte0(tp, nr, true);
	}
	text_poke_sync();
