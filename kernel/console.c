/*
 * console.c — choosing the screen console, and console input.
 *
 * Output: the bootloader's framebuffer tag decides. An RGB framebuffer (UEFI
 * GOP, or a graphics mode under BIOS) gets the framebuffer text console; EGA
 * text (type 2) or no tag at all means the VGA text buffer at 0xB8000. With
 * `console=serial` neither is registered: drawing glyphs pixel by pixel is the
 * slowest thing the kernel does under TCG. A new screen console first replays
 * the end of the log so the boot messages before it are visible.
 *
 * Input: one byte stream merged from COM1 and the PS/2 keyboard. Waiting for
 * a byte has two modes:
 *   before console_input_irq_ready(): poll, `pause`, poll ... (no interrupts
 *     exist yet, so halting could sleep forever);
 *   after: with interrupts off, poll; if nothing, `sti; hlt` — the sti shadow
 *     makes "enable and halt" atomic, so a byte that arrives after the poll
 *     raises an interrupt that ends the hlt instead of being missed;
 *   once the scheduler runs (and the reader is a task, not an idle loop):
 *     sleep on console_input_wq, which the input interrupt wakes. wait_event
 *     queues the reader and marks it asleep *before* it polls, so a byte
 *     after the poll finds it queued: the same argument as the hlt, and the
 *     CPU runs other tasks meanwhile instead of sitting in a halted thread.
 * Test: tests/scenarios/shell-*.scn, tests/interactive/test_shell_keys.py.
 */
#include <asm/cpu.h>
#include <grace/compiler.h>
#include <grace/console.h>
#include <grace/mm.h>
#include <grace/param.h>
#include <grace/printk.h>
#include <grace/serial.h>
#include <grace/sched.h>
#include <grace/string.h>
#include <grace/wait.h>

#define VGA_TEXT_PHYS 0xB8000
#define REPLAY_BYTES  4096

static char console_opt[16] = "screen";
param_string("console", console_opt,
	     "screen: serial plus VGA text or framebuffer console; serial: serial only (faster under TCG)");

static bool input_irq_ready;
static DECLARE_WAIT_QUEUE_HEAD(console_input_wq);

/* Framebuffers and VGA memory live in holes of the RAM map: map them uncached. */
void *console_map(phys_addr_t phys, size_t size)
{
	return ioremap(phys, size);
}

/* Show the newest boot messages on a console that just came up. */
static void console_replay(struct console *con)
{
	char buf[256];
	size_t len = log_buf_len();
	size_t skip = len > REPLAY_BYTES ? len - REPLAY_BYTES : 0;
	size_t n;

	/* Start at a line boundary. */
	if (skip) {
		while ((n = log_buf_read(buf, 1, skip)) == 1 && buf[0] != '\n')
			skip++;
		skip++;
	}
	while ((n = log_buf_read(buf, sizeof(buf), skip)) > 0) {
		con->write(buf, n);
		skip += n;
	}
}

void console_init(void)
{
	const struct boot_fb *fb = &boot_info.fb;
	struct console *con;

	keyboard_init();
	if (strcmp(console_opt, "serial") == 0) {
		printk("console: serial only (console=serial)\n");
		return;
	}
	if (strcmp(console_opt, "screen") != 0)
		printk("console: console=%s is not 'serial' or 'screen'; using screen\n", console_opt);

	if (boot_info.have_fb && fb->type == 1) {
		con = fbcon_init(fb);
	} else if (boot_info.have_fb && fb->type == 2) {
		con = vga_console_init(fb->addr, fb->width, fb->height);
	} else if (!boot_info.have_fb && !boot_info.efi) {
		con = vga_console_init(VGA_TEXT_PHYS, 80, 25);
	} else {
		printk("console: no usable screen (framebuffer type %u), serial only\n", fb->type);
		con = NULL;
	}
	if (!con)
		return;
	/* Boot is still on one CPU, so nothing is printed between the replay
	 * and the registration. */
	console_replay(con);
	register_console(con);
	printk("console: %s registered\n", con->name);
}

int console_getc(void)
{
	int c = serial_getc();

	return c >= 0 ? c : keyboard_getc();
}

void console_input_irq_ready(void)
{
	WRITE_ONCE(input_irq_ready, true);
}

void console_input_irq(struct pt_regs *regs, void *data)
{
	/* The interrupt has already ended a halted reader's hlt; a sleeping
	 * reader is woken. The device keeps the byte until console_getc(). */
	wake_up(&console_input_wq);
}

int console_getc_wait(void)
{
	for (;;) {
		if (!READ_ONCE(input_irq_ready)) {
			int c = console_getc();

			if (c >= 0)
				return c;
			cpu_relax();
			continue;
		}
		if (sched_ready && !is_idle_task(current)) {
			int c = -1;

			/* Woken by the input interrupt; the timeout re-polls in
			 * case a byte came before its interrupt was enabled
			 * (an edge that never comes). */
			while (!wait_event_timeout(console_input_wq, (c = console_getc()) >= 0,
						   msecs_to_jiffies(100)))
				;
			return c;
		}
		cli();
		int c = console_getc();

		if (c >= 0) {
			sti();
			return c;
		}
		safe_halt(); /* sti; hlt — returns with interrupts on */
	}
}
