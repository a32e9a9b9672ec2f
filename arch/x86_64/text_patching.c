/*
 * text_patching.c — replacing 5-byte instructions that other CPUs may be
 * executing at that very moment (cross-modifying code), with int3.
 *
 * Why not just write the five bytes? A CPU fetching an instruction while
 * another CPU stores into it may see any mix of old and new bytes, and the
 * Intel SDM (Vol. 3A, 8.1.3 "Handling Self- and Cross-Modifying Code") only
 * promises a consistent result when the executing CPU is not running the
 * code while it changes and executes a serialising instruction before it
 * runs the new code. A one-byte store is atomic, though, and int3 (0xcc) is
 * one byte: writing it first turns the site into a barrier that any CPU
 * arriving there stops at, while the remaining four bytes change under it.
 *
 * The protocol (text_poke_bp_batch), one batch of sorted sites:
 *
 *   patching CPU                        | a CPU that executes a site
 *   ------------------------------------+-----------------------------------
 *   desc := batch (release)             |
 *   1. byte 0 of every site := cc       | fetches old insn, or cc -> #BP:
 *      sync: IPI, every CPU serialises  |   the handler finds the site in
 *                                       |   desc (acquire) and emulates the
 *                                       |   NEW instruction
 *      (after the sync no CPU can still |
 *       hold a prefetched old byte 0    |
 *       together with another tail)     |
 *   2. bytes 1..4 := new tail           | fetches cc (byte 0 is cc on every
 *      sync                             |   CPU since step 1's sync) -> #BP
 *   3. byte 0 := new byte 0             | fetches cc -> #BP, or, once it has
 *      sync                             |   seen the new byte 0, the whole
 *                                       |   new insn (its tail was serialised
 *                                       |   into every CPU by step 2's sync)
 *   desc := NULL; wait until no        |
 *   handler holds a reference           |
 *
 * So a CPU sees the old instruction, int3, or the new instruction, never a
 * mix: skipping the sync after step 2 (patching.bug=skip_sync) would let a
 * CPU that sees the new byte 0 still use a stale tail; writing byte 0 before
 * the tails (patching.bug=byte0_first) exposes new byte 0 + old tail.
 *
 * Stale int3. Under QEMU's TCG (one host thread per virtual CPU, code
 * translated into a cache shared by all of them) we watched CPUs execute an
 * int3 at a site long after the final byte 0 and its sync, on every CPU, as
 * if a translation of the site made while the byte was being written had
 * been kept from before the store. So after the int3 step and after the
 * last step the patcher writes the same bytes once more (the earlier sync
 * guarantees no translation from before that step is still being made, and
 * every later one reads the final bytes), and the #BP handler treats an
 * int3 at a patch site whose memory byte is no longer 0xcc as a stale copy:
 * it re-executes the site. On hardware the sync already excludes this; the
 * re-execution is then never taken (text_poke_stats.int3_stale counts it).
 * A stale int3 can also land between two batches and find, by the time the
 * handler reads memory, the next batch's int3 there: the handler then loads
 * the batch once more (the next batch stored it before its int3 bytes and
 * cannot end while this CPU is in the handler with interrupts off).
 * The refresh is of byte 0 only (every translation of a site covers it).
 * A caller whose after_int3 makes every CPU take an exception or interrupt
 * after the refresh before anything depends on it (V2's barrier,
 * ctl->after_int3_serialises) has the refresh's own sync skipped.
 *
 * The #BP handler (poke_int3_handler, from traps.c) also runs for a CPU
 * inside an NMI (#BP has no IST stack, so it nests on the NMI stack) and
 * for the patching CPU itself. entry.asm's int3_entry leaves a gap below
 * the interrupted stack so an emulated CALL can push its return address,
 * and returns without iretq, which would re-enable NMIs inside an NMI. An
 * int3 at an address that is not in the current batch is not ours: the
 * next hook (a test, a debugger stub) or the normal #BP report gets it.
 *
 * Trace: every step is a patch_step event (include/grace/trace.h), so a
 * `make trace` picture shows the batch's steps and the IPIs of its syncs.
 * Tests: ktest patching.* (byte trace with a sync after each step, NMIs on
 * every CPU executing sites while they are patched, the patching CPU's own
 * hits), tests/unit/test_int3_emulate.c, scenarios patching-*.
 */
#include <asm/cpu.h>
#include <asm/int3_emulate.h>
#include <asm/patch_site.h>
#include <asm/patch_sites.h>
#include <asm/text-patching.h>
#include <asm/traps.h>
#include <grace/errno.h>
#include <grace/irq.h>
#include <grace/mutex.h>
#include <grace/panic.h>
#include <grace/param.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/smp.h>
#include <grace/string.h>
#include <grace/time.h>
#include <grace/trace.h>

