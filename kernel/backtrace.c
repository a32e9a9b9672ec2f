/*
 * backtrace.c — walk the frame-pointer chain and print symbol+offset.
 *
 * Frame layout (System V, -fno-omit-frame-pointer):  [rbp] = caller's rbp,
 * [rbp+8] = return address. The walk stops at a zero rbp (the boot and thread
 * entry points set one), at a frame that is not 8-aligned or not mapped
 * (checked against the live page tables, so a wild rbp cannot fault the
 * walker, which often runs in an exception handler on a broken stack), at a
 * frame that is not above the previous one, or after MAX_FRAMES.
 *
 * Exception and interrupt frames: the entry code (arch/x86_64/entry.asm)
 * builds a fake frame { interrupted rbp, interrupted rip } just below the
 * struct pt_regs and calls the C handler with rbp pointing at it. So when a
 * return address lies in the entry code, the next frame is that fake frame:
 * we print a marker with the vector, print the interrupted rip as is (it is
 * not a return address), and allow the next step to go to another stack (an
 * NMI or #DF runs on its IST stack; the interrupted code does not).
 * Frameless functions: gcc builds some leaf functions without a frame
 * (ktime_get_ns: no push %rbp at all), and any function is frameless for its
 * first instruction or two. A CPU interrupted there (an NMI backtrace, a
 * fault) still has its caller's rbp, so the frame walk would skip the caller.
 * When the interrupted context's RSP is known (print_backtrace_regs, and at
 * each exception frame on the way), the word on top of the stack (or the one
 * above it, after a push %rbp) is taken as the caller's return address — but
 * only if the instruction before it is a `call rel32` whose target is the
 * start of the interrupted function. So a wrong guess is never printed.
 * Test: every fault-*.scn scenario expects a symbolized line; watchdog-hard
 * expects the spinning command's own frame (its loop sits in ktime_get_ns).
 */
#include <asm/desc.h>
#include <asm/ptrace.h>
#include <asm/traps.h>
#include <grace/backtrace.h>
#include <grace/mm.h>
#include <grace/printk.h>

#define MAX_FRAMES 32

void print_symbol(const char *prefix, unsigned long addr)
{
	unsigned long off, size;
	const char *name = ksym_lookup(addr, &off, &size);

	if (name)
		printk("%s[<%016lx>] %s+0x%lx/0x%lx\n", prefix, addr, name, off, size);
	else
		printk("%s[<%016lx>] ?\n", prefix, addr);
}

static bool frame_readable(unsigned long fp)
{
	if (fp & 7)
		return false;
	/* Kernel image, direct map, or stack area; never user/low memory. */
	if (fp < PHYS_OFFSET || fp >= 0xfffffffffffff000UL)
		return false;
	/* Both words of the frame (8-aligned, so on the same page). */
	return kernel_addr_mapped(fp);
}

static bool in_entry_text(unsigned long addr)
{
	return addr >= (unsigned long)__entry_text_start && addr < (unsigned long)__entry_text_end;
}

/*
 * The return address of a function interrupted at `rip` before its frame
 * exists, read from the interrupted `rsp`; 0 when the frame exists or the
 * guess cannot be proven (see the header).
 */
static unsigned long frameless_caller(unsigned long rip, unsigned long rsp)
{
	unsigned long off, size, start, slot, ret;
	const u8 *fn, *call;

	if (!rsp || !ksym_lookup(rip, &off, &size))
		return 0;
	start = rip - off;
	fn = (const u8 *)start;
	if (!kernel_addr_mapped(start) || !kernel_addr_mapped(start + 3))
		return 0;
	if (fn[0] == 0x55 && fn[1] == 0x48 && fn[2] == 0x89 && fn[3] == 0xe5) {
		/* push %rbp; mov %rsp,%rbp */
		if (off == 0)
			slot = rsp;              /* nothing pushed yet */
		else if (off == 1)
			slot = rsp + 8;          /* %rbp pushed, not yet the frame */
		else
			return 0;                /* the frame exists: rbp is right */
	} else {
		slot = rsp;                      /* no frame at all: a leaf */
	}
	if (!frame_readable(slot))
		return 0;
	ret = *(const unsigned long *)slot;
	if (ret < (unsigned long)__text_start + 5 || ret >= (unsigned long)__text_end)
		return 0;
	call = (const u8 *)(ret - 5);
	if (!kernel_addr_mapped(ret - 5) || call[0] != 0xe8)
		return 0;
	if (ret + (unsigned long)(long)*(const s32 *)(call + 1) != start)
		return 0;                        /* that call went elsewhere */
	return ret;
}

