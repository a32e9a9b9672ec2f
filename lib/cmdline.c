/*
 * cmdline.c — tokenizing and value parsing for the kernel command line and
 * the shell. Pure functions over caller-provided buffers: every write is
 * bounded by a size the caller passes, every read stops at a NUL.
 *
 * A token is a run of non-blank characters in which a '"' toggles
 * "quoted"; blanks inside quotes belong to the token. So
 *     autorun="echo a; poweroff"   ktest=all   debug
 * is three tokens; the first has name `autorun` and value `echo a; poweroff`
 * once quotes are stripped. A quote left open runs to the end of the line
 * (the token is flagged `unterminated` so the caller can say so).
 *
 * Tests: tests/unit/test_cmdline.c (host, ASan/UBSan), KTEST cmdline.* and
 * shell.tokenize.
 */
#include <grace/cmdline.h>
#include <grace/string.h>

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

const char *cmdline_next_token(const char *p, struct cmdline_token *t)
{
	bool quoted = false;
	const char *start;

	while (*p && is_blank(*p))
		p++;
	if (!*p)
		return NULL;
	start = p;
	for (; *p && (quoted || !is_blank(*p)); p++)
		if (*p == '"')
			quoted = !quoted;

	t->raw = start;
	t->raw_len = (size_t)(p - start);
	t->unterminated = quoted;
	t->name = start;
	t->value = NULL;
	t->value_len = 0;
	/* The first '=' splits, even inside quotes, so "name=a b" works too. */
	const char *eq = memchr(start, '=', t->raw_len);
	if (eq) {
		t->name_len = (size_t)(eq - start);
		t->value = eq + 1;
		t->value_len = (size_t)(p - (eq + 1));
	} else {
		t->name_len = t->raw_len;
	}
	return p;
}

size_t cmdline_unquote(const char *src, size_t len, char *dst, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < len && src[i]; i++) {
		if (src[i] == '"')
			continue;
		if (n + 1 < size)
			dst[n] = src[i];
		n++;
	}
	if (size)
		dst[n < size ? n : size - 1] = '\0';
	return n;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool word_is(const char *s, const char *word)
{
	for (; *s && *word; s++, word++)
		if (lower(*s) != *word)
			return false;
	return !*s && !*word;
}

int cmdline_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "y", "yes", "on", "true" };
	static const char *const no[] = { "0", "n", "no", "off", "false" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (word_is(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (word_is(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static bool is_digit(char c, unsigned int base)
{
	if (c >= '0' && c <= '9')
		return true;
	c = lower(c);
	return base == 16 && c >= 'a' && c <= 'f';
}

int cmdline_parse_int(const char *s, long long min, long long max, long long *out)
{
	const char *d = s;
	unsigned int base = 10;
	long long v;

	/* Check the shape first so "12abc" is "not a number" while
	 * 99999999999999999999 is a number "out of range". */
	if (*d == '+' || *d == '-')
		d++;
	if (d[0] == '0' && (d[1] == 'x' || d[1] == 'X')) {
		base = 16;
		d += 2;
	}
	if (!*d)
		return CMDLINE_NOT_NUMBER;
	for (const char *c = d; *c; c++)
		if (!is_digit(*c, base))
			return CMDLINE_NOT_NUMBER;
	/* Decimal unless 0x: a leading zero does not mean octal here. */
	if (kstrtoll(s, base, &v))
		return CMDLINE_OUT_OF_RANGE;
	if (v < min || v > max)
		return CMDLINE_OUT_OF_RANGE;
	*out = v;
	return CMDLINE_OK;
}

int cmdline_split_args(char *line, char **argv, int max)
{
	int argc = 0;
	char *r = line, *w = line;

	for (;;) {
		bool quoted = false;

		while (*r && is_blank(*r))
			r++;
		if (!*r)
			break;
		if (argc >= max)
			return CMDLINE_SPLIT_TOO_MANY;
		/* Copy the word down over itself without its quotes; the
		 * writer never passes the reader, so this is safe in place. */
		argv[argc++] = w;
		for (; *r && (quoted || !is_blank(*r)); r++) {
			if (*r == '"')
				quoted = !quoted;
			else
				*w++ = *r;
		}
		if (quoted)
			return CMDLINE_SPLIT_UNTERMINATED;
		if (*r)
			r++; /* the blank that ended the word */
		*w++ = '\0';
	}
	if (argc < max)
		argv[argc] = NULL;
	return argc;
}

const char *cmdline_next_command(const char *p, char *dst, size_t size, bool *truncated)
{
	bool quoted = false;
	const char *start, *end;
	size_t len;

	if (!*p)
		return NULL;
	while (*p && is_blank(*p))
		p++;
	start = p;
	for (; *p && (quoted || *p != ';'); p++)
		if (*p == '"')
			quoted = !quoted;
	end = p;
	while (end > start && is_blank(end[-1]))
		end--;
	len = (size_t)(end - start);
	*truncated = size == 0 || len >= size;
	if (size) {
		size_t n = len < size ? len : size - 1;

		memcpy(dst, start, n);
		dst[n] = '\0';
	}
	return *p ? p + 1 : p;
}
