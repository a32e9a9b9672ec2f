/*
 * asm/int3_emulate.h — execute one patch-site instruction on a trap frame.
 *
 * When a CPU hits the int3 at byte 0 of a site being patched, the #BP
 * handler (text_patching.c) must make the CPU continue exactly as if it had
 * executed one whole instruction — old or new, never a mix. int3_emulate()
 * does that on the saved registers: on entry regs->rip is site + 1 (the
 * CPU's #BP return address); on return the frame is the state after the
 * instruction.
 *
 *   call T   push site+5 at regs->rsp - 8, rsp -= 8, rip = T
 *   jmp T    rip = T
 *   nop5     rip = site + 5
 *   ret      rip = [rsp], rsp += 8
 *   unlock5  byte store 0 at rdi (release: x86 stores are release), rip = site + 5
 *
 * The CALL's push writes below the interrupted stack pointer, where the
 * CPU put the #BP frame itself: arch/x86_64/entry.asm moves that frame down
 * to leave a gap first (see int3_entry there), and returns without iretq.
 *
 * Pure (only the frame and the interrupted stack); tests/unit/test_int3_emulate.c
 * runs it on a fake stack.
 */
#ifndef ASM_INT3_EMULATE_H
#define ASM_INT3_EMULATE_H

#include <asm/insn.h>
#include <asm/ptrace.h>

/* False (frame untouched) when `in` is not an emulatable instruction. */
bool int3_emulate(struct pt_regs *regs, const struct insn *in, unsigned long site);

#endif
