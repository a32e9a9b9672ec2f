/*
 * line_edit.c — the shell's line editor: keys in, one edited line out.
 *
 * The editor keeps `line[0..len)` with the cursor at `pos`; the screen shows
 * the prompt followed by exactly that text, then blanks, with the terminal's
 * cursor at `pos`. Every edit restores that invariant using only printable
 * text, spaces and '\b' (cursor left), so the same echo works on a serial
 * terminal, the VGA console and the framebuffer console. A line longer than
 * the screen wraps; the screen consoles take '\b' at column 0 back to the end
 * of the row above, so editing still works there. A serial terminal usually
 * does not (xterm's reverse-wrap is off by default): on a serial line, edit
 * within one terminal row. Lines hold at most LINE_EDIT_MAX - 1 bytes; a key
 * that would make it longer is dropped.
 *
 * Keys: printable → insert at cursor; Backspace (0x7f/0x08); Delete (ESC[3~,
 * ctrl-d); Left/Right (ESC[D/ESC[C, ctrl-b/ctrl-f); Home/End (ESC[H, ESC[F,
 * ESC[1~, ESC[4~, ESC O H/F, ctrl-a/ctrl-e); ctrl-u kill the line; ctrl-k
 * kill to the end; ctrl-c cancel the line; Up/Down walk the 16-entry history
 * (ESC[A/ESC[B, ctrl-p/ctrl-n); Enter (CR, LF or CR LF) ends the line. Any
 * other control byte, NUL, bytes 0x80..0xff and unknown escape sequences are
 * ignored; a CSI parameter is capped so a long run of digits cannot overflow.
 *
 * Pure logic over ed->getc / ed->write (no device, no global state).
 * Tests: tests/unit/fuzz_shell.c checks the screen invariant against a model
 * terminal after every key (replayed by make test, fuzzed by make fuzz);
 * tests/interactive/test_shell_keys.py types keys over the serial line and
 * the keyboard.
 */
#include <grace/line_edit.h>
#include <grace/string.h>

enum key {
	KEY_NONE = 0x100, KEY_UP, KEY_DOWN, KEY_LEFT, KEY_RIGHT,
	KEY_HOME, KEY_END, KEY_DELETE,
};
#define CTRL(c) ((c) & 0x1f)

static void out(struct line_editor *ed, const char *s, size_t n)
{
	if (n)
		ed->write(ed->ctx, s, n);
}

static void outs(struct line_editor *ed, const char *s)
{
	out(ed, s, strlen(s));
}

static void cursor_left(struct line_editor *ed, size_t n)
{
	static const char bs[16] = "\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b";

	for (; n > sizeof(bs); n -= sizeof(bs))
		out(ed, bs, sizeof(bs));
	out(ed, bs, n);
}

static void spaces(struct line_editor *ed, size_t n)
{
	static const char sp[16] = "                ";

	for (; n > sizeof(sp); n -= sizeof(sp))
		out(ed, sp, sizeof(sp));
	out(ed, sp, n);
}

/* Show `text` instead of the current line, cursor at its end. */
static void replace_line(struct line_editor *ed, const char *text)
{
	size_t old = ed->len;
	size_t n = strnlen(text, LINE_EDIT_MAX - 1);

	cursor_left(ed, ed->pos);
	memcpy(ed->line, text, n);
	ed->len = ed->pos = n;
	out(ed, ed->line, n);
	if (old > n) {
		spaces(ed, old - n);
		cursor_left(ed, old - n);
	}
}

static void insert_char(struct line_editor *ed, char c)
{
	if (ed->len >= LINE_EDIT_MAX - 1)
		return; /* full: drop the key */
	memmove(ed->line + ed->pos + 1, ed->line + ed->pos, ed->len - ed->pos);
	ed->line[ed->pos] = c;
	ed->len++;
	out(ed, ed->line + ed->pos, ed->len - ed->pos);
	ed->pos++;
	cursor_left(ed, ed->len - ed->pos);
}

/* Remove the character under the cursor and redraw the tail. */
static void delete_at_cursor(struct line_editor *ed)
{
	if (ed->pos == ed->len)
		return;
	memmove(ed->line + ed->pos, ed->line + ed->pos + 1, ed->len - ed->pos - 1);
	ed->len--;
	out(ed, ed->line + ed->pos, ed->len - ed->pos);
	spaces(ed, 1);
	cursor_left(ed, ed->len - ed->pos + 1);
}

static void history_show(struct line_editor *ed, unsigned int idx)
{
	ed->hist_view = idx;
	if (idx == ed->hist_count)
		replace_line(ed, ed->stash);
	else
		replace_line(ed, ed->history[idx % LINE_EDIT_HISTORY]);
}

