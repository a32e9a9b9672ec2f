/*
 * asm/text-patching.h — rewriting kernel text while it runs.
 *
 *   text_poke(addr, bytes, len)   write through a private writable alias
 *                                 (text_poke.c); no other CPU may execute
 *                                 [addr, addr+len) meanwhile, or the caller
 *                                 accepts any of its intermediate states
 *   text_poke_sync()              every online CPU executes a serialising
 *                                 instruction (IPI) before this returns
 *   text_poke_bp(addr, insn)      replace one 5-byte site while other CPUs
 *                                 may execute it (text_patching.c: int3)
 *   text_poke_bp_batch(tp, n)     the same for n sites at once, three syncs
 *                                 in all
 *
 * Callers hold text_mutex (text_mutex_lock()), which serialises patchers;
 * text_poke_bp* must be called with interrupts on, in thread context.
 * docs/patching.md has the whole story with pictures.
 */
#ifndef ASM_TEXT_PATCHING_H
#define ASM_TEXT_PATCHING_H

#include <asm/insn.h>
#include <grace/types.h>

struct pt_regs;

void text_poke(void *addr, const void *bytes, size_t len);
/* Several writes through one alias mapping (one pair of CR3 loads). */
struct text_poke_vec {
	void *addr;
	const void *bytes;
	size_t len;
};
void text_poke_many(const struct text_poke_vec *v, unsigned int n);
void text_poke_sync(void);
/* How many text_poke_sync() IPIs `cpu` has executed (tests). */
u64 text_poke_cpu_syncs(unsigned int cpu);

/* One site of a batch. `addr` and `new` are the input; `old` is filled in. */
struct text_poke_loc {
	unsigned long addr;
	const void *owner;      /* the site's owner, for an emulate policy (optional) */
	u8 new[PATCH_INSN_SIZE];
	u8 old[PATCH_INSN_SIZE];
	struct insn new_insn, old_insn;
};

/*
 * Optional per-batch #BP policy (lock-op switching): called for a CPU that
 * hits one of the batch's int3s; returns the instruction to emulate
 * (tp->new_insn or tp->old_insn), or NULL when it has carried out the
 * operation itself and set regs->rip. No policy: always the new one.
 */
typedef const struct insn *(*text_poke_emulate_fn)(const struct text_poke_loc *tp,
						    struct pt_regs *regs, void *arg);

/* 0, or -EINVAL (a new instruction that is not a 5-byte site instruction,
 * the same address twice, more than TEXT_POKE_MAX_BATCH). */
#define TEXT_POKE_MAX_BATCH 1024
int text_poke_bp_batch(struct text_poke_loc *tp, unsigned int nr);
int text_poke_bp(void *addr, const u8 new[PATCH_INSN_SIZE]);

/*
 * The same, with hooks between the steps (used by the V2 lock-op switch):
 * after writing every int3 and syncing, `after_int3(arg)` runs; only when it
 * returns 0 are the tails and first bytes written. Otherwise the old bytes
 * come back (int3 stays until the final byte-0 restore, then sync) and its
 * error is returned.
 */
struct text_poke_ctl {
	text_poke_emulate_fn emulate;   /* NULL: emulate the new instruction */
	int (*after_int3)(void *arg);   /* NULL: go straight on */
	void (*sync)(void);             /* NULL: text_poke_sync() (IPIs); the V1
					   lock switch passes a lock-step sync
					   for use inside stop_machine */
	void *arg;
	/* after_int3 itself has every CPU take an exception or interrupt
	 * after the int3 step's refresh before anything depends on it (V2's
	 * barrier): the refresh's own sync is skipped. */
	bool after_int3_serialises;
};
int text_poke_bp_batch_ex(struct text_poke_loc *tp, unsigned int nr, const struct text_poke_ctl *ctl);

/* Serialise patchers. */
void text_mutex_lock(void);
void text_mutex_unlock(void);

/* #BP: true when the int3 at regs->rip - 1 is a site being patched (the
 * frame now holds the state after the emulated instruction). */
bool poke_int3_handler(struct pt_regs *regs);

/* The #BP hook that was installed before text patching's; an int3 that is
 * not in the current batch goes there (tests chain one in). */
extern bool (*next_int3_hook)(struct pt_regs *regs);
void text_patching_init(void);

/* Patching statistics, for the shell and the benchmark. */
struct text_poke_stats {
	u64 pokes, syncs, batches, int3_hits, int3_hits_nmi, int3_stale;
	u64 int3_next_batch;   /* a stale int3 handled by the batch begun meanwhile */
	/* The last batch, ns spent in: 0 setup (sort, decode), 1 int3 + sync,
	 * 2 refresh + sync, 3 ctl->after_int3, 4 tails + sync, 5 byte 0 + sync,
	 * 6 refresh and waiting for the handlers to leave. */
	u64 last_phase_ns[7];
};
extern struct text_poke_stats text_poke_stats;

/*
 * Test hook: called after each step of a text_poke_bp batch with the step
 * number (1 = int3 written, 2 = tails written, 3 = byte 0 written), before
 * that step's sync; and with step | TP_TRACE_SYNC after each sync.
 */
#define TP_TRACE_SYNC 0x100
extern void (*text_poke_trace_hook)(unsigned int step, const struct text_poke_loc *tp,
				    unsigned int nr);

/* DEBUG: walk the kernel page tables; the first page that is writable and
 * executable, or 0 when there is none. Always built (ktest uses it). */
unsigned long kernel_find_wx_page(void);
/* Present PTEs left in text_poke's private alias window (0 between pokes). */
unsigned int text_poke_alias_ptes(void);

#endif
