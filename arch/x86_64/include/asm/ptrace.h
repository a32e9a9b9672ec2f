/*
 * ptrace.h — the register frame every trap and interrupt entry builds.
 *
 * arch/x86_64/entry.asm pushes the general registers below the hardware frame
 * (and a zero error code for vectors that have none), so that this struct,
 * read upwards from the stack pointer, is the whole interrupted state.
 * Keep the order in sync with entry.asm.
 */
#ifndef ASM_PTRACE_H
#define ASM_PTRACE_H

#include <grace/types.h>

struct pt_regs {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector;
	u64 error_code;
	/* pushed by the CPU */
	u64 rip, cs, rflags, rsp, ss;
};

#endif
