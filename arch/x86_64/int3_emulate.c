/*
 * int3_emulate.c — one patch-site instruction, executed on a trap frame.
 * What each instruction does to the frame is in asm/int3_emulate.h; the
 * invariant is that the frame afterwards equals the one the CPU would have
 * produced by executing the instruction at `site` (test_int3_emulate.c
 * compares against hand-computed frames for each kind).
 */
#include <asm/int3_emulate.h>

bool int3_emulate(struct pt_regs *regs, const struct insn *in, unsigned long site)
{
	switch (in->kind) {
	case INSN_CALL:
		/* >>> LAB text-patching:call (docs/labs/text-patching/README.md) */
		regs->rsp -= 8;
		*(u64 *)regs->rsp = site + PATCH_INSN_SIZE;
		regs->rip = in->target;
		return true;
		/* <<< LAB text-patching:call */
	case INSN_JMP:
		regs->rip = in->target;
		return true;
	case INSN_NOP:
		regs->rip = site + PATCH_INSN_SIZE;
		return true;
	case INSN_RET:
		regs->rip = *(u64 *)regs->rsp;
		regs->rsp += 8;
		return true;
	case INSN_UNLOCK:
		/* The release store of the native qspinlock unlock. */
		__atomic_store_n((u8 *)regs->rdi, 0, __ATOMIC_RELEASE);
		regs->rip = site + PATCH_INSN_SIZE;
		return true;
	default:
		return false;
	}
}
