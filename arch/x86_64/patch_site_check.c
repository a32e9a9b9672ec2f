/*
 * patch_site_check.c — the rule every patch site must keep.
 *
 * A site is rewritten while other CPUs may be executing it, and the int3
 * protocol (text_patching.c) is only safe for a site that is exactly one
 * instruction: then a CPU is either before the site (and meets byte 0), or
 * past it. A multi-instruction site could hold a CPU between its
 * instructions while the bytes under it change. So each kind allows:
 *
 *   jump label   nop5, or jmp rel32 to the recorded target
 *   static call  jmp rel32 into text, or ret (+int3 padding)
 *   lock op      call rel32 into text, nop5, or the 5-byte unlock store
 *
 * and every site is PATCH_INSN_SIZE bytes, inside .text, overlapping no
 * other site. Pure; see asm/patch_site.h for who calls it.
 */
#include <asm/patch_site.h>

static bool in_text(unsigned long a, unsigned long len, unsigned long s, unsigned long e)
{
	return a >= s && a + len <= e && a + len > a;
}

enum patch_site_error patch_site_check(const struct patch_site_view *v,
				       unsigned long text_start, unsigned long text_end)
{
	struct insn in;

	if (v->len != PATCH_INSN_SIZE)
		return PSE_LENGTH;
	if (v->kind == 0 || v->kind >= PATCH_SITE_NR_KINDS)
		return PSE_KIND;
	if (!in_text(v->addr, v->len, text_start, text_end))
		return PSE_OUTSIDE_TEXT;
	in = insn_decode(v->bytes, v->addr);
	switch (v->kind) {
	case PATCH_SITE_JUMP_LABEL:
		if (in.kind != INSN_NOP && in.kind != INSN_JMP)
			return PSE_INSN;
		if (!in_text(v->target, 1, text_start, text_end))
			return PSE_TARGET;
		if (in.kind == INSN_JMP && in.target != v->target)
			return PSE_TARGET;
		return PSE_OK;
	case PATCH_SITE_STATIC_CALL:
		if (in.kind == INSN_RET)
			return PSE_OK;
		if (in.kind != INSN_JMP)
			return PSE_INSN;
		return in_text(in.target, 1, text_start, text_end) ? PSE_OK : PSE_TARGET;
	case PATCH_SITE_LOCK_OP:
		if (in.kind == INSN_NOP || in.kind == INSN_UNLOCK)
			return PSE_OK;
		if (in.kind != INSN_CALL)
			return PSE_INSN;
		return in_text(in.target, 1, text_start, text_end) ? PSE_OK : PSE_TARGET;
	}
	return PSE_KIND;
}

long patch_sites_check_sorted(const struct patch_site_view *v, unsigned long n,
			      unsigned long text_start, unsigned long text_end,
			      enum patch_site_error *err)
{
	for (unsigned long i = 0; i < n; i++) {
		enum patch_site_error e = patch_site_check(&v[i], text_start, text_end);

		if (e == PSE_OK && i > 0 && v[i].addr < v[i - 1].addr + v[i - 1].len)
			e = PSE_OVERLAP;
		if (e != PSE_OK) {
			*err = e;
			return (long)i;
		}
	}
	*err = PSE_OK;
	return -1;
}

const char *patch_site_error_name(enum patch_site_error e)
{
	static const char *const names[PSE_NR] = {
		[PSE_OK] = "ok",
		[PSE_LENGTH] = "site is not 5 bytes long",
		[PSE_KIND] = "unknown site kind",
		[PSE_OUTSIDE_TEXT] = "site is not inside .text",
		[PSE_INSN] = "site is not one instruction its kind allows",
		[PSE_TARGET] = "branch target is wrong or outside .text",
		[PSE_OVERLAP] = "site overlaps the previous site",
	};

	return (unsigned int)e < PSE_NR ? names[e] : "?";
}
