// FUZZ_SOURCES: kernel/param_apply.c lib/cmdline.c lib/kstrtox.c tests/unit/host_string.c
/*
 * fuzz_params.c — libFuzzer target for the kernel command line as the
 * parameter registry applies it (kernel/param_apply.c).
 *
 * An input is what the two outside sources could send: the bytes up to the
 * first NUL are GRUB's line (cut to what the multiboot2 parser keeps), the
 * bytes after it, if any, are the fw_cfg file opt/grace/cmdline (cut to what
 * params.c reads; newlines, tabs, NULs and high bytes welcome). They are
 * assembled by cmdline_assemble() and applied by param_apply_line() to a
 * table of parameters like the kernel's (the real names, types and ranges of
 * a sample, plus edge cases: a 1-byte string, an int whose declared range is
 * wider than int).
 *
 * Checked against a reference written here from the rules in
 * <grace/param.h>, not from the code: the assembled line is GRUB + " " + the
 * cleaned file, cut at 4095 bytes, and `fit` says whether it was cut; then,
 * token by token (last one wins), a bool takes a bare name or one of the ten
 * words, an int a number in its range (decimal or 0x, never octal) and a
 * string its unquoted value cut to its buffer; anything else leaves the
 * variable as it was. Every variable must end as the reference says, and no
 * message format may say "WARNING:". Seeds: the scenario files' args: lines
 * (tests/unit/fuzz/params/seeds/).
 */
#define _POSIX_C_SOURCE 200809L /* strnlen, strcasecmp under -std=c11 */
#include <grace/cmdline.h>
#include <grace/param.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_params: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

#define GRUB_MAX 1023              /* BOOT_CMDLINE_MAX - 1 */
#define FILE_MAX (COMMAND_LINE_SIZE - 1)

/* The kernel's own words (the format) must not say "WARNING:"; the
 * parameter text it echoes may say anything. */
int printk(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (strstr(fmt, "WARNING:")) {
		fprintf(stderr, "fuzz_params: message format says WARNING: %s", fmt);
		abort();
	}
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return n;
}

/* ---- the table ---- */

static int hz, ap_timeout, silent_cpu, fail_ratio, wide, repeat;
static bool parallel, preempt, trace;
static char acpi[8], autorun[1024], one[1], ktest[64], lt_type[16];

#define P_INT(n, v, lo, hi) { .name = n, .type = PARAM_INT, .var = &v, .min = lo, .max = hi }
#define P_BOOL(n, v) { .name = n, .type = PARAM_BOOL, .var = &v, .min = 0, .max = 1 }
#define P_STR(n, v) { .name = n, .type = PARAM_STRING, .var = v, .str_size = sizeof(v) }

static const struct kernel_param table[] = {
	P_INT("timer.hz", hz, 10, 1000),
	P_INT("smp.ap_timeout_ms", ap_timeout, 1, 600000),
	P_INT("smp.test_silent_cpu", silent_cpu, -1, 63),
	P_INT("torture.fail_ratio", fail_ratio, 0, 1000),
	P_INT("ktest.repeat", repeat, 1, 1000),
	P_INT("wide", wide, INT64_MIN, INT64_MAX),
	P_BOOL("smp.parallel", parallel),
	P_BOOL("sched.preempt", preempt),
	P_BOOL("cpuhp.trace", trace),
	P_STR("acpi", acpi),
	P_STR("autorun", autorun),
	P_STR("ktest", ktest),
	P_STR("locktorture.type", lt_type),
	P_STR("x", one),
};
#define NPARAMS (sizeof(table) / sizeof(table[0]))

static void reset(void)
{
	hz = 100; ap_timeout = 5000; silent_cpu = -1; fail_ratio = 0; wide = 7; repeat = 1;
	parallel = true; preempt = false; trace = false;
	strcpy(acpi, "");
	strcpy(autorun, "");
	strcpy(ktest, "");
	strcpy(lt_type, "qspinlock");
	one[0] = '\0';
}

/* ---- the reference ---- */

union value { int i; bool b; char s[1024]; };
static union value want[NPARAMS];

static void snapshot(union value *v)
{
	for (size_t k = 0; k < NPARAMS; k++) {
		const struct kernel_param *p = &table[k];

		if (p->type == PARAM_INT)
			v[k].i = *(int *)p->var;
		else if (p->type == PARAM_BOOL)
			v[k].b = *(bool *)p->var;
		else
			memcpy(v[k].s, p->var, p->str_size);
	}
}

static bool ref_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "y", "yes", "on", "true" };
	static const char *const no[] = { "0", "n", "no", "off", "false" };

	for (int i = 0; i < 5; i++) {
		if (!strcasecmp(s, yes[i]))
			return *out = true;
		if (!strcasecmp(s, no[i]))
			return !(*out = false);
	}
	return false;
}

