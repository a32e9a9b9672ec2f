/*
 * static_call.h — an indirect call that is a direct one.
 *
 *     DEFINE_STATIC_CALL(lock_slow, native_slowpath);
 *     static_call(lock_slow)(lock, val);        // call __SCT__lock_slow
 *     static_call_update(lock_slow, pv_slowpath);
 *
 * Each static call has a key (__SCK__name: the current function) and a
 * trampoline __SCT__name in kernel text: one 5-byte patch site holding
 * `jmp func` (or `ret` for a NULL function: DEFINE_STATIC_CALL_NULL, void
 * functions only). Callers make a direct call to the trampoline; no
 * function pointer is loaded, so no indirect branch is predicted.
 * static_call_update() rewrites the trampoline with text_poke_bp (the #BP
 * handler emulates the new jmp for a CPU that arrives meanwhile). It sleeps
 * (text_mutex): thread context only.
 *
 * The initial function must be a function defined in the same file or a
 * global one (the trampoline names it in assembly).
 * Implemented in kernel/static_call.c; tested by ktest patching.static_call.
 */
#ifndef GRACE_STATIC_CALL_H
#define GRACE_STATIC_CALL_H

#include <grace/compiler.h>
#include <grace/types.h>

struct static_call_key {
	void *func;
};

#define STATIC_CALL_KEY(name)   __SCK__##name
#define STATIC_CALL_TRAMP(name) __SCT__##name
#define STATIC_CALL_TRAMP_STR(name) "__SCT__" #name
#define STATIC_CALL_KEY_STR(name) "__SCK__" #name

#define DECLARE_STATIC_CALL(name, func) \
	extern struct static_call_key STATIC_CALL_KEY(name); \
	extern __typeof__(func) STATIC_CALL_TRAMP(name)

/* kind 2 = PATCH_SITE_STATIC_CALL */
#define __STATIC_CALL_TRAMP_ASM(name, insn)                                  \
	__asm__(".pushsection .text, \"ax\"\n"                                \
		".balign 8\n"                                                  \
		".globl " STATIC_CALL_TRAMP_STR(name) "\n"                     \
		".type " STATIC_CALL_TRAMP_STR(name) ", @function\n"           \
		STATIC_CALL_TRAMP_STR(name) ":\n"                              \
		insn "\n"                                                      \
		".size " STATIC_CALL_TRAMP_STR(name) ", 5\n"                   \
		".popsection\n"                                                \
		".pushsection .patch_sites, \"a\"\n"                           \
		".balign 4\n"                                                  \
		".long " STATIC_CALL_TRAMP_STR(name) " - .\n"                  \
		".long 0\n"                                                    \
		".long " STATIC_CALL_KEY_STR(name) " - .\n"                    \
		".byte 5, 2\n"                                                 \
		".short 0\n"                                                   \
		".popsection\n")

#define DEFINE_STATIC_CALL(name, _func)                                     \
	DECLARE_STATIC_CALL(name, _func);                                    \
	struct static_call_key STATIC_CALL_KEY(name) = { .func = (void *)(_func) }; \
	__STATIC_CALL_TRAMP_ASM(name, ".byte 0xe9\n.long " #_func " - (. + 4)")

#define DEFINE_STATIC_CALL_NULL(name, type_func)                            \
	DECLARE_STATIC_CALL(name, type_func);                                \
	struct static_call_key STATIC_CALL_KEY(name) = { .func = NULL };      \
	__STATIC_CALL_TRAMP_ASM(name, ".byte 0xc3, 0xcc, 0xcc, 0xcc, 0xcc")

#define static_call(name) (&STATIC_CALL_TRAMP(name))
#define static_call_query(name) (READ_ONCE(STATIC_CALL_KEY(name).func))

/* 0, or -EINVAL when `tramp` is not a registered trampoline. */
int __static_call_update(struct static_call_key *key, void *tramp, void *func);
#define static_call_update(name, f) ({                                       \
	__typeof__(&STATIC_CALL_TRAMP(name)) __f = (f);                       \
	__static_call_update(&STATIC_CALL_KEY(name), (void *)&STATIC_CALL_TRAMP(name), (void *)__f); })

#endif
