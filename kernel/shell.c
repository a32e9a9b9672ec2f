/*
 * shell.c — the kernel shell: a line editor, a command table, `autorun`.
 *
 * Input is one byte stream (console_getc_wait: COM1 and the PS/2 keyboard).
 * The line editor keeps `line[0..len)` with the cursor at `pos`; the screen
 * shows "grace> " followed by exactly that text, with the terminal's cursor
 * at `pos`. Every edit restores that invariant using only printable text,
 * spaces and '\b' (cursor left), so the same echo works on a serial
 * terminal, the VGA console and the framebuffer console. A line longer than
 * the screen wraps; the screen consoles take '\b' at column 0 back to the end
 * of the row above, so editing still works there. A serial terminal usually
 * does not (xterm's reverse-wrap is off by default): on a serial line, edit
 * within one terminal row. Lines hold at most LINE_MAX - 1 bytes.
 *
 * Keys: printable → insert at cursor; Backspace (0x7f/0x08); Delete (ESC[3~,
 * ctrl-d); Left/Right (ESC[D/ESC[C, ctrl-b/ctrl-f); Home/End (ESC[H, ESC[F,
 * ESC[1~, ESC[4~, ESC O H/F, ctrl-a/ctrl-e); ctrl-u kill the line; ctrl-k
 * kill to the end; ctrl-c cancel the line; Up/Down walk the 16-entry history
 * (ESC[A/ESC[B, ctrl-p/ctrl-n); Enter (CR, LF or CR LF) runs the line.
 *
 * Commands come from the .grace_cmds section (SHELL_COMMAND). A line is split
 * into words by cmdline_split_args (double quotes group words).
 * Tests: tests/scenarios/shell-autorun.scn, tests/interactive/test_shell_keys.py
 * (keys over the serial line and the keyboard), KTEST shell.*.
 */
#include <asm/cpu.h>
#include <grace/cmdline.h>
#include <grace/console.h>
#include <grace/ktest.h>
#include <grace/param.h>
#include <grace/printk.h>
#include <grace/reboot.h>
#include <grace/shell.h>
#include <grace/string.h>
#include <grace/time.h>

extern const struct shell_command __start_grace_cmds[], __stop_grace_cmds[];

#define PROMPT        "grace> "
#define LINE_MAX      256
#define RUN_LINE_MAX  1024  /* a command from autorun may be longer than a typed one */
#define MAX_ARGS      32
#define HISTORY_SIZE  16

static char autorun[1024];
param_string("autorun", autorun,
	     "commands to run at boot, separated by ';' (quote the value: autorun=\"a; b\")");

/* ---- running commands ---- */

