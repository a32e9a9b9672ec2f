/*
 * params.c — the kernel command line and the typed parameter registry.
 *
 * Boot: cmdline_init() builds saved_command_line = GRUB's line + " " + the
 * fw_cfg file opt/grace/cmdline, then applies it token by token, left to
 * right, so a parameter given twice takes its last value (fw_cfg wins).
 * Parameters live in the .grace_params section (param_int/param_bool/
 * param_string in <grace/param.h>); nothing registers at run time.
 *
 * Invariants:
 *  - a parameter variable only ever holds its default or a value that passed
 *    its type and range check; a refused value is reported by name and the
 *    default stays;
 *  - every copy is bounded: a huge or NUL-less fw_cfg file, an overlong
 *    value or name is truncated and reported, never overflows.
 * Messages never say "WARNING:" (the harness would fail a scenario for what is
 * only bad user input).
 * Tests: tests/scenarios/params-bad.scn, KTEST params.*, tests/unit/test_cmdline.c
 * (the parsing underneath, lib/cmdline.c).
 */
#include <grace/bootinfo.h>
#include <grace/cmdline.h>
#include <grace/fw_cfg.h>
#include <grace/ktest.h>
#include <grace/param.h>
#include <grace/printk.h>
#include <grace/shell.h>
#include <grace/spinlock.h>
#include <grace/string.h>

extern const struct kernel_param __start_grace_params[], __stop_grace_params[];

#define FW_CFG_CMDLINE "opt/grace/cmdline"
#define PARAM_NAME_MAX 64

char saved_command_line[COMMAND_LINE_SIZE];
static char fw_cfg_line[COMMAND_LINE_SIZE];
/* Scratch for one unquoted value; params_lock serializes its users. */
static char value_buf[COMMAND_LINE_SIZE];
static DEFINE_SPINLOCK(params_lock);

