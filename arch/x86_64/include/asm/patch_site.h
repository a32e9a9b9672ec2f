/*
 * asm/patch_site.h — the table of patch sites, recorded at build time.
 *
 * Every place in kernel text that may be rewritten at run time (a static
 * branch, a static call trampoline, a lock operation) is one instruction of
 * exactly PATCH_INSN_SIZE bytes and has one entry in the `.patch_sites`
 * section, written by the asm statement that emits the instruction:
 *
 *   code    the site, relative to this field
 *   target  jump label: where the jmp goes when the branch is taken;
 *           otherwise 0 (the new target is chosen at run time)
 *   owner   the static_key / static_call_key / lock-op slot the site
 *           belongs to, relative to this field
 *   len     always PATCH_INSN_SIZE
 *   kind    enum patch_site_kind
 *   flags   jump label: PATCH_SITE_BRANCH_LIKELY (the jmp skips the likely
 *           body, so it is taken when the key is *false*)
 *
 * Offsets relative to their own field (as Linux's jump table) keep the
 * table position independent and 16 bytes an entry.
 *
 * Invariant, checked after every link by tools/patchcheck (over the ELF)
 * and again at boot by patch_sites_init(): each site lies inside .text, is
 * one instruction its kind allows (patch_site_check()), and no two sites
 * overlap. Tested by tests/unit/test_patch_site.c.
 */
#ifndef ASM_PATCH_SITE_H
#define ASM_PATCH_SITE_H

#include <asm/insn.h>
#include <grace/types.h>

enum patch_site_kind {
	PATCH_SITE_JUMP_LABEL = 1,   /* nop5 <-> jmp rel32 to `target` */
	PATCH_SITE_STATIC_CALL = 2,  /* a trampoline: jmp rel32 <func> or ret */
	PATCH_SITE_LOCK_OP = 3,      /* call rel32, the 5-byte unlock store, or nop5 */
	PATCH_SITE_NR_KINDS
};

#define PATCH_SITE_BRANCH_LIKELY 1

struct patch_site {
	s32 code;
	s32 target;
	s32 owner;
	u8 len;
	u8 kind;
	u16 flags;
};

/*
 * One entry, from inside an asm statement: `code` is the site's label,
 * `target` a label or 0, `owner` an "i" operand reference such as %c0.
 */
#define _ASM_PATCH_SITE(code, target, owner, kind, flags) \
	".pushsection .patch_sites, \"a\"\n"              \
	".balign 4\n"                                     \
	".long (" code ") - .\n"                          \
	".long (" target ") - .\n"                        \
	".long (" owner ") - .\n"                         \
	".byte 5, " #kind "\n"                            \
	".short " #flags "\n"                             \
	".popsection\n"

static inline unsigned long patch_site_addr(const struct patch_site *s)
{
	return (unsigned long)&s->code + (unsigned long)(long)s->code;
}
static inline unsigned long patch_site_target(const struct patch_site *s)
{
	return (unsigned long)&s->target + (unsigned long)(long)s->target;
}
static inline void *patch_site_owner(const struct patch_site *s)
{
	return (void *)((unsigned long)&s->owner + (unsigned long)(long)s->owner);
}

/* Why a site is refused (patch_site_check); 0 = fine. */
enum patch_site_error {
	PSE_OK = 0,
	PSE_LENGTH,        /* len != 5 */
	PSE_KIND,          /* unknown kind */
	PSE_OUTSIDE_TEXT,  /* [addr, addr+5) not inside text */
	PSE_INSN,          /* the bytes are not one instruction this kind allows */
	PSE_TARGET,        /* jump label: a jmp that does not go to `target`,
			      or a target outside text */
	PSE_OVERLAP,       /* shares bytes with the previous site (sorted) */
	PSE_NR
};

struct patch_site_view {       /* a site as the checker sees it */
	unsigned long addr, target;
	u8 len, kind;
	const u8 *bytes;           /* the site's current bytes (len of them) */
};

/*
 * Check one site against the text range [text_start, text_end). Pure:
 * used by the kernel at boot, by tools/patchcheck over the linked ELF and
 * by the unit test.
 */
enum patch_site_error patch_site_check(const struct patch_site_view *v,
				       unsigned long text_start, unsigned long text_end);
/* Check sites sorted by address: each alone and no overlap. Returns the index
 * of the first bad one (and its error in *err), or -1. */
long patch_sites_check_sorted(const struct patch_site_view *v, unsigned long n,
			      unsigned long text_start, unsigned long text_end,
			      enum patch_site_error *err);
const char *patch_site_error_name(enum patch_site_error e);

#endif