static DEFINE_MUTEX(text_mutex);

void text_mutex_lock(void) { mutex_lock(&text_mutex); }
void text_mutex_unlock(void) { mutex_unlock(&text_mutex); }

/* ---- injected bugs: patching.bug=NAME (docs/patching.md) ---- */
static char patching_bug[32];
param_string("patching.bug", patching_bug,
	     "inject a text-patching bug: skip_sync, byte0_first, emulate_old");
enum { TPBUG_SKIP_SYNC = 1, TPBUG_BYTE0_FIRST = 2, TPBUG_EMULATE_OLD = 4 };
static unsigned int tp_bugs;
static bool tp_bugs_parsed;

static unsigned int bugs(void)
{
	if (!tp_bugs_parsed) {
		tp_bugs_parsed = true;
		if (!strcmp(patching_bug, "skip_sync"))
			tp_bugs = TPBUG_SKIP_SYNC;
		else if (!strcmp(patching_bug, "byte0_first"))
			tp_bugs = TPBUG_BYTE0_FIRST;
		else if (!strcmp(patching_bug, "emulate_old"))
			tp_bugs = TPBUG_EMULATE_OLD;
		else if (patching_bug[0])
			printk("patching.bug=%s: unknown (skip_sync, byte0_first, emulate_old), ignored\n",
			       patching_bug);
		if (tp_bugs)
			printk("patching: injected bug \"%s\" is ON\n", patching_bug);
	}
	return tp_bugs;
}

/* ---- sync: every online CPU executes a serialising instruction ---- */

static DEFINE_PER_CPU(u64, tp_syncs);   /* serialising IPIs this CPU ran */

static void do_sync_core(void *unused)
{
	u32 a, b, c, d;

	(void)unused;
	cpuid(0, &a, &b, &c, &d);   /* CPUID serialises (SDM Vol. 3A, 8.3) */
	this_cpu_inc(tp_syncs);
}

u64 text_poke_cpu_syncs(unsigned int cpu)
{
	return __atomic_load_n(per_cpu_ptr(&tp_syncs, cpu), __ATOMIC_ACQUIRE);
}

void text_poke_sync(void)
{
	on_each_cpu(do_sync_core, NULL, 1);
	text_poke_stats.syncs++;
}

/* ---- the batch the #BP handler consults ---- */

struct bp_desc {
	struct text_poke_loc *vec;
	unsigned int nr;
	text_poke_emulate_fn emulate;
	void *arg;
	void (*sync)(void);
};
static struct bp_desc bp_desc_storage;
static struct bp_desc *bp_desc;   /* NULL when no batch is in flight */
static u32 bp_refs;               /* handlers currently using bp_desc */

void (*text_poke_trace_hook)(unsigned int step, const struct text_poke_loc *tp, unsigned int nr);

static struct text_poke_loc *bp_lookup(struct bp_desc *d, unsigned long ip)
{
	unsigned int lo = 0, hi = d->nr;

