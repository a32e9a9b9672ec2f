/*
 * printk_test.c — printk from an NMI that lands inside another printk line.
 *
 * The invariant (kernel/printk.c): a line is never broken by another
 * context's output. An NMI's printk on a CPU that is itself in the middle
 * of a printk cannot wait for the console lock (its own interrupted context
 * holds it), so it leaves its line in the CPU's deferred buffer and the
 * interrupted printk emits it after its own text. The test makes that
 * happen for certain: a hook inside printk (printk_midline_hook, called
 * halfway through a line carrying the marker) sends an NMI to this CPU and
 * waits for it; the NMI prints a line. Both lines must be in the log whole,
 * the NMI's after the other and on a line of its own.
 * Fails without the deferral: the NMI's text sits inside the outer line
 * (that is how rcu-stall once lost "detected a self-stall").
 */
#include <asm/cpu.h>
#include <grace/ktest.h>
#include <grace/preempt.h>
#include <grace/printk.h>
#include <grace/smp.h>
#include <grace/string.h>
#include <grace/time.h>

extern void (*printk_midline_hook)(void);
extern const char *printk_midline_marker;

#define OUTER "printk-test-outer: 0123456789abcdefghijklmnopqrstuvwxyz\n"
#define INNER "printk-test-inner: printed by an NMI inside the outer line\n"

static volatile int nmi_done;

static void nmi_print(struct pt_regs *regs)
{
	(void)regs;
	printk(INNER);
	__atomic_store_n(&nmi_done, 1, __ATOMIC_RELEASE);
}

static void midline(void)
{
	u64 end = ktime_get_ns() + 200000000ULL;

	if (!smp_send_nmi_call(smp_processor_id(), nmi_print))
		return;
	while (!__atomic_load_n(&nmi_done, __ATOMIC_ACQUIRE) && ktime_get_ns() < end)
		cpu_relax();
}

static char tail[4096];

KTEST(printk_nmi_midline, "printk.nmi_midline")
{
	size_t len, got;
	const char *outer, *inner;

	nmi_done = 0;
	preempt_disable();   /* the NMI must go to the CPU that prints */
	WRITE_ONCE(printk_midline_marker, "printk-test-outer");
	WRITE_ONCE(printk_midline_hook, midline);
	printk(OUTER);
	WRITE_ONCE(printk_midline_hook, NULL);
	preempt_enable();
	KTEST_EXPECT_MSG(nmi_done, "the test's NMI never ran");
	len = log_buf_len();
	got = log_buf_read(tail, sizeof(tail) - 1, len > sizeof(tail) - 1 ? len - (sizeof(tail) - 1) : 0);
	tail[got] = 0;
	outer = memmem(tail, got, OUTER, strlen(OUTER));
	inner = memmem(tail, got, INNER, strlen(INNER));
	KTEST_EXPECT_MSG(outer, "the outer line is not whole in the log (the NMI's text broke it)");
	KTEST_EXPECT_MSG(inner, "the NMI's line is not whole in the log");
	if (outer && inner) {
		KTEST_EXPECT_MSG(inner > outer, "the NMI's line came before the line it interrupted");
		KTEST_EXPECT_MSG(inner >= tail + 2 && inner[-2] == ']' && inner[-1] == ' ',
				 "the NMI's line has no prefix of its own");
	}
}
