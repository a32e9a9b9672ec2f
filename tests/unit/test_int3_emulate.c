// UNIT_SOURCES: arch/x86_64/insn.c arch/x86_64/int3_emulate.c
/*
 * test_int3_emulate.c — the #BP emulation (asm/int3_emulate.h) on a fake
 * stack: for each site instruction, registers as the CPU leaves them at the
 * int3 (rip = site + 1) plus the site give exactly the registers (and stack
 * words) that executing the instruction would give; other registers are
 * untouched; an invalid instruction leaves the frame alone.
 */
#include "host_shim.h"
#include <asm/int3_emulate.h>
#include <string.h>

static u64 stack[64];

static struct pt_regs at_int3(unsigned long site)
{
	struct pt_regs r;

	memset(&r, 0x5a, sizeof(r));   /* recognisable garbage everywhere */
	r.rip = site + 1;
	r.rsp = (u64)(unsigned long)&stack[32];
	r.rflags = 0x246;
	return r;
}

static bool others_same(const struct pt_regs *a, const struct pt_regs *b)
{
	struct pt_regs x = *a, y = *b;

	x.rip = y.rip = 0;
	x.rsp = y.rsp = 0;
	return !memcmp(&x, &y, sizeof(x));
}

int main(void)
{
	const unsigned long site = 0xffffffff80234560UL, target = 0xffffffff80201230UL;
	struct pt_regs r, before;
	struct insn in;
	u8 b[PATCH_INSN_SIZE], lockbyte = 3;

	/* call: push site+5, jump */
	memset(stack, 0, sizeof(stack));
	insn_encode(b, INSN_CALL, site, target);
	in = insn_decode(b, site);
	before = r = at_int3(site);
	CHECK(int3_emulate(&r, &in, site));
	CHECK(r.rip == target);
	CHECK(r.rsp == before.rsp - 8);
	CHECK(stack[31] == site + 5);
	CHECK(stack[32] == 0);
	CHECK(others_same(&r, &before));

	/* jmp */
	insn_encode(b, INSN_JMP, site, target);
	in = insn_decode(b, site);
	before = r = at_int3(site);
	CHECK(int3_emulate(&r, &in, site));
	CHECK(r.rip == target && r.rsp == before.rsp && others_same(&r, &before));

	/* nop5: continue after the site */
	insn_encode(b, INSN_NOP, site, 0);
	in = insn_decode(b, site);
	before = r = at_int3(site);
	CHECK(int3_emulate(&r, &in, site));
	CHECK(r.rip == site + 5 && r.rsp == before.rsp && others_same(&r, &before));

	/* ret: pop */
	insn_encode(b, INSN_RET, site, 0);
	in = insn_decode(b, site);
	before = r = at_int3(site);
	stack[32] = 0xffffffff80299990UL;
	CHECK(int3_emulate(&r, &in, site));
	CHECK(r.rip == 0xffffffff80299990UL && r.rsp == before.rsp + 8 && others_same(&r, &before));

	/* unlock5: byte store of 0 at rdi */
	insn_encode(b, INSN_UNLOCK, site, 0);
	in = insn_decode(b, site);
	before = r = at_int3(site);
	r.rdi = before.rdi = (u64)(unsigned long)&lockbyte;
	CHECK(int3_emulate(&r, &in, site));
	CHECK(lockbyte == 0 && r.rip == site + 5 && r.rsp == before.rsp && others_same(&r, &before));

	/* not an instruction we know: untouched */
	in.kind = INSN_INVALID;
	before = r = at_int3(site);
	CHECK(!int3_emulate(&r, &in, site));
	CHECK(!memcmp(&r, &before, sizeof(r)));
	return host_test_result("test_int3_emulate");
}