void line_edit_history_add(struct line_editor *ed, const char *s)
{
	if (!*s)
		return;
	if (ed->hist_count &&
	    strcmp(ed->history[(ed->hist_count - 1) % LINE_EDIT_HISTORY], s) == 0)
		return; /* the same command twice in a row is kept once */
	strlcpy(ed->history[ed->hist_count % LINE_EDIT_HISTORY], s, LINE_EDIT_MAX);
	ed->hist_count++;
}

/* The final letter of an arrow/Home/End sequence, the same after ESC O (SS3)
 * and after ESC [ (CSI); KEY_NONE for any other byte. */
static int cursor_key(int c)
{
	switch (c) {
	case 'A': return KEY_UP;
	case 'B': return KEY_DOWN;
	case 'C': return KEY_RIGHT;
	case 'D': return KEY_LEFT;
	case 'H': return KEY_HOME;
	case 'F': return KEY_END;
	}
	return KEY_NONE;
}

/* Read one key: a byte, one of enum key for an escape sequence, or a
 * negative value when the input has ended (also inside a sequence). */
static int read_key(struct line_editor *ed)
{
	int c = ed->getc(ed->ctx);

	if (c != 0x1b)
		return c;
	c = ed->getc(ed->ctx);
	if (c < 0)
		return c;
	if (c == 'O') { /* SS3: what some terminals send for Home/End/arrows */
		c = ed->getc(ed->ctx);
		return c < 0 ? c : cursor_key(c);
	}
	if (c != '[')
		return KEY_NONE; /* ESC then something else: drop both */

	/* CSI: parameters (digits, ';') then one final byte 0x40..0x7e. */
	int param = 0;

	for (;;) {
		c = ed->getc(ed->ctx);
		if (c >= '0' && c <= '9')
			param = param * 10 + (c - '0');
		else if (c == ';')
			param = 0;
		else
			break;
		if (param > 1000)
			param = 1000;
	}
	if (c < 0)
		return c;
	if (cursor_key(c) != KEY_NONE)
		return cursor_key(c);
	switch (c) {
	case '~':
		switch (param) {
		case 1: case 7: return KEY_HOME;
		case 4: case 8: return KEY_END;
		case 3: return KEY_DELETE;
		}
	}
	return KEY_NONE;
}

bool line_edit_read(struct line_editor *ed)
{
	ed->len = ed->pos = 0;
	ed->hist_view = ed->hist_count;
	ed->stash[0] = '\0';

	for (;;) {
		int k = read_key(ed);

		if (k < 0) {
			ed->line[ed->len] = '\0';
			return false;
		}
		if (k == '\n' && ed->last_was_cr) {
			ed->last_was_cr = false; /* the LF of a CR LF pair */
			continue;
		}
		ed->last_was_cr = k == '\r';

		switch (k) {
		case '\r':
		case '\n':
			ed->line[ed->len] = '\0';
			outs(ed, "\n");
			return true;
		case 0x7f:
		case '\b':
			if (ed->pos) {
				ed->pos--;
				cursor_left(ed, 1);
				delete_at_cursor(ed);
			}
			break;
		case KEY_DELETE:
		case CTRL('d'):
			delete_at_cursor(ed);
			break;
		case KEY_LEFT:
		case CTRL('b'):
			if (ed->pos) {
				ed->pos--;
				cursor_left(ed, 1);
			}
			break;
		case KEY_RIGHT:
		case CTRL('f'):
			if (ed->pos < ed->len) {
				out(ed, ed->line + ed->pos, 1);
				ed->pos++;
			}
			break;
		case KEY_HOME:
		case CTRL('a'):
			cursor_left(ed, ed->pos);
			ed->pos = 0;
			break;
		case KEY_END:
		case CTRL('e'):
			out(ed, ed->line + ed->pos, ed->len - ed->pos);
			ed->pos = ed->len;
			break;
		case CTRL('u'):
			replace_line(ed, "");
			break;
		case CTRL('k'):
			spaces(ed, ed->len - ed->pos);
			cursor_left(ed, ed->len - ed->pos);
			ed->len = ed->pos;
			break;
		case CTRL('c'):
			outs(ed, "^C\n");
			ed->len = 0;
			ed->line[0] = '\0';
			return true;
		case KEY_UP:
		case CTRL('p'):
			if (ed->hist_view > 0 && ed->hist_view + LINE_EDIT_HISTORY > ed->hist_count) {
				if (ed->hist_view == ed->hist_count) {
					ed->line[ed->len] = '\0';
					strlcpy(ed->stash, ed->line, sizeof(ed->stash));
				}
				history_show(ed, ed->hist_view - 1);
			}
			break;
		case KEY_DOWN:
		case CTRL('n'):
			if (ed->hist_view < ed->hist_count)
				history_show(ed, ed->hist_view + 1);
			break;
		default:
			if (k >= 0x20 && k < 0x7f)
				insert_char(ed, (char)k);
			/* other control bytes and unknown sequences: ignored */
			break;
		}
	}
}
