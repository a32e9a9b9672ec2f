/*
 * text_patching_test.c — in-kernel tests of text_poke and the int3 protocol.
 *
 *   patching.poke        text_poke writes the bytes, leaves no alias in the
 *                        kernel page tables, text stays read-only, no W+X page
 *   patching.byte_trace  one site patched: the bytes after each step are
 *                        cc+old tail, cc+new tail, new, each followed by a
 *                        sync that every online CPU executed; while the int3
 *                        is in, the patching CPU's own call and its own NMI's
 *                        call reach the NEW function; no W+X page mid-patch
 *   patching.static_key  keys' sites are nop5/jmp as their state says; the
 *                        branches follow; the flip cost is printed
 *   patching.static_call a trampoline retargeted, NULL (ret) and back
 *   patching.nmi_storm   every CPU takes NMIs in a loop whose handler takes a
 *                        lock and runs a CALL site, a static call and a static
 *                        branch, while the ktest CPU patches all three 100 times
 *   patching.foreign_int3 an int3 that is no patch site goes to the next hook
 * Injected bugs (patching.bug=) are caught by byte_trace; scenarios
 * patching-bug-*.scn expect the failure.
 */
#include <asm/cpu.h>
#include <asm/patch_site.h>
#include <asm/patch_sites.h>
#include <asm/pgtable.h>
#include <asm/ptrace.h>
#include <asm/text-patching.h>
#include <grace/jump_label.h>
#include <grace/kthread.h>
#include <grace/ktest.h>
#include <grace/mm.h>
#include <grace/printk.h>
#include <grace/sched.h>
#include <grace/smp.h>
#include <grace/spinlock.h>
#include <grace/static_call.h>
#include <grace/string.h>
#include <grace/time.h>

/* ---- the test sites ---- */

/*
 * Written by functions that only assembly calls: global, so the compiler
 * cannot assume that the asm statement calling them leaves them alone.
 */
extern u64 tp_a_calls[NR_CPUS_MAX], tp_b_calls[NR_CPUS_MAX];
extern int tp_last;
u64 tp_a_calls[NR_CPUS_MAX], tp_b_calls[NR_CPUS_MAX];
int tp_last;   /* which target the last call on the ktest CPU reached */

int tp_fn_a(void);
int tp_fn_b(void);
__noinline int tp_fn_a(void) { tp_a_calls[smp_processor_id()]++; return 1; }
__noinline int tp_fn_b(void) { tp_b_calls[smp_processor_id()]++; return 2; }
DEFINE_STATIC_CALL(tp_call, tp_fn_a);

/* A CALL site (kind lock op: call rel32 into text), calling a or b. */
void tp_target_a(void);
void tp_target_b(void);
__noinline void tp_target_a(void) { WRITE_ONCE(tp_last, 1); tp_a_calls[smp_processor_id()]++; }
__noinline void tp_target_b(void) { WRITE_ONCE(tp_last, 2); tp_b_calls[smp_processor_id()]++; }
static int tp_call_site_owner;
extern const u8 tp_call_site[];

static __noinline void tp_run_call_site(void)
{
	/* kind 3 = PATCH_SITE_LOCK_OP. The callee is an ordinary C function:
	 * tell the compiler every caller-saved register may change. */
	__asm__ __volatile__(".globl tp_call_site\n"
			     "tp_call_site: call tp_target_a\n"
			     _ASM_PATCH_SITE("tp_call_site", "0", "%c0", 3, 0)
			     : : "i"(&tp_call_site_owner)
			     : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11",
			       "memory", "cc");
}

DEFINE_STATIC_KEY_FALSE(tp_key);
DEFINE_STATIC_KEY_TRUE(tp_key_true);
DEFINE_STATIC_KEY_FALSE(tp_storm_key);
static __noinline int tp_branch1(void) { return static_branch_unlikely(&tp_key) ? 1 : 0; }
static __noinline int tp_branch2(void) { return static_branch_unlikely(&tp_key) ? 1 : 0; }
static __noinline int tp_branch_likely(void) { return static_branch_likely(&tp_key_true) ? 1 : 0; }

