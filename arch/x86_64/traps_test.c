/*
 * traps_test.c — in-kernel tests of the trap and interrupt paths.
 *
 *   traps.irq_dispatch   `int $n` on a dynamic vector reaches the registered
 *                        handler with in_irq() true, counts it, and the
 *                        pt_regs it sees hold the vector and a sane frame
 *   traps.irq_frame      the entry code's fake frame links the handler's
 *                        frame-pointer chain to the interrupted rip/rbp (what
 *                        lets a backtrace walk out of an interrupt)
 *   traps.int3_hook      an int3 claimed by int3_handler_hook resumes after it
 *   traps.ksyms          ksym_lookup/ksym_address agree with the linker
 *   traps.extable        a #UD and a #PF write on read-only text, each at an
 *                        instruction with an exception-table entry, continue
 *                        at the fixup with RAX = EX_FAULTED and the fault
 *                        recorded; the text byte is unchanged
 * Run with `ktest=traps`.
 */
#include <asm/desc.h>
#include <asm/extable.h>
#include <asm/traps.h>
#include <grace/backtrace.h>
#include <grace/irq.h>
#include <grace/ktest.h>
#include <grace/printk.h>
#include <grace/string.h>

#define TEST_VECTOR 0xd0 /* in the dynamic range, unused by anything else */

struct irq_probe {
	int calls;
	bool in_irq;
	u64 vector;
	u64 cs;
	unsigned long handler_rip, handler_rbp; /* from the pt_regs */
	bool chain_ok;                          /* the fake frame was found */
};

static void probe_handler(struct pt_regs *regs, void *data)
{
	struct irq_probe *p = data;
	const unsigned long *fp = __builtin_frame_address(0);

	p->calls++;
	p->in_irq = in_irq();
	p->vector = regs->vector;
	p->cs = regs->cs;
	p->handler_rip = regs->rip;
	p->handler_rbp = regs->rbp;
	/* Walk up (at most a few C frames) to the return into entry code;
	 * the frame after it must be {regs->rbp, regs->rip}. */
	for (int i = 0; i < 4 && fp; i++) {
		unsigned long ret = fp[1];
		const unsigned long *next = (const unsigned long *)fp[0];

		if (ret >= (unsigned long)__entry_text_start && ret < (unsigned long)__entry_text_end) {
			p->chain_ok = next && next[0] == regs->rbp && next[1] == regs->rip &&
				      (const void *)(next + 2) == (const void *)regs;
			break;
		}
		fp = next;
	}
}

static __noinline void raise_test_vector(void)
{
	__asm__ __volatile__("int %0" :: "i"(TEST_VECTOR) : "memory");
}

KTEST(irq_dispatch, "traps.irq_dispatch")
{
	struct irq_probe p = { 0 };
	u64 before = irq_count(TEST_VECTOR);

	KTEST_EXPECT(request_irq_vector(TEST_VECTOR, probe_handler, &p, "ktest") == 0);
	KTEST_EXPECT(request_irq_vector(TEST_VECTOR, probe_handler, &p, "ktest") == -1);
	KTEST_EXPECT(request_irq_vector(0x10, probe_handler, &p, "ktest") == -1);
	raise_test_vector();
	free_irq_vector(TEST_VECTOR);
	KTEST_EXPECT_MSG(p.calls == 1, "handler ran %d times", p.calls);
	KTEST_EXPECT(p.in_irq);
	KTEST_EXPECT(!in_irq());
	KTEST_EXPECT_MSG(p.vector == TEST_VECTOR, "vector %#llx", (unsigned long long)p.vector);
	KTEST_EXPECT(p.cs == KERNEL_CS);
	KTEST_EXPECT(irq_count(TEST_VECTOR) == before + 1);
}

