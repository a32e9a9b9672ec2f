/*
 * param_apply.c — from command-line text to typed parameter values.
 *
 * Two steps, both pure (no registry section, no lock, no device):
 *  - cmdline_assemble(): GRUB's line + " " + the fw_cfg file's bytes, as one
 *    NUL-terminated line in a fixed buffer; the file need not end in a NUL
 *    and may hold newlines, CRs or tabs (each becomes a blank);
 *  - param_apply_line(): tokenize (lib/cmdline.c) and apply each token, left
 *    to right, to the parameter of that name in a table, so a parameter given
 *    twice takes its last value (fw_cfg wins over GRUB).
 *
 * Invariants:
 *  - a parameter variable only ever holds its default or a value that passed
 *    its type and range check (an int variable stays within both its declared
 *    range and int's); a refused value is reported by name and the old value
 *    stays;
 *  - every copy is bounded: an overlong line, name or value is truncated and
 *    reported, never overflows; a string value never keeps a '"'.
 * Messages never say "WARNING:" (the harness would fail a scenario for what is
 * only bad user input).
 *
 * kernel/params.c holds the registry (the .grace_params section), the boot
 * order and the `params` command. Tests: KTEST params.*, params-bad.scn,
 * tests/unit/fuzz_params.c (fuzzed, and replayed by make test, with a host
 * table of parameters); tests/unit/test_cmdline.c for the tokenizer.
 */
#include <grace/cmdline.h>
#include <grace/param.h>
#include <grace/printk.h>
#include <grace/string.h>

#define PARAM_NAME_MAX 64

void param_format_value(const struct kernel_param *p, char *buf, size_t size)
{
	switch (p->type) {
	case PARAM_INT:
		snprintf(buf, size, "%d", *(int *)p->var);
		break;
	case PARAM_BOOL:
		snprintf(buf, size, "%s", *(bool *)p->var ? "true" : "false");
		break;
	case PARAM_STRING:
		snprintf(buf, size, "\"%s\"", (char *)p->var);
		if (strlen(buf) + 1 >= size && size > 4)
			memcpy(buf + size - 4, "...", 4);
		break;
	}
}

int param_set(const struct kernel_param *p, const char *value)
{
	char cur[48];
	long long v;
	bool b;
	int err;

	param_format_value(p, cur, sizeof(cur));
	switch (p->type) {
	case PARAM_BOOL:
		if (!value) { /* a bare name means "on" */
			*(bool *)p->var = true;
			return 0;
		}
		if (cmdline_parse_bool(value, &b)) {
			printk("params: %s=%.64s is not a boolean (1/0, y/n, yes/no, on/off, true/false), keeping %s\n",
			       p->name, value, cur);
			return -1;
		}
		*(bool *)p->var = b;
		return 0;
	case PARAM_INT: {
		/* The variable is an int whatever range was declared. */
		long long lo = p->min < INT32_MIN ? INT32_MIN : p->min;
		long long hi = p->max > INT32_MAX ? INT32_MAX : p->max;

		if (!value) {
			printk("params: %s needs a value (a number in [%lld..%lld]), keeping %s\n",
			       p->name, lo, hi, cur);
			return -1;
		}
		err = cmdline_parse_int(value, lo, hi, &v);
		if (err == CMDLINE_NOT_NUMBER) {
			printk("params: %s=%.64s is not a number, keeping %s\n", p->name, value, cur);
			return -1;
		}
		if (err == CMDLINE_OUT_OF_RANGE) {
			printk("params: %s=%.64s is out of range [%lld..%lld], keeping %s\n",
			       p->name, value, lo, hi, cur);
			return -1;
		}
		*(int *)p->var = (int)v;
		return 0;
	}
	case PARAM_STRING: {
		size_t len;

		if (!value) {
			printk("params: %s needs a value (%s=text), keeping %s\n", p->name, p->name, cur);
			return -1;
		}
		len = strlcpy(p->var, value, p->str_size);
		if (len >= p->str_size)
			printk("params: %s value is %zu bytes, truncated to %zu\n",
			       p->name, len, p->str_size - 1);
		return 0;
	}
	}
	return -1;
}

const struct kernel_param *param_lookup(const struct kernel_param *first,
					const struct kernel_param *end, const char *name)
{
	for (const struct kernel_param *p = first; p < end; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

static void apply_token(const struct kernel_param *first, const struct kernel_param *end,
			const struct cmdline_token *t, char *value_buf, size_t value_size)
{
	char name[PARAM_NAME_MAX];
	size_t nlen = cmdline_unquote(t->name, t->name_len, name, sizeof(name));
	const struct kernel_param *p = nlen < sizeof(name) ? param_lookup(first, end, name) : NULL;

	if (t->unterminated)
		printk("params: unterminated quote in '%.64s', taken to the end of the line\n", t->raw);
	if (!p) {
		printk("params: unknown parameter '%.64s%s' ignored\n", name,
		       nlen >= sizeof(name) ? "..." : "");
		return;
	}
	if (!t->value) {
		param_set(p, NULL);
		return;
	}
	/* value_buf is as large as the whole line (the caller's promise): no truncation. */
	cmdline_unquote(t->value, t->value_len, value_buf, value_size);
	param_set(p, value_buf);
}

void param_apply_line(const struct kernel_param *first, const struct kernel_param *end,
		      const char *line, char *value_buf, size_t value_size)
{
	struct cmdline_token t;
	const char *p = line;

	while ((p = cmdline_next_token(p, &t)))
		apply_token(first, end, &t, value_buf, value_size);
}

/* Append " " + src to dst (a NUL-terminated string in dst[0..size)); false
 * when it did not all fit. */
static bool line_append(char *dst, size_t size, const char *src)
{
	size_t used = strlen(dst);
	size_t room = size - used;

	if (!*src)
		return true;
	if (used) {
		if (room < 2)
			return false;
		dst[used++] = ' ';
		dst[used] = '\0';
		room--;
	}
	return strlcpy(dst + used, src, room) < room;
}

bool cmdline_assemble(char *dst, size_t size, const char *grub, char *file, size_t file_len)
{
	bool fit;

	dst[0] = '\0';
	fit = line_append(dst, size, grub);
	if (file) {
		file[file_len] = '\0'; /* the file need not end in a NUL */
		/* A file= may hold newlines or tabs: one line, blank-separated. */
		for (size_t i = 0; i < file_len && file[i]; i++)
			if (file[i] == '\n' || file[i] == '\r' || file[i] == '\t')
				file[i] = ' ';
		fit = line_append(dst, size, file) && fit;
	}
	return fit;
}