static void encode_call(u8 *buf, void (*fn)(void))
{
	insn_encode(buf, INSN_CALL, (unsigned long)tp_call_site, (unsigned long)fn);
}

static bool site_is_call_to(void (*fn)(void))
{
	struct insn in = insn_decode(tp_call_site, (unsigned long)tp_call_site);

	return in.kind == INSN_CALL && in.target == (unsigned long)fn;
}

/* ---- patching.poke ---- */

KTEST(poke, "patching.poke")
{
	u8 orig[PATCH_INSN_SIZE], b[PATCH_INSN_SIZE];
	unsigned int level;
	u64 *pte;

	/* Nobody else runs tp_call_site: a plain text_poke is allowed here. */
	text_mutex_lock();
	memcpy(orig, tp_call_site, sizeof(orig));
	encode_call(b, tp_target_b);
	text_poke((void *)tp_call_site, b, sizeof(b));
	KTEST_EXPECT(!memcmp(tp_call_site, b, sizeof(b)));
	tp_run_call_site();
	KTEST_EXPECT_MSG(tp_last == 2, "the poked call reached target %d", tp_last);
	text_poke((void *)tp_call_site, orig, sizeof(orig));
	text_mutex_unlock();
	tp_run_call_site();
	KTEST_EXPECT(tp_last == 1);

	pte = lookup_address((unsigned long)tp_call_site, &level);
	KTEST_EXPECT_MSG(pte && !(*pte & _PAGE_RW) && !(*pte & _PAGE_NX),
			 "kernel text is not RX after text_poke: pte %llx",
			 pte ? (unsigned long long)*pte : 0ULL);
	KTEST_EXPECT_MSG(!lookup_address(0x0000100000000000UL, NULL),
			 "the poke alias is visible in the kernel page tables");
	KTEST_EXPECT_MSG(text_poke_alias_ptes() == 0, "%u writable alias PTEs of kernel text are "
			 "still mapped in the poke root after the poke", text_poke_alias_ptes());
	KTEST_EXPECT_MSG(kernel_find_wx_page() == 0, "page %016lx is W+X", kernel_find_wx_page());
}

/* ---- patching.byte_trace ---- */

struct trace_ev {
	unsigned int step;
	u8 bytes[PATCH_INSN_SIZE];
	bool all_cpus_synced;
	int own_call, nmi_call;
	unsigned long wx;
};
static struct trace_ev tev[16];
static unsigned int ntev;
static u64 sync_seen[NR_CPUS_MAX];
static volatile int tp_nmi_result;

static void tp_nmi_fn(struct pt_regs *regs)
{
	(void)regs;
	tp_run_call_site();   /* hits the int3 inside the NMI */
	WRITE_ONCE(tp_nmi_result, READ_ONCE(tp_last));
}

static void trace_hook(unsigned int step, const struct text_poke_loc *tp, unsigned int nr)
{
	struct trace_ev *e;
	unsigned int cpu;

	(void)tp;
	(void)nr;
	if (ntev >= ARRAY_SIZE(tev))
		return;
	e = &tev[ntev++];
	e->step = step;
	memcpy(e->bytes, tp_call_site, PATCH_INSN_SIZE);
	e->all_cpus_synced = true;
	e->own_call = e->nmi_call = 0;
	e->wx = kernel_find_wx_page();
	if (step & TP_TRACE_SYNC) {
		for_each_online_cpu(cpu) {
			u64 s = text_poke_cpu_syncs(cpu);

			if (s == sync_seen[cpu])
				e->all_cpus_synced = false;
			sync_seen[cpu] = s;
		}
		if ((step & 0xff) != 3) {
			/* The int3 is in: this CPU's own call, and a call from an
			 * NMI on this CPU, must both run the NEW instruction. */
			WRITE_ONCE(tp_last, 0);
			tp_run_call_site();
			e->own_call = tp_last;
			WRITE_ONCE(tp_nmi_result, 0);
			if (smp_send_nmi_call(smp_processor_id(), tp_nmi_fn))
				for (int i = 0; i < 1000000 && !READ_ONCE(tp_nmi_result); i++)
					cpu_relax();
			e->nmi_call = tp_nmi_result;
		}
	}
}

