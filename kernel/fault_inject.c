/*
 * fault_inject.c — deliberate faults: `fault=<kind>` and the `fault` command.
 *
 * Each kind is its own non-inlined function named fault_do_<kind>, so the
 * report's RIP line and backtrace name it; the scenarios match on that name.
 *
 *   pf         read from an address nothing maps           -> Page Fault
 *   de         integer divide by a (volatile) zero         -> Divide Error
 *   ud         ud2                                         -> Invalid Opcode
 *   stack      unbounded recursion into the guard page     -> Double Fault
 *              (the #PF cannot push its frame, so it becomes a #DF on IST1)
 *   textwrite  rewrite a kernel text byte with its value   -> Page Fault (write)
 *   ubsan      signed overflow through a volatile          -> UBSAN report, go on
 *
 * `stack` and `textwrite` need the kernel's final page tables (guard pages,
 * read-only text). Before those exist they refuse, or do nothing harmful, and
 * say so: `stack` only recurses when the page below the current stack is a
 * known guard page, and `textwrite` writes back the byte it read.
 * Tests: tests/scenarios/fault-*.scn.
 */
#include <grace/compiler.h>
#include <grace/fault_inject.h>
#include <grace/mm.h>
#include <grace/param.h>
#include <grace/printk.h>
#include <grace/shell.h>
#include <grace/string.h>

static char fault_kind[16];
param_string("fault", fault_kind, "trigger a deliberate fault at the end of boot: pf de ud stack textwrite ubsan");

/* Between the direct map and STACK_AREA (include/grace/mm.h): never mapped. */
#define FAULT_UNMAPPED_ADDR 0xffffc8000dead000UL

static __noinline void fault_do_pf(void)
{
	volatile unsigned long *p = (volatile unsigned long *)FAULT_UNMAPPED_ADDR;

	printk("fault: reading unmapped address %#lx\n", FAULT_UNMAPPED_ADDR);
	(void)*p;
}

/* Not sanitized: the point is the CPU's #DE, not UBSan's division check. */
static __noinline __no_sanitize void fault_do_de(void)
{
	volatile int zero = 0;
	volatile int result;

	printk("fault: dividing by zero\n");
	result = 42 / zero;
	(void)result;
}

static __noinline void fault_do_ud(void)
{
	printk("fault: executing ud2\n");
	__asm__ __volatile__("ud2");
}

/* Depth limit only so the compiler sees a way out; nothing reaches it. */
static volatile unsigned long stack_depth_limit = ~0UL;

static __noinline unsigned long fault_do_stack(unsigned long depth)
{
	volatile char frame[512];

	frame[0] = (char)depth;
	if (depth == stack_depth_limit)
		return 0;
	unsigned long below = fault_do_stack(depth + 1);
	/* Use the frame after the call, so it cannot become a loop. */
	__asm__ __volatile__("" :: "r"(frame) : "memory");
	return below + frame[0];
}

/* Is there a guard page below the stack we are running on? */
static bool stack_has_guard(void)
{
	unsigned long sp = (unsigned long)__builtin_frame_address(0);

	for (unsigned long a = sp & PAGE_MASK; a > sp - KERNEL_STACK_SIZE - 2 * PAGE_SIZE; a -= PAGE_SIZE)
		if (addr_is_stack_guard(a))
			return true;
	return false;
}

static __noinline void fault_do_textwrite(void)
{
	volatile u8 *text = (volatile u8 *)(void *)fault_do_textwrite;

	printk("fault: writing kernel text at %p\n", (void *)text);
	*text = *text; /* same value: harmless if text is still writable */
	printk("fault: kernel text is writable (read-only text not set up yet); nothing happened\n");
}

static __noinline void fault_do_ubsan(void)
{
	volatile int big = __INT_MAX__;
	volatile int result;

	printk("fault: signed integer overflow (INT_MAX + 1)\n");
	result = big + 1;
	(void)result;
#ifndef CONFIG_DEBUG
	printk("fault: this is not a DEBUG=1 build, so UBSan is off and nothing is reported\n");
#endif
}

int fault_inject(const char *kind)
{
	if (!strcmp(kind, "pf")) {
		fault_do_pf();
	} else if (!strcmp(kind, "de")) {
		fault_do_de();
	} else if (!strcmp(kind, "ud")) {
		fault_do_ud();
	} else if (!strcmp(kind, "stack")) {
		if (!stack_has_guard()) {
			printk("fault: no guard page below this stack yet (memory protection not active); not recursing\n");
			return 0;
		}
		printk("fault: recursing until the stack overflows\n");
		fault_do_stack(0);
	} else if (!strcmp(kind, "textwrite")) {
		fault_do_textwrite();
	} else if (!strcmp(kind, "ubsan")) {
		fault_do_ubsan();
	} else {
		printk("fault: unknown kind \"%s\"; kinds are pf de ud stack textwrite ubsan\n", kind);
		return -1;
	}
	return 0;
}

void fault_inject_from_param(void)
{
	if (fault_kind[0])
		fault_inject(fault_kind);
}

static int cmd_fault(int argc, char **argv)
{
	if (argc != 2)
		return -1; /* the shell prints the usage line */
	return fault_inject(argv[1]) ? -1 : 0;
}
SHELL_COMMAND(fault, "fault", "fault <pf|de|ud|stack|textwrite|ubsan>",
	      "trigger a deliberate fault to see the exception report", cmd_fault);
