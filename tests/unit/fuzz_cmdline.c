// FUZZ_SOURCES: lib/cmdline.c lib/kstrtox.c
/*
 * fuzz_cmdline.c — libFuzzer target for the command-line tokenizer and value
 * parsers (lib/cmdline.c), which read GRUB's line, the fw_cfg file and every
 * shell line.
 *
 * The input, up to its first NUL, is one line. Each function runs on it and
 * its result is checked against the quoting rule of <grace/cmdline.h>,
 * re-derived here independently, so a wrong answer aborts as surely as a bad
 * read:
 *  - cmdline_next_token: tokens are in order, non-empty, start on a non-blank,
 *    end on a blank or the end, `unterminated` iff the token has an odd
 *    number of '"', the name/value split is at the first '=';
 *  - cmdline_split_args (the shell's splitter) gives the same words as the
 *    tokens with their quotes removed, or TOO_MANY / UNTERMINATED exactly when
 *    that is the truth; argv[argc] is NULL when it fits;
 *  - cmdline_unquote: the count excludes exactly the quotes, the copy is
 *    bounded and terminated for every buffer size from 0 up;
 *  - cmdline_parse_int agrees with strtoll on the documented shape
 *    ([+-]digits or [+-]0xhex, never octal) for ranges taken from the input;
 *    cmdline_parse_bool agrees with the list of ten words;
 *  - cmdline_next_command (autorun) makes progress, bounds and terminates its
 *    copy, trims blanks, and says `truncated` exactly when it cut.
 * The first bytes also choose buffer sizes and the word limit. Seeds: the
 * `args:` lines of the scenario files (tests/unit/fuzz/cmdline/seeds/).
 */
#define _POSIX_C_SOURCE 200809L /* strcasecmp under -std=c11 */
#include <grace/cmdline.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_cmdline: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static size_t quotes(const char *s, size_t n)
{
	size_t q = 0;

	for (size_t i = 0; i < n; i++)
		q += s[i] == '"';
	return q;
}

/* Reference for cmdline_parse_int: the shape, then strtoll. */
static int ref_parse_int(const char *s, long long min, long long max, long long *out)
{
	const char *d = s;
	int base = 10;

	if (*d == '+' || *d == '-')
		d++;
	if (d[0] == '0' && (d[1] == 'x' || d[1] == 'X')) {
		base = 16;
		d += 2;
	}
	if (!*d)
		return CMDLINE_NOT_NUMBER;
	for (const char *c = d; *c; c++) {
		bool dec = *c >= '0' && *c <= '9';
		bool hex = (*c >= 'a' && *c <= 'f') || (*c >= 'A' && *c <= 'F');

		if (!dec && !(base == 16 && hex))
			return CMDLINE_NOT_NUMBER;
	}
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, base);

	REQUIRE(*end == '\0');
	if (errno == ERANGE || v < min || v > max)
		return CMDLINE_OUT_OF_RANGE;
	*out = v;
	return CMDLINE_OK;
}

static int ref_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "y", "yes", "on", "true" };
	static const char *const no[] = { "0", "n", "no", "off", "false" };

	for (int i = 0; i < 5; i++) {
		if (!strcasecmp(s, yes[i]))
			return *out = true, 0;
		if (!strcasecmp(s, no[i]))
			return *out = false, 0;
	}
	return -1;
}

static void check_values(const char *v, const uint8_t *knobs)
{
	/* A range from the input, sometimes the extremes. */
	long long min, max, got = 7, want = 7;
	bool b1 = false, b2 = false;

	memcpy(&min, knobs, 8);
	memcpy(&max, knobs + 8, 8);
	if (knobs[16] & 1)
		min = INT64_MIN;
	if (knobs[16] & 2)
		max = INT64_MAX;
	int r = cmdline_parse_int(v, min, max, &got);
	int e = ref_parse_int(v, min, max, &want);

	REQUIRE(r == e);
	REQUIRE(r != CMDLINE_OK || (got == want && got >= min && got <= max));
	r = cmdline_parse_bool(v, &b1);
	REQUIRE(r == ref_parse_bool(v, &b2));
	REQUIRE(r || b1 == b2);
}

#define MAX_TOKENS 4096