static void fmt_bytes(char *buf, const u8 *b)
{
	snprintf(buf, 16, "%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4]);
}

KTEST(byte_trace, "patching.byte_trace")
{
	static const unsigned int want_steps[6] = { 1, 1 | TP_TRACE_SYNC, 2, 2 | TP_TRACE_SYNC,
						    3, 3 | TP_TRACE_SYNC };
	u8 old[PATCH_INSN_SIZE], new[PATCH_INSN_SIZE], want[6][PATCH_INSN_SIZE];
	unsigned int cpu;
	char got_s[16], want_s[16];
	int err;

	memcpy(old, tp_call_site, sizeof(old));
	KTEST_EXPECT(site_is_call_to(tp_target_a));
	encode_call(new, tp_target_b);
	for (int i = 0; i < 6; i++) {
		int s = i / 2;   /* 0: cc+old tail, 1: cc+new tail, 2: new */

		memcpy(want[i], s == 0 ? old : new, PATCH_INSN_SIZE);
		if (s < 2)
			want[i][0] = 0xcc;
	}
	for_each_online_cpu(cpu)
		sync_seen[cpu] = text_poke_cpu_syncs(cpu);
	ntev = 0;
	text_mutex_lock();
	WRITE_ONCE(text_poke_trace_hook, trace_hook);
	err = text_poke_bp((void *)tp_call_site, new);
	WRITE_ONCE(text_poke_trace_hook, NULL);
	text_mutex_unlock();
	KTEST_EXPECT_MSG(err == 0, "text_poke_bp returned %d", err);
	KTEST_EXPECT_MSG(ntev == 6, "%u trace events, expected 6 (3 steps, each with a sync)", ntev);
	for (unsigned int i = 0; i < 6 && i < ntev; i++) {
		fmt_bytes(got_s, tev[i].bytes);
		fmt_bytes(want_s, want[i]);
		KTEST_EXPECT_MSG(tev[i].step == want_steps[i], "event %u is step %#x, expected %#x",
				 i, tev[i].step, want_steps[i]);
		KTEST_EXPECT_MSG(!memcmp(tev[i].bytes, want[i], PATCH_INSN_SIZE),
				 "event %u: site bytes %s, expected %s", i, got_s, want_s);
		KTEST_EXPECT_MSG(tev[i].all_cpus_synced, "event %u: a CPU did not execute the sync", i);
		KTEST_EXPECT_MSG(!tev[i].wx, "event %u: page %016lx is W+X", i, tev[i].wx);
		if ((tev[i].step & TP_TRACE_SYNC) && (tev[i].step & 0xff) != 3) {
			KTEST_EXPECT_MSG(tev[i].own_call == 2, "event %u: the patching CPU's call "
					 "under int3 reached target %d, not the new one", i, tev[i].own_call);
			KTEST_EXPECT_MSG(tev[i].nmi_call == 2, "event %u: the call from an NMI under "
					 "int3 reached target %d, not the new one", i, tev[i].nmi_call);
		}
	}
	tp_run_call_site();
	KTEST_EXPECT(tp_last == 2);
	text_mutex_lock();
	err = text_poke_bp((void *)tp_call_site, old);
	text_mutex_unlock();
	KTEST_EXPECT(err == 0 && site_is_call_to(tp_target_a));
	printk("patching.byte_trace: %02x.. -> cc+old tail -> cc+new tail -> %02x.., sync after each\n",
	       old[0], new[0]);
}

/* ---- patching.static_key / static_call ---- */

static bool sites_of_key_are(const struct static_key *key, enum insn_kind k)
{
	for_each_patch_site(s)
		if (s->kind == PATCH_SITE_JUMP_LABEL && patch_site_owner(s) == key &&
		    insn_decode((const u8 *)patch_site_addr(s), patch_site_addr(s)).kind != k)
			return false;
	return true;
}

KTEST(static_key, "patching.static_key")
{
	u64 t0, t1, t2;

	KTEST_EXPECT_MSG(static_key_nr_sites(&tp_key.key) == 2, "tp_key has %u sites",
			 static_key_nr_sites(&tp_key.key));
	KTEST_EXPECT(static_key_nr_sites(&tp_key_true.key) == 1);
	KTEST_EXPECT(sites_of_key_are(&tp_key.key, INSN_NOP));
	KTEST_EXPECT(sites_of_key_are(&tp_key_true.key, INSN_NOP));
	KTEST_EXPECT(tp_branch1() == 0 && tp_branch2() == 0 && tp_branch_likely() == 1);
	t0 = ktime_get_ns();
	static_branch_enable(&tp_key);
	t1 = ktime_get_ns();
	static_branch_disable(&tp_key_true);
	KTEST_EXPECT(sites_of_key_are(&tp_key.key, INSN_JMP));
	KTEST_EXPECT(sites_of_key_are(&tp_key_true.key, INSN_JMP));
	KTEST_EXPECT(tp_branch1() == 1 && tp_branch2() == 1 && tp_branch_likely() == 0);
	static_branch_enable(&tp_key_true);
	t2 = ktime_get_ns();
	static_branch_disable(&tp_key);
	KTEST_EXPECT(sites_of_key_are(&tp_key.key, INSN_NOP));
	KTEST_EXPECT(tp_branch1() == 0 && tp_branch2() == 0 && tp_branch_likely() == 1);
	(void)t2;
	printk("patching.static_key: one flip of a 2-site key took %llu us on %u CPUs\n",
	       (unsigned long long)((t1 - t0) / 1000), num_online_cpus());
	printk("BENCH static_key_flip_smp%u %llu us\n", num_online_cpus(),
	       (unsigned long long)((t1 - t0) / 1000));
}

KTEST(static_call, "patching.static_call")
{
	KTEST_EXPECT(static_call(tp_call)() == 1);
	KTEST_EXPECT(static_call_query(tp_call) == (void *)tp_fn_a);
	KTEST_EXPECT(static_call_update(tp_call, tp_fn_b) == 0);
	KTEST_EXPECT(static_call(tp_call)() == 2);
	KTEST_EXPECT(static_call_update(tp_call, tp_fn_a) == 0);
	KTEST_EXPECT(static_call(tp_call)() == 1);
	KTEST_EXPECT(__static_call_update(&STATIC_CALL_KEY(tp_call), (void *)tp_fn_a, (void *)tp_fn_b) != 0);
}

/* ---- patching.foreign_int3 ---- */

static int foreign_hits;
static bool foreign_hook(struct pt_regs *regs)
{
	(void)regs;
	foreign_hits++;
	return true;
}

KTEST(foreign_int3, "patching.foreign_int3")
{
	bool (*old)(struct pt_regs *) = next_int3_hook;
	u8 new[PATCH_INSN_SIZE];

	foreign_hits = 0;
	WRITE_ONCE(next_int3_hook, foreign_hook);
	__asm__ __volatile__("int3" ::: "memory");   /* no batch: not ours */
	/* And during a batch, at an address that is not in it. */
	encode_call(new, tp_target_a);
	text_mutex_lock();
	text_poke_bp((void *)tp_call_site, new);
	text_mutex_unlock();
	__asm__ __volatile__("int3" ::: "memory");
	WRITE_ONCE(next_int3_hook, old);
	KTEST_EXPECT_MSG(foreign_hits == 2, "the next #BP hook ran %d times, expected 2", foreign_hits);
}

/* ---- patching.nmi_storm ---- */

static DEFINE_SPINLOCK(storm_lock);   /* taken only in NMI context */
static u64 storm_nmis[NR_CPUS_MAX], storm_bad, storm_counter;

static void storm_nmi_fn(struct pt_regs *regs)
{
	int r;

	(void)regs;
	spin_lock(&storm_lock);
	storm_counter++;
	spin_unlock(&storm_lock);
	tp_run_call_site();
	r = static_call(tp_call)();
	if (r != 1 && r != 2)
		__atomic_add_fetch(&storm_bad, 1, __ATOMIC_RELAXED);
	if (static_branch_unlikely(&tp_storm_key))
		r = tp_branch1();
	storm_nmis[smp_processor_id()]++;
}

static int storm_sender(void *arg)
{
	unsigned int cpu;

	(void)arg;
	while (!kthread_should_stop()) {
		for_each_online_cpu(cpu)   /* every other CPU; the patching CPU included */
			if (cpu != smp_processor_id())
				smp_send_nmi_call(cpu, storm_nmi_fn);
		udelay(50);
	}
	return 0;
}

KTEST(nmi_storm, "patching.nmi_storm")
{
	struct task_struct *sender;
	unsigned int cpu, me = smp_processor_id(), other = me;
	u64 hits0 = text_poke_stats.int3_hits_nmi, total = 0;
	u8 ca[PATCH_INSN_SIZE], cb[PATCH_INSN_SIZE];
	int err = 0;

	for_each_online_cpu(cpu)
		if (cpu != me)
			other = cpu;
	storm_bad = 0;
	memset(storm_nmis, 0, sizeof(storm_nmis));
	sender = kthread_create(storm_sender, NULL, "nmistorm");
	KTEST_EXPECT(sender);
	if (!sender)
		return;
	kthread_bind(sender, other);
	wake_up_process(sender);
	/* The storm first reaches every CPU (bounded), so the batches below
	 * run against NMIs wherever the sender thread gets scheduled, even on
	 * a slow DEBUG build where they would otherwise finish first. */
	for (u64 deadline = ktime_get_ns() + 2000000000ULL; ktime_get_ns() < deadline; ) {
		bool all = true;

		for_each_online_cpu(cpu)
			all &= cpu == other || READ_ONCE(storm_nmis[cpu]) > 0;
		if (all)
			break;
		msleep(1);
	}
	encode_call(ca, tp_target_a);
	encode_call(cb, tp_target_b);
	for (int i = 0; i < 100 && !err; i++) {
		struct text_poke_loc tp[2] = { { .addr = (unsigned long)tp_call_site },
					       { .addr = (unsigned long)&STATIC_CALL_TRAMP(tp_call) } };

		memcpy(tp[0].new, (i & 1) ? ca : cb, PATCH_INSN_SIZE);
		insn_encode(tp[1].new, INSN_JMP, tp[1].addr,
			    (unsigned long)((i & 1) ? tp_fn_a : tp_fn_b));
		text_mutex_lock();
		err = text_poke_bp_batch(tp, 2);
		text_mutex_unlock();
		if (i & 1)
			static_branch_disable(&tp_storm_key);
		else
			static_branch_enable(&tp_storm_key);
	}
	/* kthread_stop() is the only stop signal: a thread that returned on a
	 * flag of its own could be released before this (ktest-all warned). */
	kthread_stop(sender);
	KTEST_EXPECT_MSG(err == 0, "text_poke_bp_batch returned %d", err);
	KTEST_EXPECT(site_is_call_to(tp_target_a));
	KTEST_EXPECT(!static_key_enabled(&tp_storm_key.key) &&
		     sites_of_key_are(&tp_storm_key.key, INSN_NOP));
	for_each_online_cpu(cpu) {   /* the sender's CPU sends, it is not sent to */
		KTEST_EXPECT_MSG(cpu == other || storm_nmis[cpu] > 0, "CPU %u handled no NMI", cpu);
		total += storm_nmis[cpu];
	}
	KTEST_EXPECT_MSG(storm_bad == 0, "%llu static calls from NMIs returned garbage",
			 (unsigned long long)storm_bad);
	KTEST_EXPECT(storm_counter >= total);
	printk("patching.nmi_storm: 100 batches + 100 key flips, %llu NMIs on %u CPUs, "
	       "%llu int3 hits inside NMIs, %llu stale int3s re-executed\n",
	       (unsigned long long)total, num_online_cpus(),
	       (unsigned long long)(text_poke_stats.int3_hits_nmi - hits0),
	       (unsigned long long)text_poke_stats.int3_stale);
}