static const struct shell_command *find_command(const char *name)
{
	for (const struct shell_command *c = __start_grace_cmds; c < __stop_grace_cmds; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int shell_run_line(const char *text)
{
	char buf[RUN_LINE_MAX];
	char *argv[MAX_ARGS + 1];
	const struct shell_command *cmd;
	int argc, ret;

	if (strlcpy(buf, text, sizeof(buf)) >= sizeof(buf)) {
		printk("shell: line longer than %zu bytes\n", sizeof(buf) - 1);
		return -1;
	}
	argc = cmdline_split_args(buf, argv, MAX_ARGS);
	if (argc == CMDLINE_SPLIT_TOO_MANY) {
		printk("shell: more than %d words\n", MAX_ARGS);
		return -1;
	}
	if (argc == CMDLINE_SPLIT_UNTERMINATED) {
		printk("shell: unterminated quote\n");
		return -1;
	}
	if (argc == 0)
		return 0;
	cmd = find_command(argv[0]);
	if (!cmd) {
		printk("shell: unknown command '%.64s' (try 'help')\n", argv[0]);
		return -1;
	}
	ret = cmd->fn(argc, argv);
	if (ret && ret != SHELL_CMD_FAILED)
		printk("usage: %s\n", cmd->usage);
	return ret;
}

/* ---- the line editor ---- */

enum key {
	KEY_NONE = 0x100, KEY_UP, KEY_DOWN, KEY_LEFT, KEY_RIGHT,
	KEY_HOME, KEY_END, KEY_DELETE,
};
#define CTRL(c) ((c) & 0x1f)

struct editor {
	char line[LINE_MAX];
	size_t len, pos;
	/* history: entries [hist_count - HISTORY_SIZE, hist_count) survive */
	char history[HISTORY_SIZE][LINE_MAX];
	unsigned int hist_count;
	unsigned int hist_view;       /* hist_count = editing the new line */
	char stash[LINE_MAX];         /* the new line while browsing history */
	bool last_was_cr;
};

static struct editor ed;

static void out(const char *s, size_t n)
{
	if (n)
		console_write(s, n);
}

static void outs(const char *s)
{
	out(s, strlen(s));
}

static void cursor_left(size_t n)
{
	static const char bs[16] = "\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b";

	for (; n > sizeof(bs); n -= sizeof(bs))
		out(bs, sizeof(bs));
	out(bs, n);
}

static void spaces(size_t n)
{
	static const char sp[16] = "                ";

	for (; n > sizeof(sp); n -= sizeof(sp))
		out(sp, sizeof(sp));
	out(sp, n);
}

/* Show `text` instead of the current line, cursor at its end. */
static void replace_line(const char *text)
{
	size_t old = ed.len;
	size_t n = strnlen(text, LINE_MAX - 1);

	cursor_left(ed.pos);
	memcpy(ed.line, text, n);
	ed.len = ed.pos = n;
	out(ed.line, n);
	if (old > n) {
		spaces(old - n);
		cursor_left(old - n);
	}
}

static void insert_char(char c)
{
	if (ed.len >= LINE_MAX - 1)
		return; /* full: drop the key */
	memmove(ed.line + ed.pos + 1, ed.line + ed.pos, ed.len - ed.pos);
	ed.line[ed.pos] = c;
	ed.len++;
	out(ed.line + ed.pos, ed.len - ed.pos);
	ed.pos++;
	cursor_left(ed.len - ed.pos);
}

/* Remove the character under the cursor and redraw the tail. */
static void delete_at_cursor(void)
{
	if (ed.pos == ed.len)
		return;
	memmove(ed.line + ed.pos, ed.line + ed.pos + 1, ed.len - ed.pos - 1);
	ed.len--;
	out(ed.line + ed.pos, ed.len - ed.pos);
	spaces(1);
	cursor_left(ed.len - ed.pos + 1);
}

static void history_show(unsigned int idx)
{
	ed.hist_view = idx;
	if (idx == ed.hist_count)
		replace_line(ed.stash);
	else
		replace_line(ed.history[idx % HISTORY_SIZE]);
}

static void history_add(const char *s)
{
	if (!*s)
		return;
	if (ed.hist_count && strcmp(ed.history[(ed.hist_count - 1) % HISTORY_SIZE], s) == 0)
		return; /* the same command twice in a row is kept once */
	strlcpy(ed.history[ed.hist_count % HISTORY_SIZE], s, LINE_MAX);
	ed.hist_count++;
}

/* Read one key: a byte, or one of enum key for an escape sequence. */
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

static int read_key(void)
{
	int c = console_getc_wait();

	if (c != 0x1b)
		return c;
	c = console_getc_wait();
	if (c == 'O') { /* SS3: what some terminals send for Home/End/arrows */
		return cursor_key(console_getc_wait());
	}
	if (c != '[')
		return KEY_NONE; /* ESC then something else: drop both */

	/* CSI: parameters (digits, ';') then one final byte 0x40..0x7e. */
	int param = 0;

	for (;;) {
		c = console_getc_wait();
		if (c >= '0' && c <= '9')
			param = param * 10 + (c - '0');
		else if (c == ';')
			param = 0;
		else
			break;
		if (param > 1000)
			param = 1000;
	}
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

/* Edit one line after the prompt; returns it NUL-terminated in ed.line. */
static void read_line(void)
{
	ed.len = ed.pos = 0;
	ed.hist_view = ed.hist_count;
	ed.stash[0] = '\0';

	for (;;) {
		int k = read_key();

		if (k == '\n' && ed.last_was_cr) {
			ed.last_was_cr = false; /* the LF of a CR LF pair */
			continue;
		}
		ed.last_was_cr = k == '\r';

		switch (k) {
		case '\r':
		case '\n':
			ed.line[ed.len] = '\0';
			outs("\n");
			return;
		case 0x7f:
		case '\b':
			if (ed.pos) {
				ed.pos--;
				cursor_left(1);
				delete_at_cursor();
			}
			break;
		case KEY_DELETE:
		case CTRL('d'):
			delete_at_cursor();
			break;
		case KEY_LEFT:
		case CTRL('b'):
			if (ed.pos) {
				ed.pos--;
				cursor_left(1);
			}
			break;
		case KEY_RIGHT:
		case CTRL('f'):
			if (ed.pos < ed.len) {
				out(ed.line + ed.pos, 1);
				ed.pos++;
			}
			break;
		case KEY_HOME:
		case CTRL('a'):
			cursor_left(ed.pos);
			ed.pos = 0;
			break;
		case KEY_END:
		case CTRL('e'):
			out(ed.line + ed.pos, ed.len - ed.pos);
			ed.pos = ed.len;
			break;
		case CTRL('u'):
			replace_line("");
			break;
		case CTRL('k'):
			spaces(ed.len - ed.pos);
			cursor_left(ed.len - ed.pos);
			ed.len = ed.pos;
			break;
		case CTRL('c'):
			outs("^C\n");
			ed.len = 0;
			ed.line[0] = '\0';
			return;
		case KEY_UP:
		case CTRL('p'):
			if (ed.hist_view > 0 && ed.hist_view + HISTORY_SIZE > ed.hist_count) {
				if (ed.hist_view == ed.hist_count) {
					ed.line[ed.len] = '\0';
					strlcpy(ed.stash, ed.line, sizeof(ed.stash));
				}
				history_show(ed.hist_view - 1);
			}
			break;
		case KEY_DOWN:
		case CTRL('n'):
			if (ed.hist_view < ed.hist_count)
				history_show(ed.hist_view + 1);
			break;
		default:
			if (k >= 0x20 && k < 0x7f)
				insert_char((char)k);
			/* other control bytes and unknown sequences: ignored */
			break;
		}
	}
}

/* ---- entry ---- */

static void print_boot_time(void)
{
	/*
	 * Microseconds from kmain's first instruction (tsc_at_boot) to here.
	 * ktime_get_ns() counts from the same TSC origin once the time code has
	 * calibrated the TSC; before that (or without it) it returns 0 and so
	 * does this line — the integrator checks it is non-zero once merged.
	 */
	printk("BENCH boot_to_shell_us %llu us\n", (unsigned long long)ktime_get_us());
}

static void run_autorun(void)
{
	static char cmd[RUN_LINE_MAX];
	const char *p = autorun;
	bool truncated;

	while ((p = cmdline_next_command(p, cmd, sizeof(cmd), &truncated))) {
		if (!cmd[0])
			continue;
		outs(PROMPT);
		outs(cmd);
		outs("\n");
		if (truncated) {
			printk("shell: autorun command too long, skipped\n");
			continue;
		}
		shell_run_line(cmd);
	}
}

void shell_main(void)
{
	print_boot_time();
	run_autorun();
	for (;;) {
		outs(PROMPT);
		read_line();
		history_add(ed.line);
		shell_run_line(ed.line);
	}
}

/* ---- built-in commands ---- */

/* The command after `prev` in name order (NULL: the first); NULL at the end. */
static const struct shell_command *next_sorted(const struct shell_command *prev)
{
	const struct shell_command *best = NULL;

	for (const struct shell_command *c = __start_grace_cmds; c < __stop_grace_cmds; c++) {
		if (prev) {
			int d = strcmp(c->name, prev->name);

			if (d < 0 || (d == 0 && c <= prev))
				continue;
		}
		if (!best || strcmp(c->name, best->name) < 0)
			best = c;
	}
	return best;
}

static int cmd_help(int argc, char **argv)
{
	if (argc > 2)
		return 1;
	if (argc == 2) {
		const struct shell_command *c = find_command(argv[1]);

		if (!c) {
			printk("help: no command '%.64s'\n", argv[1]);
			return 0;
		}
		printk("usage: %s\n", c->usage);
		printk("  %s\n", c->help);
		return 0;
	}
	printk("Commands (help CMD for one):\n");
	for (const struct shell_command *c = next_sorted(NULL); c; c = next_sorted(c))
		printk("  %-30s %s\n", c->usage, c->help);
	return 0;
}
SHELL_COMMAND(help, "help", "help [CMD]", "list the commands, or show how to use one", cmd_help);

static int cmd_dmesg(int argc, char **argv)
{
	char buf[256];
	size_t skip = 0, n, end = log_buf_len();

	if (argc != 1)
		return 1;
	/* Print the ring as it was when we started (our own output is
	 * written without logging, so it does not chase itself). */
	while (skip < end && (n = log_buf_read(buf, MIN(sizeof(buf), end - skip), skip)) > 0) {
		console_write_nolog(buf, n);
		skip += n;
	}
	return 0;
}
SHELL_COMMAND(dmesg, "dmesg", "dmesg", "print the kernel log", cmd_dmesg);

static int cmd_echo(int argc, char **argv)
{
	char buf[RUN_LINE_MAX];
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 1; i < argc; i++)
		n += (size_t)snprintf(buf + MIN(n, sizeof(buf)), sizeof(buf) - MIN(n, sizeof(buf)),
				      "%s%s", i > 1 ? " " : "", argv[i]);
	printk("%s\n", buf);
	return 0;
}
SHELL_COMMAND(echo, "echo", "echo [WORD...]", "print the words", cmd_echo);

static int cmd_poweroff(int argc, char **argv)
{
	bool success = true;

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "fail") != 0))
		return 1;
	if (argc == 2)
		success = false;
	printk("poweroff: powering off%s\n", success ? "" : " with a failure status");
	machine_poweroff(success);
}
SHELL_COMMAND(poweroff, "poweroff", "poweroff [fail]",
	      "power off (QEMU exits 33; with 'fail', 35)", cmd_poweroff);

