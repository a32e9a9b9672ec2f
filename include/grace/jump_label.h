/*
 * jump_label.h — static keys: a branch that costs a 5-byte NOP while off.
 *
 *     DEFINE_STATIC_KEY_FALSE(trace_on);
 *     if (static_branch_unlikely(&trace_on))   // nop5 while off
 *             trace_something();
 *     static_branch_enable(&trace_on);         // nop5 -> jmp, every site
 *
 * Each static_branch_*() is a patch site (asm/patch_site.h) of kind jump
 * label: a nop5 that falls through, or a jmp rel32 to the other block.
 *   static_branch_unlikely(&k): the site jumps (to the "true" block) iff k
 *                               is enabled;
 *   static_branch_likely(&k):   the site jumps (to the "false" block) iff k
 *                               is disabled.
 * The compiler always emits nop5; jump_label_init() at boot turns the sites
 * whose key starts in the other state into jmp, before any other CPU runs.
 * static_key_enable/disable() patch every site of the key in one
 * text_poke_bp batch (three syncs, whatever the number of sites); they
 * sleep (text_mutex) and must be called from thread context.
 *
 * In the host unit tests (hosted build) a static branch is a plain load.
 * Implemented in kernel/jump_label.c; tested by ktest patching.static_key.
 */
#ifndef GRACE_JUMP_LABEL_H
#define GRACE_JUMP_LABEL_H

#include <grace/compiler.h>
#include <grace/types.h>

struct static_key {
	int enabled;
};
struct static_key_true { struct static_key key; };
struct static_key_false { struct static_key key; };

#define STATIC_KEY_INIT_TRUE  { .enabled = 1 }
#define STATIC_KEY_INIT_FALSE { .enabled = 0 }
#define DEFINE_STATIC_KEY_TRUE(name) struct static_key_true name = { .key = STATIC_KEY_INIT_TRUE }
#define DEFINE_STATIC_KEY_FALSE(name) struct static_key_false name = { .key = STATIC_KEY_INIT_FALSE }
#define DECLARE_STATIC_KEY_TRUE(name) extern struct static_key_true name
#define DECLARE_STATIC_KEY_FALSE(name) extern struct static_key_false name

static inline bool static_key_enabled(const struct static_key *key)
{
	return __atomic_load_n(&key->enabled, __ATOMIC_RELAXED) > 0;
}

#if __STDC_HOSTED__
#define static_branch_unlikely(x) unlikely(static_key_enabled(&(x)->key))
#define static_branch_likely(x)   likely(static_key_enabled(&(x)->key))
#else
#include <asm/patch_site.h>

/* kind 1 = PATCH_SITE_JUMP_LABEL; flags 1 = PATCH_SITE_BRANCH_LIKELY */
static __always_inline bool arch_static_branch_unlikely(struct static_key *key)
{
	__asm__ goto("1: " NOP5_ASM "\n"
		     _ASM_PATCH_SITE("1b", "%l[l_yes]", "%c0", 1, 0)
		     : : "i"(key) : : l_yes);
	return false;
l_yes:
	return true;
}

static __always_inline bool arch_static_branch_likely(struct static_key *key)
{
	__asm__ goto("1: " NOP5_ASM "\n"
		     _ASM_PATCH_SITE("1b", "%l[l_no]", "%c0", 1, 1)
		     : : "i"(key) : : l_no);
	return true;
l_no:
	return false;
}

#define static_branch_unlikely(x) unlikely(arch_static_branch_unlikely(&(x)->key))
#define static_branch_likely(x)   likely(arch_static_branch_likely(&(x)->key))
#endif

void static_key_enable(struct static_key *key);
void static_key_disable(struct static_key *key);
#define static_branch_enable(x)  static_key_enable(&(x)->key)
#define static_branch_disable(x) static_key_disable(&(x)->key)

/* Boot: check the site table, bring every site to its key's state. */
void jump_label_init(void);
/* How many sites a key has (tests, the benchmark). */
unsigned int static_key_nr_sites(const struct static_key *key);

#endif