static bool ref_int(const char *s, long long lo, long long hi, int *out)
{
	const char *d = s;
	int base = 10;

	if (*d == '+' || *d == '-')
		d++;
	if (d[0] == '0' && (d[1] == 'x' || d[1] == 'X')) {
		base = 16;
		d += 2;
	}
	if (!*d || strspn(d, base == 16 ? "0123456789abcdefABCDEF" : "0123456789") != strlen(d))
		return false;
	errno = 0;
	long long v = strtoll(s, NULL, base);

	if (lo < INT32_MIN)
		lo = INT32_MIN;
	if (hi > INT32_MAX)
		hi = INT32_MAX;
	if (errno == ERANGE || v < lo || v > hi)
		return false;
	*out = (int)v;
	return true;
}

static void ref_apply(const char *line)
{
	struct cmdline_token t;
	const char *p = line;
	static char name[COMMAND_LINE_SIZE], val[COMMAND_LINE_SIZE];

	while ((p = cmdline_next_token(p, &t))) {
		size_t nlen = cmdline_unquote(t.name, t.name_len, name, sizeof(name));
		size_t k;

		if (nlen >= 64)
			continue; /* longer than any name: unknown */
		for (k = 0; k < NPARAMS && strcmp(table[k].name, name); k++)
			;
		if (k == NPARAMS)
			continue;
		const struct kernel_param *q = &table[k];

		if (t.value)
			cmdline_unquote(t.value, t.value_len, val, sizeof(val));
		if (q->type == PARAM_BOOL) {
			bool b;

			if (!t.value)
				want[k].b = true;
			else if (ref_bool(val, &b))
				want[k].b = b;
		} else if (q->type == PARAM_INT) {
			if (t.value)
				ref_int(val, q->min, q->max, &want[k].i);
		} else if (t.value) {
			snprintf(want[k].s, q->str_size, "%s", val);
		}
	}
}

/* ---- one input ---- */

static char grub[GRUB_MAX + 1], file[FILE_MAX + 1], saved[COMMAND_LINE_SIZE];
static char joined[GRUB_MAX + 1 + FILE_MAX + 1], value_buf[COMMAND_LINE_SIZE];
static union value got[NPARAMS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t glen = nul ? (size_t)(nul - data) : size;
	bool have_file = nul != NULL;
	size_t flen = have_file ? size - glen - 1 : 0;

	if (glen > GRUB_MAX)
		glen = GRUB_MAX;
	memcpy(grub, data, glen);
	grub[glen] = '\0';
	if (flen > FILE_MAX)
		flen = FILE_MAX;
	if (have_file)
		memcpy(file, nul + 1, flen);

	/* Reference line: GRUB + " " + the file up to its NUL, blanks for
	 * newlines/CRs/tabs; empty parts add nothing. */
	size_t j = 0;

	memcpy(joined, grub, glen);
	j = glen;
	if (have_file) {
		size_t n = strnlen(file, flen);

		if (n && j)
			joined[j++] = ' ';
		for (size_t i = 0; i < n; i++)
			joined[j++] = (file[i] == '\n' || file[i] == '\r' || file[i] == '\t') ? ' ' : file[i];
	}
	joined[j] = '\0';

	bool fit = cmdline_assemble(saved, sizeof(saved), grub, have_file ? file : NULL, flen);

	REQUIRE(fit == (j <= COMMAND_LINE_SIZE - 1));
	REQUIRE(strlen(saved) <= COMMAND_LINE_SIZE - 1);
	REQUIRE(strncmp(saved, joined, COMMAND_LINE_SIZE - 1) == 0);

	reset();
	snapshot(want);
	ref_apply(saved);
	param_apply_line(table, table + NPARAMS, saved, value_buf, sizeof(value_buf));
	snapshot(got);
	for (size_t k = 0; k < NPARAMS; k++) {
		const struct kernel_param *p = &table[k];
		bool same = p->type == PARAM_INT ? got[k].i == want[k].i :
			    p->type == PARAM_BOOL ? got[k].b == want[k].b :
			    strcmp(got[k].s, want[k].s) == 0;

		if (!same) {
			fprintf(stderr, "fuzz_params: %s differs from the reference\n", p->name);
			abort();
		}
		if (p->type == PARAM_INT)
			REQUIRE(got[k].i >= p->min && got[k].i <= p->max);
		if (p->type == PARAM_STRING)
			REQUIRE(memchr(p->var, 0, p->str_size) && !strchr(p->var, '"'));
	}
	return 0;
}
