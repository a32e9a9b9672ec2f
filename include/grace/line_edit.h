/*
 * line_edit.h — the shell's line editor (kernel/line_edit.c), apart from any
 * device: bytes come from ed->getc, echo goes to ed->write.
 *
 * The invariant it keeps (the screen model): after the prompt, the terminal
 * shows exactly line[0..len) followed by blanks, with its cursor at column
 * pos of that text. Every edit restores it using only printable text, spaces
 * and '\b' (cursor left one column). The shell (kernel/shell.c) wires getc to
 * the console; tests/unit/fuzz_shell.c wires it to fuzzer bytes and checks
 * the invariant against a model terminal after every key.
 */
#ifndef GRACE_LINE_EDIT_H
#define GRACE_LINE_EDIT_H

#include <grace/types.h>

#define LINE_EDIT_MAX     256  /* a line holds at most LINE_EDIT_MAX - 1 bytes */
#define LINE_EDIT_HISTORY 16   /* lines kept for Up/Down */

struct line_editor {
	char line[LINE_EDIT_MAX];
	size_t len, pos;              /* 0 <= pos <= len < LINE_EDIT_MAX */
	/* history: entries [hist_count - LINE_EDIT_HISTORY, hist_count) survive */
	char history[LINE_EDIT_HISTORY][LINE_EDIT_MAX];
	unsigned int hist_count;
	unsigned int hist_view;       /* hist_count = editing the new line */
	char stash[LINE_EDIT_MAX];    /* the new line while browsing history */
	bool last_was_cr;

	/* The next input byte, waiting for one; negative = no more input ever
	 * (the console never says that; a host test does). */
	int (*getc)(void *ctx);
	void (*write)(void *ctx, const char *s, size_t n);
	void *ctx;
};

/*
 * Edit one line: returns true with ed->line NUL-terminated (Enter, or empty
 * after ctrl-c), false when getc reported the end of input (ed->line then
 * holds what was typed so far, NUL-terminated, and is not to be run).
 */
bool line_edit_read(struct line_editor *ed);

/* Remember a line for Up/Down (not an empty one, not the same twice in a row). */
void line_edit_history_add(struct line_editor *ed, const char *s);

#endif
