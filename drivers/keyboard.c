/*
 * keyboard.c — the PS/2 keyboard behind the i8042 controller, polled.
 *
 * Ports (IBM PC/AT Technical Reference, "Keyboard Controller"): 0x60 data,
 * 0x64 status. Status bit 0 = output buffer full (a byte is waiting), bit 5 =
 * that byte came from the auxiliary device (mouse), which we drop.
 * The controller translates the keyboard's scan codes to set 1 (firmware
 * leaves translation on): a key press sends its make code, a release sends
 * make | 0x80; 0xE0 prefixes the extended keys (arrows, Home, End, Delete,
 * right Ctrl/Alt, keypad Enter).
 *
 * Translation state: shift (either), ctrl (either), caps lock (toggles on
 * press), and "last byte was 0xE0". Output: ASCII bytes, Enter as '\r', and
 * the escape sequences a serial terminal sends for the keys without ASCII
 * codes, queued in a small ring so keyboard_getc() hands out one byte at a
 * time. Single consumer (the shell), called with the console input path only.
 * Test: tests/interactive/test_shell_keys.py drives it with QEMU `sendkey`.
 */
#include <asm/io.h>
#include <grace/console.h>
#include <grace/printk.h>

#define KBD_DATA      0x60
#define KBD_STATUS    0x64
#define KBD_OBF       0x01  /* output buffer full */
#define KBD_AUX       0x20  /* the byte is from the mouse */

#define SC_EXTENDED   0xE0
#define SC_RELEASE    0x80
#define SC_LCTRL      0x1D
#define SC_LSHIFT     0x2A
#define SC_RSHIFT     0x36
#define SC_CAPSLOCK   0x3A

/* Set 1 make codes 0x00..0x39 → ASCII, unshifted and shifted (US layout). */
static const char keymap[0x3A] = {
	0,    0x1b, '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '-', '=', '\b', '\t',
	'q',  'w',  'e', 'r', 't', 'y', 'u', 'i', 'o', 'p', '[', ']', '\r', 0,   'a',  's',
	'd',  'f',  'g', 'h', 'j', 'k', 'l', ';', '\'', '`', 0,  '\\', 'z', 'x', 'c',  'v',
	'b',  'n',  'm', ',', '.', '/', 0,   '*', 0,   ' ',
};
static const char keymap_shift[0x3A] = {
	0,    0x1b, '!', '@', '#', '$', '%', '^', '&', '*', '(', ')', '_', '+', '\b', '\t',
	'Q',  'W',  'E', 'R', 'T', 'Y', 'U', 'I', 'O', 'P', '{', '}', '\r', 0,   'A',  'S',
	'D',  'F',  'G', 'H', 'J', 'K', 'L', ':', '"', '~', 0,   '|', 'Z', 'X', 'C',  'V',
	'B',  'N',  'M', '<', '>', '?', 0,   '*', 0,   ' ',
};

static bool present, shift_l, shift_r, ctrl, caps, extended;
static char queue[16];
static unsigned int q_head, q_tail; /* bytes [tail, head) are waiting */

static void enqueue(const char *s)
{
	for (; *s; s++)
		if (q_head - q_tail < sizeof(queue))
			queue[q_head++ % sizeof(queue)] = *s;
}

static void enqueue_char(char c)
{
	char s[2] = { c, 0 };

	enqueue(s);
}

static void extended_key(u8 code)
{
	switch (code) {
	case 0x48: enqueue("\x1b[A"); break;  /* up */
	case 0x50: enqueue("\x1b[B"); break;  /* down */
	case 0x4D: enqueue("\x1b[C"); break;  /* right */
	case 0x4B: enqueue("\x1b[D"); break;  /* left */
	case 0x47: enqueue("\x1b[H"); break;  /* home */
	case 0x4F: enqueue("\x1b[F"); break;  /* end */
	case 0x53: enqueue("\x1b[3~"); break; /* delete */
	case 0x1C: enqueue("\r"); break;      /* keypad enter */
	case 0x35: enqueue("/"); break;       /* keypad / */
	case SC_LCTRL: ctrl = true; break;    /* right ctrl */
	}
}

static void scancode(u8 sc)
{
	if (sc == SC_EXTENDED) {
		extended = true;
		return;
	}
	bool release = sc & SC_RELEASE;
	u8 code = sc & ~SC_RELEASE;

	if (extended) {
		extended = false;
		if (code == SC_LCTRL)
			ctrl = !release;
		else if (!release)
			extended_key(code);
		return;
	}
	switch (code) {
	case SC_LSHIFT: shift_l = !release; return;
	case SC_RSHIFT: shift_r = !release; return;
	case SC_LCTRL:  ctrl = !release; return;
	case SC_CAPSLOCK:
		if (!release)
			caps = !caps;
		return;
	}
	if (release || code >= sizeof(keymap))
		return;

	bool shift = shift_l || shift_r;
	char c = shift ? keymap_shift[code] : keymap[code];

	if (!c)
		return;
	if (caps && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
		c ^= 0x20; /* caps lock inverts the case shift chose */
	if (ctrl && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
		c &= 0x1f; /* ctrl-A = 0x01 ... ctrl-Z = 0x1a */
	enqueue_char(c);
}

int keyboard_getc(void)
{
	if (!present)
		return -1;
	while (q_head == q_tail) {
		u8 status = inb(KBD_STATUS);

		if (!(status & KBD_OBF))
			return -1;
		u8 data = inb(KBD_DATA);

		if (!(status & KBD_AUX))
			scancode(data);
	}
	return (unsigned char)queue[q_tail++ % sizeof(queue)];
}

void keyboard_init(void)
{
	/* With no controller, the port floats and reads as 0xFF. */
	if (inb(KBD_STATUS) == 0xFF) {
		printk("keyboard: no i8042 controller\n");
		return;
	}
	/* Drop whatever is left from the firmware (bounded: a stuck
	 * controller must not hang boot). */
	for (int i = 0; i < 64 && (inb(KBD_STATUS) & KBD_OBF); i++)
		inb(KBD_DATA);
	present = true;
}
