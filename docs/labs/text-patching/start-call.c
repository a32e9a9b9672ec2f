		/*
		 * LAB text-patching, part 1: emulate CALL on the trap frame.
		 *
		 * On entry regs->rip is site + 1 (the #BP return address) and
		 * regs->rsp the interrupted stack pointer; `in` is the decoded
		 * 5-byte `call in->target` at `site`. Leave the frame exactly as
		 * the CPU would after executing that call: the return address
		 * (the instruction after the site) pushed on the interrupted
		 * stack, and execution continuing at the target. The push writes
		 * below the interrupted rsp: entry.asm's int3_entry has left a
		 * gap there (read it). Test on the host first:
		 * tests/run_scenarios.py unit:test_int3_emulate.
		 *
		 * Until you write it, a CPU that hits the int3 of a call site
		 * being patched takes an unhandled #BP.
		 */
		return false;
