/*
 * panic.c — the end of the line, and warnings.
 *
 * panic(): interrupts off, console in emergency mode, print the reason and a
 * backtrace, stop the other CPUs (when SMP provides a way), then power off
 * with a failure status so a scenario fails fast instead of timing out.
 * Re-entry (a panic while panicking) goes straight to the power-off.
 */
#include <asm/cpu.h>
#include <grace/backtrace.h>
#include <grace/panic.h>
#include <grace/printk.h>
#include <grace/reboot.h>
#include <grace/smp.h>

static volatile int panicking;

void panic(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	cli();
	if (__atomic_exchange_n(&panicking, 1, __ATOMIC_SEQ_CST))
		machine_poweroff(false);
	printk_enter_emergency();
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printk("Kernel panic - not syncing: %s\n", msg);
	dump_stack();
	smp_stop_other_cpus();
	printk("---[ end Kernel panic - not syncing: %s ]---\n", msg);
	machine_poweroff(false);
}

void __warn(const char *file, int line, const char *cond)
{
	printk("WARNING: %s:%d: %s\n", file, line, cond);
	dump_stack();
}