static int cmd_reboot(int argc, char **argv)
{
	if (argc != 1)
		return 1;
	printk("reboot: restarting\n");
	machine_restart();
}
SHELL_COMMAND(reboot, "reboot", "reboot", "restart the machine", cmd_reboot);

/* ---- in-kernel tests ---- */

static int test_cmd_calls, test_cmd_argc;
static char test_cmd_arg[32];

static int cmd_test_probe(int argc, char **argv)
{
	test_cmd_calls++;
	test_cmd_argc = argc;
	strlcpy(test_cmd_arg, argc > 1 ? argv[argc - 1] : "", sizeof(test_cmd_arg));
	return argc > 3; /* "too many" → non-zero → usage line */
}
SHELL_COMMAND(ktest_probe, "ktest-probe", "ktest-probe [A [B]]",
	      "a command the shell's own tests call (does nothing)", cmd_test_probe);

KTEST(shell_run, "shell.run_line")
{
	test_cmd_calls = 0;
	KTEST_EXPECT(shell_run_line("ktest-probe one \"two words\"") == 0);
	KTEST_EXPECT(test_cmd_calls == 1 && test_cmd_argc == 3);
	KTEST_EXPECT(strcmp(test_cmd_arg, "two words") == 0);
	KTEST_EXPECT(shell_run_line("ktest-probe a b c") != 0 && test_cmd_calls == 2);
	KTEST_EXPECT(shell_run_line("no-such-command-here") == -1);
	KTEST_EXPECT(shell_run_line("ktest-probe \"unterminated") == -1 && test_cmd_calls == 2);
	KTEST_EXPECT(shell_run_line("   ") == 0 && test_cmd_calls == 2);
	KTEST_EXPECT(find_command("help") && find_command("params") && find_command("echo"));
}
