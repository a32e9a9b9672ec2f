/*
 * cmdline.h — pure text helpers for the kernel command line and the shell
 * (lib/cmdline.c): split a line into tokens, strip quotes, parse values.
 *
 * Quoting rule (the same everywhere): a double quote toggles "inside quotes";
 * whitespace (and, for command lists, ';') inside quotes does not split; the
 * quote characters themselves are removed from the result. There is no
 * escape character, so a value cannot contain '"'.
 *
 * Nothing here allocates, prints or touches global state, so it is tested on
 * the host with sanitizers (tests/unit/test_cmdline.c) and in the kernel
 * (KTEST "cmdline.*", "shell.tokenize").
 */
#ifndef GRACE_CMDLINE_H
#define GRACE_CMDLINE_H

#include <grace/types.h>

/* One `name=value` or bare `name` token, as spans of the original text
 * (quotes still in place: copy them out with cmdline_unquote). */
struct cmdline_token {
	const char *raw;      /* the whole token */
	size_t raw_len;
	const char *name;     /* up to the first '=' (or the whole token) */
	size_t name_len;
	const char *value;    /* after the first '='; NULL for a bare name */
	size_t value_len;
	bool unterminated;    /* a '"' was opened and never closed */
};

/*
 * Find the token that starts at or after `p` (a NUL-terminated string).
 * Returns the position just past it for the next call, or NULL when only
 * whitespace is left (then `t` is untouched).
 */
const char *cmdline_next_token(const char *p, struct cmdline_token *t);

/*
 * Copy `len` bytes of `src` to `dst` without the '"' characters, always
 * NUL-terminating when size > 0. Returns the unquoted length; a result >= size
 * means the copy was truncated.
 */
size_t cmdline_unquote(const char *src, size_t len, char *dst, size_t size);

/* Booleans: 1/0, y/n, yes/no, on/off, true/false (any case). 0 or -1. */
int cmdline_parse_bool(const char *s, bool *out);

enum {
	CMDLINE_OK = 0,
	CMDLINE_NOT_NUMBER = -1,   /* not of the form [+-]digits or [+-]0xhex */
	CMDLINE_OUT_OF_RANGE = -2, /* a number, but outside [min..max] (or s64) */
};
/* Integers: decimal or 0x hex with an optional sign, within [min..max]. */
int cmdline_parse_int(const char *s, long long min, long long max, long long *out);

/*
 * Split `line` in place into at most `max` words (quotes group, quote
 * characters removed). Returns the word count, CMDLINE_SPLIT_TOO_MANY, or
 * CMDLINE_SPLIT_UNTERMINATED; argv[argc] is set to NULL when it fits.
 */
#define CMDLINE_SPLIT_TOO_MANY    (-1)
#define CMDLINE_SPLIT_UNTERMINATED (-2)
int cmdline_split_args(char *line, char **argv, int max);

/*
 * Copy the next ';'-separated command of a list (';' inside quotes does not
 * separate; quotes are kept for the shell's own tokenizer) into dst, without
 * leading/trailing whitespace. Returns the position after the separator, or
 * NULL when `p` is at the end. *truncated tells whether dst was too small.
 */
const char *cmdline_next_command(const char *p, char *dst, size_t size, bool *truncated);

#endif
