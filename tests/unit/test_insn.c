// UNIT_SOURCES: arch/x86_64/insn.c
/*
 * test_insn.c — the patch-site instruction encoder/decoder (asm/insn.h):
 * exact bytes of each encoding, decode(encode(x)) == x at addresses where
 * rel32 is positive, negative and at its limits, out-of-reach targets
 * refused, and near-misses (a prefix, another ModRM, a non-zero immediate,
 * ret without int3 padding, a 2-byte nop) decoded as invalid.
 */
#include "host_shim.h"
#include <asm/insn.h>
#include <string.h>

static void check_bytes(const u8 *got, const u8 *want, const char *what)
{
	CHECK_MSG(!memcmp(got, want, PATCH_INSN_SIZE), "%s: %02x %02x %02x %02x %02x", what,
		  got[0], got[1], got[2], got[3], got[4]);
}

int main(void)
{
	const unsigned long ip = 0xffffffff80201000UL;
	u8 b[PATCH_INSN_SIZE];
	struct insn in;

	/* call forward by 0x100: rel32 = 0x100 - 5 */
	CHECK(insn_encode(b, INSN_CALL, ip, ip + 0x100));
	check_bytes(b, (const u8[]){ 0xe8, 0xfb, 0x00, 0x00, 0x00 }, "call +0x100");
	/* jmp backwards by 0x10 */
	CHECK(insn_encode(b, INSN_JMP, ip, ip - 0x10));
	check_bytes(b, (const u8[]){ 0xe9, 0xeb, 0xff, 0xff, 0xff }, "jmp -0x10");
	CHECK(insn_encode(b, INSN_NOP, ip, 0));
	check_bytes(b, (const u8[]){ 0x0f, 0x1f, 0x44, 0x00, 0x00 }, "nop5");
	CHECK(insn_encode(b, INSN_RET, ip, 0));
	check_bytes(b, (const u8[]){ 0xc3, 0xcc, 0xcc, 0xcc, 0xcc }, "ret");
	CHECK(insn_encode(b, INSN_UNLOCK, ip, 0));
	check_bytes(b, (const u8[]){ 0xc6, 0x44, 0x27, 0x00, 0x00 }, "unlock");

	/* Round trips, including the rel32 limits. */
	{
		static const long deltas[] = { 5, 0, -1, 0x100, -0x7fff0000L,
					       0x7fffffffL + 5, -0x80000000L + 5 };

		for (unsigned int i = 0; i < sizeof(deltas) / sizeof(deltas[0]); i++)
			for (int k = INSN_CALL; k <= INSN_JMP; k++) {
				unsigned long t = ip + (unsigned long)deltas[i];

				CHECK_MSG(insn_encode(b, (enum insn_kind)k, ip, t), "delta %ld", deltas[i]);
				in = insn_decode(b, ip);
				CHECK_MSG(in.kind == (enum insn_kind)k && in.target == t,
					  "kind %d delta %ld -> kind %d target %#lx", k, deltas[i],
					  in.kind, in.target);
			}
	}
	for (int k = INSN_NOP; k < INSN_NR_KINDS; k++) {
		CHECK(insn_encode(b, (enum insn_kind)k, ip, 0));
		CHECK(insn_decode(b, ip).kind == (enum insn_kind)k);
	}
	/* Out of rel32 reach. */
	CHECK(!insn_encode(b, INSN_CALL, ip, ip + 0x80000005UL));
	CHECK(!insn_encode(b, INSN_JMP, ip, ip - 0x80000000UL));
	CHECK(!insn_encode(b, INSN_INVALID, ip, 0));

	/* Near misses are not site instructions. */
	{
		static const u8 bad[][PATCH_INSN_SIZE] = {
			{ 0x66, 0x0f, 0x1f, 0x44, 0x00 },   /* prefixed, truncated nop */
			{ 0x0f, 0x1f, 0x40, 0x00, 0x90 },   /* nop4 + nop1: two instructions */
			{ 0xc6, 0x44, 0x27, 0x00, 0x01 },   /* movb $1: not the unlock */
			{ 0xc6, 0x44, 0x27, 0x04, 0x00 },   /* disp8 4: another byte */
			{ 0xc3, 0x90, 0x90, 0x90, 0x90 },   /* ret padded with nops */
			{ 0x66, 0x90, 0x0f, 0x1f, 0x00 },   /* two nops */
			{ 0xcc, 0x00, 0x00, 0x00, 0x00 },   /* int3 */
			{ 0xeb, 0x03, 0x90, 0x90, 0x90 },   /* jmp rel8 */
		};

		for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			CHECK_MSG(insn_decode(bad[i], ip).kind == INSN_INVALID, "bad[%u] decoded as %s",
				  i, insn_kind_name(insn_decode(bad[i], ip).kind));
	}
	CHECK(!strcmp(insn_kind_name(INSN_CALL), "call"));
	CHECK(!strcmp(insn_kind_name((enum insn_kind)99), "?"));
	return host_test_result("test_insn");
}