static const char *tok_raw[MAX_TOKENS];
static size_t tok_len[MAX_TOKENS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t knobs[20] = { 0 };

	memcpy(knobs, data, size < sizeof(knobs) ? size : sizeof(knobs));
	char *line = malloc(size + 1);

	memcpy(line, data, size);
	line[size] = '\0';
	size_t len = strlen(line);

	/* ---- tokens ---- */
	struct cmdline_token t;
	const char *p = line, *prev_end = line;
	size_t n = 0;
	bool any_unterminated = false;

	while ((p = cmdline_next_token(p, &t))) {
		REQUIRE(t.raw >= prev_end && t.raw_len > 0 && t.raw + t.raw_len <= line + len);
		for (const char *c = prev_end; c < t.raw; c++)
			REQUIRE(blank(*c));
		REQUIRE(!blank(t.raw[0]));
		REQUIRE(p == t.raw + t.raw_len);
		REQUIRE(!*p || blank(*p));
		REQUIRE(t.unterminated == (quotes(t.raw, t.raw_len) % 2 == 1));
		REQUIRE(!t.unterminated || !*p);
		REQUIRE(t.name == t.raw && t.name_len <= t.raw_len);
		REQUIRE(!memchr(t.name, '=', t.name_len));
		if (t.value) {
			REQUIRE(t.value == t.name + t.name_len + 1 && t.value[-1] == '=');
			REQUIRE(t.name_len + 1 + t.value_len == t.raw_len);
		} else {
			REQUIRE(t.name_len == t.raw_len && t.value_len == 0);
		}
		any_unterminated |= t.unterminated;
		if (n < MAX_TOKENS) {
			tok_raw[n] = t.raw;
			tok_len[n] = t.raw_len;
		}
		n++;

		/* Unquote into buffers of every small size and one large one. */
		size_t want = t.raw_len - quotes(t.raw, t.raw_len);
		size_t sz = knobs[17] % 24;
		char *dst = malloc(sz ? sz : 1);
		REQUIRE(cmdline_unquote(t.raw, t.raw_len, sz ? dst : NULL, 0) == want);
		if (sz) {
			REQUIRE(cmdline_unquote(t.raw, t.raw_len, dst, sz) == want);
			REQUIRE(strlen(dst) == (want < sz ? want : sz - 1) && !strchr(dst, '"'));
		}
		free(dst);
		char *val = malloc(t.raw_len + 1);
		REQUIRE(cmdline_unquote(t.raw, t.raw_len, val, t.raw_len + 1) == want);
		REQUIRE(strlen(val) == want);
		if (t.value) {
			cmdline_unquote(t.value, t.value_len, val, t.raw_len + 1);
			check_values(val, knobs);
		}
		free(val);
		prev_end = p;
	}
	for (const char *c = prev_end; *c; c++)
		REQUIRE(blank(*c));

	/* ---- the shell's splitter: the same words, quotes removed ---- */
	char *copy = malloc(len + 1);
	char **argv = malloc(sizeof(char *) * 42);
	int max = 1 + knobs[18] % 40;

	memcpy(copy, line, len + 1);
	argv[max] = (char *)1; /* must stay untouched */
	int argc = cmdline_split_args(copy, argv, max);

	REQUIRE(argv[max] == (char *)1);
	if (n > (size_t)max) {
		REQUIRE(argc == CMDLINE_SPLIT_TOO_MANY);
	} else if (any_unterminated) {
		REQUIRE(argc == CMDLINE_SPLIT_UNTERMINATED);
	} else {
		REQUIRE(argc == (int)n);
		if (argc < max)
			REQUIRE(argv[argc] == NULL);
		for (int i = 0; i < argc; i++) {
			char *w = malloc(tok_len[i] + 1);

			REQUIRE(argv[i] >= copy && argv[i] < copy + len + 1);
			cmdline_unquote(tok_raw[i], tok_len[i], w, tok_len[i] + 1);
			REQUIRE(strcmp(argv[i], w) == 0);
			free(w);
		}
	}
	free(argv);
	free(copy);

	/* ---- autorun's command splitter ---- */
	size_t csize = knobs[19] % 64;
	char *cmd = malloc(csize ? csize : 1);
	const char *q = line;
	size_t steps = 0;

	while ((q = cmdline_next_command(q, csize ? cmd : NULL, csize, &(bool){ 0 }))) {
		REQUIRE(q > line && q <= line + len);
		REQUIRE(++steps <= len);
		if (!*q)
			break;
	}
	q = line;
	while (csize && *q) {
		bool truncated;
		const char *start = q;

		q = cmdline_next_command(q, cmd, csize, &truncated);
		REQUIRE(q && q > start);
		size_t cl = strlen(cmd);

		REQUIRE(cl < csize);
		REQUIRE(!cl || (!blank(cmd[0]) && (truncated || !blank(cmd[cl - 1]))));
		/* Not truncated: the command is exactly the span, trimmed. */
		if (!truncated) {
			const char *s = start, *e = q;

			/* q is past a separator when the ';' before it was
			 * outside quotes (an unterminated quote runs to the end). */
			if (e > s && e[-1] == ';' && quotes(s, (size_t)(e - 1 - s)) % 2 == 0)
				e--;
			while (s < e && blank(*s))
				s++;
			while (e > s && blank(e[-1]))
				e--;
			REQUIRE((size_t)(e - s) == cl && !memcmp(s, cmd, cl));
		}
	}
	free(cmd);
	free(line);
	return 0;
}
