/*
 * asm/insn.h — the handful of x86-64 instructions a patch site may hold.
 *
 * A patch site (asm/patch_site.h) is exactly one instruction of
 * PATCH_INSN_SIZE (5) bytes, so that a CPU fetching it sees either the whole
 * old or the whole new instruction once the int3 protocol is done
 * (arch/x86_64/text_patching.c). This file encodes and decodes those
 * instructions; it is pure (no kernel state), so the host test
 * tests/unit/test_insn.c runs it, and the build-time site check
 * (tools/patchcheck.c) links the same code.
 *
 *   call rel32   e8 xx xx xx xx     target = site + 5 + rel32
 *   jmp  rel32   e9 xx xx xx xx     target = site + 5 + rel32
 *   nop5         0f 1f 44 00 00     nopl 0x0(%rax,%rax,1)
 *   ret5         c3 cc cc cc cc     ret, then int3 padding never executed
 *   unlock5      c6 44 27 00 00     movb $0x0,0x0(%rdi,%riz,1): the native
 *                                   qspinlock release store, spelled in
 *                                   exactly 5 bytes
 *   int3         cc                 (byte 0 of a site being patched)
 *
 * Intel SDM Vol. 2: CALL (E8 cd), JMP (E9 cd), NOP (0F 1F /0),
 * RET (C3), MOV r/m8, imm8 (C6 /0 ib), INT3 (CC).
 */
#ifndef ASM_INSN_H
#define ASM_INSN_H

#include <grace/types.h>

#define PATCH_INSN_SIZE 5
#define INT3_INSN_OPCODE 0xcc
#define CALL_INSN_OPCODE 0xe8
#define JMP32_INSN_OPCODE 0xe9
#define RET_INSN_OPCODE 0xc3

enum insn_kind {
	INSN_INVALID = 0,   /* not one of the instructions below */
	INSN_CALL,
	INSN_JMP,
	INSN_NOP,
	INSN_RET,
	INSN_UNLOCK,        /* movb $0,0(%rdi,%riz,1) */
	INSN_NR_KINDS
};

#define NOP5_BYTES   0x0f, 0x1f, 0x44, 0x00, 0x00
#define UNLOCK5_BYTES 0xc6, 0x44, 0x27, 0x00, 0x00
/* The same, as assembler text for .byte directives. */
#define NOP5_ASM     ".byte 0x0f, 0x1f, 0x44, 0x00, 0x00"
#define UNLOCK5_ASM  ".byte 0xc6, 0x44, 0x27, 0x00, 0x00"

struct insn {
	enum insn_kind kind;
	unsigned long target;   /* CALL/JMP: absolute destination; else 0 */
};

/*
 * Encode `kind` at address `ip` into buf[PATCH_INSN_SIZE]. For CALL and JMP
 * `target` is the destination; false when it is out of rel32 reach or the
 * kind is not encodable.
 */
bool insn_encode(u8 *buf, enum insn_kind kind, unsigned long ip, unsigned long target);
/* Decode the PATCH_INSN_SIZE bytes at `buf`, which live at address `ip`. */
struct insn insn_decode(const u8 *buf, unsigned long ip);
const char *insn_kind_name(enum insn_kind kind);

#endif
