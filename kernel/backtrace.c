/*
 * backtrace.c — walk the frame-pointer chain and print symbol+offset.
 *
 * Frame layout (System V, -fno-omit-frame-pointer):  [rbp] = caller's rbp,
 * [rbp+8] = return address. Every saved rbp must be 8-aligned, above the
 * previous one, and inside the kernel's higher half; otherwise the walk stops
 * rather than fault. The walker may run in an exception handler on a broken
 * stack, so it checks each frame before reading it.
 */
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
	return fp >= PHYS_OFFSET && fp < 0xfffffffffffff000UL;
}

void print_backtrace(unsigned long rip, unsigned long rbp)
{
	printk("Call Trace:\n");
	if (rip)
		print_symbol("  ", rip);
	for (int i = 0; i < MAX_FRAMES && rbp; i++) {
		if (!frame_readable(rbp)) {
			printk("  (frame pointer %016lx not readable, stopping)\n", rbp);
			break;
		}
		const unsigned long *frame = (const unsigned long *)rbp;
		unsigned long ret = frame[1];
		unsigned long next = frame[0];

		if (!ret)
			break;
		/* Return address points after the call: look up ret-1 so a call
		 * that ends its function still names the caller. */
		unsigned long off, size;
		const char *name = ksym_lookup(ret - 1, &off, &size);

		if (name)
			printk("  [<%016lx>] %s+0x%lx/0x%lx\n", ret, name, off + 1, size);
		else
			printk("  [<%016lx>] ?\n", ret);
		if (next && next <= rbp)
			break; /* the stack grows down, so callers' frames are higher */
		rbp = next;
	}
}

void __noinline dump_stack(void)
{
	print_backtrace(0, (unsigned long)__builtin_frame_address(0));
}
