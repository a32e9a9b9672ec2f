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
 * Test: every fault-*.scn scenario expects a symbolized line.
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

static void flush_repeats(int *repeats)
{
	if (*repeats)
		printk("  ... the frame above %d more time%s (recursion)\n", *repeats,
		       *repeats == 1 ? "" : "s");
	*repeats = 0;
}

void print_backtrace(unsigned long rip, unsigned long rbp)
{
	bool exception_frame = false; /* is the frame at rbp an entry fake frame? */
	unsigned long last_ret = 0;
	int repeats = 0, i;

	printk("Call Trace:\n");
	if (rip)
		print_symbol("  ", rip);
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
			/* The interrupted rip: where the CPU was, not a return address. */
			flush_repeats(&repeats);
			print_symbol("  ", ret);
		} else {
			/* A return address points after the call: look up ret-1 so a
			 * call that ends its function still names the caller. */
			unsigned long off, size;
			const char *name = ksym_lookup(ret - 1, &off, &size);

			flush_repeats(&repeats);
			if (name)
				printk("  [<%016lx>] %s+0x%lx/0x%lx\n", ret, name, off + 1, size);
			else
				printk("  [<%016lx>] ?\n", ret);
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

void __noinline dump_stack(void)
{
	print_backtrace(0, (unsigned long)__builtin_frame_address(0));
}
