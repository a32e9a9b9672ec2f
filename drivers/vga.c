/*
 * vga.c — the VGA text-mode console (BIOS boot, 80x25).
 *
 * The text buffer at physical 0xB8000 holds one 16-bit cell per character:
 * low byte the code point (code page 437), high byte the attribute (here 0x07,
 * light grey on black). The hardware cursor is set through the CRT controller:
 * index port 0x3D4, data port 0x3D5, registers 0x0A/0x0B (cursor start/end
 * scan line) and 0x0E/0x0F (cursor location high/low) — IBM VGA Technical
 * Reference, "CRT Controller Registers".
 *
 * Understood: printable ASCII, '\n', '\r', '\b' (cursor left, as on a
 * terminal: the shell erases by writing spaces; at column 0 it goes to the end
 * of the row above, so a wrapped input line can be edited), '\t'. Anything
 * else is dropped. Invariant: 0 <= col < cols, 0 <= row < rows; writing past the last
 * column wraps, past the last row scrolls.
 * Called only under the console lock (from printk/console_write).
 * Test: boot under BIOS with a screen (`make run`, QEMU window) and look.
 */
#include <asm/io.h>
#include <grace/console.h>
#include <grace/printk.h>
#include <grace/string.h>

#define CRTC_INDEX        0x3D4
#define CRTC_DATA         0x3D5
#define CRTC_CURSOR_START 0x0A
#define CRTC_CURSOR_END   0x0B
#define CRTC_CURSOR_HIGH  0x0E
#define CRTC_CURSOR_LOW   0x0F
#define VGA_ATTR          0x07
#define VGA_MAX_CELLS     (132 * 60)

static volatile u16 *vga_buf;
static unsigned int cols, rows, col, row;

static u16 cell(char c)
{
	return (u16)(VGA_ATTR << 8 | (u8)c);
}

static void crtc_write(u8 reg, u8 val)
{
	outb(CRTC_INDEX, reg);
	outb(CRTC_DATA, val);
}

static void update_cursor(void)
{
	unsigned int pos = row * cols + col;

	crtc_write(CRTC_CURSOR_HIGH, (u8)(pos >> 8));
	crtc_write(CRTC_CURSOR_LOW, (u8)pos);
}

static void scroll(void)
{
	/* The buffer is device memory: copy cell by cell with volatile accesses. */
	for (unsigned int i = 0; i < (rows - 1) * cols; i++)
		vga_buf[i] = vga_buf[i + cols];
	for (unsigned int i = 0; i < cols; i++)
		vga_buf[(rows - 1) * cols + i] = cell(' ');
	row = rows - 1;
}

static void newline(void)
{
	col = 0;
	if (++row == rows)
		scroll();
}

static void vga_putc(char c)
{
	switch (c) {
	case '\n':
		newline();
		return;
	case '\r':
		col = 0;
		return;
	case '\b':
		/* Back over a wrapped line too (the shell edits lines that are
		 * longer than a screen row). */
		if (col) {
			col--;
		} else if (row) {
			row--;
			col = cols - 1;
		}
		return;
	case '\t':
		do
			vga_putc(' ');
		while (col % 8);
		return;
	}
	if (c < 0x20 || c > 0x7e)
		return;
	vga_buf[row * cols + col] = cell(c);
	if (++col == cols)
		newline();
}

static void vga_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		vga_putc(s[i]);
	update_cursor();
}

static struct console vga_console = { .name = "vga", .write = vga_write };

struct console *vga_console_init(phys_addr_t phys, unsigned int c, unsigned int r)
{
	if (c < 20 || r < 5 || c * r > VGA_MAX_CELLS) {
		printk("vga: %ux%u text mode is not usable, no VGA console\n", c, r);
		return NULL;
	}
	vga_buf = console_map(phys, c * r * 2);
	if (!vga_buf) {
		printk("vga: text buffer at %#llx is not mapped, no VGA console\n",
		       (unsigned long long)phys);
		return NULL;
	}
	cols = c;
	rows = r;
	for (unsigned int i = 0; i < cols * rows; i++)
		vga_buf[i] = cell(' ');
	col = row = 0;
	/* An underline cursor: scan lines 14..15 of the 16-line cell; bit 5
	 * of the start register clear = cursor enabled. */
	crtc_write(CRTC_CURSOR_START, 14);
	crtc_write(CRTC_CURSOR_END, 15);
	update_cursor();
	return &vga_console;
}