KTEST(irq_frame, "traps.irq_frame")
{
	struct irq_probe p = { 0 };

	KTEST_EXPECT(request_irq_vector(TEST_VECTOR, probe_handler, &p, "ktest") == 0);
	raise_test_vector();
	free_irq_vector(TEST_VECTOR);
	KTEST_EXPECT(p.calls == 1);
	KTEST_EXPECT_MSG(p.chain_ok, "no fake frame {rbp %#lx, rip %#lx} above the handler",
			 p.handler_rbp, p.handler_rip);
	/* The interrupted rip is inside this function (right after the int). */
	unsigned long off, size;
	const char *name = ksym_lookup(p.handler_rip, &off, &size);
	KTEST_EXPECT_MSG(name && !strcmp(name, "raise_test_vector"),
			 "interrupted rip names %s", name ? name : "nothing");
}

static int int3_hits;
static bool int3_claim(struct pt_regs *regs)
{
	int3_hits++;
	return true; /* rip already points past the int3: just resume */
}

KTEST(int3_hook, "traps.int3_hook")
{
	bool (*old)(struct pt_regs *) = int3_handler_hook;

	int3_hits = 0;
	WRITE_ONCE(int3_handler_hook, int3_claim);
	__asm__ __volatile__("int3" ::: "memory");
	WRITE_ONCE(int3_handler_hook, old);
	KTEST_EXPECT_MSG(int3_hits == 1, "hook ran %d times", int3_hits);
}

KTEST(ksyms, "traps.ksyms")
{
	unsigned long off, size;
	const char *name = ksym_lookup((unsigned long)trap_init + 1, &off, &size);

	KTEST_EXPECT_MSG(name && !strcmp(name, "trap_init"), "got %s", name ? name : "NULL");
	KTEST_EXPECT(off == 1 && size > 1);
	KTEST_EXPECT(ksym_address("trap_init") == (unsigned long)trap_init);
	KTEST_EXPECT(ksym_address("no_such_symbol_anywhere") == 0);
	KTEST_EXPECT(ksym_lookup(0x1000, &off, &size) == NULL);
}

/* ud2 at a listed instruction: the fixup resumes right after it. */
static u64 extable_ud(void)
{
	u64 rax = 0;

	__asm__ __volatile__("1: ud2\n2:\n" _ASM_EXTABLE(1b, 2b) : "+a"(rax) :: "memory");
	return rax;
}

/* A write to read-only kernel text (this very function's first byte). */
static __attribute__((noinline)) u64 extable_textwrite(void)
{
	u64 rax = 0;
	u8 *text = (u8 *)(void *)extable_textwrite;

	__asm__ __volatile__("1: movb %%cl, (%1)\n2:\n" _ASM_EXTABLE(1b, 2b)
			     : "+a"(rax) : "r"(text), "c"(*text) : "memory");
	return rax;
}

KTEST(extable, "traps.extable")
{
	const struct extable_fault *f = extable_last_fault();
	u64 n0 = f->count;
	u8 first = *(volatile u8 *)(void *)extable_textwrite;

	KTEST_EXPECT(extable_ud() == EX_FAULTED);
	KTEST_EXPECT_MSG(f->vector == X86_TRAP_UD, "recorded vector %llu", (unsigned long long)f->vector);
	KTEST_EXPECT(f->count == n0 + 1);
	KTEST_EXPECT(extable_textwrite() == EX_FAULTED);
	KTEST_EXPECT_MSG(f->vector == X86_TRAP_PF, "recorded vector %llu", (unsigned long long)f->vector);
	KTEST_EXPECT_MSG(f->cr2 == (u64)(unsigned long)(void *)extable_textwrite,
			 "cr2 %#llx", (unsigned long long)f->cr2);
	KTEST_EXPECT(f->error_code & 2);   /* a write */
	KTEST_EXPECT(*(volatile u8 *)(void *)extable_textwrite == first);
	KTEST_EXPECT(f->count == n0 + 2);
	KTEST_EXPECT(search_exception_tables((unsigned long)(void *)extable_ud) == NULL);
}