static void print_return_address(unsigned long ret)
{
	/* A return address points after the call: look up ret-1 so a call that
	 * ends its function still names the caller. */
	unsigned long off, size;
	const char *name = ksym_lookup(ret - 1, &off, &size);

	if (name)
		printk("  [<%016lx>] %s+0x%lx/0x%lx\n", ret, name, off + 1, size);
	else
		printk("  [<%016lx>] ?\n", ret);
}

static void flush_repeats(int *repeats)
{
	if (*repeats)
		printk("  ... the frame above %d more time%s (recursion)\n", *repeats,
		       *repeats == 1 ? "" : "s");
	*repeats = 0;
}

static void walk(unsigned long rip, unsigned long rbp, unsigned long rsp)
{
	bool exception_frame = false; /* is the frame at rbp an entry fake frame? */
	unsigned long last_ret = 0, caller;
	int repeats = 0, i;

	printk("Call Trace:\n");
	if (rip) {
		print_symbol("  ", rip);
		caller = frameless_caller(rip, rsp);
		if (caller)
			print_return_address(caller);
	}
	for (i = 0; i < MAX_FRAMES && rbp; i++) {
		if (!frame_readable(rbp)) {
			flush_repeats(&repeats);
			printk("  (frame pointer %016lx not readable, stopping)\n", rbp);
			break;
		}
		const unsigned long *frame = (const unsigned long *)rbp;
		unsigned long ret = frame[1];
		unsigned long next = frame[0];

		if (!ret)
			break;
		if (ret == last_ret && !exception_frame) {
			repeats++; /* deep recursion: print it once, then count */
		} else if (exception_frame) {
			/* The interrupted rip: where the CPU was, not a return address;
			 * the pt_regs above the fake frame hold its rsp. */
			const struct pt_regs *r = (const struct pt_regs *)(rbp + 16);

			flush_repeats(&repeats);
			print_symbol("  ", ret);
			if (frame_readable(rbp + 16 + 8 * 20) && r->rip == ret) {
				caller = frameless_caller(ret, r->rsp);
				if (caller)
					print_return_address(caller);
			}
		} else {
			flush_repeats(&repeats);
			print_return_address(ret);
		}
		last_ret = ret;
		/* The stack grows down, so callers' frames are higher; only the step
		 * out of an exception frame may switch stacks. */
		if (next && next <= rbp && !exception_frame)
			break;
		exception_frame = in_entry_text(ret);
		if (exception_frame && next && frame_readable(next + 16 + 8 * 15)) {
			const struct pt_regs *regs = (const struct pt_regs *)(next + 16);

			printk("  <-- %s vector %lu -->\n",
			       regs->vector < 32 ? "exception" : "interrupt",
			       (unsigned long)regs->vector);
		}
		rbp = next;
	}
	flush_repeats(&repeats);
	if (i == MAX_FRAMES && rbp)
		printk("  (stopping after %d frames)\n", MAX_FRAMES);
}

void print_backtrace(unsigned long rip, unsigned long rbp)
{
	walk(rip, rbp, 0);
}

void print_backtrace_regs(const struct pt_regs *regs)
{
	walk(regs->rip, regs->rbp, regs->rsp);
}

void __noinline dump_stack(void)
{
	print_backtrace(0, (unsigned long)__builtin_frame_address(0));
}
