// FUZZ_SOURCES: kernel/line_edit.c lib/cmdline.c lib/kstrtox.c tests/unit/host_string.c
/*
 * fuzz_shell.c — libFuzzer target for the shell's input path: the line
 * editor (kernel/line_edit.c) and the tokenizer the shell runs on each line
 * (cmdline_split_args with the shell's word limit, and cmdline_next_command
 * as `autorun` splits a list).
 *
 * The input is the byte stream a terminal or keyboard could send: keys,
 * escape sequences (whole, cut off, with long parameter runs), very long
 * lines, NUL and bytes 0x80..0xff. The editor's echo goes to a model
 * terminal — one row, printable text and spaces overwrite, '\b' moves left,
 * '\n' starts the next row, where this harness prints the prompt — and
 * before every byte the editor reads, the screen invariant of
 * <grace/line_edit.h> is checked: after the prompt the row shows exactly
 * line[0..len) and then blanks, the cursor is at column prompt + pos, and
 * 0 <= pos <= len < LINE_EDIT_MAX. The echo may contain nothing but
 * printable bytes, '\b' and '\n', and '\b' never crosses into the prompt.
 * Each finished line holds only printable bytes, goes into the history like
 * the shell's, and is split as shell_run_line() would split it.
 * Seeds: key sequences from tests/interactive/test_shell_keys.py and the
 * autorun commands of the scenario files (tests/unit/fuzz/shell/seeds/).
 */
#include <grace/cmdline.h>
#include <grace/line_edit.h>
#include <grace/string.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_shell: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

#define PROMPT      "grace> "
#define PROMPT_LEN  7
#define COLS        (PROMPT_LEN + LINE_EDIT_MAX + 8)
#define RUN_LINE_MAX 1024 /* kernel/shell.c */
#define MAX_ARGS     32   /* kernel/shell.c */

struct term {
	char row[COLS];
	size_t col;
	const uint8_t *in;
	size_t in_len, in_pos;
	struct line_editor *ed;
};

static void term_newline(struct term *t)
{
	memset(t->row, ' ', sizeof(t->row));
	memcpy(t->row, PROMPT, PROMPT_LEN);
	t->col = PROMPT_LEN;
}

static void term_write(void *ctx, const char *s, size_t n)
{
	struct term *t = ctx;

	REQUIRE(n > 0); /* the editor skips empty writes */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n') {
			term_newline(t);
		} else if (c == '\b') {
			REQUIRE(t->col > PROMPT_LEN); /* never back into the prompt */
			t->col--;
		} else {
			REQUIRE(c >= 0x20 && c < 0x7f); /* no control or high byte echoed */
			REQUIRE(t->col < COLS);
			t->row[t->col++] = (char)c;
		}
	}
}

/* The screen invariant, checked whenever the editor waits for a byte. */
static void check_screen(const struct term *t)
{
	const struct line_editor *ed = t->ed;

	REQUIRE(ed->pos <= ed->len && ed->len < LINE_EDIT_MAX);
	REQUIRE(t->col == PROMPT_LEN + ed->pos);
	REQUIRE(memcmp(t->row, PROMPT, PROMPT_LEN) == 0);
	for (size_t i = 0; i < ed->len; i++) {
		unsigned char c = (unsigned char)ed->line[i];

		REQUIRE(c >= 0x20 && c < 0x7f);
		REQUIRE(t->row[PROMPT_LEN + i] == ed->line[i]);
	}
	for (size_t i = PROMPT_LEN + ed->len; i < COLS; i++)
		REQUIRE(t->row[i] == ' ');
}

static int term_getc(void *ctx)
{
	struct term *t = ctx;

	check_screen(t);
	if (t->in_pos == t->in_len)
		return -1;
	return t->in[t->in_pos++];
}

/* What shell_run_line() and run_autorun() do with a line before a command runs. */
static void tokenize_like_the_shell(const char *line)
{
	char buf[RUN_LINE_MAX];
	char *argv[MAX_ARGS + 1];
	size_t n = strlcpy(buf, line, sizeof(buf));

	REQUIRE(n < sizeof(buf)); /* an edited line always fits */
	int argc = cmdline_split_args(buf, argv, MAX_ARGS);

	REQUIRE(argc == CMDLINE_SPLIT_TOO_MANY || argc == CMDLINE_SPLIT_UNTERMINATED ||
		(argc >= 0 && argc <= MAX_ARGS));
	for (int i = 0; i < argc; i++)
		REQUIRE(argv[i] >= buf && argv[i] < buf + n + 1 && !strchr(argv[i], '"'));
	if (argc >= 0 && argc < MAX_ARGS)
		REQUIRE(argv[argc] == NULL);

	static char cmd[RUN_LINE_MAX];
	const char *p = line;
	bool truncated;
	size_t steps = 0;

	while ((p = cmdline_next_command(p, cmd, sizeof(cmd), &truncated))) {
		REQUIRE(!truncated && strlen(cmd) < sizeof(cmd));
		REQUIRE(++steps <= n + 1);
	}
}

static struct line_editor ed;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct term t = { .in = data, .in_len = size, .ed = &ed };

	memset(&ed, 0, sizeof(ed));
	ed.getc = term_getc;
	ed.write = term_write;
	ed.ctx = &t;
	term_newline(&t);
	for (size_t lines = 0;; lines++) {
		size_t before = t.in_pos;
		bool done = line_edit_read(&ed);

		REQUIRE(strlen(ed.line) == ed.len);
		for (size_t i = 0; i < ed.len; i++)
			REQUIRE((unsigned char)ed.line[i] >= 0x20 && (unsigned char)ed.line[i] < 0x7f);
		if (!done)
			break;
		REQUIRE(t.in_pos > before); /* every line consumed input */
		/* The row after the line: fresh, with the prompt (term_newline). */
		line_edit_history_add(&ed, ed.line);
		REQUIRE(ed.hist_count <= lines + 1);
		tokenize_like_the_shell(ed.line);
	}
	REQUIRE(t.in_pos == size);
	return 0;
}
