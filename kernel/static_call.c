/*
 * static_call.c — retargeting a static call's trampoline.
 *
 * The trampoline __SCT__name is one patch site (kind static call) holding
 * `jmp func` or `ret` (include/grace/static_call.h). An update, under
 * text_mutex: the key's func first, then the trampoline with text_poke_bp;
 * a CPU that calls meanwhile reaches the old function, or the int3, which
 * emulates the new jmp. Either is a whole call of one of the two functions.
 * Test: ktest patching.static_call (and patching.nmi_storm, which retargets
 * a static call that NMI handlers on every CPU are calling).
 */
#include <asm/patch_sites.h>
#include <asm/text-patching.h>
#include <grace/errno.h>
#include <grace/printk.h>
#include <grace/static_call.h>

int __static_call_update(struct static_call_key *key, void *tramp, void *func)
{
	unsigned long a = (unsigned long)tramp;
	u8 insn[PATCH_INSN_SIZE];
	bool found = false;
	int err;

	for_each_patch_site(s)
		if (s->kind == PATCH_SITE_STATIC_CALL && patch_site_addr(s) == a &&
		    patch_site_owner(s) == key)
			found = true;
	if (!found) {
		printk("static_call: %016lx is not a registered trampoline\n", a);
		return -EINVAL;
	}
	if (!insn_encode(insn, func ? INSN_JMP : INSN_RET, a, (unsigned long)func))
		return -EINVAL;
	text_mutex_lock();
	WRITE_ONCE(key->func, func);
	err = text_poke_bp(tramp, insn);
	text_mutex_unlock();
	return err;
}
