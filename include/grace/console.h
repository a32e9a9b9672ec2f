/*
 * console.h — screen consoles and console input (kernel/console.c,
 * drivers/vga.c, drivers/fbcon.c, drivers/keyboard.c).
 *
 * Output: the serial console registers itself in serial_init(); console_init()
 * adds one screen console — VGA text mode (BIOS) or the framebuffer text
 * console (UEFI/GOP) — unless `console=serial` was given.
 * Input: console_getc() merges COM1 and the PS/2 keyboard into one byte
 * stream; keys without an ASCII code arrive as the escape sequences a serial
 * terminal sends (ESC [ A/B/C/D arrows, ESC [ H / ESC [ F home/end,
 * ESC [ 3 ~ delete).
 */
#ifndef GRACE_CONSOLE_H
#define GRACE_CONSOLE_H

#include <asm/ptrace.h>
#include <grace/bootinfo.h>
#include <grace/types.h>

/* Register the screen console for what the bootloader gave us; keyboard on. */
void console_init(void);

/* One input byte, serial first, then keyboard; -1 when none is waiting. */
int console_getc(void);
/* Wait for an input byte: spins with `pause` until console_input_irq_ready(),
 * then sleeps with `sti; hlt` between bytes. */
int console_getc_wait(void);
/*
 * Called once IRQ 1 (keyboard) and IRQ 4 (COM1) are routed to
 * console_input_irq() and the serial receive interrupt is on: from then on
 * an input byte is sure to wake a halted CPU.
 */
void console_input_irq_ready(void);
/* The handler to route IRQ 1 and 4 to. It only wakes the CPU from `hlt`;
 * the waiting reader drains the devices itself. */
void console_input_irq(struct pt_regs *regs, void *data);

/* Map a device's physical memory for a console (ioremap when the memory
 * code provides it, else the boot direct map). NULL if unreachable. */
void *console_map(phys_addr_t phys, size_t size);

/* Screen drivers: each returns its console, ready but not yet registered
 * (console_init replays the log into it first), or NULL. */
struct console;
struct console *vga_console_init(phys_addr_t phys, unsigned int cols, unsigned int rows);
struct console *fbcon_init(const struct boot_fb *fb);
void keyboard_init(void);
int keyboard_getc(void);       /* -1 when nothing is waiting */

/* The glyphs for 0x20..0x7e, 16 rows of 8 pixels, bit 7 = leftmost. */
#define FONT_WIDTH  8
#define FONT_HEIGHT 16
#define FONT_FIRST  0x20
#define FONT_LAST   0x7e
extern const u8 font8x16[FONT_LAST - FONT_FIRST + 1][FONT_HEIGHT];

#endif
