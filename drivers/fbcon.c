/*
 * fbcon.c — a text console drawn on a linear RGB framebuffer (UEFI GOP, or
 * a VBE mode under BIOS), with the 8x16 font in font8x16.c.
 *
 * The screen is a grid of cols x rows character cells. Each character is
 * drawn as 16 rows of 8 pixels; a pixel's value is built from the channel
 * positions and sizes the bootloader reported (multiboot2 framebuffer tag,
 * "colour info" for type 1), so any 32, 24 or 16 bits-per-pixel layout works.
 * Scrolling moves the whole pixel area up one cell row with memmove and
 * clears the last row.
 *
 * A shadow copy of the characters (`text`) lets the cursor — an underline in
 * the cursor's cell — be removed by redrawing that one cell.
 *
 * Invariants: 0 <= col < cols, 0 <= row < rows; nothing is ever written
 * outside [base, base + pitch * height). Called only under the console lock.
 * Test: boot under UEFI and take a screenshot (docs/console.md).
 */
#include <grace/console.h>
#include <grace/printk.h>
#include <grace/string.h>

#define MAX_COLS 256
#define MAX_ROWS 128

static u8 *base;
static u32 pitch, bytes_pp;
static unsigned int cols, rows, col, row;
static u32 fg, bg;
static char text[MAX_ROWS][MAX_COLS];

/* fbcon_init has checked pos + size <= bpp <= 32, so no shift overflows. */
static u32 channel(u8 pos, u8 size, u8 intensity)
{
	u32 v = size >= 8 ? (u32)intensity << (size - 8) : (u32)intensity >> (8 - size);

	return v << pos;
}

static bool channel_ok(u8 pos, u8 size, u8 bpp)
{
	return size >= 1 && size <= 16 && pos + size <= bpp;
}

static u32 rgb(const struct boot_fb *fb, u8 r, u8 g, u8 b)
{
	return channel(fb->red_pos, fb->red_size, r) |
	       channel(fb->green_pos, fb->green_size, g) |
	       channel(fb->blue_pos, fb->blue_size, b);
}

static void put_pixel(u8 *p, u32 v)
{
	switch (bytes_pp) {
	case 4:
		*(volatile u32 *)p = v;
		break;
	case 3:
		p[0] = (u8)v;
		p[1] = (u8)(v >> 8);
		p[2] = (u8)(v >> 16);
		break;
	case 2:
		*(volatile u16 *)p = (u16)v;
		break;
	}
}

static void draw_cell(unsigned int c, unsigned int r, bool cursor)
{
	unsigned char ch = (unsigned char)text[r][c];
	const u8 *glyph = font8x16[(ch >= FONT_FIRST && ch <= FONT_LAST ? ch : ' ') - FONT_FIRST];
	u8 *line = base + (size_t)r * FONT_HEIGHT * pitch + (size_t)c * FONT_WIDTH * bytes_pp;

	for (int y = 0; y < FONT_HEIGHT; y++, line += pitch) {
		u8 bits = glyph[y];

		if (cursor && y >= FONT_HEIGHT - 2)
			bits = 0xff;
		for (int x = 0; x < FONT_WIDTH; x++)
			put_pixel(line + x * bytes_pp, bits & (0x80 >> x) ? fg : bg);
	}
}

static void clear_rows(unsigned int first, unsigned int n)
{
	for (unsigned int r = first; r < first + n; r++) {
		memset(text[r], ' ', cols);
		for (unsigned int y = 0; y < FONT_HEIGHT; y++) {
			u8 *line = base + ((size_t)r * FONT_HEIGHT + y) * pitch;

			for (unsigned int x = 0; x < cols * FONT_WIDTH; x++)
				put_pixel(line + x * bytes_pp, bg);
		}
	}
}

static void scroll(void)
{
	size_t row_bytes = (size_t)FONT_HEIGHT * pitch;

	memmove(base, base + row_bytes, row_bytes * (rows - 1));
	memmove(text[0], text[1], sizeof(text[0]) * (rows - 1));
	clear_rows(rows - 1, 1);
	row = rows - 1;
}

static void newline(void)
{
	col = 0;
	if (++row == rows)
		scroll();
}

static void fbcon_putc(char c)
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
			fbcon_putc(' ');
		while (col % 8);
		return;
	}
	if (c < 0x20 || c > 0x7e)
		return;
	text[row][col] = c;
	draw_cell(col, row, false);
	if (++col == cols)
		newline();
}

static void fbcon_write(const char *s, size_t len)
{
	draw_cell(col, row, false); /* take the cursor away */
	for (size_t i = 0; i < len; i++)
		fbcon_putc(s[i]);
	draw_cell(col, row, true);
}

static struct console fb_console = { .name = "fbcon", .write = fbcon_write };

struct console *fbcon_init(const struct boot_fb *fb)
{
	size_t size = (size_t)fb->pitch * fb->height;

	bytes_pp = (fb->bpp + 7) / 8;
	if (fb->bpp != 32 && fb->bpp != 24 && fb->bpp != 16) {
		printk("fbcon: %u bits per pixel is not supported, no framebuffer console\n", fb->bpp);
		return NULL;
	}
	if (!channel_ok(fb->red_pos, fb->red_size, fb->bpp) ||
	    !channel_ok(fb->green_pos, fb->green_size, fb->bpp) ||
	    !channel_ok(fb->blue_pos, fb->blue_size, fb->bpp)) {
		printk("fbcon: colour layout r%u@%u g%u@%u b%u@%u does not fit %u bpp, no framebuffer console\n",
		       fb->red_size, fb->red_pos, fb->green_size, fb->green_pos,
		       fb->blue_size, fb->blue_pos, fb->bpp);
		return NULL;
	}
	if (fb->width < 8 * FONT_WIDTH || fb->height < 4 * FONT_HEIGHT ||
	    fb->pitch < fb->width * bytes_pp) {
		printk("fbcon: %ux%u pitch %u is too small, no framebuffer console\n",
		       fb->width, fb->height, fb->pitch);
		return NULL;
	}
	base = console_map(fb->addr, size);
	if (!base) {
		printk("fbcon: framebuffer at %#llx is not mapped, no framebuffer console\n",
		       (unsigned long long)fb->addr);
		return NULL;
	}
	pitch = fb->pitch;
	cols = MIN(fb->width / FONT_WIDTH, MAX_COLS);
	rows = MIN(fb->height / FONT_HEIGHT, MAX_ROWS);
	fg = rgb(fb, 0xc8, 0xc8, 0xc8);
	bg = rgb(fb, 0x00, 0x00, 0x00);
	col = row = 0;
	memset(base, 0, size); /* whatever firmware drew; bg is black, all zero bits */
	memset(text, ' ', sizeof(text));
	printk("fbcon: %ux%u %u bpp at %#llx, %ux%u characters\n", fb->width, fb->height,
	       fb->bpp, (unsigned long long)fb->addr, cols, rows);
	return &fb_console;
}
