// UNIT_SOURCES: arch/x86_64/insn.c arch/x86_64/patch_site_check.c
/*
 * test_patch_site.c — the patch-site rule (patch_site_check, the same code
 * tools/patchcheck runs over the ELF and the kernel at boot): each kind
 * accepts exactly its instructions, a site of another length, outside text,
 * straddling the end of text, a jump label whose jmp goes elsewhere, a call
 * out of text, an unknown kind, and overlapping sites are all refused with
 * the right reason.
 */
#include "host_shim.h"
#include <asm/patch_site.h>
#include <string.h>

#define TS 0xffffffff80200000UL
#define TE 0xffffffff80300000UL

static enum patch_site_error check(unsigned long addr, u8 kind, enum insn_kind k,
				   unsigned long target, unsigned long recorded_target)
{
	static u8 b[PATCH_INSN_SIZE];
	struct patch_site_view v = { .addr = addr, .target = recorded_target, .len = 5,
				     .kind = kind, .bytes = b };

	insn_encode(b, k, addr, target);
	return patch_site_check(&v, TS, TE);
}

int main(void)
{
	const unsigned long a = TS + 0x1000, t = TS + 0x2000;
	static const u8 two_insns[PATCH_INSN_SIZE] = { 0x0f, 0x1f, 0x40, 0x00, 0x90 };
	struct patch_site_view v[3];
	enum patch_site_error e;

	/* jump label: nop or jmp to the recorded target */
	CHECK(check(a, PATCH_SITE_JUMP_LABEL, INSN_NOP, 0, t) == PSE_OK);
	CHECK(check(a, PATCH_SITE_JUMP_LABEL, INSN_JMP, t, t) == PSE_OK);
	CHECK(check(a, PATCH_SITE_JUMP_LABEL, INSN_JMP, t + 1, t) == PSE_TARGET);
	CHECK(check(a, PATCH_SITE_JUMP_LABEL, INSN_NOP, 0, TE + 8) == PSE_TARGET);
	CHECK(check(a, PATCH_SITE_JUMP_LABEL, INSN_CALL, t, t) == PSE_INSN);
	CHECK(check(a, PATCH_SITE_JUMP_LABEL, INSN_UNLOCK, 0, t) == PSE_INSN);
	/* static call trampoline: jmp into text or ret */
	CHECK(check(a, PATCH_SITE_STATIC_CALL, INSN_JMP, t, 0) == PSE_OK);
	CHECK(check(a, PATCH_SITE_STATIC_CALL, INSN_RET, 0, 0) == PSE_OK);
	CHECK(check(a, PATCH_SITE_STATIC_CALL, INSN_JMP, TE + 0x100, 0) == PSE_TARGET);
	CHECK(check(a, PATCH_SITE_STATIC_CALL, INSN_NOP, 0, 0) == PSE_INSN);
	/* lock op: call into text, nop, unlock store */
	CHECK(check(a, PATCH_SITE_LOCK_OP, INSN_CALL, t, 0) == PSE_OK);
	CHECK(check(a, PATCH_SITE_LOCK_OP, INSN_NOP, 0, 0) == PSE_OK);
	CHECK(check(a, PATCH_SITE_LOCK_OP, INSN_UNLOCK, 0, 0) == PSE_OK);
	CHECK(check(a, PATCH_SITE_LOCK_OP, INSN_CALL, TS - 0x10, 0) == PSE_TARGET);
	CHECK(check(a, PATCH_SITE_LOCK_OP, INSN_JMP, t, 0) == PSE_INSN);
	/* placement and format */
	CHECK(check(TS - 0x10, PATCH_SITE_LOCK_OP, INSN_NOP, 0, 0) == PSE_OUTSIDE_TEXT);
	CHECK(check(TE - 3, PATCH_SITE_LOCK_OP, INSN_NOP, 0, 0) == PSE_OUTSIDE_TEXT);
	CHECK(check(TE - 5, PATCH_SITE_LOCK_OP, INSN_NOP, 0, 0) == PSE_OK);
	CHECK(check(a, 0, INSN_NOP, 0, 0) == PSE_KIND);
	CHECK(check(a, PATCH_SITE_NR_KINDS, INSN_NOP, 0, 0) == PSE_KIND);
	{
		struct patch_site_view w = { .addr = a, .len = 4, .kind = PATCH_SITE_LOCK_OP,
					     .bytes = two_insns };

		CHECK(patch_site_check(&w, TS, TE) == PSE_LENGTH);
		w.len = 5;
		CHECK(patch_site_check(&w, TS, TE) == PSE_INSN);   /* nop4 + nop1 */
	}
	/* sorted table: overlap refused, adjacency fine */
	{
		static u8 nop[PATCH_INSN_SIZE];

		insn_encode(nop, INSN_NOP, 0, 0);
		for (int i = 0; i < 3; i++)
			v[i] = (struct patch_site_view){ .addr = a + 5 * (unsigned long)i, .len = 5,
							 .kind = PATCH_SITE_LOCK_OP, .bytes = nop };
		CHECK(patch_sites_check_sorted(v, 3, TS, TE, &e) == -1 && e == PSE_OK);
		v[2].addr = a + 8;
		CHECK(patch_sites_check_sorted(v, 3, TS, TE, &e) == 2 && e == PSE_OVERLAP);
	}
	CHECK(!strcmp(patch_site_error_name(PSE_OVERLAP), "site overlaps the previous site"));
	return host_test_result("test_patch_site");
}