const struct kernel_param *param_find(const char *name)
{
	for (const struct kernel_param *p = __start_grace_params; p < __stop_grace_params; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

static void format_value(const struct kernel_param *p, char *buf, size_t size)
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

	format_value(p, cur, sizeof(cur));
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

static void apply_token(const struct cmdline_token *t)
{
	char name[PARAM_NAME_MAX];
	size_t nlen = cmdline_unquote(t->name, t->name_len, name, sizeof(name));
	const struct kernel_param *p = nlen < sizeof(name) ? param_find(name) : NULL;

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
	/* value_buf is as large as the whole command line: no truncation here. */
	cmdline_unquote(t->value, t->value_len, value_buf, sizeof(value_buf));
	param_set(p, value_buf);
}

void params_apply_cmdline(const char *cmdline)
{
	struct cmdline_token t;
	const char *p = cmdline;

	spin_lock(&params_lock);
	while ((p = cmdline_next_token(p, &t)))
		apply_token(&t);
	spin_unlock(&params_lock);
}

/* Append " " + src to saved_command_line; false when it did not all fit. */
static bool cmdline_append(const char *src)
{
	size_t used = strlen(saved_command_line);
	size_t room = sizeof(saved_command_line) - used;

	if (!*src)
		return true;
	if (used) {
		if (room < 2)
			return false;
		saved_command_line[used++] = ' ';
		saved_command_line[used] = '\0';
		room--;
	}
	return strlcpy(saved_command_line + used, src, room) < room;
}

void cmdline_init(void)
{
	bool fit;
	long fsize;

	/* boot_info.cmdline is NUL-terminated by the multiboot2 parser. */
	fit = cmdline_append(boot_info.cmdline);

	fsize = fw_cfg_read_file(FW_CFG_CMDLINE, fw_cfg_line, sizeof(fw_cfg_line) - 1);
	if (fsize >= 0) {
		size_t got = (size_t)fsize < sizeof(fw_cfg_line) - 1 ? (size_t)fsize
								    : sizeof(fw_cfg_line) - 1;

		fw_cfg_line[got] = '\0'; /* the file need not end in a NUL */
		/* A file= may hold newlines or tabs: one line, blank-separated. */
		for (size_t i = 0; i < got && fw_cfg_line[i]; i++)
			if (fw_cfg_line[i] == '\n' || fw_cfg_line[i] == '\r' || fw_cfg_line[i] == '\t')
				fw_cfg_line[i] = ' ';
		if ((size_t)fsize > got)
			printk("cmdline: fw_cfg %s is %ld bytes; only the first %zu are used\n",
			       FW_CFG_CMDLINE, fsize, got);
		fit = cmdline_append(fw_cfg_line) && fit;
	}
	if (!fit)
		printk("cmdline: command line longer than %zu bytes, the rest is ignored\n",
		       sizeof(saved_command_line) - 1);
	printk("cmdline: %.400s%s\n", saved_command_line[0] ? saved_command_line : "(empty)",
	       strlen(saved_command_line) > 400 ? " ..." : "");
	params_apply_cmdline(saved_command_line);
}

/* ---- the `params` shell command ---- */

/* The entry after `prev` in (name, address) order; NULL after the last. */
static const struct kernel_param *param_next_sorted(const struct kernel_param *prev)
{
	const struct kernel_param *best = NULL;

	for (const struct kernel_param *p = __start_grace_params; p < __stop_grace_params; p++) {
		if (prev) {
			int c = strcmp(p->name, prev->name);

			if (c < 0 || (c == 0 && p <= prev))
				continue;
		}
		if (!best) {
			best = p;
			continue;
		}
		int c = strcmp(p->name, best->name);

		if (c < 0 || (c == 0 && p < best))
			best = p;
	}
	return best;
}

static int cmd_params(int argc, char **argv)
{
	const char *prefix = argc > 1 ? argv[1] : "";
	char value[24], kind[40];

	if (argc > 2)
		return 1;
	printk("%-24s %-20s %-18s %s\n", "NAME", "VALUE", "TYPE", "DESCRIPTION");
	for (const struct kernel_param *p = param_next_sorted(NULL); p; p = param_next_sorted(p)) {
		if (!str_starts_with(p->name, prefix))
			continue;
		format_value(p, value, sizeof(value));
		if (p->type == PARAM_INT)
			snprintf(kind, sizeof(kind), "int [%lld..%lld]", p->min, p->max);
		else if (p->type == PARAM_BOOL)
			snprintf(kind, sizeof(kind), "bool");
		else
			snprintf(kind, sizeof(kind), "string [%zu]", p->str_size - 1);
		printk("%-24s %-20s %-18s %s\n", p->name, value, kind, p->desc);
	}
	return 0;
}
SHELL_COMMAND(params, "params", "params [PREFIX]",
	      "list kernel parameters (name, current value, type/range, description)", cmd_params);

/* ---- in-kernel tests ---- */

static int test_int = 50;
static bool test_bool;
static char test_str[8] = "dflt";
static const struct kernel_param test_int_param = {
	.name = "ktest.int", .type = PARAM_INT, .var = &test_int, .min = 10, .max = 100 };
static const struct kernel_param test_bool_param = {
	.name = "ktest.bool", .type = PARAM_BOOL, .var = &test_bool, .min = 0, .max = 1 };
static const struct kernel_param test_str_param = {
	.name = "ktest.str", .type = PARAM_STRING, .var = test_str, .str_size = sizeof(test_str) };

KTEST(params_int, "params.int_range")
{
	test_int = 50;
	KTEST_EXPECT(param_set(&test_int_param, "10") == 0 && test_int == 10);
	KTEST_EXPECT(param_set(&test_int_param, "0x64") == 0 && test_int == 100);
	KTEST_EXPECT(param_set(&test_int_param, "101") == -1 && test_int == 100);
	KTEST_EXPECT(param_set(&test_int_param, "9") == -1 && test_int == 100);
	KTEST_EXPECT(param_set(&test_int_param, "-50") == -1 && test_int == 100);
	KTEST_EXPECT(param_set(&test_int_param, "abc") == -1 && test_int == 100);
	KTEST_EXPECT(param_set(&test_int_param, "") == -1 && test_int == 100);
	KTEST_EXPECT(param_set(&test_int_param, NULL) == -1 && test_int == 100);
	KTEST_EXPECT(param_set(&test_int_param, "99999999999999999999999") == -1);
	KTEST_EXPECT(param_set(&test_int_param, "050") == 0 && test_int == 50); /* not octal */
}

KTEST(params_bool, "params.bool")
{
	test_bool = false;
	KTEST_EXPECT(param_set(&test_bool_param, NULL) == 0 && test_bool);
	KTEST_EXPECT(param_set(&test_bool_param, "off") == 0 && !test_bool);
	KTEST_EXPECT(param_set(&test_bool_param, "YES") == 0 && test_bool);
	KTEST_EXPECT(param_set(&test_bool_param, "maybe") == -1 && test_bool);
	KTEST_EXPECT(param_set(&test_bool_param, "0") == 0 && !test_bool);
}

KTEST(params_string, "params.string")
{
	KTEST_EXPECT(param_set(&test_str_param, "abc") == 0 && strcmp(test_str, "abc") == 0);
	KTEST_EXPECT(param_set(&test_str_param, "0123456789") == 0 && strcmp(test_str, "0123456") == 0);
	KTEST_EXPECT(param_set(&test_str_param, NULL) == -1 && strcmp(test_str, "0123456") == 0);
}

KTEST(params_registry, "params.registry")
{
	const struct kernel_param *p = param_find("autorun");

	KTEST_EXPECT(p && p->type == PARAM_STRING && p->str_size >= 1024);
	KTEST_EXPECT(param_find("no.such.parameter") == NULL);
	/* Names are unique, so the sorted walk visits each entry exactly once. */
	size_t n = 0;
	for (const struct kernel_param *q = param_next_sorted(NULL); q; q = param_next_sorted(q))
		n++;
	KTEST_EXPECT(n == (size_t)(__stop_grace_params - __start_grace_params));
}