	while (lo < hi) {   /* vec is sorted by addr */
		unsigned int mid = lo + (hi - lo) / 2;

		if (d->vec[mid].addr == ip)
			return &d->vec[mid];
		if (d->vec[mid].addr < ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool is_patch_site(unsigned long a)
{
	for_each_patch_site(s)
		if (patch_site_addr(s) == a)
			return true;
	return false;
}

bool poke_int3_handler(struct pt_regs *regs)
{
	unsigned long site = regs->rip - 1;
	struct text_poke_loc *tp;
	const struct insn *in;
	struct bp_desc *d;
	bool done = false;

	/*
	 * Count ourselves in before reading desc; the patcher clears desc and
	 * then waits for bp_refs == 0. Both sequentially consistent: either
	 * we see NULL, or the patcher sees our reference.
	 */
	__atomic_add_fetch(&bp_refs, 1, __ATOMIC_SEQ_CST);
	d = __atomic_load_n(&bp_desc, __ATOMIC_SEQ_CST);
	tp = d ? bp_lookup(d, site) : NULL;
	if (!tp && is_patch_site(site) && READ_ONCE(*(const u8 *)site) == INT3_INSN_OPCODE) {
		/*
		 * No batch holds this site, yet memory holds int3 there: a new
		 * batch has begun since our load (its desc is stored before its
		 * int3 bytes). Seen under TCG: a CPU executed a stale copy of the
		 * previous batch's int3 (see "Stale int3") between two batches of
		 * back-to-back switches, read desc NULL, and by the time it read
		 * the byte the next batch had written int3 there: "int3 that no
		 * handler claimed" on correct code (locking-pv-switch-nmi-v2).
		 * One reload settles it: that next batch cannot end while we are
		 * here (interrupts are off, and its syncs wait for this CPU).
		 */
		d = __atomic_load_n(&bp_desc, __ATOMIC_SEQ_CST);
		tp = d ? bp_lookup(d, site) : NULL;
		if (tp)
			__atomic_add_fetch(&text_poke_stats.int3_next_batch, 1, __ATOMIC_RELAXED);
	}
	if (tp) {
		in = d->emulate ? d->emulate(tp, regs, d->arg) : &tp->new_insn;
		if (unlikely(tp_bugs & TPBUG_EMULATE_OLD) && in)
			in = &tp->old_insn;   /* INJECTED BUG: emulate the old instruction */
		done = in ? int3_emulate(regs, in, site) : true;
		__atomic_add_fetch(&text_poke_stats.int3_hits, 1, __ATOMIC_RELAXED);
		if (in_nmi())
			__atomic_add_fetch(&text_poke_stats.int3_hits_nmi, 1, __ATOMIC_RELAXED);
	}
	__atomic_sub_fetch(&bp_refs, 1, __ATOMIC_RELEASE);
	if (!done && is_patch_site(site) && READ_ONCE(*(const u8 *)site) != INT3_INSN_OPCODE) {
		/*
		 * An int3 at a patch site that memory no longer holds: this CPU
		 * executed a stale copy of the site (see "Stale int3" above).
		 * Execute the site again; the refresh write has made the copy go.
		 */
		regs->rip = site;
		__atomic_add_fetch(&text_poke_stats.int3_stale, 1, __ATOMIC_RELAXED);
		done = true;
	}
	return done;
}

static void trace(unsigned int step, struct text_poke_loc *tp, unsigned int nr)
{
	void (*hook)(unsigned int, const struct text_poke_loc *, unsigned int) =
		READ_ONCE(text_poke_trace_hook);

	if (hook)
		hook(step, tp, nr);
}

/* The trace event of one batch step (docs/tracing.md): before its sync. */
enum { PSTEP_INT3, PSTEP_TAILS, PSTEP_BYTE0, PSTEP_DONE, PSTEP_ABORT };

static void trace_step(unsigned int pstep, struct text_poke_loc *tp, unsigned int nr)
{
	trace_event(TRACE_PATCH_STEP, pstep, nr, tp[0].addr);
}

static void step_sync(unsigned int step, struct text_poke_loc *tp, unsigned int nr)
{
	trace(step, tp, nr);
	if (step == 2 && (tp_bugs & TPBUG_SKIP_SYNC))
		return;   /* INJECTED BUG: no sync after the tails */
	if (bp_desc_storage.sync)
		bp_desc_storage.sync();
	else
		text_poke_sync();
	trace(step | TP_TRACE_SYNC, tp, nr);
}

static struct text_poke_vec pv_vec[TEXT_POKE_MAX_BATCH];
static u8 pv_cur[TEXT_POKE_MAX_BATCH][PATCH_INSN_SIZE];

static void write_byte0(struct text_poke_loc *tp, unsigned int nr, bool new)
{
	for (unsigned int i = 0; i < nr; i++)
		pv_vec[i] = (struct text_poke_vec){ (void *)tp[i].addr,
						    new ? &tp[i].new[0] : &tp[i].old[0], 1 };
	text_poke_many(pv_vec, nr);
}

static void write_int3(struct text_poke_loc *tp, unsigned int nr)
{
	static const u8 int3 = INT3_INSN_OPCODE;

	for (unsigned int i = 0; i < nr; i++)
		pv_vec[i] = (struct text_poke_vec){ (void *)tp[i].addr, &int3, 1 };
	text_poke_many(pv_vec, nr);
}

/* Write the bytes the sites already hold once more (see "Stale int3").
 * Byte 0 is enough: every translation of a site's instruction covers it. */
static void refresh(struct text_poke_loc *tp, unsigned int nr, unsigned int len)
{
	for (unsigned int i = 0; i < nr; i++) {
		memcpy(pv_cur[i], (void *)tp[i].addr, len);
		pv_vec[i] = (struct text_poke_vec){ (void *)tp[i].addr, pv_cur[i], len };
	}
	text_poke_many(pv_vec, nr);
}

static void write_tails(struct text_poke_loc *tp, unsigned int nr)
{
	for (unsigned int i = 0; i < nr; i++)
		pv_vec[i] = (struct text_poke_vec){ (void *)(tp[i].addr + 1), &tp[i].new[1],
						    PATCH_INSN_SIZE - 1 };
	text_poke_many(pv_vec, nr);
}

int text_poke_bp_batch_ex(struct text_poke_loc *tp, unsigned int nr, const struct text_poke_ctl *ctl)
{
	static const struct text_poke_ctl none;
	u64 *ph = text_poke_stats.last_phase_ns, t = ktime_get_ns(), t1;
	int err = 0;
#define PHASE(i) do { t1 = ktime_get_ns(); ph[i] = t1 - t; t = t1; } while (0)

	if (!ctl)
		ctl = &none;
	if (!nr)
		return 0;
	if (nr > TEXT_POKE_MAX_BATCH)
		return -EINVAL;
	bugs();
	for (unsigned int i = 1; i < nr; i++)   /* insertion sort by address */
		for (unsigned int j = i; j > 0 && tp[j - 1].addr > tp[j].addr; j--) {
			struct text_poke_loc t = tp[j];

			tp[j] = tp[j - 1];
			tp[j - 1] = t;
		}
	for (unsigned int i = 0; i < nr; i++) {
		if (i && tp[i].addr < tp[i - 1].addr + PATCH_INSN_SIZE)
			return -EINVAL;
		memcpy(tp[i].old, (void *)tp[i].addr, PATCH_INSN_SIZE);
		tp[i].old_insn = insn_decode(tp[i].old, tp[i].addr);
		tp[i].new_insn = insn_decode(tp[i].new, tp[i].addr);
		if (tp[i].new_insn.kind == INSN_INVALID || tp[i].old_insn.kind == INSN_INVALID) {
			printk("text_poke_bp: %016lx: %s instruction is not a site instruction\n",
			       tp[i].addr, tp[i].old_insn.kind == INSN_INVALID ? "old" : "new");
			return -EINVAL;
		}
	}
	text_poke_stats.batches++;
	bp_desc_storage = (struct bp_desc){ .vec = tp, .nr = nr, .emulate = ctl->emulate,
					    .arg = ctl->arg, .sync = ctl->sync };
	/* Release: the batch is complete before any CPU can find it (pairs
	 * with the handler's load; the int3 bytes come after this store). */
	__atomic_store_n(&bp_desc, &bp_desc_storage, __ATOMIC_SEQ_CST);
	PHASE(0);

	/* >>> LAB text-patching:steps (docs/labs/text-patching/README.md) */
	write_int3(tp, nr);
	trace_step(PSTEP_INT3, tp, nr);
	step_sync(1, tp, nr);
	PHASE(1);
	refresh(tp, nr, 1);
	if (!(ctl->after_int3 && ctl->after_int3_serialises)) {
		if (bp_desc_storage.sync)
			bp_desc_storage.sync();
		else
			text_poke_sync();
	}
	PHASE(2);

	if (ctl->after_int3)
		err = ctl->after_int3(ctl->arg);
	PHASE(3);
	ph[4] = ph[5] = 0;
	if (err) {
		/* Give up: the tails are still old; put the old byte 0 back. */
		write_byte0(tp, nr, false);
		trace_step(PSTEP_ABORT, tp, nr);
		step_sync(3, tp, nr);
	} else if (tp_bugs & TPBUG_BYTE0_FIRST) {
		/* INJECTED BUG: new byte 0 under the old tail, then the tails. */
		write_byte0(tp, nr, true);
		trace_step(PSTEP_BYTE0, tp, nr);
		step_sync(3, tp, nr);
		write_tails(tp, nr);
		trace_step(PSTEP_TAILS, tp, nr);
		step_sync(2, tp, nr);
	} else {
		write_tails(tp, nr);
		trace_step(PSTEP_TAILS, tp, nr);
		step_sync(2, tp, nr);
		PHASE(4);
		write_byte0(tp, nr, true);
		trace_step(PSTEP_BYTE0, tp, nr);
		step_sync(3, tp, nr);
		PHASE(5);
	}
	refresh(tp, nr, 1);
	/* <<< LAB text-patching:steps */

	__atomic_store_n(&bp_desc, NULL, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&bp_refs, __ATOMIC_ACQUIRE))
		cpu_relax();
	trace_step(PSTEP_DONE, tp, nr);
	PHASE(6);
#undef PHASE
	return err;
}

int text_poke_bp_batch(struct text_poke_loc *tp, unsigned int nr)
{
	return text_poke_bp_batch_ex(tp, nr, NULL);
}

int text_poke_bp(void *addr, const u8 new[PATCH_INSN_SIZE])
{
	struct text_poke_loc tp = { .addr = (unsigned long)addr };

	memcpy(tp.new, new, PATCH_INSN_SIZE);
	return text_poke_bp_batch(&tp, 1);
}

/* ---- boot: install the #BP hook, chaining whatever was there ---- */

bool (*next_int3_hook)(struct pt_regs *regs);

static bool text_patching_int3(struct pt_regs *regs)
{
	bool (*next)(struct pt_regs *) = READ_ONCE(next_int3_hook);

	if (poke_int3_handler(regs))
		return true;
	return next && next(regs);
}

void text_patching_init(void)
{
	bugs();
	next_int3_hook = int3_handler_hook;
	WRITE_ONCE(int3_handler_hook, text_patching_int3);
}
