/*
 * jump_label.c — enabling and disabling static keys by patching their sites.
 *
 * A key's sites are the jump-label entries of the patch-site table whose
 * owner is the key (include/grace/jump_label.h has the branch semantics).
 * static_key_enable/disable, under text_mutex: set key->enabled, then bring
 * every site of the key to the matching instruction (nop5 or jmp rel32 to
 * the entry's target) in one text_poke_bp batch. The key's value changes
 * before the text: static_key_enabled() may be true while a CPU still runs
 * the old nop5 for a few microseconds, as in Linux.
 *
 * Before the scheduler runs (boot CPU alone) the sites are written directly.
 *
 * Invariant (checked by ktest patching.static_key): outside a flip, every
 * site of every key holds jmp iff (enabled XOR branch-likely).
 */
#include <asm/patch_sites.h>
#include <asm/text-patching.h>
#include <grace/jump_label.h>
#include <grace/panic.h>
#include <grace/printk.h>
#include <grace/sched.h>
#include <grace/string.h>

static bool site_wants_jmp(const struct patch_site *s, const struct static_key *key)
{
	return static_key_enabled(key) != !!(s->flags & PATCH_SITE_BRANCH_LIKELY);
}

static void site_insn(const struct patch_site *s, bool jmp, u8 *buf)
{
	unsigned long a = patch_site_addr(s);

	if (!insn_encode(buf, jmp ? INSN_JMP : INSN_NOP, a, patch_site_target(s)))
		panic("jump_label: site %016lx cannot reach %016lx", a, patch_site_target(s));
}

unsigned int static_key_nr_sites(const struct static_key *key)
{
	unsigned int n = 0;

	for_each_patch_site(s)
		if (s->kind == PATCH_SITE_JUMP_LABEL && patch_site_owner(s) == key)
			n++;
	return n;
}

static struct text_poke_loc jl_batch[TEXT_POKE_MAX_BATCH];

static void static_key_set(struct static_key *key, int enabled)
{
	unsigned int n = 0;

	if (!sched_ready) {
		/* Early boot: this CPU is the only one running (the others start
		 * after the scheduler) and nothing may sleep yet, so the sites
		 * are written directly, as jump_label_init() does. */
		__atomic_store_n(&key->enabled, enabled, __ATOMIC_RELAXED);
		jump_label_init();
		return;
	}
	text_mutex_lock();
	if (static_key_enabled(key) == (enabled != 0)) {
		text_mutex_unlock();
		return;
	}
	__atomic_store_n(&key->enabled, enabled, __ATOMIC_RELAXED);
	for_each_patch_site(s) {
		u8 want[PATCH_INSN_SIZE];

		if (s->kind != PATCH_SITE_JUMP_LABEL || patch_site_owner(s) != key)
			continue;
		site_insn(s, site_wants_jmp(s, key), want);
		if (!memcmp(want, (void *)patch_site_addr(s), PATCH_INSN_SIZE))
			continue;
		if (n == TEXT_POKE_MAX_BATCH) {   /* a huge key: flush and go on */
			text_poke_bp_batch(jl_batch, n);
			n = 0;
		}
		jl_batch[n].addr = patch_site_addr(s);
		memcpy(jl_batch[n].new, want, PATCH_INSN_SIZE);
		n++;
	}
	if (n && text_poke_bp_batch(jl_batch, n))
		panic("jump_label: patching the sites of key %p failed", (void *)key);
	text_mutex_unlock();
}

void static_key_enable(struct static_key *key) { static_key_set(key, 1); }
void static_key_disable(struct static_key *key) { static_key_set(key, 0); }

void jump_label_init(void)
{
	/* Boot CPU alone: a plain text_poke is enough (nobody else executes). */
	for_each_patch_site(s) {
		u8 want[PATCH_INSN_SIZE];

		if (s->kind != PATCH_SITE_JUMP_LABEL)
			continue;
		site_insn(s, site_wants_jmp(s, patch_site_owner(s)), want);
		if (memcmp(want, (void *)patch_site_addr(s), PATCH_INSN_SIZE))
			text_poke((void *)patch_site_addr(s), want, PATCH_INSN_SIZE);
	}
}
