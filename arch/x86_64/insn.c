/*
 * insn.c — encode and decode the five-byte instructions of patch sites.
 *
 * The instruction set is in asm/insn.h. Invariant: insn_decode(insn_encode(k,
 * ip, t), ip) == {k, t} for every encodable (k, ip, t), and every 5-byte
 * sequence that is not exactly one of the listed instructions decodes as
 * INSN_INVALID (a prefix, a different ModRM, a non-zero immediate or
 * displacement, a 1..4-byte instruction followed by anything).
 * Pure: compiled into the kernel, tools/patchcheck and tests/unit/test_insn.c.
 */
#include <asm/insn.h>

static const u8 nop5[PATCH_INSN_SIZE] = { NOP5_BYTES };
static const u8 unlock5[PATCH_INSN_SIZE] = { UNLOCK5_BYTES };

static bool same5(const u8 *a, const u8 *b)
{
	for (int i = 0; i < PATCH_INSN_SIZE; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

bool insn_encode(u8 *buf, enum insn_kind kind, unsigned long ip, unsigned long target)
{
	switch (kind) {
	case INSN_CALL:
	case INSN_JMP: {
		long rel = (long)(target - (ip + PATCH_INSN_SIZE));
		u32 r = (u32)rel;

		if (rel < -0x80000000L || rel > 0x7fffffffL)
			return false;
		buf[0] = kind == INSN_CALL ? CALL_INSN_OPCODE : JMP32_INSN_OPCODE;
		for (int i = 0; i < 4; i++)
			buf[1 + i] = (u8)(r >> (8 * i));   /* little-endian rel32 */
		return true;
	}
	case INSN_NOP:
		for (int i = 0; i < PATCH_INSN_SIZE; i++)
			buf[i] = nop5[i];
		return true;
	case INSN_RET:
		buf[0] = RET_INSN_OPCODE;
		for (int i = 1; i < PATCH_INSN_SIZE; i++)
			buf[i] = INT3_INSN_OPCODE;
		return true;
	case INSN_UNLOCK:
		for (int i = 0; i < PATCH_INSN_SIZE; i++)
			buf[i] = unlock5[i];
		return true;
	default:
		return false;
	}
}

struct insn insn_decode(const u8 *buf, unsigned long ip)
{
	struct insn in = { INSN_INVALID, 0 };

	switch (buf[0]) {
	case CALL_INSN_OPCODE:
	case JMP32_INSN_OPCODE: {
		u32 r = (u32)buf[1] | (u32)buf[2] << 8 | (u32)buf[3] << 16 | (u32)buf[4] << 24;

		in.kind = buf[0] == CALL_INSN_OPCODE ? INSN_CALL : INSN_JMP;
		in.target = ip + PATCH_INSN_SIZE + (unsigned long)(long)(s32)r;
		return in;
	}
	case RET_INSN_OPCODE:
		/* The padding must be int3 so a wild jump into it traps. */
		for (int i = 1; i < PATCH_INSN_SIZE; i++)
			if (buf[i] != INT3_INSN_OPCODE)
				return in;
		in.kind = INSN_RET;
		return in;
	}
	if (same5(buf, nop5))
		in.kind = INSN_NOP;
	else if (same5(buf, unlock5))
		in.kind = INSN_UNLOCK;
	return in;
}

const char *insn_kind_name(enum insn_kind kind)
{
	static const char *const names[INSN_NR_KINDS] = {
		[INSN_INVALID] = "invalid", [INSN_CALL] = "call", [INSN_JMP] = "jmp",
		[INSN_NOP] = "nop5", [INSN_RET] = "ret", [INSN_UNLOCK] = "unlock-store",
	};

	return (unsigned int)kind < INSN_NR_KINDS ? names[kind] : "?";
}
